namespace Parley.Testing;

/// <summary>
/// SignalingCut cuts one TCP port in the test's network namespace with nftables, both ways a
/// network does it: a silent drop of every packet, or a reset of the open sockets with every new
/// connection refused by a reset, until <see cref="HealAsync"/>. The port is a <see cref="TcpRelay"/>'s,
/// so only the page that goes through it is cut.
/// </summary>
public static class SignalingCut
{
    private const string Table = "parleycut";

    /// <summary>CutAsync cuts <paramref name="port"/>: a blackhole, or (<paramref name="reset"/>) resets.</summary>
    public static async Task CutAsync(int port, bool reset, CancellationToken cancellationToken)
    {
        await Commands.RunAsync(cancellationToken, "nft", $"add table inet {Table}");
        await Commands.RunAsync(cancellationToken, "nft", $"add chain inet {Table} in {{ type filter hook input priority 0 ; policy accept ; }}");
        if (reset)
        {
            await Commands.RunAsync(cancellationToken, "nft", $"add rule inet {Table} in tcp dport {port} reject with tcp reset");
            // An idle socket sends nothing for a rule to catch: destroy the open ones too.
            await Commands.RunAsync(cancellationToken, "ss", "-K", "-t", "state", "established", $"( dport = :{port} or sport = :{port} )");
        }
        else
        {
            await Commands.RunAsync(cancellationToken, "nft", $"add rule inet {Table} in tcp dport {port} drop");
            await Commands.RunAsync(cancellationToken, "nft", $"add rule inet {Table} in tcp sport {port} drop");
        }
    }

    /// <summary>HealAsync ends the cut (for cleanup: it never throws).</summary>
    public static Task<bool> HealAsync() => Commands.TryRunAsync(Commands.ToTestOutput, "nft", $"delete table inet {Table}");
}
