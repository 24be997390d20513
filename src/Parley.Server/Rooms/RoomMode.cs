namespace Parley.Rooms;

/// <summary>RoomMode is how a room's media travels.</summary>
public enum RoomMode
{
    /// <summary>Mesh: every browser sends its media to every other one, peer to peer.</summary>
    Mesh,

    /// <summary>Sfu: every browser sends its media once to the media server, which forwards it.</summary>
    Sfu,
}

/// <summary>IMediaServerStatus is what the room policy needs to know of the SFU, whatever drives it.</summary>
public interface IMediaServerStatus
{
    /// <summary>IsConfigured is true when an SFU is set up at all.</summary>
    bool IsConfigured { get; }

    /// <summary>IsUp is true while the SFU can take rooms.</summary>
    bool IsUp { get; }

    /// <summary>IsHeld is true while room <paramref name="roomId"/> may not move to the SFU (its last moves failed: a latch with backoff).</summary>
    bool IsHeld(string roomId);
}

/// <summary>NoMediaServer is the status when no SFU is configured.</summary>
internal sealed class NoMediaServer : IMediaServerStatus
{
    public bool IsConfigured => false;

    public bool IsUp => false;

    public bool IsHeld(string roomId) => false;
}
