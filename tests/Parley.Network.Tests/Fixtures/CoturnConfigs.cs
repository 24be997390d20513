using System.Net;

namespace Parley.Network.Tests.Fixtures;

/// <summary>CoturnConfigs makes the configurations the tests run coturn with.</summary>
public static class CoturnConfigs
{
    /// <summary>ProductionPath is deploy/coturn/turnserver.conf in this repository.</summary>
    public static string ProductionPath => Path.Combine(RepositoryRoot(), "deploy", "coturn", "turnserver.conf");

    /// <summary>
    /// ProductionForTest is deploy/coturn/turnserver.conf with only its address lines replaced:
    /// listen and relay on 127.0.0.1 and ::1, the only addresses of the test's namespace.
    /// </summary>
    public static string ProductionForTest()
    {
        string[] addressLines = ["listening-ip", "relay-ip", "external-ip", "listening-device", "relay-device"];
        var kept = File.ReadAllLines(ProductionPath)
            .Where(line => !addressLines.Contains(CoturnConfigFile.DirectiveName(line)));
        return string.Join('\n', [.. kept, "listening-ip=127.0.0.1", "listening-ip=::1", "relay-ip=127.0.0.1", "relay-ip=::1"]);
    }

    /// <summary>
    /// Minimal is the smallest use-auth-secret configuration, with coturn's built-in peer checks
    /// and one deny range written the usual way, in IPv4 form only (10.0.0.0-10.255.255.255): the
    /// baseline that shows what deploy/coturn/turnserver.conf adds.
    /// </summary>
    public static string Minimal(int port, int minRelayPort, int maxRelayPort) => $"""
        listening-ip=127.0.0.1
        listening-ip=::1
        relay-ip=127.0.0.1
        relay-ip=::1
        {Common(port, minRelayPort, maxRelayPort)}
        denied-peer-ip=10.0.0.0-10.255.255.255
        """;

    /// <summary>
    /// Loopback listens and relays on 127.0.0.1 and, unlike production, lets peers on loopback be
    /// relayed to (<c>allow-loopback-peers</c>: this test config only), for browsers on 127.0.0.1.
    /// </summary>
    public static string Loopback(int port, int minRelayPort, int maxRelayPort) => $"""
        listening-ip=127.0.0.1
        relay-ip=127.0.0.1
        {Common(port, minRelayPort, maxRelayPort)}
        no-multicast-peers
        allow-loopback-peers
        """;

    // Common: what every test configuration has: its ports, credentials from the shared secret
    // (StartAsync adds static-auth-secret), no TLS, DTLS or CLI, and a verbose log on stdout.
    private static string Common(int port, int minRelayPort, int maxRelayPort) => $"""
        listening-port={port}
        min-port={minRelayPort}
        max-port={maxRelayPort}
        fingerprint
        use-auth-secret
        realm=parley-test
        no-tls
        no-dtls
        no-cli
        verbose
        log-file=stdout
        """;

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Parley.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No Parley.slnx above {AppContext.BaseDirectory}.");
    }
}

/// <summary>CoturnConfigFile reads a turnserver.conf: one <c>name[=value]</c> per line, <c>#</c> comments on their own lines.</summary>
public sealed class CoturnConfigFile
{
    private CoturnConfigFile(IReadOnlyList<string> lines) => Lines = lines;

    public IReadOnlyList<string> Lines { get; }

    /// <summary>Directives are the settings in file order, with the line they are on (0-based).</summary>
    public IEnumerable<(int Line, string Name, string? Value)> Directives =>
        Lines.Select((text, i) => (i, text.Trim()))
            .Where(l => l.Item2.Length > 0 && !l.Item2.StartsWith('#'))
            .Select(l => (l.i, DirectiveName(l.Item2)!, l.Item2.Contains('=', StringComparison.Ordinal) ? l.Item2[(l.Item2.IndexOf('=', StringComparison.Ordinal) + 1)..] : null));

    /// <summary>DeniedRanges are the denied-peer-ip values as (first, last) addresses.</summary>
    public IReadOnlyList<(IPAddress First, IPAddress Last, string Text)> DeniedRanges =>
        [.. Directives.Where(d => d.Name == "denied-peer-ip").Select(d => ParseRange(d.Value ?? ""))];

    public static CoturnConfigFile Load(string path) => new(File.ReadAllLines(path));

    public static string? DirectiveName(string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#'))
        {
            return null;
        }
        var end = text.IndexOfAny(['=', ' ', '\t']);
        return end < 0 ? text : text[..end];
    }

    /// <summary>ParseRange reads "A-B" or a single address "A" the way coturn does; anything else throws.</summary>
    public static (IPAddress First, IPAddress Last, string Text) ParseRange(string value)
    {
        var parts = value.Split('-');
        if (parts.Length is < 1 or > 2 || !IPAddress.TryParse(parts[0], out var first)
            || !IPAddress.TryParse(parts[^1], out var last) || parts.Any(p => p.Contains('/', StringComparison.Ordinal)))
        {
            throw new FormatException($"denied-peer-ip={value} is not an address or an A-B range of addresses.");
        }
        return (first, last, value);
    }
}
