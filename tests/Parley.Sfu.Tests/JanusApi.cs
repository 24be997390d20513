using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>JanusApi holds the few Janus API calls these tests make, over <see cref="JanusWebSocket"/>.</summary>
internal static class JanusApi
{
    public const string VideoRoom = "janus.plugin.videoroom";

    /// <summary>CreateSessionAsync sends <c>create</c>, with <paramref name="apiSecret"/> when it is not null.</summary>
    public static Task<JsonElement> CreateSessionAsync(this JanusWebSocket janus, string? apiSecret, CancellationToken cancellationToken) =>
        janus.RequestAsync(WithSecret(new JsonObject { ["janus"] = "create" }, apiSecret), cancellationToken);

    /// <summary>AttachVideoRoomAsync creates a session and attaches a VideoRoom handle to it.</summary>
    public static async Task<(long Session, long Handle)> AttachVideoRoomAsync(this JanusWebSocket janus, string apiSecret, CancellationToken cancellationToken)
    {
        var session = Id(await janus.CreateSessionAsync(apiSecret, cancellationToken));
        var attached = await janus.RequestAsync(
            new JsonObject { ["janus"] = "attach", ["session_id"] = session, ["plugin"] = VideoRoom, ["apisecret"] = apiSecret },
            cancellationToken);
        return (session, Id(attached));
    }

    /// <summary>VideoRoomAsync sends <paramref name="body"/> to the VideoRoom plugin on a handle and returns the plugin's data.</summary>
    public static async Task<JsonElement> VideoRoomAsync(
        this JanusWebSocket janus, (long Session, long Handle) handle, string apiSecret, JsonObject body, CancellationToken cancellationToken)
    {
        var reply = await janus.RequestAsync(
            new JsonObject { ["janus"] = "message", ["session_id"] = handle.Session, ["handle_id"] = handle.Handle, ["apisecret"] = apiSecret, ["body"] = body },
            cancellationToken);
        return reply.TryGetProperty("plugindata", out var plugin)
            ? plugin.GetProperty("data")
            : throw new InvalidOperationException($"The VideoRoom did not answer {body}: {reply}");
    }

    /// <summary>Id is the new session's or handle's id in a <c>success</c> reply.</summary>
    public static long Id(JsonElement reply) =>
        reply.GetProperty("janus").GetString() == "success"
            ? reply.GetProperty("data").GetProperty("id").GetInt64()
            : throw new InvalidOperationException($"Expected success, got {reply}");

    /// <summary>ErrorCode is a core <c>error</c> reply's code, e.g. 403 or 458.</summary>
    public static int ErrorCode(JsonElement reply) =>
        reply.GetProperty("janus").GetString() == "error"
            ? reply.GetProperty("error").GetProperty("code").GetInt32()
            : throw new InvalidOperationException($"Expected an error, got {reply}");

    /// <summary>PluginErrorCode is a VideoRoom reply's <c>error_code</c>, or null if it reports none.</summary>
    public static int? PluginErrorCode(JsonElement data) =>
        data.TryGetProperty("error_code", out var code) ? code.GetInt32() : null;

    private static JsonObject WithSecret(JsonObject request, string? apiSecret)
    {
        if (apiSecret is not null)
        {
            request["apisecret"] = apiSecret;
        }
        return request;
    }
}
