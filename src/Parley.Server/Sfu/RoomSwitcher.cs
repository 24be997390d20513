using Parley.Rooms;

namespace Parley.Sfu;

/// <summary>
/// RoomSwitcher is the one decider of each room's switches between mesh and SFU, made before
/// they break: the room's mode changes at once (with a new epoch, so late messages of an earlier
/// switch are ignored), every client builds the new path beside the old one and moves each tile
/// over once it plays, reports <c>switch-ready</c> with whom it still misses, and when all have
/// reported (or at the deadline) the switcher tells each client which old connections to keep:
/// those of a pair where either side lacks the new path. A failed move to the SFU leaves the
/// room a mesh and is retried only after a backoff, then held for a while (the latch).
/// </summary>
internal sealed class RoomSwitcher(SfuRuntime runtime, IRoomRouter router, SfuAvailability availability, SfuMetrics metrics, Func<string, Task> startRoom) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Switch> _switches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _returns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _retries = new(StringComparer.Ordinal);
    // _settling holds, per room, a switch that ended with pairs kept on the old path: a member
    // whose new path starts to play them later reports again, and those pairs close then.
    private readonly Dictionary<string, Settling> _settling = new(StringComparer.Ordinal);
    // _early holds reports that came before their switch was begun: the router tells the members
    // of a mode change before the switcher hears of it, and a quick client may answer at once.
    private readonly Dictionary<string, (int Epoch, Dictionary<string, string[]> Reports)> _early = new(StringComparer.Ordinal);

    /// <summary>Completed fires (outside any lock) when a switch is over, with the members whose old path is now closed entirely.</summary>
    public event Func<string, RoomMode, IReadOnlyList<string>, Task>? Completed;

    /// <summary>InProgress is true while a switch of <paramref name="roomId"/> to <paramref name="mode"/> is under way.</summary>
    public bool InProgress(string roomId, RoomMode mode)
    {
        lock (_gate)
        {
            return _switches.TryGetValue(roomId, out var s) && s.To == mode;
        }
    }

    /// <summary>Begin starts the switch the router just made (a join or a mode change) among <paramref name="members"/>, who had the old path.</summary>
    public void Begin(string roomId, RoomMode to, int epoch, IEnumerable<string> members)
    {
        var pending = new HashSet<string>(members, StringComparer.Ordinal);
        var timer = runtime.Time.CreateTimer(static s =>
        {
            var (switcher, room, epoch) = ((RoomSwitcher, string, int))s!;
            _ = switcher.CompleteAsync(room, epoch, deadline: true);
        }, (this, roomId, epoch), runtime.Options.SwitchTimeout, Timeout.InfiniteTimeSpan);
        Switch? replaced;
        var state = new Switch(epoch, to, runtime.Time.GetTimestamp(), pending, timer);
        lock (_gate)
        {
            _switches.Remove(roomId, out replaced);
            _switches[roomId] = state;
            _settling.Remove(roomId);
            if (_early.Remove(roomId, out var early) && early.Epoch == epoch)
            {
                foreach (var (id, missing) in early.Reports)
                {
                    if (pending.Remove(id))
                    {
                        state.Missing[id] = [.. missing];
                    }
                }
            }
            if (_returns.Remove(roomId, out var wait))
            {
                wait.Dispose();
            }
        }
        if (replaced is not null)
        {
            replaced.Deadline.Dispose();
            metrics.Switched(replaced.To, "superseded", runtime.Time.GetElapsedTime(replaced.Started));
        }
        SfuLog.SwitchBegun(runtime.Logger, roomId, to == RoomMode.Sfu ? "up" : "down", epoch, pending.Count);
        if (pending.Count == 0)
        {
            _ = CompleteAsync(roomId, epoch, deadline: false);
        }
    }

    /// <summary>Ready records a client's <c>switch-ready</c>; the last one completes the switch.</summary>
    public async ValueTask ReadyAsync(string roomId, string participantId, int epoch, IReadOnlyList<string> missing)
    {
        bool last;
        string outcome;
        if (await SettleAsync(roomId, participantId, epoch, missing))
        {
            return;
        }
        lock (_gate)
        {
            if (!_switches.TryGetValue(roomId, out var s) || s.Epoch != epoch)
            {
                outcome = (s?.Epoch ?? 0) < epoch ? "kept until its switch begins" : "ignored: an earlier switch";
                if ((s?.Epoch ?? 0) < epoch)
                {
                    // Not begun yet (or a stray one): keep it for that epoch only, bounded by the room.
                    var early = _early.TryGetValue(roomId, out var e) && e.Epoch == epoch
                        ? e
                        : (Epoch: epoch, Reports: new Dictionary<string, string[]>(StringComparer.Ordinal));
                    if (early.Reports.Count < runtime.Policy.SfuCap)
                    {
                        early.Reports[participantId] = [.. missing];
                    }
                    _early[roomId] = early;
                }
                SfuLog.SwitchReady(runtime.Logger, roomId, participantId, epoch, missing.Count, outcome);
                return;
            }
            if (!s.Pending.Remove(participantId))
            {
                SfuLog.SwitchReady(runtime.Logger, roomId, participantId, epoch, missing.Count, "ignored: not asked or already in");
                return;
            }
            s.Missing[participantId] = [.. missing];
            last = s.Pending.Count == 0;
            outcome = $"{s.Pending.Count} still to report, after {runtime.Time.GetElapsedTime(s.Started).TotalSeconds:F1} s";
        }
        SfuLog.SwitchReady(runtime.Logger, roomId, participantId, epoch, missing.Count, outcome);
        if (last)
        {
            await CompleteAsync(roomId, epoch, deadline: false);
        }
    }

    /// <summary>Left takes a participant out of a switch (nobody waits for its report) and, in an SFU room that got small enough, starts the wait to go back to a mesh.</summary>
    public async ValueTask LeftAsync(string roomId, string participantId, LeaveResult left)
    {
        bool last = false;
        var epoch = 0;
        lock (_gate)
        {
            if (_switches.TryGetValue(roomId, out var s) && s.Pending.Remove(participantId))
            {
                s.Missing.Remove(participantId);
                last = s.Pending.Count == 0;
                epoch = s.Epoch;
            }
            if (_settling.TryGetValue(roomId, out var settling))
            {
                settling.Forget(participantId);
            }
            if (left.Remaining == 0)
            {
                Drop(roomId);
            }
        }
        if (left.Remaining == 0)
        {
            availability.Forget(roomId);
            return;
        }
        if (last)
        {
            await CompleteAsync(roomId, epoch, deadline: false);
        }
        var snapshot = await router.GetAsync(roomId, CancellationToken.None);
        if (snapshot is { Mode: RoomMode.Sfu } && runtime.Policy.MayReturnToMesh(snapshot.Members.Count))
        {
            ScheduleReturn(roomId);
        }
    }

    /// <summary>Joined: a join into an SFU room of <paramref name="count"/> restarts its wait to go back to a mesh (or ends it, when the room is no longer small).</summary>
    public void Joined(string roomId, int count)
    {
        lock (_gate)
        {
            if (_returns.Remove(roomId, out var wait))
            {
                wait.Dispose();
            }
        }
        if (runtime.Policy.MayReturnToMesh(count))
        {
            ScheduleReturn(roomId);
        }
    }

    /// <summary>
    /// FailUpAsync: the move of <paramref name="roomId"/> to the SFU failed (Janus lost, or nobody
    /// got anything through it). The room goes back to a mesh if it can, saying so; another try
    /// comes after a backoff.
    /// </summary>
    public async ValueTask<bool> FailUpAsync(string roomId, string reason)
    {
        var hold = availability.Failed(roomId);
        Switch? failed;
        lock (_gate)
        {
            _switches.Remove(roomId, out failed);
        }
        if (failed is not null)
        {
            failed.Deadline.Dispose();
            metrics.Switched(RoomMode.Sfu, "failed", runtime.Time.GetElapsedTime(failed.Started));
        }
        SfuLog.SwitchFailed(runtime.Logger, roomId, reason, hold);
        var change = await runtime.Signals.ChangeModeAsync(roomId, RoomMode.Mesh, reason, CancellationToken.None);
        if (change.Changed)
        {
            Begin(roomId, RoomMode.Mesh, change.Epoch, change.Members ?? []);
        }
        ScheduleRetry(roomId, hold);
        return change.Changed;
    }

    /// <summary>FallBackAsync moves a room that lost its SFU to a mesh, when it is small enough (not a failed move: nothing is held).</summary>
    public async ValueTask<bool> FallBackAsync(string roomId, string reason)
    {
        if (InProgress(roomId, RoomMode.Sfu))
        {
            return await FailUpAsync(roomId, reason);
        }
        var change = await runtime.Signals.ChangeModeAsync(roomId, RoomMode.Mesh, reason, CancellationToken.None);
        if (change.Changed)
        {
            Begin(roomId, RoomMode.Mesh, change.Epoch, change.Members ?? []);
        }
        return change.Changed;
    }

    private void ScheduleReturn(string roomId)
    {
        lock (_gate)
        {
            if (_returns.ContainsKey(roomId) || _switches.ContainsKey(roomId))
            {
                return;
            }
            _returns[roomId] = runtime.Time.CreateTimer(static s =>
            {
                var (switcher, room) = ((RoomSwitcher, string))s!;
                _ = switcher.ReturnAsync(room);
            }, (this, roomId), runtime.Options.MeshReturnDelay, Timeout.InfiniteTimeSpan);
        }
    }

    // ReturnAsync runs when an SFU room has been small for MeshReturnDelay: back to a mesh.
    private async Task ReturnAsync(string roomId)
    {
        lock (_gate)
        {
            if (_returns.Remove(roomId, out var wait))
            {
                wait.Dispose();
            }
            if (_switches.ContainsKey(roomId))
            {
                return;
            }
        }
        var snapshot = await router.GetAsync(roomId, CancellationToken.None);
        if (snapshot is not { Mode: RoomMode.Sfu } || !runtime.Policy.MayReturnToMesh(snapshot.Members.Count))
        {
            return;
        }
        var change = await runtime.Signals.ChangeModeAsync(roomId, RoomMode.Mesh, null, CancellationToken.None);
        if (change.Changed)
        {
            Begin(roomId, RoomMode.Mesh, change.Epoch, change.Members ?? []);
        }
    }

    private void ScheduleRetry(string roomId, TimeSpan after)
    {
        lock (_gate)
        {
            if (_retries.Remove(roomId, out var old))
            {
                old.Dispose();
            }
            _retries[roomId] = runtime.Time.CreateTimer(static s =>
            {
                var (switcher, room) = ((RoomSwitcher, string))s!;
                _ = switcher.RetryAsync(room);
            }, (this, roomId), after + TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        }
    }

    // RetryAsync tries the move to the SFU again once the hold is over, if the room still needs it.
    private async Task RetryAsync(string roomId)
    {
        lock (_gate)
        {
            if (_retries.Remove(roomId, out var timer))
            {
                timer.Dispose();
            }
        }
        var change = await runtime.Signals.ChangeModeAsync(roomId, RoomMode.Sfu, null, CancellationToken.None);
        if (change.Changed)
        {
            Begin(roomId, RoomMode.Sfu, change.Epoch, change.Members ?? []);
            await startRoom(roomId);
        }
        else if (change is { Mode: RoomMode.Mesh } && change.Count > runtime.Policy.MeshLimit)
        {
            // Still too large for its mesh limit, but the SFU cannot take it yet (Janus down): look again later.
            ScheduleRetry(roomId, SfuAvailability.FirstBackoff);
        }
    }

    // CompleteAsync ends a switch: every member learns which old connections to keep.
    private async Task CompleteAsync(string roomId, int epoch, bool deadline)
    {
        Switch s;
        lock (_gate)
        {
            if (!_switches.TryGetValue(roomId, out var found) || found.Epoch != epoch)
            {
                return;
            }
            _switches.Remove(roomId);
            s = found;
        }
        s.Deadline.Dispose();
        var snapshot = await router.GetAsync(roomId, CancellationToken.None);
        if (snapshot is null)
        {
            return;
        }
        var members = snapshot.Members.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        // Those who had the old path: the ones asked to report. Whoever did not report lacks the
        // new path to all of them; a pair keeps its old path when either side lacks the new one.
        var old = s.Missing.Keys.Concat(s.Pending).Where(members.Contains).ToHashSet(StringComparer.Ordinal);
        var settling = new Settling(epoch, s.To, old);
        foreach (var id in old)
        {
            settling.Missing[id] = s.Pending.Contains(id) ? [.. old] : s.Missing[id];
        }
        var keeps = settling.Keeps();
        var closed = new List<string>();
        foreach (var member in members)
        {
            var keep = keeps.TryGetValue(member, out var list) ? list : [];
            if (keep.Count == 0)
            {
                closed.Add(member);
            }
            await runtime.Signals.SwitchDoneAsync(roomId, member, epoch, keep, CancellationToken.None);
        }
        settling.Sent = keeps;
        var pairs = old.Count * (old.Count - 1) / 2;
        var kept = keeps.Values.Sum(k => k.Count) / 2;
        var outcome = kept == 0 ? "complete" : kept < pairs ? "partial" : "failed";
        var took = runtime.Time.GetElapsedTime(s.Started);
        SfuLog.SwitchDone(runtime.Logger, roomId, s.To == RoomMode.Sfu ? "up" : "down", epoch, outcome, took, deadline);
        if (s.To == RoomMode.Sfu && outcome == "failed" && pairs > 0)
        {
            // Nobody got anyone through the media server: it is not working for this room.
            await FailUpAsync(roomId, "The media server could not carry this call, so it continues peer to peer.");
            return;
        }
        metrics.Switched(s.To, outcome, took);
        if (s.To == RoomMode.Sfu)
        {
            availability.Succeeded(roomId);
        }
        if (kept > 0)
        {
            lock (_gate)
            {
                if (!_switches.ContainsKey(roomId))
                {
                    _settling[roomId] = settling;
                }
            }
        }
        if (Completed is { } completed)
        {
            await completed(roomId, s.To, closed);
        }
    }

    // SettleAsync takes a report that comes after its switch ended with pairs kept on the old
    // path: the pairs the reporter now plays on the new path (and whose other side does too)
    // close, and each member whose list of old connections got shorter hears it. False when the
    // report is not one of those.
    private async ValueTask<bool> SettleAsync(string roomId, string participantId, int epoch, IReadOnlyList<string> missing)
    {
        List<(string Member, List<string> Keep)> changed;
        Settling settling;
        lock (_gate)
        {
            if (!_settling.TryGetValue(roomId, out var found) || found.Epoch != epoch || _switches.ContainsKey(roomId))
            {
                return false;
            }
            settling = found;
            if (!settling.Old.Contains(participantId))
            {
                return true;
            }
            settling.Missing[participantId] = [.. missing.Where(settling.Old.Contains)];
            var keeps = settling.Keeps();
            changed = [];
            foreach (var (member, before) in settling.Sent)
            {
                var now = keeps.TryGetValue(member, out var list) ? list : [];
                if (now.Count < before.Count)
                {
                    changed.Add((member, now));
                }
            }
            settling.Sent = keeps;
            if (keeps.Count == 0)
            {
                _settling.Remove(roomId);
            }
        }
        SfuLog.SwitchReady(runtime.Logger, roomId, participantId, epoch, missing.Count, $"after the switch: {changed.Count} members close more old connections");
        foreach (var (member, keep) in changed)
        {
            await runtime.Signals.SwitchDoneAsync(roomId, member, epoch, keep, CancellationToken.None);
        }
        var closed = changed.Where(c => c.Keep.Count == 0).Select(c => c.Member).ToList();
        if (closed.Count > 0 && Completed is { } completed)
        {
            await completed(roomId, settling.To, closed);
        }
        return true;
    }

    private void Drop(string roomId)
    {
        _early.Remove(roomId);
        _settling.Remove(roomId);
        if (_switches.Remove(roomId, out var s))
        {
            s.Deadline.Dispose();
        }
        if (_returns.Remove(roomId, out var wait))
        {
            wait.Dispose();
        }
        if (_retries.Remove(roomId, out var retry))
        {
            retry.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var room in _switches.Keys.Concat(_returns.Keys).Concat(_retries.Keys).ToArray())
            {
                Drop(room);
            }
        }
    }

    /// <summary>
    /// Settling is a switch's end state: who had the old path, whom each of them misses on the new
    /// one, and the old connections each member was last told to keep.
    /// </summary>
    private sealed class Settling(int epoch, RoomMode to, HashSet<string> old)
    {
        public int Epoch { get; } = epoch;

        public RoomMode To { get; } = to;

        public HashSet<string> Old { get; } = old;

        public Dictionary<string, HashSet<string>> Missing { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<string>> Sent { get; set; } = new(StringComparer.Ordinal);

        public void Forget(string participantId)
        {
            Old.Remove(participantId);
            Missing.Remove(participantId);
            Sent.Remove(participantId);
        }

        /// <summary>Keeps gives, per member, the others to whom it keeps its old connection: a pair where either side lacks the new path.</summary>
        public Dictionary<string, List<string>> Keeps()
        {
            var keeps = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var a in Old)
            {
                foreach (var b in Old)
                {
                    if (string.CompareOrdinal(a, b) < 0 && (Lacks(a, b) || Lacks(b, a)))
                    {
                        Add(keeps, a, b);
                        Add(keeps, b, a);
                    }
                }
            }
            return keeps;
        }

        private bool Lacks(string who, string whom) => !Missing.TryGetValue(who, out var missing) || missing.Contains(whom);

        private static void Add(Dictionary<string, List<string>> keeps, string member, string other)
        {
            if (!keeps.TryGetValue(member, out var list))
            {
                keeps[member] = list = [];
            }
            list.Add(other);
        }
    }

    /// <summary>Switch is one switch under way: its epoch, target, start, who has yet to report, and whom each reporter still misses.</summary>
    private sealed record Switch(int Epoch, RoomMode To, long Started, HashSet<string> Pending, ITimer Deadline)
    {
        public Dictionary<string, HashSet<string>> Missing { get; } = new(StringComparer.Ordinal);
    }
}
