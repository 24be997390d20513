using System.Diagnostics;
using System.Globalization;

namespace Parley.SfuBench;

/// <summary>
/// ParleyProcess is the published Parley server (<c>dotnet Parley.Server.dll</c>) run as a child
/// process on 127.0.0.1, optionally pinned to one CPU with <c>taskset</c> (which execs, so the pid
/// is the server's own). Settings go in as environment variables, so no secret shows in
/// <c>ps</c>. Its console log, with UTC timestamps, goes to a file and is kept in memory.
/// </summary>
internal sealed class ParleyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private bool _closed;

    private ParleyProcess(Process process, StreamWriter log, Uri baseUri, string logPath)
    {
        _process = process;
        _log = log;
        BaseUri = baseUri;
        LogPath = logPath;
    }

    public Uri BaseUri { get; }

    public int ProcessId => _process.Id;

    public string LogPath { get; }

    /// <summary>Lines are the server's log lines so far.</summary>
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

    public static async Task<ParleyProcess> StartAsync(string serverDll, int port, int? cpu, IReadOnlyDictionary<string, string?> settings,
        string logPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(serverDll))
        {
            throw new InvalidOperationException($"No published server at {serverDll}: bench/run.sh publishes it (dotnet publish src/Parley.Server -c Release -o artifacts/bench/server).");
        }
        var contentRoot = Path.GetDirectoryName(Path.GetFullPath(serverDll))!;
        var start = new ProcessStartInfo(cpu is null ? "dotnet" : "taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = contentRoot,
        };
        string[] command = cpu is { } c
            ? ["-c", c.ToString(CultureInfo.InvariantCulture), "dotnet", serverDll]
            : [serverDll];
        foreach (var argument in (string[])[.. command, "--contentRoot", contentRoot, "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        var parley = new ParleyProcess(process, log, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"), logPath);
        process.OutputDataReceived += (_, e) => parley.Append(e.Data);
        process.ErrorDataReceived += (_, e) => parley.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("Could not start the server.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await parley.WaitReadyAsync(cancellationToken);
        }
        catch
        {
            await parley.DisposeAsync();
            throw;
        }
        return parley;
    }

    /// <summary>WaitForLogAsync waits until a log line contains <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server did not log \"{text}\" (log: {LogPath}):\n{string.Join('\n', Lines.TakeLast(20))}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>ScrapeAsync reads /metrics; null if the server does not answer.</summary>
    public async Task<string?> ScrapeAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>DisposeAsync stops the server with SIGTERM, or SIGKILL after 10 s, and closes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        lock (_gate)
        {
            _closed = true;
            _log.Dispose();
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} at start (log: {LogPath}):\n{string.Join('\n', Lines.TakeLast(20))}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server did not answer /readyz within 30 s (log: {LogPath}).");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }
            _lines.Add(line);
            _log.WriteLine(line);
        }
    }
}
