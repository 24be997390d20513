using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Parley.Rooms;

/// <summary>
/// LocalRoomRouter keeps rooms in this process. A room exists while someone is in it: the last
/// leave closes it and removes it, and a join that races with that removal looks the room up again.
/// </summary>
public sealed class LocalRoomRouter(IOptions<ParleyOptions> options) : IRoomRouter
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly int _maxParticipants = options.Value.MaxParticipants;
    private int _participants;

    public int RoomCount => _rooms.Count;

    public int ParticipantCount => Volatile.Read(ref _participants);

    public JoinStatus Join(string roomId, Participant joiner, JoinFrames frames)
    {
        while (true)
        {
            var room = _rooms.GetOrAdd(roomId, static id => new Room(id));
            var status = room.TryAdd(joiner, _maxParticipants, frames);
            if (status == JoinStatus.Joined)
            {
                Interlocked.Increment(ref _participants);
            }
            if (status != JoinStatus.Retry)
            {
                return status;
            }
            _rooms.TryRemove(new KeyValuePair<string, Room>(roomId, room));
        }
    }

    public void Leave(Participant leaver, ReadOnlyMemory<byte> peerLeft)
    {
        var room = leaver.Room;
        if (room is null)
        {
            return;
        }
        var result = room.Remove(leaver, peerLeft);
        if (result != RemoveResult.NotMember)
        {
            Interlocked.Decrement(ref _participants);
        }
        if (result == RemoveResult.RemovedLast)
        {
            _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
        }
    }

    public bool SendTo(Participant from, string toId, ReadOnlyMemory<byte> frame) =>
        from.Room is { } room && room.SendTo(from, toId, frame);

    public void SetState(Participant from, MediaState state, ReadOnlyMemory<byte> frame) =>
        from.Room?.SetState(from, state, frame);
}
