using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Parley.Operations;
using Parley.Rooms;
using Parley.Turn;

namespace Parley.Signaling;

/// <summary>
/// SignalingSession is one participant's protocol state machine: it validates each message,
/// dispatches it to the room router and answers errors. It never touches the socket and never
/// awaits: everything it sends is an enqueue into its own or another participant's outbox.
/// </summary>
internal sealed partial class SignalingSession
{
    private static readonly ParleyJsonContext Json = ParleyJsonContext.Default;
    private static readonly byte[] PongFrame = JsonSerializer.SerializeToUtf8Bytes(new PongMessage(), Json.PongMessage);

    private readonly IRoomRouter _router;
    private readonly ParleyOptions _options;
    private readonly IceServerSource _iceServers;
    private readonly IPeerOutbox _outbox;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ParleyMetrics _metrics;
    private readonly long _started;
    // t_rewriter is one rewriter per thread, not per session: Handle never awaits, so a thread
    // uses it for one message at a time, and an idle connection holds no rewriter buffer.
    [ThreadStatic]
    private static RelayRewriter? t_rewriter;
    private TokenBucket _bucket;
    private long _abuseWindowStart;
    private int _abuseCount;
    private Participant? _self;
    private ITimer? _iceRefresh;

    public SignalingSession(IRoomRouter router, ParleyOptions options, IceServerSource iceServers,
        IPeerOutbox outbox, TimeProvider time, ILogger logger, ParleyMetrics metrics)
    {
        _metrics = metrics;
        _started = time.GetTimestamp();
        _router = router;
        _options = options;
        _iceServers = iceServers;
        _outbox = outbox;
        _time = time;
        _logger = logger;
        _bucket = new TokenBucket(time, options.MessagesPerSecond, options.MessageBurst);
        _abuseWindowStart = time.GetTimestamp();
    }

    /// <summary>IsJoined is true from a successful join until the session ends.</summary>
    public bool IsJoined => _self is not null;

    /// <summary>PeerId is the participant's id once joined.</summary>
    public string? PeerId => _self?.Id;

    /// <summary>Handle processes one complete text message and says whether the socket should close.</summary>
    public SessionClose? Handle(ReadOnlySpan<byte> utf8)
    {
        var kind = Envelope.Scan(utf8, out var type, out var id, out var problem);
        if (!_bucket.TryTake())
        {
            return RateLimited(id);
        }
        switch (kind)
        {
            case MessageKind.Invalid:
                return Reject(problem!.Value.Code, problem.Value.Message, id);
            case MessageKind.Unknown:
                return Reject(ErrorCodes.UnknownType, $"Unknown message type '{Truncate(type)}'.", id);
            case MessageKind.Ping:
                _outbox.Send(PongFrame);
                return null;
            case MessageKind.Leave:
                return new SessionClose(SessionCloseReason.Leave);
            case MessageKind.Join:
                return HandleJoin(utf8, id);
            default:
                break;
        }
        if (_self is null)
        {
            return Reject(ErrorCodes.NotJoined, "Send join first.", id);
        }
        return kind switch
        {
            MessageKind.Offer or MessageKind.Answer or MessageKind.Candidate => HandleRelay(utf8, kind, id, _self),
            MessageKind.State => HandleState(utf8, id, _self),
            _ => throw new InvalidOperationException($"Unhandled message kind {kind}."),
        };
    }

    /// <summary>HandleBinary answers a binary frame: the protocol is text only.</summary>
    public SessionClose? HandleBinary() =>
        _bucket.TryTake()
            ? Reject(ErrorCodes.BadRequest, "Binary frames are not supported; send JSON text frames.", null)
            : RateLimited(null);

    /// <summary>End leaves the room, if joined; the session takes no messages after it.</summary>
    public void End(string why)
    {
        if (_self is not { } self)
        {
            return;
        }
        _self = null;
        _iceRefresh?.Dispose();
        var roomId = self.Room?.Id;
        _router.Leave(self, Serialize(new PeerLeftMessage(self.Id), Json.PeerLeftMessage));
        if (roomId is not null)
        {
            SignalingLog.Left(_logger, roomId, self.Id, why);
        }
    }

    private SessionClose? HandleJoin(ReadOnlySpan<byte> utf8, string? id)
    {
        if (!TryRead(utf8, Json.JoinMessage, id, out var join, out var close))
        {
            return close;
        }
        if (_self is not null)
        {
            return Reject(ErrorCodes.AlreadyJoined, "This connection has already joined a room.", id);
        }
        if (join.Version is null)
        {
            return Reject(ErrorCodes.BadRequest, "join needs \"version\": 1.", id);
        }
        if (join.Version != 1)
        {
            return Reject(ErrorCodes.UnsupportedVersion, $"This server speaks protocol version 1, not {join.Version}.", id);
        }
        if (!Validation.IsRoomId(join.Room))
        {
            return Reject(ErrorCodes.BadRequest, "join.room must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit.", id);
        }
        if (Validation.NormalizeName(join.Name) is not { } name)
        {
            return Reject(ErrorCodes.BadRequest, "join.name must be 1-64 characters after trimming, with no control characters.", id);
        }

        var self = new Participant(Participant.NewId(), name, _outbox);
        var iceServers = _iceServers.ForParticipant(self.Id);
        var status = _router.Join(join.Room!, self, peers =>
        {
            var list = new PeerInfo[peers.Count];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = PeerInfo.From(peers[i]);
            }
            var selfInfo = new PeerInfo(self.Id, self.Name);
            var joined = new JoinedMessage(join.Room!, selfInfo, list, iceServers, _options.IceTransportPolicy);
            return (Serialize(joined, Json.JoinedMessage), Serialize(new PeerJoinedMessage(selfInfo), Json.PeerJoinedMessage));
        });
        if (status == JoinStatus.RoomFull)
        {
            SignalingLog.RoomFull(_logger, join.Room!, _options.MaxParticipants);
            return Reject(ErrorCodes.RoomFull, $"This room is full ({_options.MaxParticipants} participants).", id);
        }
        _self = self;
        _metrics.Joined(_time.GetElapsedTime(_started));
        SignalingLog.Joined(_logger, join.Room!, self.Id);
        if (_iceServers.MintsCredentials)
        {
            var every = _iceServers.RefreshAfter;
            _iceRefresh = _time.CreateTimer(static s => ((SignalingSession)s!).RefreshIceServers(), this, every, every);
        }
        return null;
    }

    // RefreshIceServers runs on a timer thread: it reads the participant once and only enqueues.
    private void RefreshIceServers()
    {
        if (Volatile.Read(ref _self) is { } self)
        {
            _outbox.Send(Serialize(new IceServersMessage(_iceServers.ForParticipant(self.Id)), Json.IceServersMessage));
        }
    }

    private SessionClose? HandleRelay(ReadOnlySpan<byte> utf8, MessageKind kind, string? id, Participant self)
    {
        var frame = (t_rewriter ??= new RelayRewriter()).Rewrite(utf8, kind, self.Id, out var to, out var problem);
        if (frame is null)
        {
            return Reject(ErrorCodes.BadRequest, problem!, id);
        }
        return Relay(self, to!, frame, id, kind switch { MessageKind.Offer => "offer", MessageKind.Answer => "answer", _ => "candidate" });
    }

    private SessionClose? HandleState(ReadOnlySpan<byte> utf8, string? id, Participant self)
    {
        if (!TryRead(utf8, Json.StateMessage, id, out var state, out var close))
        {
            return close;
        }
        var media = new MediaState(state.Audio ?? false, state.Video ?? false, state.Screen ?? false, state.Hand ?? false);
        var frame = Serialize(new StateMessage(media.Audio, media.Video, media.Screen, media.Hand, self.Id), Json.StateMessage);
        _router.SetState(self, media, frame);
        _metrics.Relayed("state");
        return null;
    }

    private SessionClose? Relay(Participant self, string to, byte[] frame, string? id, string type)
    {
        if (!_router.SendTo(self, to, frame))
        {
            return Reject(ErrorCodes.UnknownPeer, $"No participant {Truncate(to)} in this room.", id);
        }
        _metrics.Relayed(type);
        return null;
    }

    private bool TryRead<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> info, string? id, out T message, out SessionClose? close)
        where T : class
    {
        try
        {
            message = JsonSerializer.Deserialize(utf8, info)!;
            close = null;
            return true;
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            var why = e.Message.Contains("missing required", StringComparison.Ordinal) ? "a required field is missing" : "a field has the wrong type";
            message = null!;
            close = Reject(ErrorCodes.BadRequest, $"Malformed {info.Type.Name.Replace("Message", "", StringComparison.Ordinal).ToLowerInvariant()}: {why}{field}.", id);
            return false;
        }
    }

    private SessionClose? Reject(string code, string message, string? id)
    {
        SignalingLog.Rejected(_logger, code, _self?.Id);
        _metrics.Error(code);
        _outbox.Send(Serialize(new ErrorMessage(code, message, id), Json.ErrorMessage));
        return null;
    }

    private SessionClose? RateLimited(string? id)
    {
        _metrics.RateLimited();
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_abuseWindowStart, now) > _options.AbuseWindow)
        {
            _abuseWindowStart = now;
            _abuseCount = 0;
        }
        if (++_abuseCount > _options.AbuseThreshold)
        {
            SignalingLog.Abusive(_logger, _self?.Id, _abuseCount);
            return new SessionClose(SessionCloseReason.Abuse);
        }
        Reject(ErrorCodes.RateLimited, $"Too many messages: at most {_options.MessagesPerSecond}/s (bursts of {_options.MessageBurst}). This one was dropped.", id);
        return null;
    }

    private static byte[] Serialize<T>(T message, JsonTypeInfo<T> info) => JsonSerializer.SerializeToUtf8Bytes(message, info);

    private static string Truncate(string? text) =>
        text is null ? "" : text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}

/// <summary>SessionClose asks the transport to close the socket.</summary>
internal readonly record struct SessionClose(SessionCloseReason Reason);

/// <summary>SessionCloseReason says why the session wants the socket closed.</summary>
internal enum SessionCloseReason
{
    /// <summary>Leave: the client sent leave; close 1000.</summary>
    Leave,

    /// <summary>Abuse: sustained rate-limit violations; close 1008.</summary>
    Abuse,
}
