using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// ConnectivityTests: fresh TURN credentials, relay-only mode, the pre-join connection check, and what
/// a tile says when ICE fails. No TURN server runs here: the configured ones answer nothing (UDP) or
/// refuse the connection (TCP), which is all these client behaviours need.
/// </summary>
public sealed class ConnectivityTests(Chromium chromium)
{
    private const string RelayOnlyChosen = "localStorage.setItem('parley.relayOnly', '1');";

    private readonly IBrowser _browser = chromium.Browser;

    /// <summary>Turn configures a TURN server with minted credentials of <paramref name="lifetime"/>.</summary>
    private static Dictionary<string, string?> Turn(string url, string lifetime, string policy = "all") => new()
    {
        ["Parley:Turn:Urls:0"] = url,
        ["Parley:Turn:Secret"] = "x",
        ["Parley:Turn:CredentialLifetime"] = lifetime,
        ["Parley:IceTransportPolicy"] = policy,
    };

    [Fact]
    public async Task Fresh_TURN_credentials_reach_every_connection_and_later_ones_with_the_policy_kept_and_the_call_undisturbed()
    {
        var ct = TestContext.Current.CancellationToken;
        // Refreshed every 2.4 s (80% of the lifetime).
        await using var server = await ParleyTestServer.StartAsync(Turn("turn:127.0.0.1:3478", "00:00:03"), ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForFlowAsync(ada, connections: 1, ct);

        foreach (var p in new[] { ada, grace })
        {
            await IceConfigs.WaitForAsync(p, c => c.Count == 1 && c[0].TurnUsername != c[0].InitialTurnUsername,
                "the connection's TURN credential was never replaced", ct);
        }
        var joinedWith = (await IceConfigs.ReadAsync(ada))[0].InitialTurnUsername;

        // A connection made after a refresh starts with the fresh credential, not the one from `joined`.
        await alan.JoinAsync();
        var configs = await IceConfigs.WaitForAsync(ada, c => c.Count == 2, "no connection to Alan", ct);
        Assert.True(IceConfig.Expiry(configs[1].InitialTurnUsername) > IceConfig.Expiry(joinedWith),
            $"Alan's connection was made with {configs[1].InitialTurnUsername}, no fresher than {joinedWith} from joined.");
        Assert.All(configs, c => Assert.Equal(("all", "all"), (c.InitialPolicy, c.Policy)));

        // Working connections take the new servers for their next restart, without restarting now.
        await MediaFlow.WaitForFlowAsync(ada, connections: 2, ct);
        Assert.Equal(0, await IceConfigs.RestartsAsync(ada));
        Assert.Equal(0, await IceConfigs.RestartsAsync(grace));
    }

    [Fact]
    public async Task Relay_only_mode_is_remembered_makes_every_connection_relay_only_and_says_calls_cannot_connect_without_a_relay()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        var toggle = ada.Page.GetByLabel("Relay-only mode");
        await Expect(toggle).Not.ToBeCheckedAsync();
        await Expect(toggle).ToBeEnabledAsync();
        await Expect(toggle).ToHaveAccessibleDescriptionAsync(
            "Hides your IP address from others by routing media through the server's relay; may add delay.");
        await Expect(ada.Page.Locator("#relay-notice")).ToBeHiddenAsync();

        await toggle.CheckAsync();
        await Expect(ada.Page.Locator("#relay-notice")).ToBeVisibleAsync();
        await Expect(ada.Page.Locator("#relay-notice")).ToContainTextAsync("no relay (TURN) server, so with relay-only mode on, calls cannot connect");
        await ada.Page.ReloadAsync();
        await Expect(ada.Page.GetByLabel("Relay-only mode")).ToBeCheckedAsync();
        await ada.JoinAsync();
        await grace.JoinAsync();

        await Expect(ada.Page.Locator("#meeting-notice")).ToBeVisibleAsync();
        await Expect(ada.Page.Locator("#meeting-notice")).ToContainTextAsync("Relay-only mode is on, but this server has no relay (TURN) server, so calls cannot connect.");
        await Expect(grace.Page.Locator("#meeting-notice")).ToBeHiddenAsync();
        var adas = await IceConfigs.WaitForAsync(ada, c => c.Count == 1, "no connection to Grace", ct);
        Assert.Equal("relay", adas[0].Policy);
        Assert.Equal("all", (await IceConfigs.ReadAsync(grace)).Single().Policy);
        // Relay-only without a relay finds no way out: the tile says so instead of "connecting" forever.
        var tile = ada.TileOf("Grace");
        await Expect(tile).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 10_000 });
        await Expect(tile.GetByRole(AriaRole.Status)).ToHaveTextAsync(
            "Cannot reach Grace: the server's relay could not be used, and relay-only mode allows no other way.");
        Assert.Empty(await CspViolationsAsync(ada));
    }

    [Fact]
    public async Task On_a_relay_only_server_whose_relay_cannot_be_used_the_toggle_is_locked_on_the_check_and_tiles_say_so_and_fresh_credentials_retry()
    {
        var ct = TestContext.Current.CancellationToken;
        // Nothing listens on 3478: TURN over TCP is refused at once. Refreshed every 4.8 s.
        await using var server = await ParleyTestServer.StartAsync(Turn("turn:127.0.0.1:3478?transport=tcp", "00:00:06", "relay"), ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");

        var toggle = ada.Page.GetByLabel("Relay-only mode");
        await Expect(toggle).ToBeCheckedAsync();
        await Expect(toggle).ToBeDisabledAsync();
        await Expect(ada.Page.Locator("#relay-help")).ToContainTextAsync("This server always does this.");
        await Expect(ada.Page.Locator("#relay-notice")).ToBeHiddenAsync();

        await ada.Button("Check connection").ClickAsync();
        await Expect(ada.Page.Locator("#check-relay")).ToHaveAttributeAsync("data-status", "unavailable");
        await Expect(ada.Page.Locator("#check-relay .path-result")).ToHaveTextAsync("not available");
        await Expect(ada.Page.Locator("#check-direct .path-result")).ToHaveTextAsync("available");
        await Expect(ada.Page.Locator("#check-status")).ToHaveTextAsync(
            "Relay-only mode is on but the relay cannot be used from here, so calls cannot connect.");

        await ada.JoinAsync();
        await grace.JoinAsync();
        var tile = ada.TileOf("Grace");
        await Expect(tile).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 10_000 });
        await Expect(tile.GetByRole(AriaRole.Status)).ToContainTextAsync("the server's relay could not be used");

        // Having given up, the connection restarts when fresh credentials arrive: they may be what was wrong.
        var restarts = await IceConfigs.RestartsAsync(ada);
        await IceConfigs.WaitForRestartsAsync(ada, restarts, ct);
        var configs = await IceConfigs.ReadAsync(ada);
        Assert.All(configs, c => Assert.Equal(("relay", "relay"), (c.InitialPolicy, c.Policy)));
        Assert.All(configs, c => Assert.NotEqual(c.InitialTurnUsername, c.TurnUsername));
        Assert.Empty(await CspViolationsAsync(ada));
    }

    [Fact]
    public async Task The_connection_check_reports_each_path_in_plain_words_and_says_when_it_cannot_run()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, TestRooms.New(), "Ada");
        var check = ada.Button("Check connection");

        await ada.Page.RouteAsync("**/api/ice-servers", route => route.AbortAsync());
        await check.ClickAsync();
        await Expect(ada.Page.Locator("#check-status")).ToContainTextAsync("Couldn't run the check");
        await Expect(ada.Page.Locator("#check-results")).ToBeHiddenAsync();
        await Expect(check).ToBeEnabledAsync();

        await ada.Page.UnrouteAllAsync();
        await check.ClickAsync();
        var results = ada.Page.GetByRole(AriaRole.List, new() { Name = "Connection check results" });
        await Expect(results).ToBeVisibleAsync();
        await Expect(results.Locator("#check-direct")).ToHaveTextAsync("Direct (your device's own address) available");
        await Expect(results.Locator("#check-stun")).ToHaveTextAsync("Through your router (STUN) not configured on this server");
        await Expect(results.Locator("#check-relay")).ToHaveTextAsync("Through the server's relay (TURN) not configured on this server");
        await Expect(ada.Page.Locator("#check-status")).ToHaveTextAsync(
            "Calls can connect only with people whose network reaches yours directly, such as the same network.");
        // The check's own connection is closed again.
        Assert.Empty(await IceConfigs.ReadAsync(ada));
        Assert.Empty(await CspViolationsAsync(ada));
    }

    [Fact]
    public async Task A_peer_that_cannot_be_reached_is_retried_from_both_sides_then_marked_unreachable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        // Signaling works, but neither side's connectivity checks reach the other.
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.BreakIce);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.BreakIce);
        await ada.JoinAsync();
        await grace.JoinAsync();

        // Chrome gives up on unanswered checks after 15 s; the restart takes as long again.
        var tile = ada.TileOf("Grace");
        await Expect(tile).ToHaveAttributeAsync("data-connection", "retrying", new() { Timeout = 30_000 });
        // It never worked, so nothing was lost: the first attempt is being made again.
        await Expect(tile.GetByRole(AriaRole.Status)).ToHaveTextAsync("Still trying to reach Grace…");
        // Usually both sides give up together; when their failures fall a restart apart, the one
        // that gave up first retries once more with the other's restart, so wait for both.
        await Expect(grace.TileOf("Ada")).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 60_000 });
        await Expect(tile).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 20_000 });
        await Expect(tile.GetByRole(AriaRole.Status)).ToHaveTextAsync(
            "Cannot reach Grace. A firewall or the network between you may be blocking the call.");
        // Each side restarted ICE after its own failure, the polite one too.
        Assert.Equal(1, await IceConfigs.RestartsAsync(ada));
        Assert.Equal(1, await IceConfigs.RestartsAsync(grace));
    }

    [Fact]
    public async Task A_first_attempt_that_never_gets_a_candidate_is_bounded_retried_once_then_given_up_in_plain_words()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        // Neither side ever gets a candidate of the other: ICE has nothing to check, so the
        // browser never calls the attempt failed by itself.
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.NoCandidates);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.NoCandidates);
        await ada.JoinAsync();
        await grace.JoinAsync();

        var tile = ada.TileOf("Grace");
        var status = tile.GetByRole(AriaRole.Status);
        await Expect(status).ToHaveTextAsync("Still trying to reach Grace…", new() { Timeout = 15_000 });
        // Bounded: after 20 s the attempt counts as failed and is made again (an ICE restart) ...
        await Expect(tile).ToHaveAttributeAsync("data-connection", "retrying", new() { Timeout = 30_000 });
        await Expect(status).ToHaveTextAsync("Still trying to reach Grace…");
        // ... and when that one gets nowhere either (30 s), the page says so in plain words.
        await Expect(tile).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 45_000 });
        // Either plain-words reason: under load the restart's gathering has been seen to end empty
        // ("this device found no network path"), which is a give-up too.
        await Expect(status).ToContainTextAsync("Cannot reach Grace");
        await Expect(grace.TileOf("Ada")).ToHaveAttributeAsync("data-connection", "failed", new() { Timeout = 20_000 });
        var restarts = await IceConfigs.RestartsAsync(ada) + await IceConfigs.RestartsAsync(grace);
        Assert.True(restarts is >= 1 and <= 2, $"{restarts} ICE restarts between the two pages; expected one from each side at most");
    }

    private static Task<string[]> CspViolationsAsync(Participant p) =>
        p.Page.EvaluateAsync<string[]>("() => window.__parleyProbe.cspViolations()");
}
