using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// MediaFaultTests: the media path of a mesh call breaks while signaling stays up. An nftables rule
/// in the test's namespace drops every UDP packet (both pages' media: in a call of two, all of one
/// browser's UDP) for 5 s. Chrome itself calls the connection 'disconnected' only about 6 s after
/// the packets stop; the page's own flow watch says it is interrupted within seconds, the impolite
/// side restarts ICE, and the media comes back by itself.
/// </summary>
public sealed class MediaFaultTests(Chromium chromium)
{
    private const string Table = "parleyudp";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _browser = chromium.Browser;

    [Fact]
    public async Task All_udp_dropped_for_5_s_says_the_connection_is_interrupted_restarts_ice_and_the_media_comes_back()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", GapWatch.Script);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", GapWatch.Script);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
        await GapWatch.StartAsync(ada);
        // Grace joined last, so she made the first offer: she is the impolite side, which restarts.
        var restarts = await IceConfigs.RestartsAsync(grace);

        var cut = DateTime.UtcNow;
        try
        {
            await Commands.RunAsync(Ct, "nft", $"add table inet {Table}");
            await Commands.RunAsync(Ct, "nft", $"add chain inet {Table} in {{ type filter hook input priority 0 ; policy accept ; }}");
            await Commands.RunAsync(Ct, "nft", $"add rule inet {Table} in meta l4proto udp drop");
            // Both pages say what is happening while it happens.
            await Expect(ada.TileOf("Grace").GetByRole(AriaRole.Status)).ToHaveTextAsync("Connection interrupted, trying again…", new() { Timeout = 5_000 });
            await Expect(grace.TileOf("Ada").GetByRole(AriaRole.Status)).ToHaveTextAsync("Connection interrupted, trying again…", new() { Timeout = 5_000 });
            // The impolite side restarts ICE as soon as its page sees the packets stop, during the cut.
            await IceConfigs.WaitForRestartsAsync(grace, restarts, Ct, TimeSpan.FromSeconds(5) - (DateTime.UtcNow - cut));
            var rest = TimeSpan.FromSeconds(5) - (DateTime.UtcNow - cut);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, Ct);
            }
        }
        finally
        {
            await Commands.TryRunAsync(Commands.ToTestOutput, "nft", $"delete table inet {Table}");
        }

        await Expect(ada.TileOf("Grace")).ToHaveAttributeAsync("data-connection", "connected", new() { Timeout = 20_000 });
        await Expect(grace.TileOf("Ada")).ToHaveAttributeAsync("data-connection", "connected", new() { Timeout = 20_000 });
        await Expect(ada.TileOf("Grace").Locator(".tile-status")).ToHaveTextAsync("");
        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
        // The polite side answered the restart rather than make one of its own.
        Assert.Equal(0, await IceConfigs.RestartsAsync(ada));
        var gap = Assert.Single(await GapWatch.ReadAsync(ada));
        TestContext.Current.TestOutputHelper?.WriteLine($"Ada's longest gap: {gap.VideoGap:0} ms of video, {gap.AudioGap:0} ms of audio");
        Assert.True(gap.VideoGap < 12_000, $"Ada's video from Grace stopped for {gap.VideoGap:0} ms over a 5 s cut");
    }
}
