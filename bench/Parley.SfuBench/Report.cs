using System.Globalization;
using System.Text.Json;

namespace Parley.SfuBench;

/// <summary>Row is one line of a result table: a label and the values it summarizes (ms, %, …).</summary>
internal sealed record Row(string Key, string Label, IReadOnlyList<double> Values);

/// <summary>Report prints result tables and writes them as JSON.</summary>
internal static class Report
{
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public static double Max(IEnumerable<double> values) => values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    public static double Min(IEnumerable<double> values) => values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min();

    public static string F(double value, int decimals = 1) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "–";

    /// <summary>PrintTable writes p50, max and min of every row.</summary>
    public static void PrintTable(string title, IEnumerable<string> notes, IReadOnlyList<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"== {title}");
        foreach (var note in notes)
        {
            Console.WriteLine($"   {note}");
        }
        Console.WriteLine($"   {"metric",-66} {"p50",9} {"max",9} {"min",9} {"n",3}");
        foreach (var row in rows)
        {
            Console.WriteLine($"   {row.Label,-66} {F(Percentile(row.Values, 50)),9} {F(Max(row.Values)),9} {F(Min(row.Values)),9} {row.Values.Count(double.IsFinite),3}");
        }
    }

    /// <summary>WriteJson writes the scenario, its notes and every row's values and summary to <paramref name="path"/>.</summary>
    public static async Task WriteJsonAsync(string path, string scenario, IReadOnlyDictionary<string, string> notes, IReadOnlyList<Row> rows,
        Action<Utf8JsonWriter>? extra = null)
    {
        await using var file = File.Create(path);
        await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("scenario", scenario);
        foreach (var (key, value) in notes)
        {
            json.WriteString(key, value);
        }
        json.WriteStartObject("results");
        foreach (var row in rows)
        {
            json.WriteStartObject(row.Key);
            json.WriteString("label", row.Label);
            Number(json, "p50", Percentile(row.Values, 50));
            Number(json, "max", Max(row.Values));
            Number(json, "min", Min(row.Values));
            json.WriteStartArray("values");
            foreach (var v in row.Values)
            {
                if (double.IsFinite(v))
                {
                    json.WriteNumberValue(Math.Round(v, 3));
                }
                else
                {
                    json.WriteNullValue();
                }
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        extra?.Invoke(json);
        json.WriteEndObject();
    }

    /// <summary>Number writes a finite value rounded to 3 decimals, and null for NaN (which JSON cannot hold).</summary>
    public static void Number(Utf8JsonWriter json, string name, double value)
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
}

/// <summary>
/// JanusRequests are Parley's <c>parley_janus_request_duration_seconds</c> histogram read from
/// /metrics: per request kind, how many and their summed duration.
/// </summary>
internal sealed record JanusRequests(IReadOnlyDictionary<string, (double Count, double SumSeconds)> ByRequest)
{
    private const string Count = "parley_janus_request_duration_seconds_count";
    private const string Sum = "parley_janus_request_duration_seconds_sum";

    public static JanusRequests Parse(string? metrics)
    {
        var map = new Dictionary<string, (double Count, double SumSeconds)>(StringComparer.Ordinal);
        foreach (var line in (metrics ?? "").Split('\n'))
        {
            var isCount = line.StartsWith(Count, StringComparison.Ordinal);
            if (!isCount && !line.StartsWith(Sum, StringComparison.Ordinal))
            {
                continue;
            }
            var at = line.IndexOf("request=\"", StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }
            at += "request=\"".Length;
            var request = line[at..line.IndexOf('"', at)];
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            var old = map.GetValueOrDefault(request);
            map[request] = isCount ? (old.Count + value, old.SumSeconds) : (old.Count, old.SumSeconds + value);
        }
        return new JanusRequests(map);
    }

    /// <summary>Since is what happened between <paramref name="earlier"/> and this reading.</summary>
    public JanusRequests Since(JanusRequests earlier) => new(ByRequest.ToDictionary(
        kv => kv.Key,
        kv => (kv.Value.Count - earlier.ByRequest.GetValueOrDefault(kv.Key).Count, kv.Value.SumSeconds - earlier.ByRequest.GetValueOrDefault(kv.Key).SumSeconds),
        StringComparer.Ordinal));

    public double TotalCount => ByRequest.Values.Sum(v => v.Count);

    public double TotalMs => ByRequest.Values.Sum(v => v.SumSeconds) * 1000;

    public string Describe() => string.Join(", ", ByRequest.Where(kv => kv.Value.Count > 0).OrderByDescending(kv => kv.Value.SumSeconds)
        .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value.Count:F0}× {kv.Value.SumSeconds * 1000 / kv.Value.Count:F1} ms")));
}
