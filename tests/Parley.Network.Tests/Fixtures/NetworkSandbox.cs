using System.Net;
using System.Net.Sockets;
using Parley.Testing;

namespace Parley.Network.Tests.Fixtures;

/// <summary>
/// NetworkSandbox guards the rule that coturn and everything it relays stay on this machine: the
/// tests that start coturn must run as root inside a network namespace holding only <c>lo</c>
/// (scripts/test.sh makes one), and the peer addresses they relay to are put on that <c>lo</c>.
/// </summary>
public static class NetworkSandbox
{
    private const string HowToRun =
        "Run them as scripts/test.sh does: ip netns add parley-net; ip netns exec parley-net ip link set lo up; "
        + "dotnet build tests/Parley.Network.Tests; ip netns exec parley-net dotnet test tests/Parley.Network.Tests --no-build";

    /// <summary>
    /// EnsureIsolated throws unless this process is root and its network namespace holds no
    /// interface but <c>lo</c>, so no TURN relay started by a test can reach another machine.
    /// </summary>
    public static void EnsureIsolated()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "The coturn tests need root: they add peer addresses to lo and must run in a network namespace of their own. " + HowToRun);
        }
        var interfaces = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).Where(n => n != "lo").ToArray();
        if (interfaces.Length > 0)
        {
            throw new InvalidOperationException(
                $"The coturn tests must run in a network namespace holding only lo, so nothing they relay can leave this machine; this one also has {string.Join(", ", interfaces)}. "
                + HowToRun);
        }
        if (!File.Exists(CoturnServer.ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No coturn at {CoturnServer.ExecutablePath}: apt-get install coturn (scripts/test.sh installs it as root).");
        }
    }

    /// <summary>
    /// AddToLoopbackAsync puts <paramref name="addresses"/> on <c>lo</c> (a /32 or /128 each) until
    /// the returned handle is disposed, so a test can relay to a public-looking peer that is in
    /// fact this namespace.
    /// </summary>
    public static async Task<IAsyncDisposable> AddToLoopbackAsync(IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        EnsureIsolated();
        var added = new LoopbackAddresses();
        try
        {
            foreach (var address in addresses)
            {
                var prefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                // replace: adds the address, or keeps it if a crashed run left it behind.
                // nodad: an IPv6 address is usable at once instead of after duplicate detection.
                string[] arguments = prefix == 128
                    ? ["addr", "replace", $"{address}/{prefix}", "dev", "lo", "nodad"]
                    : ["addr", "replace", $"{address}/{prefix}", "dev", "lo"];
                await IpAsync(cancellationToken, arguments);
                added.Addresses.Add((address, prefix));
            }
            return added;
        }
        catch
        {
            await added.DisposeAsync();
            throw;
        }
    }

    private static Task<string> IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Commands.RunAsync(cancellationToken, ["ip", .. arguments]);

    private sealed class LoopbackAddresses : IAsyncDisposable
    {
        public List<(IPAddress Address, int Prefix)> Addresses { get; } = [];

        public async ValueTask DisposeAsync()
        {
            foreach (var (address, prefix) in Addresses)
            {
                await IpAsync(CancellationToken.None, "addr", "del", $"{address}/{prefix}", "dev", "lo");
            }
        }
    }
}
