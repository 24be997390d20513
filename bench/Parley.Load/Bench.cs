using System.Globalization;

namespace Parley.Load;

/// <summary>TargetSpec is one server to measure: its URL, whether it is the floor, and its process (for CPU and memory).</summary>
internal sealed record TargetSpec(string Name, Uri Url, bool Floor, int? Pid);

/// <summary>Snapshot is the fleet's counters and the CPU clocks at one moment.</summary>
internal readonly record struct Snapshot(CpuSample Cpu, long Relayed, long Sent, long Bytes, long OutOfOrder, long Throttled)
{
    public static Snapshot Take(Fleet fleet, int? pid)
    {
        long relayed = 0, sent = 0, bytes = 0, outOfOrder = 0, throttled = 0;
        foreach (var loop in fleet.Loops)
        {
            var s = loop.Stats;
            relayed += Volatile.Read(ref s.Relayed);
            sent += Volatile.Read(ref s.Sent);
            bytes += Volatile.Read(ref s.ReceivedBytes);
            outOfOrder += Volatile.Read(ref s.OutOfOrder);
            throttled += Volatile.Read(ref s.Throttled);
        }
        return new Snapshot(CpuSample.Take(pid), relayed, sent, bytes, outOfOrder, throttled);
    }
}

/// <summary>Bench holds what every scenario shares: the targets, the loops, the progress line, the deadline.</summary>
internal sealed class Bench(IReadOnlyList<TargetSpec> targets, int loops, Progress progress, CancellationToken cancellationToken)
{
    public IReadOnlyList<TargetSpec> Targets { get; } = targets;

    public int Loops { get; } = loops;

    public Progress Progress { get; } = progress;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>JoinAsync connects every client of the fleet and waits until all have joined.</summary>
    public async Task<double> JoinAsync(Fleet fleet, TargetSpec spec, TimeSpan timeout)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        Progress.Show(() => $"[{spec.Name}] joining: {fleet.Joined:N0}/{fleet.Clients.Length:N0}  failures {fleet.Failures}");
        fleet.ConnectAll();
        if (!await fleet.WaitForJoinedAsync(fleet.Clients.Length, timeout, CancellationToken))
        {
            throw new BenchmarkException($"[{spec.Name}] only {fleet.Joined:N0} of {fleet.Clients.Length:N0} clients joined within {timeout.TotalSeconds:F0} s. " + Describe(fleet.Events));
        }
        return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>RunPhaseAsync waits <paramref name="seconds"/> while the progress line shows the relay rate and CPU.</summary>
    public async Task RunPhaseAsync(string phase, double seconds, Fleet fleet, TargetSpec spec)
    {
        var last = Snapshot.Take(fleet, spec.Pid);
        var started = last.Cpu.Tick;
        var status = $"[{spec.Name}] {phase}";
        Progress.Show(() =>
        {
            var now = Snapshot.Take(fleet, spec.Pid);
            var dt = now.Cpu.SecondsSince(last.Cpu);
            var elapsed = (now.Cpu.Tick - started) / (double)System.Diagnostics.Stopwatch.Frequency;
            status = string.Create(CultureInfo.InvariantCulture,
                $"[{spec.Name}] {phase} {elapsed:F0}/{seconds:F0} s: {(now.Relayed - last.Relayed) / dt:N0} msg/s  server cpu {Percent(now.Cpu.ServerSince(last.Cpu) / dt)}  generator cpu {(now.Cpu.Self - last.Cpu.Self) / dt * 100:F0}%  joined {fleet.Joined:N0}  failures {fleet.Failures}");
            last = now;
            return status;
        });
        await Task.Delay(TimeSpan.FromSeconds(seconds), CancellationToken);
    }

    /// <summary>
    /// WarmUpAsync relays until the rate has settled: at least <paramref name="min"/> seconds, then
    /// until the last five one-second rates agree within 10% and are not still climbing, at most
    /// <paramref name="max"/> seconds. A server pinned to one saturated core tiers its hot methods
    /// up slowly (the JIT competes with the load): measured too early, it runs unoptimized code.
    /// </summary>
    public async Task<double> WarmUpAsync(double min, double max, Fleet fleet, TargetSpec spec)
    {
        var rates = new List<double>();
        var last = Snapshot.Take(fleet, spec.Pid);
        var started = last.Cpu.Tick;
        var elapsed = 0.0;
        Progress.Show(() => string.Create(CultureInfo.InvariantCulture,
            $"[{spec.Name}] warm-up {elapsed:F0} s (until the rate settles, {min:F0}-{max:F0} s): {(rates.Count > 0 ? rates[^1] : 0):N0} msg/s  failures {fleet.Failures}"));
        while (true)
        {
            await Task.Delay(1000, CancellationToken);
            var now = Snapshot.Take(fleet, spec.Pid);
            rates.Add((now.Relayed - last.Relayed) / now.Cpu.SecondsSince(last.Cpu));
            last = now;
            elapsed = (now.Cpu.Tick - started) / (double)System.Diagnostics.Stopwatch.Frequency;
            if (elapsed >= max)
            {
                return elapsed;
            }
            if (elapsed < min || rates.Count < 10)
            {
                continue;
            }
            var recent = rates.TakeLast(5).ToArray();
            var before = rates.SkipLast(5).TakeLast(5).Average();
            var mean = recent.Average();
            if (mean > 0 && (recent.Max() - recent.Min()) / mean < 0.10 && mean <= before * 1.03)
            {
                return elapsed;
            }
        }
    }

    public static string Percent(double share) => double.IsNaN(share) ? "n/a" : $"{share * 100:F0}%";

    public static string Describe(IReadOnlyDictionary<string, long> events) =>
        events.Count == 0 ? "" : "Events: " + string.Join("; ", events.OrderByDescending(static e => e.Value).Take(8).Select(static e => $"{e.Key} x{e.Value}"));

    /// <summary>MergeLatency adds up the loops' latency histograms.</summary>
    public static Histogram MergeLatency(Fleet fleet, Func<LoopStats, Histogram> which)
    {
        var merged = new Histogram();
        foreach (var loop in fleet.Loops)
        {
            merged.Add(which(loop.Stats));
        }
        return merged;
    }

    /// <summary>SettleAsync gives the server a moment after a phase (connections closing, garbage collected).</summary>
    public Task SettleAsync(double seconds) => Task.Delay(TimeSpan.FromSeconds(seconds), CancellationToken);
}

/// <summary>BenchmarkException is a run that could not produce its figures; the message says why.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
