using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Parley.Network.Tests.Turn;

namespace Parley.Network.Tests.Fixtures;

/// <summary>
/// CoturnServer runs Debian's <c>turnserver</c> as a child process with a configuration the test
/// writes, listening on 127.0.0.1 and ::1. Its output (the configs say <c>log-file=stdout</c>) is
/// kept in memory for assertions and copied to <c>coturn-logs/&lt;name&gt;.log</c> next to the test
/// assembly. Disposing kills the process.
/// </summary>
public sealed partial class CoturnServer : IAsyncDisposable
{
    /// <summary>ExecutablePath is <c>$PARLEY_TURNSERVER</c>, or Debian's <c>/usr/bin/turnserver</c>.</summary>
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARLEY_TURNSERVER") is { Length: > 0 } path ? path : "/usr/bin/turnserver";

    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly StreamWriter _logFile;
    private readonly List<string> _log = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _logChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _logClosed;

    private CoturnServer(Process process, DirectoryInfo directory, StreamWriter logFile, int port, string secret)
    {
        _process = process;
        _directory = directory;
        _logFile = logFile;
        Port = port;
        Secret = secret;
    }

    public int Port { get; }

    /// <summary>Secret is the shared secret this instance checks credentials with (a fresh random one).</summary>
    public string Secret { get; }

    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    public IPEndPoint EndpointV6 => new(IPAddress.IPv6Loopback, Port);

    /// <summary>LogPath is the file that receives coturn's output, kept after the test for diagnosis.</summary>
    public string LogPath { get; private set; } = "";

    /// <summary>Version is coturn's version as it prints it at start, e.g. 4.6.1.</summary>
    public Version Version => FindLog(l => l.Contains("Version Coturn-", StringComparison.Ordinal)) is { } line
        && VersionPattern().Match(line) is { Success: true } m ? Version.Parse(m.Groups[1].Value)
        : throw new InvalidOperationException("coturn did not print its version.");

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_gate)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>
    /// StartAsync writes <paramref name="configuration"/> plus <c>static-auth-secret</c> (as the
    /// deployment does, docs/deployment.md) to a private file, starts coturn and returns once it
    /// answers a STUN Binding request on <paramref name="port"/>.
    /// </summary>
    public static async Task<CoturnServer> StartAsync(string name, string configuration, int port, CancellationToken cancellationToken)
    {
        NetworkSandbox.EnsureIsolated();
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var directory = Directory.CreateTempSubdirectory("parley-coturn-");
        var configPath = Path.Combine(directory.FullName, "turnserver.conf");
        await WritePrivateFileAsync(configPath, $"{configuration.TrimEnd()}\nstatic-auth-secret={secret}\n", cancellationToken);

        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory.FullName,
        };
        // --pidfile and --userdb keep coturn's files in the test's own directory instead of
        // /var/run and /var/lib/turn on the machine.
        foreach (var argument in new[] { "-c", configPath, $"--pidfile={directory.FullName}/turnserver.pid", $"--userdb={directory.FullName}/turndb" })
        {
            start.ArgumentList.Add(argument);
        }
        var logDirectory = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "coturn-logs"));
        var logPath = Path.Combine(logDirectory.FullName, $"{name}.log");
        var logFile = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new CoturnServer(process, directory, logFile, port, secret) { LogPath = logPath };
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {ExecutablePath}.");
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await server.WaitUntilAnsweringAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>FindLog returns the first line of coturn's output that matches, or null.</summary>
    public string? FindLog(Func<string, bool> match)
    {
        lock (_gate)
        {
            return _log.FirstOrDefault(match);
        }
    }

    /// <summary>WaitForLogAsync waits until coturn prints a matching line, or fails after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_log.FirstOrDefault(match) is { } line)
                {
                    return line;
                }
                changed = _logChanged.Task;
            }
            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"coturn printed no matching line within {timeout.TotalSeconds:0.#} s; its log is {LogPath}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (InvalidOperationException)
        {
            // The process never started.
        }
        _process.Dispose();
        lock (_gate)
        {
            _logClosed = true;
            _logFile.Dispose();
        }
        _directory.Delete(recursive: true);
    }

    // WaitUntilAnsweringAsync polls with Binding requests: coturn prints nothing reliable once its
    // listeners are up, and an answer is the proof that matters. It fails early if coturn exits.
    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(15));
        await using var probe = await TurnClient.ConnectAsync(Endpoint, ProtocolType.Udp, deadline.Token);
        var exited = _process.WaitForExitAsync(deadline.Token);
        while (true)
        {
            var answered = probe.BindingAsync(deadline.Token);
            try
            {
                if (await Task.WhenAny(answered, exited) == exited)
                {
                    throw new InvalidOperationException($"coturn exited with {_process.ExitCode} at start; its log is {LogPath}:\n{Tail()}");
                }
                await answered;
                return;
            }
            catch (TimeoutException)
            {
                // Not listening yet: ask again.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"coturn did not answer on {Endpoint} within 15 s; its log is {LogPath}:\n{Tail()}");
            }
        }
    }

    // WritePrivateFileAsync creates a file only its owner can read: it holds the shared secret.
    private static async Task WritePrivateFileAsync(string path, string text, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var file = new StreamWriter(path, options);
        await file.WriteAsync(text.AsMemory(), cancellationToken);
    }

    private string Tail()
    {
        lock (_gate)
        {
            return string.Join('\n', _log.TakeLast(30));
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_logClosed)
            {
                return;
            }
            _log.Add(line);
            _logFile.WriteLine(line);
            changed = _logChanged;
            _logChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    [GeneratedRegex(@"Version Coturn-(\d+\.\d+\.\d+)")]
    private static partial Regex VersionPattern();
}
