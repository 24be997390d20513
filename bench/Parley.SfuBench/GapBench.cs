using System.Globalization;
using Parley.Testing;

namespace Parley.SfuBench;

/// <summary>
/// GapBench measures what a switch of media path costs the people watching: MeshMax − 1 pages
/// (three at MeshMax 4) stay in a call while two more join (the second join switches the room up
/// to the SFU) and leave again (after MeshReturnDelay the room switches back down to a mesh), over
/// and over. On each staying page, Parley.Testing's <see cref="GapWatch"/> records, per other
/// staying participant, the longest gap between decoded video frames (requestVideoFrameCallback)
/// and in played-out audio packets (the receiver's synchronization source, every 100 ms) from just before the click to the end of
/// the switch (every page on its new path with two connections, and everyone playing).
/// </summary>
internal static class GapBench
{
    private sealed record Sample(string Direction, int Switch, string Page, string Of, double VideoGap, double AudioGap, double PageStall, double Took);

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var switches = options.Int("switches", 10);
        var steady = TimeSpan.FromSeconds(options.Int("steady-seconds", 10));
        var meshMax = options.Int("mesh-max", 4);
        if (meshMax < 2 || meshMax + 1 > Pages.Names.Length)
        {
            throw new ArgumentException($"--mesh-max is between 2 and {Pages.Names.Length - 1}.");
        }
        var loadStart = ProcStat.LoadAverage();
        // A short return delay: the wait before a switch down is policy, not what is measured.
        await using var world = await SfuWorld.StartAsync(options.WithDefault("mesh-return-delay", "00:00:03"), meshMax, "sfubench-gaps", cancellationToken);
        var chromium = new Chromium();
        await chromium.InitializeAsync();
        var room = Pages.NewRoom("gaps");
        var stayers = new List<Participant>();
        var samples = new List<Sample>();
        try
        {
            foreach (var name in Pages.Names.Take(meshMax - 1))
            {
                var p = await Pages.OpenAsync(chromium.Browser, world.Parley.BaseUri, room, name, gaps: true);
                stayers.Add(p);
                await p.JoinAsync();
            }
            await Pages.WaitForEveryoneAsync(stayers, TimeSpan.FromSeconds(30), cancellationToken);
            for (var n = 1; n <= switches; n++)
            {
                var visitors = new List<Participant>();
                try
                {
                    foreach (var name in Pages.Names.Skip(meshMax - 1).Take(2))
                    {
                        visitors.Add(await Pages.OpenAsync(chromium.Browser, world.Parley.BaseUri, room, name));
                    }
                    // Up: the first visitor makes MeshMax (still a mesh), the second one more.
                    await visitors[0].JoinAsync();
                    await SettleAsync([.. stayers, visitors[0]], "mesh", meshMax - 1, cancellationToken);
                    // The control: the same pages in a steady call, no switch, for as long.
                    var started = await StartAsync(stayers);
                    await Task.Delay(steady, cancellationToken);
                    samples.AddRange(await ReadAsync(stayers, "steady", n, started));
                    started = await StartAsync(stayers);
                    await visitors[1].JoinAsync();
                    await SettleAsync([.. stayers, .. visitors], "sfu", 2, cancellationToken);
                    samples.AddRange(await ReadAsync(stayers, "up", n, started));

                    // Down: both visitors leave; after MeshReturnDelay the room goes back to a mesh.
                    started = await StartAsync(stayers);
                    foreach (var v in visitors)
                    {
                        await v.Button("Leave meeting").ClickAsync();
                    }
                    await SettleAsync(stayers, "mesh", stayers.Count - 1, cancellationToken);
                    samples.AddRange(await ReadAsync(stayers, "down", n, started));
                }
                catch
                {
                    // What the pages said is the best clue to a switch that did not happen.
                    foreach (var p in stayers.Concat(visitors))
                    {
                        foreach (var line in p.Log.TakeLast(30))
                        {
                            Console.Error.WriteLine($"[{p.Name}] {line}");
                        }
                        Console.Error.WriteLine($"[{p.Name}] connections: {await ConnectionsAsync(p)}");
                    }
                    throw;
                }
                finally
                {
                    await Pages.CloseAllAsync(visitors);
                }
                var still = samples.Where(s => s.Direction == "steady" && s.Switch == n).ToList();
                var up = samples.Where(s => s.Direction == "up" && s.Switch == n).ToList();
                var down = samples.Where(s => s.Direction == "down" && s.Switch == n).ToList();
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"switch {n}: steady: longest video gap {still.Max(s => s.VideoGap):F0} ms, audio {still.Max(s => s.AudioGap):F0} ms, page stall {still.Max(s => s.PageStall):F0} ms; up: video {up.Max(s => s.VideoGap):F0} ms, audio {up.Max(s => s.AudioGap):F0} ms, page stall {up.Max(s => s.PageStall):F0} ms, {up[0].Took:F1} s; down: video {down.Max(s => s.VideoGap):F0} ms, audio {down.Max(s => s.AudioGap):F0} ms, page stall {down.Max(s => s.PageStall):F0} ms, {down[0].Took:F1} s; load {ProcStat.LoadAverage()}"));
            }
        }
        finally
        {
            await Pages.CloseAllAsync(stayers);
            await chromium.DisposeAsync();
        }

        var rows = new List<Row>();
        foreach (var direction in new[] { "steady", "up", "down" })
        {
            var of = samples.Where(s => s.Direction == direction).ToList();
            rows.Add(new($"{direction}_page_stall", $"{direction}: each staying page's own longest stall, left out of the gaps (ms)",
                [.. of.GroupBy(s => (s.Switch, s.Page)).Select(g => g.Max(s => s.PageStall))]));
            rows.Add(new($"{direction}_video_gap", $"{direction}: longest gap in decoded video, per watched participant (ms)", [.. of.Select(s => s.VideoGap)]));
            rows.Add(new($"{direction}_audio_gap", $"{direction}: longest gap in received audio, per watched participant (ms)", [.. of.Select(s => s.AudioGap)]));
            rows.Add(new($"{direction}_video_worst", $"{direction}: the worst video gap of each switch (ms)",
                [.. of.GroupBy(s => s.Switch).Select(g => g.Max(s => s.VideoGap))]));
            if (direction != "steady")
            {
                rows.Add(new($"{direction}_took", $"{direction}: from the click until every page is on its new path alone and plays everyone (ms)",
                    [.. of.GroupBy(s => s.Switch).Select(g => g.First().Took * 1000)]));
            }
        }
        var notes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["what"] = $"the longest gap each staying page saw in each other staying participant's video and audio across a switch, MeshMax {meshMax}",
            ["switches"] = switches.ToString(CultureInfo.InvariantCulture),
            ["loadavg_start"] = loadStart,
            ["loadavg_end"] = ProcStat.LoadAverage(),
        };
        Report.PrintTable($"switch gaps: {switches} switches up ({meshMax} → {meshMax + 1}) and down ({meshMax + 1} → {meshMax - 1})",
            [$"{meshMax - 1} pages stay; on each, per other staying participant, the longest gap from just before the Join (up) or Leave (down) click",
             "until every page is on its new path with two connections and everyone plays; video: requestVideoFrameCallback; audio: the last packet played out, every 100 ms (± 100 ms);",
             $"gaps count only the time the page ran (its own stalls are left out, and shown); steady: the {meshMax}-page mesh for {steady.TotalSeconds:F0} s before each switch, no switch",
             $"load average {loadStart} at the start, {ProcStat.LoadAverage()} at the end"],
            rows);
        if (options.Get("json") is { Length: > 0 } path)
        {
            await Report.WriteJsonAsync(path, "switch gaps", notes, rows);
        }
        return 0;
    }

    /// <summary>ConnectionsAsync describes each peer connection of a page: its states and what each inbound stream received and decoded.</summary>
    private static Task<string> ConnectionsAsync(Participant p) => p.Page.EvaluateAsync<string>("""
        async () => {
          const out = [];
          for (const pc of window.__pcs || []) {
            const rtp = [];
            (await pc.getStats()).forEach((s) => {
              if (s.type === 'inbound-rtp') rtp.push(`${s.kind}:${s.mid}:${s.packetsReceived}p/${s.framesDecoded ?? '-'}f/${s.frameWidth ?? '-'}w`);
            });
            out.push(`${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState} [${rtp.join(' ')}]`);
          }
          return `${document.visibilityState}; ` + out.join(' | ');
        }
        """);

    /// <summary>SettleAsync waits until every page shows <paramref name="mode"/>, has <paramref name="connections"/> open connections and plays everyone.</summary>
    private static async Task SettleAsync(IReadOnlyList<Participant> people, string mode, int connections, CancellationToken cancellationToken)
    {
        // A switch may take up to Parley:Sfu:SwitchTimeout (30 s) before the old connections close.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var p in people)
        {
            while (await Pages.ModeAsync(p) != mode || await TileFlow.OpenConnectionsAsync(p) != connections)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{p.Name}: mode {await Pages.ModeAsync(p)} with {await TileFlow.OpenConnectionsAsync(p)} connections, not {mode} with {connections}, after 60 s.");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
        await Pages.WaitForEveryoneAsync(people, TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>StartAsync starts the gaps on every page and gives the time it did: the click that begins a switch comes right after.</summary>
    private static async Task<DateTime> StartAsync(IEnumerable<Participant> pages)
    {
        var started = DateTime.UtcNow;
        foreach (var p in pages)
        {
            await GapWatch.StartAsync(p);
        }
        return started;
    }

    private static async Task<List<Sample>> ReadAsync(IReadOnlyList<Participant> stayers, string direction, int n, DateTime started)
    {
        var took = DateTime.UtcNow - started;
        var found = new List<Sample>();
        foreach (var p in stayers)
        {
            var gaps = await GapWatch.ReadAsync(p);
            foreach (var other in stayers.Where(o => o != p))
            {
                var gap = gaps.SingleOrDefault(g => g.Name == other.Name)
                    ?? throw new InvalidOperationException($"{p.Name}'s page has no tile of {other.Name}.");
                found.Add(new Sample(direction, n, p.Name, other.Name, gap.VideoGap, gap.AudioGap, gap.PageStall, took.TotalSeconds));
            }
        }
        return found;
    }
}
