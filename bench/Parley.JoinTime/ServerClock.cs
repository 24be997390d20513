using System.Globalization;

namespace Parley.JoinTime;

/// <summary>
/// ServerClock reads the server's CPU time in nanoseconds per thread, from
/// <c>/proc/pid/task/*/schedstat</c>: finer than utime/stime (10 ms ticks), which a join of a few
/// milliseconds would not move. A difference counts each thread's growth, so a thread that ended
/// in between does not make it negative (only its last slice is lost).
/// </summary>
internal sealed class ServerClock(Dictionary<int, long> threads)
{
    private readonly Dictionary<int, long> _threads = threads;

    public static ServerClock Read(int pid)
    {
        var threads = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                    long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The thread ended between listing and reading.
            }
        }
        return new ServerClock(threads);
    }

    /// <summary>NanosecondsSince is the CPU time the process used since <paramref name="earlier"/>.</summary>
    public long NanosecondsSince(ServerClock earlier)
    {
        long total = 0;
        foreach (var (tid, ns) in _threads)
        {
            total += ns - earlier._threads.GetValueOrDefault(tid);
        }
        return total;
    }
}
