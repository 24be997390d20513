using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>SfuLifecycleTests: what Parley does with Janus around the calls: leftovers at start, empty rooms, metrics.</summary>
public sealed class SfuLifecycleTests(Chromium chromium)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rooms_an_earlier_Parley_left_on_Janus_are_destroyed_at_start_and_others_are_left_alone()
    {
        await using var janus = await JanusServer.StartAsync("lifecycle-leftovers", Ct);
        await using var api = await JanusWebSocket.ConnectAsync(janus.WebSocketUri, Ct);
        var handle = await api.AttachVideoRoomAsync(janus.ApiSecret, Ct);
        foreach (var (room, description) in new[] { (7001L, "parley:old-room"), (7002L, "parley:other-old-room"), (7003L, "someone else's") })
        {
            await api.VideoRoomAsync(handle, janus.ApiSecret, new JsonObject
            {
                ["request"] = "create", ["room"] = room, ["description"] = description, ["admin_key"] = janus.AdminKey, ["permanent"] = false,
            }, Ct);
        }

        await using var parley = await ParleyTestServer.StartAsync(new Dictionary<string, string?>(janus.ParleySettings), Ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!parley.Logs.Lines.Any(l => l.Contains("2 leftover rooms destroyed", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "Parley did not clean up: " + string.Join('\n', parley.Logs.Lines.TakeLast(10)));
            await Task.Delay(100, Ct);
        }
        var list = await api.VideoRoomAsync(handle, janus.ApiSecret, new JsonObject { ["request"] = "list", ["admin_key"] = janus.AdminKey }, Ct);
        Assert.Equal([7003L], list.GetProperty("list").EnumerateArray().Select(r => r.GetProperty("room").GetInt64()));
    }

    [Fact]
    public async Task Metrics_show_janus_up_rooms_by_mode_publishers_subscriptions_and_request_latency_and_the_last_leave_destroys_the_janus_room()
    {
        await using var call = await SfuCall.StartAsync("lifecycle-metrics", meshMax: 1, Ct);
        var ada = await call.JoinAsync(chromium.Browser, "Ada");
        var grace = await call.JoinAsync(chromium.Browser, "Grace");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        await TileFlow.WaitForAllAsync(grace, ["Ada"], Ct);

        using var http = new HttpClient { BaseAddress = call.Parley.BaseUri };
        var metrics = await http.GetStringAsync("/metrics", Ct);
        Assert.Contains("parley_janus_up 1", metrics, StringComparison.Ordinal);
        Assert.Matches("parley_rooms\\{[^}]*mode=\"sfu\"[^}]*\\} 1", metrics);
        Assert.Matches("parley_rooms\\{[^}]*mode=\"mesh\"[^}]*\\} 0", metrics);
        Assert.Matches("parley_sfu_publishers(\\{[^}]*\\})? 2", metrics);
        Assert.Matches("parley_sfu_subscriptions(\\{[^}]*\\})? 2", metrics);
        Assert.Matches("parley_janus_request_duration_seconds_count\\{[^}]*request=\"message:joinandconfigure\"[^}]*\\} [1-9]", metrics);

        await grace.Button("Leave meeting").ClickAsync();
        await ada.Button("Leave meeting").ClickAsync();
        await using var api = await JanusWebSocket.ConnectAsync(call.Janus.WebSocketUri, Ct);
        var handle = await api.AttachVideoRoomAsync(call.Janus.ApiSecret, Ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var list = await api.VideoRoomAsync(handle, call.Janus.ApiSecret, new JsonObject { ["request"] = "list", ["admin_key"] = call.Janus.AdminKey }, Ct);
            if (list.GetProperty("list").GetArrayLength() == 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"The Janus room outlived its last participant: {list}");
            await Task.Delay(200, Ct);
        }
    }
}
