namespace Parley.Sfu.Janus;

/// <summary>
/// JanusGateway keeps Parley connected to one Janus. It connects at start and, whenever the session
/// ends, connects again after a backoff of 1, 2, 4, 8, then 16 s (plus up to a tenth of jitter),
/// which starts again at 1 s after a session that lived at least <see cref="StableAfter"/>: a Janus
/// that accepts and drops at once is never hammered. Every session it makes is announced with
/// <see cref="Up"/> and its end with <see cref="Down"/>.
/// </summary>
internal sealed class JanusGateway : BackgroundService
{
    /// <summary>FirstBackoff is the wait before the first retry.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>MaxBackoff caps the wait between attempts.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(16);

    /// <summary>StableAfter is how long a session must have lived for the backoff to start again at FirstBackoff.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly JanusClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JanusGateway> _logger;
    private readonly IJanusObserver? _observer;
    private readonly Lock _lock = new();
    private JanusSession? _current;
    private TaskCompletionSource<JanusSession> _up = NewUpSource();

    // JanusGateway's observer defaults to null so that DI can build it when no observer is registered.
    public JanusGateway(JanusClientOptions options, TimeProvider time, ILogger<JanusGateway> logger, IJanusObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time;
        _logger = logger;
        _observer = observer;
    }

    /// <summary>Current is the live session, or null while Janus is down.</summary>
    public JanusSession? Current => Volatile.Read(ref _current);

    public bool IsUp => Current is not null;

    /// <summary>Up fires on a thread-pool thread, after Current is set, with each new session.
    /// Handlers must not block; what they throw is logged.</summary>
    public event Action<JanusSession>? Up;

    /// <summary>Down fires with the reason when a session ends, after Current is cleared (also when
    /// the gateway stops). Handlers must not block; what they throw is logged.</summary>
    public event Action<string>? Down;

    /// <summary>BackoffScheduled is told each wait before a reconnect, once its timer runs (for tests
    /// and metrics; it must not block).</summary>
    internal Action<TimeSpan>? BackoffScheduled { get; set; }

    /// <summary>WaitUpAsync returns the live session, waiting for one while Janus is down.</summary>
    public Task<JanusSession> WaitUpAsync(CancellationToken cancellationToken)
    {
        Task<JanusSession> up;
        lock (_lock)
        {
            if (_current is { } session)
            {
                return Task.FromResult(session);
            }
            up = _up.Task;
        }
        return up.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            JanusSession session;
            try
            {
                session = await JanusSession.ConnectAsync(_options, _time, _logger, _observer, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Any failure, even a refusal such as a missing plugin, is retried: Janus may be
                // reconfigured or restarted, and a gateway that gave up would never come back.
                var wait = Jittered(backoff);
                JanusLog.ConnectFailed(_logger, _options.Url, e.Message, wait);
                if (!await WaitAsync(wait, stoppingToken))
                {
                    break;
                }
                backoff = Next(backoff);
                continue;
            }

            var started = _time.GetTimestamp();
            SetUp(session);
            string reason;
            try
            {
                reason = await session.Closed.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                reason = "Parley is stopping";
            }
            SetDown(reason);
            await session.DisposeAsync();
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            if (_time.GetElapsedTime(started) >= StableAfter)
            {
                backoff = FirstBackoff;
            }
            var delay = Jittered(backoff);
            JanusLog.Down(_logger, reason, delay);
            if (!await WaitAsync(delay, stoppingToken))
            {
                break;
            }
            backoff = Next(backoff);
        }
        JanusLog.Stopped(_logger);
    }

    private static TimeSpan Next(TimeSpan backoff) => backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;

    // Jittered adds up to a tenth, so Parley servers restarted together do not reconnect in step.
    private static TimeSpan Jittered(TimeSpan backoff) =>
        backoff + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * backoff.TotalMilliseconds / 10);

    private async Task<bool> WaitAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        var wait = Task.Delay(delay, _time, stoppingToken);
        BackoffScheduled?.Invoke(delay);
        try
        {
            await wait;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void SetUp(JanusSession session)
    {
        TaskCompletionSource<JanusSession> up;
        lock (_lock)
        {
            _current = session;
            up = _up;
        }
        up.TrySetResult(session);
        JanusLog.Up(_logger, session.Id);
        Raise(Up, session, nameof(Up));
    }

    private void SetDown(string reason)
    {
        lock (_lock)
        {
            _current = null;
            if (_up.Task.IsCompleted)
            {
                _up = NewUpSource();
            }
        }
        Raise(Down, reason, nameof(Down));
    }

    // Raise calls each handler on its own, so one that throws does not starve the others.
    private void Raise<T>(Action<T>? handlers, T argument, string name)
    {
        if (handlers is null)
        {
            return;
        }
        foreach (var handler in handlers.GetInvocationList().Cast<Action<T>>())
        {
            try
            {
                handler(argument);
            }
            catch (Exception e)
            {
                JanusLog.GatewayHandlerFailed(_logger, e, name);
            }
        }
    }

    private static TaskCompletionSource<JanusSession> NewUpSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
