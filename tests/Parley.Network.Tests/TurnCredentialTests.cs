using System.Net;
using System.Net.Sockets;
using Parley.Network.Tests.Fixtures;
using Parley.Network.Tests.Turn;
using Parley.Turn;

namespace Parley.Network.Tests;

/// <summary>
/// TurnCredentialTests show that coturn accepts exactly the credentials Parley mints
/// (<see cref="TurnCredentials.Mint"/>): a fresh one allocates a relay, a tampered or expired one
/// gets 401.
/// </summary>
[Collection(MinimalCoturnTests.Name)]
public sealed class TurnCredentialTests(MinimalCoturn coturn)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoturnServer Server => coturn.Server;

    [Theory]
    [InlineData(ProtocolType.Udp)]
    [InlineData(ProtocolType.Tcp)]
    public async Task A_credential_minted_by_Parley_allocates_a_relay_and_coturn_logs_the_allocation(ProtocolType protocol)
    {
        var credential = TurnCredentials.Mint(Server.Secret, PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await using var client = await TurnClient.ConnectAsync(Server.Endpoint, protocol, Ct);

        var allocation = await client.AllocateAsync(credential.Username, credential.Password, AddressFamily.InterNetwork, Ct);

        Assert.True(allocation.Succeeded, $"Allocate over {protocol} failed: {allocation.Error}");
        Assert.Equal("parley-test", client.Realm);
        Assert.Equal(IPAddress.Loopback, allocation.Relayed!.Address);
        Assert.InRange(allocation.Relayed.Port, MinimalCoturn.MinRelayPort, MinimalCoturn.MaxRelayPort);
        Assert.Equal(IPAddress.Loopback, allocation.Mapped!.Address);
        Assert.InRange(allocation.Lifetime, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        await Server.WaitForLogAsync(
            line => line.Contains(credential.Username, StringComparison.Ordinal) && line.Contains("ALLOCATE processed, success", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task A_minted_credential_allocates_an_IPv6_relay_too()
    {
        var credential = TurnCredentials.Mint(Server.Secret, PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await using var client = await TurnClient.ConnectAsync(Server.EndpointV6, ProtocolType.Udp, Ct);

        var allocation = await client.AllocateAsync(credential.Username, credential.Password, AddressFamily.InterNetworkV6, Ct);

        Assert.True(allocation.Succeeded, $"Allocate failed: {allocation.Error}");
        Assert.Equal(IPAddress.IPv6Loopback, allocation.Relayed!.Address);
    }

    [Fact]
    public async Task A_tampered_password_is_refused_with_401()
    {
        var credential = TurnCredentials.Mint(Server.Secret, PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        var tampered = (credential.Password[0] == 'A' ? "B" : "A") + credential.Password[1..];
        await using var client = await TurnClient.ConnectAsync(Server.Endpoint, ProtocolType.Udp, Ct);

        var allocation = await client.AllocateAsync(credential.Username, tampered, AddressFamily.InterNetwork, Ct);

        Assert.Equal(401, allocation.Error?.Code);
        Assert.Null(allocation.Relayed);
    }

    [Fact]
    public async Task A_credential_minted_with_another_secret_is_refused_with_401()
    {
        var credential = TurnCredentials.Mint("not-the-shared-secret", PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await using var client = await TurnClient.ConnectAsync(Server.Endpoint, ProtocolType.Udp, Ct);

        var allocation = await client.AllocateAsync(credential.Username, credential.Password, AddressFamily.InterNetwork, Ct);

        Assert.Equal(401, allocation.Error?.Code);
    }

    [Fact]
    public async Task An_expired_credential_is_refused_with_401_although_its_password_is_right()
    {
        // Minted two hours ago with a one-hour lifetime: the expiry in the username has passed.
        var credential = TurnCredentials.Mint(Server.Secret, PeerIds.New(), DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1));
        await using var client = await TurnClient.ConnectAsync(Server.Endpoint, ProtocolType.Udp, Ct);

        var allocation = await client.AllocateAsync(credential.Username, credential.Password, AddressFamily.InterNetwork, Ct);

        Assert.Equal(401, allocation.Error?.Code);
        Assert.Null(allocation.Relayed);
    }

    [Fact]
    public async Task The_shared_secret_never_appears_in_coturn_output()
    {
        var credential = TurnCredentials.Mint(Server.Secret, PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        await using (var client = await TurnClient.ConnectAsync(Server.Endpoint, ProtocolType.Udp, Ct))
        {
            Assert.True((await client.AllocateAsync(credential.Username, credential.Password, AddressFamily.InterNetwork, Ct)).Succeeded);
        }

        Assert.NotEmpty(Server.Log);
        Assert.DoesNotContain(Server.Log, line => line.Contains(Server.Secret, StringComparison.Ordinal));
    }
}
