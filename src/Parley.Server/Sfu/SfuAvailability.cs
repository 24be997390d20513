using System.Collections.Concurrent;
using Parley.Rooms;

namespace Parley.Sfu;

/// <summary>
/// SfuAvailability tells the room policy whether the SFU can take a room: Janus is up, and the
/// room is not held on a mesh because its last moves to the SFU failed (a latch that backs off,
/// so a failing move is never retried in a tight loop).
/// </summary>
internal sealed class SfuAvailability(JanusConnection connection, TimeProvider time) : IMediaServerStatus
{
    /// <summary>LatchAfter is the number of failed moves in a row after which a room is held for <see cref="LatchFor"/>.</summary>
    public const int LatchAfter = 3;

    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan LatchFor = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset Until)> _holds = new(StringComparer.Ordinal);

    public bool IsConfigured => connection.IsConfigured;

    public bool IsUp => connection.IsUp;

    public bool IsHeld(string roomId) => _holds.TryGetValue(roomId, out var hold) && hold.Until > time.GetUtcNow();

    /// <summary>Failed records a failed move of <paramref name="roomId"/> and returns how long it is held: 5 s, 10 s, then 5 min.</summary>
    public TimeSpan Failed(string roomId)
    {
        var failures = _holds.TryGetValue(roomId, out var hold) ? hold.Failures + 1 : 1;
        var wait = failures >= LatchAfter ? LatchFor : FirstBackoff * (1 << (failures - 1));
        _holds[roomId] = (failures, time.GetUtcNow() + wait);
        return wait;
    }

    /// <summary>Succeeded forgets a room's failures; Forget drops a room that emptied.</summary>
    public void Succeeded(string roomId) => _holds.TryRemove(roomId, out _);

    public void Forget(string roomId) => _holds.TryRemove(roomId, out _);
}
