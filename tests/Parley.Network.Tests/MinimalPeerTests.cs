using System.Net;
using System.Net.Sockets;
using Parley.Network.Tests.Fixtures;
using Parley.Network.Tests.Turn;

namespace Parley.Network.Tests;

/// <summary>
/// MinimalPeerTests show what coturn's built-in checks and a deny range written only in IPv4 form
/// let through (<see cref="CoturnConfigs.Minimal"/>): the reasons the production config lists
/// every range, and lists each IPv4 range again IPv4-mapped. They assert what the installed
/// coturn does; docs/security.md records it for 4.6.1.
/// </summary>
[Collection(MinimalCoturnTests.Name)]
public sealed class MinimalPeerTests(MinimalCoturn coturn)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // CVE-2026-27624, fixed in coturn 4.9.0: before it, the loopback and zero-address checks and
    // the deny-list match ignore IPv4-mapped IPv6 peers.
    private static readonly Version MappedFormsFixed = new(4, 9, 0);

    // RefusedAsConfigured: the built-in checks, and the one IPv4 deny range in its own form.
    private static readonly string[] RefusedAsConfigured = ["127.0.0.1", "::1", "0.0.0.0", "::", "10.0.0.1"];

    private static readonly string[] MappedForms = ["::ffff:127.0.0.1", "::ffff:0.0.0.0", "::ffff:10.0.0.1"];

    private static readonly string[] NotDeniedByDefault =
        ["169.254.169.254", "192.168.1.1", "172.16.0.1", "100.64.0.1", "fe80::1", "fc00::1", "64:ff9b::7f00:1", "2002:7f00:1::"];

    [Fact]
    public async Task Without_the_amplification_guards_a_Binding_response_is_over_three_times_its_request()
    {
        await using var client = await TurnClient.ConnectAsync(coturn.Server.Endpoint, ProtocolType.Udp, Ct);

        var response = await client.BindingAsync(Ct);

        // MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS and SOFTWARE come on top of what the
        // production config sends (ProductionPeerTests): 28 bytes in, about 100 out.
        Assert.Contains(StunAttributeType.MappedAddress, response.AttributeTypes);
        Assert.Contains(StunAttributeType.Software, response.AttributeTypes);
        Assert.True(response.Length > 3 * 28, $"The Binding response is {response.Length} bytes.");
    }

    [Fact]
    public async Task Built_in_checks_refuse_loopback_and_unspecified_peers_and_the_IPv4_deny_range_its_own_form()
    {
        await using var policy = await PeerPolicy.AllocateAsync(coturn.Server, Ct);

        var mismatches = await policy.MismatchesAsync(
            RefusedAsConfigured.Select(a => (IPAddress.Parse(a), "403")), Ct);

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Fact]
    public async Task Coturn_before_4_9_lets_IPv4_mapped_loopback_zero_and_denied_peers_through()
    {
        var expected = coturn.Server.Version < MappedFormsFixed ? "200" : "403";
        await using var policy = await PeerPolicy.AllocateAsync(coturn.Server, Ct);

        var mismatches = await policy.MismatchesAsync(
            MappedForms.Select(a => (IPAddress.Parse(a), expected)), Ct);

        Assert.True(mismatches.Count == 0, $"coturn {coturn.Server.Version}:\n{string.Join('\n', mismatches)}");
    }

    [Fact]
    public async Task Without_a_deny_list_coturn_relays_to_private_link_local_and_metadata_addresses()
    {
        await using var policy = await PeerPolicy.AllocateAsync(coturn.Server, Ct);

        var mismatches = await policy.MismatchesAsync(
            NotDeniedByDefault.Select(a => (IPAddress.Parse(a), "200")), Ct);

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }
}
