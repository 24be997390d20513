using System.Globalization;
using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.SfuBench;

/// <summary>
/// SevenBench measures a steady call through the media server: seven pages join one by one (the
/// fifth moves the room to Janus at MeshMax 4); once every page decodes every other (timed
/// in-page from the seventh Join click) and a settle time has passed, Parley's and Janus's CPU
/// (utime+stime from /proc/pid/stat, 10 ms ticks) over a window, sampled every second, beside the
/// browsers' and the whole machine's, and the video frame rate each tile decoded meanwhile.
/// </summary>
internal static class SevenBench
{
    private sealed record RunResult(double SeventhToAll, double WindowSeconds, double ParleyMsPerS, double JanusMsPerS, double BrowsersMsPerS,
        double MachineBusyPercent, double ParleySecondP50, double ParleySecondMax, double JanusSecondP50, double JanusSecondMax,
        double TileFpsMean, double TileFpsMin, int Tiles, string Load);

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var parties = options.Int("parties", 7);
        var meshMax = options.Int("mesh-max", 4);
        var runs = options.Int("runs", 1);
        var settle = TimeSpan.FromSeconds(options.Double("settle", 5));
        var window = TimeSpan.FromSeconds(options.Double("window", 20));
        if (parties > Pages.Names.Length || parties <= meshMax)
        {
            throw new ArgumentException($"--parties must be larger than --mesh-max and at most {Pages.Names.Length}.");
        }
        var loadStart = ProcStat.LoadAverage();
        await using var world = await SfuWorld.StartAsync(options, meshMax, "sfubench-seven", cancellationToken);
        var excluded = new HashSet<int> { world.Parley.ProcessId, world.JanusPid };

        // The idle servers, for reference: timers, keepalive, Janus's own loops.
        await Task.Delay(2000, cancellationToken);
        var idle = Stopwatch();
        var idleParley0 = ProcStat.CpuMs(world.Parley.ProcessId);
        var idleJanus0 = ProcStat.CpuMs(world.JanusPid);
        await Task.Delay(5000, cancellationToken);
        var idleSeconds = idle.Elapsed.TotalSeconds;
        var idleParley = (ProcStat.CpuMs(world.Parley.ProcessId) - idleParley0) / idleSeconds;
        var idleJanus = (ProcStat.CpuMs(world.JanusPid) - idleJanus0) / idleSeconds;

        var chromium = new Chromium();
        await chromium.InitializeAsync();
        var results = new List<RunResult>();
        try
        {
            for (var run = 0; run < runs; run++)
            {
                var r = await OneAsync(world, chromium.Browser, parties, settle, window, excluded, cancellationToken);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}: everyone saw everyone {r.SeventhToAll:F0} ms after the last Join click; over {r.WindowSeconds:F1} s: Parley {r.ParleyMsPerS:F1} ms/s, Janus {r.JanusMsPerS:F1} ms/s, browsers {r.BrowsersMsPerS:F0} ms/s, machine {r.MachineBusyPercent:F0}% busy; video {r.TileFpsMean:F1} fps per tile (min {r.TileFpsMin:F1}, {r.Tiles} tiles); load {r.Load}"));
                results.Add(r);
            }
        }
        finally
        {
            await chromium.DisposeAsync();
        }

        var rows = new List<Row>
        {
            new("parley_ms_per_s", "Parley CPU (ms per second)", [.. results.Select(r => r.ParleyMsPerS)]),
            new("parley_core_percent", "Parley CPU (% of a core)", [.. results.Select(r => r.ParleyMsPerS / 10)]),
            new("parley_second_p50", "  Parley, 1 s samples: p50 (ms/s)", [.. results.Select(r => r.ParleySecondP50)]),
            new("parley_second_max", "  Parley, 1 s samples: max (ms/s)", [.. results.Select(r => r.ParleySecondMax)]),
            new("janus_ms_per_s", "Janus CPU (ms per second)", [.. results.Select(r => r.JanusMsPerS)]),
            new("janus_core_percent", "Janus CPU (% of a core)", [.. results.Select(r => r.JanusMsPerS / 10)]),
            new("janus_second_p50", "  Janus, 1 s samples: p50 (ms/s)", [.. results.Select(r => r.JanusSecondP50)]),
            new("janus_second_max", "  Janus, 1 s samples: max (ms/s)", [.. results.Select(r => r.JanusSecondMax)]),
            new("browsers_core_percent", $"browsers: Chromium ({parties} pages) + Playwright driver (% of a core)", [.. results.Select(r => r.BrowsersMsPerS / 10)]),
            new("machine_busy_percent", $"machine busy (% of all {Environment.ProcessorCount} CPUs)", [.. results.Select(r => r.MachineBusyPercent)]),
            new("tile_fps_mean", "video decoded per tile (fps, mean over tiles)", [.. results.Select(r => r.TileFpsMean)]),
            new("tile_fps_min", "video decoded per tile (fps, slowest tile)", [.. results.Select(r => r.TileFpsMin)]),
            new("last_join_to_all_ms", $"join {parties} click → every page decodes every other (ms)", [.. results.Select(r => r.SeventhToAll)]),
        };
        var notes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["what"] = string.Create(CultureInfo.InvariantCulture, $"{parties} pages on the SFU (MeshMax {meshMax}); a {window.TotalSeconds:F0} s window starting {settle.TotalSeconds:F0} s after every page decoded every other"),
            ["idle_parley_ms_per_s"] = Report.F(idleParley, 2),
            ["idle_janus_ms_per_s"] = Report.F(idleJanus, 2),
            ["loadavg_start"] = loadStart,
            ["loadavg_end"] = ProcStat.LoadAverage(),
            ["loadavg_runs"] = string.Join("; ", results.Select(r => r.Load)),
        };
        Report.PrintTable($"{parties}-party call on the SFU: CPU over {window.TotalSeconds:F0} s, {settle.TotalSeconds:F0} s after everyone saw everyone ({results.Count} run(s))",
            [$"utime+stime from /proc/<pid>/stat (10 ms ticks); Parley is the published server (pid {world.Parley.ProcessId}), Janus pid {world.JanusPid}",
             $"idle before the call: Parley {Report.F(idleParley, 2)} ms/s, Janus {Report.F(idleJanus, 2)} ms/s; load average {loadStart} at the start, {ProcStat.LoadAverage()} at the end"],
            rows);
        if (options.Get("json") is { Length: > 0 } path)
        {
            await Report.WriteJsonAsync(path, $"{parties}-party SFU call CPU", notes, rows);
        }
        return 0;
    }

    private static async Task<RunResult> OneAsync(SfuWorld world, IBrowser browser, int parties, TimeSpan settle, TimeSpan window,
        HashSet<int> excluded, CancellationToken cancellationToken)
    {
        var room = Pages.NewRoom("seven");
        var people = new List<Participant>();
        try
        {
            foreach (var name in Pages.Names.Take(parties - 1))
            {
                var p = await Pages.OpenAsync(browser, world.Parley.BaseUri, room, name);
                people.Add(p);
                await p.JoinAsync();
            }
            await Pages.WaitForEveryoneAsync(people, TimeSpan.FromSeconds(60), cancellationToken);
            var last = await Pages.OpenAsync(browser, world.Parley.BaseUri, room, Pages.Names[parties - 1]);
            people.Add(last);
            await last.Page.GetByLabel("Your name").FillAsync(last.Name);
            foreach (var p in people)
            {
                await Pages.ArmAsync(p, people.Where(o => o != p).Select(o => o.Name), newConnectionsOnly: false, minRise: 3, timeoutMs: 90_000);
            }
            await last.Button("Join").ClickAsync();
            var watches = await Task.WhenAll(people.Select(Pages.DoneAsync));
            for (var i = 0; i < people.Count; i++)
            {
                if (!watches[i].Complete)
                {
                    throw new TimeoutException($"{people[i].Name}: not every tile decoded video within 90 s; seen: {string.Join(", ", watches[i].Seen.Keys)}.");
                }
            }
            var seventhToAll = watches.Max(w => w.Seen.Values.Max()) - watches[^1].Click;
            foreach (var p in people)
            {
                if (await Pages.ModeAsync(p) != "sfu")
                {
                    throw new InvalidOperationException($"{p.Name}: a room of {parties} is not on the SFU.");
                }
            }

            await Task.Delay(settle, cancellationToken);
            var load = ProcStat.LoadAverage();
            var tiles0 = await ReadTilesAsync(people);
            var browsers = ProcStat.Descendants(Environment.ProcessId, excluded);
            var clock = Stopwatch();
            var machine0 = ProcStat.Machine();
            var parley0 = ProcStat.CpuMs(world.Parley.ProcessId);
            var janus0 = ProcStat.CpuMs(world.JanusPid);
            var browsers0 = ProcStat.CpuMs(browsers);
            var parleySeconds = new List<double>();
            var janusSeconds = new List<double>();
            var (parleyPrev, janusPrev, prevAt) = (parley0, janus0, 0.0);
            while (clock.Elapsed < window)
            {
                var next = Math.Min(window.TotalSeconds, Math.Floor(clock.Elapsed.TotalSeconds) + 1);
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, next - clock.Elapsed.TotalSeconds)), cancellationToken);
                var at = clock.Elapsed.TotalSeconds;
                var parleyNow = ProcStat.CpuMs(world.Parley.ProcessId);
                var janusNow = ProcStat.CpuMs(world.JanusPid);
                parleySeconds.Add((parleyNow - parleyPrev) / (at - prevAt));
                janusSeconds.Add((janusNow - janusPrev) / (at - prevAt));
                (parleyPrev, janusPrev, prevAt) = (parleyNow, janusNow, at);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var machine1 = ProcStat.Machine();
            var browsersCpu = ProcStat.CpuMs(browsers) - browsers0;
            var tiles1 = await ReadTilesAsync(people);
            var fps = new List<double>();
            foreach (var (key, frames1) in tiles1)
            {
                fps.Add(tiles0.TryGetValue(key, out var frames0) ? (frames1 - frames0) / seconds : double.NaN);
            }
            return new RunResult(
                SeventhToAll: seventhToAll,
                WindowSeconds: seconds,
                ParleyMsPerS: (parleyPrev - parley0) / seconds,
                JanusMsPerS: (janusPrev - janus0) / seconds,
                BrowsersMsPerS: browsersCpu / seconds,
                MachineBusyPercent: (machine1.BusyTicks - machine0.BusyTicks) / (machine1.TotalTicks - machine0.TotalTicks) * 100,
                ParleySecondP50: Report.Percentile(parleySeconds, 50),
                ParleySecondMax: Report.Max(parleySeconds),
                JanusSecondP50: Report.Percentile(janusSeconds, 50),
                JanusSecondMax: Report.Max(janusSeconds),
                TileFpsMean: fps.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average(),
                TileFpsMin: Report.Min(fps),
                Tiles: fps.Count,
                Load: load);
        }
        finally
        {
            await Pages.CloseAllAsync(people);
        }
    }

    private static System.Diagnostics.Stopwatch Stopwatch() => System.Diagnostics.Stopwatch.StartNew();

    // ReadTilesAsync is every page's tiles' framesDecoded (probe.js), keyed "page/tile".
    private static async Task<Dictionary<string, double>> ReadTilesAsync(IEnumerable<Participant> people)
    {
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in people)
        {
            foreach (var t in await TileFlow.ReadAsync(p))
            {
                map[$"{p.Name}/{t.Name}"] = t.FramesDecoded;
            }
        }
        return map;
    }
}
