using System.Collections.Concurrent;
using Parley.Rooms;
using Parley.Sfu.Janus;

namespace Parley.Sfu;

/// <summary>
/// SfuCoordinator is the SFU as the signaling sees it: it keeps one <see cref="SfuRoom"/> per
/// room the router has on the SFU, passes each participant's requests to it, turns Janus's
/// failures into clear errors, and carries the rooms through Janus going down (a small room
/// falls back to a mesh, a larger one waits) and coming back (rooms rebuilt, everyone asked to
/// publish again).
/// </summary>
internal sealed class SfuCoordinator : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, SfuRoom> _rooms = new(StringComparer.Ordinal);
    private readonly Lock _creating = new();
    private readonly SemaphoreSlim _transitions = new(1, 1);
    private readonly SfuRuntime _runtime;
    private readonly IRoomRouter _router;
    private readonly SfuMetrics _metrics;
    private readonly RoomSwitcher _switcher;

    public SfuCoordinator(SfuRuntime runtime, IRoomRouter router, SfuMetrics metrics, SfuAvailability availability)
    {
        _runtime = runtime;
        _router = router;
        _metrics = metrics;
        _switcher = new RoomSwitcher(runtime, router, availability, metrics, StartRoomAsync);
        _switcher.Completed += OnSwitchCompletedAsync;
    }

    public bool IsConfigured => _runtime.Connection.IsConfigured;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _runtime.Connection.Up += session => _ = Task.Run(() => OnUpAsync(session), CancellationToken.None);
        _runtime.Connection.Down += why => _ = Task.Run(() => OnDownAsync(why), CancellationToken.None);
        _metrics.Publishers = () => _rooms.Values.Sum(r => r.Publishers);
        _metrics.Subscriptions = () => _rooms.Values.Sum(r => r.Subscriptions);
        _metrics.Layers = () => _rooms.Values.Aggregate((High: 0, Low: 0, Off: 0), static (sum, r) => (sum.High + r.Layers.High, sum.Low + r.Layers.Low, sum.Off + r.Layers.Off));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _switcher.Dispose();
        _transitions.Dispose();
    }

    /// <summary>
    /// MemberJoinedAsync: a participant is in an SFU room (it joined one, or its join moved the room
    /// there, away from the mesh of <paramref name="meshMembers"/>).
    /// </summary>
    public async ValueTask MemberJoinedAsync(string roomId, string participantId, JoinResult joined, IReadOnlyList<string> meshMembers)
    {
        if (joined.Mode != RoomMode.Sfu || await RoomAsync(roomId) is not { } room)
        {
            return;
        }
        await room.AddMemberAsync(participantId);
        _switcher.Joined(roomId, joined.Count);
        if (joined.Switched)
        {
            _switcher.Begin(roomId, RoomMode.Sfu, joined.Epoch, meshMembers);
            // Make the Janus room now: the members' offers are on their way.
            await StartRoomAsync(roomId);
        }
    }

    /// <summary>SwitchReadyAsync records a participant's <c>switch-ready</c>.</summary>
    public ValueTask SwitchReadyAsync(string roomId, string participantId, int epoch, IReadOnlyList<string> missing) =>
        _switcher.ReadyAsync(roomId, participantId, epoch, missing);

    // StartRoomAsync makes the room's Janus room; a room that cannot have one fails its move.
    private async Task StartRoomAsync(string roomId)
    {
        try
        {
            if (!_runtime.Connection.IsUp || await RoomAsync(roomId) is not { } room)
            {
                throw new JanusUnavailableException("Janus is not connected.");
            }
            await room.StartAsync();
        }
        catch (Exception e) when (e is JanusException or JanusUnavailableException or TimeoutException or SfuRequestException)
        {
            SfuLog.EventFailed(_runtime.Logger, roomId, e.Message);
            if (_switcher.InProgress(roomId, RoomMode.Sfu))
            {
                await _switcher.FailUpAsync(roomId, "The media server could not take this meeting just now, so it continues peer to peer.");
            }
        }
    }

    // OnSwitchCompletedAsync: after a switch back to a mesh, whoever no longer needs the SFU leaves it; the last one closes the Janus room.
    private async Task OnSwitchCompletedAsync(string roomId, RoomMode to, IReadOnlyList<string> closed)
    {
        if (to != RoomMode.Mesh || !_rooms.TryGetValue(roomId, out var room))
        {
            return;
        }
        foreach (var id in closed)
        {
            if (await RemoveAsync(room, id))
            {
                _rooms.TryRemove(new KeyValuePair<string, SfuRoom>(roomId, room));
                return;
            }
        }
    }

    /// <summary>MemberLeftAsync: a participant left; the last one out of an SFU room closes the Janus room, and a small SFU room heads back to a mesh.</summary>
    public async ValueTask MemberLeftAsync(string roomId, string participantId, LeaveResult left)
    {
        if (_rooms.TryGetValue(roomId, out var room))
        {
            if (await RemoveAsync(room, participantId))
            {
                _rooms.TryRemove(new KeyValuePair<string, SfuRoom>(roomId, room));
            }
            else if (IsConfigured && !_runtime.Connection.IsUp
                     && await _switcher.FallBackAsync(roomId, "The media server is still unavailable, and this call is now small enough to continue peer to peer."))
            {
                // The room waited for Janus; now it is small enough for a mesh.
                await room.CloseWithoutJanusAsync();
                _rooms.TryRemove(new KeyValuePair<string, SfuRoom>(roomId, room));
            }
        }
        await _switcher.LeftAsync(roomId, participantId, left);
    }

    // RemoveAsync takes a member out of an SFU room; true when the room is now closed (or already was).
    private static async Task<bool> RemoveAsync(SfuRoom room, string participantId)
    {
        if (room.IsClosed)
        {
            return true;
        }
        try
        {
            return await room.RemoveMemberAsync(participantId);
        }
        catch (SfuRequestException)
        {
            return true;
        }
    }

    /// <summary>IsUp is true while the media server can take requests.</summary>
    public bool IsUp => _runtime.Connection.IsUp;

    /// <summary>PublishAsync answers a participant's offer for its publish connection.</summary>
    public async ValueTask<(string? Answer, SfuError? Error)> PublishAsync(string roomId, string participantId, string sdp, bool fresh)
    {
        var (room, error) = await ReadyRoomAsync(roomId);
        if (room is null)
        {
            return (null, error);
        }
        try
        {
            return (await room.PublishAsync(participantId, sdp, fresh), null);
        }
        catch (Exception e) when (Failure(e, "offer") is { } failure)
        {
            return (null, Refused(roomId, participantId, failure));
        }
    }

    /// <summary>AnswerAsync takes a participant's answer on its subscribe connection.</summary>
    public async ValueTask<SfuError?> AnswerAsync(string roomId, string participantId, string sdp)
    {
        var (room, error) = await ReadyRoomAsync(roomId);
        if (room is null)
        {
            return error;
        }
        try
        {
            return await room.AnswerAsync(participantId, sdp) is { } refused ? Refused(roomId, participantId, refused) : null;
        }
        catch (Exception e) when (Failure(e, "answer") is { } failure)
        {
            return Refused(roomId, participantId, failure);
        }
    }

    /// <summary>ViewAsync takes how a participant shows the others' video, to send each the layer that fits.</summary>
    public ValueTask<SfuError?> ViewAsync(string roomId, string participantId, IReadOnlyDictionary<string, SfuVideo> view) =>
        InRoomAsync(roomId, participantId, "view", async room =>
        {
            await room.ViewAsync(participantId, view);
            return null;
        });

    /// <summary>RestartAsync asks the media server for an ICE restart of a participant's subscribe connection.</summary>
    public ValueTask<SfuError?> RestartAsync(string roomId, string participantId) =>
        InRoomAsync(roomId, participantId, "restart", room => room.RestartAsync(participantId));

    /// <summary>ResubscribeAsync replaces a participant's subscribe connection with a fresh one (one that never connected).</summary>
    public ValueTask<SfuError?> ResubscribeAsync(string roomId, string participantId) =>
        InRoomAsync(roomId, participantId, "restart", room => room.ResubscribeAsync(participantId));

    // InRoomAsync runs one of a participant's requests on its room, when the room is on a
    // working media server, and turns the media server's failures into the participant's error.
    private async ValueTask<SfuError?> InRoomAsync(string roomId, string participantId, string what, Func<SfuRoom, Task<SfuError?>> work)
    {
        var (room, error) = await ReadyRoomAsync(roomId);
        if (room is null)
        {
            return error;
        }
        try
        {
            return await work(room);
        }
        catch (Exception e) when (Failure(e, what) is { } failure)
        {
            return Refused(roomId, participantId, failure);
        }
    }

    /// <summary>TrickleAsync passes a participant's candidate to the media server.</summary>
    public async ValueTask<SfuError?> TrickleAsync(string roomId, string participantId, SfuPc pc, SfuCandidate? candidate)
    {
        var (room, error) = await ReadyRoomAsync(roomId);
        if (room is null)
        {
            return error;
        }
        try
        {
            return await room.TrickleAsync(participantId, pc, candidate);
        }
        catch (Exception e) when (Failure(e, "candidate") is { } failure)
        {
            return Refused(roomId, participantId, failure);
        }
    }

    private async ValueTask<(SfuRoom? Room, SfuError? Error)> ReadyRoomAsync(string roomId)
    {
        if (!IsConfigured)
        {
            return (null, new SfuError(SfuErrorCodes.Unavailable, "This server has no media server: its rooms are peer to peer."));
        }
        if (await RoomAsync(roomId) is not { } room)
        {
            return (null, new SfuError(SfuErrorCodes.WrongMode, "This room is peer to peer (mode mesh): negotiate with each participant (offer, answer, candidate), not with the media server."));
        }
        if (!_runtime.Connection.IsUp)
        {
            return (null, new SfuError(SfuErrorCodes.Unavailable, "The media server is unavailable just now; Parley is reconnecting to it."));
        }
        return (room, null);
    }

    // RoomAsync is the room's SfuRoom, made on first need while the router has the room on the
    // SFU, with the members the router has (adding a member twice is harmless). It lives on while
    // a switch back to a mesh still needs it, whatever the room's mode.
    private async ValueTask<SfuRoom?> RoomAsync(string roomId)
    {
        if (_rooms.TryGetValue(roomId, out var existing) && !existing.IsClosed)
        {
            return existing;
        }
        if (await _router.GetAsync(roomId, CancellationToken.None) is not { Mode: RoomMode.Sfu } snapshot)
        {
            return null;
        }
        SfuRoom room;
        lock (_creating)
        {
            if (_rooms.TryGetValue(roomId, out existing) && !existing.IsClosed)
            {
                return existing;
            }
            room = new SfuRoom(roomId, _runtime);
            _rooms[roomId] = room;
        }
        foreach (var member in snapshot.Members)
        {
            await room.AddMemberAsync(member.Id);
        }
        return room;
    }

    private static SfuError? Failure(Exception e, string what) => e switch
    {
        SfuRequestException r => r.Error,
        JanusUnavailableException => new SfuError(SfuErrorCodes.Unavailable, "The media server is unavailable just now; Parley is reconnecting to it."),
        TimeoutException => new SfuError(SfuErrorCodes.Failed, $"The media server did not answer this {what} in time; try again."),
        JanusException j => new SfuError(SfuErrorCodes.Failed, $"The media server refused this {what}: {j.Reason} ({j.Code})."),
        _ => null,
    };

    private SfuError Refused(string roomId, string participantId, SfuError error)
    {
        SfuLog.Refused(_runtime.Logger, roomId, participantId, error.Code, error.Message);
        return error;
    }

    private async Task OnUpAsync(JanusSession session)
    {
        await _transitions.WaitAsync();
        try
        {
            var stale = await DestroyLeftoversAsync(session);
            var rooms = _rooms.Values.Where(r => !r.IsClosed).ToArray();
            SfuLog.JanusUp(_runtime.Logger, rooms.Length, stale);
            foreach (var room in rooms)
            {
                try
                {
                    await room.StartAsync();
                    await _runtime.Signals.StatusAsync(room.Id, up: true, "The media server is back: reconnecting your media.", CancellationToken.None);
                }
                catch (Exception e) when (Failure(e, "rebuild") is { } failure)
                {
                    SfuLog.EventFailed(_runtime.Logger, room.Id, failure.Message);
                }
            }
        }
#pragma warning disable CA1031 // A failed transition is logged; the next one starts afresh.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SfuLog.TransitionFailed(_runtime.Logger, e);
        }
        finally
        {
            _transitions.Release();
        }
    }

    // DestroyLeftoversAsync removes the Janus rooms an earlier run (or an earlier session) of
    // Parley left: dynamic rooms outlive the session that made them (janus-sfu.md §0).
    private async Task<int> DestroyLeftoversAsync(JanusSession session)
    {
        var control = await _runtime.ControlHandleAsync(session);
        var list = await control.MessageAsync(VideoRoom.List(_runtime.Options.AdminKey!), null, CancellationToken.None);
        var ours = _rooms.Values.Select(r => r.JanusRoomId).ToHashSet();
        var destroyed = 0;
        foreach (var (id, description) in VideoRoom.Rooms(list.Data))
        {
            if (description.StartsWith(VideoRoom.DescriptionPrefix, StringComparison.Ordinal) && !ours.Contains(id))
            {
                try
                {
                    await control.MessageAsync(VideoRoom.Destroy(id), null, CancellationToken.None);
                    destroyed++;
                }
                catch (JanusException e)
                {
                    SfuLog.CleanupFailed(_runtime.Logger, description, e.Message);
                }
            }
        }
        return destroyed;
    }

    private async Task OnDownAsync(string why)
    {
        await _transitions.WaitAsync();
        try
        {
            var fallen = 0;
            var waiting = 0;
            foreach (var room in _rooms.Values.Where(r => !r.IsClosed).ToArray())
            {
                await room.LostJanusAsync();
                if (await _switcher.FallBackAsync(room.Id, "The media server is unavailable, so this call continues peer to peer."))
                {
                    await room.CloseWithoutJanusAsync();
                    _rooms.TryRemove(new KeyValuePair<string, SfuRoom>(room.Id, room));
                    fallen++;
                }
                else
                {
                    await _runtime.Signals.StatusAsync(room.Id, up: false,
                        "The media server is unavailable. This meeting is too large to continue peer to peer; it resumes as soon as the media server is back.",
                        CancellationToken.None);
                    waiting++;
                }
            }
            SfuLog.JanusDown(_runtime.Logger, why, fallen, waiting);
        }
#pragma warning disable CA1031 // A failed transition is logged; the next one starts afresh.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SfuLog.TransitionFailed(_runtime.Logger, e);
        }
        finally
        {
            _transitions.Release();
        }
    }
}
