using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// Browsers is Debian's Chromium driven by Playwright, with a fake camera (a moving test pattern)
/// and a fake microphone (a beep). A test class shares one Playwright driver; each test launches the
/// browsers it needs: one on this namespace's loopback, or one inside another network namespace
/// (the NAT tests), through a wrapper script that Playwright starts instead of Chromium.
/// </summary>
public sealed class Browsers : IAsyncLifetime
{
    public static string ExecutablePath => ChromiumSetup.ExecutablePath;

    private static readonly string[] CommonArgs = [ChromiumSetup.FakeDevices, .. ChromiumSetup.BaseArgs];

    private IPlaywright? _playwright;

    public async ValueTask InitializeAsync()
    {
        ChromiumSetup.EnsureInstalled();
        _playwright = await Playwright.CreateAsync();
    }

    /// <summary>
    /// LaunchOnLoopbackAsync starts Chromium in this namespace, where loopback is the only network:
    /// it gathers 127.0.0.1 candidates and uses a TURN server on 127.0.0.1.
    /// </summary>
    public Task<IBrowser> LaunchOnLoopbackAsync() => LaunchAsync(ExecutablePath, [.. CommonArgs, "--allow-loopback-in-peer-connection"]);

    /// <summary>
    /// LaunchInNamespaceAsync starts Chromium inside network namespace <paramref name="netns"/>:
    /// Playwright runs <paramref name="wrapper"/>, a script that execs Chromium under
    /// <c>ip netns exec</c>, and talks to it over the pipes it inherits. <paramref name="origin"/>
    /// (Parley on a plain-HTTP, non-loopback address) counts as secure, so the page gets the camera.
    /// </summary>
    public async Task<IBrowser> LaunchInNamespaceAsync(string netns, Uri origin, string wrapper, CancellationToken cancellationToken)
    {
        var script = $"#!/bin/sh\n# Test-only: Chromium inside network namespace {netns}.\nexec ip netns exec '{netns}' '{ExecutablePath}' \"$@\"\n";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
        await using (var file = new StreamWriter(wrapper, options))
        {
            await file.WriteAsync(script.AsMemory(), cancellationToken);
        }
        return await LaunchAsync(wrapper, [.. CommonArgs, $"--unsafely-treat-insecure-origin-as-secure={origin.GetLeftPart(UriPartial.Authority)}"]);
    }

    public ValueTask DisposeAsync()
    {
        _playwright?.Dispose();
        return ValueTask.CompletedTask;
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
