using System.Text.Json;

namespace Parley.Sfu.Janus;

/// <summary>Jsep is a session description as Janus carries it; Type is "offer" or "answer".</summary>
internal sealed record Jsep(string Type, string Sdp)
{
    // Jsep.Sdp is never part of the record's text, so a logged or printed record leaks no SDP.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Type = ").Append(Type).Append(", Sdp = (").Append(Sdp.Length).Append(" chars)");
        return true;
    }
}

/// <summary>JanusReply is a plugin request's final answer: the sync <c>success</c> or the async
/// <c>event</c> of the same transaction. Data is <c>plugindata.data</c>; Jsep is set when Janus sent one.</summary>
internal sealed record JanusReply(JsonElement Data, Jsep? Jsep);

/// <summary>JanusEventKind is the <c>janus</c> type of an event Janus sent on a handle.</summary>
internal enum JanusEventKind
{
    Plugin,
    WebrtcUp,
    Media,
    SlowLink,
    Hangup,
    Trickle,
    Detached,
}

/// <summary>
/// JanusEvent is something Janus sent on a handle without a pending transaction of ours. Message is the
/// whole message; Data is <c>plugindata.data</c> for Plugin events; Jsep is set when Janus sent one. A
/// Trickle's Message has <c>candidate</c>: <c>{sdpMid,sdpMLineIndex,candidate}</c> or <c>{completed:true}</c>.
/// </summary>
internal sealed record JanusEvent(JanusEventKind Kind, JsonElement Message, JsonElement? Data, Jsep? Jsep)
{
    // JanusEvent's text names the kind only: Message may hold an SDP or a candidate.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Kind = ").Append(Kind).Append(", Jsep = ").Append(Jsep);
        return true;
    }
}

/// <summary>IJanusObserver gets every request's outcome, for metrics.</summary>
internal interface IJanusObserver
{
    /// <summary>RequestCompleted reports one request: errorCode is null on success, Janus's code on an
    /// error, 408 on a timeout and 503 when the connection was down or lost. A request the caller
    /// cancelled is not reported.</summary>
    void RequestCompleted(string request, TimeSpan elapsed, int? errorCode);
}
