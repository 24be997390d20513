using Xunit;

namespace Parley.Testing;

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
/// IceStats reads how a page's open connections found their way, from getStats() via probe.js:
/// candidates, checks and the selected pair, and the TURN usernames they are configured with; and
/// waits, with a deadline, for a selected pair of a given kind.
/// </summary>
public static class IceStats
{
    /// <summary>DefaultTimeout bounds a wait for a path: generous, for relayed and NATed calls on a 2-core machine shared with other test runs.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>ReadAsync returns the ICE work of each open connection, in creation order.</summary>
    public static Task<IceWork[]> ReadAsync(Participant p) => p.ProbeAsync<IceWork[]>("ice()");

    /// <summary>PathsAsync returns the selected pair of each open connection, in creation order.</summary>
    public static Task<SelectedPath[]> PathsAsync(Participant p) => p.ProbeAsync<SelectedPath[]>("paths()");

    /// <summary>TurnUsernamesAsync returns, for each open connection, the usernames of the TURN servers it is configured with.</summary>
    public static Task<string[][]> TurnUsernamesAsync(Participant p) => p.ProbeAsync<string[][]>("turnUsernames()");

    /// <summary>DescribeAsync is the page's ICE work as text, for failure messages.</summary>
    public static async Task<string> DescribeAsync(Participant p) => string.Join(" | ", (await ReadAsync(p)).Select(w => w.ToString()));

    /// <summary>
    /// WaitForSelectedPathAsync waits until the page's one open connection is connected over a selected
    /// pair for which <paramref name="expected"/> holds (<paramref name="what"/> says what that means),
    /// and returns the pair. It keeps polling after the connection is up: a candidate that a check
    /// revealed before signaling did shows as prflx, without its address, until the signaled one
    /// replaces it.
    /// </summary>
    public static async Task<SelectedPath> WaitForSelectedPathAsync(
        Participant p, string what, Func<SelectedPath, bool> expected, CancellationToken cancellationToken, TimeSpan? timeout = null)
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
                    + $"ICE: {await DescribeAsync(p)}");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }
}
