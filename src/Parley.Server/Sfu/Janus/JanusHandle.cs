using System.Text.Json;
using System.Text.Json.Nodes;

namespace Parley.Sfu.Janus;

/// <summary>
/// JanusHandle is one plugin handle in a <see cref="JanusSession"/>. Its requests go out on the
/// session's socket; the events Janus sends on it without a pending transaction go to
/// <see cref="OnEvent"/>, in arrival order.
/// </summary>
internal sealed class JanusHandle
{
    // EventBufferLimit bounds the events kept for a handle whose OnEvent is not set yet.
    internal const int EventBufferLimit = 256;

    private static readonly JsonElement EmptyObject = JsonElement.Parse("{}");

    private readonly Lock _lock = new();
    private readonly Queue<JanusEvent> _buffer = new();
    private Action<JanusEvent>? _onEvent;
    private bool _flushing;
    private bool _closed;
    private bool _overflowed;

    internal JanusHandle(JanusSession session, long id)
    {
        Session = session;
        Id = id;
    }

    /// <summary>Id is the Janus handle id (below 2^53).</summary>
    public long Id { get; }

    public JanusSession Session { get; }

    /// <summary>
    /// OnEvent receives this handle's events in arrival order, on the session's reader: it must not
    /// block. Events that arrive while it is null are kept (up to 256) and delivered, in order, once
    /// it is set. After the handle is detached or its session ends it is called no more.
    /// </summary>
    public Action<JanusEvent>? OnEvent
    {
        get => Volatile.Read(ref _onEvent);
        set
        {
            lock (_lock)
            {
                _onEvent = value;
                if (value is null || _flushing || _buffer.Count == 0)
                {
                    return;
                }
                // OnEvent.set delivers the buffer outside the lock; while it does, the reader queues
                // behind it, so the order holds.
                _flushing = true;
            }
            Flush();
        }
    }

    /// <summary>
    /// MessageAsync sends <c>{"janus":"message","body":body,"jsep":jsep}</c> (no "jsep" when null) and
    /// returns the sync <c>success</c> or the <c>event</c> of the same transaction, whichever Janus
    /// sends, in whichever order relative to its <c>ack</c>. A plugin error (<c>error_code</c>) or a
    /// core error throws JanusException; the request's name is "message:" plus body.request.
    /// </summary>
    public async Task<JanusReply> MessageAsync(JsonObject body, Jsep? jsep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var request = body["request"] is JsonValue value && value.TryGetValue<string>(out var name) ? "message:" + name : "message";
        var reply = await Session.HandleRequestAsync(request, JanusSession.Answer.Event, Id, w =>
        {
            w.WritePropertyName("body");
            body.WriteTo(w);
            if (jsep is not null)
            {
                w.WriteStartObject("jsep");
                w.WriteString("type", jsep.Type);
                w.WriteString("sdp", jsep.Sdp);
                w.WriteEndObject();
            }
        }, cancellationToken);
        var data = JanusSession.ReadPluginData(reply) ?? EmptyObject;
        return new JanusReply(data, JanusSession.ReadJsep(reply));
    }

    /// <summary>TrickleAsync sends one candidate (<c>{candidate,sdpMid,sdpMLineIndex}</c>) or, with null,
    /// <c>{"completed":true}</c>; it completes on Janus's <c>ack</c>.</summary>
    public Task TrickleAsync(JsonObject? candidate, CancellationToken cancellationToken) =>
        Session.HandleRequestAsync("trickle", JanusSession.Answer.Ack, Id, w =>
        {
            w.WritePropertyName("candidate");
            if (candidate is null)
            {
                w.WriteStartObject();
                w.WriteBoolean("completed", true);
                w.WriteEndObject();
            }
            else
            {
                candidate.WriteTo(w);
            }
        }, cancellationToken);

    /// <summary>HangupAsync closes the handle's PeerConnection; the handle stays attached.</summary>
    public Task HangupAsync(CancellationToken cancellationToken) =>
        Session.HandleRequestAsync("hangup", JanusSession.Answer.Success, Id, fields: null, cancellationToken);

    /// <summary>
    /// DetachAsync detaches the handle and stops its events. A handle that is already gone (459, or
    /// 458 and a closed session, which take their handles with them) is not an error; a timeout is.
    /// Events are stopped in every case.
    /// </summary>
    public async Task DetachAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Session.IsOpen)
            {
                await Session.HandleRequestAsync("detach", JanusSession.Answer.Success, Id, fields: null, cancellationToken);
            }
        }
        catch (JanusException e) when (e.Code is 458 or 459)
        {
            // Already gone.
        }
        catch (JanusUnavailableException)
        {
            // The session ended: Janus destroyed its handles with it.
        }
        finally
        {
            Session.Forget(this);
            Close();
        }
    }

    /// <summary>Deliver hands one event to OnEvent, or keeps it until OnEvent is set. It runs on the reader.</summary>
    internal void Deliver(JanusEvent e)
    {
        Action<JanusEvent>? handler;
        var firstDrop = false;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }
            handler = _onEvent;
            if (handler is null || _flushing)
            {
                if (_buffer.Count < EventBufferLimit)
                {
                    _buffer.Enqueue(e);
                }
                else
                {
                    firstDrop = !_overflowed;
                    _overflowed = true;
                }
                handler = null;
            }
        }
        if (firstDrop)
        {
            JanusLog.EventBufferFull(Session.Logger, e.Kind, Id, EventBufferLimit);
        }
        if (handler is not null)
        {
            Invoke(handler, e);
        }
    }

    /// <summary>Close drops what is buffered; OnEvent is called no more.</summary>
    internal void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _buffer.Clear();
        }
    }

    private void Flush()
    {
        while (true)
        {
            Action<JanusEvent> handler;
            JanusEvent next;
            lock (_lock)
            {
                if (_closed || _onEvent is null || !_buffer.TryDequeue(out next!))
                {
                    _flushing = false;
                    return;
                }
                handler = _onEvent;
            }
            Invoke(handler, next);
        }
    }

    private void Invoke(Action<JanusEvent> handler, JanusEvent e)
    {
        try
        {
            handler(e);
        }
        catch (Exception ex)
        {
            JanusLog.HandlerFailed(Session.Logger, ex, Id, e.Kind);
        }
    }
}
