using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Parley.Network.Tests.Turn;
using Parley.Testing;

namespace Parley.Network.Tests.Fixtures;

/// <summary>
/// CoturnServer runs Debian's <c>turnserver</c> as a child process with a configuration the test
/// writes, listening on 127.0.0.1 and ::1. Its output (the configs say <c>log-file=stdout</c>) is
/// kept in memory for assertions and copied to <c>coturn-logs/&lt;name&gt;.log</c> next to the test
/// assembly (a <see cref="ProcessLog"/>). Disposing kills the process.
/// </summary>
public sealed partial class CoturnServer : IAsyncDisposable
{
    /// <summary>ExecutablePath is <c>$PARLEY_TURNSERVER</c>, or Debian's <c>/usr/bin/turnserver</c>.</summary>
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARLEY_TURNSERVER") is { Length: > 0 } path ? path : "/usr/bin/turnserver";

    private readonly DirectoryInfo _directory;
    private readonly ProcessLog _log;
    private Process? _process;

    private CoturnServer(DirectoryInfo directory, ProcessLog log, int port, string secret)
    {
        _directory = directory;
        _log = log;
        Port = port;
        Secret = secret;
    }

    public int Port { get; }

    /// <summary>Secret is the shared secret this instance checks credentials with (a fresh random one).</summary>
    public string Secret { get; }

    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    public IPEndPoint EndpointV6 => new(IPAddress.IPv6Loopback, Port);

    /// <summary>LogPath is the file that receives coturn's output, kept after the test for diagnosis.</summary>
    public string LogPath => _log.Path;

    /// <summary>Version is coturn's version as it prints it at start, e.g. 4.6.1.</summary>
    public Version Version => FindLog(l => l.Contains("Version Coturn-", StringComparison.Ordinal)) is { } line
        && VersionPattern().Match(line) is { Success: true } m ? Version.Parse(m.Groups[1].Value)
        : throw new InvalidOperationException("coturn did not print its version.");

    public IReadOnlyList<string> Log => _log.Lines;

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
        // The file holds the shared secret: only its owner may read it.
        await PrivateFile.WriteAsync(configPath, $"{configuration.TrimEnd()}\nstatic-auth-secret={secret}\n", cancellationToken);

        // --pidfile and --userdb keep coturn's files in the test's own directory instead of
        // /var/run and /var/lib/turn on the machine.
        var start = Commands.StartInfo(
            [ExecutablePath, "-c", configPath, $"--pidfile={directory.FullName}/turnserver.pid", $"--userdb={directory.FullName}/turndb"]);
        start.WorkingDirectory = directory.FullName;
        var server = new CoturnServer(directory, ProcessLog.Open("coturn", "coturn-logs", name), port, secret);
        try
        {
            server._process = server._log.Start(start);
            await server.WaitUntilAnsweringAsync(server._process, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>FindLog returns the first line of coturn's output that matches, or null.</summary>
    public string? FindLog(Func<string, bool> match) => _log.Find(match);

    /// <summary>WaitForLogAsync waits until coturn prints a matching line, or fails after <paramref name="timeout"/>.</summary>
    public Task<string> WaitForLogAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken) =>
        _log.WaitForAsync(match, timeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(deadline.Token);
            _process.Dispose();
        }
        _log.Dispose();
        _directory.Delete(recursive: true);
    }

    // WaitUntilAnsweringAsync polls with Binding requests: coturn prints nothing reliable once its
    // listeners are up, and an answer is the proof that matters. It fails early if coturn exits.
    private async Task WaitUntilAnsweringAsync(Process process, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(15));
        await using var probe = await TurnClient.ConnectAsync(Endpoint, ProtocolType.Udp, deadline.Token);
        var exited = process.WaitForExitAsync(deadline.Token);
        while (true)
        {
            var answered = probe.BindingAsync(deadline.Token);
            try
            {
                if (await Task.WhenAny(answered, exited) == exited)
                {
                    throw new InvalidOperationException(_log.WithTail($"coturn exited with {process.ExitCode} at start"));
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
                throw new TimeoutException(_log.WithTail($"coturn did not answer on {Endpoint} within 15 s"));
            }
        }
    }

    [GeneratedRegex(@"Version Coturn-(\d+\.\d+\.\d+)")]
    private static partial Regex VersionPattern();
}
