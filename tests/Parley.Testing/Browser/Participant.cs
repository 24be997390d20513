using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Parley.Testing;

/// <summary>
/// Participant is one person in a test: their own browser context and page on a room's meeting page,
/// with the test-only probe (probe.js) injected before the app's scripts. It keeps the page's
/// console, errors, dialogs and responses, for the test's output and for assertions.
/// </summary>
public sealed class Participant : IPageProbe, IAsyncDisposable
{
    /// <summary>JoinTimeoutMs bounds the time from clicking Join to being in the meeting.</summary>
    public const float JoinTimeoutMs = 15_000;

    private static readonly string Probe = ReadProbe();

    /// <summary>ProbeScript is probe.js, for pages of other browsers than Playwright's.</summary>
    public static string ProbeScript => Probe;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentQueue<string> _log = new();

    private Participant(IBrowserContext context, IPage page, string name)
    {
        Context = context;
        Page = page;
        Name = name;
        page.Console += (_, msg) =>
        {
            _log.Enqueue($"console.{msg.Type}: {msg.Text}");
            ConsoleMessages.Enqueue((msg.Type, msg.Text));
        };
        page.PageError += (_, error) => _log.Enqueue($"pageerror: {error}");
        page.Response += (_, response) => Responses.Enqueue(response);
        page.Dialog += (_, dialog) =>
        {
            _log.Enqueue($"dialog: {dialog.Message}");
            Dialogs.Enqueue(dialog.Message);
            _ = dialog.DismissAsync();
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public string Name { get; }

    /// <summary>Dialogs holds the message of every alert/confirm/prompt the page opened.</summary>
    public ConcurrentQueue<string> Dialogs { get; } = new();

    /// <summary>Log holds the page's console messages and errors, for failure reports.</summary>
    public IEnumerable<string> Log => _log;

    /// <summary>ConsoleMessages holds the page's console messages as (type, text), in order.</summary>
    public ConcurrentQueue<(string Type, string Text)> ConsoleMessages { get; } = new();

    /// <summary>Responses holds every HTTP response the page received, in order, from its first navigation on.</summary>
    public ConcurrentQueue<IResponse> Responses { get; } = new();

    /// <summary>Opened is the response to the page's first navigation (its main document).</summary>
    public IResponse? Opened { get; private set; }

    /// <summary>RemoteTiles are the tiles of the other participants.</summary>
    public ILocator RemoteTiles => Page.Locator("#grid .tile:not(.self)");

    /// <summary>
    /// SmallCamera, as an init script, asks the fake camera for 320x180 at 15 fps whatever the app
    /// asks: many pages on two cores then encode and decode a call without starving each other.
    /// </summary>
    public const string SmallCamera = """
        (() => {
          const md = navigator.mediaDevices;
          if (!md || !md.getUserMedia) return;
          const original = md.getUserMedia.bind(md);
          md.getUserMedia = (c) => original(c && c.video ? { ...c, video: { ...(c.video === true ? {} : c.video), width: 320, height: 180, frameRate: 15 } } : c);
        })();
        """;

    /// <summary>BreakIce, as an init script, makes the page's connectivity checks go nowhere (see probe.js).</summary>
    public const string BreakIce = "window.__parleyProbeBreakIce = true;";

    /// <summary>NoCandidates, as an init script, drops every candidate from the other side (see probe.js), as if it sent none.</summary>
    public const string NoCandidates = "window.__parleyProbeNoCandidates = true;";

    /// <summary>
    /// TurnCredentialOverride is an init script that makes the probe hand the page
    /// <paramref name="username"/> and <paramref name="password"/> for every TURN server, instead of
    /// the credential the server minted (see probe.js).
    /// </summary>
    public static string TurnCredentialOverride(string username, string password) =>
        $"window.__parleyProbeTurnCredential = {JsonSerializer.Serialize(new { username, credential = password })};";

    /// <summary>
    /// OpenAsync opens a new browser context on <paramref name="path"/> (e.g. <c>/r/room</c>) of
    /// <paramref name="baseUri"/>, running <paramref name="initScript"/> (if any) and then the probe
    /// in every page before anything else.
    /// </summary>
    public static async Task<Participant> OpenAsync(IBrowser browser, Uri baseUri, string path, string name, string? initScript = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUri.ToString() });
        try
        {
            if (initScript is not null)
            {
                await context.AddInitScriptAsync(initScript);
            }
            await context.AddInitScriptAsync(Probe);
            var page = await context.NewPageAsync();
            var participant = new Participant(context, page, name);
            // A test that builds namespaces and links beside a running browser changes its network:
            // Chromium then fails the loads in flight (ERR_NETWORK_CHANGED). Open the page again.
            var networkChanged = false;
            page.RequestFailed += (_, request) => networkChanged |= request.Failure?.Contains("ERR_NETWORK_CHANGED", StringComparison.Ordinal) == true;
            participant.Opened = await page.GotoAsync(path);
            for (var tries = 1; networkChanged && tries <= 3; tries++)
            {
                networkChanged = false;
                participant._log.Enqueue("test: the network changed while the page loaded; opening it again");
                participant.Opened = await page.GotoAsync(path);
            }
            return participant;
        }
        catch
        {
            await context.CloseAsync();
            throw;
        }
    }

    /// <summary>OpenRoomAsync opens the meeting page of <paramref name="room"/>, at the pre-join step.</summary>
    public static Task<Participant> OpenRoomAsync(IBrowser browser, Uri baseUri, string room, string name, string? initScript = null) =>
        OpenAsync(browser, baseUri, $"/r/{room}", name, initScript);

    /// <summary>JoinAsync types the name, clicks Join and waits, up to <paramref name="timeoutMs"/>, to be in the meeting.</summary>
    public async Task JoinAsync(float timeoutMs = JoinTimeoutMs)
    {
        await ClickJoinAsync();
        await Expect(Page.Locator("#meeting")).ToBeVisibleAsync(new() { Timeout = timeoutMs });
    }

    /// <summary>ClickJoinAsync types the name and clicks Join, without waiting for the outcome.</summary>
    public async Task ClickJoinAsync()
    {
        await Page.GetByLabel("Your name").FillAsync(Name);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Join", Exact = true }).ClickAsync();
    }

    /// <summary>TileOf is the tile that shows <paramref name="name"/>.</summary>
    public ILocator TileOf(string name) =>
        RemoteTiles.Filter(new() { Has = Page.Locator(".tile-name", new() { HasText = name }) });

    /// <summary>ChatMessages are the messages the chat panel shows, oldest first.</summary>
    public ILocator ChatMessages => Page.Locator("#chat-log .chat-message");

    /// <summary>SendChatAsync opens the chat panel if it is closed, types <paramref name="text"/> and sends it with Enter.</summary>
    public async Task SendChatAsync(string text)
    {
        var input = Page.GetByLabel("Message", new() { Exact = true });
        if (!await input.IsVisibleAsync())
        {
            await Button("Chat").ClickAsync();
        }
        await input.FillAsync(text);
        await input.PressAsync("Enter");
        await Expect(input).ToHaveValueAsync("");
    }

    /// <summary>Button is a visible button by its accessible name.</summary>
    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    public Task<T> EvaluateAsync<T>(string expression) => Page.EvaluateAsync<T>(expression);

    /// <summary>ProbeAsync calls <c>window.__parleyProbe.</c><paramref name="probeCall"/> (e.g. <c>ice()</c>) in the page and reads its JSON result.</summary>
    public async Task<T> ProbeAsync<T>(string probeCall)
    {
        var json = await Page.EvaluateAsync<string>($"async () => JSON.stringify(await window.__parleyProbe.{probeCall})");
        return JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidOperationException($"{Name}: {probeCall} answered null.");
    }

    public async ValueTask DisposeAsync()
    {
        // The runner shows a test's output when it fails: the page's console is the best clue.
        var output = TestContext.Current.TestOutputHelper;
        foreach (var line in _log)
        {
            output?.WriteLine($"[{Name}] {line}");
        }
        await Context.CloseAsync();
    }

    private static string ReadProbe()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.Testing.probe.js")
            ?? throw new InvalidOperationException("probe.js is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
