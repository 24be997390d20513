using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.JoinTime;

const string Usage = """
Parley.JoinTime: join time in a real browser. Two Chromium pages on loopback join the same room;
for the second one it measures, from the Join click, the time to `joined`, to ICE connected and
to the first decoded remote video frame, and the server's share of that time.

Usage: Parley.JoinTime [--url http://127.0.0.1:8000] [--runs 12] [--warmup-runs 1]
                       [--server-pid PID] [--chromium /usr/bin/chromium] [--json FILE] [--label TEXT]

Run it, and the server, inside a network namespace that holds only loopback (bench/run.sh
jointime and jointime-sfu do): the browser gathers candidates on every interface it sees.
--label names the setup in the table and the JSON (e.g. "SFU, MeshMax 1").
""";

var options = ParseArgs(args);
if (options.ContainsKey("help"))
{
    Console.WriteLine(Usage);
    return 0;
}
var baseUrl = new Uri(Get("url", "http://127.0.0.1:8000"));
if (!System.Net.IPAddress.TryParse(baseUrl.Host, out var host) || !System.Net.IPAddress.IsLoopback(host))
{
    Console.Error.WriteLine($"{baseUrl.Host} is not a loopback address.");
    return 2;
}
var runs = int.Parse(Get("runs", "12"), CultureInfo.InvariantCulture);
var warmupRuns = int.Parse(Get("warmup-runs", "1"), CultureInfo.InvariantCulture);
var chromium = Get("chromium", Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium");
int? serverPid = options.TryGetValue("server-pid", out var pidText) ? int.Parse(pidText, CultureInfo.InvariantCulture) : null;
var jsonPath = options.GetValueOrDefault("json");
var setup = options.GetValueOrDefault("label") is { Length: > 0 } l ? $"; {l}" : "";

using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(5) };
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = chromium,
    Headless = true,
    Args =
    [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    ],
});
var script = ReadScript();
// The server's idle CPU (timers, keepalive, metrics) over 2 s: the floor under "server CPU" below.
double idleCpuPerSecond = double.NaN;
if (serverPid is { } idlePid)
{
    var idle0 = ServerClock.Read(idlePid);
    await Task.Delay(2000);
    idleCpuPerSecond = ServerClock.Read(idlePid).NanosecondsSince(idle0) / 2e6;
}
var prefix = "jt-" + Convert.ToString(Random.Shared.Next(), 16);
var results = new List<RunResult>();
for (var run = 0; run < warmupRuns + runs; run++)
{
    var warm = run < warmupRuns;
    var room = $"{prefix}-{run}";
    var a = await OpenAsync(browser, baseUrl, room, script);
    var b = await OpenAsync(browser, baseUrl, room, script);
    try
    {
        await ClickJoinAsync(a, "Ada");
        await a.Page.Locator("#meeting").WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 15_000 });
        await Task.Delay(300);

        await b.Page.GetByLabel("Your name").FillAsync("Grace");
        var metricsBefore = await ScrapeAsync(http);
        var cpuBefore = serverPid is { } p0 ? ServerClock.Read(p0) : null;
        var windowStart = System.Diagnostics.Stopwatch.GetTimestamp();
        await b.Page.Locator("#join").ClickAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        Timings tb, ta;
        while (true)
        {
            tb = await ReadAsync(b);
            ta = await ReadAsync(a);
            if (tb.FirstFrame > 0 && ta.FirstFrame > 0)
            {
                break;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run {run}: no remote frame within 20 s (B: {JsonSerializer.Serialize(tb)}; A: {JsonSerializer.Serialize(ta)})");
            }
            await Task.Delay(20);
        }
        var cpuAfter = serverPid is { } p1 ? ServerClock.Read(p1) : null;
        var windowMs = System.Diagnostics.Stopwatch.GetElapsedTime(windowStart).TotalMilliseconds;
        var metricsAfter = await ScrapeAsync(http);
        var result = RunResult.From(tb, ta, cpuBefore is null ? 0 : cpuAfter!.NanosecondsSince(cpuBefore) / 1e6, idleCpuPerSecond * windowMs / 1e3, JoinMs(metricsBefore, metricsAfter), serverPid is not null);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {run + 1 - warmupRuns}{(warm ? " (warm-up)" : "")}: joined {result.Joined:F1} ms, ICE {result.IceConnected:F1} ms, first frame {result.FirstFrame:F1} ms, server CPU {result.ServerCpu:F2} ms ({result.ServerShare:F2}%)"));
        if (!warm)
        {
            results.Add(result);
        }
    }
    finally
    {
        await b.Context.CloseAsync();
        await a.Context.CloseAsync();
    }
}

var rows = new (string Key, string Label, Func<RunResult, double> Value)[]
{
    ("ws_open", "click → WebSocket open (ms)", static r => r.WsOpen),
    ("joined", "click → joined (ms)", static r => r.Joined),
    ("ice_connected", "click → ICE connected (ms)", static r => r.IceConnected),
    ("dtls_connected", "click → connected, DTLS done (ms)", static r => r.Connected),
    ("first_frame", "click → first remote frame decoded (ms)", static r => r.FirstFrame),
    ("peer_first_frame", "click → first frame at the other page (ms)", static r => r.PeerFirstFrame),
    ("join_rtt", "join sent → joined received (ms)", static r => r.JoinRtt),
    ("relay_transit", "offer + answer transit, both hops (ms)", static r => r.RelayTransit),
    ("server_join", "server: upgrade → joined, /metrics (ms)", static r => r.ServerJoin),
    ("server_cpu", "server CPU from click to both first frames (ms)", static r => r.ServerCpu),
    ("server_cpu_net", "  the same, less the idle server's CPU (ms)", static r => r.ServerCpuNet),
    ("server_share", "server share: net CPU / click → first frame (%)", static r => r.ServerShare),
    ("signaling_share", "signaling transit share, upper bound (%)", static r => r.SignalingShare),
};
Console.WriteLine();
Console.WriteLine($"== join time in Chromium ({results.Count} runs after {warmupRuns} warm-up; second joiner of a 2-person room{setup})");
Console.WriteLine($"   first frame via {results.FirstOrDefault()?.FrameMethod}; server idle CPU {idleCpuPerSecond:F2} ms/s; load average {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"   {"metric",-50} {"p50",9} {"p95",9} {"min",9} {"max",9}");
foreach (var (_, label, value) in rows)
{
    var values = results.Select(value).Where(double.IsFinite).Order().ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"   {label,-50} {Percentile(values, 50),9:F2} {Percentile(values, 95),9:F2} {values.FirstOrDefault(double.NaN),9:F2} {values.LastOrDefault(double.NaN),9:F2}"));
}
if (jsonPath is not null)
{
    await using var file = File.Create(jsonPath);
    await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
    json.WriteStartObject();
    json.WriteString("scenario", "browser join time");
    json.WriteString("label", options.GetValueOrDefault("label") ?? "");
    json.WriteNumber("runs", results.Count);
    WriteNumber(json, "server_idle_cpu_ms_per_s", idleCpuPerSecond);
    json.WriteString("loadavg", File.ReadAllText("/proc/loadavg").Trim());
    json.WriteStartObject("results");
    foreach (var (key, _, value) in rows)
    {
        var values = results.Select(value).Where(double.IsFinite).Order().ToArray();
        json.WriteStartObject(key);
        WriteNumber(json, "p50", Percentile(values, 50));
        WriteNumber(json, "p95", Percentile(values, 95));
        json.WriteEndObject();
    }
    json.WriteEndObject();
    json.WriteEndObject();
}
return 0;

string Get(string name, string fallback) => options.GetValueOrDefault(name) ?? fallback;

// WriteNumber writes null for a figure that could not be measured (NaN: e.g. no offer/answer
// pair in a room on the media server, whose messages are sfu-offer/sfu-answer), which JSON cannot hold.
static void WriteNumber(Utf8JsonWriter json, string name, double value)
{
    if (double.IsFinite(value))
    {
        json.WriteNumber(name, Math.Round(value, 3));
    }
    else
    {
        json.WriteNull(name);
    }
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

static Dictionary<string, string> ParseArgs(string[] args)
{
    var map = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        var name = args[i].TrimStart('-');
        map[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
    }
    return map;
}

static string ReadScript()
{
    using var stream = typeof(RunResult).Assembly.GetManifestResourceStream("Parley.JoinTime.timing.js")
        ?? throw new InvalidOperationException("timing.js is not embedded.");
    using var reader = new StreamReader(stream);
    return reader.ReadToEnd();
}

static async Task<PageHandle> OpenAsync(IBrowser browser, Uri baseUrl, string room, string script)
{
    var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl.ToString() });
    await context.AddInitScriptAsync(script);
    var page = await context.NewPageAsync();
    await page.GotoAsync($"/r/{room}");
    // The camera preview is live: getUserMedia is done, so the click measures joining only.
    await page.Locator(".preview[data-video='on']").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 15_000 });
    return new PageHandle(context, page);
}

static async Task ClickJoinAsync(PageHandle p, string name)
{
    await p.Page.GetByLabel("Your name").FillAsync(name);
    await p.Page.Locator("#join").ClickAsync();
}

static async Task<Timings> ReadAsync(PageHandle p) =>
    JsonSerializer.Deserialize<Timings>(await p.Page.EvaluateAsync<string>("() => JSON.stringify(window.__joinTime)"), Timings.Json)!;

static async Task<string?> ScrapeAsync(HttpClient http)
{
    try
    {
        return await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
    }
    catch (HttpRequestException)
    {
        return null;
    }
}

static double JoinMs(string? before, string? after)
{
    static double Read(string? text, string name) =>
        text?.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).Sum() ?? double.NaN;
    var count = Read(after, "parley_join_duration_seconds_count") - Read(before, "parley_join_duration_seconds_count");
    var sum = Read(after, "parley_join_duration_seconds_sum") - Read(before, "parley_join_duration_seconds_sum");
    return count > 0 ? sum / count * 1e3 : double.NaN;
}

/// <summary>PageHandle is one participant: a browser context of its own and its page.</summary>
internal sealed record PageHandle(IBrowserContext Context, IPage Page);

/// <summary>Message is one signaling message a page sent or received, with its time.</summary>
internal sealed record Message(string Dir, string Type, double At);

/// <summary>Timings are what timing.js recorded on one page (absolute ms on the page's clock).</summary>
internal sealed record Timings(double Click, double WsOpen, double JoinSent, double Joined, double PcCreated,
    double IceConnected, double Connected, double FirstFrame, string FrameMethod, Message[] Messages)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public double First(string dir, string type) =>
        Messages.FirstOrDefault(m => m.Dir == dir && m.Type == type)?.At ?? double.NaN;
}

/// <summary>RunResult is one run's figures, in ms from the second page's Join click.</summary>
internal sealed record RunResult(double WsOpen, double Joined, double IceConnected, double Connected, double FirstFrame,
    double PeerFirstFrame, double JoinRtt, double RelayTransit, double ServerJoin, double ServerCpu, double ServerCpuNet, double ServerShare,
    double SignalingShare, string FrameMethod)
{
    public static RunResult From(Timings b, Timings a, double serverCpuMs, double idleCpuMs, double serverJoinMs, bool haveCpu)
    {
        var click = b.Click;
        var joinRtt = b.Joined - b.JoinSent;
        // The joiner offers; the member answers. Both hops, without the member's own work between them,
        // each interval on one page's clock.
        var relay = (b.First("in", "answer") - b.First("out", "offer")) - (a.First("out", "answer") - a.First("in", "offer"));
        var total = b.FirstFrame - click;
        return new RunResult(
            b.WsOpen - click, b.Joined - click, b.IceConnected - click, b.Connected - click, total,
            a.FirstFrame - click, joinRtt, relay, serverJoinMs,
            haveCpu ? serverCpuMs : double.NaN,
            haveCpu ? Math.Max(0, serverCpuMs - idleCpuMs) : double.NaN,
            haveCpu ? Math.Max(0, serverCpuMs - idleCpuMs) / total * 100 : double.NaN,
            (joinRtt + relay) / total * 100,
            b.FrameMethod);
    }
}
