using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// JanusServer runs Debian's Janus with Parley's production configuration in a network namespace
/// of its own, linked to the test's namespace by a veth pair (design/janus-sfu.md §4.1): Janus
/// ignores loopback for ICE, so media needs a real link, and the namespace keeps everything on
/// this machine.
/// <code>
///   test namespace (Parley, browsers)            parley-janus-&lt;pid&gt;-&lt;n&gt; (Janus alone)
///   pj&lt;pid&gt;n&lt;n&gt;  10.231.n.1/30  ──── veth ────  10.231.n.2/30  sfu0   ws://10.231.n.2:8188
/// </code>
/// The configuration is deploy/janus/*.jcfg with only what a test must change replaced: the
/// WebSocket on TCP 10.231.n.2:8188 (ws_acl: the test side only) instead of the UNIX socket, ICE
/// on the veth only, a small RTP port range, fresh random secrets. Janus's output is kept in
/// memory and copied to <c>janus-logs/&lt;name&gt;.log</c> next to the test assembly (a
/// <see cref="ProcessLog"/>, kept after the test; <c>&lt;name&gt;-&lt;n&gt;.log</c> for a name used
/// again). Janus runs as <see cref="UserId"/>, like the image.
/// </summary>
public sealed class JanusServer : IAsyncDisposable
{
    /// <summary>ExecutablePath is <c>$PARLEY_JANUS</c>, or Debian's <c>/usr/bin/janus</c>.</summary>
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARLEY_JANUS") is { Length: > 0 } path ? path : "/usr/bin/janus";

    /// <summary>HostLinkPrefix starts the name of every link a JanusServer puts in the test's namespace.</summary>
    public const string HostLinkPrefix = "pj";

    /// <summary>JanusLink is the veth end inside Janus's namespace, the only interface Janus gathers on.</summary>
    public const string JanusLink = "sfu0";

    public const int Port = 8188;

    /// <summary>
    /// UserId is the unprivileged uid Janus runs as, the image's (deploy/janus/Dockerfile). As root
    /// Janus would also open raw SCTP sockets (usrsctp) that production never has.
    /// </summary>
    public const int UserId = 1654;

    private const string HowToRun =
        "Run them as scripts/test.sh does: ip netns add parley-test; ip netns exec parley-test ip link set lo up; "
        + "dotnet build; ip netns exec parley-test dotnet test tests/Parley.Sfu.Tests --no-build";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static int s_created;

    private readonly string _configDirectory;
    private readonly ProcessLog _log;
    private readonly Lock _gate = new();
    private Process? _process;

    private JanusServer(int n, string configDirectory, ProcessLog log)
    {
        Index = n;
        NamespaceName = $"parley-janus-{Environment.ProcessId}-{n}";
        HostLink = $"{HostLinkPrefix}{Environment.ProcessId}n{n}";
        HostAddress = IPAddress.Parse($"10.231.{n}.1");
        Address = IPAddress.Parse($"10.231.{n}.2");
        WebSocketUri = new Uri($"ws://{Address}:{Port}/");
        ApiSecret = NewSecret();
        AdminKey = NewSecret();
        RtpPortRange = (40000 + (n * 100), 40000 + (n * 100) + 99);
        _configDirectory = configDirectory;
        _log = log;
        ParleySettings = new Dictionary<string, string?>
        {
            ["Parley:Sfu:JanusUrl"] = WebSocketUri.ToString(),
            ["Parley:Sfu:ApiSecret"] = ApiSecret,
            ["Parley:Sfu:AdminKey"] = AdminKey,
        };
    }

    /// <summary>Index is n: the third byte of both addresses and the namespace's suffix.</summary>
    public int Index { get; }

    public Uri WebSocketUri { get; }

    /// <summary>ApiSecret is the core <c>api_secret</c> every request but <c>info</c> must carry (fresh per instance).</summary>
    public string ApiSecret { get; }

    /// <summary>AdminKey is the VideoRoom <c>admin_key</c> that <c>create</c> must carry (fresh per instance).</summary>
    public string AdminKey { get; }

    /// <summary>Address is Janus's side of the veth, where its WebSocket and its ICE candidates are.</summary>
    public IPAddress Address { get; }

    /// <summary>HostAddress is the test namespace's side, where Parley connects from and browsers gather.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>HostLink is the veth end in the test's namespace.</summary>
    public string HostLink { get; }

    public string NamespaceName { get; }

    /// <summary>RtpPortRange is the <c>rtp_port_range</c> this instance uses, disjoint from every other instance's.</summary>
    public (int First, int Last) RtpPortRange { get; }

    /// <summary>ParleySettings point Parley at this Janus: Parley:Sfu:JanusUrl, ApiSecret and AdminKey.</summary>
    public IReadOnlyDictionary<string, string?> ParleySettings { get; }

    /// <summary>ConfigDirectory holds the configuration Janus runs with (0600 files: they hold the secrets).</summary>
    public string ConfigDirectory => _configDirectory;

    /// <summary>LogPath is the file that receives Janus's output, kept after the test for diagnosis.</summary>
    public string LogPath => _log.Path;

    /// <summary>StartupTime is how long the last start took, from launching Janus to its first <c>info</c> answer.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>ProcessId is Janus's process id while it runs (<c>ip netns exec</c> and <c>setpriv</c> exec it, so it is Janus's own).</summary>
    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _process is { HasExited: false } p ? p.Id : null;
            }
        }
    }

    /// <summary>Log is Janus's stdout and stderr so far, one entry per line.</summary>
    public IReadOnlyList<string> Log => _log.Lines;

    /// <summary>
    /// StartAsync builds Janus's namespace and veth pair from the current namespace, writes the
    /// test configuration, starts <c>janus -F</c> there and returns once <c>info</c> answers over
    /// the WebSocket. It needs root and a current namespace holding only <c>lo</c> (plus other
    /// JanusServers' links), so nothing Janus or a browser sends can leave the machine.
    /// </summary>
    public static async Task<JanusServer> StartAsync(string name, CancellationToken cancellationToken)
    {
        EnsureIsolated();
        var n = NextFreeIndex();
        var directory = Directory.CreateTempSubdirectory("parley-janus-");
        var server = new JanusServer(n, directory.FullName, ProcessLog.Open("janus", "janus-logs", name, instance: n));
        try
        {
            await server.CreateNetworkAsync(cancellationToken);
            await JanusConfig.WriteDirectoryAsync(directory.FullName, server.TestConfiguration(), cancellationToken);
            await GiveToJanusUserAsync(directory.FullName, cancellationToken);
            await server.LaunchAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// TestConfiguration is deploy/janus with the test's replacements: the secrets, the WebSocket
    /// on TCP on the veth, ICE on the veth only, this instance's RTP port range.
    /// </summary>
    public IReadOnlyDictionary<string, string> TestConfiguration()
    {
        var files = JanusConfig.Production().ToDictionary();
        var core = JanusConfig.ReplacePlaceholder(files[JanusConfig.Core], JanusConfig.ApiSecretPlaceholder, ApiSecret);
        core = JanusConfig.ReplaceSetting(core, "rtp_port_range", $"rtp_port_range = \"{RtpPortRange.First}-{RtpPortRange.Last}\"");
        // The enforce list replaces the ignore list (Janus ignores the latter once the former is set).
        core = JanusConfig.ReplaceSetting(core, "ice_ignore_list", $"ice_enforce_list = \"{JanusLink}\"");
        // PARLEY_JANUS_DEBUG_LEVEL (0–7) raises Janus's log for a diagnosis: 5 shows each ICE and DTLS step.
        if (Environment.GetEnvironmentVariable("PARLEY_JANUS_DEBUG_LEVEL") is { Length: > 0 } level && int.TryParse(level, out var debugLevel))
        {
            core = JanusConfig.ReplaceSetting(core, "debug_level", $"debug_level = {debugLevel}", "debug_timestamps = true");
        }
        files[JanusConfig.Core] = core;
        files[JanusConfig.WebSockets] = JanusConfig.ReplaceSetting(files[JanusConfig.WebSockets], "ws_unix",
            $"ws_ip = \"{Address}\"", $"ws_port = {Port}", $"ws_acl = \"{HostAddress}\"");
        files[JanusConfig.VideoRoom] = JanusConfig.ReplacePlaceholder(files[JanusConfig.VideoRoom], JanusConfig.AdminKeyPlaceholder, AdminKey);
        return files;
    }

    /// <summary>KillAsync kills Janus with SIGKILL, as a crash would, and waits until it has gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
        }
        if (process is null)
        {
            return;
        }
        if (!process.HasExited)
        {
            process.Kill();
        }
        await process.WaitForExitAsync(cancellationToken);
        _log.Append($"--- janus killed (SIGKILL) by the test, exit code {process.ExitCode} ---");
    }

    /// <summary>StartAgainAsync starts Janus again with the same configuration and address, and returns once <c>info</c> answers.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (ProcessId is not null)
        {
            throw new InvalidOperationException("Janus is still running: KillAsync first.");
        }
        _log.Append("--- janus started again by the test ---");
        await LaunchAsync(cancellationToken);
    }

    /// <summary>RunInNamespaceAsync runs a command inside Janus's namespace (e.g. <c>ss -lntup</c>) and returns its output; it throws if the command fails.</summary>
    public Task<string> RunInNamespaceAsync(CancellationToken cancellationToken, params string[] commandLine) =>
        Commands.RunAsync(cancellationToken, ["ip", "netns", "exec", NamespaceName, .. commandLine]);

    /// <summary>
    /// StartInNamespace starts a long-running process inside Janus's namespace as <see cref="UserId"/>,
    /// for tests that run another Janus there (e.g. through the image's entrypoint); its id is the
    /// command's own. <paramref name="environment"/> adds variables (null removes one). The caller
    /// reads its output and kills it.
    /// </summary>
    public Process StartInNamespace(IReadOnlyList<string> commandLine, IReadOnlyDictionary<string, string?> environment)
    {
        var start = Commands.StartInfo(["ip", "netns", "exec", NamespaceName, .. AsJanusUser, .. commandLine]);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start ip(8).");
    }

    /// <summary>DisposeAsync kills Janus and deletes the veth pair, the namespace and the configuration; failures are reported to the test output, never thrown.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await KillAsync(deadline.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            Report($"cleanup: could not kill janus (pid {ProcessId}): {e.Message}");
        }
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }
        // Deleting one end of a veth deletes the pair at once; the namespace goes with its last process.
        if (Directory.Exists($"/sys/class/net/{HostLink}"))
        {
            await Commands.TryRunAsync(Report, "ip", "link", "del", HostLink);
        }
        if (File.Exists($"/run/netns/{NamespaceName}"))
        {
            await Commands.TryRunAsync(Report, "ip", "netns", "del", NamespaceName);
        }
        try
        {
            Directory.Delete(_configDirectory, recursive: true);
        }
        catch (IOException e)
        {
            Report($"cleanup: could not delete {_configDirectory}: {e.Message}");
        }
        _log.Dispose();
    }

    /// <summary>
    /// EnsureIsolated throws unless this process is root and its namespace holds nothing but
    /// <c>lo</c> and JanusServers' own links, and Janus is installed.
    /// </summary>
    public static void EnsureIsolated()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "The Janus tests need root: they create a network namespace and a veth pair for Janus. " + HowToRun);
        }
        var foreign = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName)
            .Where(name => name != "lo" && !name!.StartsWith(HostLinkPrefix, StringComparison.Ordinal)).ToArray();
        if (foreign.Length > 0)
        {
            throw new InvalidOperationException(
                $"The Janus tests must run in a network namespace holding only lo, so nothing Janus or a browser sends can leave this machine; this one also has {string.Join(", ", foreign)}. "
                + HowToRun);
        }
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No Janus at {ExecutablePath}: apt-get install janus (scripts/test.sh installs it as root), or set PARLEY_JANUS.");
        }
    }

    // NextFreeIndex takes the next n of this process whose 10.231.n.0/30 is not on a link here yet
    // (another test process may share this namespace).
    private static int NextFreeIndex()
    {
        var inUse = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address.GetAddressBytes())
            .Where(b => b.Length == 4 && b[0] == 10 && b[1] == 231)
            .Select(b => (int)b[2])
            .ToHashSet();
        for (var attempt = 0; attempt < 254; attempt++)
        {
            var n = ((Interlocked.Increment(ref s_created) - 1) % 254) + 1;
            if (!inUse.Contains(n))
            {
                return n;
            }
        }
        throw new InvalidOperationException("Every 10.231.n.0/30 is in use in this namespace.");
    }

    private async Task CreateNetworkAsync(CancellationToken ct)
    {
        // A crashed run of a process with this same id may have left the namespace behind.
        if (File.Exists($"/run/netns/{NamespaceName}"))
        {
            await Commands.RunAsync(ct, "ip", "netns", "del", NamespaceName);
        }
        await Commands.RunAsync(ct, "ip", "netns", "add", NamespaceName);
        await Commands.RunAsync(ct, "ip", "-n", NamespaceName, "link", "set", "lo", "up");
        // IPv4 only (Janus's config has ipv6 = false): no link-local addresses or router solicitations.
        await Commands.RunAsync(ct, "ip", "netns", "exec", NamespaceName, "sysctl", "-qw",
            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        await Commands.RunAsync(ct, "ip", "link", "add", HostLink, "type", "veth", "peer", "name", JanusLink, "netns", NamespaceName);
        await File.WriteAllTextAsync($"/proc/sys/net/ipv6/conf/{HostLink}/disable_ipv6", "1", ct);
        await Commands.RunAsync(ct, "ip", "addr", "add", $"{HostAddress}/30", "dev", HostLink);
        await Commands.RunAsync(ct, "ip", "link", "set", HostLink, "up");
        await Commands.RunAsync(ct, "ip", "-n", NamespaceName, "addr", "add", $"{Address}/30", "dev", JanusLink);
        await Commands.RunAsync(ct, "ip", "-n", NamespaceName, "link", "set", JanusLink, "up");
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var process = _log.Start(Commands.StartInfo(["ip", "netns", "exec", NamespaceName, .. AsJanusUser, ExecutablePath, "-F", _configDirectory]));
        lock (_gate)
        {
            _process?.Dispose();
            _process = process;
        }
        await WaitUntilAnsweringAsync(process, cancellationToken);
        StartupTime = clock.Elapsed;
        _log.Append($"--- janus answered info after {StartupTime.TotalMilliseconds:0} ms ---");
    }

    // WaitUntilAnsweringAsync asks `info` until Janus answers. Janus loads its plugins before its
    // transports, so an answer means the VideoRoom is ready too. (Transports load in the folder's
    // order: with the production files there is no other to wait for.) A new log line or 50 ms,
    // whichever comes first, prompts the next attempt; Janus exiting fails at once with its log.
    private async Task WaitUntilAnsweringAsync(Process process, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    await process.WaitForExitAsync(deadline.Token);
                    throw new InvalidOperationException(_log.WithTail($"janus exited with {process.ExitCode} at start"));
                }
                var changed = _log.NextLine;
                try
                {
                    await using var janus = await JanusWebSocket.ConnectAsync(WebSocketUri, deadline.Token);
                    var info = await janus.InfoAsync(deadline.Token);
                    if (info.GetProperty("janus").GetString() == "server_info")
                    {
                        return;
                    }
                    throw new InvalidOperationException($"janus answered info with {info}");
                }
                catch (Exception e) when (e is WebSocketException or HttpRequestException or SocketException or IOException)
                {
                    // Not listening yet.
                }
                await Task.WhenAny(changed, Task.Delay(50, deadline.Token));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(_log.WithTail($"janus did not answer info on {WebSocketUri} within {StartTimeout.TotalSeconds:0} s"));
        }
    }

    /// <summary>GiveToJanusUserAsync makes <paramref name="path"/> and everything in it <see cref="UserId"/>'s, so Janus can read and write there.</summary>
    public static Task GiveToJanusUserAsync(string path, CancellationToken cancellationToken) =>
        Commands.RunAsync(cancellationToken, "chown", "-R", $"{UserId}:{UserId}", path);

    // AsJanusUser: setpriv execs the command (same pid) as UserId with no groups and, as a non-root uid, no capabilities.
    private static string[] AsJanusUser => ["setpriv", $"--reuid={UserId}", $"--regid={UserId}", "--clear-groups", "--"];

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private void Report(string message)
    {
        _log.Append(message);
        TestContext.Current.TestOutputHelper?.WriteLine(message);
    }
}
