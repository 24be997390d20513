using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// FirefoxSfuTests: calls through the media server with Firefox ESR pages (see <see cref="Firefox"/>)
/// beside Chromium pages: Firefox with Chromium, two Firefox pages, and a mixed call of three.
/// Every page's tiles must play every other page's media, as getStats() on that page counts it.
/// </summary>
public sealed class FirefoxSfuTests(Chromium chromium, Firefox firefox) : IClassFixture<Firefox>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _chromium = chromium.Browser;

    [Theory]
    [InlineData("firefox", "chromium")]
    [InlineData("firefox", "firefox")]
    [InlineData("chromium", "firefox", "firefox")]
    [InlineData("firefox", "chromium", "chromium")]
    public async Task Pages_of_firefox_and_chromium_in_one_sfu_call_each_play_everyone_else(params string[] browsers)
    {
        await using var call = await SfuCall.StartAsync("firefox-sfu", meshMax: 1, Ct);
        await using var people = new MixedCall(_chromium, firefox, call.Parley.BaseUri, call.Room, Participant.SmallCamera);
        foreach (var (browser, i) in browsers.Select((b, i) => (b, i)))
        {
            await people.JoinAsync(browser, MixedCall.Names[i], Ct);
        }
        await people.WaitForAsync("document.querySelector('#meeting').dataset.mode === 'sfu'", "the room to be on the media server", Ct);
        await people.WaitForEveryoneAsync(Ct, TimeSpan.FromSeconds(60));
    }
}
