namespace Parley.Sfu;

/// <summary>SfuPc names one of a participant's two SFU connections.</summary>
public enum SfuPc
{
    /// <summary>Publish: the browser sends its media to the media server; the browser offers.</summary>
    Publish,

    /// <summary>Subscribe: the media server sends the room's media to the browser; the server offers.</summary>
    Subscribe,
}

/// <summary>SfuVideo is the layer of a participant's video a subscriber gets: the highest, the lowest, or none (paused).</summary>
public enum SfuVideo
{
    High,
    Low,
    Off,
}

/// <summary>SfuTrackInfo says which participant's media one m-line (<paramref name="Mid"/>) of a subscribe connection carries.</summary>
public readonly record struct SfuTrackInfo(string Mid, string ParticipantId, string Kind);

/// <summary>SfuCandidate is a trickled ICE candidate as WebRTC has it (RTCIceCandidateInit).</summary>
public sealed record SfuCandidate(string Candidate, string? SdpMid, int? SdpMLineIndex);

/// <summary>SfuError is why the SFU refused a participant's request: a stable code and words for people.</summary>
public readonly record struct SfuError(string Code, string Message);

/// <summary>SfuErrorCodes are the <c>error.code</c> values the SFU answers with (the same strings as the protocol's).</summary>
public static class SfuErrorCodes
{
    /// <summary>WrongMode: the room is not on the SFU.</summary>
    public const string WrongMode = "wrong-mode";

    /// <summary>Unavailable: no media server is configured, or it is down just now.</summary>
    public const string Unavailable = "sfu-unavailable";

    /// <summary>Failed: the media server refused or failed the request (a bad SDP, a connection in the wrong state).</summary>
    public const string Failed = "sfu-failed";

    /// <summary>BadRequest: the request makes no sense in the connection's state.</summary>
    public const string BadRequest = "bad-request";
}

/// <summary>
/// ISfuSignals is how the SFU talks to participants, without knowing the wire format: the
/// signaling feature turns each call into a protocol message and routes it by participant id.
/// </summary>
public interface ISfuSignals
{
    /// <summary>OfferAsync sends the media server's offer on a participant's subscribe connection.</summary>
    ValueTask OfferAsync(string roomId, string participantId, string sdp, IReadOnlyList<SfuTrackInfo> streams, bool fresh, CancellationToken cancellationToken);

    /// <summary>CandidateAsync sends one of the media server's ICE candidates (null: no more) for one connection.</summary>
    ValueTask CandidateAsync(string roomId, string participantId, SfuPc pc, SfuCandidate? candidate, CancellationToken cancellationToken);

    /// <summary>ClosedAsync tells a participant the media server ended one of its connections.</summary>
    ValueTask ClosedAsync(string roomId, string participantId, SfuPc pc, string reason, CancellationToken cancellationToken);

    /// <summary>StatusAsync tells the whole room the media server was lost (<paramref name="up"/> false) or is back.</summary>
    ValueTask StatusAsync(string roomId, bool up, string? message, CancellationToken cancellationToken);

    /// <summary>
    /// ChangeModeAsync moves the room to <paramref name="mode"/> with a new epoch if the room policy
    /// allows it now, telling everyone (with <paramref name="reason"/> in words, when there is one).
    /// </summary>
    ValueTask<Rooms.ModeChange> ChangeModeAsync(string roomId, Rooms.RoomMode mode, string? reason, CancellationToken cancellationToken);

    /// <summary>SwitchDoneAsync tells a participant the switch of <paramref name="epoch"/> is over: it keeps the old path only to <paramref name="keep"/>.</summary>
    ValueTask SwitchDoneAsync(string roomId, string participantId, int epoch, IReadOnlyList<string> keep, CancellationToken cancellationToken);
}
