using System.Text.Json;
using System.Threading.Channels;
using Parley.Sfu.Janus;

namespace Parley.Sfu;

/// <summary>
/// SfuRoom is one Parley room on Janus: one VideoRoom room, Parley's own observer participant
/// in it (which hears every publisher come and go), and per member a publisher handle (the
/// browser's publish connection) and one multistream subscriber handle (everyone else's media
/// on one connection). Everything it does runs on one loop, in order: the members' requests
/// and Janus's events, so its state needs no lock and a late event never overtakes a request.
/// </summary>
internal sealed class SfuRoom
{
    /// <summary>MaxCandidates bounds the candidates one connection may trickle per negotiation.</summary>
    public const int MaxCandidates = 64;

    private const long ObserverFeed = 1;
    private const int MaxReconcileRetries = 5;

    private readonly SfuRuntime _runtime;
    private readonly Channel<Func<Task>> _inbox = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _owners = [];
    private readonly HashSet<long> _active = [];
    private JanusSession? _session;
    private JanusHandle? _observer;
    private long _janusRoom;
    private long _nextFeed = ObserverFeed + 1;
    private bool _closed;
    private bool _reconcileScheduled;
    private long _burstStarted;
    private int _burstSeen;

    /// <summary>
    /// ReconcileBurst is how long the room waits without a new publisher before the subscribers are
    /// updated, and MaxBurst how long it gathers one burst at most: at a switch everyone publishes
    /// within a few seconds, and one renegotiation per subscriber with every one of them costs far
    /// less than one per publisher.
    /// </summary>
    private static readonly TimeSpan ReconcileBurst = TimeSpan.FromMilliseconds(400);

    private static readonly TimeSpan MaxBurst = TimeSpan.FromSeconds(2.5);

    public SfuRoom(string id, SfuRuntime runtime)
    {
        Id = id;
        _runtime = runtime;
        _ = Task.Run(LoopAsync);
    }

    public string Id { get; }

    /// <summary>JanusRoomId is the id of the Janus room this room made last (0 before the first).</summary>
    public long JanusRoomId => Volatile.Read(ref _janusRoom);

    /// <summary>IsClosed is true once the room emptied or left the SFU; a new SFU room of the same id needs a new SfuRoom.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Publishers and Subscriptions are this room's counts for the metrics (read without the loop: approximate).</summary>
    public int Publishers { get; private set; }

    public int Subscriptions { get; private set; }

    /// <summary>Layers counts the video streams its subscribers get now, by layer.</summary>
    public (int High, int Low, int Off) Layers { get; private set; }

    /// <summary>AddMemberAsync makes <paramref name="participantId"/> a member (again, harmlessly) and subscribes it to whoever publishes.</summary>
    public Task AddMemberAsync(string participantId) => InvokeAsync(async () =>
    {
        if (_closed || _members.ContainsKey(participantId))
        {
            return true;
        }
        var member = new Member(participantId);
        _members.Add(participantId, member);
        if (_observer is not null)
        {
            await ReconcileAsync(member);
        }
        return true;
    });

    /// <summary>RemoveMemberAsync ends a member's handles; true when the room is now empty and closed.</summary>
    public Task<bool> RemoveMemberAsync(string participantId) => InvokeAsync(async () =>
    {
        if (!_members.Remove(participantId, out var member))
        {
            return _members.Count == 0 && _closed;
        }
        await DetachAsync(member.Publisher);
        await DetachAsync(member.Subscriber);
        if (member.Feed is { } feed)
        {
            await FeedGoneAsync(feed);
            _owners.Remove(feed);
        }
        if (_members.Count == 0)
        {
            await CloseAsync();
        }
        Count();
        return _closed;
    });

    /// <summary>StartAsync makes the Janus room now, so the first offers do not wait for it.</summary>
    public Task StartAsync() => InvokeAsync(async () =>
    {
        await EnsureCreatedAsync();
        return true;
    });

    /// <summary>PublishAsync takes a member's offer for its publish connection and answers it; <paramref name="fresh"/> starts a new connection.</summary>
    public Task<string> PublishAsync(string participantId, string sdp, bool fresh) => InvokeAsync(async () =>
    {
        var member = MemberOf(participantId);
        await EnsureCreatedAsync();
        if (fresh && member.Publisher is { } old)
        {
            member.Publisher = null;
            await DetachAsync(old);
        }
        JanusReply reply;
        // The screen m-line is described on every offer: Janus keeps descriptions per stream, and a fresh handle has none.
        var screenMid = VideoRoom.ScreenMid(sdp);
        if (member.Publisher is null)
        {
            var handle = await _session!.AttachAsync(VideoRoom.Plugin, null, CancellationToken.None);
            // A new feed id for every publisher handle: the old one may not have left Janus yet (436).
            var feed = _nextFeed++;
            handle.OnEvent = e => Post(() => OnPublisherEventAsync(member, handle, e));
            try
            {
                reply = await handle.MessageAsync(VideoRoom.JoinAndPublish(_janusRoom, feed, screenMid), new Jsep("offer", sdp), CancellationToken.None);
            }
            catch
            {
                await DetachAsync(handle);
                throw;
            }
            if (member.Feed is { } previous)
            {
                _owners.Remove(previous);
            }
            member.Feed = feed;
            _owners[feed] = member.Id;
            member.Publisher = handle;
        }
        else
        {
            reply = await member.Publisher.MessageAsync(VideoRoom.Configure(screenMid), new Jsep("offer", sdp), CancellationToken.None);
        }
        member.PublisherCandidates = 0;
        Count();
        return VideoRoom.AnswerOf(reply);
    });

    /// <summary>AnswerAsync takes a member's answer to the subscribe offer it was sent.</summary>
    public Task<SfuError?> AnswerAsync(string participantId, string sdp) => InvokeAsync<SfuError?>(async () =>
    {
        var member = MemberOf(participantId);
        if (member.Subscriber is not { } handle || !member.AwaitingAnswer)
        {
            return new SfuError(SfuErrorCodes.BadRequest, "No subscribe offer is waiting for an answer: answer each sfu-offer of the subscribe connection once.");
        }
        await handle.MessageAsync(VideoRoom.Start(), new Jsep("answer", sdp), CancellationToken.None);
        SfuLog.AnswerStarted(_runtime.Logger, Id, member.Id);
        member.AwaitingAnswer = false;
        member.SubscriberCandidates = 0;
        await ApplyLayersAsync(member);
        if (member.RestartPending)
        {
            member.RestartPending = false;
            await RestartSubscriberAsync(member);
        }
        else
        {
            await ReconcileAsync(member);
        }
        return null;
    });

    /// <summary>
    /// TrickleAsync passes one of a member's candidates (null: no more) to the handle of that
    /// connection. The room's loop queues it to Janus in order and goes on; only the caller waits
    /// for Janus's ack, so a burst of candidates never holds up the room's other work.
    /// </summary>
    public async Task<SfuError?> TrickleAsync(string participantId, SfuPc pc, SfuCandidate? candidate)
    {
        var (error, ack) = await InvokeAsync<(SfuError? Error, Task? Ack)>(() =>
        {
            var member = MemberOf(participantId);
            var handle = pc == SfuPc.Publish ? member.Publisher : member.Subscriber;
            if (handle is null)
            {
                return Task.FromResult<(SfuError?, Task?)>((new SfuError(SfuErrorCodes.BadRequest, pc == SfuPc.Publish
                    ? "No publish connection yet: send its sfu-offer before its candidates."
                    : "No subscribe connection yet: candidates follow the answer to the server's sfu-offer."), null));
            }
            var count = pc == SfuPc.Publish ? ++member.PublisherCandidates : ++member.SubscriberCandidates;
            if (count > MaxCandidates)
            {
                return Task.FromResult<(SfuError?, Task?)>((new SfuError(SfuErrorCodes.BadRequest,
                    $"Too many candidates: at most {MaxCandidates} per connection and negotiation. This one was dropped."), null));
            }
            // HandleRequestAsync queues the frame before it returns: the order on Janus's socket is this loop's.
            return Task.FromResult<(SfuError?, Task?)>((null, handle.TrickleAsync(VideoRoom.TrickleBody(candidate), CancellationToken.None)));
        });
        if (ack is not null)
        {
            await ack;
        }
        return error;
    }

    /// <summary>ViewAsync takes how a member shows each remote participant's video, and sends it the layer that fits (or none).</summary>
    public Task<bool> ViewAsync(string participantId, IReadOnlyDictionary<string, SfuVideo> view) => InvokeAsync(async () =>
    {
        var member = MemberOf(participantId);
        member.View = new Dictionary<string, SfuVideo>(view, StringComparer.Ordinal);
        await ApplyLayersAsync(member);
        return true;
    });

    /// <summary>RestartAsync asks Janus for an ICE-restart offer on a member's subscribe connection (never a browser offer there).</summary>
    public Task<SfuError?> RestartAsync(string participantId) => InvokeAsync<SfuError?>(async () =>
    {
        var member = MemberOf(participantId);
        if (member.Subscriber is null)
        {
            return new SfuError(SfuErrorCodes.BadRequest, "No subscribe connection to restart.");
        }
        if (member.AwaitingAnswer || member.OfferPending)
        {
            // Janus folds a restart into an offer still out and answers nothing: ask after the answer.
            member.RestartPending = true;
            return null;
        }
        await RestartSubscriberAsync(member);
        return null;
    });

    /// <summary>
    /// ResubscribeAsync ends a member's subscriber handle and subscribes it afresh: the client's
    /// subscribe connection never got through (its DTLS handshake stalled, say), which no ICE
    /// restart mends. The fresh offer tells the client to drop the old connection.
    /// </summary>
    public Task<SfuError?> ResubscribeAsync(string participantId) => InvokeAsync<SfuError?>(async () =>
    {
        var member = MemberOf(participantId);
        if (member.Subscriber is not { } handle)
        {
            return new SfuError(SfuErrorCodes.BadRequest, "No subscribe connection to start again.");
        }
        member.ResetSubscriber();
        await DetachAsync(handle);
        SfuLog.Resubscribed(_runtime.Logger, Id, member.Id);
        await ReconcileAsync(member);
        return null;
    });

    /// <summary>LostJanusAsync forgets every handle: the Janus session they lived in is gone (nothing is sent to Janus).</summary>
    public Task LostJanusAsync() => InvokeAsync(() =>
    {
        _session = null;
        _observer = null;
        _active.Clear();
        foreach (var member in _members.Values)
        {
            member.Reset();
        }
        Count();
        return Task.FromResult(true);
    });

    /// <summary>CloseWithoutJanusAsync ends the room when it left the SFU (it fell back to a mesh): its Janus side is gone already.</summary>
    public Task CloseWithoutJanusAsync() => InvokeAsync(() =>
    {
        _members.Clear();
        _session = null;
        _observer = null;
        _closed = true;
        _inbox.Writer.TryComplete();
        Count();
        return Task.FromResult(true);
    });

    private Member MemberOf(string participantId) =>
        _members.TryGetValue(participantId, out var member)
            ? member
            : throw new SfuRequestException(new SfuError(SfuErrorCodes.WrongMode, "This participant is not in an SFU room."));

    // EnsureCreatedAsync makes the Janus room and joins the observer, once per Janus session.
    private async Task EnsureCreatedAsync()
    {
        if (_closed)
        {
            throw new SfuRequestException(new SfuError(SfuErrorCodes.WrongMode, "This room is no longer on the SFU."));
        }
        var session = _runtime.Connection.Current ?? throw new JanusUnavailableException("Janus is not connected.");
        if (_observer is not null && _session == session)
        {
            return;
        }
        _session = session;
        _observer = null;
        _active.Clear();
        var control = await _runtime.ControlHandleAsync(session);
        for (var attempt = 0; ; attempt++)
        {
            _janusRoom = Random.Shared.NextInt64(1, 1L << 52);
            try
            {
                await control.MessageAsync(
                    VideoRoom.Create(_janusRoom, Id, _runtime.Options.AdminKey!, 2 * _runtime.Options.MaxParticipants, _runtime.Options.MaxBitrate),
                    null, CancellationToken.None);
                break;
            }
            catch (JanusException e) when (e.Code == 427 && attempt < 3)
            {
                // Room exists: an unlikely random clash; draw another id.
            }
        }
        var observer = await session.AttachAsync(VideoRoom.Plugin, null, CancellationToken.None);
        observer.OnEvent = e => Post(() => OnObserverEventAsync(observer, e));
        var joined = await observer.MessageAsync(VideoRoom.JoinObserver(_janusRoom, ObserverFeed), null, CancellationToken.None);
        _observer = observer;
        SfuLog.RoomCreated(_runtime.Logger, Id);
        foreach (var (feed, _) in VideoRoom.Publishers(joined.Data))
        {
            _active.Add(feed);
        }
        foreach (var member in _members.Values)
        {
            await ReconcileAsync(member);
        }
    }

    private async Task OnObserverEventAsync(JanusHandle observer, JanusEvent e)
    {
        if (observer != _observer || e.Kind != JanusEventKind.Plugin || e.Data is not { } data)
        {
            return;
        }
        var added = false;
        foreach (var (feed, streams) in VideoRoom.Publishers(data))
        {
            if (streams > 0 && _owners.ContainsKey(feed))
            {
                added |= _active.Add(feed);
            }
        }
        if (added)
        {
            _burstSeen++;
            if (!_reconcileScheduled)
            {
                _reconcileScheduled = true;
                _burstStarted = _runtime.Time.GetTimestamp();
                ScheduleBurstEnd(_burstSeen);
            }
        }
        if (VideoRoom.Gone(data) is { } gone)
        {
            await FeedGoneAsync(gone);
        }
    }

    // ScheduleBurstEnd looks again after ReconcileBurst: the burst of publishers is over when none
    // came meanwhile and no member's publish connection is still on its way in, or at MaxBurst.
    private void ScheduleBurstEnd(int seen) =>
        _ = Task.Delay(ReconcileBurst, _runtime.Time).ContinueWith(_ => Post(async () =>
        {
            var waiting = _burstSeen != seen || _members.Values.Any(m => m.Publisher is not null && m.Feed is { } f && !_active.Contains(f));
            if (waiting && _runtime.Time.GetElapsedTime(_burstStarted) < MaxBurst)
            {
                ScheduleBurstEnd(_burstSeen);
                return;
            }
            _reconcileScheduled = false;
            foreach (var member in _members.Values)
            {
                await ReconcileAsync(member);
            }
        }), TaskScheduler.Default);

    // FeedGoneAsync: a publisher stopped. Janus renegotiates the subscribers that had it by itself
    // (autoupdate); a subscriber left with nothing to receive is ended instead of being sent an
    // all-inactive offer (janus-sfu.md §5, #2938).
    private async Task FeedGoneAsync(long feed)
    {
        _active.Remove(feed);
        foreach (var member in _members.Values)
        {
            member.Feeds.Remove(feed);
            if (member.Subscriber is not null && Desired(member).Count == 0)
            {
                await EndSubscriberAsync(member, "Nobody else in the room is sending media.");
            }
        }
        Count();
    }

    private async Task OnPublisherEventAsync(Member member, JanusHandle handle, JanusEvent e)
    {
        if (member.Publisher != handle)
        {
            return;
        }
        switch (e.Kind)
        {
            case JanusEventKind.Trickle:
                await _runtime.Signals.CandidateAsync(Id, member.Id, SfuPc.Publish, VideoRoom.Candidate(e.Message), CancellationToken.None);
                break;
            case JanusEventKind.Hangup:
                // After a hangup the connection cannot be restarted (janus-sfu.md §5, #3021): the client makes a fresh one.
                member.Publisher = null;
                await DetachAsync(handle);
                if (member.Feed is { } feed)
                {
                    await FeedGoneAsync(feed);
                }
                await _runtime.Signals.ClosedAsync(Id, member.Id, SfuPc.Publish, "The media server lost your outgoing connection.", CancellationToken.None);
                Count();
                break;
            default:
                break;
        }
    }

    private async Task OnSubscriberEventAsync(Member member, JanusHandle handle, JanusEvent e)
    {
        if (member.Subscriber != handle)
        {
            return;
        }
        switch (e.Kind)
        {
            case JanusEventKind.Plugin when e.Jsep is { Type: "offer" } && e.Data is { } data:
                // An update Janus made by itself (a publisher left) or one it had queued ("updating").
                await OfferAsync(member, data, e.Jsep.Sdp, fresh: false);
                break;
            case JanusEventKind.Trickle:
                await _runtime.Signals.CandidateAsync(Id, member.Id, SfuPc.Subscribe, VideoRoom.Candidate(e.Message), CancellationToken.None);
                break;
            case JanusEventKind.SlowLink:
                await OnSlowLinkAsync(member);
                break;
            case JanusEventKind.Hangup:
                await EndSubscriberAsync(member, "The media server lost your incoming connection; reconnecting.");
                await ReconcileAsync(member);
                break;
            default:
                break;
        }
    }

    // ReconcileAsync brings a member's subscriber to the set of feeds it should receive: every
    // active publisher but itself. Janus renegotiates one subscriber at a time, so nothing is
    // asked while an offer waits for its answer; the answer reconciles again.
    private async Task ReconcileAsync(Member member)
    {
        if (_observer is null || member.AwaitingAnswer || member.OfferPending)
        {
            return;
        }
        var desired = Desired(member);
        try
        {
            if (member.Subscriber is null)
            {
                if (desired.Count == 0)
                {
                    return;
                }
                var handle = await _session!.AttachAsync(VideoRoom.Plugin, null, CancellationToken.None);
                handle.OnEvent = e => Post(() => OnSubscriberEventAsync(member, handle, e));
                JanusReply reply;
                try
                {
                    reply = await handle.MessageAsync(VideoRoom.Subscribe(_janusRoom, desired), null, CancellationToken.None);
                }
                catch
                {
                    await DetachAsync(handle);
                    throw;
                }
                member.Subscriber = handle;
                member.Feeds = desired;
                await OfferAsync(member, reply.Data, reply.Jsep?.Sdp, fresh: true);
                return;
            }
            if (desired.Count == 0)
            {
                await EndSubscriberAsync(member, "Nobody else in the room is sending media.");
                return;
            }
            var add = desired.Except(member.Feeds).ToArray();
            var remove = member.Feeds.Except(desired).ToArray();
            if (add.Length == 0 && remove.Length == 0)
            {
                return;
            }
            var updated = await member.Subscriber.MessageAsync(VideoRoom.Update(add, remove), null, CancellationToken.None);
            member.Feeds = desired;
            if (updated.Jsep is { Type: "offer", Sdp: var sdp })
            {
                await OfferAsync(member, updated.Data, sdp, fresh: false);
            }
            else if (VideoRoom.Kind(updated.Data) == "updating")
            {
                // An offer is still out on Janus's side: the next one, unsolicited, covers this change too.
                member.OfferPending = true;
            }
            member.Retries = 0;
        }
        catch (JanusException e) when (e.Code == 428 && member.Retries < MaxReconcileRetries)
        {
            // A feed was gone by the time Janus looked (it left while we asked): try again once its leave is in.
            var delay = TimeSpan.FromMilliseconds(200 * ++member.Retries);
            _ = Task.Delay(delay, _runtime.Time).ContinueWith(_ => Post(() => ReconcileAsync(member)), TaskScheduler.Default);
        }
        finally
        {
            Count();
        }
    }

    private async Task RestartSubscriberAsync(Member member)
    {
        var reply = await member.Subscriber!.MessageAsync(VideoRoom.Restart(), null, CancellationToken.None);
        if (reply.Jsep is { Type: "offer", Sdp: var sdp })
        {
            await OfferAsync(member, reply.Data, sdp, fresh: false);
        }
    }

    // ApplyLayersAsync sends Janus, in one configure, each camera m-line's layer that differs from
    // what it sends now: what the member's view asks, one step down while its downlink is poor. A
    // screen m-line (kind "screen") has one layer and is always sent: the view is of the camera tile.
    private async Task ApplyLayersAsync(Member member)
    {
        if (member.Subscriber is not { } handle || member.AwaitingAnswer)
        {
            return;
        }
        var slow = member.SlowUntil > _runtime.Time.GetTimestamp();
        var changes = new List<(string Mid, SfuVideo Video)>();
        foreach (var (mid, track) in member.Mids)
        {
            if (track.Kind != "video")
            {
                continue;
            }
            var wanted = member.View.TryGetValue(track.ParticipantId, out var v) ? v : SfuVideo.High;
            if (slow && wanted == SfuVideo.High)
            {
                wanted = SfuVideo.Low;
            }
            var current = member.Applied.TryGetValue(mid, out var applied) ? applied : SfuVideo.High;
            if (current != wanted)
            {
                changes.Add((mid, wanted));
            }
        }
        if (changes.Count == 0)
        {
            return;
        }
        SfuLog.LayersSet(_runtime.Logger, Id, member.Id, string.Join(", ", changes.Select(c => $"{c.Mid}={c.Video}")));
        await handle.MessageAsync(VideoRoom.Layers(changes), null, CancellationToken.None);
        foreach (var (mid, video) in changes)
        {
            member.Applied[mid] = video;
        }
        Count();
    }

    // OnSlowLinkAsync: Janus sees a member's downlink lose packets: its video steps down a layer,
    // and comes back up only after SlowHold without another complaint.
    private async Task OnSlowLinkAsync(Member member)
    {
        var wasSlow = member.SlowUntil > _runtime.Time.GetTimestamp();
        member.SlowUntil = _runtime.Time.GetTimestamp() + (long)(SlowHold.TotalSeconds * _runtime.Time.TimestampFrequency);
        if (!wasSlow)
        {
            SfuLog.SlowLink(_runtime.Logger, Id, member.Id);
            await ApplyLayersAsync(member);
        }
        var check = SlowHold + TimeSpan.FromMilliseconds(100);
        _ = Task.Delay(check, _runtime.Time).ContinueWith(_ => Post(() => ApplyLayersAsync(member)), TaskScheduler.Default);
    }

    /// <summary>SlowHold is how long a subscriber's video stays a layer down after Janus last reported its link slow.</summary>
    public static readonly TimeSpan SlowHold = TimeSpan.FromSeconds(10);

    private HashSet<long> Desired(Member member)
    {
        var desired = new HashSet<long>();
        foreach (var feed in _active)
        {
            if (_owners.TryGetValue(feed, out var owner) && owner != member.Id && _members.ContainsKey(owner))
            {
                desired.Add(feed);
            }
        }
        return desired;
    }

    private async Task OfferAsync(Member member, JsonElement data, string? sdp, bool fresh)
    {
        if (sdp is null)
        {
            return;
        }
        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("streams", out _))
        {
            // A reply without streams (an ICE restart's) changes no m-line: the mapping stays.
            var mids = new Dictionary<string, SfuTrackInfo>(StringComparer.Ordinal);
            foreach (var (mid, feed, kind) in VideoRoom.Streams(data))
            {
                if (_owners.TryGetValue(feed, out var owner))
                {
                    mids[mid] = new SfuTrackInfo(mid, owner, kind);
                }
            }
            foreach (var mid in member.Applied.Keys.ToArray())
            {
                if (!mids.TryGetValue(mid, out var now) || !member.Mids.TryGetValue(mid, out var before) || now.ParticipantId != before.ParticipantId)
                {
                    // A new or reused m-line starts at Janus's default (the highest layer, sending).
                    member.Applied.Remove(mid);
                }
            }
            member.Mids = mids;
        }
        var streams = member.Mids.Values.ToList();
        member.AwaitingAnswer = true;
        member.OfferPending = false;
        SfuLog.OfferSent(_runtime.Logger, Id, member.Id, fresh, streams.Count);
        await _runtime.Signals.OfferAsync(Id, member.Id, VideoRoom.Scrub(sdp), streams, fresh, CancellationToken.None);
    }

    private async Task EndSubscriberAsync(Member member, string reason)
    {
        var handle = member.Subscriber;
        member.ResetSubscriber();
        await DetachAsync(handle);
        await _runtime.Signals.ClosedAsync(Id, member.Id, SfuPc.Subscribe, reason, CancellationToken.None);
    }

    private async Task CloseAsync()
    {
        _closed = true;
        _inbox.Writer.TryComplete();
        if (_session is { IsOpen: true } session && _observer is { } observer)
        {
            await DetachAsync(observer);
            try
            {
                var control = await _runtime.ControlHandleAsync(session);
                await control.MessageAsync(VideoRoom.Destroy(_janusRoom), null, CancellationToken.None);
            }
            catch (Exception e) when (e is JanusException or JanusUnavailableException or TimeoutException)
            {
                SfuLog.CleanupFailed(_runtime.Logger, Id, e.Message);
            }
        }
        _observer = null;
        SfuLog.RoomClosed(_runtime.Logger, Id);
    }

    private async Task DetachAsync(JanusHandle? handle)
    {
        if (handle is null || !handle.Session.IsOpen)
        {
            return;
        }
        try
        {
            await handle.DetachAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is JanusException or JanusUnavailableException or TimeoutException)
        {
            SfuLog.CleanupFailed(_runtime.Logger, Id, e.Message);
        }
    }

    private void Count()
    {
        var publishers = 0;
        var subscriptions = 0;
        Span<int> layers = stackalloc int[3];
        foreach (var member in _members.Values)
        {
            publishers += member.Publisher is null ? 0 : 1;
            subscriptions += member.Subscriber is null ? 0 : member.Feeds.Count;
            if (member.Subscriber is null)
            {
                continue;
            }
            foreach (var (mid, track) in member.Mids)
            {
                if (track.Kind == "video")
                {
                    layers[(int)(member.Applied.TryGetValue(mid, out var v) ? v : SfuVideo.High)]++;
                }
            }
        }
        Publishers = publishers;
        Subscriptions = subscriptions;
        Layers = (layers[(int)SfuVideo.High], layers[(int)SfuVideo.Low], layers[(int)SfuVideo.Off]);
    }

    private Task<T> InvokeAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(async () =>
        {
            try
            {
                done.TrySetResult(await work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }))
        {
            done.TrySetException(new SfuRequestException(new SfuError(SfuErrorCodes.WrongMode, "This room is no longer on the SFU.")));
        }
        return done.Task;
    }

    private void Post(Func<Task> work) => _inbox.Writer.TryWrite(work);

    private async Task LoopAsync()
    {
        await foreach (var work in _inbox.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception e) when (e is JanusException or JanusUnavailableException or TimeoutException or SfuRequestException)
            {
                SfuLog.EventFailed(_runtime.Logger, Id, e.Message);
            }
#pragma warning disable CA1031 // The loop must outlive any one failed piece of work; the failure is logged.
            catch (Exception e)
#pragma warning restore CA1031
            {
                SfuLog.LoopFailed(_runtime.Logger, e, Id);
            }
        }
    }

    /// <summary>Member is one participant's Janus side.</summary>
    private sealed class Member(string id)
    {
        public string Id { get; } = id;

        public long? Feed { get; set; }

        public JanusHandle? Publisher { get; set; }

        public int PublisherCandidates { get; set; }

        public JanusHandle? Subscriber { get; set; }

        /// <summary>Feeds are what the subscriber was last asked to receive.</summary>
        public HashSet<long> Feeds { get; set; } = [];

        public bool AwaitingAnswer { get; set; }

        public bool OfferPending { get; set; }

        public int SubscriberCandidates { get; set; }

        public int Retries { get; set; }

        /// <summary>Mids maps the subscribe connection's m-lines to whose media they carry.</summary>
        public Dictionary<string, SfuTrackInfo> Mids { get; set; } = new(StringComparer.Ordinal);

        /// <summary>View is how the member shows each participant's video; Applied is the layer each video m-line gets now.</summary>
        public Dictionary<string, SfuVideo> View { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<string, SfuVideo> Applied { get; } = new(StringComparer.Ordinal);

        /// <summary>SlowUntil is the timestamp until which the member's downlink counts as poor.</summary>
        public long SlowUntil { get; set; }

        public bool RestartPending { get; set; }

        public void ResetSubscriber()
        {
            Subscriber = null;
            Feeds = [];
            Mids = new(StringComparer.Ordinal);
            Applied.Clear();
            RestartPending = false;
            AwaitingAnswer = false;
            OfferPending = false;
            SubscriberCandidates = 0;
            Retries = 0;
        }

        public void Reset()
        {
            Publisher = null;
            PublisherCandidates = 0;
            ResetSubscriber();
        }
    }
}

/// <summary>SfuRequestException carries an <see cref="SfuError"/> out of the room's loop to the member that asked.</summary>
internal sealed class SfuRequestException(SfuError error) : Exception(error.Message)
{
    public SfuError Error { get; } = error;
}
