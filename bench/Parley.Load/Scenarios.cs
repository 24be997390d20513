using System.Globalization;

namespace Parley.Load;

/// <summary>RelaySettings shape a relay or latency run.</summary>
internal sealed record RelaySettings(int Rooms, int Window, int OfferEvery, double Warmup, double Duration, double MaxWarmup = 0)
{
    public static RelaySettings Read(Options o, int rooms, int window, double warmup, double duration) => new(
        o.Int("rooms", rooms),
        o.Int("window", window),
        o.String("message", "candidate") switch
        {
            "candidate" => 0,
            "offer" => 1,
            "mixed" => 10,
            var m => throw new ArgumentException($"--message must be candidate, offer or mixed, not '{m}'."),
        },
        o.Double("warmup", warmup),
        o.Double("duration", duration),
        o.Double("max-warmup", 90));
}

/// <summary>Scenarios are the benchmarks: relay throughput, latency at fixed rates, idle density, joins and the reconnect storm.</summary>
internal static class Scenarios
{
    /// <summary>Relay: rooms of two clients relaying as fast as the server takes it, a bounded window per client.</summary>
    public static async Task<Report> RelayAsync(Bench bench, RelaySettings s)
    {
        var report = new Report("relay throughput");
        report.Parameter("rooms", $"{s.Rooms} (2 clients each, {s.Rooms * 2} connections)");
        report.Parameter("message", RelayDriver.Describe(s.OfferEvery));
        report.Parameter("window", $"{s.Window} messages in flight per client");
        report.Parameter("timing", $"warm-up until the rate settles ({s.Warmup}-{s.MaxWarmup} s), then {s.Duration} s measured");
        report.Parameter("loops", bench.Loops);
        foreach (var spec in bench.Targets)
        {
            var target = new Target(spec.Url, spec.Floor, 1);
            using var fleet = new Fleet(target, s.Rooms * 2, bench.Loops, 256);
            await bench.JoinAsync(fleet, spec, TimeSpan.FromSeconds(60));
            var driver = new RelayDriver(fleet, s.OfferEvery, s.Window, 0);
            await driver.StartAsync();
            var warmed = s.MaxWarmup > s.Warmup
                ? await bench.WarmUpAsync(s.Warmup, s.MaxWarmup, fleet, spec)
                : await WarmFixedAsync(bench, s.Warmup, fleet, spec);
            report.Add(spec.Name, "warmup_s", "warm-up until the rate settled", warmed, "s");
            await MeasureAsync(bench, spec, fleet, driver, report, "", s.Duration);
            var left = await driver.StopAsync(TimeSpan.FromSeconds(3));
            if (left > 0)
            {
                fleet.Count($"failed: {left} messages never arrived");
            }
            report.Events(spec.Name, fleet.Events);
            await fleet.CloseAsync();
        }
        return report;
    }

    /// <summary>Latency: the same rooms paced to fixed total rates; percentiles from send to delivery.</summary>
    public static async Task<Report> LatencyAsync(Bench bench, RelaySettings s, IReadOnlyList<string> rates, double? knownMax)
    {
        var report = new Report("relay latency at fixed rates");
        report.Parameter("rooms", $"{s.Rooms} (2 clients each, {s.Rooms * 2} connections)");
        report.Parameter("message", RelayDriver.Describe(s.OfferEvery));
        report.Parameter("rates", string.Join(", ", rates) + " (msg/s; a percentage is of the target's measured maximum)");
        report.Parameter("timing", $"{s.Warmup} s warm-up, {s.Duration} s measured per rate");
        report.Parameter("latency", "send to delivery, both in the generator, Stopwatch ticks stamped into the message");
        foreach (var spec in bench.Targets)
        {
            var target = new Target(spec.Url, spec.Floor, 1);
            using var fleet = new Fleet(target, s.Rooms * 2, bench.Loops, 256);
            await bench.JoinAsync(fleet, spec, TimeSpan.FromSeconds(60));
            double? max = spec.Floor ? null : knownMax;
            foreach (var rateText in rates)
            {
                double rate;
                string key;
                if (rateText.EndsWith('%'))
                {
                    if (max is null)
                    {
                        var probe = new RelayDriver(fleet, s.OfferEvery, s.Window, 0);
                        await probe.StartAsync();
                        var warmed = s.MaxWarmup > s.Warmup
                            ? await bench.WarmUpAsync(s.Warmup, s.MaxWarmup, fleet, spec)
                            : await WarmFixedAsync(bench, s.Warmup, fleet, spec);
                        report.Add(spec.Name, "max_warmup_s", "max probe: warm-up until the rate settled", warmed, "s");
                        max = await MeasureAsync(bench, spec, fleet, probe, report, "max_", Math.Min(s.Duration, 5));
                        await probe.StopAsync(TimeSpan.FromSeconds(3));
                    }
                    var percent = double.Parse(rateText.TrimEnd('%'), CultureInfo.InvariantCulture);
                    rate = Math.Round(max.Value * percent / 100);
                    key = $"pct{percent:F0}_";
                }
                else
                {
                    rate = double.Parse(rateText, CultureInfo.InvariantCulture);
                    key = $"r{rate:F0}_";
                }
                var driver = new RelayDriver(fleet, s.OfferEvery, Math.Max(s.Window, 64), rate);
                await driver.StartAsync();
                await bench.RunPhaseAsync($"{rate:N0} msg/s warm-up", s.Warmup, fleet, spec);
                await MeasureAsync(bench, spec, fleet, driver, report, key, s.Duration, rate);
                await driver.StopAsync(TimeSpan.FromSeconds(3));
            }
            report.Events(spec.Name, fleet.Events);
            await fleet.CloseAsync();
        }
        return report;
    }

    private static async Task<double> WarmFixedAsync(Bench bench, double seconds, Fleet fleet, TargetSpec spec)
    {
        await bench.RunPhaseAsync("warm-up", seconds, fleet, spec);
        return seconds;
    }

    // MeasureAsync runs the measured window and adds its figures to the report; it returns messages/s.
    private static async Task<double> MeasureAsync(Bench bench, TargetSpec spec, Fleet fleet, RelayDriver driver, Report report, string key, double duration, double? rate = null)
    {
        var label = rate is { } r ? $"@ {r:N0}/s: " : key == "max_" ? "max probe: " : "";
        await fleet.OnEachLoopAsync(static loop => loop.Stats.Latency.Reset());
        var metricsBefore = await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken);
        driver.Measuring = true;
        var start = Snapshot.Take(fleet, spec.Pid);
        await bench.RunPhaseAsync(rate is null ? "measuring" : $"{rate:N0} msg/s measuring", duration, fleet, spec);
        var end = Snapshot.Take(fleet, spec.Pid);
        driver.Measuring = false;
        var metricsAfter = await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken);
        await Task.Delay(50);
        var latency = Bench.MergeLatency(fleet, static s => s.Latency);
        var seconds = end.Cpu.SecondsSince(start.Cpu);
        var relayed = end.Relayed - start.Relayed;
        var perSecond = relayed / seconds;
        var serverCpu = end.Cpu.ServerSince(start.Cpu);
        var n = spec.Name;
        if (rate is { } target)
        {
            report.Add(n, key + "target", label + "target rate", target, "msg/s");
        }
        report.Add(n, key + "rate", label + "relayed", perSecond, "msg/s");
        if (key != "max_")
        {
            report.Add(n, key + "mbps", label + "relayed payload", (end.Bytes - start.Bytes) / seconds / 1e6, "MB/s", 1);
            report.Add(n, key + "server_cpu", label + "server CPU", serverCpu / seconds * 100, "% of a core");
            report.Add(n, key + "server_sys", label + "  of which kernel", (end.Cpu.ServerSystem - start.Cpu.ServerSystem) / seconds * 100, "% of a core");
            report.Add(n, key + "cpu_per_msg", label + "server CPU per message", serverCpu / relayed * 1e6, "µs (= CPU-s per 1M msg)", 2);
            var allocated = Allocated(metricsAfter) - Allocated(metricsBefore);
            if (allocated is { } bytes)
            {
                report.Add(n, key + "alloc_per_msg", label + "server allocation per message", bytes / relayed, "B");
            }
            report.Add(n, key + "generator_cpu", label + "generator CPU", (end.Cpu.Self - start.Cpu.Self) / seconds * 100, "% of a core");
            report.Add(n, key + "p50", label + "latency p50", latency.Percentile(50) / 1e3, "µs", 0);
            report.Add(n, key + "p99", label + "latency p99", latency.Percentile(99) / 1e3, "µs", 0);
            report.Add(n, key + "p999", label + "latency p99.9", latency.Percentile(99.9) / 1e3, "µs", 0);
            report.Add(n, key + "max", label + "latency max", latency.Max / 1e3, "µs", 0);
            report.Add(n, key + "out_of_order", label + "lost or out of order", end.OutOfOrder - start.OutOfOrder, "");
            if (rate is not null)
            {
                report.Add(n, key + "skipped", label + "sends skipped (window full or late)", end.Throttled - start.Throttled, "");
            }
        }
        bench.Progress.Say(string.Create(CultureInfo.InvariantCulture,
            $"[{n}] {label}{perSecond:N0} msg/s, server CPU {serverCpu / relayed * 1e6:F2} µs/msg ({Bench.Percent(serverCpu / seconds)}), generator CPU {(end.Cpu.Self - start.Cpu.Self) / seconds * 100:F0}%, p50 {latency.Percentile(50) / 1e3:F0} µs, p99 {latency.Percentile(99) / 1e3:F0} µs"));
        return perSecond;
    }

    private static double? Allocated(string? metrics) =>
        PrometheusText.Sum(metrics, "dotnet_gc_heap_total_allocated_bytes_total")
        ?? PrometheusText.Sum(metrics, "process_runtime_dotnet_gc_allocations_size_bytes_total");

    private static double? HeapSize(string? metrics) =>
        PrometheusText.Sum(metrics, "dotnet_gc_last_collection_heap_size_bytes")
        ?? PrometheusText.Sum(metrics, "process_runtime_dotnet_gc_heap_size_bytes");

    /// <summary>Density: N joined, idle connections; the server's memory per connection.</summary>
    public static async Task<Report> DensityAsync(Bench bench, int connections, int sources, double hold)
    {
        var report = new Report("idle connection density");
        report.Parameter("connections", $"{connections:N0} joined and idle, in rooms of 2, from {sources} loopback source address(es)");
        report.Parameter("hold", $"{hold} s idle before measuring (the server pings idle connections after 15 s; the generator answers)");
        report.Parameter("memory", "server RSS and PSS (/proc/pid/smaps_rollup) after minus before, divided by N");
        foreach (var spec in bench.Targets)
        {
            var pid = spec.Pid ?? 0;
            if (spec.Pid is null)
            {
                report.Note($"[{spec.Name}] no server process id (--server-pid / --floor-pid): memory not measured.");
            }
            // Warm up: run the join path once so that JIT-compiled code is not counted per connection.
            var target = new Target(spec.Url, spec.Floor, sources);
            using (var warm = new Fleet(target, 200, bench.Loops, 100))
            {
                await bench.JoinAsync(warm, spec, TimeSpan.FromSeconds(60));
                await warm.CloseAsync();
            }
            await bench.SettleAsync(3);
            var before = pid > 0 ? Proc.Memory(pid) : (Rss: 0L, Pss: 0L);
            var heapBefore = HeapSize(await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken));
            using var fleet = new Fleet(target, connections, bench.Loops, 1000);
            var joinSeconds = await bench.JoinAsync(fleet, spec, TimeSpan.FromSeconds(Math.Max(60, connections / 500.0)));
            await bench.RunPhaseAsync("holding idle", hold, fleet, spec);
            var after = pid > 0 ? Proc.Memory(pid) : (Rss: 0L, Pss: 0L);
            var heapAfter = HeapSize(await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken));
            var n = spec.Name;
            report.Add(n, "connections", "joined at the end", fleet.Joined, "");
            report.Add(n, "rss_before", "server RSS before", before.Rss / 1048576.0, "MiB", 1);
            report.Add(n, "rss_after", "server RSS with N idle", after.Rss / 1048576.0, "MiB", 1);
            report.Add(n, "rss_per_conn", "RSS per connection", (after.Rss - before.Rss) / (double)connections / 1024, "KiB", 2);
            report.Add(n, "pss_per_conn", "PSS per connection", (after.Pss - before.Pss) / (double)connections / 1024, "KiB", 2);
            if (heapBefore is { } hb && heapAfter is { } ha)
            {
                report.Add(n, "heap_per_conn", "GC heap per connection (after last GC)", (ha - hb) / connections / 1024, "KiB", 2);
            }
            if (pid > 0)
            {
                report.Add(n, "threads", "server threads", double.Parse(Proc.Status(pid, "Threads"), CultureInfo.InvariantCulture), "");
            }
            report.Add(n, "generator_rss", "generator RSS", Proc.Memory(Environment.ProcessId).Rss / 1048576.0, "MiB", 1);
            report.Add(n, "join_seconds", "time to join all", joinSeconds, "s", 2);
            report.Events(n, fleet.Events);
            bench.Progress.Say(string.Create(CultureInfo.InvariantCulture,
                $"[{n}] {connections:N0} idle: RSS {(after.Rss - before.Rss) / (double)connections / 1024:F2} KiB/conn, PSS {(after.Pss - before.Pss) / (double)connections / 1024:F2} KiB/conn"));
            await fleet.CloseAsync();
            await bench.SettleAsync(2);
        }
        return report;
    }

    /// <summary>Joins: ramp N clients in (joins/s), then reset them all at once and time the reconnect storm.</summary>
    public static async Task<Report> JoinsAsync(Bench bench, int connections, int sources, int concurrency, int stormConcurrency)
    {
        var report = new Report("join rate and reconnect storm");
        report.Parameter("connections", $"{connections:N0} in rooms of 2, from {sources} loopback source address(es)");
        report.Parameter("ramp", $"connect, upgrade and join with at most {concurrency:N0} handshakes in flight");
        report.Parameter("storm", $"reset all {connections:N0} connections at once (RST); each reconnects and rejoins at once, "
            + (stormConcurrency <= 0 ? "no bound on handshakes in flight" : $"at most {stormConcurrency:N0} handshakes in flight")
            + "; a join answered room-full (its old connection not yet gone) is retried after 5-25 ms");
        foreach (var spec in bench.Targets)
        {
            var n = spec.Name;
            var target = new Target(spec.Url, spec.Floor, sources);
            using var fleet = new Fleet(target, connections, bench.Loops, concurrency);
            var metricsBefore = await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken);
            var cpu0 = CpuSample.Take(spec.Pid);
            var seconds = await bench.JoinAsync(fleet, spec, TimeSpan.FromSeconds(Math.Max(60, connections / 200.0)));
            var cpu1 = CpuSample.Take(spec.Pid);
            var metricsAfter = await PrometheusText.ScrapeAsync(spec.Url, bench.CancellationToken);
            var joinLatency = Bench.MergeLatency(fleet, static s => s.JoinLatency);
            report.Add(n, "joins_per_s", "ramp: joins", connections / seconds, "joins/s");
            report.Add(n, "ramp_seconds", "ramp: time to join all", seconds, "s", 2);
            report.Add(n, "ramp_cpu_per_join", "ramp: server CPU per join", cpu1.ServerSince(cpu0) / connections * 1e6, "µs", 0);
            report.Add(n, "ramp_server_cpu", "ramp: server CPU", cpu1.ServerSince(cpu0) / seconds * 100, "% of a core");
            report.Add(n, "ramp_generator_cpu", "ramp: generator CPU", (cpu1.Self - cpu0.Self) / seconds * 100, "% of a core");
            report.Add(n, "join_p50", "ramp: connect→joined p50", joinLatency.Percentile(50) / 1e6, "ms", 2);
            report.Add(n, "join_p99", "ramp: connect→joined p99", joinLatency.Percentile(99) / 1e6, "ms", 2);
            var serverJoins = PrometheusText.Sum(metricsAfter, "parley_join_duration_seconds_count") - PrometheusText.Sum(metricsBefore, "parley_join_duration_seconds_count");
            var serverJoinSum = PrometheusText.Sum(metricsAfter, "parley_join_duration_seconds_sum") - PrometheusText.Sum(metricsBefore, "parley_join_duration_seconds_sum");
            if (serverJoins is > 0 && serverJoinSum is { } sum)
            {
                report.Add(n, "server_join_mean", "ramp: server upgrade→joined mean (/metrics)", sum / serverJoins.Value * 1e3, "ms", 3);
            }
            await bench.SettleAsync(1);

            await fleet.OnEachLoopAsync(static loop => loop.Stats.SinceEpoch.Reset());
            fleet.ConnectConcurrency = stormConcurrency <= 0 ? int.MaxValue : Math.Max(1, stormConcurrency / bench.Loops);
            fleet.Reconnect = true;
            var stormCpu0 = CpuSample.Take(spec.Pid);
            fleet.Epoch = System.Diagnostics.Stopwatch.GetTimestamp();
            bench.Progress.Show(() => $"[{n}] storm: {fleet.Joined:N0}/{connections:N0} rejoined  failures {fleet.Failures}");
            await fleet.AbortAllAsync();
            var back = await fleet.WaitForJoinedAsync(connections, TimeSpan.FromSeconds(60), bench.CancellationToken);
            var stormSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(fleet.Epoch).TotalSeconds;
            var stormCpu1 = CpuSample.Take(spec.Pid);
            var since = Bench.MergeLatency(fleet, static s => s.SinceEpoch);
            report.Add(n, "storm_all_back", "storm: all rejoined after", back ? stormSeconds : double.NaN, "s", 2);
            report.Add(n, "storm_rejoined", "storm: rejoined", fleet.Joined, "");
            report.Add(n, "storm_p50", "storm: reset→rejoined p50", since.Percentile(50) / 1e6, "ms", 0);
            report.Add(n, "storm_p99", "storm: reset→rejoined p99", since.Percentile(99) / 1e6, "ms", 0);
            report.Add(n, "storm_server_cpu", "storm: server CPU", stormCpu1.ServerSince(stormCpu0) / stormSeconds * 100, "% of a core");
            report.Add(n, "storm_generator_cpu", "storm: generator CPU", (stormCpu1.Self - stormCpu0.Self) / stormSeconds * 100, "% of a core");
            report.Events(n, fleet.Events);
            bench.Progress.Say(string.Create(CultureInfo.InvariantCulture,
                $"[{n}] ramp {connections / seconds:N0} joins/s; storm: {(back ? $"all back in {stormSeconds:F2} s" : $"only {fleet.Joined:N0} back after {stormSeconds:F0} s")}"));
            await fleet.CloseAsync();
            await bench.SettleAsync(2);
        }
        return report;
    }
}
