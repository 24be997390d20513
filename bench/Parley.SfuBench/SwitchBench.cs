using System.Globalization;
using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.SfuBench;

/// <summary>
/// SwitchBench times the move of a room from a mesh to the media server: MeshMax pages join and
/// play each other peer to peer; then one more page clicks Join, which moves the room to Janus.
/// From that click, each page notes in-page (sfubench.js, getStats every 50 ms) when the tile of
/// every other participant first decodes video that arrives on one of the page's new connections
/// (the SFU's), and the time its mesh closed, its mode changed and its new connections connected.
/// </summary>
internal static class SwitchBench
{
    private sealed record RunResult(
        double AllSeeAll, double FirstTile, double NewcomerAll, double OldPagesAll, double OldLearnSfu, double OldMeshClosed,
        double FirstSfuConnected, double LastSfuConnected, double RoomCreated, double ParleyCpuMs, double JanusCpuMs,
        double JanusRequestCount, double JanusRequestMs, double PollMeanMs, string Slowest, string Requests, string Load);

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var runs = options.Int("runs", 5);
        var warmupRuns = options.Int("warmup-runs", 1);
        var meshMax = options.Int("mesh-max", 4);
        if (meshMax + 1 > Pages.Names.Length)
        {
            throw new ArgumentException($"--mesh-max is at most {Pages.Names.Length - 1}.");
        }
        var loadStart = ProcStat.LoadAverage();
        await using var world = await SfuWorld.StartAsync(options, meshMax, "sfubench-switch", cancellationToken);
        var chromium = new Chromium();
        await chromium.InitializeAsync();
        var results = new List<RunResult>();
        try
        {
            for (var run = 0; run < warmupRuns + runs; run++)
            {
                var warm = run < warmupRuns;
                var r = await OneAsync(world, chromium.Browser, meshMax, cancellationToken);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1 - warmupRuns}{(warm ? " (warm-up)" : "")}: every page sees every other after {r.AllSeeAll:F0} ms (slowest: {r.Slowest}); old pages learned 'sfu' by {r.OldLearnSfu:F0} ms, mesh closed by {r.OldMeshClosed:F0} ms; SFU connections connected {r.FirstSfuConnected:F0}–{r.LastSfuConnected:F0} ms; Janus room created at {r.RoomCreated:F0} ms; Janus requests: {r.Requests}; load {r.Load}"));
                if (!warm)
                {
                    results.Add(r);
                }
                await Task.Delay(1000, cancellationToken);
            }
        }
        finally
        {
            await chromium.DisposeAsync();
        }

        var rows = new List<Row>
        {
            new("all_see_all", "every page decodes every other through the SFU", [.. results.Select(r => r.AllSeeAll)]),
            new("first_tile", "first tile, any page, decodes through the SFU", [.. results.Select(r => r.FirstTile)]),
            new("newcomer_all", $"the joiner decodes all {meshMax}", [.. results.Select(r => r.NewcomerAll)]),
            new("old_pages_all", $"the {meshMax} earlier pages decode all {meshMax} others", [.. results.Select(r => r.OldPagesAll)]),
            new("old_learn_sfu", "earlier pages show mode 'sfu' (latest page)", [.. results.Select(r => r.OldLearnSfu)]),
            new("old_mesh_closed", "earlier pages closed their mesh connections (latest)", [.. results.Select(r => r.OldMeshClosed)]),
            new("room_created", "Parley logged the Janus room created (server clock)", [.. results.Select(r => r.RoomCreated)]),
            new("first_sfu_connected", "first SFU connection 'connected' (any page)", [.. results.Select(r => r.FirstSfuConnected)]),
            new("last_sfu_connected", "last SFU connection 'connected' (all pages, both)", [.. results.Select(r => r.LastSfuConnected)]),
            new("parley_cpu_ms", "Parley CPU, click → everyone (ms of CPU)", [.. results.Select(r => r.ParleyCpuMs)]),
            new("janus_cpu_ms", "Janus CPU, click → everyone (ms of CPU)", [.. results.Select(r => r.JanusCpuMs)]),
            new("janus_requests", "Janus requests Parley made, click → everyone", [.. results.Select(r => r.JanusRequestCount)]),
            new("janus_request_ms", "  their summed duration (ms; one room loop, in order)", [.. results.Select(r => r.JanusRequestMs)]),
            new("poll_ms", "watch: mean time of one getStats round (ms)", [.. results.Select(r => r.PollMeanMs)]),
        };
        var notes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["what"] = $"ms from the Join click of page {meshMax + 1}, which moves a mesh of {meshMax} to the SFU (MeshMax {meshMax})",
            ["runs"] = string.Create(CultureInfo.InvariantCulture, $"{results.Count} runs after {warmupRuns} warm-up"),
            ["loadavg_start"] = loadStart,
            ["loadavg_end"] = ProcStat.LoadAverage(),
            ["loadavg_runs"] = string.Join("; ", results.Select(r => r.Load)),
        };
        Report.PrintTable($"mesh → SFU: the join that makes a mesh of {meshMax} into {meshMax + 1} ({results.Count} runs after {warmupRuns} warm-up)",
            [$"ms from page {meshMax + 1}'s Join click, all clocks the machine's; a tile counts when its video, arriving on a connection made after the click, has decoded a frame",
             $"(getStats every 50 ms in each page: ± one poll); load average {loadStart} at the start, {ProcStat.LoadAverage()} at the end"],
            rows);
        foreach (var r in results)
        {
            Console.WriteLine($"   run: Janus requests {r.Requests}");
        }
        if (options.Get("json") is { Length: > 0 } path)
        {
            await Report.WriteJsonAsync(path, "mesh to SFU switch", notes, rows);
        }
        return 0;
    }

    private static async Task<RunResult> OneAsync(SfuWorld world, IBrowser browser, int meshMax, CancellationToken cancellationToken)
    {
        var room = Pages.NewRoom("sw");
        var people = new List<Participant>();
        try
        {
            foreach (var name in Pages.Names.Take(meshMax))
            {
                var p = await Pages.OpenAsync(browser, world.Parley.BaseUri, room, name);
                people.Add(p);
                await p.JoinAsync();
            }
            await Pages.WaitForEveryoneAsync(people, TimeSpan.FromSeconds(30), cancellationToken);
            foreach (var p in people)
            {
                if (await Pages.ModeAsync(p) != "mesh")
                {
                    throw new InvalidOperationException($"{p.Name}: a room of {meshMax} is not a mesh (MeshMax {meshMax}).");
                }
            }
            var newcomer = await Pages.OpenAsync(browser, world.Parley.BaseUri, room, Pages.Names[meshMax]);
            people.Add(newcomer);
            await newcomer.Page.GetByLabel("Your name").FillAsync(newcomer.Name);
            await Task.Delay(300, cancellationToken);

            var load = ProcStat.LoadAverage();
            var before = JanusRequests.Parse(await world.Parley.ScrapeAsync(cancellationToken));
            foreach (var p in people)
            {
                await Pages.ArmAsync(p, people.Where(o => o != p).Select(o => o.Name), newConnectionsOnly: true, minRise: 1, timeoutMs: 60_000);
            }
            var parleyCpu0 = ProcStat.CpuMs(world.Parley.ProcessId);
            var janusCpu0 = ProcStat.CpuMs(world.JanusPid);
            await newcomer.Button("Join").ClickAsync();
            var watches = await Task.WhenAll(people.Select(Pages.DoneAsync));
            var parleyCpu = ProcStat.CpuMs(world.Parley.ProcessId) - parleyCpu0;
            var janusCpu = ProcStat.CpuMs(world.JanusPid) - janusCpu0;
            var requests = JanusRequests.Parse(await world.Parley.ScrapeAsync(cancellationToken)).Since(before);

            var click = watches[^1].Click;
            for (var i = 0; i < people.Count; i++)
            {
                if (!watches[i].Complete)
                {
                    throw new TimeoutException($"{people[i].Name}: not every tile decoded through the SFU within 60 s; seen: {string.Join(", ", watches[i].Seen.Keys)}.");
                }
            }
            // Every page is on the SFU and its media keeps flowing (a coarse check, not timed).
            foreach (var p in people)
            {
                if (await Pages.ModeAsync(p) != "sfu")
                {
                    throw new InvalidOperationException($"{p.Name}: the room did not move to the SFU.");
                }
            }
            await Pages.WaitForEveryoneAsync(people, TimeSpan.FromSeconds(20), cancellationToken);

            var allSeen = watches.Select(w => w.Seen.Values.Max() - click).ToArray();
            var slowest = Array.IndexOf(allSeen, allSeen.Max());
            var old = watches[..^1];
            return new RunResult(
                AllSeeAll: allSeen.Max(),
                FirstTile: watches.Min(w => w.Seen.Values.Min()) - click,
                NewcomerAll: allSeen[^1],
                OldPagesAll: allSeen[..^1].Max(),
                OldLearnSfu: old.Max(w => w.Mode.GetValueOrDefault("sfu", double.NaN)) - click,
                OldMeshClosed: old.Max(w => w.OldPcs.Select(pc => pc.Closed > 0 ? pc.Closed : double.NaN).DefaultIfEmpty(double.NaN).Max()) - click,
                FirstSfuConnected: watches.SelectMany(w => w.NewPcs).Select(pc => pc.Connected > 0 ? pc.Connected : double.NaN).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min() - click,
                LastSfuConnected: watches.SelectMany(w => w.NewPcs).Select(pc => pc.Connected > 0 ? pc.Connected : double.NaN).DefaultIfEmpty(double.NaN).Max() - click,
                RoomCreated: LoggedAt(world.Parley.Lines, $"SFU room {room} created") - click,
                ParleyCpuMs: parleyCpu,
                JanusCpuMs: janusCpu,
                JanusRequestCount: requests.TotalCount,
                JanusRequestMs: requests.TotalMs,
                PollMeanMs: watches.Average(w => w.PollMeanMs),
                Slowest: people[slowest].Name,
                Requests: requests.Describe(),
                Load: load);
        }
        finally
        {
            await Pages.CloseAllAsync(people);
        }
    }

    /// <summary>LoggedAt is the Unix ms of the first server log line containing <paramref name="text"/> (its UTC timestamp), or NaN.</summary>
    public static double LoggedAt(IEnumerable<string> lines, string text)
    {
        foreach (var line in lines)
        {
            if (!line.Contains(text, StringComparison.Ordinal))
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return at.ToUnixTimeMilliseconds();
            }
        }
        return double.NaN;
    }
}
