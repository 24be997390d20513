using System.Diagnostics;

namespace Parley.Testing;

/// <summary>
/// ProcessLog keeps a child process's output (standard output and error, one entry per line) in
/// memory for assertions, copies it to <c>&lt;folder&gt;/&lt;name&gt;.log</c> next to the test assembly
/// (kept after the test, for diagnosis), and lets a test wait for a line. Lines that arrive after
/// <see cref="Dispose"/> are dropped.
/// </summary>
public sealed class ProcessLog : IDisposable
{
    /// <summary>TailLines is how many of the last lines a failure message carries.</summary>
    public const int TailLines = 40;

    private static readonly Dictionary<string, int> s_uses = [];

    private readonly string _program;
    private readonly StreamWriter _file;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _nextLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    private ProcessLog(string program, string path)
    {
        _program = program;
        Path = path;
        _file = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    /// <summary>Path is the log file.</summary>
    public string Path { get; }

    /// <summary>Lines is the output so far, one entry per line.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>NextLine completes when the next line arrives.</summary>
    public Task NextLine
    {
        get
        {
            lock (_gate)
            {
                return _nextLine.Task;
            }
        }
    }

    /// <summary>
    /// Open makes the log of <paramref name="program"/> (the name failure messages use) in
    /// <c>&lt;folder&gt;/&lt;name&gt;.log</c>, or <c>&lt;name&gt;-&lt;instance&gt;.log</c> when an
    /// earlier log of this run took that name (<paramref name="instance"/>: the caller's number
    /// for the process, else how many times the name was used).
    /// </summary>
    public static ProcessLog Open(string program, string folder, string name, int? instance = null)
    {
        var directory = Directory.CreateDirectory(System.IO.Path.Combine(AppContext.BaseDirectory, folder));
        string fileName;
        lock (s_uses)
        {
            var key = System.IO.Path.Combine(folder, name);
            var uses = s_uses[key] = s_uses.GetValueOrDefault(key) + 1;
            fileName = uses == 1 ? name : $"{name}-{instance ?? uses}";
        }
        return new ProcessLog(program, System.IO.Path.Combine(directory.FullName, $"{fileName}.log"));
    }

    /// <summary>
    /// Start starts <paramref name="start"/> with its standard output and error going to this log,
    /// or throws. The caller owns the process.
    /// </summary>
    public Process Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {start.FileName}.");
            }
        }
        catch
        {
            process.Dispose();
            throw;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Append adds <paramref name="line"/> (a null one is ignored), e.g. a note of what the test did to the process.</summary>
    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        TaskCompletionSource next;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }
            _lines.Add(line);
            _file.WriteLine(line);
            next = _nextLine;
            _nextLine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        next.TrySetResult();
    }

    /// <summary>Find returns the first line that matches, or null.</summary>
    public string? Find(Func<string, bool> match)
    {
        lock (_gate)
        {
            return _lines.FirstOrDefault(match);
        }
    }

    /// <summary>WaitForAsync waits until a matching line arrives (or has), or throws a <see cref="TimeoutException"/> with the log's tail after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_lines.FirstOrDefault(match) is { } line)
                {
                    return line;
                }
                next = _nextLine.Task;
            }
            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(WithTail($"{_program} printed no matching line within {timeout.TotalSeconds:0.#} s"));
            }
        }
    }

    /// <summary>WithTail is <paramref name="what"/> plus where the log is and its last lines: a failure message.</summary>
    public string WithTail(string what)
    {
        lock (_gate)
        {
            return $"{what}; its log is {Path}:\n{string.Join('\n', _lines.TakeLast(TailLines))}";
        }
    }

    /// <summary>Dispose closes the file; the lines in memory stay readable.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            _file.Dispose();
        }
    }
}
