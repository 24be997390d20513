using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Rooms;
using Parley.Turn;

namespace Parley.Signaling;

// Messages.cs holds one record per message type of protocol v1 (docs/protocol.md). Fields a
// client sends are nullable so that a missing one is reported as bad-request by the session
// with the field's name; `type` is written first and ignored when read.

/// <summary>join, C→S: enter a room; <c>features</c> says what the client can do beyond v1 (<c>sfu</c>).</summary>
public sealed record JoinMessage(int? Version, string? Room, string? Name, IReadOnlyList<string>? Features = null, ResumeInfo? Resume = null)
{
    [JsonPropertyOrder(-1)] public string Type => "join";
}

/// <summary>ResumeInfo, in <c>join</c>: carry on a stay whose connection was lost, from the token and the number of the last message the client got.</summary>
public sealed record ResumeInfo(string? Token, long? Seen);

/// <summary>joined, S→C: the join succeeded.</summary>
public sealed record JoinedMessage(
    string Room,
    PeerInfo Self,
    IReadOnlyList<PeerInfo> Peers,
    IReadOnlyList<IceServer> IceServers,
    string IceTransportPolicy,
    string Mode = "mesh",
    int Epoch = 0,
    IReadOnlyList<ChatInfo>? Chat = null,
    string? Resume = null,
    int? ResumeWindow = null)
{
    [JsonPropertyOrder(-1)] public string Type => "joined";
}

/// <summary>resumed, S→C: the resume succeeded; the messages the client missed follow, in order. <c>resume</c> is the next token.</summary>
public sealed record ResumedMessage(string Room, PeerInfo Self, string Resume, long Replayed)
{
    [JsonPropertyOrder(-1)] public string Type => "resumed";
}

/// <summary>peer-away, S→C: a participant's connection was lost and they may come back (<c>away</c>), or they are back.</summary>
public sealed record PeerAwayMessage(string Id, bool Away)
{
    [JsonPropertyOrder(-1)] public string Type => "peer-away";
}

/// <summary>PeerInfo is a participant as others see it.</summary>
public sealed record PeerInfo(string Id, string Name, StateInfo? State = null)
{
    public static PeerInfo From(PeerSnapshot peer) =>
        new(peer.Id, peer.Name, peer.State is { } s ? StateInfo.From(s) : null);
}

/// <summary>StateInfo is a participant's state as it appears inside <see cref="PeerInfo"/>; <c>handAt</c> only while the hand is up.</summary>
public sealed record StateInfo(bool Audio, bool Video, bool Screen, bool Hand, long? HandAt = null)
{
    public static StateInfo From(PresenceState s) => new(s.Media.Audio, s.Media.Video, s.Media.Screen, s.Hand, s.Hand ? s.HandAt : null);
}

/// <summary>ChatInfo is one message of the room's chat history in <see cref="JoinedMessage"/>.</summary>
public sealed record ChatInfo(string From, string Name, string Text, long Ts)
{
    public static ChatInfo Of(ChatEntry entry) => new(entry.From, entry.Name, entry.Text, entry.Ts);
}

/// <summary>peer-joined, S→C: someone entered the room.</summary>
public sealed record PeerJoinedMessage(PeerInfo Peer)
{
    [JsonPropertyOrder(-1)] public string Type => "peer-joined";
}

/// <summary>peer-left, S→C: someone left the room.</summary>
public sealed record PeerLeftMessage(string Id)
{
    [JsonPropertyOrder(-1)] public string Type => "peer-left";
}

/// <summary>offer, both ways: an SDP offer; the client names <c>to</c>, the server stamps <c>from</c>.</summary>
public sealed record OfferMessage(string? To, string? From, string? Sdp)
{
    [JsonPropertyOrder(-1)] public string Type => "offer";
}

/// <summary>answer, both ways: an SDP answer.</summary>
public sealed record AnswerMessage(string? To, string? From, string? Sdp)
{
    [JsonPropertyOrder(-1)] public string Type => "answer";
}

/// <summary>candidate, both ways: a trickled ICE candidate; <c>candidate: null</c> ends them.</summary>
public sealed record CandidateMessage(
    string? To,
    string? From,
    [property: JsonRequired, JsonIgnore(Condition = JsonIgnoreCondition.Never)] IceCandidate? Candidate)
{
    [JsonPropertyOrder(-1)] public string Type => "candidate";
}

/// <summary>IceCandidate is an RTCIceCandidateInit.</summary>
public sealed record IceCandidate(
    string? Candidate,
    string? SdpMid = null,
    int? SdpMLineIndex = null,
    string? UsernameFragment = null);

/// <summary>
/// state, both ways: what a participant is sending; the server stamps <c>from</c>, and
/// <c>handAt</c> while the hand is up. A client's <c>handAt</c> is ignored, whatever its type.
/// </summary>
public sealed record StateMessage(
    bool? Audio,
    bool? Video,
    bool? Screen,
    bool? Hand,
    string? From = null,
    [property: JsonConverter(typeof(LenientInt64Converter))] long? HandAt = null)
{
    [JsonPropertyOrder(-1)] public string Type => "state";
}

/// <summary>
/// chat, both ways: a text message to the whole room, or with <c>to</c> to one participant. The
/// client sends <c>text</c> (and <c>to</c>); the server stamps <c>from</c>, <c>name</c> and <c>ts</c>
/// (its time, Unix milliseconds).
/// </summary>
public sealed record ChatMessage(string? Text, string? To = null, string? From = null, string? Name = null, long? Ts = null)
{
    [JsonPropertyOrder(-1)] public string Type => "chat";
}

/// <summary>
/// mode, S→C: the room's media now goes peer to peer (<c>mesh</c>) or through the media server
/// (<c>sfu</c>); <c>epoch</c> numbers the room's switches, so a late message of an earlier one is ignored.
/// </summary>
public sealed record ModeMessage(string Mode, int Epoch, string? Reason = null)
{
    [JsonPropertyOrder(-1)] public string Type => "mode";
}

/// <summary>switch-ready, C→S: the client receives everyone on the new path but <c>missing</c> (its deadline passed for them).</summary>
public sealed record SwitchReadyMessage(int? Epoch, IReadOnlyList<string>? Missing = null)
{
    [JsonPropertyOrder(-1)] public string Type => "switch-ready";
}

/// <summary>switch-done, S→C: the switch of <c>epoch</c> is over: close the old path to everyone but <c>keep</c>.</summary>
public sealed record SwitchDoneMessage(int Epoch, IReadOnlyList<string> Keep)
{
    [JsonPropertyOrder(-1)] public string Type => "switch-done";
}

/// <summary>sfu-view, C→S: how large each remote participant's video is shown: the layer to send (<c>high</c>, <c>low</c>) or none (<c>off</c>).</summary>
public sealed record SfuViewMessage(IReadOnlyList<SfuViewInfo>? Streams)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-view";
}

/// <summary>SfuViewInfo is one participant's video as a subscriber shows it.</summary>
public sealed record SfuViewInfo(string? Peer, string? Video);

/// <summary>sfu-restart, C→S: restart ICE on the subscribe connection (the server asks the media server for a restart offer).</summary>
public sealed record SfuRestartMessage(string? Pc, bool? Fresh = null)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-restart";
}

/// <summary>sfu-offer, both ways: an SDP offer on one of the SFU connections (the client's on <c>publish</c>, the server's on <c>subscribe</c>).</summary>
public sealed record SfuOfferMessage(string? Pc, string? Sdp, IReadOnlyList<SfuStreamInfo>? Streams = null, bool? Fresh = null)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-offer";
}

/// <summary>SfuStreamInfo says which participant's media a subscribe connection's m-line (its <c>mid</c>) carries.</summary>
public sealed record SfuStreamInfo(string Mid, string Peer, string Kind);

/// <summary>sfu-answer, both ways: the SDP answer to the other side's <c>sfu-offer</c>.</summary>
public sealed record SfuAnswerMessage(string? Pc, string? Sdp)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-answer";
}

/// <summary>sfu-candidate, both ways: a trickled ICE candidate of an SFU connection; <c>candidate: null</c> ends them.</summary>
public sealed record SfuCandidateMessage(
    string? Pc,
    [property: JsonRequired, JsonIgnore(Condition = JsonIgnoreCondition.Never)] IceCandidate? Candidate)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-candidate";
}

/// <summary>sfu-close, S→C: the media server ended one SFU connection; close it (a new <c>sfu-offer</c> or <c>sfu-status</c> says what follows).</summary>
public sealed record SfuCloseMessage(string Pc, string? Reason = null)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-close";
}

/// <summary>sfu-status, S→C: the media server of an SFU room was lost (<c>down</c>: close the SFU connections) or is back (<c>up</c>: publish again).</summary>
public sealed record SfuStatusMessage(string Status, string? Message = null)
{
    [JsonPropertyOrder(-1)] public string Type => "sfu-status";
}

/// <summary>ice-servers, S→C: fresh <c>iceServers</c> (new TURN credentials) before the old ones expire.</summary>
public sealed record IceServersMessage(IReadOnlyList<IceServer> IceServers)
{
    [JsonPropertyOrder(-1)] public string Type => "ice-servers";
}

/// <summary>leave, C→S: leave the room; the server closes with 1000.</summary>
public sealed record LeaveMessage
{
    [JsonPropertyOrder(-1)] public string Type => "leave";
}

/// <summary>ping, C→S: an application keepalive; once joined, <c>seen</c> is the number of the last message the client got.</summary>
public sealed record PingMessage(long? Seen = null)
{
    [JsonPropertyOrder(-1)] public string Type => "ping";
}

/// <summary>pong, S→C: the answer to ping.</summary>
public sealed record PongMessage
{
    [JsonPropertyOrder(-1)] public string Type => "pong";
}

/// <summary>error, S→C: a request failed; <c>ref</c> is the failed message's <c>id</c>.</summary>
public sealed record ErrorMessage(string Code, string Message, string? Ref = null)
{
    [JsonPropertyOrder(-1)] public string Type => "error";
}

/// <summary>ErrorCodes are the stable, machine-readable <c>error.code</c> values.</summary>
public static class ErrorCodes
{
    public const string BadJson = "bad-json";
    public const string BadRequest = "bad-request";
    public const string UnknownType = "unknown-type";
    public const string NotJoined = "not-joined";
    public const string AlreadyJoined = "already-joined";
    public const string RoomFull = "room-full";
    public const string UnknownPeer = "unknown-peer";
    public const string RateLimited = "rate-limited";
    public const string UnsupportedVersion = "unsupported-version";
    public const string SfuRequired = "sfu-required";
    public const string WrongMode = "wrong-mode";
    public const string SfuUnavailable = "sfu-unavailable";
    public const string SfuFailed = "sfu-failed";
    public const string ResumeFailed = "resume-failed";
    public const string Internal = "internal";
}

/// <summary>CloseCodes are the application's WebSocket close codes (4000–4999).</summary>
public static class CloseCodes
{
    /// <summary>Resumed closes a connection whose stay a newer connection has taken over.</summary>
    public const int Resumed = 4001;
}

/// <summary>
/// LenientInt64Converter is for a field only the server sets: it reads a whole number, and
/// anything else as absent, so a client's value there is ignored like an unknown field's (never a
/// bad-request) while the doc's server examples still round-trip.
/// </summary>
internal sealed class LenientInt64Converter : JsonConverter<long?>
{
    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return value;
        }
        reader.Skip();
        return null;
    }

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>ParleyJsonContext is the source-generated serializer for every wire message.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(JoinMessage))]
[JsonSerializable(typeof(JoinedMessage))]
[JsonSerializable(typeof(ResumedMessage))]
[JsonSerializable(typeof(PeerAwayMessage))]
[JsonSerializable(typeof(PeerJoinedMessage))]
[JsonSerializable(typeof(PeerLeftMessage))]
[JsonSerializable(typeof(OfferMessage))]
[JsonSerializable(typeof(AnswerMessage))]
[JsonSerializable(typeof(CandidateMessage))]
[JsonSerializable(typeof(StateMessage))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ModeMessage))]
[JsonSerializable(typeof(SwitchReadyMessage))]
[JsonSerializable(typeof(SwitchDoneMessage))]
[JsonSerializable(typeof(SfuViewMessage))]
[JsonSerializable(typeof(SfuRestartMessage))]
[JsonSerializable(typeof(SfuOfferMessage))]
[JsonSerializable(typeof(SfuAnswerMessage))]
[JsonSerializable(typeof(SfuCandidateMessage))]
[JsonSerializable(typeof(SfuCloseMessage))]
[JsonSerializable(typeof(SfuStatusMessage))]
[JsonSerializable(typeof(IceServersMessage))]
[JsonSerializable(typeof(LeaveMessage))]
[JsonSerializable(typeof(PingMessage))]
[JsonSerializable(typeof(PongMessage))]
[JsonSerializable(typeof(ErrorMessage))]
public sealed partial class ParleyJsonContext : JsonSerializerContext;
