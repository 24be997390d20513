using System.Security.Cryptography;

namespace Parley.Rooms;

/// <summary>
/// IPeerOutbox delivers opaque, already-serialized frames to one participant. Send never blocks
/// and never throws: a participant whose queue is full is dropped by its transport.
/// </summary>
public interface IPeerOutbox
{
    void Send(ReadOnlyMemory<byte> frame);
}

/// <summary>MediaState is what a participant says it is sending: microphone, camera, screen and a raised hand.</summary>
public readonly record struct MediaState(bool Audio, bool Video, bool Screen, bool Hand);

/// <summary>Participant is one member of one room. Its mutable state changes only under its room's lock.</summary>
public sealed class Participant(string id, string name, IPeerOutbox outbox)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    public IPeerOutbox Outbox { get; } = outbox;

    /// <summary>State is null until the participant first sends one.</summary>
    public MediaState? State { get; internal set; }

    /// <summary>Room is the room the participant is in, or null before its join and after its leave.</summary>
    public Room? Room { get; internal set; }

    /// <summary>NewId makes a peer id: 128 random bits, base64url, so ids are unguessable and never reused.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return "p_" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}

/// <summary>PeerSnapshot is a participant as others see it, copied under the room's lock.</summary>
public readonly record struct PeerSnapshot(string Id, string Name, MediaState? State);
