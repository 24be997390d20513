using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Network.Tests.Fixtures;
using Parley.Network.Tests.Turn;

namespace Parley.Network.Tests;

/// <summary>
/// ProductionPeerTests run coturn with deploy/coturn/turnserver.conf (only its addresses changed)
/// and ask it to relay to reserved addresses: every one is refused with 403, while public peers,
/// which the test puts on this namespace's loopback, are permitted and really relayed.
/// </summary>
[Collection(ProductionCoturnTests.Name)]
public sealed class ProductionPeerTests(ProductionCoturn coturn)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoturnServer Server => coturn.Server;

    [Fact]
    public void Coturn_takes_every_line_of_the_production_config()
    {
        var denied = CoturnConfigFile.Load(CoturnConfigs.ProductionPath).DeniedRanges;

        Assert.DoesNotContain(Server.Log, line => line.Contains("Bad configuration format", StringComparison.Ordinal));
        Assert.DoesNotContain(Server.Log, line => line.Contains("Wrong address format", StringComparison.Ordinal));
        // Distinct: coturn 4.6.1 prints its first log line twice, and here that is a deny range.
        var blackListed = Server.Log.Where(line => line.Contains("Black listing: ", StringComparison.Ordinal)).Distinct().ToArray();
        Assert.Equal(denied.Count, blackListed.Length);
        Assert.All(denied, range => Assert.Contains(blackListed, line => line.EndsWith($"Black listing: {range.Text}", StringComparison.Ordinal)));
        Assert.NotNull(Server.FindLog(line => line.Contains("RFC5780 disabled", StringComparison.Ordinal)));
        Assert.NotNull(Server.FindLog(line => line.Contains("625000 bytes per second allowed per session", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_Binding_response_carries_only_the_mapped_address_and_fingerprint_so_it_amplifies_little()
    {
        await using var client = await TurnClient.ConnectAsync(Server.Endpoint, ProtocolType.Udp, Ct);

        var response = await client.BindingAsync(Ct);

        // The request is 28 bytes (header and FINGERPRINT); the answer adds one 12-byte address.
        Assert.Equal([StunAttributeType.XorMappedAddress, StunAttributeType.Fingerprint], response.AttributeTypes);
        Assert.Equal(40, response.Length);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("0.0.0.0")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:224.0.0.1")]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:0:127.0.0.1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd00::1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]
    [InlineData("ff02::1")]
    public async Task The_production_config_refuses_to_relay_to_a_reserved_peer_with_403(string address)
    {
        await using var policy = await PeerPolicy.AllocateAsync(Server, Ct);

        Assert.Equal("403", await policy.OutcomeAsync(IPAddress.Parse(address), Ct));
    }

    [Fact]
    public async Task Every_denied_range_refuses_its_first_middle_and_last_address()
    {
        var ranges = CoturnConfigFile.Load(CoturnConfigs.ProductionPath).DeniedRanges;
        await using var policy = await PeerPolicy.AllocateAsync(Server, Ct);

        var cases = ranges.SelectMany(r => new[] { r.First, PeerPolicy.Middle(r.First, r.Last), r.Last }).Select(a => (a, "403"));
        var mismatches = await policy.MismatchesAsync(cases, Ct);

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Fact]
    public async Task Public_peers_just_outside_the_denied_ranges_are_permitted()
    {
        await using var policy = await PeerPolicy.AllocateAsync(Server, Ct);

        var cases = ProductionCoturn.PublicPeers.Append(IPAddress.Parse("::ffff:11.0.0.1")).Select(a => (a, "200"));
        var mismatches = await policy.MismatchesAsync(cases, Ct);

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Theory]
    [InlineData("127.0.0.1", "403")]
    [InlineData("169.254.169.254", "403")]
    [InlineData("::ffff:127.0.0.1", "403")]
    [InlineData("fe80::1", "403")]
    [InlineData("11.0.0.1", "200")]
    [InlineData("2003::1", "200")]
    public async Task ChannelBind_applies_the_same_peer_policy_as_CreatePermission(string address, string expected)
    {
        var peer = IPAddress.Parse(address);
        await using var client = await PeerPolicy.AllocatedClientAsync(Server, peer.AddressFamily, Ct);

        var error = await client.ChannelBindAsync(new IPEndPoint(peer, 9), 0x4000, Ct);

        Assert.Equal(expected, error?.Code.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "200");
    }

    [Theory]
    [InlineData("11.0.0.1")]
    [InlineData("2003::1")]
    public async Task A_permitted_public_peer_receives_relayed_data_and_its_answer_comes_back(string address)
    {
        var peerAddress = IPAddress.Parse(address);
        using var peer = new Socket(peerAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(peerAddress, 0));
        var peerEndpoint = (IPEndPoint)peer.LocalEndPoint!;
        await using var client = await PeerPolicy.AllocatedClientAsync(Server, peerAddress.AddressFamily, Ct);
        Assert.Null(await client.CreatePermissionAsync(peerAddress, Ct));

        await client.SendAsync(peerEndpoint, Encoding.UTF8.GetBytes("hello through the relay"), Ct);
        var buffer = new byte[1500];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(5));
        var received = await peer.ReceiveFromAsync(buffer, new IPEndPoint(peerAddress.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), deadline.Token);
        Assert.Equal("hello through the relay", Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes));

        await peer.SendToAsync(Encoding.UTF8.GetBytes("hello back"), received.RemoteEndPoint, deadline.Token);
        var answer = await client.ReceiveDataAsync(deadline.Token);
        Assert.Equal(peerEndpoint, answer.Peer);
        Assert.Equal("hello back", Encoding.UTF8.GetString(answer.Data));
    }
}
