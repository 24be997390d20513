using System.Globalization;

namespace Parley.SfuBench;

/// <summary>
/// ProcStat reads CPU time from <c>/proc</c>: a process's utime+stime from <c>/proc/&lt;pid&gt;/stat</c>
/// (every thread, living or ended, in clock ticks of 1/<see cref="TicksPerSecond"/> s), and the
/// machine's busy and total time from <c>/proc/stat</c>.
/// </summary>
internal static class ProcStat
{
    /// <summary>TicksPerSecond is USER_HZ (<c>getconf CLK_TCK</c>): 100 on Linux.</summary>
    public const double TicksPerSecond = 100;

    /// <summary>CpuMs is the process's user+system CPU time so far, in ms; NaN once it has gone.</summary>
    public static double CpuMs(int pid)
    {
        var fields = Fields(pid);
        return fields is null ? double.NaN : (Tick(fields[11]) + Tick(fields[12])) * 1000 / TicksPerSecond;
    }

    /// <summary>CpuMs of several processes, summed (gone ones count nothing).</summary>
    public static double CpuMs(IEnumerable<int> pids) => pids.Select(CpuMs).Where(double.IsFinite).Sum();

    /// <summary>Descendants are every living process below <paramref name="root"/>, except <paramref name="excluded"/> and theirs.</summary>
    public static IReadOnlyList<int> Descendants(int root, IReadOnlyCollection<int> excluded)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || Fields(pid) is not { } fields)
            {
                continue;
            }
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (!children.TryGetValue(parent, out var list))
            {
                children[parent] = list = [];
            }
            list.Add(pid);
        }
        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                if (!excluded.Contains(child))
                {
                    found.Add(child);
                    queue.Enqueue(child);
                }
            }
        }
        return found;
    }

    /// <summary>Machine is the first line of /proc/stat: busy (all but idle and iowait) and total ticks over all CPUs.</summary>
    public static (double BusyTicks, double TotalTicks) Machine()
    {
        var line = File.ReadLines("/proc/stat").First();
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = values.Sum();
        return (total - values[3] - values[4], total);
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    // Fields are /proc/pid/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime.
    private static string[]? Fields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Tick(string value) => double.Parse(value, CultureInfo.InvariantCulture);
}
