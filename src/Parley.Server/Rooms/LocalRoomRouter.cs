using System.Collections.Concurrent;

namespace Parley.Rooms;

/// <summary>
/// LocalRoomRouter keeps rooms in this process. A room exists while someone is in it: the last
/// leave closes it and removes it, and a join that races with that removal looks the room up
/// again. Every call completes synchronously.
/// </summary>
public sealed class LocalRoomRouter(RoomPolicy policy) : IRoomRouter
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private int _participants;

    public int RoomCount => _rooms.Count;

    public int ParticipantCount => Volatile.Read(ref _participants);

    public int CountRooms(RoomMode mode)
    {
        var n = 0;
        foreach (var room in _rooms.Values)
        {
            if (room.Mode == mode)
            {
                n++;
            }
        }
        return n;
    }

    public ValueTask<JoinResult> JoinAsync(string roomId, Participant joiner, JoinFrames frames, CancellationToken cancellationToken)
    {
        while (true)
        {
            var room = _rooms.GetOrAdd(roomId, static id => new Room(id));
            if (room.TryAdd(joiner, policy, frames) is { } result)
            {
                // A refused join never meets an empty room: the policy admits anyone into one.
                if (result.Status == JoinStatus.Joined)
                {
                    Interlocked.Increment(ref _participants);
                }
                return new ValueTask<JoinResult>(result);
            }
            _rooms.TryRemove(new KeyValuePair<string, Room>(roomId, room));
        }
    }

    public ValueTask<LeaveResult> LeaveAsync(string roomId, string participantId, ReadOnlyMemory<byte> peerLeft, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            return new ValueTask<LeaveResult>(default(LeaveResult));
        }
        var result = room.Remove(participantId, peerLeft, out var emptied);
        if (result.WasMember)
        {
            Interlocked.Decrement(ref _participants);
        }
        if (emptied)
        {
            _rooms.TryRemove(new KeyValuePair<string, Room>(roomId, room));
        }
        return new ValueTask<LeaveResult>(result);
    }

    public ValueTask<bool> SendAsync(string roomId, string toId, ReadOnlyMemory<byte> frame, string? fromId, CancellationToken cancellationToken) =>
        new(_rooms.TryGetValue(roomId, out var room) && room.SendTo(toId, frame, fromId));

    public ValueTask BroadcastAsync(string roomId, ReadOnlyMemory<byte> frame, string? exceptId, CancellationToken cancellationToken)
    {
        if (_rooms.TryGetValue(roomId, out var room))
        {
            room.Broadcast(frame, exceptId);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> SetStateAsync(string roomId, string participantId, PresenceState state, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        new(_rooms.TryGetValue(roomId, out var room) && room.SetState(participantId, state, frame));

    public ValueTask<bool> ChatAsync(string roomId, ChatEntry entry, string? toId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        new(_rooms.TryGetValue(roomId, out var room) && room.Chat(entry, toId, frame));

    public ValueTask<ModeChange> ChangeModeAsync(string roomId, RoomMode mode, ModeFrame frame, CancellationToken cancellationToken) =>
        new(_rooms.TryGetValue(roomId, out var room) ? room.ChangeMode(mode, policy, frame) : default);

    public ValueTask<RoomSnapshot?> GetAsync(string roomId, CancellationToken cancellationToken) =>
        new(_rooms.TryGetValue(roomId, out var room) ? room.Snapshot() : null);
}
