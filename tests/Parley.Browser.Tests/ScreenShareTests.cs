using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// ScreenShareTests: a screen shared in a peer-to-peer call reaches everyone as a tile of its own,
/// in a presenter layout, late joiners included, and goes away on everyone's page when it stops,
/// from the button, the shortcut or the browser's own "Stop sharing".
/// </summary>
public sealed class ScreenShareTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_shared_screen_is_presented_large_to_everyone_and_late_joiners_and_the_browsers_stop_ends_it_without_renegotiation()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", ScreenShares.Record);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", ScreenShares.Record);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
        var adaId = await ScreenShares.IdOfAsync(grace, ada);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var offers = await OffersAsync(http);

        await ada.Button("Share screen").ClickAsync();

        await Expect(ada.Button("Stop sharing screen")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(ScreenShares.Tile(ada, "self")).ToContainTextAsync("Your screen");
        var tile = ScreenShares.Tile(grace, adaId);
        await Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\btile\b.*\bscreen\b"));
        await Expect(tile).ToContainTextAsync("Ada's screen");
        await Expect(ScreenShares.Grid(grace)).ToHaveAttributeAsync("data-presenting", adaId);
        await Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bpresenting\b"));
        Assert.Equal("contain", await tile.Locator("video").EvaluateAsync<string>("v => getComputedStyle(v).objectFit"));
        Assert.True(await tile.Locator("video").EvaluateAsync<bool>("v => v.muted"));
        var seen = await ScreenShares.WaitForDecodingAsync(grace, "Ada", Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"Grace decodes Ada's screen: {seen}");
        // The share went on the connection's third transceiver: nobody offered again.
        Assert.Equal(offers, await OffersAsync(http));
        // The large screen takes most of the grid; Ada's camera tile sits in the strip beside it.
        var large = await tile.BoundingBoxAsync();
        var camera = await ScreenShares.CameraTile(grace, "Ada").BoundingBoxAsync();
        Assert.True(large!.Width > 2 * camera!.Width, $"screen {large.Width} wide, camera {camera.Width}");
        Assert.True(camera.X >= large.X + large.Width - 1, "the strip is beside the screen");

        // A late joiner sees the share going on.
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", ScreenShares.Record);
        await alan.JoinAsync();
        await Expect(ScreenShares.Tile(alan, adaId)).ToContainTextAsync("Ada's screen");
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", adaId);
        await ScreenShares.WaitForDecodingAsync(alan, "Ada", Ct);
        // On a phone held upright the strip goes below the screen.
        await alan.Page.SetViewportSizeAsync(390, 844);
        var tall = await ScreenShares.Tile(alan, adaId).BoundingBoxAsync();
        var below = await ScreenShares.CameraTile(alan, "Grace").BoundingBoxAsync();
        Assert.True(below!.Y >= tall!.Y + tall.Height - 1, $"the strip ({below.Y}) is below the screen ({tall.Y}+{tall.Height})");
        Assert.True(tall.Width > 300, $"the screen is {tall.Width} wide on a 390-wide phone");

        // The browser's own "Stop sharing" ends the track: the share is over everywhere.
        offers = await OffersAsync(http);
        await ScreenShares.EndAsync(ada);

        await Expect(ada.Button("Share screen")).ToHaveAttributeAsync("aria-pressed", "false");
        foreach (var p in new[] { ada, grace, alan })
        {
            await Expect(p.Page.Locator("#grid .tile.screen")).ToHaveCountAsync(0);
            await Expect(ScreenShares.Grid(p)).Not.ToHaveAttributeAsync("data-presenting", new System.Text.RegularExpressions.Regex(".*"));
        }
        // Stopping needed no offer either.
        Assert.Equal(offers, await OffersAsync(http));
    }

    [Fact]
    public async Task Two_people_share_at_once_the_latest_is_large_and_the_shortcut_S_starts_and_stops_a_share()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.SmallCamera);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.SmallCamera);
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", Participant.SmallCamera);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();
        await Expect(alan.RemoteTiles).ToHaveCountAsync(2);
        var adaId = await ScreenShares.IdOfAsync(alan, ada);
        var graceId = await ScreenShares.IdOfAsync(alan, grace);

        // S in a text field is a letter, not a shortcut.
        await ada.Page.EvaluateAsync("() => { const i = document.createElement('input'); i.id = 'typing'; document.body.append(i); i.focus(); }");
        await ada.Page.Keyboard.PressAsync("s");
        await Expect(ada.Page.Locator("#typing")).ToHaveValueAsync("s");
        await Expect(ada.Button("Share screen")).ToHaveAttributeAsync("aria-pressed", "false");
        await ada.Page.Locator("#typing").BlurAsync();
        await ada.Page.Keyboard.PressAsync("s");
        await Expect(ada.Button("Stop sharing screen")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", adaId);

        await grace.Button("Share screen").ClickAsync();

        // Both screens on Alan's page; Grace's, the latest, is the large one.
        await Expect(ScreenShares.Tile(alan, adaId)).ToContainTextAsync("Ada's screen");
        await Expect(ScreenShares.Tile(alan, graceId)).ToContainTextAsync("Grace's screen");
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", graceId);
        await Expect(ScreenShares.Tile(alan, graceId)).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bpresenting\b"));
        await ScreenShares.WaitForDecodingAsync(alan, "Grace", Ct);
        await ScreenShares.WaitForDecodingAsync(alan, "Ada", Ct);
        // Each sharer sees their own screen and the other's.
        await Expect(ScreenShares.Tile(ada, graceId)).ToBeVisibleAsync();
        await Expect(ScreenShares.Tile(ada, "self")).ToBeVisibleAsync();

        // Grace stops with the button: Ada's screen is the large one again.
        await grace.Button("Stop sharing screen").ClickAsync();
        await Expect(ScreenShares.Tile(alan, graceId)).ToHaveCountAsync(0);
        await Expect(ScreenShares.Grid(alan)).ToHaveAttributeAsync("data-presenting", adaId);
        await Expect(ScreenShares.Tile(ada, "self")).ToBeVisibleAsync();

        await ada.Page.Keyboard.PressAsync("s");
        await Expect(ScreenShares.Tile(alan, adaId)).ToHaveCountAsync(0);
        await Expect(ScreenShares.Tile(grace, adaId)).ToHaveCountAsync(0);
        await Expect(ada.Button("Share screen")).ToHaveAttributeAsync("aria-pressed", "false");
    }

    /// <summary>OffersAsync is the number of mesh offers the server has relayed, from /metrics.</summary>
    private static async Task<int> OffersAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync("/metrics", Ct);
        var match = System.Text.RegularExpressions.Regex.Match(metrics, "parley_messages_relayed_total\\{[^}]*type=\"offer\"[^}]*\\} (\\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
