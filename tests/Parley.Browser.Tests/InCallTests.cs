using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>
/// InCallTests: what people do during a call besides talking — chat, raise a hand, see who speaks,
/// pin someone, change devices, use the keyboard, on a desktop and on a phone — checked on what the
/// others see.
/// </summary>
public sealed class InCallTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    /// <summary>Screenshots is where the tests leave pictures of the main layouts, to look at.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private static ILocator ChatMessages(Participant p) => p.Page.Locator("#chat-log .chat-message");

    [Fact]
    public async Task Chat_reaches_everyone_direct_messages_only_their_recipient_and_a_late_joiner_sees_the_history()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await Expect(ada.TileOf("Grace")).ToBeVisibleAsync();

        await ada.SendChatAsync("Hello all, the notes: https://example.org/notes?id=1.");

        // Grace's panel is closed: the badge counts the message, opening the panel reads it.
        await Expect(grace.Page.Locator("#chat-unread")).ToHaveTextAsync("1");
        await grace.Button("Chat").ClickAsync();
        await Expect(grace.Page.Locator("#chat-unread")).ToBeHiddenAsync();
        var message = ChatMessages(grace).Last;
        await Expect(message.Locator(".chat-name")).ToHaveTextAsync("Ada");
        await Expect(message.Locator(".chat-text")).ToHaveTextAsync("Hello all, the notes: https://example.org/notes?id=1.");
        var link = message.GetByRole(AriaRole.Link);
        await Expect(link).ToHaveAttributeAsync("href", "https://example.org/notes?id=1");
        await Expect(link).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(link).ToHaveAttributeAsync("target", "_blank");
        // A link is never fetched or previewed: nothing but text and the link in the message.
        await Expect(grace.Page.Locator("#chat-log img, #chat-log iframe, #chat-log video")).ToHaveCountAsync(0);
        Assert.DoesNotContain(grace.Responses, r => r.Url.Contains("example.org", StringComparison.Ordinal));
        // Ada's own message shows once, as the server stamped it.
        await Expect(ChatMessages(ada)).ToHaveCountAsync(1);
        await Expect(ChatMessages(ada).Locator(".chat-name")).ToHaveTextAsync("You");

        // A direct message: Grace writes to Ada alone.
        await grace.Page.GetByLabel("To", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Ada (direct)" });
        await grace.SendChatAsync("Just for you, Ada");
        await Expect(ChatMessages(ada)).ToHaveCountAsync(2);
        await Expect(ChatMessages(ada).Last.Locator(".chat-to")).ToHaveTextAsync(" to you (direct)");
        await Expect(ChatMessages(grace).Last.Locator(".chat-to")).ToHaveTextAsync(" to Ada (direct)");

        // Alan comes later: he gets the room's message, not the direct one, and it is not unread.
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan");
        await alan.JoinAsync();
        await Expect(alan.Page.Locator("#chat-unread")).ToBeHiddenAsync();
        await alan.Button("Chat").ClickAsync();
        await Expect(ChatMessages(alan)).ToHaveCountAsync(1);
        await Expect(ChatMessages(alan).Locator(".chat-text")).ToHaveTextAsync("Hello all, the notes: https://example.org/notes?id=1.");
        // The others are told he came, for screen readers too.
        await Expect(ada.Page.Locator("#announcer")).ToContainTextAsync("Alan joined");
        await Expect(ada.Page.Locator("#announcer")).ToContainTextAsync("Direct message from Grace: Just for you, Ada");
    }

    [Fact]
    public async Task Chat_and_names_show_an_xss_corpus_as_text_and_run_none_of_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(new Dictionary<string, string?> { ["Parley:ChatBurst"] = "20" }, ct);
        var room = TestRooms.New();
        const string EvilName = "<img src=x onerror=window.__xss=1>";
        string[] corpus =
        [
            "<script>window.__xss=1</script>",
            "<img src=x onerror=\"window.__xss=1\">",
            "<svg onload=window.__xss=1><circle r=5></circle></svg>",
            "javascript:window.__xss=1",
            "<a href=\"javascript:window.__xss=1\">click</a>",
            "https://example.org/\"><img src=x onerror=window.__xss=1>",
            "<iframe src=\"javascript:window.__xss=1\"></iframe>",
            "&lt;b&gt;not bold&lt;/b&gt; <b>nor this</b>",
        ];
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, EvilName);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await Expect(grace.TileOf(EvilName)).ToBeVisibleAsync();

        foreach (var text in corpus)
        {
            await ada.SendChatAsync(text);
        }

        await grace.Button("Chat").ClickAsync();
        await Expect(ChatMessages(grace)).ToHaveCountAsync(corpus.Length);
        var shown = await ChatMessages(grace).Locator(".chat-text").AllTextContentsAsync();
        Assert.Equal(corpus, shown);
        await Expect(ChatMessages(grace).First.Locator(".chat-name")).ToHaveTextAsync(EvilName);
        await grace.Button("People").ClickAsync();
        await Expect(grace.Page.Locator("#people-list .person-name").Filter(new() { HasText = EvilName })).ToHaveCountAsync(1);
        foreach (var p in new[] { ada, grace })
        {
            Assert.Null(await p.Page.EvaluateAsync<int?>("() => window.__xss ?? null"));
            await Expect(p.Page.Locator("#chat-log img, #chat-log script, #chat-log svg, #chat-log iframe, #chat-log b, #grid img, #people-list img"))
                .ToHaveCountAsync(0);
            // The only links are the http(s) ones, and nothing is a javascript: URL.
            var hrefs = await p.Page.Locator("#chat-log a").EvaluateAllAsync<string[]>("links => links.map(a => a.href)");
            Assert.All(hrefs, h => Assert.StartsWith("https://example.org/", h, StringComparison.Ordinal));
            Assert.DoesNotContain(p.ConsoleMessages, m => m.Type == "error");
        }
    }

    [Fact]
    public async Task Chat_refuses_what_the_server_would_refuse_and_says_why_when_it_limits_the_rate()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(new Dictionary<string, string?> { ["Parley:ChatBurst"] = "2" }, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await ada.JoinAsync();
        await ada.Button("Chat").ClickAsync();
        var input = ada.Page.GetByLabel("Message", new() { Exact = true });

        // Blank text is not sent; the box holds at most 2000 characters.
        await input.FillAsync("   ");
        await input.PressAsync("Enter");
        await Expect(ChatMessages(ada)).ToHaveCountAsync(0);
        Assert.Equal(2000, await input.EvaluateAsync<int>("el => el.maxLength"));

        // Past the burst the server refuses, the page says so, and the refused text is back in the box.
        for (var i = 0; i < 6; i++)
        {
            await input.FillAsync($"message {i}");
            await input.PressAsync("Enter");
        }
        await Expect(ada.Page.Locator("#toast")).ToContainTextAsync("Message not sent: Too many chat messages");
        await Expect(input).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^message [2-5]$"));
        var sent = await ChatMessages(ada).CountAsync();
        Assert.InRange(sent, 2, 5);
    }

    [Fact]
    public async Task Raised_hands_show_on_the_others_in_the_order_they_went_up()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.SmallCamera);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.SmallCamera);
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", Participant.SmallCamera);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();
        await Expect(alan.RemoteTiles).ToHaveCountAsync(2);

        // Grace (who joined after Ada) raises her hand first, with the H key; then Ada, with the button.
        await grace.Page.Keyboard.PressAsync("h");
        await Expect(grace.Button("Lower hand")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(alan.TileOf("Grace").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");
        await ada.Button("Raise hand").ClickAsync();
        await Expect(alan.TileOf("Ada").Locator(".tile-hand")).ToHaveTextAsync("✋ 2");
        await Expect(alan.Page.Locator("#announcer")).ToContainTextAsync("Ada raised their hand");

        await alan.Button("People").ClickAsync();
        var names = alan.Page.Locator("#people-list .person-name");
        await Expect(names).ToHaveTextAsync(["Grace", "Ada", "Alan (you)"]);
        await Expect(alan.Page.Locator("#people-count")).ToHaveTextAsync("3");

        // A later joiner sees the same order, from the server's times.
        await using var edsger = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Edsger", Participant.SmallCamera);
        await edsger.JoinAsync();
        await Expect(edsger.TileOf("Grace").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");
        await Expect(edsger.TileOf("Ada").Locator(".tile-hand")).ToHaveTextAsync("✋ 2");

        // Grace lowers hers: Ada is first now, everywhere.
        await grace.Button("Lower hand").ClickAsync();
        await Expect(alan.TileOf("Grace").Locator(".tile-hand")).ToBeHiddenAsync();
        await Expect(alan.TileOf("Ada").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");
        await Expect(edsger.TileOf("Ada").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");
        // Hands first, then us, then the others in the order they came.
        await Expect(names).ToHaveTextAsync(["Ada", "Alan (you)", "Grace", "Edsger"]);
    }

    [Fact]
    public async Task The_speaking_ring_and_the_speaker_layout_follow_whoever_is_loud()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.SmallCamera);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.SmallCamera);
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", Participant.SmallCamera);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();
        // Only Ada's microphone makes a sound: the others mute theirs (the M key).
        await grace.Page.Keyboard.PressAsync("m");
        await alan.Page.Keyboard.PressAsync("m");
        await Expect(grace.Button("Microphone")).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(alan.Button("Microphone")).ToHaveAttributeAsync("aria-pressed", "false");

        await Expect(alan.TileOf("Ada")).ToHaveAttributeAsync("data-speaking", "true", new() { Timeout = 15_000 });
        await Expect(alan.TileOf("Grace")).Not.ToHaveAttributeAsync("data-speaking", "true");
        await Expect(ada.Page.Locator("#grid .tile.self")).ToHaveAttributeAsync("data-speaking", "true");

        // The speaker layout shows Ada large on Alan's page.
        await alan.Button("Speaker layout").ClickAsync();
        var grid = alan.Page.Locator("#grid");
        await Expect(grid).ToHaveAttributeAsync("data-layout", "speaker");
        await Expect(alan.TileOf("Ada")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bfocus\b"));
        await ScreenshotAsync(alan, "speaker-layout");

        // Ada goes quiet and Grace speaks: the ring and the large tile move to Grace.
        await ada.Page.Keyboard.PressAsync("m");
        await grace.Page.Keyboard.PressAsync("m");
        await Expect(alan.TileOf("Grace")).ToHaveAttributeAsync("data-speaking", "true", new() { Timeout = 15_000 });
        await Expect(alan.TileOf("Ada")).ToHaveAttributeAsync("data-speaking", "false", new() { Timeout = 15_000 });
        await Expect(alan.TileOf("Grace")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bfocus\b"));

        // Back to the grid: no tile is large.
        await alan.Page.Keyboard.PressAsync("l");
        await Expect(grid).ToHaveAttributeAsync("data-layout", "grid");
        await Expect(grid).Not.ToHaveAttributeAsync("data-focus", new System.Text.RegularExpressions.Regex("."));
    }

    [Fact]
    public async Task A_pinned_tile_stays_large_until_unpinned_and_a_tile_goes_full_screen()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.SmallCamera);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.SmallCamera);
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", Participant.SmallCamera);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();
        await Expect(ada.RemoteTiles).ToHaveCountAsync(2);

        var alanTile = ada.TileOf("Alan");
        await alanTile.HoverAsync();
        await ada.Button("Pin Alan").ClickAsync();

        await Expect(alanTile).ToHaveAttributeAsync("data-pinned", "true");
        await Expect(ada.Button("Unpin Alan")).ToHaveAttributeAsync("aria-pressed", "true");
        var big = await alanTile.BoundingBoxAsync();
        var small = await ada.TileOf("Grace").BoundingBoxAsync();
        Assert.NotNull(big);
        Assert.NotNull(small);
        Assert.True(big.Width * big.Height > 4 * small.Width * small.Height, $"pinned {big.Width}x{big.Height}, other {small.Width}x{small.Height}");
        await ScreenshotAsync(ada, "pinned");

        // The speaker layout does not take the large tile from a pinned one, whoever speaks.
        await ada.Page.Keyboard.PressAsync("l");
        await Expect(alanTile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bfocus\b"));
        await ada.Page.Keyboard.PressAsync("l");

        await ada.Button("Full screen: Alan").ClickAsync();
        await ada.Page.WaitForFunctionAsync("() => document.fullscreenElement?.dataset.peer?.startsWith('p_') === true");
        await ada.Page.Keyboard.PressAsync("Escape");

        await alanTile.HoverAsync();
        await ada.Button("Unpin Alan").ClickAsync();
        await Expect(alanTile).ToHaveAttributeAsync("data-pinned", "false");
        await Expect(ada.Page.Locator("#grid")).Not.ToHaveAttributeAsync("data-focus", new System.Text.RegularExpressions.Regex("."));
    }

    [Fact]
    public async Task Switching_microphone_and_camera_during_the_call_keeps_media_flowing_on_the_same_connection()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);

        await ada.Button("Settings").ClickAsync();
        var mic = ada.Page.GetByRole(AriaRole.Complementary, new() { Name = "Settings" }).GetByLabel("Microphone", new() { Exact = true });
        var options = await mic.Locator("option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)");
        var current = await mic.InputValueAsync();
        var other = options.FirstOrDefault(o => o != current && o.Length > 0);
        Assert.True(other is not null, $"the fake devices offer one microphone only: {string.Join(", ", options)}");
        var trackBefore = await ada.Page.EvaluateAsync<string>("() => window.__parleyProbe.senderTrackIds().join(',')");

        await mic.SelectOptionAsync(other);

        await ada.Page.WaitForFunctionAsync("before => window.__parleyProbe.senderTrackIds().join(',') !== before", trackBefore);
        await Expect(mic).ToHaveValueAsync(other);
        // Grace still receives on the same connection: audio packets and video frames keep rising.
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);
        Assert.Single(await MediaFlow.ReadAsync(grace), s => s.IsOpen);
    }

    [Fact]
    public async Task Each_tile_shows_the_quality_of_its_media_with_the_measures_behind_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();
        await MediaFlow.WaitForFlowAsync(grace, connections: 1, ct);

        // On loopback nothing is lost and the round trip is short: good, measured from getStats().
        var tile = grace.TileOf("Ada");
        await Expect(tile).ToHaveAttributeAsync("data-quality", "good", new() { Timeout = 15_000 });
        var summary = tile.GetByRole(AriaRole.Group).Locator("summary");
        await Expect(summary).ToHaveAttributeAsync("aria-label", "Connection quality: good");
        await summary.ClickAsync();
        var lines = tile.Locator(".quality-lines li");
        await Expect(lines.Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^Round trip: \d+ ms$") })).ToHaveCountAsync(1);
        // Loss and bitrate are rates: they need a second sample, 5 s after the first (which may be
        // the one that said "good", from the round trip alone).
        await Expect(lines.Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^Packet loss: \d+\.\d %$") })).ToHaveCountAsync(1, new() { Timeout = 12_000 });
        await Expect(lines.Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^Bitrate: [1-9]\d* kb/s$") })).ToHaveCountAsync(1);
        await Expect(lines.Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^Video: \d+×\d+") })).ToHaveCountAsync(1);
        await Expect(lines.Filter(new() { HasText = "Path: direct" })).ToHaveCountAsync(1);
        await Expect(grace.Page.Locator("#uplink")).ToBeHiddenAsync();

        // The grading, on reports as the browser would give them when things go wrong.
        var graded = await grace.Page.EvaluateAsync<string>(
            """
            async () => {
              const q = await import('/js/quality.js');
              const report = (entries) => new Map(entries.map((s, i) => [String(i), s]));
              const held = q.sendQuality([report([{ type: 'outbound-rtp', kind: 'video', qualityLimitationReason: 'bandwidth' }])]);
              const lossy = q.sendQuality([report([{ type: 'remote-inbound-rtp', kind: 'audio', fractionLost: 0.15, roundTripTime: 0.05 }])]);
              return [q.grade(12, 40), q.grade(1, 300), q.grade(0, 20), q.grade(null, null), held.limitation, held.level, lossy.level].join(' ');
            }
            """);
        Assert.Equal("poor fair good unknown bandwidth fair poor", graded);
    }

    [Fact]
    public async Task Shortcuts_work_outside_text_fields_and_the_help_lists_them()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada");
        await ada.JoinAsync();
        var page = ada.Page;

        await page.Keyboard.PressAsync("v");
        await Expect(ada.Button("Camera")).ToHaveAttributeAsync("aria-pressed", "false");
        await page.Keyboard.PressAsync("v");
        await Expect(ada.Button("Camera")).ToHaveAttributeAsync("aria-pressed", "true");

        // C opens the chat with the cursor in its box, where an M is a letter, not a mute.
        await page.Keyboard.PressAsync("c");
        var input = page.GetByLabel("Message", new() { Exact = true });
        await Expect(input).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("mvh");
        await Expect(input).ToHaveValueAsync("mvh");
        await Expect(ada.Button("Microphone")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(ada.Button("Chat")).ToHaveAttributeAsync("aria-expanded", "true");
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#chat-panel")).ToBeHiddenAsync();
        await Expect(ada.Button("Chat")).ToBeFocusedAsync();

        await page.Keyboard.PressAsync("?");
        var help = page.GetByRole(AriaRole.Dialog, new() { Name = "Keyboard shortcuts" });
        await Expect(help).ToBeVisibleAsync();
        foreach (var key in new[] { "M", "V", "S", "C", "H", "L", "?" })
        {
            await Expect(help.Locator("kbd", new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{System.Text.RegularExpressions.Regex.Escape(key)}$") })).ToHaveCountAsync(1);
        }
        await page.Keyboard.PressAsync("Escape");
        await Expect(help).ToBeHiddenAsync();

        // Every control of the call has a name a screen reader can say.
        var unnamed = await page.Locator("#meeting button:visible, #meeting select:visible, #meeting textarea:visible").EvaluateAllAsync<int>(
            "els => els.filter(el => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim())).length");
        Assert.Equal(0, unnamed);
    }

    [Theory]
    [InlineData(390, 844, "phone-portrait")]
    [InlineData(844, 390, "phone-landscape")]
    public async Task A_phone_shows_the_call_with_nothing_overlapping(int width, int height, string shot)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Ada", Participant.SmallCamera);
        await using var grace = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Grace", Participant.SmallCamera);
        await using var alan = await Participant.OpenRoomAsync(_browser, server.BaseUri, room, "Alan", Participant.SmallCamera);
        await ada.Page.SetViewportSizeAsync(width, height);
        await ada.JoinAsync();
        await grace.JoinAsync();
        await alan.JoinAsync();
        await Expect(ada.RemoteTiles).ToHaveCountAsync(2);
        await MediaFlow.WaitForFlowAsync(ada, connections: 2, ct);

        var json = await ada.Page.EvaluateAsync<string>(
            """
            () => JSON.stringify([...document.querySelectorAll('#meeting .toolbar button, #grid > .tile')]
              .filter(el => el.offsetParent !== null)
              .map(el => { const r = el.getBoundingClientRect(); return { name: el.getAttribute('aria-label') ?? '', x: r.x, y: r.y, w: r.width, h: r.height }; }))
            """);
        var boxes = System.Text.Json.JsonSerializer.Deserialize<Box[]>(json, Web)!;
        Assert.Equal(3, boxes.Count(b => b.Name is "Ada (you)" or "Grace" or "Alan"));
        foreach (var b in boxes)
        {
            Assert.True(b.X >= 0 && b.Y >= 0 && b.X + b.W <= width + 0.5 && b.Y + b.H <= height + 0.5, $"{b.Name} is off screen: {b}");
            Assert.True(b.W > 20 && b.H > 20, $"{b.Name} is too small: {b}");
        }
        for (var i = 0; i < boxes.Length; i++)
        {
            for (var j = i + 1; j < boxes.Length; j++)
            {
                Assert.False(boxes[i].Overlaps(boxes[j]), $"{boxes[i]} overlaps {boxes[j]}");
            }
        }
        await ScreenshotAsync(ada, shot);

        // A panel covers the call on a phone, and closes back to it.
        await ada.Button("Chat").ClickAsync();
        await Expect(ada.Page.Locator("#chat-panel")).ToBeInViewportAsync();
        await ScreenshotAsync(ada, shot + "-chat");
        await ada.Button("Close chat").ClickAsync();
        await Expect(ada.Page.Locator("#chat-panel")).ToBeHiddenAsync();
    }

    private static async Task ScreenshotAsync(Participant p, string name)
    {
        Directory.CreateDirectory(Screenshots);
        var path = Path.Combine(Screenshots, name + ".png");
        await p.Page.ScreenshotAsync(new() { Path = path });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
    }

    private sealed record Box(string Name, double X, double Y, double W, double H)
    {
        public bool Overlaps(Box o) => X + 0.5 < o.X + o.W && o.X + 0.5 < X + W && Y + 0.5 < o.Y + o.H && o.Y + 0.5 < Y + H;
    }
}
