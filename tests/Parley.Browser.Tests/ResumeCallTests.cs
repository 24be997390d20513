using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// ResumeCallTests: a participant whose signaling is cut, by a blackhole or by a reset with
/// reconnects refused, stays in the call: nobody sees them leave, the media between the pages
/// goes on decoding throughout, and the chat sent to them meanwhile arrives afterwards, in order,
/// once. Grace's page reaches the server through a relay port of her own (<see cref="TcpRelay"/>)
/// that nftables rules in the test's namespace cut alone (<see cref="SignalingCut"/>); Ada's goes straight to the server.
/// </summary>
public sealed class ResumeCallTests(Chromium chromium)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _browser = chromium.Browser;

    private static ILocator ChatTexts(Participant p) => p.Page.Locator("#chat-log .chat-message .chat-text");

    private static async Task<(ParleyTestServer Server, TcpRelay Relay, Participant Ada, Participant Grace)> CallAsync(IBrowser browser, Dictionary<string, string?>? settings = null)
    {
        var server = await ParleyTestServer.StartAsync(settings, Ct);
        var relay = TcpRelay.Start(server.BaseUri);
        var room = TestRooms.New();
        var ada = await Participant.OpenRoomAsync(browser, server.BaseUri, room, "Ada", GapWatch.Script);
        var grace = await Participant.OpenRoomAsync(browser, relay.BaseUri, room, "Grace", GapWatch.Script);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
        // Marks the tile Ada shows Grace in: a leave and a join again would make a new one.
        await ada.TileOf("Grace").EvaluateAsync("tile => { tile.dataset.testMark = 'before'; }");
        return (server, relay, ada, grace);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(10, false)]
    [InlineData(2, true)]
    [InlineData(10, true)]
    public async Task A_cut_signaling_connection_comes_back_without_a_leave_media_flows_throughout_and_missed_chat_arrives_once_in_order(int seconds, bool reset)
    {
        var (server, relay, ada, grace) = await CallAsync(_browser);
        await using var s = server;
        await using var r = relay;
        await using var a = ada;
        await using var g = grace;
        await GapWatch.StartAsync(ada);
        await GapWatch.StartAsync(grace);

        string[] texts = [$"one ({seconds} s)", "two", "three"];
        var started = DateTime.UtcNow;
        try
        {
            await SignalingCut.CutAsync(relay.Port, reset, Ct);
            if (reset)
            {
                // Both sides say what is happening, in words.
                await Expect(grace.Page.Locator("#server-status")).ToContainTextAsync("Reconnecting to the server");
                await Expect(ada.TileOf("Grace").Locator(".tile-status")).ToContainTextAsync("Grace is reconnecting");
            }
            foreach (var text in texts)
            {
                await ada.SendChatAsync(text);
                await Expect(ChatTexts(ada).Last).ToHaveTextAsync(text);
            }
            var rest = TimeSpan.FromSeconds(seconds) - (DateTime.UtcNow - started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, Ct);
            }
        }
        finally
        {
            await SignalingCut.HealAsync();
        }

        // Everything sent during the outage arrives, in order, once.
        await Expect(ChatTexts(grace)).ToHaveTextAsync(texts, new() { Timeout = 30_000 });
        await Expect(grace.Page.Locator("#server-status")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        await Expect(ada.TileOf("Grace").Locator(".tile-status")).ToHaveTextAsync("");
        // Nobody left: the tile is the one from before (a leave and a join again would make a new one).
        await Expect(ada.Page.Locator("#grid .tile[data-test-mark='before']")).ToHaveCountAsync(1);
        await Expect(ada.RemoteTiles).ToHaveCountAsync(1);
        await Expect(grace.RemoteTiles).ToHaveCountAsync(1);

        // Media never stopped, both ways.
        foreach (var p in new[] { ada, grace })
        {
            var gap = Assert.Single(await GapWatch.ReadAsync(p));
            Assert.True(gap.VideoGap < 2_000 && gap.AudioGap < 2_000,
                $"{p.Name}: longest gap {gap.VideoGap:0} ms of video, {gap.AudioGap:0} ms of audio (page stall {gap.PageStall:0} ms) over a {seconds} s cut");
        }
        // And the stay goes on: a message after the outage reaches the other side.
        await grace.SendChatAsync("back");
        await Expect(ChatTexts(ada).Last).ToHaveTextAsync("back");
    }

    [Fact]
    public async Task A_cut_longer_than_the_resume_window_is_a_leave_then_an_automatic_fresh_join()
    {
        var (server, relay, ada, grace) = await CallAsync(_browser, new() { ["Parley:ResumeWindow"] = "00:00:05" });
        await using var s = server;
        await using var r = relay;
        await using var a = ada;
        await using var g = grace;
        try
        {
            await SignalingCut.CutAsync(relay.Port, reset: true, Ct);
            // The window counts from when the server last heard from Grace (she pings every 5 s).
            await Expect(ada.TileOf("Grace")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
            await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        }
        finally
        {
            await SignalingCut.HealAsync();
        }

        await Expect(grace.Page.Locator("#toast")).ToContainTextAsync("You were away too long", new() { Timeout = 30_000 });
        await Expect(ada.TileOf("Grace")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(ada.RemoteTiles).ToHaveCountAsync(1);
        await Expect(grace.RemoteTiles).ToHaveCountAsync(1);
        await Expect(grace.Page.Locator("#banner")).ToBeHiddenAsync();
        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
    }
}
