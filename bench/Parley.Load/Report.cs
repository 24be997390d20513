using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Parley.Load;

/// <summary>
/// Report collects one scenario's figures per target (Parley, the floor) and prints them as a
/// table, with the Parley/floor ratio where both ran, and as JSON for machines.
/// </summary>
internal sealed class Report(string scenario)
{
    private readonly List<KeyValuePair<string, string>> _parameters = [];
    private readonly List<Metric> _metrics = [];
    private readonly List<string> _targets = [];
    private readonly Dictionary<string, Dictionary<string, double>> _values = [];
    private readonly Dictionary<string, IReadOnlyDictionary<string, long>> _events = [];
    private readonly List<string> _notes = [];

    public string Scenario { get; } = scenario;

    public void Parameter(string key, object value) =>
        _parameters.Add(new(key, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));

    public void Note(string note) => _notes.Add(note);

    /// <summary>Add records <paramref name="value"/> of metric <paramref name="key"/> for <paramref name="target"/>.</summary>
    public void Add(string target, string key, string label, double value, string unit, int decimals = 0)
    {
        if (!_targets.Contains(target))
        {
            _targets.Add(target);
        }
        if (!_metrics.Any(m => m.Key == key))
        {
            _metrics.Add(new Metric(key, label, unit, decimals));
        }
        if (!_values.TryGetValue(target, out var values))
        {
            _values[target] = values = [];
        }
        values[key] = value;
    }

    public void Events(string target, IReadOnlyDictionary<string, long> events) => _events[target] = new Dictionary<string, long>(events);

    public double? Get(string target, string key) =>
        _values.TryGetValue(target, out var v) && v.TryGetValue(key, out var x) ? x : null;

    /// <summary>Failures lists the events that are failures (not retries), per target.</summary>
    public IEnumerable<string> Failures() =>
        from e in _events
        from kv in e.Value
        where kv.Key.StartsWith("failed", StringComparison.Ordinal) || kv.Key.StartsWith("lost", StringComparison.Ordinal)
            || kv.Key.StartsWith("server error", StringComparison.Ordinal)
        select $"[{e.Key}] {kv.Key} x{kv.Value}";

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"== {Scenario}");
        foreach (var (key, value) in _parameters)
        {
            output.WriteLine($"   {key}: {value}");
        }
        var ratio = _targets.Contains("parley") && _targets.Contains("floor");
        var header = new List<string> { "metric" };
        header.AddRange(_targets);
        if (ratio)
        {
            header.Add("parley/floor");
        }
        var rows = new List<List<string>> { header };
        foreach (var m in _metrics)
        {
            var row = new List<string> { m.Unit.Length > 0 ? $"{m.Label} ({m.Unit})" : m.Label };
            foreach (var t in _targets)
            {
                row.Add(Get(t, m.Key) is { } v ? Format(v, m.Decimals) : "-");
            }
            if (ratio)
            {
                row.Add(Get("parley", m.Key) is { } p && Get("floor", m.Key) is { } f && f != 0 ? $"{p / f:F2}x" : "");
            }
            rows.Add(row);
        }
        var widths = Enumerable.Range(0, header.Count).Select(i => rows.Max(r => r[i].Length)).ToArray();
        for (var r = 0; r < rows.Count; r++)
        {
            var line = new StringBuilder("   ");
            for (var i = 0; i < header.Count; i++)
            {
                line.Append(i == 0 ? rows[r][i].PadRight(widths[i]) : rows[r][i].PadLeft(widths[i] + 2));
            }
            output.WriteLine(line.ToString().TrimEnd());
            if (r == 0)
            {
                output.WriteLine("   " + new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            }
        }
        foreach (var (target, events) in _events)
        {
            foreach (var (what, count) in events.OrderByDescending(static e => e.Value))
            {
                output.WriteLine($"   [{target}] {what}: {count}");
            }
        }
        foreach (var note in _notes)
        {
            output.WriteLine($"   note: {note}");
        }
    }

    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("scenario", Scenario);
        json.WriteString("finishedUtc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        json.WriteStartObject("parameters");
        foreach (var (key, value) in _parameters)
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();
        json.WriteStartObject("units");
        foreach (var m in _metrics)
        {
            json.WriteString(m.Key, m.Unit);
        }
        json.WriteEndObject();
        json.WriteStartObject("results");
        foreach (var t in _targets)
        {
            json.WriteStartObject(t);
            foreach (var m in _metrics)
            {
                if (Get(t, m.Key) is { } v && double.IsFinite(v))
                {
                    json.WriteNumber(m.Key, Math.Round(v, Math.Max(m.Decimals, 3)));
                }
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteStartObject("events");
        foreach (var (target, events) in _events)
        {
            json.WriteStartObject(target);
            foreach (var (what, count) in events)
            {
                json.WriteNumber(what, count);
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteStartArray("notes");
        foreach (var note in _notes)
        {
            json.WriteStringValue(note);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Format(double value, int decimals) =>
        double.IsNaN(value) ? "n/a" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private sealed record Metric(string Key, string Label, string Unit, int Decimals);
}

/// <summary>Progress keeps one live status line on stderr (a new line every few seconds when stderr is not a terminal).</summary>
internal sealed class Progress : IDisposable
{
    private readonly Timer _timer;
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private Func<string>? _status;
    private int _ticks;

    public Progress()
    {
        _timer = new Timer(_ => Tick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Show sets what the line says from now on.</summary>
    public void Show(Func<string> status)
    {
        lock (_gate)
        {
            _status = status;
        }
    }

    /// <summary>Say prints one finished line.</summary>
    public void Say(string line)
    {
        lock (_gate)
        {
            Console.Error.Write(_interactive ? $"\r\u001b[K{line}\n" : line + "\n");
        }
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_status is not { } status)
            {
                return;
            }
            var text = status();
            if (_interactive)
            {
                Console.Error.Write($"\r\u001b[K{text}");
            }
            else if (++_ticks % 5 == 0)
            {
                Console.Error.WriteLine(text);
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            _status = null;
            if (_interactive)
            {
                Console.Error.Write("\r\u001b[K");
            }
        }
    }
}
