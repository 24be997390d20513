using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Sfu.Tests;

/// <summary>
/// SfuResilienceTests: a call through the media server keeps going when a participant's
/// signaling is cut (their stay is resumed: no leave, the media never stops, what was sent to
/// them meanwhile arrives once, in order), and comes back whole when Parley itself restarts.
/// </summary>
public sealed class SfuResilienceTests(Chromium chromium)
{
    private static readonly string[] Names = ["Ada", "Grace", "Alan"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _browser = chromium.Browser;

    private static ILocator ChatTexts(Participant p) => p.Page.Locator("#chat-log .chat-message .chat-text");

    [Fact]
    public async Task A_signaling_cut_of_10_s_in_an_sfu_room_is_resumed_without_a_leave_media_flows_throughout_and_missed_chat_arrives_once_in_order()
    {
        await using var call = await SfuCall.StartAsync("sfu-resume", meshMax: 1, Ct);
        await using var relay = TcpRelay.Start(call.Parley.BaseUri);
        var ada = await call.JoinAsync(_browser, "Ada", GapWatch.Script);
        var grace = await Participant.OpenRoomAsync(_browser, relay.BaseUri, call.Room, "Grace", string.Concat(Participant.SmallCamera, "\n", GapWatch.Script));
        await using var g = grace;
        await grace.JoinAsync();
        foreach (var p in new[] { ada, grace })
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu", new() { Timeout = 20_000 });
        }
        await SfuCall.WaitForEveryoneAsync([ada, grace], Ct);
        await ada.TileOf("Grace").EvaluateAsync("tile => { tile.dataset.testMark = 'before'; }");
        await GapWatch.StartAsync(ada);
        await GapWatch.StartAsync(grace);

        string[] texts = ["one (sfu)", "two", "three"];
        var started = DateTime.UtcNow;
        try
        {
            await SignalingCut.CutAsync(relay.Port, reset: true, Ct);
            await Expect(grace.Page.Locator("#server-status")).ToContainTextAsync("Reconnecting to the server");
            await Expect(ada.TileOf("Grace").Locator(".tile-status")).ToContainTextAsync("Grace is reconnecting");
            foreach (var text in texts)
            {
                await ada.SendChatAsync(text);
                await Expect(ChatTexts(ada).Last).ToHaveTextAsync(text);
            }
            var rest = TimeSpan.FromSeconds(10) - (DateTime.UtcNow - started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, Ct);
            }
        }
        finally
        {
            await SignalingCut.HealAsync();
        }

        await Expect(ChatTexts(grace)).ToHaveTextAsync(texts, new() { Timeout = 30_000 });
        await Expect(grace.Page.Locator("#server-status")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        await Expect(ada.TileOf("Grace").Locator(".tile-status")).ToHaveTextAsync("");
        await Expect(ada.Page.Locator("#grid .tile[data-test-mark='before']")).ToHaveCountAsync(1);
        await Expect(ada.RemoteTiles).ToHaveCountAsync(1);
        await Expect(grace.RemoteTiles).ToHaveCountAsync(1);
        foreach (var p in new[] { ada, grace })
        {
            var gap = Assert.Single(await GapWatch.ReadAsync(p));
            Assert.True(gap.VideoGap < 2_000 && gap.AudioGap < 2_000,
                $"{p.Name}: longest gap {gap.VideoGap:0} ms of video, {gap.AudioGap:0} ms of audio (page stall {gap.PageStall:0} ms) over a 10 s cut");
        }
        await grace.SendChatAsync("back");
        await Expect(ChatTexts(ada).Last).ToHaveTextAsync("back");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task After_parley_restarts_under_an_sfu_call_everyone_is_back_by_themselves_with_media_and_the_roster_is_right(bool graceful)
    {
        await using var janus = await JanusServer.StartAsync(graceful ? "sfu-restart-term" : "sfu-restart-kill", Ct);
        var settings = new Dictionary<string, string?>(janus.ParleySettings) { ["Parley:Sfu:MeshMax"] = "1" };
        await using var server = await ParleyProcess.StartAsync(settings, Ct);
        await WaitForJanusAsync(server);
        var room = TestRooms.New();
        var people = new List<Participant>();
        try
        {
            foreach (var name in Names)
            {
                var p = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, name, Participant.SmallCamera);
                people.Add(p);
                await p.JoinAsync();
            }
            await EveryoneInTheSfuAsync(people);

            if (graceful)
            {
                await server.StopAsync(Ct);
            }
            else
            {
                await server.KillAsync(Ct);
            }
            foreach (var p in people)
            {
                await Expect(p.Page.Locator("#server-status")).ToContainTextAsync("Reconnecting to the server", new() { Timeout = 20_000 });
            }

            await server.StartAgainAsync(Ct);
            await WaitForJanusAsync(server);
            foreach (var p in people)
            {
                await Expect(p.Page.Locator("#toast")).ToContainTextAsync(
                    graceful ? "The server restarted: joining the meeting again" : "The server lost your place in the meeting",
                    new() { Timeout = 30_000 });
            }
            await EveryoneInTheSfuAsync(people);
            foreach (var p in people)
            {
                await Expect(p.Page.Locator("#banner")).ToBeHiddenAsync();
            }
        }
        finally
        {
            foreach (var p in people)
            {
                await p.DisposeAsync();
            }
            var output = TestContext.Current.TestOutputHelper;
            foreach (var line in server.Log.Lines.Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("warn", StringComparison.OrdinalIgnoreCase)))
            {
                output?.WriteLine($"[parley] {line}");
            }
        }
    }

    // EveryoneInTheSfuAsync waits until each page is in the SFU room, shows exactly the other two,
    // each once, with their media, and counts three people.
    private static async Task EveryoneInTheSfuAsync(IReadOnlyList<Participant> people)
    {
        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu", new() { Timeout = 30_000 });
        }
        await SfuCall.WaitForEveryoneAsync(people, Ct, timeout: TimeSpan.FromSeconds(60));
        foreach (var p in people)
        {
            await Expect(p.RemoteTiles).ToHaveCountAsync(2);
            await Expect(p.Page.Locator("#people-count")).ToHaveTextAsync("3");
        }
    }

    // WaitForJanusAsync waits until this start of the server has its Janus session (it connects in
    // the background): one "Janus is up" more than the starts before.
    private static async Task WaitForJanusAsync(ParleyProcess server)
    {
        var starts = server.Log.Lines.Count(l => l.StartsWith("--- parley started again", StringComparison.Ordinal)) + 1;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (server.Log.Lines.Count(l => l.Contains("Janus is up", StringComparison.Ordinal)) < starts)
        {
            Assert.True(DateTime.UtcNow < deadline, "Parley did not connect to Janus:\n" + string.Join('\n', server.Log.Lines.TakeLast(20)));
            await Task.Delay(100, Ct);
        }
    }
}
