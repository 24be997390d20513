using Microsoft.Playwright;
using Parley.Network.Tests.Fixtures;
using Parley.Testing;
using Parley.Turn;
using static Microsoft.Playwright.Assertions;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// RelayCallTests: two browsers call each other through a real coturn on loopback with the
/// server's relay-only policy (<c>Parley:IceTransportPolicy=relay</c>), using the TURN credentials
/// Parley mints at join; and coturn refuses a tampered or an expired credential, which the
/// client shows on the peer's tile.
/// </summary>
public sealed class RelayCallTests(LoopbackCoturn coturn, Chromium chromium) : IClassFixture<LoopbackCoturn>, IClassFixture<Chromium>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoturnServer Coturn => coturn.Server;

    /// <summary>RelayOnly configures Parley with the loopback coturn, minting with <paramref name="secret"/>, relay-only for everyone.</summary>
    private static Dictionary<string, string?> RelayOnly(string secret) => new()
    {
        ["Parley:Turn:Urls:0"] = LoopbackCoturn.TurnUrl,
        ["Parley:Turn:Secret"] = secret,
        ["Parley:IceTransportPolicy"] = "relay",
    };

    [Fact]
    public async Task A_relay_only_call_goes_through_coturn_on_both_sides_with_media_both_ways_and_coturn_logs_both_allocations()
    {
        await using var server = await ParleyTestServer.StartAsync(RelayOnly(Coturn.Secret), Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync(NetworkCall.JoinTimeoutMs);
        await grace.JoinAsync(NetworkCall.JoinTimeoutMs);

        foreach (var (p, other) in new[] { (ada, grace), (grace, ada) })
        {
            var path = await IceStats.WaitForSelectedPathAsync(p, "from relay to relay",
                x => x.Local!.CandidateType == "relay" && x.Remote!.CandidateType == "relay", Ct);
            // The relayed addresses are coturn's: 127.0.0.1 and a port of its relay range.
            Assert.Equal("127.0.0.1", path.Local!.Address);
            Assert.InRange(path.Local.Port, LoopbackCoturn.MinRelayPort, LoopbackCoturn.MaxRelayPort);
            Assert.InRange(path.Remote!.Port, LoopbackCoturn.MinRelayPort, LoopbackCoturn.MaxRelayPort);
            await NetworkCall.WaitForMediaAsync(p, Ct);
            await Expect(p.TileOf(other.Name)).ToHaveAttributeAsync("data-connection", "connected");
        }

        // Each page allocated with the credential Parley minted for it; coturn logged both.
        foreach (var p in new[] { ada, grace })
        {
            var username = (await IceStats.TurnUsernamesAsync(p)).Single().Single();
            await Coturn.WaitForLogAsync(
                line => line.Contains($"user <{username}>", StringComparison.Ordinal) && line.Contains("ALLOCATE processed, success", StringComparison.Ordinal),
                TimeSpan.FromSeconds(5), Ct);
        }
    }

    [Fact]
    public Task Coturn_refuses_a_credential_minted_with_another_secret_with_401_and_each_tile_says_the_peer_cannot_be_reached() =>
        // Tampered: Parley mints with a secret coturn does not share.
        RefusedCallAsync(secret: "not-" + Coturn.Secret, expiredOverride: false);

    [Fact]
    public Task Coturn_refuses_an_expired_credential_with_401_and_each_tile_says_the_peer_cannot_be_reached() =>
        // Expired: Parley is right, but each page receives instead a credential signed with coturn's
        // secret that expired an hour ago.
        RefusedCallAsync(secret: Coturn.Secret, expiredOverride: true);

    private async Task RefusedCallAsync(string secret, bool expiredOverride)
    {
        string? Override()
        {
            if (!expiredOverride)
            {
                return null;
            }
            var expired = TurnCredentials.Mint(Coturn.Secret, PeerIds.New(), DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1));
            return Participant.TurnCredentialOverride(expired.Username, expired.Password);
        }

        await using var server = await ParleyTestServer.StartAsync(RelayOnly(secret), Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, room, "Ada", Override());
        await using var grace = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, room, "Grace", Override());
        await ada.JoinAsync(NetworkCall.JoinTimeoutMs);
        await grace.JoinAsync(NetworkCall.JoinTimeoutMs);

        foreach (var (p, other) in new[] { (ada, grace), (grace, ada) })
        {
            // Relay-only with a refused credential gathers nothing; after one ICE restart the tile gives up.
            var tile = p.TileOf(other.Name);
            await Expect(tile).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 30_000 });
            await Expect(tile.GetByRole(AriaRole.Status)).ToHaveTextAsync(
                $"Cannot reach {other.Name}: the server's relay could not be used, and relay-only mode allows no other way.");

            var username = (await IceStats.TurnUsernamesAsync(p)).Single().Single();
            // The 401 is for the credential's signature (tampered) or its expiry (expired), not both.
            var expiry = long.Parse(username[..username.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(expiry < DateTimeOffset.UtcNow.ToUnixTimeSeconds() == expiredOverride,
                $"{p.Name} was given {username}, which {(expiredOverride ? "has not expired" : "has expired")}.");
            await Coturn.WaitForLogAsync(
                line => line.Contains($"user <{username}>", StringComparison.Ordinal) && line.Contains("error 401", StringComparison.Ordinal),
                TimeSpan.FromSeconds(5), Ct);
            Assert.Null(Coturn.FindLog(line => line.Contains($"user <{username}>", StringComparison.Ordinal) && line.Contains("success", StringComparison.Ordinal)));
            var ice = await IceStats.ReadAsync(p);
            Assert.True(ice is [{ Local: [] }], $"{p.Name} gathered candidates with a refused credential: {string.Join(" | ", ice.Select(w => w.ToString()))}");
        }
    }
}
