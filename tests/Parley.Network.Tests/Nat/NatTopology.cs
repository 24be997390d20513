using System.Globalization;
using System.Net;
using static Parley.Testing.Commands;

namespace Parley.Network.Tests.Nat;

/// <summary>
/// NatKind is how a router maps its clients: <see cref="Symmetric"/> gives every destination a fresh
/// random port (<c>masquerade random</c>); <see cref="FullCone"/> keeps the client's port and lets any
/// outside host send to it (masquerade plus forwarding all inbound UDP to the client), the NAT
/// that STUN alone gets through.
/// </summary>
public enum NatKind
{
    Symmetric,
    FullCone,
}

/// <summary>
/// NatSite is one home network: a client namespace (the browser's machine, <see cref="LanAddress"/>)
/// behind a router namespace that masquerades it to <see cref="WanAddress"/>.
/// </summary>
public sealed record NatSite(string Name, string ClientNamespace, string RouterNamespace, IPAddress LanAddress, IPAddress WanAddress, string PublicLink);

/// <summary>
/// NatTopology builds, from network namespaces, two home networks behind their own NAT routers, both
/// linked to this process's namespace, which plays the public internet:
/// <code>
///   Ada's client   10.1.0.2 ── 10.1.0.1 router 11.1.0.2 ──┐
///                                                          11.1.0.1 / 11.2.0.1  this namespace (11.0.0.1 on lo)
///   Grace's client 10.2.0.2 ── 10.2.0.1 router 11.2.0.2 ──┘
/// </code>
/// Each router forwards and masquerades what leaves its WAN link with <c>masquerade random</c>: a
/// fresh random port for every destination, which behaves like a symmetric NAT, so what STUN
/// learns is of no use to the other side and only a TURN relay gets through. This namespace
/// forwards between the two WAN links (so a direct attempt really reaches the other router) but
/// has no route to either home network and none out of the machine. Disposing deletes everything.
/// With <see cref="NatKind.FullCone"/> routers instead, the same topology lets STUN connect a call
/// directly: the control that shows the symmetric NAT, not a broken topology, is what stops it.
/// </summary>
public sealed class NatTopology : IAsyncDisposable
{
    private static int s_created;

    private readonly List<string> _namespaces = [];
    private readonly List<string> _publicLinks = [];
    private string? _forwardingBefore;

    private NatTopology()
    {
    }

    /// <summary>Ada and Grace are the two home networks (10.1.0.0/24 behind 11.1.0.2, 10.2.0.0/24 behind 11.2.0.2).</summary>
    public NatSite Ada { get; private set; } = null!;

    public NatSite Grace { get; private set; } = null!;

    // ForwardingPath: this namespace's IPv4 forwarding switch (/proc/sys/net is per namespace).
    private const string ForwardingPath = "/proc/sys/net/ipv4/ip_forward";

    public static async Task<NatTopology> CreateAsync(NatKind kind, CancellationToken cancellationToken)
    {
        var topology = new NatTopology();
        try
        {
            // Names: namespaces are machine-wide, so they carry this process's id and a counter.
            var prefix = $"parley-nat-{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}";
            topology.Ada = await topology.AddSiteAsync(prefix, "ada", 1, kind, cancellationToken);
            topology.Grace = await topology.AddSiteAsync(prefix, "grace", 2, kind, cancellationToken);
            topology._forwardingBefore = (await File.ReadAllTextAsync(ForwardingPath, cancellationToken)).Trim();
            await File.WriteAllTextAsync(ForwardingPath, "1", cancellationToken);
            return topology;
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    /// <summary>BlockUdpAsync drops every UDP packet in and out of <paramref name="site"/>'s client, as a strict firewall does.</summary>
    public static async Task BlockUdpAsync(NatSite site, CancellationToken cancellationToken)
    {
        var ns = site.ClientNamespace;
        await RunAsync(cancellationToken, "ip", "netns", "exec", ns, "nft", "add table inet firewall");
        foreach (var hook in new[] { "input", "output" })
        {
            await RunAsync(cancellationToken, "ip", "netns", "exec", ns, "nft", $"add chain inet firewall {hook} {{ type filter hook {hook} priority 0 ; policy accept ; }}");
            await RunAsync(cancellationToken, "ip", "netns", "exec", ns, "nft", $"add rule inet firewall {hook} meta l4proto udp drop");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Deleting the public end of each link removes the pair at once; a namespace's own
        // interfaces go when the kernel gets round to it, which must not be after the next test
        // looks at this namespace.
        foreach (var link in _publicLinks)
        {
            await TryRunAsync(ToTestOutput, "ip", "link", "del", link);
        }
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            await TryRunAsync(ToTestOutput, "ip", "netns", "del", ns);
        }
        if (_forwardingBefore is not null)
        {
            await File.WriteAllTextAsync(ForwardingPath, _forwardingBefore, CancellationToken.None);
        }
    }

    private async Task<NatSite> AddSiteAsync(string prefix, string name, int index, NatKind kind, CancellationToken ct)
    {
        var router = $"{prefix}-{name}-router";
        var client = $"{prefix}-{name}";
        // The public end's name must be unique in this namespace and at most 15 characters.
        var publicLink = $"pn{Environment.ProcessId % 1_000_000}x{s_created % 100}{name[0]}";
        var i = index.ToString(CultureInfo.InvariantCulture);
        foreach (var ns in new[] { router, client })
        {
            await RunAsync(ct, "ip", "netns", "add", ns);
            _namespaces.Add(ns);
            await RunAsync(ct, "ip", "-n", ns, "link", "set", "lo", "up");
            // IPv4 only: no link-local IPv6 traffic or candidates to reason about.
            await RunAsync(ct, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        }

        // WAN: this namespace 11.i.0.1 <-> router 11.i.0.2.
        await RunAsync(ct, "ip", "link", "add", publicLink, "type", "veth", "peer", "name", "wan", "netns", router);
        _publicLinks.Add(publicLink);
        await RunAsync(ct, "ip", "addr", "add", $"11.{i}.0.1/24", "dev", publicLink);
        await RunAsync(ct, "ip", "link", "set", publicLink, "up");
        await RunAsync(ct, "ip", "-n", router, "addr", "add", $"11.{i}.0.2/24", "dev", "wan");
        await RunAsync(ct, "ip", "-n", router, "link", "set", "wan", "up");
        await RunAsync(ct, "ip", "-n", router, "route", "add", "default", "via", $"11.{i}.0.1");

        // LAN: router 10.i.0.1 <-> client 10.i.0.2, whose only way out is the router.
        await RunAsync(ct, "ip", "-n", router, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", client);
        await RunAsync(ct, "ip", "-n", router, "addr", "add", $"10.{i}.0.1/24", "dev", "lan");
        await RunAsync(ct, "ip", "-n", router, "link", "set", "lan", "up");
        await RunAsync(ct, "ip", "-n", client, "addr", "add", $"10.{i}.0.2/24", "dev", "eth0");
        await RunAsync(ct, "ip", "-n", client, "link", "set", "eth0", "up");
        await RunAsync(ct, "ip", "-n", client, "route", "add", "default", "via", $"10.{i}.0.1");

        // The router: forwarding, and a NAT on the WAN link (TESTING.md).
        await RunAsync(ct, "ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        await RunAsync(ct, "ip", "netns", "exec", router, "nft", "add table ip nat");
        await RunAsync(ct, "ip", "netns", "exec", router, "nft", "add chain ip nat post { type nat hook postrouting priority 100 ; }");
        if (kind == NatKind.Symmetric)
        {
            await RunAsync(ct, "ip", "netns", "exec", router, "nft", "add rule ip nat post oifname \"wan\" masquerade random");
        }
        else
        {
            // Port-preserving masquerade, and any new UDP flow from outside goes to the client's same port.
            await RunAsync(ct, "ip", "netns", "exec", router, "nft", "add rule ip nat post oifname \"wan\" masquerade");
            await RunAsync(ct, "ip", "netns", "exec", router, "nft", "add chain ip nat pre { type nat hook prerouting priority -100 ; }");
            await RunAsync(ct, "ip", "netns", "exec", router, "nft", $"add rule ip nat pre iifname \"wan\" meta l4proto udp dnat to 10.{i}.0.2");
        }

        return new NatSite(name, client, router, IPAddress.Parse($"10.{i}.0.2"), IPAddress.Parse($"11.{i}.0.2"), publicLink);
    }
}
