namespace Parley.Rooms;

/// <summary>
/// Room is the membership of one meeting. One lock guards it; nothing under the lock awaits or
/// blocks: delivering a frame is a non-blocking enqueue into the recipient's outbox.
/// </summary>
public sealed class Room(string id)
{
    private readonly Lock _gate = new();
    private readonly List<Participant> _members = new(capacity: 8);
    private bool _closed;

    public string Id { get; } = id;

    /// <summary>Count is the number of members now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _members.Count;
            }
        }
    }

    /// <summary>
    /// TryAdd adds <paramref name="joiner"/> unless the room is full or already emptied and closed.
    /// <paramref name="frames"/> runs under the lock with the members before the join, so the
    /// joiner's own <c>joined</c> is queued before any message about a later member.
    /// </summary>
    internal JoinStatus TryAdd(Participant joiner, int maxParticipants, JoinFrames frames)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return JoinStatus.Retry;
            }
            if (_members.Count >= maxParticipants)
            {
                return JoinStatus.RoomFull;
            }
            var peers = new PeerSnapshot[_members.Count];
            for (var i = 0; i < peers.Length; i++)
            {
                var m = _members[i];
                peers[i] = new PeerSnapshot(m.Id, m.Name, m.State);
            }
            var (toJoiner, toOthers) = frames(peers);
            joiner.Outbox.Send(toJoiner);
            foreach (var member in _members)
            {
                member.Outbox.Send(toOthers);
            }
            _members.Add(joiner);
            joiner.Room = this;
            return JoinStatus.Joined;
        }
    }

    /// <summary>Remove takes <paramref name="leaver"/> out, tells the others, and says whether the room is now empty (and closed).</summary>
    internal RemoveResult Remove(Participant leaver, ReadOnlyMemory<byte> peerLeft)
    {
        lock (_gate)
        {
            if (!_members.Remove(leaver))
            {
                return RemoveResult.NotMember;
            }
            leaver.Room = null;
            foreach (var member in _members)
            {
                member.Outbox.Send(peerLeft);
            }
            if (_members.Count > 0)
            {
                return RemoveResult.Removed;
            }
            _closed = true;
            return RemoveResult.RemovedLast;
        }
    }

    /// <summary>SendTo delivers <paramref name="frame"/> to the member <paramref name="toId"/>, if <paramref name="from"/> and it are both members.</summary>
    internal bool SendTo(Participant from, string toId, ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            if (from.Room != this)
            {
                return false;
            }
            foreach (var member in _members)
            {
                if (member.Id == toId && member != from)
                {
                    member.Outbox.Send(frame);
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>SetState records <paramref name="from"/>'s media state and tells every other member.</summary>
    internal void SetState(Participant from, MediaState state, ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            if (from.Room != this)
            {
                return;
            }
            from.State = state;
            foreach (var member in _members)
            {
                if (member != from)
                {
                    member.Outbox.Send(frame);
                }
            }
        }
    }
}

/// <summary>JoinFrames serializes, from the members already in the room, the joiner's <c>joined</c> and the others' <c>peer-joined</c>.</summary>
public delegate (ReadOnlyMemory<byte> ToJoiner, ReadOnlyMemory<byte> ToOthers) JoinFrames(IReadOnlyList<PeerSnapshot> peers);

/// <summary>RemoveResult is the outcome of a leave.</summary>
internal enum RemoveResult
{
    NotMember,
    Removed,

    /// <summary>RemovedLast: the room is now empty and closed.</summary>
    RemovedLast,
}

/// <summary>JoinStatus is the outcome of a join.</summary>
public enum JoinStatus
{
    Joined,
    RoomFull,

    /// <summary>Retry: the room emptied and closed while the join was looking it up; look it up again.</summary>
    Retry,
}
