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

/// <summary>MediaState is what a participant says it is sending: microphone, camera and screen.</summary>
public readonly record struct MediaState(bool Audio, bool Video, bool Screen);

/// <summary>
/// PresenceState is a participant's state as others see it: their media and a raised hand.
/// <c>HandAt</c> is when the hand went up (server time, Unix milliseconds), so that clients can
/// list raised hands in order; it is null while the hand is down.
/// </summary>
public readonly record struct PresenceState(MediaState Media, bool Hand, long? HandAt = null);

/// <summary>
/// Participant is one member of one room, as the router knows it: who it is, what its client can
/// do, and where its frames go. Its room and outbox are the router's business: only the router
/// delivers to it.
/// </summary>
public sealed class Participant(string id, string name, IPeerOutbox outbox, bool supportsSfu = false)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>SupportsSfu is true when the client can send and receive media through the SFU.</summary>
    public bool SupportsSfu { get; } = supportsSfu;

    internal IPeerOutbox Outbox { get; } = outbox;

    /// <summary>State is null until the participant first sends one; it changes only under its room's lock.</summary>
    internal PresenceState? State { get; set; }

    /// <summary>NewId makes a peer id: 128 random bits, base64url, so ids are unguessable and never reused.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return "p_" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}

/// <summary>
/// ChatEntry is one chat message as the room knows it: who sent it (id and joined name), its text
/// and when the server received it (Unix milliseconds).
/// </summary>
public sealed record ChatEntry(string From, string Name, string Text, long Ts);

/// <summary>PeerSnapshot is a participant as others see it, copied under the room's lock.</summary>
public readonly record struct PeerSnapshot(string Id, string Name, PresenceState? State);
