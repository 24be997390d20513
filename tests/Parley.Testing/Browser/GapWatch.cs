using System.Reflection;
using System.Text.Json;

namespace Parley.Testing;

/// <summary>
/// Gap is one remote tile's longest gaps (ms) since <see cref="GapWatch.StartAsync"/>, counting only
/// the time its page ran, its decoded frames so far, and the page's own longest stall (main thread
/// starved) since then, which the gaps leave out; <c>VideoGapAt</c> and <c>AudioGapAt</c> are when
/// (ms after the start) each longest gap ended.
/// </summary>
public sealed record Gap(string Name, double VideoGap, double AudioGap, double Frames, double PageStall, double VideoGapAt = 0, double AudioGapAt = 0);

/// <summary>
/// GapWatch measures, in a page, the longest gap in decoded video frames and in received audio of
/// every remote tile (gapwatch.js, given to the page as an init script with <see cref="Script"/>):
/// what a switch of media path costs the people watching.
/// </summary>
public static class GapWatch
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Script is the init script; pass it to <see cref="Participant.OpenAsync"/>.</summary>
    public static string Script { get; } = Read();

    /// <summary>StartAsync starts measuring from now on, on <paramref name="p"/>'s page.</summary>
    public static Task StartAsync(Participant p) => p.Page.EvaluateAsync("() => window.__gaps.start()");

    /// <summary>ReadAsync gives the longest gaps of each remote tile since the last start (a gap still open counts up to now).</summary>
    public static async Task<Gap[]> ReadAsync(Participant p)
    {
        var json = await p.Page.EvaluateAsync<string>("() => JSON.stringify(window.__gaps.read())");
        return JsonSerializer.Deserialize<Gap[]>(json, Web) ?? [];
    }

    private static string Read()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.Testing.gapwatch.js")
            ?? throw new InvalidOperationException("gapwatch.js is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
