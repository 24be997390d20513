using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Sfu.Tests;

/// <summary>
/// SfuScreenShareTests: a shared screen through the media server, in real Chromium pages with
/// Janus: the publish connection's third m-line, described to Janus as the screen, reaches the
/// others as a screen tile; several screens at once; and a share that goes on across the room's
/// switches from mesh to the media server and back.
/// </summary>
public sealed class SfuScreenShareTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Screens_shared_through_the_media_server_reach_everyone_two_at_once_and_a_late_joiner_gets_both()
    {
        await using var call = await SfuCall.StartAsync("sfu-screen", meshMax: 1, Ct);
        var ada = await call.JoinAsync(_browser, "Ada", ScreenShares.Record);
        var grace = await call.JoinAsync(_browser, "Grace", ScreenShares.Record);
        await SfuCall.ExpectMode(ada).ToHaveAttributeAsync("data-mode", "sfu");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        await TileFlow.WaitForAllAsync(grace, ["Ada"], Ct);
        var adaId = await ScreenShares.IdOfAsync(grace, ada);
        var graceId = await ScreenShares.IdOfAsync(ada, grace);
        using var http = new HttpClient { BaseAddress = call.Parley.BaseUri };
        var offers = await PublishOffersAsync(http);

        await ada.Button("Share screen").ClickAsync();

        await Expect(ScreenShares.Tile(grace, adaId)).ToContainTextAsync("Ada's screen");
        await Expect(ScreenShares.Grid(grace)).ToHaveAttributeAsync("data-presenting", adaId);
        var seen = await ScreenShares.WaitForDecodingAsync(grace, "Ada", Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"Grace decodes Ada's screen through Janus: {seen}");
        // The camera keeps playing beside it, and the share went on the publish connection's third m-line: no new offer.
        await ScreenShares.WaitForTileAsync(grace, "Ada", 1, Ct);
        Assert.Equal(offers, await PublishOffersAsync(http));

        await grace.Button("Share screen").ClickAsync();

        await Expect(ScreenShares.Tile(ada, graceId)).ToContainTextAsync("Grace's screen");
        await ScreenShares.WaitForDecodingAsync(ada, "Grace", Ct);
        await Expect(ScreenShares.Tile(grace, "self")).ToBeVisibleAsync();
        await Expect(ScreenShares.Grid(grace)).ToHaveAttributeAsync("data-presenting", "self");

        // A late joiner gets both screens, each decoding (its subscribe connection first has to come up).
        var alan = await call.JoinAsync(_browser, "Alan", ScreenShares.Record);
        await Expect(ScreenShares.Tile(alan, adaId)).ToContainTextAsync("Ada's screen", new() { Timeout = 30_000 });
        await Expect(ScreenShares.Tile(alan, graceId)).ToContainTextAsync("Grace's screen");
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", new System.Text.RegularExpressions.Regex($"^({adaId}|{graceId})$"));
        await ScreenShares.WaitForDecodingAsync(alan, "Ada", Ct);
        await ScreenShares.WaitForDecodingAsync(alan, "Grace", Ct);

        // Ada's browser stops her share: her screen goes from every page, Grace's stays.
        await ScreenShares.EndAsync(ada);
        await Expect(ada.Button("Share screen")).ToHaveAttributeAsync("aria-pressed", "false");
        foreach (var p in new[] { grace, alan })
        {
            await Expect(ScreenShares.Tile(p, adaId)).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        }
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", graceId);
        await ScreenShares.WaitForDecodingAsync(alan, "Grace", Ct);
    }

    [Fact]
    public async Task A_share_started_peer_to_peer_goes_on_through_the_switch_up_to_the_media_server_and_back_down()
    {
        // A room of three is a mesh; a fourth moves it to the media server, and two (MeshMax - 1) go back.
        await using var call = await SfuCall.StartAsync("sfu-screen-switch", meshMax: 3, Ct,
            extra: new Dictionary<string, string?> { ["Parley:Sfu:MeshReturnDelay"] = "00:00:03" });
        var ada = await call.JoinAsync(_browser, "Ada", ScreenShares.Record);
        var grace = await call.JoinAsync(_browser, "Grace", ScreenShares.Record);
        var alan = await call.JoinAsync(_browser, "Alan", ScreenShares.Record);
        await SfuCall.ExpectMode(grace).ToHaveAttributeAsync("data-mode", "mesh");
        await TileFlow.WaitForAllAsync(grace, ["Ada", "Alan"], Ct);
        var adaId = await ScreenShares.IdOfAsync(grace, ada);
        await ada.Button("Share screen").ClickAsync();
        await ScreenShares.WaitForDecodingAsync(grace, "Ada", Ct);

        // A fourth joiner moves the room to the media server; the new path picks up Ada's screen.
        var barbara = await call.JoinAsync(_browser, "Barbara", ScreenShares.Record);
        Participant[] all = [ada, grace, alan, barbara];
        foreach (var p in all)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu");
        }
        // Once the old peer-to-peer connections are closed, what plays comes through Janus.
        await SfuCall.WaitForConnectionsAsync(all, 2, Ct);
        foreach (var p in new[] { grace, barbara })
        {
            await Expect(ScreenShares.Tile(p, adaId)).ToContainTextAsync("Ada's screen", new() { Timeout = 30_000 });
            await ScreenShares.WaitForDecodingAsync(p, "Ada", Ct);
        }

        // Two leave: the room goes back to peer to peer, and the share with it.
        await barbara.Button("Leave meeting").ClickAsync();
        await alan.Button("Leave meeting").ClickAsync();
        foreach (var p in new[] { ada, grace })
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "mesh", new() { Timeout = 15_000 });
        }
        await SfuCall.WaitForConnectionsAsync([ada, grace], 1, Ct);
        await Expect(ScreenShares.Tile(grace, adaId)).ToContainTextAsync("Ada's screen");
        await ScreenShares.WaitForDecodingAsync(grace, "Ada", Ct);
        await Expect(ScreenShares.Tile(ada, "self")).ToBeVisibleAsync();
    }

    /// <summary>PublishOffersAsync is the number of sfu-offers Parley has taken from clients, from /metrics.</summary>
    private static async Task<int> PublishOffersAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync("/metrics", Ct);
        var match = System.Text.RegularExpressions.Regex.Match(metrics, "parley_messages_relayed_total\\{[^}]*type=\"sfu-offer\"[^}]*\\} (\\d+)");
        Assert.True(match.Success, "no sfu-offer counter in /metrics");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
