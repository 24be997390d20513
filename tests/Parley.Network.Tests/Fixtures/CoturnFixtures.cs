using System.Net;

namespace Parley.Network.Tests.Fixtures;

/// <summary>
/// CoturnFixture is one coturn shared by a test class or collection: it starts with the fixture and
/// stops with it. Each fixture has a port and relay range of its own, so fixtures never collide.
/// </summary>
public abstract class CoturnFixture(string name, int port, Func<string> configuration) : IAsyncLifetime
{
    private CoturnServer? _server;

    public CoturnServer Server => _server ?? throw new InvalidOperationException("coturn has not started.");

    public virtual async ValueTask InitializeAsync() =>
        _server = await CoturnServer.StartAsync(name, configuration(), port, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>DisposeCoreAsync stops coturn; a fixture that set up more overrides it to undo that too.</summary>
    protected virtual async ValueTask DisposeCoreAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>MinimalCoturn is coturn with <see cref="CoturnConfigs.Minimal"/> on port 3490, shared by a test collection.</summary>
public sealed class MinimalCoturn() : CoturnFixture("minimal", Port, () => CoturnConfigs.Minimal(Port, MinRelayPort, MaxRelayPort))
{
    // Port: away from 3478 and 3479, the production instance's port and its RFC 5780 alternate.
    public const int Port = 3490;
    public const int MinRelayPort = 50200;
    public const int MaxRelayPort = 50299;
}

/// <summary>
/// ProductionCoturn is coturn with deploy/coturn/turnserver.conf (addresses changed to 127.0.0.1
/// and ::1, port 3478 as in the file), plus <see cref="PublicPeers"/> on <c>lo</c>.
/// </summary>
public sealed class ProductionCoturn() : CoturnFixture("production", Port, CoturnConfigs.ProductionForTest)
{
    public const int Port = 3478;

    private IAsyncDisposable? _peers;

    /// <summary>
    /// PublicPeers are ordinary internet addresses, each just past a denied range (10/8,
    /// 100.64/10, 172.16/12, 2002::/16), put on this namespace's <c>lo</c> so the control case can
    /// relay to them without any packet leaving the machine.
    /// </summary>
    public static IReadOnlyList<IPAddress> PublicPeers { get; } =
        [IPAddress.Parse("11.0.0.1"), IPAddress.Parse("100.128.0.1"), IPAddress.Parse("172.32.0.1"), IPAddress.Parse("2003::1")];

    public override async ValueTask InitializeAsync()
    {
        _peers = await NetworkSandbox.AddToLoopbackAsync(PublicPeers, TestContext.Current.CancellationToken);
        try
        {
            await base.InitializeAsync();
        }
        catch
        {
            await _peers.DisposeAsync();
            _peers = null;
            throw;
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await base.DisposeCoreAsync();
        if (_peers is not null)
        {
            await _peers.DisposeAsync();
        }
    }
}

/// <summary>
/// LoopbackCoturn is coturn for browser calls on this namespace's loopback
/// (<see cref="CoturnConfigs.Loopback"/>): both browsers are on 127.0.0.1.
/// </summary>
public sealed class LoopbackCoturn() : CoturnFixture("browser-loopback", Port, () => CoturnConfigs.Loopback(Port, MinRelayPort, MaxRelayPort))
{
    // Port and relay ports: clear of the other fixtures (3478/3479, 3490; relay 49152-50151 and
    // 50200-50299) and of the NAT tests' coturn.
    public const int Port = 3492;
    public const int MinRelayPort = 50300;
    public const int MaxRelayPort = 50399;

    /// <summary>TurnUrl is the URL Parley hands out for this coturn (UDP to the TURN server).</summary>
    public static string TurnUrl => $"turn:127.0.0.1:{Port}?transport=udp";
}

/// <summary>MinimalCoturnTests is the test collection that shares one <see cref="MinimalCoturn"/>.</summary>
[CollectionDefinition(Name)]
public sealed class MinimalCoturnTests : ICollectionFixture<MinimalCoturn>
{
    public const string Name = "minimal coturn";
}

/// <summary>ProductionCoturnTests is the test collection that shares one <see cref="ProductionCoturn"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ProductionCoturnTests : ICollectionFixture<ProductionCoturn>
{
    public const string Name = "production coturn";
}
