using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// JanusRestartTests check the fixture's crash-and-return tools that other tests build "Janus
/// killed mid-call, then back" scenarios on, and what such a restart means for Parley: same URL
/// and secrets, but every session and room is gone.
/// </summary>
public sealed class JanusRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_killed_Janus_started_again_answers_on_the_same_url_with_the_same_secrets_and_has_forgotten_sessions_and_rooms()
    {
        await using var server = await JanusServer.StartAsync("restart", Ct);
        long session;
        await using (var before = await JanusWebSocket.ConnectAsync(server.WebSocketUri, Ct))
        {
            var handle = await before.AttachVideoRoomAsync(server.ApiSecret, Ct);
            session = handle.Session;
            var created = await before.VideoRoomAsync(handle, server.ApiSecret,
                new JsonObject { ["request"] = "create", ["room"] = 4300, ["admin_key"] = server.AdminKey }, Ct);
            Assert.Equal("created", created.GetProperty("videoroom").GetString());
            var pid = server.ProcessId;

            await server.KillAsync(Ct);

            Assert.Null(server.ProcessId);
            Assert.True(pid is not null && !Directory.Exists($"/proc/{pid}"), $"janus (pid {pid}) is still there");
            // The open socket sees Janus go, and nothing accepts a new one.
            await Assert.ThrowsAnyAsync<WebSocketException>(() => before.ReceiveAsync(Ct));
            await Assert.ThrowsAnyAsync<WebSocketException>(() => JanusWebSocket.ConnectAsync(server.WebSocketUri, Ct));
        }

        await server.StartAgainAsync(Ct);

        await using var after = await JanusWebSocket.ConnectAsync(server.WebSocketUri, Ct);
        Assert.Equal("server_info", (await after.InfoAsync(Ct)).GetProperty("janus").GetString());
        var keepalive = await after.RequestAsync(new JsonObject { ["janus"] = "keepalive", ["session_id"] = session, ["apisecret"] = server.ApiSecret }, Ct);
        Assert.Equal(458, JanusApi.ErrorCode(keepalive));   // session not found
        var fresh = await after.AttachVideoRoomAsync(server.ApiSecret, Ct);
        var exists = await after.VideoRoomAsync(fresh, server.ApiSecret, new JsonObject { ["request"] = "exists", ["room"] = 4300 }, Ct);
        Assert.False(exists.GetProperty("exists").GetBoolean());
        Assert.Contains(server.Log, l => l.Contains("killed (SIGKILL)", StringComparison.Ordinal));
    }
}
