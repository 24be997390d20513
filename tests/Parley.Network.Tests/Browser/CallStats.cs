namespace Parley.Network.Tests.Browser;

/// <summary>Inbound is one open RTCPeerConnection's received media, summed over its inbound-rtp reports.</summary>
public sealed record Inbound(string State, double FramesDecoded, double PacketsReceived);

/// <summary>
/// Candidate is a local-candidate or remote-candidate report: its type (host, srflx, prflx, relay),
/// transport, and for a local relay candidate the transport to the TURN server (udp, tcp, tls).
/// </summary>
public sealed record Candidate(string CandidateType, string Protocol, string? RelayProtocol, string Address, int Port)
{
    public override string ToString() =>
        $"{CandidateType} {Protocol}{(RelayProtocol is null ? "" : $" (to TURN over {RelayProtocol})")} {Address}:{Port}";
}

/// <summary>SelectedPath is one open connection's selected candidate pair; Local and Remote are null while there is none.</summary>
public sealed record SelectedPath(string State, string? PairState, Candidate? Local, Candidate? Remote)
{
    public override string ToString() => $"{State}: {Local?.ToString() ?? "none"} -> {Remote?.ToString() ?? "none"} ({PairState ?? "no pair"})";
}

/// <summary>CandidatePair is one pair ICE formed, with its state and connectivity checks.</summary>
public sealed record CandidatePair(string State, Candidate? Local, Candidate? Remote, double RequestsSent, double ResponsesReceived)
{
    public override string ToString() => $"{Local} -> {Remote}: {State}, {RequestsSent} checks sent, {ResponsesReceived} answered";
}

/// <summary>IceWork is one open connection's ICE work so far: its candidates and pairs.</summary>
public sealed record IceWork(string State, string IceState, Candidate[] Local, Candidate[] Remote, CandidatePair[] Pairs)
{
    public override string ToString() =>
        $"{State}/{IceState}; local [{string.Join(", ", Local.Select(c => c.ToString()))}]; remote [{string.Join(", ", Remote.Select(c => c.ToString()))}]; "
        + $"pairs [{string.Join("; ", Pairs.Select(p => p.ToString()))}]";
}

/// <summary>
/// CallStats reads a page's connections through the probe (getStats()) and waits, with deadlines,
/// for media to flow and for a candidate pair to be selected. "Flowing" means rising: inbound video
/// framesDecoded and audio packetsReceived both grow between two readings.
/// </summary>
public static class CallStats
{
    /// <summary>MinFrames and MinPackets are the rise that counts as flowing (~0.5 s of video, ~0.2 s of audio).</summary>
    private const double MinFrames = 10;
    private const double MinPackets = 10;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>DefaultTimeout bounds each wait: generous, for a 2-core machine shared with other test runs.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Task<Inbound[]> InboundAsync(Caller p) => p.ProbeAsync<Inbound[]>("inbound()");

    public static Task<SelectedPath[]> PathsAsync(Caller p) => p.ProbeAsync<SelectedPath[]>("paths()");

    public static Task<IceWork[]> IceAsync(Caller p) => p.ProbeAsync<IceWork[]>("ice()");

    public static Task<string[][]> TurnUsernamesAsync(Caller p) => p.ProbeAsync<string[][]>("turnUsernames()");

    /// <summary>
    /// WaitForMediaAsync waits until the page has one open connection and video and audio are rising
    /// on it: the page receives the other participant's media.
    /// </summary>
    public static async Task<Inbound> WaitForMediaAsync(Caller p, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        Inbound? baseline = null;
        Inbound[] now = [];
        while (true)
        {
            now = await InboundAsync(p);
            if (now.Length == 1)
            {
                var current = now[0];
                if (baseline is null)
                {
                    baseline = current;
                }
                else if (current.FramesDecoded >= baseline.FramesDecoded + MinFrames && current.PacketsReceived >= baseline.PacketsReceived + MinPackets)
                {
                    return current;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{p.Name}: media is not flowing in. Baseline: {baseline?.ToString() ?? "none"}; now: {string.Join(", ", now.Select(n => n.ToString()))}; "
                    + $"ICE: {string.Join(" | ", (await IceAsync(p)).Select(w => w.ToString()))}");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>
    /// WaitForSelectedPathAsync waits until the page's one open connection is connected over a selected
    /// pair for which <paramref name="expected"/> holds (<paramref name="what"/> says what that means),
    /// and returns the pair. It keeps polling after the connection is up: a candidate that a check
    /// revealed before signaling did shows as prflx, without its address, until the signaled one
    /// replaces it.
    /// </summary>
    public static async Task<SelectedPath> WaitForSelectedPathAsync(
        Caller p, string what, Func<SelectedPath, bool> expected, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var paths = await PathsAsync(p);
            if (paths is [{ State: "connected", Local: not null, Remote: not null } path] && expected(path))
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"{p.Name}'s selected pair: {path}");
                return path;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{p.Name}: no connected pair {what} within {(timeout ?? DefaultTimeout).TotalSeconds:0} s. Paths: {string.Join(", ", paths.Select(x => x.ToString()))}; "
                    + $"ICE: {string.Join(" | ", (await IceAsync(p)).Select(w => w.ToString()))}");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }
}
