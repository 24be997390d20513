namespace Parley.Sfu.Janus;

/// <summary>JanusLog is the Janus client's structured log (event ids 300-399). It never logs SDP,
/// candidates or the api secret: only message types, ids, codes and Janus's reasons.</summary>
internal static partial class JanusLog
{
    [LoggerMessage(300, LogLevel.Information, "Janus session {SessionId} created on {Url} (Janus {Version})")]
    public static partial void Connected(ILogger logger, long sessionId, Uri url, string version);

    [LoggerMessage(301, LogLevel.Information, "Janus session {SessionId} ended: {Reason}")]
    public static partial void Ended(ILogger logger, long sessionId, string reason);

    [LoggerMessage(302, LogLevel.Warning, "Janus request {Request} got no answer within {Timeout}")]
    public static partial void RequestTimedOut(ILogger logger, string request, TimeSpan timeout);

    [LoggerMessage(303, LogLevel.Debug, "Ignored Janus message of unknown type {Type}")]
    public static partial void UnknownMessage(ILogger logger, string type);

    [LoggerMessage(304, LogLevel.Debug, "Ignored a late Janus {Type} for transaction {Transaction}")]
    public static partial void LateAnswer(ILogger logger, string type, string transaction);

    [LoggerMessage(305, LogLevel.Debug, "Ignored Janus {Type} for unknown handle {HandleId}")]
    public static partial void UnknownHandle(ILogger logger, string type, long handleId);

    [LoggerMessage(306, LogLevel.Warning, "Ignored a malformed message from Janus: {Problem}")]
    public static partial void Malformed(ILogger logger, string problem);

    [LoggerMessage(307, LogLevel.Error, "An event handler of Janus handle {HandleId} threw on a {Kind} event")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, long handleId, JanusEventKind kind);

    [LoggerMessage(308, LogLevel.Warning, "Dropped a {Kind} event for Janus handle {HandleId}: {Limit} events wait for its OnEvent")]
    public static partial void EventBufferFull(ILogger logger, JanusEventKind kind, long handleId, int limit);

    [LoggerMessage(309, LogLevel.Error, "The Janus observer threw on {Request}")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string request);

    [LoggerMessage(310, LogLevel.Debug, "Janus session {SessionId}: destroy on dispose failed ({Why})")]
    public static partial void DestroyFailed(ILogger logger, long sessionId, string why);

    [LoggerMessage(311, LogLevel.Warning, "Could not connect to Janus at {Url}: {Why}; retrying in {Delay}")]
    public static partial void ConnectFailed(ILogger logger, Uri url, string why, TimeSpan delay);

    [LoggerMessage(312, LogLevel.Information, "Janus is up: session {SessionId}")]
    public static partial void Up(ILogger logger, long sessionId);

    [LoggerMessage(313, LogLevel.Warning, "Janus is down ({Reason}); reconnecting in {Delay}")]
    public static partial void Down(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(314, LogLevel.Error, "A Janus gateway {Event} handler threw")]
    public static partial void GatewayHandlerFailed(ILogger logger, Exception exception, string @event);

    [LoggerMessage(315, LogLevel.Information, "Janus gateway stopped")]
    public static partial void Stopped(ILogger logger);
}
