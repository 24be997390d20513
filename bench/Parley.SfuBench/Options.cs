using System.Globalization;

namespace Parley.SfuBench;

/// <summary>Options are the command line's <c>--name value</c> pairs (a flag without a value is "").</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values;

    private Options(Dictionary<string, string> values) => _values = values;

    public static Options Parse(IEnumerable<string> args)
    {
        var list = args.ToList();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var name = list[i].TrimStart('-');
            map[name] = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal) ? list[++i] : "";
        }
        return new Options(map);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>WithDefault is these options, with <paramref name="name"/> set to <paramref name="value"/> unless it was given.</summary>
    public Options WithDefault(string name, string value) =>
        Has(name) ? this : new Options(new Dictionary<string, string>(_values, StringComparer.Ordinal) { [name] = value });

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name) is { Length: > 0 } v ? v : fallback;

    public int Int(string name, int fallback) =>
        _values.GetValueOrDefault(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        _values.GetValueOrDefault(name) is { Length: > 0 } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
