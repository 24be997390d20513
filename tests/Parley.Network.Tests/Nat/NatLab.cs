using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Parley.Network.Tests.Fixtures;
using Parley.Testing;

namespace Parley.Network.Tests.Nat;

/// <summary>
/// NatLab is one NAT test's world: the public address <see cref="PublicAddress"/> on this
/// namespace's <c>lo</c>; coturn on it, with the production config (only its addresses and ports
/// changed); the <see cref="NatTopology"/>; Parley on the public address; and a Chromium inside
/// each client namespace. Disposing tears it all down in reverse, also after a failure.
/// </summary>
public sealed class NatLab : IAsyncDisposable
{
    /// <summary>PublicAddress is where Parley and coturn are on the "internet": public-looking, so the production deny list lets coturn relay to it.</summary>
    public static readonly IPAddress PublicAddress = IPAddress.Parse("11.0.0.1");

    // Port and relay ports: clear of the other coturn fixtures and of LoopbackCoturn.
    public const int Port = 3494;
    public const int MinRelayPort = 50400;
    public const int MaxRelayPort = 50499;

    private readonly List<IBrowser> _browsers = [];
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("parley-nat-");
    private IAsyncDisposable? _address;
    private CoturnServer? _coturn;
    private NatTopology? _topology;
    private ParleyTestServer? _parley;

    private NatLab()
    {
    }

    public CoturnServer Coturn => _coturn ?? throw new InvalidOperationException("coturn has not started.");

    public NatTopology Topology => _topology ?? throw new InvalidOperationException("The topology is not built.");

    public ParleyTestServer Parley => _parley ?? throw new InvalidOperationException("Parley has not started.");

    public static string StunUrl => $"stun:{PublicAddress}:{Port}";

    public static string TurnUdpUrl => $"turn:{PublicAddress}:{Port}?transport=udp";

    public static string TurnTcpUrl => $"turn:{PublicAddress}:{Port}?transport=tcp";

    /// <summary>
    /// CoturnConfiguration is deploy/coturn/turnserver.conf with its addresses and ports replaced:
    /// listen and relay on the public address, plus listen on 127.0.0.1, where
    /// <see cref="CoturnServer"/> checks that it answers; its deny list, quotas and guards as they are.
    /// </summary>
    public static string CoturnConfiguration()
    {
        string[] replaced = ["listening-ip", "relay-ip", "external-ip", "listening-device", "relay-device", "listening-port", "min-port", "max-port"];
        var kept = File.ReadAllLines(CoturnConfigs.ProductionPath)
            .Where(line => !replaced.Contains(CoturnConfigFile.DirectiveName(line)));
        return string.Join('\n', [.. kept,
            $"listening-ip={PublicAddress}", "listening-ip=127.0.0.1", $"relay-ip={PublicAddress}",
            $"listening-port={Port}", $"min-port={MinRelayPort}", $"max-port={MaxRelayPort}"]);
    }

    /// <summary>
    /// StartAsync puts the public address on <c>lo</c> and starts coturn before it builds the
    /// topology: coturn's fixture insists on a namespace holding only <c>lo</c>.
    /// </summary>
    public static async Task<NatLab> StartAsync(string name, NatKind kind, CancellationToken cancellationToken)
    {
        var lab = new NatLab();
        try
        {
            lab._address = await NetworkSandbox.AddToLoopbackAsync([PublicAddress], cancellationToken);
            lab._coturn = await CoturnServer.StartAsync($"nat-{name}", CoturnConfiguration(), Port, cancellationToken);
            lab._topology = await NatTopology.CreateAsync(kind, cancellationToken);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>StartParleyAsync starts Parley with <paramref name="settings"/>, listening on the public address only.</summary>
    public async Task<ParleyTestServer> StartParleyAsync(Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        _parley = await ParleyTestServer.StartAsync(settings, b => b.WebHost.UseUrls($"http://{PublicAddress}:0"), cancellationToken);
        return _parley;
    }

    /// <summary>LaunchBrowserAsync starts a Chromium inside <paramref name="site"/>'s client namespace, for Parley's pages.</summary>
    public async Task<IBrowser> LaunchBrowserAsync(Chromium chromium, NatSite site, CancellationToken cancellationToken)
    {
        var wrapper = Path.Combine(_directory.FullName, $"chromium-{site.Name}");
        var browser = await chromium.LaunchInNamespaceAsync(site.ClientNamespace, Parley.BaseUri, wrapper, cancellationToken);
        _browsers.Add(browser);
        return browser;
    }

    public async ValueTask DisposeAsync()
    {
        // Every step runs even when one before it failed: nothing may outlive the test.
        List<Exception> failures = [];
        async Task StepAsync(Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add(e);
            }
        }

        // Chromium first: its processes hold the client namespaces.
        foreach (var browser in _browsers)
        {
            await StepAsync(() => browser.CloseAsync());
        }
        await StepAsync(async () => await (_parley?.DisposeAsync() ?? ValueTask.CompletedTask));
        await StepAsync(async () => await (_topology?.DisposeAsync() ?? ValueTask.CompletedTask));
        await StepAsync(async () => await (_coturn?.DisposeAsync() ?? ValueTask.CompletedTask));
        await StepAsync(async () => await (_address?.DisposeAsync() ?? ValueTask.CompletedTask));
        await StepAsync(() =>
        {
            _directory.Delete(recursive: true);
            return Task.CompletedTask;
        });
        if (failures.Count > 0)
        {
            throw new AggregateException("Tearing down the NAT lab failed.", failures);
        }
    }
}
