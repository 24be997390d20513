using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Signaling;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// FakeClockServer starts the real server with signaling on a <see cref="FakeTimeProvider"/>: the
/// timestamps it stamps are exact and its token buckets refill only when the test moves the clock.
/// Its timers (the join timeout, write deadlines) never fire unless the test advances past them.
/// Only signaling (its sessions and connections) gets the fake clock; the host and Kestrel keep
/// the real one.
/// </summary>
internal static class FakeClockServer
{
    /// <summary>Start is 2025-11-25T13:40:00.123Z in Unix milliseconds, where each test's clock begins.</summary>
    public const long Start = 1764078000123;

    public static FakeTimeProvider NewClock() => new(DateTimeOffset.FromUnixTimeMilliseconds(Start));

    /// <summary>StartAsync starts a server on <paramref name="time"/> with the <c>Parley:</c> settings given.</summary>
    public static Task<ParleyTestServer> StartAsync(FakeTimeProvider time, CancellationToken cancellationToken, params (string Key, string Value)[] settings) =>
        ParleyTestServer.StartAsync(
            settings.ToDictionary(s => "Parley:" + s.Key, s => (string?)s.Value),
            builder => builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SignalingServices>(sp, (TimeProvider)time)),
            cancellationToken);
}
