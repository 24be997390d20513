using System.Diagnostics;
using System.Net;

namespace Parley.Testing;

/// <summary>
/// ParleyProcess runs the built server (Parley.Server.dll) as a process of its own on a fixed
/// loopback port, as a deploy does, so a test can stop it (SIGTERM: the graceful shutdown) or kill
/// it (SIGKILL: a crash) and start it again on the same address. Its output goes to a
/// <see cref="ProcessLog"/> under <c>parley-logs/</c>.
/// </summary>
public sealed class ParleyProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, string?> _settings;
    private readonly ProcessLog _log;
    private Process? _process;

    private ParleyProcess(int port, IReadOnlyDictionary<string, string?>? settings)
    {
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        _log = ProcessLog.Open("parley", "parley-logs", "parley");
    }

    /// <summary>BaseUri is the server's address, the same after every start.</summary>
    public Uri BaseUri { get; }

    /// <summary>Log is the server's output, across its starts.</summary>
    public ProcessLog Log => _log;

    /// <summary>StartAsync starts a server on a free loopback port with <paramref name="settings"/> (configuration keys) and returns once it is ready.</summary>
    public static async Task<ParleyProcess> StartAsync(IReadOnlyDictionary<string, string?>? settings, CancellationToken cancellationToken)
    {
        var server = new ParleyProcess(LoopbackPorts.Free(), settings);
        try
        {
            await server.LaunchAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>StopAsync stops the server as a deploy does (SIGTERM) and waits until it has gone.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var process = _process ?? throw new InvalidOperationException("The server is not running.");
        _log.Append("--- parley stopped (SIGTERM) by the test ---");
        await Commands.RunAsync(cancellationToken, "kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await process.WaitForExitAsync(cancellationToken);
        _log.Append($"--- parley exited with {process.ExitCode} ---");
        process.Dispose();
        _process = null;
    }

    /// <summary>KillAsync kills the server with SIGKILL, as a crash would, and waits until it has gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        var process = _process ?? throw new InvalidOperationException("The server is not running.");
        process.Kill();
        await process.WaitForExitAsync(cancellationToken);
        _log.Append($"--- parley killed (SIGKILL) by the test, exit code {process.ExitCode} ---");
        process.Dispose();
        _process = null;
    }

    /// <summary>StartAgainAsync starts the server again, on the same address with the same settings, and returns once it is ready.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("The server is still running: stop or kill it first.");
        }
        _log.Append("--- parley started again by the test ---");
        return LaunchAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
            process.Dispose();
            _process = null;
        }
        _log.Dispose();
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var contentRoot = Path.Combine(ParleyTestServer.SourceRoot, "src", "Parley.Server");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"), "--urls", BaseUri.ToString().TrimEnd('/'), "--contentRoot", contentRoot })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in _settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        _process = _log.Start(start);

        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}:\n{string.Join('\n', _log.Lines.TakeLast(ProcessLog.TailLines))}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Too slow to answer yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server was not ready within {ReadyTimeout.TotalSeconds} s:\n{string.Join('\n', _log.Lines.TakeLast(ProcessLog.TailLines))}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }
}
