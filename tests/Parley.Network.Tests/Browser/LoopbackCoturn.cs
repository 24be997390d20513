using Parley.Network.Tests.Fixtures;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// LoopbackCoturn is coturn for browser calls on this namespace's loopback: it listens and relays
/// on 127.0.0.1 and, unlike production, lets peers on loopback be relayed to
/// (<c>allow-loopback-peers</c>: this test config only), since both browsers are on 127.0.0.1.
/// </summary>
public sealed class LoopbackCoturn : IAsyncLifetime
{
    // Port and relay ports: clear of the other fixtures (3478/3479, 3490; relay 49152-50151 and
    // 50200-50299) and of the NAT tests' coturn.
    public const int Port = 3492;
    public const int MinRelayPort = 50300;
    public const int MaxRelayPort = 50399;

    private CoturnServer? _server;

    public CoturnServer Server => _server ?? throw new InvalidOperationException("coturn has not started.");

    /// <summary>TurnUrl is the URL Parley hands out for this coturn (UDP to the TURN server).</summary>
    public static string TurnUrl => $"turn:127.0.0.1:{Port}?transport=udp";

    public static string Configuration => $"""
        listening-ip=127.0.0.1
        relay-ip=127.0.0.1
        listening-port={Port}
        min-port={MinRelayPort}
        max-port={MaxRelayPort}
        fingerprint
        use-auth-secret
        realm=parley-test
        no-tls
        no-dtls
        no-cli
        no-multicast-peers
        allow-loopback-peers
        verbose
        log-file=stdout
        """;

    public async ValueTask InitializeAsync() =>
        _server = await CoturnServer.StartAsync("browser-loopback", Configuration, Port, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
