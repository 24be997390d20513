using System.Globalization;
using Parley.Testing;

namespace Parley.SfuBench;

/// <summary>
/// SfuWorld is one media-server setup: Debian's Janus in a namespace of its own, linked by a veth
/// to this one (<see cref="JanusServer"/>), and the published Parley as a child process pointed at
/// it. Both are stopped, and the namespace deleted, by <see cref="DisposeAsync"/>.
/// </summary>
internal sealed class SfuWorld : IAsyncDisposable
{
    private SfuWorld(JanusServer janus, ParleyProcess parley, int meshMax)
    {
        Janus = janus;
        Parley = parley;
        MeshMax = meshMax;
    }

    public JanusServer Janus { get; }

    public ParleyProcess Parley { get; }

    public int MeshMax { get; }

    /// <summary>JanusPid is Janus's own process id (ip netns exec and setpriv exec it).</summary>
    public int JanusPid => Janus.ProcessId ?? throw new InvalidOperationException("Janus is not running.");

    /// <summary>StartAsync starts Janus, then Parley with <c>Parley:Sfu:MeshMax</c> = <paramref name="meshMax"/>, and waits until Parley has a Janus session.</summary>
    public static async Task<SfuWorld> StartAsync(Options options, int meshMax, string name, CancellationToken cancellationToken)
    {
        var serverDll = Path.GetFullPath(options.Get("server-dll", Environment.GetEnvironmentVariable("PARLEY_SERVER_DLL") is { Length: > 0 } d ? d : "artifacts/bench/server/Parley.Server.dll"));
        var port = options.Int("port", 18500);
        int? cpu = options.Get("cpu") is { Length: > 0 } c ? int.Parse(c, CultureInfo.InvariantCulture) : null;
        var logPath = Path.GetFullPath(options.Get("server-log", Path.Combine(Path.GetTempPath(), $"parley-sfubench-{Environment.ProcessId}-{name}.log")));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var janus = await JanusServer.StartAsync(name, cancellationToken);
        var janusStarted = clock.Elapsed;
        try
        {
            var settings = new Dictionary<string, string?>(janus.ParleySettings)
            {
                ["Parley:Sfu:MeshMax"] = meshMax.ToString(CultureInfo.InvariantCulture),
            };
            if (options.Get("mesh-return-delay") is { Length: > 0 } delay)
            {
                settings["Parley:Sfu:MeshReturnDelay"] = delay;
            }
            if (options.Get("sfu-log-level") is { Length: > 0 } level)
            {
                settings["Logging:LogLevel:Parley.Sfu"] = level;
            }
            if (options.Get("max-participants") is { Length: > 0 } max)
            {
                settings["Parley:MaxParticipants"] = max;
            }
            var parley = await ParleyProcess.StartAsync(serverDll, port, cpu, settings, logPath, cancellationToken);
            try
            {
                await parley.WaitForLogAsync("Janus is up", TimeSpan.FromSeconds(20), cancellationToken);
            }
            catch
            {
                await parley.DisposeAsync();
                throw;
            }
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sfubench: Janus (pid {janus.ProcessId}, {janus.WebSocketUri}) answered after {janusStarted.TotalMilliseconds:F0} ms; Parley (pid {parley.ProcessId}, {parley.BaseUri}, MeshMax {meshMax}) had its Janus session after {clock.Elapsed.TotalMilliseconds:F0} ms"));
            return new SfuWorld(janus, parley, meshMax);
        }
        catch
        {
            await janus.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Parley.DisposeAsync();
        await Janus.DisposeAsync();
    }
}
