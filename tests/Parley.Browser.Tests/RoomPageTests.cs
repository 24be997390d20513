using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>RoomPageTests: what the meeting page tells people, and how it shows what others typed.</summary>
public sealed class RoomPageTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    [Fact]
    public async Task A_full_room_tells_the_newcomer_so_and_keeps_them_on_the_join_form()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(
            new Dictionary<string, string?> { ["Parley:MaxParticipants"] = "2" }, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan");
        await ada.JoinAsync();
        await grace.JoinAsync();

        await alan.ClickJoinAsync();

        await Expect(alan.Page.Locator("#join-error")).ToContainTextAsync("This meeting is full");
        await Expect(alan.Page.Locator("#prejoin")).ToBeVisibleAsync();
        await Expect(alan.Button("Join")).ToBeEnabledAsync();
        await Expect(ada.RemoteTiles).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Names_are_shown_as_plain_text_and_long_names_are_cut_with_an_ellipsis()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        const string Markup = "<img src=x onerror=alert(1)>";
        var longName = new string('W', 64);
        await using var mallory = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, Markup);
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, longName);
        await mallory.JoinAsync();
        await ada.JoinAsync();

        var malloryTile = ada.RemoteTiles.First;
        await Expect(malloryTile.Locator(".tile-name")).ToHaveTextAsync(Markup);
        Assert.Equal(0, await ada.Page.Locator("#grid img").CountAsync());

        var longTile = mallory.RemoteTiles.First;
        var nameEl = longTile.Locator(".tile-name");
        await Expect(nameEl).ToHaveTextAsync(longName);
        await Expect(nameEl).ToHaveCSSAsync("text-overflow", "ellipsis");
        var overflowing = await nameEl.EvaluateAsync<bool>("el => el.scrollWidth > el.clientWidth");
        Assert.True(overflowing, "A 64-character name should not fit the tile's label and be cut.");
        var fitsTile = await longTile.EvaluateAsync<bool>(
            "tile => tile.querySelector('.tile-label').getBoundingClientRect().right <= tile.getBoundingClientRect().right");
        Assert.True(fitsTile, "The name label must stay inside its tile.");

        Assert.Empty(ada.Dialogs);
        Assert.Empty(mallory.Dialogs);
    }

    [Fact]
    public async Task Losing_the_server_says_the_page_is_reconnecting_and_keeps_the_call_on_screen()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        try
        {
            await ada.JoinAsync();
        }
        finally
        {
            await server.DisposeAsync();
        }

        // The server went away (1001): the page tries to get its stay back by itself, and says so.
        await Expect(ada.Page.Locator("#server-status")).ToContainTextAsync("Reconnecting to the server", new() { Timeout = 10_000 });
        await Expect(ada.Page.Locator("#meeting")).ToBeVisibleAsync();
        await Expect(ada.Page.Locator("#banner")).ToBeHiddenAsync();
    }
}
