namespace Parley.Testing;

/// <summary>
/// ChromiumSetup is what every browser test shares about Debian's Chromium: where it is and the
/// flags it needs here (TESTING.md): no sandbox or GPU in a container, nothing that calls home,
/// host candidates as addresses instead of mDNS names, and no permission prompts.
/// </summary>
public static class ChromiumSetup
{
    /// <summary>ExecutablePath is <c>$PARLEY_CHROMIUM</c>, or Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>FakeDevices gives the browser a fake camera (a moving test pattern) and microphone (a beep).</summary>
    public const string FakeDevices = "--use-fake-device-for-media-stream";

    public static IReadOnlyList<string> BaseArgs { get; } =
    [
        "--use-fake-ui-for-media-stream",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ];

    /// <summary>EnsureInstalled fails with how to fix it when there is no Chromium.</summary>
    public static void EnsureInstalled()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No Chromium at {ExecutablePath}: install Debian's chromium (apt-get install chromium) or set PARLEY_CHROMIUM.");
        }
    }
}
