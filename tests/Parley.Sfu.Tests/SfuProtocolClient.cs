using System.Reflection;
using System.Text.Json;

namespace Parley.Sfu.Tests;

/// <summary>
/// SfuProtocolClient is a protocol-level SFU client (sfuclient.js): its own WebSocket and a raw
/// RTCPeerConnection in a Chromium page on Parley's origin, none of the product's client.
/// </summary>
public sealed class SfuProtocolClient : IAsyncDisposable
{
    private static readonly string Script = Read();
    private readonly IBrowserContext _context;

    private SfuProtocolClient(IBrowserContext context, IPage page, string name)
    {
        _context = context;
        Page = page;
        Name = name;
    }

    public IPage Page { get; }

    public string Name { get; }

    /// <summary>Id is the participant id from <c>joined</c>.</summary>
    public string Id { get; private set; } = "";

    public static async Task<SfuProtocolClient> JoinAsync(IBrowser browser, Uri baseUri, string room, string name)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUri.ToString(), BypassCSP = true });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.EvaluateAsync(Script);
        var client = new SfuProtocolClient(context, page, name);
        var joined = await client.EvalAsync($"() => window.__sfu.connect({JsonSerializer.Serialize(room)}, {JsonSerializer.Serialize(name)})");
        if (joined.GetProperty("type").GetString() != "joined")
        {
            throw new InvalidOperationException($"{name} could not join: {joined}");
        }
        client.Id = joined.GetProperty("self").GetProperty("id").GetString()!;
        return client;
    }

    public Task PublishAsync() => Page.EvaluateAsync("() => window.__sfu.publish()");

    public Task RawAsync(object message) => Page.EvaluateAsync("m => window.__sfu.raw(m)", JsonSerializer.Serialize(message));

    public Task<int> CountAsync() => Page.EvaluateAsync<int>("() => window.__sfu.count()");

    public Task<string> OfferSdpAsync() => Page.EvaluateAsync<string>("() => window.__sfu.offerSdp()");

    public Task SetAutoAnswerAsync(bool on) => Page.EvaluateAsync("on => window.__sfu.setAutoAnswer(on)", on);

    /// <summary>NextAsync is the first message from index <paramref name="from"/> on of <paramref name="type"/> (and, for errors, <paramref name="code"/>).</summary>
    public Task<JsonElement> NextAsync(string type, int from = 0, string? code = null) =>
        EvalAsync($"() => window.__sfu.next(m => m.type === {JsonSerializer.Serialize(type)}{(code is null ? "" : $" && m.code === {JsonSerializer.Serialize(code)}")}, {from})");

    public async Task<IReadOnlyList<JsonElement>> MessagesAsync() =>
        [.. (await EvalAsync("() => window.__sfu.messages()")).EnumerateArray()];

    public async Task<(double Frames, double AudioPackets, int VideoStreams, int AudioStreams)> InboundAsync()
    {
        var s = await EvalAsync("() => window.__sfu.inbound()");
        return (s.GetProperty("framesDecoded").GetDouble(), s.GetProperty("audioPackets").GetDouble(),
            s.GetProperty("videoStreams").GetInt32(), s.GetProperty("audioStreams").GetInt32());
    }

    /// <summary>WaitForMediaAsync waits until the subscribe connection decodes video and receives audio from <paramref name="publishers"/> participants.</summary>
    public async Task WaitForMediaAsync(int publishers, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (frames, packets, video, audio) = await InboundAsync();
            if (video >= publishers && audio >= publishers && frames > 10 && packets > 10)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} receives from {video} video and {audio} audio streams (frames {frames}, packets {packets}), not {publishers}; messages: "
                    + string.Join(", ", (await MessagesAsync()).Select(m => m.GetProperty("type").GetString())));
            }
            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task<JsonElement> EvalAsync(string script)
    {
        var json = await Page.EvaluateAsync<string>($"async () => JSON.stringify(await ({script})())");
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    private static string Read()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.Sfu.Tests.sfuclient.js")
            ?? throw new InvalidOperationException("sfuclient.js is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
