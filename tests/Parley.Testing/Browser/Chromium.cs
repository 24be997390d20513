using Microsoft.Playwright;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// Chromium is Debian's Chromium driven by Playwright, shared by all tests: one browser with fake
/// camera and microphone, and one new context (a separate "person") per participant. Tests that need
/// a browser without any devices launch their own with <see cref="LaunchAsync(bool)"/>, and tests with a
/// network topology one inside another network namespace with <see cref="LaunchInNamespaceAsync"/>.
/// A test project makes it an assembly fixture
/// (<c>[assembly: AssemblyFixture(typeof(Parley.Testing.Chromium))]</c>), or, where most tests need
/// no browser, a class fixture of the classes that do.
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
    public Task<IBrowser> LaunchAsync(bool fakeDevices) =>
        LaunchAsync(ExecutablePath, fakeDevices ? [ChromiumSetup.FakeDevices, .. CommonArgs] : CommonArgs);

    /// <summary>
    /// LaunchInNamespaceAsync starts another Chromium, with fake devices, inside network namespace
    /// <paramref name="netns"/>: Playwright runs <paramref name="wrapper"/>, a script written here that
    /// execs Chromium under <c>ip netns exec</c>, and talks to it over the pipes it inherits.
    /// <paramref name="origin"/> (Parley on a plain-HTTP, non-loopback address) counts as secure, so
    /// the page gets the camera. The caller closes the browser.
    /// </summary>
    public async Task<IBrowser> LaunchInNamespaceAsync(string netns, Uri origin, string wrapper, CancellationToken cancellationToken)
    {
        var script = $"#!/bin/sh\n# Test-only: Chromium inside network namespace {netns}.\nexec ip netns exec '{netns}' '{ExecutablePath}' \"$@\"\n";
        await PrivateFile.WriteAsync(wrapper, script, cancellationToken, executable: true);
        return await LaunchAsync(wrapper,
            [ChromiumSetup.FakeDevices, .. ChromiumSetup.BaseArgs, $"--unsafely-treat-insecure-origin-as-secure={origin.GetLeftPart(UriPartial.Authority)}"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }

    private Task<IBrowser> LaunchAsync(string executable, string[] args)
    {
        var playwright = _playwright ?? throw new InvalidOperationException("Playwright has not started.");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args = args,
        });
    }
}
