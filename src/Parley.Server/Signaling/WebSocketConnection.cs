using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Parley.Signaling;

/// <summary>
/// WebSocketConnection is the transport of one participant: one read loop that assembles
/// messages up to the size limit and hands them to the session, and one writer that drains a
/// bounded outbox with a deadline per write. A reader that falls behind by more than the
/// outbox holds is dropped, so one slow client never stalls a room. What a message means, and
/// when the connection should end, is the session's business (<see cref="IConnectionHandler"/>).
/// </summary>
internal sealed class WebSocketConnection : IConnection, IDisposable
{
    private const int InitialBufferBytes = 4096;

    // CloseHandshakeTimeout bounds the wait for the client's close frame after the server's.
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly SignalingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SignalingMetrics _metrics;
    private readonly Channel<Outgoing> _queue = Channel.CreateUnbounded<Outgoing>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly CancellationTokenSource _abort;
    private readonly CancellationTokenSource _writeDeadline;
    private int _queued;
    private int _closing;

    public WebSocketConnection(string id, WebSocket socket, SignalingOptions options, TimeProvider time, ILogger logger, SignalingMetrics metrics)
    {
        _metrics = metrics;
        Id = id;
        _socket = socket;
        _options = options;
        _time = time;
        _logger = logger;
        // Sources with a TimeProvider allocate a timer each; with the system clock, plain ones make
        // theirs only when a deadline is first set, so an idle connection holds none.
        _abort = time == TimeProvider.System ? new CancellationTokenSource() : new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _writeDeadline = time == TimeProvider.System ? new CancellationTokenSource() : new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    /// <summary>Id names the connection in logs (the request's trace identifier).</summary>
    public string Id { get; }

    /// <summary>Send queues a frame; it never blocks. Past the outbox limit the connection is dropped.</summary>
    public void Send(ReadOnlyMemory<byte> frame)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }
        if (Interlocked.Increment(ref _queued) > _options.OutboundQueueLimit)
        {
            if (Interlocked.Exchange(ref _closing, 1) == 0)
            {
                SignalingLog.SlowReader(_logger, Id, _options.OutboundQueueLimit);
                _queue.Writer.TryComplete();
                // Abort off the caller's thread: Send runs under a room's lock.
                ThreadPool.UnsafeQueueUserWorkItem(static c => c.Abort(), this, preferLocal: false);
            }
            return;
        }
        _queue.Writer.TryWrite(new Outgoing(frame, null, null));
    }

    /// <summary>Close queues a close frame behind what is already queued; later frames are dropped.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }
        _queue.Writer.TryWrite(new Outgoing(default, status, reason));
        _queue.Writer.TryComplete();
    }

    /// <summary>RunAsync runs the connection until the socket closes, dies or is dropped, then tells the handler.</summary>
    public async Task RunAsync(IConnectionHandler handler, CancellationToken requestAborted)
    {
        using var onAbort = requestAborted.UnsafeRegister(static c => ((WebSocketConnection)c!).Abort(), this);
        var writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        // why stays "socket error" for a failure no catch below names: a lost connection, not a close.
        var why = "socket error";
        try
        {
            why = await ReadLoopAsync(handler);
        }
        catch (OperationCanceledException)
        {
            why = Volatile.Read(ref _closing) != 0 ? "dropped" : "aborted";
        }
        catch (WebSocketException e)
        {
            why = e.WebSocketErrorCode == WebSocketError.Faulted ? "keepalive timeout" : $"socket error ({e.WebSocketErrorCode})";
        }
        finally
        {
            try
            {
                await handler.OnClosedAsync(why);
            }
            finally
            {
                Close(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "");
            }
        }
        if (why != "closed")
        {
            SignalingLog.Lost(_logger, Id, why);
        }
        await writer;
    }

    // ReadLoopAsync holds no buffer while the connection is idle: it waits with a zero-byte read
    // for the next frame header, rents a buffer for the message, and returns it once the message
    // is handled. An idle joined connection then costs no receive buffer at all.
    private async Task<string> ReadLoopAsync(IConnectionHandler handler)
    {
        byte[]? buffer = null;
        var count = 0;
        var discarding = false;
        var maxBytes = _options.MaxMessageBytes;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    var header = await _socket.ReceiveAsync(Memory<byte>.Empty, _abort.Token);
                    if (header.MessageType == WebSocketMessageType.Close)
                    {
                        return "closed";
                    }
                    if (header.EndOfMessage)
                    {
                        // An empty message, or the empty last frame of one being skipped.
                        if (!discarding)
                        {
                            await CompleteAsync(handler, ReadOnlyMemory<byte>.Empty, header.MessageType);
                        }
                        discarding = false;
                        continue;
                    }
                    buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
                }
                else if (count == buffer.Length)
                {
                    // Grow to at most one byte past the limit: enough to see that a message is too big.
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(count), _abort.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return "closed";
                }
                count += result.Count;
                if (discarding || Volatile.Read(ref _closing) != 0 || count > maxBytes)
                {
                    if (!discarding && Volatile.Read(ref _closing) == 0)
                    {
                        SignalingLog.MessageTooBig(_logger, Id, maxBytes);
                        Close(WebSocketCloseStatus.MessageTooBig, "message too big");
                    }
                    // After the server's close frame only the client's close matters: skip the rest.
                    discarding = !result.EndOfMessage;
                    count = 0;
                }
                else if (!result.EndOfMessage)
                {
                    continue;
                }
                else
                {
                    await CompleteAsync(handler, buffer.AsMemory(0, count), result.MessageType);
                }
                if (result.EndOfMessage)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                    count = 0;
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // CompleteAsync hands one whole message to the handler; after a close nothing more is handled.
    private ValueTask CompleteAsync(IConnectionHandler handler, ReadOnlyMemory<byte> message, WebSocketMessageType type)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return ValueTask.CompletedTask;
        }
        _metrics.Received(message.Length);
        return type == WebSocketMessageType.Text ? handler.OnTextAsync(message, _abort.Token) : handler.OnBinaryAsync(_abort.Token);
    }

    private async Task WriteLoopAsync()
    {
        using var onAbort = _abort.Token.UnsafeRegister(static d => ((CancellationTokenSource)d!).Cancel(), _writeDeadline);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token))
            {
                // One deadline per drain of the queue, not per frame: the whole backlog (at most
                // OutboundQueueLimit frames) must go out within WriteTimeout.
                _writeDeadline.CancelAfter(_options.WriteTimeout);
                while (reader.TryRead(out var item))
                {
                    if (item.CloseStatus is { } status)
                    {
                        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                        {
                            await _socket.CloseOutputAsync(status, item.CloseReason, _writeDeadline.Token);
                        }
                        // The read loop now waits for the client's close frame, but not forever.
                        _abort.CancelAfter(CloseHandshakeTimeout);
                        return;
                    }
                    Interlocked.Decrement(ref _queued);
                    await _socket.SendAsync(item.Frame, WebSocketMessageType.Text, endOfMessage: true, _writeDeadline.Token);
                    _metrics.Sent(item.Frame.Length);
                }
                if (!_writeDeadline.TryReset())
                {
                    if (_writeDeadline.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("Write deadline passed.");
                    }
                    // A source on another TimeProvider than the system's (a test's fake clock) never
                    // resets: its deadline has not passed, so disarm it instead.
                    _writeDeadline.CancelAfter(Timeout.InfiniteTimeSpan);
                }
            }
            // Completed without a close frame: the connection was dropped.
            Abort();
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            Abort();
        }
    }

    private void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Abort after Dispose: the connection has already ended.
        }
    }

    public void Dispose()
    {
        _abort.Dispose();
        _writeDeadline.Dispose();
    }

    private readonly record struct Outgoing(ReadOnlyMemory<byte> Frame, WebSocketCloseStatus? CloseStatus, string? CloseReason);
}
