using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Parley.Network.Tests.Browser;
using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Network.Tests.Nat;

/// <summary>
/// NatTraversalTests prove the STUN-versus-TURN story on a real topology (<see cref="NatTopology"/>):
/// Ada and Grace each run Chromium behind their own symmetric-like NAT, Parley and coturn (the
/// production config) are on the public address. With STUN alone the call cannot connect (while
/// behind full-cone NATs, the control, it connects directly); with Parley's TURN credentials it
/// connects through the relay; and a client whose firewall drops all UDP still connects, over
/// TURN/TCP. Each test builds its own lab and tears it down.
/// </summary>
public sealed class NatTraversalTests(Chromium chromium) : IClassFixture<Chromium>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task Behind_two_symmetric_NATs_with_only_STUN_the_call_cannot_connect() =>
        CallAsync("stun-only", NatKind.Symmetric, _ => new() { ["Parley:IceServers:0:Urls:0"] = NatLab.StunUrl }, blockGraceUdp: false, async (lab, ada, grace) =>
        {
            (Participant P, Participant Other, NatSite Site, NatSite OtherSite)[] sides =
                [(ada, grace, lab.Topology.Ada, lab.Topology.Grace), (grace, ada, lab.Topology.Grace, lab.Topology.Ada)];
            // The client's own verdict, within a bound: still trying after 10 s (room.js), or given up on.
            foreach (var (p, other, _, _) in sides)
            {
                await Expect(p.TileOf(other.Name).GetByRole(AriaRole.Status)).ToHaveTextAsync(
                    new Regex($"^(Still trying to reach {other.Name}…|Connection lost — retrying…|Cannot reach {other.Name}.*)$"),
                    new() { Timeout = 20_000 });
            }

            foreach (var (p, other, site, otherSite) in sides)
            {
                var work = (await IceStats.ReadAsync(p)).Single();
                var seen = $"{p.Name}: {work}";
                TestContext.Current.TestOutputHelper?.WriteLine($"{seen}; tile: {await p.TileOf(other.Name).GetByRole(AriaRole.Status).TextContentAsync()}");
                Assert.True(work.State != "connected" && work.Pairs.All(pair => pair.State != "succeeded"), $"Connected without TURN. {seen}");
                // STUN worked through the NAT: the page learned its router's public address...
                Assert.True(work.Local.Any(c => c.CandidateType == "srflx" && c.Address == site.WanAddress.ToString()), $"No server-reflexive candidate. {seen}");
                // ...and checked the other side's, whose NAT dropped every check: its mapping was made for coturn alone.
                Assert.True(work.Pairs.Any(pair => pair.Remote is { CandidateType: "srflx" } remote && remote.Address == otherSite.WanAddress.ToString()
                    && pair.RequestsSent > 0 && pair.ResponsesReceived == 0), $"No unanswered checks to {otherSite.WanAddress}. {seen}");
                Assert.True(work.Local.All(c => c.CandidateType != "relay"), $"A relay candidate without TURN. {seen}");
            }
        });

    [Fact]
    public Task Behind_two_full_cone_NATs_STUN_alone_connects_the_call_directly_through_both_NATs() =>
        // The control for the test above: the same topology and settings, routers that keep ports.
        CallAsync("stun-cone", NatKind.FullCone, _ => new() { ["Parley:IceServers:0:Urls:0"] = NatLab.StunUrl }, blockGraceUdp: false, async (lab, ada, grace) =>
        {
            // Each side reaches the other at its NAT's public address: direct, through both NATs.
            foreach (var (p, otherSite) in new[] { (ada, lab.Topology.Grace), (grace, lab.Topology.Ada) })
            {
                await IceStats.WaitForSelectedPathAsync(p, $"direct to {otherSite.WanAddress}",
                    path => path.Remote!.Address == otherSite.WanAddress.ToString() && path.Local!.CandidateType != "relay", Ct);
            }
            await NetworkCall.WaitForMediaAsync(ada, Ct);
            await NetworkCall.WaitForMediaAsync(grace, Ct);
        });

    [Fact]
    public Task Behind_two_symmetric_NATs_with_TURN_the_call_connects_through_the_relay_with_media_both_ways_and_the_relay_refuses_the_home_networks() =>
        CallAsync("turn", NatKind.Symmetric, coturn => new()
        {
            ["Parley:IceServers:0:Urls:0"] = NatLab.StunUrl,
            ["Parley:Turn:Urls:0"] = NatLab.TurnUdpUrl,
            ["Parley:Turn:Secret"] = coturn.Secret,
        }, blockGraceUdp: false, async (lab, ada, grace) =>
        {
            // It cannot go direct: on each side one end of the selected pair is a coturn relay
            // address, its own allocation (local relay) or the other side's (reached from the NAT's
            // address). Only coturn is on the public address, so the address is the proof.
            foreach (var p in new[] { ada, grace })
            {
                await IceStats.WaitForSelectedPathAsync(p, "through coturn's relay",
                    path => IsCoturnRelay(path.Local!) || IsCoturnRelay(path.Remote!), Ct);
            }
            await NetworkCall.WaitForMediaAsync(ada, Ct);
            await NetworkCall.WaitForMediaAsync(grace, Ct);
            await ExpectAllocatedAsync(lab, ada, grace);
            // The production deny list at work in a real call: a relay that Chromium paired with the
            // other side's candidates was refused the other's home network. Chromium pairs a relay
            // only while the call is still connecting: one whose allocation comes back after the
            // call connected (a loaded machine) asks for no permission at all, so the check covers
            // each relay that asked for any, and at least one did (the selected pair runs through
            // it). ProductionPeerTests refuses every reserved range with no browser in the way.
            var checkedRelays = 0;
            foreach (var (p, other) in new[] { (ada, lab.Topology.Grace), (grace, lab.Topology.Ada) })
            {
                var username = (await IceStats.TurnUsernamesAsync(p)).Single().Single();
                bool Mine(string line) => line.Contains($"user <{username}>", StringComparison.Ordinal);
                if (lab.Coturn.FindLog(line => Mine(line) && line.Contains("CREATE_PERMISSION processed", StringComparison.Ordinal)) is null)
                {
                    continue;
                }
                checkedRelays++;
                await lab.Coturn.WaitForLogAsync(
                    line => Mine(line) && line.Contains("CREATE_PERMISSION processed, error 403: Forbidden IP", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(5), Ct);
                await lab.Coturn.WaitForLogAsync(
                    line => line.Contains($"A peer IP {other.LanAddress} denied in the range: 10.0.0.0-10.255.255.255", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(5), Ct);
            }
            Assert.True(checkedRelays > 0, "neither page's relay asked coturn for a permission, though the call runs through a relay");
        });

    [Fact]
    public Task A_client_whose_firewall_drops_all_UDP_connects_over_TURN_TCP_with_media_both_ways() =>
        CallAsync("udp-blocked", NatKind.Symmetric, coturn => new()
        {
            ["Parley:IceServers:0:Urls:0"] = NatLab.StunUrl,
            ["Parley:Turn:Urls:0"] = NatLab.TurnUdpUrl,
            ["Parley:Turn:Urls:1"] = NatLab.TurnTcpUrl,
            ["Parley:Turn:Secret"] = coturn.Secret,
        }, blockGraceUdp: true, async (lab, ada, grace) =>
        {
            await IceStats.WaitForSelectedPathAsync(grace, "from her relay, reached over TCP",
                path => path.Local is { CandidateType: "relay", RelayProtocol: "tcp" } local && IsCoturnRelay(local), Ct);
            await IceStats.WaitForSelectedPathAsync(ada, "through coturn's relay",
                path => IsCoturnRelay(path.Local!) || IsCoturnRelay(path.Remote!), Ct);
            await NetworkCall.WaitForMediaAsync(ada, Ct);
            await NetworkCall.WaitForMediaAsync(grace, Ct);
            // Grace's UDP really is blocked: STUN and TURN over UDP got her nothing.
            var graceWork = (await IceStats.ReadAsync(grace)).Single();
            Assert.True(graceWork.Local.All(c => c.CandidateType != "srflx" && (c.CandidateType != "relay" || c.RelayProtocol == "tcp")),
                $"Grace gathered through UDP: {graceWork}");
            await ExpectAllocatedAsync(lab, ada, grace);
        });

    /// <summary>
    /// CallAsync builds a <see cref="NatLab"/>, starts Parley with the settings made for its coturn,
    /// opens a Chromium in each client namespace, lets Ada and then Grace join one room and runs
    /// <paramref name="call"/>; everything is torn down afterwards, whatever happened.
    /// </summary>
    private async Task CallAsync(
        string name,
        NatKind kind,
        Func<Fixtures.CoturnServer, Dictionary<string, string?>> settings,
        bool blockGraceUdp,
        Func<NatLab, Participant, Participant, Task> call)
    {
        await using var lab = await NatLab.StartAsync(name, kind, Ct);
        if (blockGraceUdp)
        {
            await NatTopology.BlockUdpAsync(lab.Topology.Grace, Ct);
        }
        var parley = await lab.StartParleyAsync(settings(lab.Coturn), Ct);
        var adaBrowser = await lab.LaunchBrowserAsync(chromium, lab.Topology.Ada, Ct);
        var graceBrowser = await lab.LaunchBrowserAsync(chromium, lab.Topology.Grace, Ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(adaBrowser, parley.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(graceBrowser, parley.BaseUri, room, "Grace");
        await ada.JoinAsync(NetworkCall.JoinTimeoutMs);
        await grace.JoinAsync(NetworkCall.JoinTimeoutMs);
        await call(lab, ada, grace);
    }

    /// <summary>IsCoturnRelay is true for a candidate on coturn's relay address and port range.</summary>
    private static bool IsCoturnRelay(Candidate c) =>
        c.Address == NatLab.PublicAddress.ToString() && c.Port is >= NatLab.MinRelayPort and <= NatLab.MaxRelayPort;

    /// <summary>ExpectAllocatedAsync checks coturn's log for a successful allocation with each page's minted username.</summary>
    private static async Task ExpectAllocatedAsync(NatLab lab, params Participant[] participants)
    {
        foreach (var p in participants)
        {
            var username = (await IceStats.TurnUsernamesAsync(p)).Single().Single();
            await lab.Coturn.WaitForLogAsync(
                line => line.Contains($"user <{username}>", StringComparison.Ordinal) && line.Contains("ALLOCATE processed, success", StringComparison.Ordinal),
                TimeSpan.FromSeconds(5), Ct);
        }
    }
}
