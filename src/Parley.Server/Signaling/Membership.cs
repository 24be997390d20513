using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.Rooms;

namespace Parley.Signaling;

/// <summary>
/// Membership is one participant's stay in one room, which outlives a lost connection: the
/// session of the participant's connection of the moment owns it, and none does while the
/// participant is away. A later connection that brings the resume token takes it over, from a
/// session that is gone or from one whose connection is half-dead. Its lock arbitrates who owns
/// it; nothing under it awaits.
/// </summary>
internal sealed class Membership(string roomId, Participant self, ResumeStream stream, SignalingSession owner, long lastHeard)
{
    public Lock Gate { get; } = new();

    public string RoomId { get; } = roomId;

    public Participant Self { get; } = self;

    public ResumeStream Stream { get; } = stream;

    /// <summary>Token is the resume token in force; each resume replaces it, so a token works once.</summary>
    public string Token { get; set; } = "";

    /// <summary>Owner is the session in charge, null while the participant is away.</summary>
    public SignalingSession? Owner { get; set; } = owner;

    /// <summary>LastHeard is when the server last heard from the participant (a timestamp of the session's TimeProvider).</summary>
    public long LastHeard { get; set; } = lastHeard;

    /// <summary>HandAt is when the participant's hand went up (Unix ms), null while it is down.</summary>
    public long? HandAt { get; set; }

    /// <summary>Expiry ends the stay when the participant stays away past the resume window.</summary>
    public ITimer? Expiry { get; set; }

    /// <summary>Gone is true once the participant has left the room: the membership is over for good.</summary>
    public bool Gone { get; set; }
}

/// <summary>
/// ResumeTokens finds a membership by its resume token. A token is 128 random bits, made by the
/// server and given only to the participant, in <c>joined</c> and <c>resumed</c>.
/// </summary>
internal sealed class ResumeTokens
{
    private readonly ConcurrentDictionary<string, Membership> _byToken = new(StringComparer.Ordinal);

    public int Count => _byToken.Count;

    /// <summary>NewToken makes a token: <c>r_</c> and 128 random bits, base64url.</summary>
    public static string NewToken()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return "r_" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public void Add(Membership membership) => _byToken[membership.Token] = membership;

    public Membership? Find(string token) => _byToken.TryGetValue(token, out var m) ? m : null;

    public void Remove(Membership membership) => _byToken.TryRemove(new KeyValuePair<string, Membership>(membership.Token, membership));
}
