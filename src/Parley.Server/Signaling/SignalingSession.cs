using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using Parley.Rooms;
using Parley.Sfu;
using Parley.Turn;

namespace Parley.Signaling;

/// <summary>
/// SignalingServices are what every session shares: one instance per server, so a session holds
/// one reference instead of a field per dependency.
/// </summary>
internal sealed class SignalingServices(
    IRoomRouter router,
    IOptions<SignalingOptions> options,
    IceServerSource iceServers,
    TimeProvider time,
    ILoggerFactory loggers,
    SignalingMetrics metrics,
    ResumeTokens tokens,
    SfuCoordinator? sfu = null)
{
    /// <summary>Sfu is the media server's coordinator, or null when the SFU feature is not registered.</summary>
    public SfuCoordinator? Sfu { get; } = sfu is { IsConfigured: true } ? sfu : null;

    public IRoomRouter Router { get; } = router;

    public SignalingOptions Options { get; } = options.Value;

    public IceServerSource IceServers { get; } = iceServers;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = loggers.CreateLogger("Parley.Signaling");

    public SignalingMetrics Metrics { get; } = metrics;

    public ResumeTokens Tokens { get; } = tokens;
}

/// <summary>
/// SignalingSession is one participant's protocol state machine: it validates each message,
/// dispatches it to the room router and answers errors. It owns the connection's policy: the
/// join timeout, the rate limit and when and why the connection closes. It never touches the
/// socket; the relay path completes without awaiting.
/// </summary>
internal sealed partial class SignalingSession : IConnectionHandler
{
    private static readonly ParleyJsonContext Json = ParleyJsonContext.Default;
    private static readonly byte[] PongFrame = JsonSerializer.SerializeToUtf8Bytes(new PongMessage(), Json.PongMessage);

    private readonly SignalingServices _services;
    private readonly IConnection _connection;
    private readonly long _started;
    // t_rewriter is one rewriter per thread, not per session: it is used only between awaits, for
    // one message at a time, and an idle connection holds no rewriter buffer.
    [ThreadStatic]
    private static RelayRewriter? t_rewriter;
    private TokenBucket _bucket;
    // _chatBucket limits chat on top of _bucket: a chat message reaches everyone's screen.
    private TokenBucket _chatBucket;
    private long _abuseWindowStart;
    private int _abuseCount;
    private Participant? _self;
    private string? _roomId;
    // _membership is the stay this session is in charge of, from the join (or resume) on; a later
    // connection's session may take it over (Supersede).
    private Membership? _membership;
    // _lastHeard is when the client last sent anything (a timestamp): a resume is allowed for the
    // resume window after it.
    private long _lastHeard;
    private ITimer? _joinTimer;
    private ITimer? _iceRefresh;
    private int _ended;

    public SignalingSession(SignalingServices services, IConnection connection)
    {
        _services = services;
        _connection = connection;
        var time = services.Time;
        _started = time.GetTimestamp();
        _bucket = new TokenBucket(time, services.Options.MessagesPerSecond, services.Options.MessageBurst);
        _chatBucket = new TokenBucket(time, services.Options.ChatMessagesPerSecond, services.Options.ChatBurst);
        _abuseWindowStart = _started;
        _lastHeard = _started;
        _joinTimer = time.CreateTimer(static s => ((SignalingSession)s!).JoinTimedOut(), this, services.Options.JoinTimeout, Timeout.InfiniteTimeSpan);
    }

    // MaxFeatures bounds join.features.
    private const int MaxFeatures = 16;

    private SignalingOptions Options => _services.Options;

    private ILogger Logger => _services.Logger;

    /// <summary>PeerId is the participant's id once joined.</summary>
    public string? PeerId => _self?.Id;

    /// <summary>LastHeard is when the client last sent a message (a timestamp of the services' TimeProvider).</summary>
    public long LastHeard => Volatile.Read(ref _lastHeard);

    public ValueTask OnTextAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastHeard, _services.Time.GetTimestamp());
        var kind = Envelope.Scan(utf8.Span, out var type, out var id, out var problem);
        if (!_bucket.TryTake())
        {
            return RateLimited(id, MessageRateLimited);
        }
        switch (kind)
        {
            case MessageKind.Invalid:
                Reject(problem!.Value.Code, problem.Value.Message, id);
                return ValueTask.CompletedTask;
            case MessageKind.Unknown:
                Reject(ErrorCodes.UnknownType, $"Unknown message type '{Truncate(type)}'.", id);
                return ValueTask.CompletedTask;
            case MessageKind.Ping:
                Ping(utf8.Span, id);
                return ValueTask.CompletedTask;
            case MessageKind.Leave:
                return EndAsync("leave", WebSocketCloseStatus.NormalClosure, "bye");
            case MessageKind.Join:
                return JoinAsync(utf8, id, cancellationToken);
            default:
                break;
        }
        if (_self is not { } self || _roomId is not { } roomId)
        {
            Reject(ErrorCodes.NotJoined, "Send join first.", id);
            return ValueTask.CompletedTask;
        }
        return kind switch
        {
            MessageKind.Offer or MessageKind.Answer or MessageKind.Candidate => RelayAsync(utf8.Span, kind, id, self, roomId, cancellationToken),
            MessageKind.State => StateAsync(utf8.Span, id, self, roomId, cancellationToken),
            MessageKind.Chat => ChatAsync(utf8.Span, id, self, roomId, cancellationToken),
            MessageKind.SfuOffer => SfuOfferAsync(utf8, id, self, roomId),
            MessageKind.SfuAnswer => SfuAnswerAsync(utf8, id, self, roomId),
            MessageKind.SfuCandidate => SfuCandidateAsync(utf8, id, self, roomId),
            MessageKind.SwitchReady => SwitchReadyAsync(utf8, id, self, roomId),
            MessageKind.SfuView => SfuViewAsync(utf8, id, self, roomId),
            MessageKind.SfuRestart => SfuRestartAsync(utf8, id, self, roomId),
            _ => throw new InvalidOperationException($"Unhandled message kind {kind}."),
        };
    }

    public ValueTask OnBinaryAsync(CancellationToken cancellationToken)
    {
        if (!_bucket.TryTake())
        {
            return RateLimited(null, MessageRateLimited);
        }
        Reject(ErrorCodes.BadRequest, "Binary frames are not supported; send JSON text frames.", null);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// OnClosedAsync leaves the room when the client closed the connection (or was dropped for
    /// reading too slowly); a connection that was lost — reset, timed out, gone silent — leaves the
    /// participant in the room for the resume window instead.
    /// </summary>
    public ValueTask OnClosedAsync(string why) =>
        why is "closed" or "dropped" || Options.ResumeWindow <= TimeSpan.Zero || Volatile.Read(ref _membership) is null
            ? EndAsync(why, null, null)
            : AwayAsync(why);

    // EndAsync ends the session once: it leaves the room, if joined, and closes the connection
    // when the session itself decided to (a leave, abuse, the join timeout).
    private async ValueTask EndAsync(string why, WebSocketCloseStatus? status, string? reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        _joinTimer?.Dispose();
        _iceRefresh?.Dispose();
        if (Volatile.Read(ref _membership) is { } m)
        {
            var leaves = false;
            lock (m.Gate)
            {
                if (m.Owner == this)
                {
                    leaves = Finish(m);
                }
            }
            if (leaves)
            {
                await LeaveAsync(m, why);
            }
        }
        if (status is { } code)
        {
            _connection.Close(code, reason ?? "");
        }
    }

    // Finish ends membership m for good (under its lock): nobody may resume it any more. True
    // when this call ended it, so its caller takes the participant out of the room.
    private bool Finish(Membership m)
    {
        if (m.Gone)
        {
            return false;
        }
        m.Gone = true;
        m.Owner = null;
        m.Expiry?.Dispose();
        m.Expiry = null;
        _services.Tokens.Remove(m);
        return true;
    }

    private async ValueTask LeaveAsync(Membership m, string why)
    {
        await LeaveRoomAsync(m.RoomId, m.Self.Id);
        SignalingLog.Left(Logger, m.RoomId, m.Self.Id, why);
    }

    // AwayAsync keeps the participant in the room after a lost connection: its messages are kept
    // until a resume, the others are told it is away, and it leaves once the resume window, counted
    // from when it was last heard, has passed.
    private async ValueTask AwayAsync(string why)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        _joinTimer?.Dispose();
        _iceRefresh?.Dispose();
        var m = Volatile.Read(ref _membership)!;
        var time = _services.Time;
        var left = Options.ResumeWindow - time.GetElapsedTime(LastHeard);
        var leaves = false;
        lock (m.Gate)
        {
            if (m.Owner != this)
            {
                // A newer connection has taken over.
                return;
            }
            m.Stream.Detach(_connection);
            m.LastHeard = LastHeard;
            if (left <= TimeSpan.Zero)
            {
                leaves = Finish(m);
            }
            else
            {
                m.Owner = null;
                m.Expiry = time.CreateTimer(static s => ((SignalingSession)s!).ResumeWindowPassed(), this, left, Timeout.InfiniteTimeSpan);
            }
        }
        if (leaves)
        {
            await LeaveAsync(m, $"{why}, past the resume window");
            return;
        }
        SignalingLog.Away(Logger, m.RoomId, m.Self.Id, why, left);
        await _services.Router.BroadcastAsync(m.RoomId, Serialize(new PeerAwayMessage(m.Self.Id, Away: true), Json.PeerAwayMessage), m.Self.Id, CancellationToken.None);
    }

    // ResumeWindowPassed runs on a timer thread: the participant stayed away too long, and leaves.
    private void ResumeWindowPassed()
    {
        var m = Volatile.Read(ref _membership)!;
        bool leaves;
        lock (m.Gate)
        {
            leaves = m.Owner is null && Finish(m);
        }
        if (leaves)
        {
            _ = LeaveAsync(m, "resume window passed").AsTask();
        }
    }

    // Supersede ends this session without leaving: a newer connection has taken the membership over.
    private void Supersede()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        _joinTimer?.Dispose();
        _iceRefresh?.Dispose();
        _connection.Close((WebSocketCloseStatus)CloseCodes.Resumed, "resumed on another connection");
    }

    // Ping answers pong; once joined, its "seen" lets the stream forget what the client has.
    private void Ping(ReadOnlySpan<byte> utf8, string? id)
    {
        if (Volatile.Read(ref _membership) is { } m)
        {
            if (!TryRead(utf8, Json.PingMessage, id, out var ping))
            {
                return;
            }
            if (ping.Seen is { } seen)
            {
                if (seen < 0)
                {
                    Reject(ErrorCodes.BadRequest, "ping.seen must be the number of messages received, a whole number ≥ 0.", id);
                    return;
                }
                m.Stream.Acknowledge(seen);
            }
        }
        _connection.Send(PongFrame);
    }

    // Send sends to the participant, through its stream once joined: numbered and kept for a resume.
    private void Send(ReadOnlyMemory<byte> frame) => ((IPeerOutbox?)Volatile.Read(ref _membership)?.Stream ?? _connection).Send(frame);

    private void JoinTimedOut()
    {
        if (Volatile.Read(ref _self) is null && Volatile.Read(ref _ended) == 0)
        {
            SignalingLog.JoinTimeout(Logger, _connection.Id, Options.JoinTimeout);
            _ = EndAsync("join timeout", WebSocketCloseStatus.PolicyViolation, "join timeout").AsTask();
        }
    }

    private async ValueTask JoinAsync(ReadOnlyMemory<byte> utf8, string? id, CancellationToken cancellationToken)
    {
        if (!TryRead(utf8.Span, Json.JoinMessage, id, out var join))
        {
            return;
        }
        if (_self is not null || Volatile.Read(ref _membership) is not null)
        {
            Reject(ErrorCodes.AlreadyJoined, "This connection has already joined a room.", id);
            return;
        }
        if (join.Version is null)
        {
            Reject(ErrorCodes.BadRequest, "join needs \"version\": 1.", id);
            return;
        }
        if (join.Version != 1)
        {
            Reject(ErrorCodes.UnsupportedVersion, $"This server speaks protocol version 1, not {join.Version}.", id);
            return;
        }
        if (!Validation.IsRoomId(join.Room))
        {
            Reject(ErrorCodes.BadRequest, "join.room must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit.", id);
            return;
        }
        if (Validation.NormalizeName(join.Name) is not { } name)
        {
            Reject(ErrorCodes.BadRequest, "join.name must be 1-64 characters after trimming, with no control characters.", id);
            return;
        }

        if (join.Features is { Count: > MaxFeatures } || join.Features?.Any(f => f is null or { Length: > 32 }) == true)
        {
            Reject(ErrorCodes.BadRequest, $"join.features must be at most {MaxFeatures} strings of at most 32 characters.", id);
            return;
        }
        if (join.Resume is { } resume)
        {
            await ResumeAsync(resume, join.Room!, id);
            return;
        }
        // A client that can use the SFU says so; on a server without one, it is a mesh client.
        var sfu = _services.Sfu;
        // A resume sends what is kept at once, behind its `resumed`: it must fit the outbox.
        var stream = new ResumeStream(_connection, Math.Min(Options.ResumeQueueMessages, Options.OutboundQueueLimit - 1), Options.ResumeQueueBytes);
        var self = new Participant(Participant.NewId(), name, stream, supportsSfu: sfu is not null && join.Features?.Contains("sfu") == true);
        var roomId = join.Room!;
        var token = Options.ResumeWindow > TimeSpan.Zero ? ResumeTokens.NewToken() : null;
        var ice = _services.IceServers;
        var iceServers = ice.ForParticipant(self.Id);
        string[] meshMembers = [];
        var result = await _services.Router.JoinAsync(roomId, self, (in JoinContext context) =>
        {
            if (context.Switched)
            {
                meshMembers = [.. context.Peers.Select(static p => p.Id)];
            }
            var list = new PeerInfo[context.Peers.Count];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = PeerInfo.From(context.Peers[i]);
            }
            var selfInfo = new PeerInfo(self.Id, self.Name);
            var mode = SfuSignals.ModeName(context.Mode);
            var chat = context.Chat.Count == 0 ? null : context.Chat.Select(ChatInfo.Of).ToArray();
            var joined = new JoinedMessage(roomId, selfInfo, list, iceServers, ice.TransportPolicy, mode, context.Epoch, chat, token,
                token is null ? null : (int)Math.Ceiling(Options.ResumeWindow.TotalSeconds));
            return new JoinFrameSet(
                Serialize(joined, Json.JoinedMessage),
                Serialize(new PeerJoinedMessage(selfInfo), Json.PeerJoinedMessage),
                context.Switched ? SfuSignals.ModeFrame(context.Mode, context.Epoch) : default);
        }, cancellationToken);
        if (result.Status != JoinStatus.Joined)
        {
            SignalingLog.JoinRefused(Logger, roomId, result.Count, result.Reason!);
            Reject(result.Status == JoinStatus.SfuRequired ? ErrorCodes.SfuRequired : ErrorCodes.RoomFull, result.Reason!, id);
            return;
        }
        var membership = new Membership(roomId, self, stream, this, LastHeard) { Token = token ?? "" };
        if (token is not null)
        {
            _services.Tokens.Add(membership);
        }
        _roomId = roomId;
        Volatile.Write(ref _self, self);
        Volatile.Write(ref _membership, membership);
        _joinTimer?.Dispose();
        _joinTimer = null;
        _services.Metrics.Joined(_services.Time.GetElapsedTime(_started));
        SignalingLog.Joined(Logger, roomId, self.Id);
        if (result.Mode == RoomMode.Sfu && sfu is not null)
        {
            await sfu.MemberJoinedAsync(roomId, self.Id, result, meshMembers);
            if (!sfu.IsUp)
            {
                Send(SfuSignals.StatusFrame(up: false, "The media server is unavailable; this meeting resumes as soon as it is back."));
            }
        }
        StartIceRefresh();
        if (Volatile.Read(ref _ended) != 0)
        {
            // The connection ended while the join was in flight: take the participant out again.
            bool leaves;
            lock (membership.Gate)
            {
                leaves = membership.Owner == this && Finish(membership);
            }
            if (leaves)
            {
                await LeaveAsync(membership, "closed while joining");
            }
            _iceRefresh?.Dispose();
        }
    }

    private void StartIceRefresh()
    {
        if (_services.IceServers.MintsCredentials)
        {
            var every = _services.IceServers.RefreshAfter;
            _iceRefresh = _services.Time.CreateTimer(static s => ((SignalingSession)s!).RefreshIceServers(), this, every, every);
        }
    }

    // ResumeAsync carries on the stay of a token whose connection was lost, or is half-dead: this
    // connection takes it over, gets `resumed` and every message the client has not had, in order.
    // Anything else is refused with resume-failed, and the client joins afresh.
    private async ValueTask ResumeAsync(ResumeInfo resume, string roomId, string? id)
    {
        if (resume.Token is not { Length: > 0 and <= 64 } token || resume.Seen is not { } seen || seen < 0)
        {
            Reject(ErrorCodes.BadRequest, "join.resume needs \"token\" (from joined or resumed) and \"seen\": the number of messages received since joining, a whole number ≥ 0.", id);
            return;
        }
        if (_services.Tokens.Find(token) is not { } m)
        {
            RefuseResume("This stay cannot be resumed: the token is unknown, already used, or its time ran out. Join afresh.", id);
            return;
        }
        if (m.RoomId != roomId)
        {
            RefuseResume("This resume token is for another room.", id);
            return;
        }
        var time = _services.Time;
        SignalingSession? previous;
        string? refusal = null;
        var leaves = false;
        var next = ResumeTokens.NewToken();
        long replayed;
        lock (m.Gate)
        {
            previous = m.Owner;
            replayed = m.Stream.Sent - seen;
            if (m.Gone)
            {
                refusal = "This stay cannot be resumed: the token is unknown, already used, or its time ran out. Join afresh.";
            }
            else if (time.GetElapsedTime(previous?.LastHeard ?? m.LastHeard) > Options.ResumeWindow)
            {
                refusal = $"This stay cannot be resumed: the server heard nothing from it for more than {Options.ResumeWindow.TotalSeconds:0.#} s. Join afresh.";
                leaves = Finish(m);
            }
            else if (!m.Stream.Attach(_connection, seen, Serialize(new ResumedMessage(roomId, new PeerInfo(m.Self.Id, m.Self.Name), next, replayed), Json.ResumedMessage)))
            {
                refusal = seen > m.Stream.Sent
                    ? $"join.resume.seen ({seen}) is more than the server sent ({m.Stream.Sent}). Join afresh."
                    : "This stay cannot be resumed: it missed more messages than the server keeps. Join afresh.";
                leaves = Finish(m);
            }
            else
            {
                _services.Tokens.Remove(m);
                m.Token = next;
                _services.Tokens.Add(m);
                m.Expiry?.Dispose();
                m.Expiry = null;
                m.Owner = this;
                _roomId = roomId;
                Volatile.Write(ref _self, m.Self);
                Volatile.Write(ref _membership, m);
            }
        }
        previous?.Supersede();
        if (refusal is not null)
        {
            if (leaves)
            {
                await LeaveAsync(m, "its resume failed");
            }
            RefuseResume(refusal, id);
            return;
        }
        _joinTimer?.Dispose();
        _joinTimer = null;
        SignalingLog.Resumed(Logger, roomId, m.Self.Id, replayed);
        _services.Metrics.Resumed();
        if (previous is null)
        {
            await _services.Router.BroadcastAsync(roomId, Serialize(new PeerAwayMessage(m.Self.Id, Away: false), Json.PeerAwayMessage), m.Self.Id, CancellationToken.None);
        }
        StartIceRefresh();
        if (Volatile.Read(ref _ended) != 0)
        {
            // This connection was lost too, while resuming: the stay is away again.
            Volatile.Write(ref _ended, 0);
            await AwayAsync("lost while resuming");
        }
    }

    private void RefuseResume(string message, string? id)
    {
        SignalingLog.ResumeRefused(Logger, message);
        Reject(ErrorCodes.ResumeFailed, message, id);
    }

    private async ValueTask LeaveRoomAsync(string roomId, string participantId)
    {
        var left = await _services.Router.LeaveAsync(roomId, participantId, Serialize(new PeerLeftMessage(participantId), Json.PeerLeftMessage), CancellationToken.None);
        if (left.WasMember && _services.Sfu is { } sfu)
        {
            await sfu.MemberLeftAsync(roomId, participantId, left);
        }
    }

    // RefreshIceServers runs on a timer thread: it reads the participant once and only enqueues.
    private void RefreshIceServers()
    {
        if (Volatile.Read(ref _self) is { } self)
        {
            Send(Serialize(new IceServersMessage(_services.IceServers.ForParticipant(self.Id)), Json.IceServersMessage));
        }
    }

    private ValueTask RelayAsync(ReadOnlySpan<byte> utf8, MessageKind kind, string? id, Participant self, string roomId, CancellationToken cancellationToken)
    {
        var frame = (t_rewriter ??= new RelayRewriter()).Rewrite(utf8, kind, self.Id, out var to, out var problem);
        if (frame is null)
        {
            Reject(ErrorCodes.BadRequest, problem!, id);
            return ValueTask.CompletedTask;
        }
        var type = kind switch { MessageKind.Offer => "offer", MessageKind.Answer => "answer", _ => "candidate" };
        var sent = _services.Router.SendAsync(roomId, to!, frame, self.Id, cancellationToken);
        if (sent.IsCompletedSuccessfully)
        {
            Relayed(sent.Result, to!, id, type);
            return ValueTask.CompletedTask;
        }
        return AwaitRelayedAsync(sent, to!, id, type);
    }

    private async ValueTask AwaitRelayedAsync(ValueTask<bool> sent, string? to, string? id, string type) => Relayed(await sent, to, id, type);

    // Relayed counts a delivery, or answers one that found nobody: no such member to, or (for a
    // message to the whole room) the sender no longer in it.
    private void Relayed(bool sent, string? to, string? id, string type)
    {
        if (!sent)
        {
            if (to is null)
            {
                Reject(ErrorCodes.NotJoined, "This connection is no longer in a room.", id);
            }
            else
            {
                Reject(ErrorCodes.UnknownPeer, $"No participant {Truncate(to)} in this room.", id);
            }
            return;
        }
        _services.Metrics.Relayed(type);
    }

    private ValueTask StateAsync(ReadOnlySpan<byte> utf8, string? id, Participant self, string roomId, CancellationToken cancellationToken)
    {
        if (!TryRead(utf8, Json.StateMessage, id, out var state))
        {
            return ValueTask.CompletedTask;
        }
        // A hand that goes up is stamped once; a state that keeps it up keeps the stamp (a client's handAt is ignored).
        var hand = state.Hand ?? false;
        var m = Volatile.Read(ref _membership)!;
        var handAt = m.HandAt = hand ? m.HandAt ?? _services.Time.GetUtcNow().ToUnixTimeMilliseconds() : null;
        var presence = new PresenceState(new MediaState(state.Audio ?? false, state.Video ?? false, state.Screen ?? false), hand, handAt);
        var media = presence.Media;
        var frame = Serialize(new StateMessage(media.Audio, media.Video, media.Screen, hand, self.Id, handAt), Json.StateMessage);
        _services.Metrics.Relayed("state");
        var set = _services.Router.SetStateAsync(roomId, self.Id, presence, frame, cancellationToken);
        return set.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(set.AsTask());
    }

    private ValueTask ChatAsync(ReadOnlySpan<byte> utf8, string? id, Participant self, string roomId, CancellationToken cancellationToken)
    {
        if (!TryRead(utf8, Json.ChatMessage, id, out var chat))
        {
            return ValueTask.CompletedTask;
        }
        if (Validation.ChatTextProblem(chat.Text) is { } problem)
        {
            Reject(ErrorCodes.BadRequest, problem, id);
            return ValueTask.CompletedTask;
        }
        if (chat.To == self.Id)
        {
            Reject(ErrorCodes.BadRequest, "chat.to is yourself: name another participant, or leave \"to\" out to write to the whole room.", id);
            return ValueTask.CompletedTask;
        }
        if (!_chatBucket.TryTake())
        {
            return RateLimited(id, $"Too many chat messages: at most {Options.ChatBurst} in a burst, then {Options.ChatMessagesPerSecond} per second. This one was dropped.");
        }
        var entry = new ChatEntry(self.Id, self.Name, chat.Text!, _services.Time.GetUtcNow().ToUnixTimeMilliseconds());
        var frame = Serialize(new ChatMessage(entry.Text, chat.To, entry.From, entry.Name, entry.Ts), Json.ChatMessage);
        var sent = _services.Router.ChatAsync(roomId, entry, chat.To, frame, cancellationToken);
        if (sent.IsCompletedSuccessfully)
        {
            Relayed(sent.Result, chat.To, id, "chat");
            return ValueTask.CompletedTask;
        }
        return AwaitRelayedAsync(sent, chat.To, id, "chat");
    }

    private ValueTask SfuOfferAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SfuOfferMessage, id, out var offer) || !TrySfuPc(offer.Pc, id, out var pc))
        {
            return ValueTask.CompletedTask;
        }
        if (pc != SfuPc.Publish)
        {
            Reject(ErrorCodes.BadRequest, "Only the server offers on the subscribe connection: answer its sfu-offer with sfu-answer.", id);
            return ValueTask.CompletedTask;
        }
        if (!IsSdp(offer.Sdp, "sfu-offer", id) || SfuFor(id) is not { } sfu)
        {
            return ValueTask.CompletedTask;
        }
        var pending = sfu.PublishAsync(roomId, self.Id, offer.Sdp!, offer.Fresh == true);
        if (pending.IsCompleted)
        {
            Published(pending.Result, id);
        }
        else
        {
            _ = PublishedAsync(pending.AsTask(), id);
        }
        return ValueTask.CompletedTask;
    }

    private async Task PublishedAsync(Task<(string? Answer, SfuError? Error)> pending, string? id)
    {
        try
        {
            Published(await pending, id);
        }
#pragma warning disable CA1031 // A request nobody awaits: its failure is logged, not thrown into the void.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SignalingLog.SfuRequestFailed(Logger, e, _self?.Id);
        }
    }

    private void Published((string? Answer, SfuError? Error) result, string? id)
    {
        if (result.Error is { } e)
        {
            Reject(e.Code, e.Message, id);
            return;
        }
        Send(Serialize(new SfuAnswerMessage(SfuSignals.PcName(SfuPc.Publish), result.Answer), Json.SfuAnswerMessage));
        _services.Metrics.Relayed("sfu-offer");
    }

    /// <summary>
    /// Queued lets the room's loop work on an SFU request this session queued there (in the
    /// participant's order: an SfuRoom takes requests into its loop as they are made) while the
    /// session reads the next message, so a busy media server never holds up the participant's
    /// other messages (a switch-ready, a mesh offer). A refusal still reaches the participant.
    /// </summary>
    private void Queued(ValueTask<SfuError?> pending, string? id, string kind)
    {
        if (pending.IsCompleted)
        {
            Done(pending.Result, id, kind);
        }
        else
        {
            _ = QueuedAsync(pending.AsTask(), id, kind);
        }
    }

    private async Task QueuedAsync(Task<SfuError?> pending, string? id, string kind)
    {
        try
        {
            Done(await pending, id, kind);
        }
#pragma warning disable CA1031 // A request nobody awaits: its failure is logged, not thrown into the void.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SignalingLog.SfuRequestFailed(Logger, e, _self?.Id);
        }
    }

    private void Done(SfuError? error, string? id, string kind)
    {
        if (error is { } e)
        {
            Reject(e.Code, e.Message, id);
        }
        else if (kind.Length > 0)
        {
            _services.Metrics.Relayed(kind);
        }
    }

    private ValueTask SfuAnswerAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SfuAnswerMessage, id, out var answer) || !TrySfuPc(answer.Pc, id, out var pc))
        {
            return ValueTask.CompletedTask;
        }
        if (pc != SfuPc.Subscribe)
        {
            Reject(ErrorCodes.BadRequest, "The publish connection's answer comes from the server: send its offer as sfu-offer.", id);
            return ValueTask.CompletedTask;
        }
        if (!IsSdp(answer.Sdp, "sfu-answer", id) || SfuFor(id) is not { } sfu)
        {
            return ValueTask.CompletedTask;
        }
        Queued(sfu.AnswerAsync(roomId, self.Id, answer.Sdp!), id, "sfu-answer");
        return ValueTask.CompletedTask;
    }

    private ValueTask SfuCandidateAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SfuCandidateMessage, id, out var message) || !TrySfuPc(message.Pc, id, out var pc))
        {
            return ValueTask.CompletedTask;
        }
        SfuCandidate? candidate = null;
        if (message.Candidate is { } c)
        {
            if (c.Candidate is not { Length: > 0 and <= MaxCandidateLength } text || !text.StartsWith("candidate:", StringComparison.Ordinal))
            {
                Reject(ErrorCodes.BadRequest, $"sfu-candidate.candidate.candidate must be an ICE candidate line (\"candidate:…\", at most {MaxCandidateLength} characters).", id);
                return ValueTask.CompletedTask;
            }
            candidate = new SfuCandidate(text, c.SdpMid, c.SdpMLineIndex);
        }
        if (SfuFor(id) is not { } sfu)
        {
            return ValueTask.CompletedTask;
        }
        Queued(sfu.TrickleAsync(roomId, self.Id, pc, candidate), id, "sfu-candidate");
        return ValueTask.CompletedTask;
    }

    private async ValueTask SwitchReadyAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SwitchReadyMessage, id, out var ready))
        {
            return;
        }
        if (ready.Epoch is not { } epoch || ready.Missing is { Count: > MaxListedPeers } || ready.Missing?.Any(static m => m is null) == true)
        {
            Reject(ErrorCodes.BadRequest, $"switch-ready needs a whole number \"epoch\" and \"missing\": at most {MaxListedPeers} participant ids.", id);
            return;
        }
        if (_services.Sfu is { } sfu)
        {
            await sfu.SwitchReadyAsync(roomId, self.Id, epoch, ready.Missing ?? []);
        }
    }

    private ValueTask SfuViewAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SfuViewMessage, id, out var view))
        {
            return ValueTask.CompletedTask;
        }
        if (view.Streams is not { Count: <= MaxListedPeers } streams)
        {
            Reject(ErrorCodes.BadRequest, $"sfu-view.streams must list at most {MaxListedPeers} participants.", id);
            return ValueTask.CompletedTask;
        }
        var wanted = new Dictionary<string, SfuVideo>(StringComparer.Ordinal);
        foreach (var stream in streams)
        {
            if (stream.Peer is not { } peer || !TryVideo(stream.Video, out var video))
            {
                Reject(ErrorCodes.BadRequest, "Each sfu-view stream needs a \"peer\" id and \"video\": \"high\", \"low\" or \"off\".", id);
                return ValueTask.CompletedTask;
            }
            wanted[peer] = video;
        }
        if (SfuFor(id) is { } sfu)
        {
            Queued(sfu.ViewAsync(roomId, self.Id, wanted), id, "");
        }
        return ValueTask.CompletedTask;
    }

    private ValueTask SfuRestartAsync(ReadOnlyMemory<byte> utf8, string? id, Participant self, string roomId)
    {
        if (!TryRead(utf8.Span, Json.SfuRestartMessage, id, out var restart) || !TrySfuPc(restart.Pc, id, out var pc))
        {
            return ValueTask.CompletedTask;
        }
        if (pc != SfuPc.Subscribe)
        {
            Reject(ErrorCodes.BadRequest, "Restart the publish connection yourself: send an sfu-offer made with iceRestart.", id);
            return ValueTask.CompletedTask;
        }
        if (SfuFor(id) is { } sfu)
        {
            Queued(restart.Fresh == true ? sfu.ResubscribeAsync(roomId, self.Id) : sfu.RestartAsync(roomId, self.Id), id, "");
        }
        return ValueTask.CompletedTask;
    }

    private static bool TryVideo(string? name, out SfuVideo video)
    {
        video = name switch { "high" => SfuVideo.High, "low" => SfuVideo.Low, "off" => SfuVideo.Off, _ => (SfuVideo)(-1) };
        return (int)video >= 0;
    }

    // MaxListedPeers bounds the participant lists a client sends: more than any room holds.
    private const int MaxListedPeers = 10_000;

    // MaxCandidateLength bounds one candidate line: real ones are about 100-200 characters.
    private const int MaxCandidateLength = 1024;

    private SfuCoordinator? SfuFor(string? id)
    {
        if (_services.Sfu is { } sfu)
        {
            return sfu;
        }
        Reject(ErrorCodes.SfuUnavailable, "This server has no media server: its rooms are peer to peer.", id);
        return null;
    }

    private bool TrySfuPc(string? name, string? id, out SfuPc pc)
    {
        switch (name)
        {
            case "publish":
                pc = SfuPc.Publish;
                return true;
            case "subscribe":
                pc = SfuPc.Subscribe;
                return true;
            default:
                pc = default;
                Reject(ErrorCodes.BadRequest, "\"pc\" must be \"publish\" or \"subscribe\".", id);
                return false;
        }
    }

    private bool IsSdp(string? sdp, string type, string? id)
    {
        if (sdp is not null && sdp.StartsWith("v=0", StringComparison.Ordinal))
        {
            return true;
        }
        Reject(ErrorCodes.BadRequest, $"{type}.sdp must be an SDP description (starting with \"v=0\").", id);
        return false;
    }

    private bool TryRead<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> info, string? id, out T message)
        where T : class
    {
        try
        {
            message = JsonSerializer.Deserialize(utf8, info)!;
            return true;
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            var why = e.Message.Contains("missing required", StringComparison.Ordinal) ? "a required field is missing" : "a field has the wrong type";
            message = null!;
            Reject(ErrorCodes.BadRequest, $"Malformed {info.Type.Name.Replace("Message", "", StringComparison.Ordinal).ToLowerInvariant()}: {why}{field}.", id);
            return false;
        }
    }

    private void Reject(string code, string message, string? id)
    {
        SignalingLog.Rejected(Logger, code, _self?.Id);
        _services.Metrics.Error(code);
        Send(Serialize(new ErrorMessage(code, message, id), Json.ErrorMessage));
    }

    private string MessageRateLimited => $"Too many messages: at most {Options.MessagesPerSecond}/s (bursts of {Options.MessageBurst}). This one was dropped.";

    // RateLimited drops a message past a rate limit (the connection's or chat's), and closes a
    // connection that keeps going past them.
    private ValueTask RateLimited(string? id, string message)
    {
        _services.Metrics.RateLimited();
        var time = _services.Time;
        var now = time.GetTimestamp();
        if (time.GetElapsedTime(_abuseWindowStart, now) > Options.AbuseWindow)
        {
            _abuseWindowStart = now;
            _abuseCount = 0;
        }
        if (++_abuseCount > Options.AbuseThreshold)
        {
            SignalingLog.Abusive(Logger, _self?.Id, _abuseCount);
            return EndAsync("abuse", WebSocketCloseStatus.PolicyViolation, "rate limit exceeded");
        }
        Reject(ErrorCodes.RateLimited, message, id);
        return ValueTask.CompletedTask;
    }

    private static byte[] Serialize<T>(T message, JsonTypeInfo<T> info) => JsonSerializer.SerializeToUtf8Bytes(message, info);

    private static string Truncate(string? text) =>
        text is null ? "" : text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
