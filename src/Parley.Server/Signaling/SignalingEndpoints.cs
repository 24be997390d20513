using Microsoft.Extensions.Options;
using Parley.Operations;
using Parley.Rooms;
using Parley.Turn;

namespace Parley.Signaling;

/// <summary>SignalingEndpoints maps <c>/ws</c>, the signaling WebSocket of protocol v1.</summary>
public static class SignalingEndpoints
{
    /// <summary>AddSignaling registers the room router and the connection bookkeeping.</summary>
    public static IServiceCollection AddSignaling(this IServiceCollection services)
    {
        services.AddSingleton<IRoomRouter, LocalRoomRouter>();
        services.AddSingleton<ConnectionTracker>();
        services.AddSingleton<IceServerSource>();
        services.AddSingleton<ParleyMetrics>();
        return services;
    }

    /// <summary>MapSignaling maps the WebSocket endpoint and closes every socket with 1001 when the server stops.</summary>
    public static IEndpointRouteBuilder MapSignaling(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var tracker = services.GetRequiredService<ConnectionTracker>();
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(tracker.CloseAll);
        app.Map("/ws", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(
        HttpContext context,
        IRoomRouter router,
        IOptions<ParleyOptions> options,
        IceServerSource iceServers,
        ConnectionTracker tracker,
        ParleyMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Parley.Signaling");
        var settings = options.Value;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This endpoint takes a WebSocket upgrade; see docs/protocol.md.", context.RequestAborted);
            return;
        }
        if (!OriginPolicy.IsAllowed(context.Request, settings.AllowedOrigins))
        {
            SignalingLog.ForbiddenOrigin(logger, context.Request.Headers.Origin.ToString());
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("This origin may not open a signaling connection; see Parley:AllowedOrigins.", context.RequestAborted);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = settings.KeepAliveTimeout,
        });
        using var connection = new WebSocketConnection(context.TraceIdentifier, socket, settings, time, logger, metrics);
        var session = new SignalingSession(router, settings, iceServers, connection, time, logger, metrics);
        tracker.Add(connection);
        try
        {
            await connection.RunAsync(session, context.RequestAborted);
        }
        catch (Exception e)
        {
            SignalingLog.Failed(logger, e, connection.Id);
            session.End("server error");
        }
        finally
        {
            tracker.Remove(connection);
        }
    }
}
