using System.Diagnostics;
using StackExchange.Redis;

namespace Parley.Testing;

/// <summary>
/// RedisServer runs Debian's redis-server for one test on a free loopback port, with nothing kept
/// on disk, and can kill it (as a crash or an outage would) and start it again on the same port.
/// Its output goes to <c>redis-logs/</c>. <see cref="Configuration"/> is the string to give
/// Parley (<c>Parley:Redis:Configuration</c>).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly ProcessLog _log;
    private readonly string _directory;
    private Process? _process;
    private ConnectionMultiplexer? _client;

    private RedisServer(int port)
    {
        Port = port;
        _log = ProcessLog.Open("redis-server", "redis-logs", "redis");
        _directory = Directory.CreateTempSubdirectory("parley-redis-").FullName;
    }

    public int Port { get; }

    /// <summary>Configuration is the StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(CancellationToken cancellationToken)
    {
        var server = new RedisServer(LoopbackPorts.Free());
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

    /// <summary>DatabaseAsync is a client of this server, for a test to look at what Parley keeps there.</summary>
    public async Task<IDatabase> DatabaseAsync()
    {
        _client ??= await ConnectionMultiplexer.ConnectAsync($"{Configuration},abortConnect=false");
        return _client.GetDatabase();
    }

    /// <summary>KillAsync kills Redis (SIGKILL) and waits until it has gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        var process = _process ?? throw new InvalidOperationException("Redis is not running.");
        process.Kill();
        await process.WaitForExitAsync(cancellationToken);
        _log.Append("--- redis killed (SIGKILL) by the test ---");
        process.Dispose();
        _process = null;
    }

    /// <summary>StartAgainAsync starts Redis again on the same port, empty.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken)
    {
        _log.Append("--- redis started again by the test ---");
        return LaunchAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no" })
        {
            start.ArgumentList.Add(arg);
        }
        var seen = _log.Lines.Count(l => l.Contains("Ready to accept connections", StringComparison.Ordinal));
        _process = _log.Start(start);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (_log.Lines.Count(l => l.Contains("Ready to accept connections", StringComparison.Ordinal)) <= seen)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not start:\n{string.Join('\n', _log.Lines.TakeLast(ProcessLog.TailLines))}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }
}
