using System.Text;

namespace Parley.Rooms;

/// <summary>
/// Room is the membership, mode and chat history of one meeting. One lock guards it; nothing under the lock
/// awaits or blocks: delivering a frame is a non-blocking enqueue into the recipient's outbox,
/// and the frames are serialized before the lock is taken (or, for a join, by a delegate that
/// only formats the snapshot it is given).
/// </summary>
internal sealed class Room(string id)
{
    /// <summary>ChatHistoryMessages is the most room-wide chat messages a room keeps for later joiners.</summary>
    public const int ChatHistoryMessages = 100;

    /// <summary>ChatHistoryBytes bounds the kept messages' text (UTF-8 bytes): with 2000-character messages of 4-byte characters, 32 of them.</summary>
    public const int ChatHistoryBytes = 256 * 1024;

    private readonly Lock _gate = new();
    private readonly List<Participant> _members = new(capacity: 8);
    // _chat is the room-wide chat, oldest first, with each text's UTF-8 size; it lives as long as the room.
    private readonly Queue<(ChatEntry Entry, int Bytes)> _chat = new();
    private int _chatBytes;
    private RoomMode _mode = RoomMode.Mesh;
    // _epoch counts the room's mode changes: every switch message carries it, so a late one from an earlier switch is ignored.
    private int _epoch;
    private bool _closed;

    public string Id { get; } = id;

    public RoomMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _mode;
            }
        }
    }

    /// <summary>
    /// TryAdd adds <paramref name="joiner"/> if <paramref name="policy"/> admits it; null when the
    /// room has already emptied and closed (the caller looks the room up again). The joiner's
    /// <c>joined</c> is queued before any message about a later member.
    /// </summary>
    public JoinResult? TryAdd(Participant joiner, RoomPolicy policy, JoinFrames frames)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return null;
            }
            var membersSupportSfu = true;
            foreach (var m in _members)
            {
                membersSupportSfu &= m.SupportsSfu;
            }
            var decision = policy.Admit(Id, _mode, _members.Count, joiner.SupportsSfu, membersSupportSfu);
            if (decision.Status != JoinStatus.Joined)
            {
                return new JoinResult(decision.Status, _mode, false, _members.Count, decision.Reason);
            }
            _mode = decision.Mode;
            if (decision.Switched)
            {
                _epoch++;
            }
            var set = frames(new JoinContext(SnapshotMembers(), _mode, decision.Switched, _epoch, SnapshotChat()));
            joiner.Outbox.Send(set.ToJoiner);
            foreach (var member in _members)
            {
                if (decision.Switched)
                {
                    member.Outbox.Send(set.ModeChanged);
                }
                member.Outbox.Send(set.ToOthers);
            }
            _members.Add(joiner);
            return new JoinResult(JoinStatus.Joined, _mode, decision.Switched, _members.Count, null, _epoch);
        }
    }

    /// <summary>Remove takes the participant out and tells the others; an emptied room closes for good.</summary>
    public LeaveResult Remove(string participantId, ReadOnlyMemory<byte> peerLeft, out bool emptied)
    {
        lock (_gate)
        {
            emptied = false;
            var index = IndexOf(participantId);
            if (index < 0)
            {
                return new LeaveResult(false, _mode, _members.Count);
            }
            _members.RemoveAt(index);
            foreach (var member in _members)
            {
                member.Outbox.Send(peerLeft);
            }
            var mode = _mode;
            if (_members.Count == 0)
            {
                _closed = true;
                emptied = true;
            }
            return new LeaveResult(true, mode, _members.Count);
        }
    }

    /// <summary>SendTo delivers <paramref name="frame"/> to member <paramref name="toId"/>; with a sender, only from another member.</summary>
    public bool SendTo(string toId, ReadOnlyMemory<byte> frame, string? fromId)
    {
        lock (_gate)
        {
            Participant? to = null;
            var fromFound = fromId is null;
            foreach (var member in _members)
            {
                if (member.Id == toId)
                {
                    to = member;
                }
                else if (!fromFound && member.Id == fromId)
                {
                    fromFound = true;
                }
            }
            if (to is null || !fromFound)
            {
                return false;
            }
            to.Outbox.Send(frame);
            return true;
        }
    }

    /// <summary>Broadcast delivers <paramref name="frame"/> to every member but <paramref name="exceptId"/>.</summary>
    public void Broadcast(ReadOnlyMemory<byte> frame, string? exceptId)
    {
        lock (_gate)
        {
            foreach (var member in _members)
            {
                if (member.Id != exceptId)
                {
                    member.Outbox.Send(frame);
                }
            }
        }
    }

    /// <summary>SetState records a member's state and tells every other member.</summary>
    public bool SetState(string participantId, PresenceState state, ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            var index = IndexOf(participantId);
            if (index < 0)
            {
                return false;
            }
            var from = _members[index];
            from.State = state;
            foreach (var member in _members)
            {
                if (member != from)
                {
                    member.Outbox.Send(frame);
                }
            }
            return true;
        }
    }

    /// <summary>
    /// Chat delivers a chat message of member <c>entry.From</c>: to everyone, the sender included,
    /// keeping it in the history; or, with <paramref name="toId"/>, to that other member and the
    /// sender only. False when the sender is not a member or <paramref name="toId"/> names no other member.
    /// </summary>
    public bool Chat(ChatEntry entry, string? toId, ReadOnlyMemory<byte> frame)
    {
        var bytes = toId is null ? Encoding.UTF8.GetByteCount(entry.Text) : 0;
        lock (_gate)
        {
            var from = IndexOf(entry.From);
            if (from < 0)
            {
                return false;
            }
            if (toId is not null)
            {
                var to = IndexOf(toId);
                if (to < 0 || to == from)
                {
                    return false;
                }
                _members[to].Outbox.Send(frame);
                _members[from].Outbox.Send(frame);
                return true;
            }
            _chat.Enqueue((entry, bytes));
            _chatBytes += bytes;
            while (_chat.Count > ChatHistoryMessages || _chatBytes > ChatHistoryBytes)
            {
                _chatBytes -= _chat.Dequeue().Bytes;
            }
            foreach (var member in _members)
            {
                member.Outbox.Send(frame);
            }
            return true;
        }
    }

    /// <summary>ChangeMode moves the room to <paramref name="mode"/> with a new epoch when the policy allows it as the room is now, and tells everyone.</summary>
    public ModeChange ChangeMode(RoomMode mode, RoomPolicy policy, ModeFrame frame)
    {
        lock (_gate)
        {
            var allowed = mode == RoomMode.Mesh
                ? policy.MayFallBackToMesh(_members.Count)
                : policy.MaySwitchUp(Id, _members.Count, _members.TrueForAll(static m => m.SupportsSfu));
            if (_closed || _mode == mode || !allowed)
            {
                return new ModeChange(false, _mode, _members.Count, _epoch);
            }
            _mode = mode;
            _epoch++;
            var bytes = frame(mode, _epoch);
            var members = new string[_members.Count];
            for (var i = 0; i < members.Length; i++)
            {
                members[i] = _members[i].Id;
                _members[i].Outbox.Send(bytes);
            }
            return new ModeChange(true, _mode, _members.Count, _epoch, members);
        }
    }

    public RoomSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new RoomSnapshot(Id, _mode, SnapshotMembers(), _epoch);
        }
    }

    private PeerSnapshot[] SnapshotMembers()
    {
        var peers = new PeerSnapshot[_members.Count];
        for (var i = 0; i < peers.Length; i++)
        {
            var m = _members[i];
            peers[i] = new PeerSnapshot(m.Id, m.Name, m.State);
        }
        return peers;
    }

    private ChatEntry[] SnapshotChat()
    {
        if (_chat.Count == 0)
        {
            return [];
        }
        var entries = new ChatEntry[_chat.Count];
        var i = 0;
        foreach (var (entry, _) in _chat)
        {
            entries[i++] = entry;
        }
        return entries;
    }

    private int IndexOf(string participantId)
    {
        for (var i = 0; i < _members.Count; i++)
        {
            if (_members[i].Id == participantId)
            {
                return i;
            }
        }
        return -1;
    }
}
