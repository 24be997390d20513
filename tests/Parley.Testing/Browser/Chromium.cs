using Microsoft.Playwright;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// Chromium is Debian's Chromium driven by Playwright, shared by all tests: one browser with fake
/// camera and microphone, and one new context (a separate "person") per participant. Tests that need
/// a browser without any devices launch their own with <see cref="LaunchAsync"/>. A test project
/// makes it an assembly fixture: <c>[assembly: AssemblyFixture(typeof(Parley.Testing.Chromium))]</c>.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public static string ExecutablePath => ChromiumSetup.ExecutablePath;

    // CommonArgs: the shared flags, plus 127.0.0.1 host candidates, so peers on loopback inside
    // the test's network namespace connect.
    private static readonly string[] CommonArgs = [.. ChromiumSetup.BaseArgs, "--allow-loopback-in-peer-connection"];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Browser has a fake camera (a moving test pattern) and a fake microphone (a beep).</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not started.");

    public async ValueTask InitializeAsync()
    {
        ChromiumSetup.EnsureInstalled();
        _playwright = await Playwright.CreateAsync();
        _browser = await LaunchAsync(fakeDevices: true);
    }

    /// <summary>LaunchAsync starts another Chromium; without fake devices it has no camera and no microphone.</summary>
    public Task<IBrowser> LaunchAsync(bool fakeDevices)
    {
        var playwright = _playwright ?? throw new InvalidOperationException("Playwright has not started.");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = fakeDevices ? [ChromiumSetup.FakeDevices, .. CommonArgs] : CommonArgs,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}
