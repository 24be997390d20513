using Parley.Testing;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// NetworkCall is what the network tests' browser calls share: deadlines longer than the browser
/// tests' (relayed and NATed calls on a loaded 2-core machine), and the wait for the other
/// participant's media.
/// </summary>
public static class NetworkCall
{
    /// <summary>JoinTimeoutMs bounds the time from clicking Join to being in the meeting.</summary>
    public const float JoinTimeoutMs = 20_000;

    /// <summary>MediaTimeout bounds the wait for media, as <see cref="IceStats.DefaultTimeout"/> bounds the wait for a path.</summary>
    public static TimeSpan MediaTimeout => IceStats.DefaultTimeout;

    /// <summary>
    /// WaitForMediaAsync waits until the page has one open connection and video and audio are rising
    /// on it: the page receives the other participant's media.
    /// </summary>
    public static Task<IReadOnlyList<InboundStats>> WaitForMediaAsync(Participant p, CancellationToken cancellationToken) =>
        MediaFlow.WaitForFlowAsync(p, connections: 1, cancellationToken, MediaTimeout);
}
