namespace Parley.Browser.Tests;

/// <summary>
/// FirefoxCallTests: mesh calls with Firefox ESR pages (driven over WebDriver BiDi, see
/// <see cref="Firefox"/>) beside Chromium pages: Firefox with Chromium, two Firefox pages, and a
/// mixed call of three. Every page's tiles must play every other page's media, as getStats() on
/// that page counts it.
/// </summary>
public sealed class FirefoxCallTests(Chromium chromium, Firefox firefox) : IClassFixture<Firefox>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly IBrowser _chromium = chromium.Browser;

    [Theory]
    [InlineData("firefox", "chromium")]
    [InlineData("chromium", "firefox")]
    [InlineData("firefox", "firefox")]
    [InlineData("firefox", "chromium", "chromium")]
    [InlineData("chromium", "firefox", "firefox")]
    public async Task Pages_of_firefox_and_chromium_in_one_mesh_call_each_play_everyone_else(params string[] browsers)
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        await using var people = new MixedCall(_chromium, firefox, server.BaseUri, TestRooms.New());
        foreach (var (browser, i) in browsers.Select((b, i) => (b, i)))
        {
            await people.JoinAsync(browser, MixedCall.Names[i], Ct);
        }
        await people.WaitForEveryoneAsync(Ct);
    }
}
