using System.Net;

namespace Parley.Network.Tests.Fixtures;

/// <summary>MinimalCoturn is coturn with <see cref="CoturnConfigs.Minimal"/> on port 3490, shared by a test collection.</summary>
public sealed class MinimalCoturn : IAsyncLifetime
{
    // Port: away from 3478 and 3479, the production instance's port and its RFC 5780 alternate.
    public const int Port = 3490;
    public const int MinRelayPort = 50200;
    public const int MaxRelayPort = 50299;

    private CoturnServer? _server;

    public CoturnServer Server => _server ?? throw new InvalidOperationException("coturn has not started.");

    public async ValueTask InitializeAsync() =>
        _server = await CoturnServer.StartAsync("minimal", CoturnConfigs.Minimal(Port, MinRelayPort, MaxRelayPort), Port, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// ProductionCoturn is coturn with deploy/coturn/turnserver.conf (addresses changed to 127.0.0.1
/// and ::1, port 3478 as in the file), plus <see cref="PublicPeers"/> on <c>lo</c>.
/// </summary>
public sealed class ProductionCoturn : IAsyncLifetime
{
    public const int Port = 3478;

    private CoturnServer? _server;
    private IAsyncDisposable? _peers;

    /// <summary>
    /// PublicPeers are ordinary internet addresses, each just past a denied range (10/8,
    /// 100.64/10, 172.16/12, 2002::/16), put on this namespace's <c>lo</c> so the control case can
    /// relay to them without any packet leaving the machine.
    /// </summary>
    public static IReadOnlyList<IPAddress> PublicPeers { get; } =
        [IPAddress.Parse("11.0.0.1"), IPAddress.Parse("100.128.0.1"), IPAddress.Parse("172.32.0.1"), IPAddress.Parse("2003::1")];

    public CoturnServer Server => _server ?? throw new InvalidOperationException("coturn has not started.");

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _peers = await NetworkSandbox.AddToLoopbackAsync(PublicPeers, ct);
        try
        {
            _server = await CoturnServer.StartAsync("production", CoturnConfigs.ProductionForTest(), Port, ct);
        }
        catch
        {
            await _peers.DisposeAsync();
            _peers = null;
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_peers is not null)
        {
            await _peers.DisposeAsync();
        }
    }
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
