using Microsoft.Extensions.Options;
using Parley.Rooms;
using Parley.Sfu.Janus;

namespace Parley.Sfu;

/// <summary>
/// JanusConnection is Parley's link to its Janus, when one is configured: it runs the
/// <see cref="JanusGateway"/> (connect, keep alive, reconnect with backoff) and tells the room
/// policy whether the SFU can take rooms.
/// </summary>
internal sealed class JanusConnection(IOptions<SfuOptions> options, TimeProvider time, ILoggerFactory loggers, SfuMetrics metrics)
    : IHostedService, IAsyncDisposable
{
    private JanusGateway? _gateway;

    public bool IsConfigured => options.Value.IsEnabled;

    public bool IsUp => _gateway?.IsUp == true;

    /// <summary>Current is the Janus session now, or null while Janus is down.</summary>
    public JanusSession? Current => _gateway?.Current;

    /// <summary>Up fires with each new Janus session, Down with the reason a session ended. Handlers must not block.</summary>
    public event Action<JanusSession>? Up;

    public event Action<string>? Down;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.IsEnabled || !JanusUrls.TryParse(settings.JanusUrl!, out var url))
        {
            return;
        }
        var client = new JanusClientOptions { Url = url, ApiSecret = settings.ApiSecret, RequestTimeout = settings.RequestTimeout };
        _gateway = new JanusGateway(client, time, loggers.CreateLogger<JanusGateway>(), metrics);
        _gateway.Up += session => Up?.Invoke(session);
        _gateway.Down += why => Down?.Invoke(why);
        metrics.Up = () => IsUp;
        await _gateway.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _gateway?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>SfuRuntime is what every SFU room shares: settings, the Janus link, the way to the participants, and one control handle per Janus session.</summary>
internal sealed class SfuRuntime(IOptions<SfuOptions> options, JanusConnection connection, ISfuSignals signals, RoomPolicy policy, TimeProvider time, ILoggerFactory loggers)
{
    private readonly Lock _gate = new();
    private (JanusSession Session, Task<JanusHandle> Handle)? _control;

    public SfuOptions Options { get; } = options.Value;

    public JanusConnection Connection { get; } = connection;

    public ISfuSignals Signals { get; } = signals;

    public RoomPolicy Policy { get; } = policy;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = loggers.CreateLogger("Parley.Sfu");

    /// <summary>ControlHandleAsync is the session's handle for room requests (create, destroy, list), attached once per session.</summary>
    public Task<JanusHandle> ControlHandleAsync(JanusSession session)
    {
        lock (_gate)
        {
            if (_control is { } control && control.Session == session && !control.Handle.IsFaulted)
            {
                return control.Handle;
            }
            var handle = session.AttachAsync(VideoRoom.Plugin, null, CancellationToken.None);
            _control = (session, handle);
            return handle;
        }
    }
}
