using System.Globalization;
using System.Text.Json;
using Parley.Load;

const string Usage = """
Parley.Load: load generator for the Parley signaling server (protocol v1) and the floor relay.

Usage: Parley.Load <relay|latency|density|joins|smoke> [options]

Targets (each scenario runs against every target given, one after the other):
  --url URL            Parley server (default http://127.0.0.1:8000; 'none' to skip)
  --server-pid PID     Parley's process, for CPU and memory (default auto: who listens on the port; 'none')
  --floor-url URL      the floor relay (bench/Parley.Floor), measured the same way
  --floor-pid PID      the floor's process (default auto)
  --floor              treat --url as a floor (pair instead of join)
Common:
  --loops N            event-loop threads in the generator (default 1)
  --json FILE          also write the results as JSON
relay:    --rooms 100 --window 16 --message candidate|offer|mixed --warmup 15 --max-warmup 90 --duration 10
          (warm-up lasts until the rate settles, between --warmup and --max-warmup seconds)
latency:  --rooms 50 --rates 10000,20000,50% [--max MSG_PER_S] --message ... --warmup 5 --duration 10
density:  --connections 10000 [--sources N] --hold 20
joins:    --connections 10000 [--sources N] --concurrency 1000 --storm-concurrency 0 (0: all at once)
smoke:    a few seconds of each scenario at small sizes; exits 1 if anything failed

The server must allow the load: run it with
  --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 --Parley:ResumeWindow=00:00:00
Only loopback addresses (127.0.0.0/8) are accepted as targets.
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var scenario = args[0];
try
{
    var o = new Options(args.Skip(1));
    var targets = new List<TargetSpec>();
    var url = o.String("url", "http://127.0.0.1:8000")!;
    var floorFlag = o.Flag("floor");
    if (url != "none")
    {
        var u = new Uri(url);
        targets.Add(new TargetSpec(floorFlag ? "floor" : "parley", u, floorFlag, o.Pid("server-pid", u)));
    }
    else
    {
        _ = o.String("server-pid");
    }
    if (o.String("floor-url") is { } floorUrl)
    {
        var u = new Uri(floorUrl);
        targets.Add(new TargetSpec("floor", u, true, o.Pid("floor-pid", u)));
    }
    else
    {
        _ = o.String("floor-pid");
    }
    var loops = o.Int("loops", 1);
    var jsonPath = o.String("json");
    var limit = Native.RaiseFileLimit();

    using var cts = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cts.Cancel();
    };
    using var progress = new Progress();
    var bench = new Bench(targets, loops, progress, cts.Token);
    var machine = Machine.Describe();
    foreach (var t in targets)
    {
        progress.Say($"{t.Name}: {t.Url} pid {(t.Pid is { } p ? $"{p} (CPUs {Proc.Status(p, "Cpus_allowed_list")})" : "unknown")}");
    }
    progress.Say($"generator: pid {Environment.ProcessId}, CPUs {Proc.Status(Environment.ProcessId, "Cpus_allowed_list")}, {loops} loop(s), open-file limit {limit}, load average {Machine.LoadAverage()}");

    int SourcesFor(int connections) => o.Int("sources", Math.Max(1, (connections + 19_999) / 20_000));
    void NeedFiles(int connections)
    {
        if (limit > 0 && limit < connections + 100)
        {
            throw new BenchmarkException($"The open-file limit ({limit}) is below {connections:N0} connections: raise it (ulimit -n) for the generator and the server.");
        }
    }

    var reports = new List<Report>();
    var failed = false;
    switch (scenario)
    {
        case "relay":
        {
            var s = RelaySettings.Read(o, 100, 16, 15, 10);
            o.CheckAllRead();
            reports.Add(await Scenarios.RelayAsync(bench, s));
            break;
        }
        case "latency":
        {
            var s = RelaySettings.Read(o, 50, 32, 5, 10);
            var rates = o.String("rates", "10000,20000,50%")!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            double? max = o.String("max") is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : null;
            o.CheckAllRead();
            reports.Add(await Scenarios.LatencyAsync(bench, s, rates, max));
            break;
        }
        case "density":
        {
            var n = o.Int("connections", 10_000);
            var sources = SourcesFor(n);
            var hold = o.Double("hold", 20);
            o.CheckAllRead();
            NeedFiles(n);
            reports.Add(await Scenarios.DensityAsync(bench, n, sources, hold));
            break;
        }
        case "joins":
        {
            var n = o.Int("connections", 10_000);
            var sources = SourcesFor(n);
            var concurrency = o.Int("concurrency", 1000);
            var storm = o.Int("storm-concurrency", 0);
            o.CheckAllRead();
            NeedFiles(n);
            reports.Add(await Scenarios.JoinsAsync(bench, n, sources, concurrency, storm));
            break;
        }
        case "smoke":
        {
            o.CheckAllRead();
            reports.Add(await Scenarios.RelayAsync(bench, new RelaySettings(10, 8, 10, 1, 2)));
            reports.Add(await Scenarios.LatencyAsync(bench, new RelaySettings(10, 32, 0, 1, 2), ["1000"], null));
            reports.Add(await Scenarios.DensityAsync(bench, 200, 2, 1));
            reports.Add(await Scenarios.JoinsAsync(bench, 200, 2, 50, 0));
            failed = !Smoke.Check(reports, targets, progress);
            break;
        }
        default:
            throw new ArgumentException($"Unknown scenario '{scenario}'.");
    }

    progress.Dispose();
    foreach (var report in reports)
    {
        report.Print(Console.Out);
    }
    Console.WriteLine($"\n   load average at the end: {Machine.LoadAverage()}");
    if (jsonPath is not null)
    {
        await using var file = File.Create(jsonPath);
        await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("machine");
        foreach (var (key, value) in machine)
        {
            json.WriteString(key, value);
        }
        json.WriteString("loadavg_end", Machine.LoadAverage());
        json.WriteEndObject();
        json.WriteStartObject("targets");
        foreach (var t in targets)
        {
            json.WriteStartObject(t.Name);
            json.WriteString("url", t.Url.ToString());
            json.WriteString("cpus", t.Pid is { } p ? Proc.Status(p, "Cpus_allowed_list") : "");
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteStartArray("reports");
        foreach (var report in reports)
        {
            report.WriteJson(json);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
    return failed ? 1 : 0;
}
catch (Exception e) when (e is ArgumentException or BenchmarkException or FormatException)
{
    Console.Error.WriteLine($"\nParley.Load {scenario}: {e.Message}");
    return e is BenchmarkException ? 1 : 2;
}
