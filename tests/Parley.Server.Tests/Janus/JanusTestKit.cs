using System.Text.Json.Nodes;
using System.Threading.Channels;
using Parley.Sfu.Janus;
using Parley.Testing;

namespace Parley.Server.Tests.Janus;

/// <summary>JanusTestKit holds what the Janus client tests share: a fresh fake per test, options, a log and deadlines.</summary>
public abstract class JanusTestKit : IAsyncLifetime
{
    internal const string Secret = "apisecret-do-not-log";

    /// <summary>Deadline bounds every wait of a test; generous, because the machine may be busy (it
    /// is only reached when the client is broken).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>RequestTimeout is the client's in every test: long enough for a busy machine on the
    /// real clock; tests of timeouts advance a fake clock by it.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected FakeJanus Fake { get; private set; } = null!;

    protected TestLogSink Logs { get; } = new();

    internal RecordingObserver Observer { get; } = new();

    public async ValueTask InitializeAsync() => Fake = await FakeJanus.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        await DisposeTestAsync();
        await Fake.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>DisposeTestAsync ends what a test class made, before the fake stops.</summary>
    protected virtual ValueTask DisposeTestAsync() => ValueTask.CompletedTask;

    internal JanusClientOptions Options(int maxMessageBytes = 4 * 1024 * 1024) => new()
    {
        Url = Fake.Url,
        ApiSecret = Secret,
        RequestTimeout = JanusTestKit.RequestTimeout,
        KeepAliveInterval = TimeSpan.FromSeconds(25),
        MaxMessageBytes = maxMessageBytes,
    };

    /// <summary>ConnectAsync connects a session to the fake and returns it with the fake's side of it.</summary>
    internal async Task<(JanusSession Session, FakeJanusConnection Connection)> ConnectAsync(TimeProvider? time = null, JanusClientOptions? options = null)
    {
        var session = await Within(JanusSession.ConnectAsync(options ?? Options(), time ?? TimeProvider.System, Logs.CreateLogger("Janus"), Observer, Ct));
        var connection = await Fake.NextConnectionAsync(Ct);
        return (session, connection);
    }

    /// <summary>AttachAsync connects a session and attaches one VideoRoom handle.</summary>
    internal async Task<(JanusSession Session, FakeJanusConnection Connection, JanusHandle Handle)> AttachAsync(TimeProvider? time = null)
    {
        var (session, connection) = await ConnectAsync(time);
        return (session, connection, await Attach(session));
    }

    /// <summary>Attach attaches one more VideoRoom handle.</summary>
    internal static Task<JanusHandle> Attach(JanusSession session) => Within(session.AttachAsync(JanusSession.VideoRoomPlugin, null, Ct));

    /// <summary>Within bounds a wait that a broken client could make endless.</summary>
    protected static Task<T> Within<T>(Task<T> task) => task.WaitAsync(Deadline, Ct);

    protected static Task Within(Task task) => task.WaitAsync(Deadline, Ct);

    protected static JsonObject Body(string json) => JsonNode.Parse(json)!.AsObject();
}

/// <summary>RecordingObserver keeps every reported outcome.</summary>
internal sealed class RecordingObserver : IJanusObserver
{
    private readonly Lock _lock = new();
    private readonly List<(string Request, int? ErrorCode)> _outcomes = [];
    private TaskCompletionSource _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyCollection<(string Request, int? ErrorCode)> Outcomes
    {
        get
        {
            lock (_lock)
            {
                return [.. _outcomes];
            }
        }
    }

    public void RequestCompleted(string request, TimeSpan elapsed, int? errorCode)
    {
        TaskCompletionSource reported;
        lock (_lock)
        {
            _outcomes.Add((request, errorCode));
            reported = _reported;
            _reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        reported.TrySetResult();
    }

    /// <summary>WaitForAsync completes once that many outcomes of the request were reported.</summary>
    public async Task WaitForAsync(string request, int count)
    {
        while (true)
        {
            Task reported;
            lock (_lock)
            {
                if (_outcomes.Count(o => o.Request == request) >= count)
                {
                    return;
                }
                reported = _reported.Task;
            }
            await reported;
        }
    }
}

/// <summary>EventRecorder is an OnEvent handler that keeps what it got, for reading in order.</summary>
internal sealed class EventRecorder
{
    private readonly Channel<JanusEvent> _events = Channel.CreateUnbounded<JanusEvent>();

    public Action<JanusEvent> Handler => e => _events.Writer.TryWrite(e);

    /// <summary>Listen makes a recorder the handle's OnEvent.</summary>
    public static EventRecorder Listen(JanusHandle handle)
    {
        var recorder = new EventRecorder();
        handle.OnEvent = recorder.Handler;
        return recorder;
    }

    /// <summary>Count is how many events wait to be read.</summary>
    public int Count => _events.Reader.Count;

    public async Task<JanusEvent> NextAsync(CancellationToken cancellationToken) =>
        await _events.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(JanusTestKit.Deadline, cancellationToken);

    public bool TryNext(out JanusEvent? e) => _events.Reader.TryRead(out e);
}
