namespace Parley.Rooms;

/// <summary>
/// IRoomRouter is room membership and fan-out behind one interface: in memory for one server
/// (<see cref="LocalRoomRouter"/>), replaceable by a shared one for several servers. It moves
/// opaque frames and knows nothing of sockets or JSON.
/// </summary>
public interface IRoomRouter
{
    /// <summary>Join adds <paramref name="joiner"/> to <paramref name="roomId"/>, creating the room if it does not exist.</summary>
    JoinStatus Join(string roomId, Participant joiner, JoinFrames frames);

    /// <summary>Leave removes <paramref name="leaver"/> from its room, if any, and sends <paramref name="peerLeft"/> to the rest.</summary>
    void Leave(Participant leaver, ReadOnlyMemory<byte> peerLeft);

    /// <summary>SendTo delivers <paramref name="frame"/> to the member <paramref name="toId"/> of the sender's room; false if there is none.</summary>
    bool SendTo(Participant from, string toId, ReadOnlyMemory<byte> frame);

    /// <summary>SetState records a member's media state and sends <paramref name="frame"/> to the rest of its room.</summary>
    void SetState(Participant from, MediaState state, ReadOnlyMemory<byte> frame);

    /// <summary>RoomCount is the number of rooms that have members.</summary>
    int RoomCount { get; }

    /// <summary>ParticipantCount is the number of participants in all rooms.</summary>
    int ParticipantCount { get; }
}
