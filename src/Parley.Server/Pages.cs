using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Signaling;

namespace Parley;

/// <summary>Pages maps the meeting page of each room.</summary>
public static class Pages
{
    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/r/{room}", RoomPage);
        return app;
    }

    /// <summary>RoomPage serves the meeting page for a valid room id; the page reads the id from its URL.</summary>
    private static Results<FileStreamHttpResult, NotFound<string>> RoomPage(string room, IWebHostEnvironment env, HttpContext context)
    {
        if (!Validation.IsRoomId(room))
        {
            return TypedResults.NotFound("No such meeting: a room id is 1-64 characters of a-z, 0-9 and '-'.");
        }
        var file = env.WebRootFileProvider.GetFileInfo("room.html");
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.File(file.CreateReadStream(), "text/html; charset=utf-8");
    }
}
