[assembly: AssemblyFixture(typeof(Parley.Browser.Tests.Chromium))]

namespace Parley.Browser.Tests;

/// <summary>
/// Chromium is Debian's Chromium driven by Playwright, shared by all tests: one browser with fake
/// camera and microphone, and one new context (a separate "person") per participant. Tests that need
/// a browser without any devices launch their own with <see cref="LaunchAsync"/>.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    /// <summary>ExecutablePath is <c>$PARLEY_CHROMIUM</c>, or Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    // Args: no sandbox or GPU in a container; nothing that calls home; 127.0.0.1 host candidates
    // instead of mDNS names, so peers on loopback inside the test's network namespace connect.
    private static readonly string[] CommonArgs =
    [
        "--use-fake-ui-for-media-stream",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Browser has a fake camera (a moving test pattern) and a fake microphone (a beep).</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not started.");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No Chromium at {ExecutablePath}: install Debian's chromium (apt-get install chromium) or set PARLEY_CHROMIUM.");
        }
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
            Args = fakeDevices ? ["--use-fake-device-for-media-stream", .. CommonArgs] : CommonArgs,
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
