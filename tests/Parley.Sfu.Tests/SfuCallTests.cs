using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Sfu.Tests;

/// <summary>SfuCall is one SFU test's world: a Janus of its own and Parley pointed at it.</summary>
public sealed class SfuCall : IAsyncDisposable
{
    private readonly List<Participant> _people = [];

    private SfuCall(JanusServer janus, ParleyTestServer parley)
    {
        Janus = janus;
        Parley = parley;
    }

    public JanusServer Janus { get; }

    public ParleyTestServer Parley { get; }

    public string Room { get; } = TestRooms.New();

    public static async Task<SfuCall> StartAsync(string name, int meshMax, CancellationToken cancellationToken, int meshCap = 6,
        IReadOnlyDictionary<string, string?>? extra = null)
    {
        var janus = await JanusServer.StartAsync(name, cancellationToken);
        try
        {
            var settings = new Dictionary<string, string?>(janus.ParleySettings)
            {
                ["Parley:Sfu:MeshMax"] = meshMax.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Parley:MaxParticipants"] = meshCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }
            var parley = await ParleyTestServer.StartAsync(settings, cancellationToken);
            var call = new SfuCall(janus, parley);
            await call.WaitForJanusAsync(cancellationToken);
            return call;
        }
        catch
        {
            await janus.DisposeAsync();
            throw;
        }
    }

    /// <summary>WaitForJanusAsync waits until Parley has a Janus session (it connects in the background).</summary>
    public async Task WaitForJanusAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Parley.Logs.Lines.Any(l => l.Contains("Janus is up", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Parley did not connect to Janus:\n" + string.Join('\n', Parley.Logs.Lines.TakeLast(20)));
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>JoinAsync opens the meeting page as <paramref name="name"/> and joins.</summary>
    public async Task<Participant> JoinAsync(IBrowser browser, string name, string? initScript = null, bool smallCamera = true)
    {
        var p = await OpenAsync(browser, name, initScript, smallCamera);
        await p.JoinAsync();
        return p;
    }

    /// <summary>OpenAsync opens the meeting page as <paramref name="name"/>, at the pre-join step, running <paramref name="initScript"/> first.</summary>
    public async Task<Participant> OpenAsync(IBrowser browser, string name, string? initScript = null, bool smallCamera = true)
    {
        // Small fake cameras: seven pages encode and decode on two cores.
        var script = string.Concat(smallCamera ? Participant.SmallCamera : "", "\n", initScript ?? "");
        var p = await Participant.OpenRoomAsync(browser, Parley.BaseUri, Room, name, script);
        _people.Add(p);
        return p;
    }

    /// <summary>Mode is the room's mode as the page shows it (<c>data-mode</c> of the meeting).</summary>
    public static ILocatorAssertions ExpectMode(Participant p) => Expect(p.Page.Locator("#meeting"));

    /// <summary>WaitForConnectionsAsync waits until every page has exactly <paramref name="count"/> open peer connections (a switch closes the old ones when it is over).</summary>
    public static async Task WaitForConnectionsAsync(IReadOnlyList<Participant> people, int count, CancellationToken cancellationToken)
    {
        foreach (var p in people)
        {
            // A switch may take up to Parley:Sfu:SwitchTimeout (30 s) before the old connections close.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await TileFlow.OpenConnectionsAsync(p) != count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{p.Name} still has {await TileFlow.OpenConnectionsAsync(p)} connections, not {count}, after the switch.");
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>WaitForEveryoneAsync waits until every page plays every other page's media, each over at most <paramref name="maxConnections"/> connections.</summary>
    public static async Task WaitForEveryoneAsync(IReadOnlyList<Participant> people, CancellationToken cancellationToken, int? maxConnections = null, TimeSpan? timeout = null)
    {
        foreach (var p in people)
        {
            await TileFlow.WaitForAllAsync(p, [.. people.Where(o => o != p).Select(o => o.Name)], cancellationToken, timeout);
            if (maxConnections is { } max)
            {
                Assert.InRange(await TileFlow.OpenConnectionsAsync(p), 1, max);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _people)
        {
            await p.DisposeAsync();
        }
        var output = TestContext.Current.TestOutputHelper;
        foreach (var line in Parley.Logs.Lines.Where(l => l.Contains("Parley.Sfu", StringComparison.Ordinal) || l.Contains("Janus", StringComparison.Ordinal) || l.Contains("rejected", StringComparison.Ordinal) || l.Contains("Signaling[4]", StringComparison.Ordinal)))
        {
            output?.WriteLine($"[parley] {line}");
        }
        await Parley.DisposeAsync();
        await Janus.DisposeAsync();
    }
}

/// <summary>SfuCallTests: calls through the media server, in real Chromium pages, with Janus in its own namespace.</summary>
public sealed class SfuCallTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // SevenPlay bounds, per page, the wait for a seven-party call to play everyone (see its use).
    private static readonly TimeSpan SevenPlay = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Two_participants_past_MeshMax_see_and_hear_each_other_through_the_media_server()
    {
        await using var call = await SfuCall.StartAsync("sfu-two", meshMax: 1, Ct);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");

        await Expect(ada.Page.Locator("#meeting")).ToHaveAttributeAsync("data-mode", "sfu");
        await Expect(grace.Page.Locator("#meeting")).ToHaveAttributeAsync("data-mode", "sfu");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        await TileFlow.WaitForAllAsync(grace, ["Ada"], Ct);
        Assert.Equal(2, await TileFlow.OpenConnectionsAsync(ada));
        Assert.Equal(2, await TileFlow.OpenConnectionsAsync(grace));
    }

    [Fact]
    public async Task The_fifth_join_moves_the_room_to_the_media_server_and_a_seven_party_call_plays_everyone_on_every_page()
    {
        await using var call = await SfuCall.StartAsync("sfu-seven", meshMax: 4, Ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Step(string what) => TestContext.Current.TestOutputHelper?.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");
        // All seven pages load first: on two cores, a page loading beside six in a call takes
        // tens of seconds, and page loading is not what this test is about.
        var pages = new List<Participant>();
        foreach (var name in new[] { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances" })
        {
            pages.Add(await call.OpenAsync(_browser, name));
        }
        Step("seven pages open");
        var people = new List<Participant>();
        foreach (var p in pages[..4])
        {
            await p.JoinAsync();
            people.Add(p);
        }
        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "mesh");
        }
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 3);

        Step("a mesh of four plays");
        await pages[4].JoinAsync();
        people.Add(pages[4]);
        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu");
        }
        // The switch is made before it breaks: the mesh connections close when it is over.
        await SfuCall.WaitForConnectionsAsync(people, 2, Ct);
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2);

        Step("five in the SFU play");
        foreach (var p in pages[5..])
        {
            await p.JoinAsync();
            people.Add(p);
        }
        // Seven: each page decodes the video and receives the audio of all six others, over two
        // connections (publish and subscribe), where a mesh would need six. Seven pages on two
        // cores decode ~7 fps a tile, and the last join reached every page after 23-41 s in
        // docs/benchmarks.md, so each page gets up to two minutes (a lost stream still fails).
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2, timeout: SevenPlay);

        Step("seven in the SFU play");
        // Janus dies: seven is too many for a mesh, so every page says so and waits...
        await call.Janus.KillAsync(Ct);
        foreach (var p in people)
        {
            await Expect(p.Page.Locator("#media-status")).ToContainTextAsync("media server is unavailable", new() { Timeout = 15_000 });
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu");
        }
        Step("every page says the media server is unavailable");
        // ...and when it is back, Parley reconnects, rebuilds the room and everyone publishes again.
        await call.Janus.StartAgainAsync(Ct);
        foreach (var p in people)
        {
            await Expect(p.Page.Locator("#media-status")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        }
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2, timeout: SevenPlay);
        Step("seven play again after Janus restarted");
    }

    [Fact]
    public async Task When_Janus_dies_a_room_small_enough_for_a_mesh_goes_on_peer_to_peer_with_media()
    {
        await using var call = await SfuCall.StartAsync("sfu-fallback", meshMax: 2, Ct);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");
        var alan = await call.JoinAsync(_browser, "Alan");
        Participant[] people = [ada, grace, alan];
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2);

        await call.Janus.KillAsync(Ct);

        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "mesh", new() { Timeout = 15_000 });
            await Expect(p.Page.Locator("#toast")).ToContainTextAsync("continues peer to peer");
        }
        // A mesh of three: two connections per page, every tile playing again.
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2);
        // While Janus is down the room may not grow past MeshMax (it would need the media server).
        await using var dora = await Participant.OpenRoomAsync(_browser, call.Parley.BaseUri, call.Room, "Dora", Participant.SmallCamera);
        await dora.ClickJoinAsync();
        await Expect(dora.Page.Locator("#join-error")).ToContainTextAsync("media server");
    }

    [Fact]
    public async Task A_leave_removes_the_tile_within_two_seconds_and_the_others_keep_their_media()
    {
        await using var call = await SfuCall.StartAsync("sfu-leave", meshMax: 1, Ct);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");
        var alan = await call.JoinAsync(_browser, "Alan");
        await SfuCall.WaitForEveryoneAsync([ada, grace, alan], Ct, maxConnections: 2);

        await grace.Button("Leave meeting").ClickAsync();

        await Expect(ada.TileOf("Grace")).ToHaveCountAsync(0, new() { Timeout = 2_000 });
        await Expect(alan.TileOf("Grace")).ToHaveCountAsync(0, new() { Timeout = 2_000 });
        await TileFlow.WaitForAllAsync(ada, ["Alan"], Ct);
        await TileFlow.WaitForAllAsync(alan, ["Ada"], Ct);
    }

    [Fact]
    public async Task Camera_off_and_mute_show_on_the_others_and_need_no_renegotiation()
    {
        await using var call = await SfuCall.StartAsync("sfu-camera", meshMax: 1, Ct);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        var tile = ada.TileOf("Grace");
        using var http = new HttpClient { BaseAddress = call.Parley.BaseUri };
        var offersBefore = await SfuOffersAsync(http);

        await grace.Button("Camera").ClickAsync();
        await Expect(tile).ToHaveAttributeAsync("data-video", "off");
        await Expect(tile.GetByRole(AriaRole.Img, new() { Name = "camera off" })).ToBeVisibleAsync();
        await TileFlow.WaitForVideoStalledAsync(ada, "Grace", Ct);
        await grace.Button("Microphone").ClickAsync();
        await Expect(tile).ToHaveAttributeAsync("data-audio", "off");

        await grace.Button("Camera").ClickAsync();
        await grace.Button("Microphone").ClickAsync();
        await Expect(tile).ToHaveAttributeAsync("data-video", "on");
        await Expect(tile).ToHaveAttributeAsync("data-audio", "on");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        Assert.Equal(2, await TileFlow.OpenConnectionsAsync(grace));
        // Camera and microphone went off and on with replaceTrack: no client offered again.
        Assert.Equal(offersBefore, await SfuOffersAsync(http));
    }

    /// <summary>SfuOffersAsync is the number of publish offers Parley has passed to Janus, from /metrics.</summary>
    private static async Task<int> SfuOffersAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync("/metrics", Ct);
        var match = System.Text.RegularExpressions.Regex.Match(metrics, "parley_messages_relayed_total\\{[^}]*type=\"sfu-offer\"[^}]*\\} (\\d+)");
        Assert.True(match.Success, "no sfu-offer counter in /metrics");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_participant_without_camera_or_microphone_receives_everyone_and_is_seen_as_present()
    {
        await using var call = await SfuCall.StartAsync("sfu-receive-only", meshMax: 1, Ct);
        await using var bare = await chromium.LaunchAsync(fakeDevices: false);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");
        var watcher = await call.JoinAsync(bare, "Watcher");

        await TileFlow.WaitForAllAsync(watcher, ["Ada", "Grace"], Ct);
        // Nothing to publish: only the subscribe connection.
        Assert.Equal(1, await TileFlow.OpenConnectionsAsync(watcher));
        await Expect(ada.TileOf("Watcher")).ToBeVisibleAsync();
        await Expect(ada.TileOf("Watcher")).ToHaveAttributeAsync("data-video", "off");
        await TileFlow.WaitForAllAsync(ada, ["Grace", "Watcher"], Ct, silent: ["Watcher"]);
    }
}
