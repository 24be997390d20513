namespace Parley.Rooms;

/// <summary>
/// IRoomRouter is room membership and fan-out behind one interface: in memory for one server
/// (<see cref="LocalRoomRouter"/>), replaceable by a shared one for several servers. It addresses
/// participants by id, moves opaque frames and knows nothing of sockets or JSON. Frames to one
/// participant arrive in the order the router accepted them.
/// </summary>
public interface IRoomRouter
{
    /// <summary>
    /// JoinAsync adds <paramref name="joiner"/> to <paramref name="roomId"/> (creating the room),
    /// if <see cref="RoomPolicy"/> admits it, and sends the frames <paramref name="frames"/> makes:
    /// the joiner's first, then the mode change (if the join moved the room) and the
    /// announcement to the others, before anything about a later member.
    /// </summary>
    ValueTask<JoinResult> JoinAsync(string roomId, Participant joiner, JoinFrames frames, CancellationToken cancellationToken);

    /// <summary>LeaveAsync removes the participant, if a member, and sends <paramref name="peerLeft"/> to the rest.</summary>
    ValueTask<LeaveResult> LeaveAsync(string roomId, string participantId, ReadOnlyMemory<byte> peerLeft, CancellationToken cancellationToken);

    /// <summary>
    /// SendAsync delivers <paramref name="frame"/> to member <paramref name="toId"/>. With
    /// <paramref name="fromId"/> (a relay) the sender must be another member of the same room.
    /// False when there is no such recipient (or sender).
    /// </summary>
    ValueTask<bool> SendAsync(string roomId, string toId, ReadOnlyMemory<byte> frame, string? fromId, CancellationToken cancellationToken);

    /// <summary>BroadcastAsync delivers <paramref name="frame"/> to every member but <paramref name="exceptId"/>.</summary>
    ValueTask BroadcastAsync(string roomId, ReadOnlyMemory<byte> frame, string? exceptId, CancellationToken cancellationToken);

    /// <summary>SetStateAsync records a member's state and sends <paramref name="frame"/> to the rest; false if not a member.</summary>
    ValueTask<bool> SetStateAsync(string roomId, string participantId, PresenceState state, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>
    /// ChatAsync delivers <paramref name="frame"/>, the chat message <paramref name="entry"/> of
    /// member <c>entry.From</c>. Without <paramref name="toId"/> it goes to every member, the sender
    /// included, and into the room's history, which later joiners get in <see cref="JoinContext.Chat"/>;
    /// with it, only to that other member and back to the sender, and it is not kept. False when the
    /// sender is not a member or <paramref name="toId"/> names no other member.
    /// </summary>
    ValueTask<bool> ChatAsync(string roomId, ChatEntry entry, string? toId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>
    /// ChangeModeAsync moves a room to <paramref name="mode"/> if <see cref="RoomPolicy"/> allows it
    /// for the room as it is now (its size, its members' clients, the SFU), with a new epoch, and
    /// then sends every member the frame <paramref name="frame"/> makes for that epoch.
    /// </summary>
    ValueTask<ModeChange> ChangeModeAsync(string roomId, RoomMode mode, ModeFrame frame, CancellationToken cancellationToken);

    /// <summary>GetAsync returns the room's members and mode now, or null when the room does not exist.</summary>
    ValueTask<RoomSnapshot?> GetAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>RoomCount is the number of rooms that have members.</summary>
    int RoomCount { get; }

    /// <summary>ParticipantCount is the number of participants in all rooms.</summary>
    int ParticipantCount { get; }

    /// <summary>CountRooms is the number of rooms in <paramref name="mode"/>.</summary>
    int CountRooms(RoomMode mode);
}

/// <summary>
/// JoinContext is what the join's frames are made from: the members before the join, the room's
/// mode and epoch after it, and its chat history, oldest first.
/// </summary>
public readonly record struct JoinContext(IReadOnlyList<PeerSnapshot> Peers, RoomMode Mode, bool Switched, int Epoch, IReadOnlyList<ChatEntry> Chat);

/// <summary>ModeFrame serializes the mode-change message for the room's new epoch.</summary>
public delegate ReadOnlyMemory<byte> ModeFrame(RoomMode mode, int epoch);

/// <summary>JoinFrameSet: the joiner's <c>joined</c>, the others' <c>peer-joined</c>, and (when the join moved the room) the mode change the others get first.</summary>
public readonly record struct JoinFrameSet(ReadOnlyMemory<byte> ToJoiner, ReadOnlyMemory<byte> ToOthers, ReadOnlyMemory<byte> ModeChanged);

/// <summary>JoinFrames serializes a join's frames once the room has decided it.</summary>
public delegate JoinFrameSet JoinFrames(in JoinContext context);

/// <summary>JoinResult is the outcome of a join: on success the room's mode and epoch, whether the join moved it, and its size after.</summary>
public readonly record struct JoinResult(JoinStatus Status, RoomMode Mode, bool Switched, int Count, string? Reason, int Epoch = 0);

/// <summary>LeaveResult is the outcome of a leave: whether it was a member, the mode the room was in, and who is left.</summary>
public readonly record struct LeaveResult(bool WasMember, RoomMode Mode, int Remaining);

/// <summary>ModeChange is the outcome of a mode change: whether it happened, the room's mode, size and epoch now, and its members.</summary>
public readonly record struct ModeChange(bool Changed, RoomMode Mode, int Count, int Epoch = 0, IReadOnlyList<string>? Members = null);

/// <summary>RoomSnapshot is a room as it is now.</summary>
public sealed record RoomSnapshot(string Id, RoomMode Mode, IReadOnlyList<PeerSnapshot> Members, int Epoch = 0);
