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

    public int RoomCount => _rooms.Count;

    public JoinStatus Join(string roomId, Participant joiner, JoinFrames frames)
    {
        while (true)
        {
            var room = _rooms.GetOrAdd(roomId, static id => new Room(id));
            var status = room.TryAdd(joiner, _maxParticipants, frames);
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
        if (room is not null && room.Remove(leaver, peerLeft))
        {
            _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
        }
    }

    public bool SendTo(Participant from, string toId, ReadOnlyMemory<byte> frame) =>
        from.Room is { } room && room.SendTo(from, toId, frame);

    public void SetState(Participant from, MediaState state, ReadOnlyMemory<byte> frame) =>
        from.Room?.SetState(from, state, frame);
}
