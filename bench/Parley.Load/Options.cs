using System.Globalization;

namespace Parley.Load;

/// <summary>Options are the command line's <c>--name value</c> pairs and <c>--flag</c>s; each read marks the option as known.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public Options(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    _values[name] = null;
                }
                name = arg[2..];
                var eq = name.IndexOf('=');
                if (eq > 0)
                {
                    _values[name[..eq]] = name[(eq + 1)..];
                    name = null;
                }
            }
            else if (name is not null)
            {
                _values[name] = arg;
                name = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }
        }
        if (name is not null)
        {
            _values[name] = null;
        }
    }

    public string? String(string name, string? fallback = null)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) ? v ?? throw new ArgumentException($"--{name} needs a value.") : fallback;
    }

    public int Int(string name, int fallback) =>
        String(name) is { } v ? int.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        String(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Pid reads a process id, or <c>auto</c> (the default): the process listening on the URL's port.</summary>
    public int? Pid(string name, Uri? url)
    {
        var value = String(name, "auto");
        if (value == "none")
        {
            return null;
        }
        if (value == "auto")
        {
            return url is null ? null : Proc.FindListener(url.Port);
        }
        var pid = int.Parse(value!, CultureInfo.InvariantCulture);
        return Proc.Exists(pid) ? pid : throw new ArgumentException($"--{name} {pid}: no such process.");
    }

    /// <summary>CheckAllRead fails on an option no one asked for: a typo should not silently run the defaults.</summary>
    public void CheckAllRead()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(static u => "--" + u))}.");
        }
    }
}
