using System.Net;
using System.Net.Sockets;
using Parley.Network.Tests.Fixtures;

namespace Parley.Network.Tests;

/// <summary>
/// ProductionConfigTests read deploy/coturn/turnserver.conf without running it: the settings
/// issue 3 asks for are there, nothing dangerous is, and every deny range has a shape coturn
/// reads the way it is meant. ProductionPeerTests then run it.
/// </summary>
public sealed class ProductionConfigTests
{
    private static readonly CoturnConfigFile Config = CoturnConfigFile.Load(CoturnConfigs.ProductionPath);

    private static IEnumerable<string> Names => Config.Directives.Select(d => d.Name);

    [Fact]
    public void The_production_config_sets_every_guard_issue_3_asks_for()
    {
        string[] required =
        [
            "use-auth-secret", "realm", "min-port", "max-port", "no-cli", "no-multicast-peers", "no-tcp-relay",
            "user-quota", "total-quota", "max-bps", "no-rfc5780", "no-stun-backward-compatibility",
            "response-origin-only-with-rfc5780", "denied-peer-ip",
        ];

        Assert.Empty(required.Except(Names));
        var minPort = int.Parse(Value("min-port"), System.Globalization.CultureInfo.InvariantCulture);
        var maxPort = int.Parse(Value("max-port"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(maxPort - minPort + 1, 100, 2000);
        Assert.InRange(int.Parse(Value("total-quota"), System.Globalization.CultureInfo.InvariantCulture), 1, maxPort - minPort + 1);
    }

    [Fact]
    public void The_production_config_never_allows_loopback_peers_and_holds_no_secret_or_backdoor()
    {
        string[] forbidden =
        [
            "allow-loopback-peers", "static-auth-secret", "user", "no-auth", "lt-cred-mech", "allowed-peer-ip",
            "server-relay", "web-admin", "cli-password", "secure-stun",
        ];

        Assert.Empty(forbidden.Intersect(Names));
        Assert.DoesNotContain(Config.Lines, line => line.TrimStart().StartsWith("allow-loopback-peers", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_setting_has_a_comment_line_right_above_it()
    {
        var uncommented = Config.Directives
            .Where(d => d.Line == 0 || !Config.Lines[d.Line - 1].TrimStart().StartsWith('#'))
            .Select(d => $"line {d.Line + 1}: {Config.Lines[d.Line]}");

        Assert.Empty(uncommented);
    }

    [Fact]
    public void Every_denied_range_is_an_A_B_range_in_the_shape_coturn_compares_correctly()
    {
        Assert.DoesNotContain(Config.Directives, d => d.Name == "denied-peer-ip" && (d.Value ?? "").Contains('/', StringComparison.Ordinal));
        foreach (var (first, last, text) in Config.DeniedRanges)
        {
            Assert.True(first.AddressFamily == last.AddressFamily, $"{text}: both ends must be of one family.");
            Assert.True(Compare(first, last) <= 0, $"{text}: the first address is after the last.");
            // coturn treats an all-zero bound as "no bound": "::-X" would match every IPv4 peer
            // and "::" alone every peer at all.
            Assert.False(first.Equals(IPAddress.IPv6Any) || last.Equals(IPAddress.IPv6Any), $"{text}: :: cannot be a bound.");
            Assert.True(IsByteBox(first, last), $"{text}: coturn 4.6 compares IPv6 bounds byte by byte; the range must be equal bytes, one ranging byte, then 00..ff.");
        }
    }

    [Fact]
    public void Every_denied_IPv4_range_is_denied_in_its_IPv4_mapped_form_too()
    {
        var ranges = Config.DeniedRanges;
        var missing = ranges
            .Where(r => r.First.AddressFamily == AddressFamily.InterNetwork)
            .Where(r => !ranges.Any(m => m.First.Equals(r.First.MapToIPv6()) && m.Last.Equals(r.Last.MapToIPv6())))
            .Select(r => r.Text);

        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("10.0.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.254")]
    [InlineData("192.0.0.170")]
    [InlineData("192.0.2.1")]
    [InlineData("192.168.1.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.51.100.1")]
    [InlineData("203.0.113.1")]
    [InlineData("224.0.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:0:127.0.0.1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b:1::a00:1")]
    [InlineData("100::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]
    [InlineData("2001:db8::1")]
    [InlineData("2002:7f00:1::")]
    [InlineData("3fff::1")]
    [InlineData("5f00::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("ff02::1")]
    public void The_deny_list_covers_a_reserved_address(string address)
    {
        var peer = IPAddress.Parse(address);

        Assert.Contains(Config.DeniedRanges, r => r.First.AddressFamily == peer.AddressFamily && Compare(r.First, peer) <= 0 && Compare(peer, r.Last) <= 0);
    }

    [Theory]
    [InlineData("11.0.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("172.32.0.1")]
    [InlineData("193.0.0.1")]
    [InlineData("::ffff:11.0.0.1")]
    [InlineData("2003::1")]
    [InlineData("2a00:1450::1")]
    public void The_deny_list_leaves_public_addresses_alone(string address)
    {
        var peer = IPAddress.Parse(address);

        Assert.DoesNotContain(Config.DeniedRanges, r => r.First.AddressFamily == peer.AddressFamily && Compare(r.First, peer) <= 0 && Compare(peer, r.Last) <= 0);
    }

    private static string Value(string name) => Config.Directives.Single(d => d.Name == name).Value!;

    private static int Compare(IPAddress a, IPAddress b) => a.GetAddressBytes().AsSpan().SequenceCompareTo(b.GetAddressBytes());

    // IsByteBox: the bytes before some position are equal, the byte there ranges first..last,
    // and every byte after it is 00 in the first address and ff in the last. Such a range means
    // the same compared as a number or byte by byte; every CIDR block is one.
    private static bool IsByteBox(IPAddress first, IPAddress last)
    {
        var a = first.GetAddressBytes();
        var b = last.GetAddressBytes();
        var i = 0;
        while (i < a.Length && a[i] == b[i])
        {
            i++;
        }
        return a.Skip(i + 1).All(x => x == 0x00) && b.Skip(i + 1).All(x => x == 0xFF);
    }
}
