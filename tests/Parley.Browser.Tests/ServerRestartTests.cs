using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// ServerRestartTests: the server of a 3-party mesh call goes away, as in a deploy (SIGTERM: it
/// says so with 1001) or a crash (SIGKILL: the sockets just die), and comes back on the same
/// address. The media between the pages goes on while it is away; afterwards every page is back in
/// the meeting by itself, with the others' media, and the roster is right on each (nobody twice,
/// nobody missing).
/// </summary>
public sealed class ServerRestartTests(Chromium chromium)
{
    private static readonly string[] Names = ["Ada", "Grace", "Alan"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _browser = chromium.Browser;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task After_a_restart_everyone_is_back_by_themselves_with_media_and_the_roster_is_right(bool graceful)
    {
        await using var server = await ParleyProcess.StartAsync(null, Ct);
        var room = TestRooms.New();
        var people = new List<Participant>();
        try
        {
            foreach (var name in Names)
            {
                var p = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, name);
                people.Add(p);
                await p.JoinAsync();
            }
            await EveryoneSeesEveryoneAsync(people);

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
            // While the server is away, the media goes on peer to peer.
            foreach (var p in people)
            {
                await TileFlow.WaitForAllAsync(p, Others(p), Ct);
            }

            await server.StartAgainAsync(Ct);
            foreach (var p in people)
            {
                // Each page says why it joins again: its place went with the old server.
                await Expect(p.Page.Locator("#toast")).ToContainTextAsync(
                    graceful ? "The server restarted: joining the meeting again" : "The server lost your place in the meeting",
                    new() { Timeout = 30_000 });
            }
            await EveryoneSeesEveryoneAsync(people);
            foreach (var p in people)
            {
                await Expect(p.Page.Locator("#banner")).ToBeHiddenAsync();
                await Expect(p.Page.Locator("#server-status")).ToBeHiddenAsync();
            }
        }
        finally
        {
            foreach (var p in people)
            {
                await p.DisposeAsync();
            }
        }
    }

    private static string[] Others(Participant p) => [.. Names.Where(n => n != p.Name)];

    // EveryoneSeesEveryoneAsync waits until each page shows exactly the other two, each once, with
    // their media, and counts three people.
    private static async Task EveryoneSeesEveryoneAsync(IReadOnlyList<Participant> people)
    {
        foreach (var p in people)
        {
            await TileFlow.WaitForAllAsync(p, Others(p), Ct, TimeSpan.FromSeconds(45));
            await Expect(p.RemoteTiles).ToHaveCountAsync(2);
            await Expect(p.Page.Locator("#people-count")).ToHaveTextAsync("3");
        }
    }
}
