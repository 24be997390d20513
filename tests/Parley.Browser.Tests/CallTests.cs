using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>CallTests: people in one room see and hear each other, peer to peer, as they come and go.</summary>
public sealed class CallTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    [Fact]
    public async Task Two_participants_receive_each_others_video_and_audio()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");

        await ada.JoinAsync();
        await grace.JoinAsync();

        await MediaFlow.WaitForPairAsync(ada, grace, ct);
    }

    [Fact]
    public async Task Three_participants_form_a_mesh_with_all_six_streams_flowing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan");

        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();

        Participant[] all = [ada, grace, alan];
        foreach (var p in all)
        {
            await Expect(p.RemoteTiles).ToHaveCountAsync(2);
            foreach (var other in all.Where(o => o != p))
            {
                await Expect(p.TileOf(other.Name)).ToBeVisibleAsync();
            }
        }
        // Each page receives from two connections: 3 pages x 2 = the six directed streams.
        foreach (var p in all)
        {
            await MediaFlow.WaitForFlowAsync(p, connections: 2, ct);
        }
    }

    [Fact]
    public async Task Leaving_removes_the_tile_from_the_others_within_two_seconds_and_rejoining_restores_the_call()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await Expect(ada.TileOf("Grace")).ToBeVisibleAsync();
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);

        await grace.Button("Leave meeting").ClickAsync();

        await Expect(ada.TileOf("Grace")).ToHaveCountAsync(0, new() { Timeout = 2_000 });
        await Expect(grace.Page.GetByRole(AriaRole.Heading, new() { Name = "You left the meeting" })).ToBeVisibleAsync();
        Assert.Equal(0, await grace.Page.EvaluateAsync<int>("() => window.__parleyProbe.liveVideoTracks()"));

        await grace.Button("Rejoin").ClickAsync();
        // The name is remembered from the first visit.
        await Expect(grace.Page.GetByLabel("Your name")).ToHaveValueAsync("Grace");
        await grace.JoinAsync();

        await Expect(ada.TileOf("Grace")).ToBeVisibleAsync();
        await Expect(ada.RemoteTiles).ToHaveCountAsync(1);
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);
    }

    [Fact]
    public async Task Turning_the_camera_off_shows_camera_off_on_the_other_side_and_turning_it_on_restores_video()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);
        var tile = ada.TileOf("Grace");
        await Expect(tile).ToHaveAttributeAsync("data-video", "on");

        await grace.Button("Camera").ClickAsync();

        await Expect(grace.Button("Camera")).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(tile).ToHaveAttributeAsync("data-video", "off");
        await Expect(tile.GetByRole(AriaRole.Img, new() { Name = "camera off" })).ToBeVisibleAsync();
        // The camera itself is released (its light goes off), and Ada stops decoding Grace's video
        // while her audio goes on: same connection, nothing torn down.
        Assert.Equal(0, await grace.Page.EvaluateAsync<int>("() => window.__parleyProbe.liveVideoTracks()"));
        await MediaFlow.WaitForVideoStalledAsync(ada, ct);
        var connectionsBefore = (await MediaFlow.ReadAsync(ada)).Count;

        await grace.Button("Camera").ClickAsync();

        await Expect(grace.Button("Camera")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(tile).ToHaveAttributeAsync("data-video", "on");
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);
        Assert.Equal(connectionsBefore, (await MediaFlow.ReadAsync(ada)).Count);
    }

    [Fact]
    public async Task Renegotiating_from_both_sides_at_once_resolves_the_collision_and_keeps_media_flowing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);

        // Both sides offer at the same moment (an ICE restart each). The offers usually cross;
        // try a few times until they did at least once, and check every round completes.
        for (var attempt = 1; ; attempt++)
        {
            var before = await NegotiationAsync(ada, grace);
            await Task.WhenAll(
                ada.Page.EvaluateAsync("() => window.__parleyProbe.renegotiate()"),
                grace.Page.EvaluateAsync("() => window.__parleyProbe.renegotiate()"));
            await WaitForRenegotiatedAsync(ada, grace, before, ct);
            var collisions = await ada.Page.EvaluateAsync<int>("() => window.__parleyProbe.collisions()")
                + await grace.Page.EvaluateAsync<int>("() => window.__parleyProbe.collisions()");
            if (collisions > 0)
            {
                break;
            }
            Assert.True(attempt < 5, "The two offers never crossed in 5 attempts.");
        }

        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);
    }

    private static async Task<string> NegotiationAsync(Participant a, Participant b)
    {
        string[] sides =
        [
            .. await a.Page.EvaluateAsync<string[]>("() => window.__parleyProbe.negotiation()"),
            .. await b.Page.EvaluateAsync<string[]>("() => window.__parleyProbe.negotiation()"),
        ];
        return string.Join(" | ", sides);
    }

    /// <summary>WaitForRenegotiatedAsync waits until both sides are stable and connected with new ICE credentials on both.</summary>
    private static async Task WaitForRenegotiatedAsync(Participant a, Participant b, string before, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var oldUfrags = before.Split(" | ").Select(s => s.Split('/')[^1]).ToHashSet();
        while (true)
        {
            var now = await NegotiationAsync(a, b);
            var sides = now.Split(" | ");
            if (sides.Length == 2 && sides.All(s => s.StartsWith("stable/connected/", StringComparison.Ordinal)
                                                    && !oldUfrags.Contains(s.Split('/')[^1])))
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Renegotiation did not complete: before {before}; now {now}.");
            }
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task Muting_the_microphone_shows_as_muted_on_the_other_side()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        var tile = ada.TileOf("Grace");
        await Expect(tile).ToHaveAttributeAsync("data-audio", "on");

        await grace.Button("Microphone").ClickAsync();

        await Expect(grace.Button("Microphone")).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(tile).ToHaveAttributeAsync("data-audio", "off");
        await Expect(tile.GetByRole(AriaRole.Img, new() { Name = "microphone off" })).ToBeVisibleAsync();

        await grace.Button("Microphone").ClickAsync();

        await Expect(tile).ToHaveAttributeAsync("data-audio", "on");
    }
}
