using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Channels;

namespace Parley.Sfu.Janus;

/// <summary>
/// JanusSession is one WebSocket connection to Janus (subprotocol <c>janus-protocol</c>) carrying one
/// Janus session. It has one reader, which assembles messages, answers pending transactions and routes
/// the rest to handles by <c>sender</c>; one writer, which sends queued frames one at a time (a
/// request that times out before the writer even took it means the socket is stuck, and ends the
/// session); and a keepalive loop. Every request has a fresh transaction and a strict timeout; an
/// answer that comes after its request finished is dropped (an <c>event</c> goes to its handle).
/// When the session ends, for whatever reason, every pending request fails with
/// <see cref="JanusUnavailableException"/>, handles see no more events and <see cref="Closed"/>
/// completes. Dispose it even after it has closed: that frees its timers and socket.
/// </summary>
internal sealed class JanusSession : IAsyncDisposable
{
    public const string SubProtocol = "janus-protocol";
    public const string VideoRoomPlugin = "janus.plugin.videoroom";

    // MinimumVersion is Janus 1.1.0: multistream VideoRoom subscribers with update/updating (design doc §2.3).
    private const int MinimumVersion = 1100;
    private const int OutboxLimit = 1024;
    private const int InitialReceiveBytes = 16 * 1024;

    // SocketPingInterval is the WebSocket-level ping (and its pong timeout, on the system clock:
    // ClientWebSocket takes no TimeProvider); it finds a dead TCP path before the next keepalive.
    private static readonly TimeSpan SocketPingInterval = TimeSpan.FromSeconds(15);

    // DisposeTimeout bounds each step of a polite goodbye: the destroy request and the close frame.
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(2);

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // SDP and candidates are sent to Janus, never to a browser page: no HTML escaping needed.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;
    private readonly JanusClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IJanusObserver? _observer;
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, JanusHandle> _handles = new();
    private readonly Channel<Outgoing> _outbox = Channel.CreateBounded<Outgoing>(
        new BoundedChannelOptions(OutboxLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private Task _writing = Task.CompletedTask;
    private Task _keepingAlive = Task.CompletedTask;
    private long _nextTransaction;
    private int _closing;
    private int _disposed;
    private string? _reason;

    private JanusSession(
        ClientWebSocket socket, HttpMessageInvoker? invoker, JanusClientOptions options, TimeProvider time, ILogger logger, IJanusObserver? observer)
    {
        _socket = socket;
        _invoker = invoker;
        _options = options;
        _time = time;
        _logger = logger;
        _observer = observer;
    }

    /// <summary>Id is the Janus session id (below 2^53).</summary>
    public long Id { get; private set; }

    /// <summary>ServerInfo is Janus's answer to <c>info</c> (<c>{"janus":"server_info",...}</c>).</summary>
    public JsonElement ServerInfo { get; private set; }

    /// <summary>Closed completes, and never faults, when the session ends; its result says why in words.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>IsOpen is true until the session starts to end.</summary>
    public bool IsOpen => Volatile.Read(ref _closing) == 0;

    internal ILogger Logger => _logger;

    /// <summary>
    /// ConnectAsync opens the socket (within ConnectTimeout), checks with <c>info</c> that Janus is 1.1
    /// or later and has the VideoRoom plugin (else InvalidOperationException), creates the session and
    /// starts the keepalive. A Janus that cannot be reached throws JanusUnavailableException, a
    /// handshake that takes too long TimeoutException.
    /// </summary>
    public static async Task<JanusSession> ConnectAsync(
        JanusClientOptions options, TimeProvider time, ILogger logger, IJanusObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        var (socket, invoker) = await OpenSocketAsync(options, time, cancellationToken);
        var session = new JanusSession(socket, invoker, options, time, logger, observer);
        try
        {
            session.Start();
            var info = await session.RequestAsync("info", Answer.ServerInfo, handleId: null, fields: null, onSuccess: null, options.RequestTimeout, cancellationToken);
            session.ServerInfo = info;
            CheckServer(options.Url, info);
            var created = await session.RequestAsync("create", Answer.Success, handleId: null, fields: null, onSuccess: null, options.RequestTimeout, cancellationToken);
            session.Id = ReadDataId(created) ?? throw new JanusException(0, "create answered without a session id", "create");
            session._keepingAlive = session.KeepAliveLoopAsync();
            JanusLog.Connected(logger, session.Id, options.Url, ReadString(info, "version_string") ?? "?");
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>AttachAsync attaches a new handle to <paramref name="plugin"/> (e.g. "janus.plugin.videoroom").</summary>
    public async Task<JanusHandle> AttachAsync(string plugin, string? opaqueId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(plugin);
        JanusHandle? handle = null;
        await RequestAsync(
            "attach",
            Answer.Success,
            handleId: null,
            w =>
            {
                w.WriteString("plugin", plugin);
                if (opaqueId is not null)
                {
                    w.WriteString("opaque_id", opaqueId);
                }
            },
            // The handle is registered on the reader, before it reads the next message, so no event
            // that follows the attach answer can miss it.
            reply =>
            {
                if (ReadDataId(reply) is { } id)
                {
                    handle = new JanusHandle(this, id);
                    _handles[id] = handle;
                }
            },
            _options.RequestTimeout,
            cancellationToken);
        return handle ?? throw new JanusException(0, "attach answered without a handle id", "attach");
    }

    /// <summary>DisposeAsync destroys the session (best effort, briefly), closes the socket and fails
    /// what is still pending with JanusUnavailableException.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (IsOpen && Id != 0)
        {
            try
            {
                await RequestAsync("destroy", Answer.Success, handleId: null, fields: null, onSuccess: null, DisposeTimeout, CancellationToken.None);
            }
            catch (Exception e) when (e is JanusException or JanusUnavailableException or TimeoutException)
            {
                JanusLog.DestroyFailed(_logger, Id, e.Message);
            }
        }
        if (IsOpen)
        {
            await SayGoodbyeAsync();
        }
        Close("disposed");
        await Task.WhenAll(_receiving, _writing, _keepingAlive);
        _socket.Dispose();
        _invoker?.Dispose();
        _stop.Dispose();
    }

    /// <summary>Request sends a handle-level request (handle_id is set) for <see cref="JanusHandle"/>.</summary>
    internal Task<JsonElement> HandleRequestAsync(
        string request, Answer answer, long handleId, Action<Utf8JsonWriter>? fields, CancellationToken cancellationToken) =>
        RequestAsync(request, answer, handleId, fields, onSuccess: null, _options.RequestTimeout, cancellationToken);

    /// <summary>Forget stops routing events to a handle.</summary>
    internal void Forget(JanusHandle handle) => _handles.TryRemove(new KeyValuePair<long, JanusHandle>(handle.Id, handle));

    // RequestAsync sends one request and waits for its answer: the JanusApi name is the part of
    // `request` before any ':' ("message:join" sends "message"). Session-level requests carry
    // session_id once the session exists; handle-level ones carry handle_id too.
    private async Task<JsonElement> RequestAsync(
        string request,
        Answer answer,
        long? handleId,
        Action<Utf8JsonWriter>? fields,
        Action<JsonElement>? onSuccess,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var started = _time.GetTimestamp();
        var transaction = Interlocked.Increment(ref _nextTransaction).ToString(CultureInfo.InvariantCulture);
        var pending = new Pending(request, answer, onSuccess);
        // The deadline starts before the frame is queued, so a test's fake clock can never move past
        // a request whose timer does not exist yet.
        using var deadline = new CancellationTokenSource(timeout, _time);
        _pending[transaction] = pending;
        try
        {
            if (!IsOpen)
            {
                throw NotSent(request);
            }
            var frame = Frame(request, transaction, handleId, fields);
            if (!_outbox.Writer.TryWrite(new Outgoing(frame, pending)))
            {
                if (IsOpen)
                {
                    Close($"Janus is not reading ({OutboxLimit} messages wait to be sent)");
                }
                throw NotSent(request);
            }
            using var onCancel = cancellationToken.UnsafeRegister(static d => ((CancellationTokenSource)d!).Cancel(), deadline);
            var reply = await pending.Source.Task.WaitAsync(deadline.Token);
            Report(request, started, null);
            return reply;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Janus request {request} was cancelled.", null, cancellationToken);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            JanusLog.RequestTimedOut(_logger, request, timeout);
            if (!pending.Written)
            {
                // The request never left the outbox: the writer is stuck on a socket Janus does not read.
                Close($"Janus is not reading ({request} waited {timeout.TotalSeconds:0.###} s to be sent)");
            }
            Report(request, started, 408);
            throw new TimeoutException($"Janus did not answer {request} within {timeout.TotalSeconds:0.###} s.");
        }
        catch (JanusException e)
        {
            Report(request, started, e.Code);
            throw;
        }
        catch (JanusUnavailableException)
        {
            Report(request, started, 503);
            throw;
        }
        finally
        {
            _pending.TryRemove(transaction, out _);
        }
    }

    private ReadOnlyMemory<byte> Frame(string request, string transaction, long? handleId, Action<Utf8JsonWriter>? fields)
    {
        var colon = request.IndexOf(':', StringComparison.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("janus", colon < 0 ? request : request[..colon]);
            w.WriteString("transaction", transaction);
            if (Id != 0)
            {
                w.WriteNumber("session_id", Id);
            }
            if (handleId is { } handle)
            {
                w.WriteNumber("handle_id", handle);
            }
            if (_options.ApiSecret is { } secret)
            {
                w.WriteString("apisecret", secret);
            }
            fields?.Invoke(w);
            w.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private JanusUnavailableException NotSent(string request) =>
        new($"Janus session is closed ({Volatile.Read(ref _reason) ?? "closing"}); {request} was not sent.");

    private void Report(string request, long started, int? errorCode)
    {
        if (_observer is null)
        {
            return;
        }
        try
        {
            _observer.RequestCompleted(request, _time.GetElapsedTime(started), errorCode);
        }
        catch (Exception e)
        {
            JanusLog.ObserverFailed(_logger, e, request);
        }
    }

    // OpenSocketAsync reaches a unix:// Url through its socket file: the HTTP upgrade then goes to
    // ws://localhost/ over that connection (Janus's ws_unix).
    private static async Task<(ClientWebSocket Socket, HttpMessageInvoker? Invoker)> OpenSocketAsync(
        JanusClientOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SubProtocol);
        socket.Options.KeepAliveInterval = SocketPingInterval;
        socket.Options.KeepAliveTimeout = SocketPingInterval;
        var invoker = options.Url.Scheme == "unix" ? UnixSocketInvoker(Uri.UnescapeDataString(options.Url.AbsolutePath)) : null;
        using var deadline = new CancellationTokenSource(options.ConnectTimeout, time);
        using var onCancel = cancellationToken.UnsafeRegister(static d => ((CancellationTokenSource)d!).Cancel(), deadline);
        try
        {
            if (invoker is null)
            {
                await socket.ConnectAsync(options.Url, deadline.Token);
            }
            else
            {
                await socket.ConnectAsync(new Uri("ws://localhost/"), invoker, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            invoker?.Dispose();
            throw new TimeoutException($"Connecting to Janus at {options.Url} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s.");
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException or SocketException)
        {
            socket.Dispose();
            invoker?.Dispose();
            throw new JanusUnavailableException($"Could not connect to Janus at {options.Url}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            invoker?.Dispose();
            throw;
        }
        if (socket.SubProtocol != SubProtocol)
        {
            socket.Abort();
            socket.Dispose();
            invoker?.Dispose();
            throw new InvalidOperationException(
                $"The WebSocket server at {options.Url} did not accept the '{SubProtocol}' subprotocol; is it Janus's WebSocket API (not its Admin API)?");
        }
        return (socket, invoker);
    }

    /// <summary>UnixSocketInvoker connects a <see cref="ClientWebSocket"/> to the UNIX socket at <paramref name="path"/> (Janus's <c>ws_unix</c>), whatever the URL's host.</summary>
    internal static HttpMessageInvoker UnixSocketInvoker(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    private static void CheckServer(Uri url, JsonElement info)
    {
        var version = info.TryGetProperty("version", out var v) && v.TryGetInt32(out var n) ? n : 0;
        if (version < MinimumVersion)
        {
            throw new InvalidOperationException(
                $"Janus at {url} is version {ReadString(info, "version_string") ?? "unknown"} ({version}); Parley needs Janus 1.1.0 or later.");
        }
        if (!info.TryGetProperty("plugins", out var plugins) || plugins.ValueKind != JsonValueKind.Object || !plugins.TryGetProperty(VideoRoomPlugin, out _))
        {
            throw new InvalidOperationException(
                $"Janus at {url} has no VideoRoom plugin ({VideoRoomPlugin}); enable libjanus_videoroom.so in its janus.jcfg 'plugins' section.");
        }
    }

    private void Start()
    {
        _receiving = ReceiveLoopAsync();
        _writing = WriteLoopAsync();
    }

    private async Task KeepAliveLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.KeepAliveInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await RequestAsync("keepalive", Answer.Ack, handleId: null, fields: null, onSuccess: null, _options.RequestTimeout, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The session is ending.
        }
        catch (JanusUnavailableException)
        {
            // The session ended while the keepalive was out.
        }
        catch (JanusException e)
        {
            Close($"keepalive failed: {e.Code} {e.Reason}");
        }
        catch (TimeoutException)
        {
            Close("keepalive timed out");
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                while (reader.TryRead(out var item))
                {
                    item.Pending.Written = true;
                    await _socket.SendAsync(item.Frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session is ending.
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            Close($"connection lost while sending ({e.GetType().Name})");
        }
    }

    // ReceiveLoopAsync keeps one buffer for the connection (there is one connection, not thousands)
    // and grows it to at most one byte past the limit: enough to see that a message is too big.
    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[InitialReceiveBytes];
        var count = 0;
        string reason;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, _options.MaxMessageBytes + 1L));
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(count), _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    reason = $"Janus closed the connection ({_socket.CloseStatus?.ToString() ?? "no status"})";
                    break;
                }
                count += result.Count;
                if (count > _options.MaxMessageBytes)
                {
                    reason = $"Janus sent a message larger than {_options.MaxMessageBytes} bytes";
                    break;
                }
                if (result.EndOfMessage)
                {
                    Dispatch(buffer.AsMemory(0, count));
                    count = 0;
                    if (buffer.Length > InitialReceiveBytes * 4)
                    {
                        buffer = new byte[InitialReceiveBytes];
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            reason = "closed";
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = e is WebSocketException w ? $"connection lost ({w.WebSocketErrorCode})" : $"connection lost ({e.GetType().Name})";
        }
        Close(reason);
    }

    private void Dispatch(ReadOnlyMemory<byte> message)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message);
        }
        catch (JsonException)
        {
            JanusLog.Malformed(_logger, "not JSON");
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in root.EnumerateArray())
                {
                    Route(item);
                }
            }
            else
            {
                Route(root);
            }
        }
    }

    private void Route(JsonElement message)
    {
        var type = message.ValueKind == JsonValueKind.Object ? ReadString(message, "janus") : null;
        if (type is null)
        {
            JanusLog.Malformed(_logger, "no \"janus\" type");
            return;
        }
        var transaction = ReadString(message, "transaction");
        switch (type)
        {
            case "success" or "error" or "server_info":
                if (transaction is not null && _pending.TryRemove(transaction, out var answered))
                {
                    Complete(answered, type, message);
                }
                else
                {
                    JanusLog.LateAnswer(_logger, type, transaction ?? "(none)");
                }
                break;
            case "ack":
                // An ack answers trickle and keepalive; for a message it only says the event will follow.
                if (transaction is not null && _pending.TryGetValue(transaction, out var acked))
                {
                    if (acked.Answer == Answer.Ack && _pending.TryRemove(new KeyValuePair<string, Pending>(transaction, acked)))
                    {
                        acked.Source.TrySetResult(message.Clone());
                    }
                }
                else
                {
                    JanusLog.LateAnswer(_logger, type, transaction ?? "(none)");
                }
                break;
            case "event":
                // An event may come before its ack (design doc §1). One whose request is no longer
                // pending is the handle's: it may carry an offer.
                if (transaction is not null && _pending.TryRemove(transaction, out var evented))
                {
                    Complete(evented, type, message);
                }
                else
                {
                    ToHandle(JanusEventKind.Plugin, type, message);
                }
                break;
            case "webrtcup":
                ToHandle(JanusEventKind.WebrtcUp, type, message);
                break;
            case "media":
                ToHandle(JanusEventKind.Media, type, message);
                break;
            case "slowlink":
                ToHandle(JanusEventKind.SlowLink, type, message);
                break;
            case "hangup":
                ToHandle(JanusEventKind.Hangup, type, message);
                break;
            case "trickle":
                ToHandle(JanusEventKind.Trickle, type, message);
                break;
            case "detached":
                ToHandle(JanusEventKind.Detached, type, message);
                break;
            case "timeout":
                Close("Janus timed out the session");
                break;
            default:
                JanusLog.UnknownMessage(_logger, type);
                break;
        }
    }

    private static void Complete(Pending pending, string type, JsonElement message)
    {
        if (type == "error")
        {
            var error = message.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
            pending.Source.TrySetException(new JanusException(ReadCode(error, "code"), ReadString(error, "reason") ?? "", pending.Request));
            return;
        }
        if (ReadPluginData(message) is { } data && data.ValueKind == JsonValueKind.Object
            && (data.TryGetProperty("error_code", out _) || data.TryGetProperty("error", out _)))
        {
            pending.Source.TrySetException(new JanusException(ReadCode(data, "error_code"), ReadString(data, "error") ?? "", pending.Request));
            return;
        }
        pending.OnSuccess?.Invoke(message);
        pending.Source.TrySetResult(message.Clone());
    }

    private void ToHandle(JanusEventKind kind, string type, JsonElement message)
    {
        if (!message.TryGetProperty("sender", out var s) || !s.TryGetInt64(out var sender))
        {
            JanusLog.Malformed(_logger, $"{type} without a sender");
            return;
        }
        if (!_handles.TryGetValue(sender, out var handle))
        {
            JanusLog.UnknownHandle(_logger, type, sender);
            return;
        }
        var clone = message.Clone();
        handle.Deliver(new JanusEvent(kind, clone, kind == JanusEventKind.Plugin ? ReadPluginData(clone) : null, ReadJsep(clone)));
        if (kind == JanusEventKind.Detached)
        {
            // Janus sends nothing more on a detached handle; what is buffered is still delivered.
            Forget(handle);
        }
    }

    private void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Janus's answer to our close frame, or the aborted read, is not the reason: we are.
            reason = "disposed";
        }
        Volatile.Write(ref _reason, reason);
        _outbox.Writer.TryComplete();
        foreach (var (transaction, pending) in _pending)
        {
            if (_pending.TryRemove(new KeyValuePair<string, Pending>(transaction, pending)))
            {
                pending.Source.TrySetException(new JanusUnavailableException($"Janus session ended during {pending.Request}: {reason}."));
            }
        }
        foreach (var handle in _handles.Values)
        {
            handle.Close();
        }
        _handles.Clear();
        _stop.Cancel();
        // Abort ends the socket however the session ended; a reader that stopped by itself
        // (a message too big) would otherwise leave it open until DisposeAsync.
        _socket.Abort();
        JanusLog.Ended(_logger, Id, reason);
        _closed.TrySetResult(reason);
    }

    // SayGoodbyeAsync lets the writer drain, then sends a close frame; the reader is stopped after it.
    private async Task SayGoodbyeAsync()
    {
        _outbox.Writer.TryComplete();
        try
        {
            await _writing.WaitAsync(DisposeTimeout, _time);
            using var deadline = new CancellationTokenSource(DisposeTimeout, _time);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", deadline.Token);
            }
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebSocketException or IOException)
        {
            // Best effort: the socket is aborted next anyway.
        }
    }

    internal static string? ReadString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static int ReadCode(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.TryGetInt32(out var code) ? code : 0;

    private static long? ReadDataId(JsonElement reply) =>
        reply.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
        && data.TryGetProperty("id", out var id) && id.TryGetInt64(out var value)
            ? value
            : null;

    internal static JsonElement? ReadPluginData(JsonElement message) =>
        message.TryGetProperty("plugindata", out var plugin) && plugin.ValueKind == JsonValueKind.Object && plugin.TryGetProperty("data", out var data)
            ? data
            : null;

    internal static Jsep? ReadJsep(JsonElement message) =>
        message.TryGetProperty("jsep", out var jsep) && ReadString(jsep, "type") is { } type && ReadString(jsep, "sdp") is { } sdp
            ? new Jsep(type, sdp)
            : null;

    /// <summary>Answer is the message that completes a request.</summary>
    internal enum Answer
    {
        /// <summary>info: <c>server_info</c>.</summary>
        ServerInfo,

        /// <summary>create, attach, detach, hangup, destroy: <c>success</c>.</summary>
        Success,

        /// <summary>trickle, keepalive: <c>ack</c>.</summary>
        Ack,

        /// <summary>message: a sync <c>success</c>, or the <c>event</c> after (or before) the <c>ack</c>.</summary>
        Event,
    }

    private sealed class Pending(string request, Answer answer, Action<JsonElement>? onSuccess)
    {
        private bool _written;

        public string Request { get; } = request;

        public Answer Answer { get; } = answer;

        // OnSuccess runs on the reader, before the next message is read.
        public Action<JsonElement>? OnSuccess { get; } = onSuccess;

        public TaskCompletionSource<JsonElement> Source { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Written is set by the writer as it hands the frame to the socket.
        public bool Written
        {
            get => Volatile.Read(ref _written);
            set => Volatile.Write(ref _written, value);
        }
    }

    private readonly record struct Outgoing(ReadOnlyMemory<byte> Frame, Pending Pending);
}
