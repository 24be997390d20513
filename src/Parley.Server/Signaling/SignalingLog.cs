namespace Parley.Signaling;

/// <summary>SignalingLog is the signaling's structured log. It never logs SDP, candidates or secrets.</summary>
internal static partial class SignalingLog
{
    [LoggerMessage(1, LogLevel.Information, "Peer {PeerId} joined room {Room}")]
    public static partial void Joined(ILogger logger, string room, string peerId);

    [LoggerMessage(2, LogLevel.Information, "Peer {PeerId} left room {Room} ({Why})")]
    public static partial void Left(ILogger logger, string room, string peerId, string why);

    [LoggerMessage(3, LogLevel.Information, "Join to room {Room} ({Count} participants) refused: {Reason}")]
    public static partial void JoinRefused(ILogger logger, string room, int count, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Message rejected with {Code} (peer {PeerId})")]
    public static partial void Rejected(ILogger logger, string code, string? peerId);

    [LoggerMessage(5, LogLevel.Warning, "Closing connection of peer {PeerId}: {Count} rate-limited messages in the abuse window")]
    public static partial void Abusive(ILogger logger, string? peerId, int count);

    [LoggerMessage(6, LogLevel.Warning, "Refused WebSocket from origin {Origin}")]
    public static partial void ForbiddenOrigin(ILogger logger, string origin);

    [LoggerMessage(7, LogLevel.Information, "Closing connection {ConnectionId}: no join within {Timeout}")]
    public static partial void JoinTimeout(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(8, LogLevel.Information, "Closing connection {ConnectionId}: message larger than {MaxBytes} bytes")]
    public static partial void MessageTooBig(ILogger logger, string connectionId, int maxBytes);

    [LoggerMessage(9, LogLevel.Warning, "Dropping connection {ConnectionId}: more than {Limit} messages waiting to be written")]
    public static partial void SlowReader(ILogger logger, string connectionId, int limit);

    [LoggerMessage(10, LogLevel.Information, "Connection {ConnectionId} lost: {Why}")]
    public static partial void Lost(ILogger logger, string connectionId, string why);

    [LoggerMessage(12, LogLevel.Error, "An SFU request of peer {PeerId} failed")]
    public static partial void SfuRequestFailed(ILogger logger, Exception exception, string? peerId);

    [LoggerMessage(13, LogLevel.Information, "Peer {PeerId} of room {Room} lost its connection ({Why}); it may resume for {Left}")]
    public static partial void Away(ILogger logger, string room, string peerId, string why, TimeSpan left);

    [LoggerMessage(14, LogLevel.Information, "Peer {PeerId} resumed in room {Room} ({Replayed} messages replayed)")]
    public static partial void Resumed(ILogger logger, string room, string peerId, long replayed);

    [LoggerMessage(15, LogLevel.Information, "Resume refused: {Reason}")]
    public static partial void ResumeRefused(ILogger logger, string reason);

    [LoggerMessage(11, LogLevel.Error, "Signaling failed on connection {ConnectionId}")]
    public static partial void Failed(ILogger logger, Exception exception, string connectionId);
}
