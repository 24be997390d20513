using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.Load;

/// <summary>Proc reads a process's CPU time, memory and CPU affinity from /proc.</summary>
internal static class Proc
{
    // USER_HZ: /proc reports CPU time in 1/100 s on every Linux architecture that .NET runs on.
    private const double ClockTicksPerSecond = 100;

    /// <summary>Cpu is user and system CPU time in seconds, dead threads included.</summary>
    public static (double User, double System) Cpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ", fields[0] is field 3 (state); utime is field 14, stime field 15.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) / ClockTicksPerSecond,
            long.Parse(fields[12], CultureInfo.InvariantCulture) / ClockTicksPerSecond);
    }

    /// <summary>Memory is the process's RSS and PSS in bytes (smaps_rollup).</summary>
    public static (long Rss, long Pss) Memory(int pid)
    {
        long rss = 0, pss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                pss = Kilobytes(line) * 1024;
            }
        }
        return (rss, pss);
    }

    /// <summary>Status reads one field of /proc/pid/status (e.g. Cpus_allowed_list, Threads).</summary>
    public static string Status(int pid, string field)
    {
        if (!Exists(pid))
        {
            return "";
        }
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return line[(field.Length + 1)..].Trim();
            }
        }
        return "";
    }

    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>FindListener finds the process listening on 127.0.0.x:<paramref name="port"/> (or any address), through its socket's inode.</summary>
    public static int? FindListener(int port)
    {
        var portHex = port.ToString("X4", CultureInfo.InvariantCulture);
        string? inode = null;
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == "0A" && f[1].EndsWith(":" + portHex, StringComparison.Ordinal))
                {
                    inode = f[9];
                    break;
                }
            }
            if (inode is not null)
            {
                break;
            }
        }
        if (inode is null)
        {
            return null;
        }
        var target = $"socket:[{inode}]";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                foreach (var fd in Directory.EnumerateFiles($"{dir}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        return pid;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process went away, or is not ours to look at.
            }
        }
        return null;
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

/// <summary>CpuSample is a moment's wall clock and CPU times: the server's (if known) and the generator's own.</summary>
internal readonly record struct CpuSample(long Tick, double ServerUser, double ServerSystem, double Self)
{
    public static CpuSample Take(int? serverPid)
    {
        var (user, system) = serverPid is { } pid && Proc.Exists(pid) ? Proc.Cpu(pid) : (double.NaN, double.NaN);
        return new CpuSample(Stopwatch.GetTimestamp(), user, system, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    }

    public double SecondsSince(CpuSample start) => (Tick - start.Tick) / (double)Stopwatch.Frequency;

    public double ServerSince(CpuSample start) => ServerUser + ServerSystem - start.ServerUser - start.ServerSystem;
}

/// <summary>Machine describes where the benchmark ran, for the report.</summary>
internal static class Machine
{
    public static IReadOnlyList<KeyValuePair<string, string>> Describe()
    {
        var cpuinfo = File.ReadAllLines("/proc/cpuinfo");
        var model = cpuinfo.FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var cores = cpuinfo.Count(static l => l.StartsWith("processor", StringComparison.Ordinal));
        var memory = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return
        [
            new("cpus", cores.ToString(CultureInfo.InvariantCulture)),
            new("cpu_model", model),
            new("memory", $"{long.Parse(memory, CultureInfo.InvariantCulture) / 1024 / 1024.0:F1} GiB"),
            new("kernel", File.ReadAllText("/proc/sys/kernel/osrelease").Trim()),
            new("dotnet", RuntimeInformation.FrameworkDescription),
            new("loadavg", File.ReadAllText("/proc/loadavg").Trim()),
            new("generator_cpus", Proc.Status(Environment.ProcessId, "Cpus_allowed_list")),
        ];
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}

/// <summary>PrometheusText reads a few values from the server's /metrics.</summary>
internal static class PrometheusText
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>ScrapeAsync fetches /metrics; null when the target has none (the floor).</summary>
    public static async Task<string?> ScrapeAsync(Uri baseUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(baseUrl, "/metrics"), cancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync(cancellationToken) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Sum adds up every sample of <paramref name="name"/> whose labels contain <paramref name="labelFilter"/>.</summary>
    public static double? Sum(string? text, string name, string labelFilter = "")
    {
        if (text is null)
        {
            return null;
        }
        double? sum = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = line.AsSpan(name.Length);
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{'))
            {
                continue;
            }
            var labelsEnd = rest[0] == '{' ? rest.IndexOf('}') : -1;
            if (labelFilter.Length > 0 && (labelsEnd < 0 || !rest[..labelsEnd].Contains(labelFilter, StringComparison.Ordinal)))
            {
                continue;
            }
            var valueText = rest[(labelsEnd + 1)..].Trim();
            var space = valueText.IndexOf(' ');
            if (space > 0)
            {
                valueText = valueText[..space];
            }
            if (double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum = (sum ?? 0) + value;
            }
        }
        return sum;
    }
}
