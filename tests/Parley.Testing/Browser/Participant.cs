using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Parley.Testing;

/// <summary>
/// Participant is one person in a test: their own browser context and page on a room's meeting page,
/// with the test-only probe (probe.js) injected before the app's scripts.
/// </summary>
public sealed class Participant : IAsyncDisposable
{
    /// <summary>JoinTimeout bounds the time from clicking Join to being in the meeting.</summary>
    public const float JoinTimeoutMs = 15_000;

    private static readonly string Probe = ReadProbe();

    private readonly ConcurrentQueue<string> _log = new();

    private Participant(IBrowserContext context, IPage page, string name)
    {
        Context = context;
        Page = page;
        Name = name;
        page.Console += (_, msg) => _log.Enqueue($"console.{msg.Type}: {msg.Text}");
        page.PageError += (_, error) => _log.Enqueue($"pageerror: {error}");
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

    /// <summary>
    /// OpenAsync opens a new browser context on <paramref name="path"/> (e.g. <c>/r/room</c>), running
    /// <paramref name="initScript"/> (if any) in every page before anything else.
    /// </summary>
    public static async Task<Participant> OpenAsync(IBrowser browser, Uri baseUri, string path, string name, string? initScript = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUri.ToString() });
        if (initScript is not null)
        {
            await context.AddInitScriptAsync(initScript);
        }
        await context.AddInitScriptAsync(Probe);
        var page = await context.NewPageAsync();
        var participant = new Participant(context, page, name);
        await page.GotoAsync(path);
        return participant;
    }

    /// <summary>OpenRoomAsync opens the meeting page of <paramref name="room"/>, at the pre-join step.</summary>
    public static Task<Participant> OpenRoomAsync(IBrowser browser, Uri baseUri, string room, string name, string? initScript = null) =>
        OpenAsync(browser, baseUri, $"/r/{room}", name, initScript);

    /// <summary>JoinAsync types the name, clicks Join and waits to be in the meeting.</summary>
    public async Task JoinAsync()
    {
        await ClickJoinAsync();
        await Expect(Page.Locator("#meeting")).ToBeVisibleAsync(new() { Timeout = JoinTimeoutMs });
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

    /// <summary>Button is a visible button by its accessible name.</summary>
    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

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
