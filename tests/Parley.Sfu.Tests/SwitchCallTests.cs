using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// SwitchCallTests: a call that switches from mesh to the media server and back, made before it
/// breaks, in real Chromium pages: every remote participant's video keeps decoding on every page
/// throughout. The tests record the largest gap they saw and fail only on a lost stream (> 2 s);
/// the fine figure is the benchmark's (docs/benchmarks.md).
/// </summary>
public sealed class SwitchCallTests(Chromium chromium)
{
    private static readonly TimeSpan Lost = TimeSpan.FromSeconds(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_fifth_join_switches_up_and_leaves_switch_back_down_with_every_stream_decoding_throughout()
    {
        await using var call = await SfuCall.StartAsync("switch-seamless", meshMax: 4, Ct,
            extra: new Dictionary<string, string?> { ["Parley:Sfu:MeshReturnDelay"] = "00:00:03" });
        var people = new List<Participant>();
        foreach (var name in new[] { "Ada", "Grace", "Alan", "Edsger" })
        {
            people.Add(await call.JoinAsync(chromium.Browser, name, GapWatch.Script));
        }
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 3);
        await StartGapsAsync(people);

        people.Add(await call.JoinAsync(chromium.Browser, "Barbara", GapWatch.Script));
        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu");
        }
        // Switched up when every page is down to its two SFU connections and everyone plays.
        await SfuCall.WaitForConnectionsAsync(people, 2, Ct);
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2);
        await CheckGapsAsync(people[..4], "up");

        await StartGapsAsync(people);
        foreach (var leaving in people[3..])
        {
            await leaving.Button("Leave meeting").ClickAsync();
        }
        people = people[..3];
        foreach (var p in people)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "mesh", new() { Timeout = 15_000 });
        }
        // Switched down when every page is down to a mesh of two connections and everyone plays.
        await SfuCall.WaitForConnectionsAsync(people, 2, Ct);
        await SfuCall.WaitForEveryoneAsync(people, Ct, maxConnections: 2);
        await CheckGapsAsync(people, "down");

        // Both switches counted, each with how long it took.
        using var http = new HttpClient { BaseAddress = call.Parley.BaseUri };
        var metrics = await http.GetStringAsync("/metrics", Ct);
        foreach (var direction in new[] { "up", "down" })
        {
            Assert.Matches($"parley_switches_total\\{{[^}}]*direction=\"{direction}\"[^}}]*\\}} [1-9]", metrics);
            Assert.Matches($"parley_switch_duration_seconds_count\\{{[^}}]*direction=\"{direction}\"[^}}]*\\}} [1-9]", metrics);
        }
    }

    private static async Task StartGapsAsync(IEnumerable<Participant> people)
    {
        foreach (var p in people)
        {
            await GapWatch.StartAsync(p);
        }
    }

    private static async Task CheckGapsAsync(IReadOnlyList<Participant> people, string direction)
    {
        var output = TestContext.Current.TestOutputHelper;
        foreach (var p in people)
        {
            var gaps = await GapWatch.ReadAsync(p);
            foreach (var other in people.Where(o => o != p))
            {
                var gap = gaps.Single(g => g.Name == other.Name);
                output?.WriteLine($"switch {direction}: on {p.Name}'s page, {other.Name}: longest video gap {gap.VideoGap} ms (ending at {gap.VideoGapAt} ms), audio gap {gap.AudioGap} ms (at {gap.AudioGapAt} ms); the page's longest stall {gap.PageStall} ms");
                Assert.True(gap.VideoGap < Lost.TotalMilliseconds, $"{p.Name} lost {other.Name}'s video for {gap.VideoGap} ms across the switch {direction}.");
                Assert.True(gap.AudioGap < Lost.TotalMilliseconds, $"{p.Name} lost {other.Name}'s audio for {gap.AudioGap} ms across the switch {direction}.");
            }
        }
    }
}
