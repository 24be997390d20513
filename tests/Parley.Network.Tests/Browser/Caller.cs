using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// Caller is one person in a network test: a browser context and page on a room's meeting page,
/// with the test-only probe (netprobe.js) injected before the app's scripts. It keeps the page's
/// console for the test's output and for assertions.
/// </summary>
public sealed class Caller : IAsyncDisposable
{
    /// <summary>JoinTimeoutMs bounds the time from clicking Join to being in the meeting (a loaded 2-core machine).</summary>
    public const float JoinTimeoutMs = 20_000;

    private static readonly string Probe = ReadProbe();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentQueue<string> _log = new();

    private Caller(IBrowserContext context, IPage page, string name)
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
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public string Name { get; }

    /// <summary>ConsoleMessages holds the page's console messages as (type, text), in order.</summary>
    public ConcurrentQueue<(string Type, string Text)> ConsoleMessages { get; } = new();

    /// <summary>Responses holds every HTTP response the page received, in order, from its first navigation on.</summary>
    public ConcurrentQueue<IResponse> Responses { get; } = new();

    /// <summary>Opened is the response to the page's first navigation (its main document).</summary>
    public IResponse? Opened { get; private set; }

    /// <summary>
    /// OpenAsync opens a new browser context on <paramref name="path"/> of <paramref name="baseUri"/>,
    /// running <paramref name="initScript"/> (if any) and then the probe in every page before anything
    /// else.
    /// </summary>
    public static async Task<Caller> OpenAsync(IBrowser browser, Uri baseUri, string path, string name, string? initScript = null)
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
            var caller = new Caller(context, page, name);
            caller.Opened = await page.GotoAsync(path);
            return caller;
        }
        catch
        {
            await context.CloseAsync();
            throw;
        }
    }

    /// <summary>OpenRoomAsync opens the meeting page of <paramref name="room"/>, at the pre-join step.</summary>
    public static Task<Caller> OpenRoomAsync(IBrowser browser, Uri baseUri, string room, string name, string? initScript = null) =>
        OpenAsync(browser, baseUri, $"/r/{room}", name, initScript);

    /// <summary>
    /// TurnCredentialOverride is an init script that makes the probe hand the page
    /// <paramref name="username"/> and <paramref name="password"/> for every TURN server, instead of
    /// the credential the server minted (see netprobe.js).
    /// </summary>
    public static string TurnCredentialOverride(string username, string password) =>
        $"window.__netProbeTurnCredential = {JsonSerializer.Serialize(new { username, credential = password })};";

    /// <summary>JoinAsync types the name, clicks Join and waits to be in the meeting.</summary>
    public async Task JoinAsync()
    {
        await Page.GetByLabel("Your name").FillAsync(Name);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Join", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#meeting")).ToBeVisibleAsync(new() { Timeout = JoinTimeoutMs });
    }

    /// <summary>TileOf is the tile that shows <paramref name="name"/>, another participant.</summary>
    public ILocator TileOf(string name) =>
        Page.Locator("#grid .tile:not(.self)").Filter(new() { Has = Page.Locator(".tile-name", new() { HasText = name }) });

    /// <summary>ProbeAsync calls <c>window.__netProbe.</c><paramref name="call"/> in the page and reads its JSON result.</summary>
    public async Task<T> ProbeAsync<T>(string call)
    {
        var json = await Page.EvaluateAsync<string>($"async () => JSON.stringify(await window.__netProbe.{call})");
        return JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidOperationException($"{Name}: {call} answered null.");
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
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.Network.Tests.netprobe.js")
            ?? throw new InvalidOperationException("netprobe.js is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
