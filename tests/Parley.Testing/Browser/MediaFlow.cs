using static Microsoft.Playwright.Assertions;

namespace Parley.Testing;

/// <summary>InboundStats is one RTCPeerConnection's received media, from getStats() via probe.js.</summary>
public sealed record InboundStats(int Index, string State, double FramesDecoded, double PacketsReceived)
{
    public bool IsOpen => State != "closed";
}

/// <summary>
/// MediaFlow reads a page's RTCPeerConnection statistics and waits, with deadlines, for media to flow
/// or stop. "Flowing" means rising: inbound video framesDecoded and audio packetsReceived both grow
/// between two readings, on every open connection of the page.
/// </summary>
public static class MediaFlow
{
    /// <summary>MinFrames and MinPackets are the rise that counts as flowing (~0.5 s of video, ~0.2 s of audio).</summary>
    internal const double MinFrames = 10;
    internal const double MinPackets = 10;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>ReadAsync returns the inbound counters of every peer connection the page ever made.</summary>
    public static async Task<IReadOnlyList<InboundStats>> ReadAsync(Participant p) => await p.ProbeAsync<InboundStats[]>("stats()");

    /// <summary>
    /// WaitForFlowAsync waits until the page has exactly <paramref name="connections"/> open peer
    /// connections and video and audio are rising on each of them (one per remote participant).
    /// </summary>
    public static async Task<IReadOnlyList<InboundStats>> WaitForFlowAsync(
        Participant p, int connections, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        Dictionary<int, InboundStats>? baseline = null;
        IReadOnlyList<InboundStats> open = [];
        while (true)
        {
            open = [.. (await ReadAsync(p)).Where(s => s.IsOpen)];
            if (open.Count == connections)
            {
                if (baseline is null || !open.All(s => baseline.ContainsKey(s.Index)))
                {
                    baseline = open.ToDictionary(s => s.Index);
                }
                else if (open.All(s => s.FramesDecoded >= baseline[s.Index].FramesDecoded + MinFrames
                                       && s.PacketsReceived >= baseline[s.Index].PacketsReceived + MinPackets))
                {
                    return open;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{p.Name}: media is not flowing on {connections} connection(s). Baseline: {Describe(baseline?.Values)}; now: {Describe(open)}; "
                    + $"ICE: {await IceStats.DescribeAsync(p)}.");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>
    /// WaitForPairAsync waits until two pages in a call of their own each show the other's tile and
    /// get video and audio from it over their one connection.
    /// </summary>
    public static async Task WaitForPairAsync(Participant a, Participant b, CancellationToken cancellationToken)
    {
        await Expect(a.TileOf(b.Name)).ToBeVisibleAsync();
        await Expect(b.TileOf(a.Name)).ToBeVisibleAsync();
        await WaitForFlowAsync(a, connections: 1, cancellationToken);
        await WaitForFlowAsync(b, connections: 1, cancellationToken);
    }

    /// <summary>
    /// WaitForVideoStalledAsync waits until no connection of the page decodes new video frames over
    /// one second, while audio keeps arriving (so the call itself is still up).
    /// </summary>
    public static async Task WaitForVideoStalledAsync(Participant p, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var window = TimeSpan.FromSeconds(1);
        var before = await ReadOpenAsync(p);
        while (true)
        {
            await Task.Delay(window, cancellationToken);
            var after = await ReadOpenAsync(p);
            var stalled = after.Count == before.Count && after.All(a =>
                before.FirstOrDefault(b => b.Index == a.Index) is { } b
                && a.FramesDecoded == b.FramesDecoded
                && a.PacketsReceived > b.PacketsReceived);
            if (stalled)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{p.Name}: video did not stop (or audio stopped too). Before: {Describe(before)}; after: {Describe(after)}.");
            }
            before = after;
        }
    }

    private static async Task<IReadOnlyList<InboundStats>> ReadOpenAsync(Participant p) =>
        [.. (await ReadAsync(p)).Where(s => s.IsOpen)];

    private static string Describe(IEnumerable<InboundStats>? stats) =>
        stats is null ? "none" : string.Join(", ", stats.Select(s => $"#{s.Index} {s.State} frames={s.FramesDecoded} packets={s.PacketsReceived}"));
}

/// <summary>TileMedia is what one remote tile plays, from probe.js: the inbound counters of the tracks in its media element.</summary>
public sealed record TileMedia(string Name, double FramesDecoded, double PacketsReceived, double FrameWidth);

/// <summary>
/// TileFlow checks media per remote participant, whatever carries it (a peer connection each, or
/// one connection from the media server): the tile that shows a name decodes video and receives
/// audio of its own tracks.
/// </summary>
public static class TileFlow
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(300);

    /// <summary>ReadAsync returns what each remote tile plays, in the grid's order.</summary>
    public static async Task<IReadOnlyList<TileMedia>> ReadAsync(IPageProbe p) => await p.ProbeAsync<TileMedia[]>("tiles()");

    /// <summary>OpenConnectionsAsync is the number of the page's peer connections that are not closed.</summary>
    public static Task<int> OpenConnectionsAsync(Participant p) => p.Page.EvaluateAsync<int>("() => window.__parleyProbe.openConnections()");

    /// <summary>
    /// WaitForAllAsync waits until the page has exactly the tiles of <paramref name="names"/>, and
    /// the tile of each decodes video (unless in <paramref name="withoutVideo"/>) and receives audio
    /// (unless in <paramref name="silent"/>: a participant who sends nothing at all).
    /// </summary>
    public static async Task WaitForAllAsync(IPageProbe p, IReadOnlyCollection<string> names, CancellationToken cancellationToken,
        TimeSpan? timeout = null, IReadOnlyCollection<string>? withoutVideo = null, IReadOnlyCollection<string>? silent = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        Dictionary<string, TileMedia>? baseline = null;
        IReadOnlyList<TileMedia> now = [];
        while (true)
        {
            now = await ReadAsync(p);
            if (now.Count == names.Count && names.All(n => now.Any(t => t.Name == n)))
            {
                var byName = now.ToDictionary(t => t.Name);
                if (baseline is null)
                {
                    baseline = byName;
                }
                else if (names.All(n => silent?.Contains(n) == true || Rising(baseline[n], byName[n], withoutVideo?.Contains(n) == true)))
                {
                    return;
                }
                else
                {
                    // Keep the baseline for the tiles that are not flowing yet, move it for the rest.
                    foreach (var n in names.Where(n => byName[n].PacketsReceived < baseline[n].PacketsReceived))
                    {
                        baseline[n] = byName[n];
                    }
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{p.Name}: not every tile of {string.Join(", ", names)} plays media. Baseline: {Describe(baseline?.Values)}; now: {Describe(now)}.");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>
    /// WaitForVideoStalledAsync waits until <paramref name="name"/>'s tile decodes no new video
    /// frame over one second while its audio keeps arriving (the call itself is still up): a stall
    /// needs a window to be seen in, so it compares readings a second apart, up to the deadline.
    /// </summary>
    public static async Task WaitForVideoStalledAsync(Participant p, string name, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var window = TimeSpan.FromSeconds(1);
        var before = (await ReadAsync(p)).Single(t => t.Name == name);
        while (true)
        {
            await Task.Delay(window, cancellationToken);
            var after = (await ReadAsync(p)).Single(t => t.Name == name);
            if (after.FramesDecoded == before.FramesDecoded && after.PacketsReceived > before.PacketsReceived)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{p.Name}: {name}'s video did not stop while the audio went on: {before} then {after}.");
            }
            before = after;
        }
    }

    private static bool Rising(TileMedia before, TileMedia after, bool audioOnly) =>
        after.PacketsReceived >= before.PacketsReceived + MediaFlow.MinPackets
        && (audioOnly || after.FramesDecoded >= before.FramesDecoded + MediaFlow.MinFrames);

    private static string Describe(IEnumerable<TileMedia>? tiles) =>
        tiles is null ? "none" : string.Join(", ", tiles.Select(t => $"{t.Name}: frames={t.FramesDecoded} packets={t.PacketsReceived} width={t.FrameWidth}"));
}
