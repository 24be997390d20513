using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Parley.Signaling;

/// <summary>
/// SignalingOptions are the signaling server's limits, bound from the <c>Parley</c> section and
/// validated at start. docs/configuration.md lists them all.
/// </summary>
public sealed class SignalingOptions
{
    public const string SectionName = "Parley";

    /// <summary>Largest accepted WebSocket message in bytes; a larger one closes the socket with 1009. Default 64 KiB.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Time from the upgrade to a successful <c>join</c>; after it the socket is closed with 1008. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Participants per room in a mesh (every browser sends to every other); one more gets
    /// <c>room-full</c>. Default 6, what a mesh of browsers carries well. With an SFU
    /// (<c>Parley:Sfu</c>) a room moves to it past <c>Parley:Sfu:MeshMax</c> instead.
    /// </summary>
    [Range(1, 1000)]
    public int MaxParticipants { get; set; } = 6;

    /// <summary>Sustained messages per second a connection may send (the token bucket's refill rate). Default 50.</summary>
    [Range(1, 1_000_000)]
    public int MessagesPerSecond { get; set; } = 50;

    /// <summary>Messages a connection may send in a burst (the token bucket's size). Default 200.</summary>
    [Range(1, 1_000_000)]
    public int MessageBurst { get; set; } = 200;

    /// <summary>Sustained chat messages per second a connection may send, on top of <see cref="MessagesPerSecond"/> (the chat bucket's refill rate). Default 1.</summary>
    [Range(1, 1_000_000)]
    public int ChatMessagesPerSecond { get; set; } = 1;

    /// <summary>Chat messages a connection may send in a burst (the chat bucket's size). Default 5.</summary>
    [Range(1, 1_000_000)]
    public int ChatBurst { get; set; } = 5;

    /// <summary>Rate-limited messages within <see cref="AbuseWindow"/> after which the socket is closed with 1008. Default 100.</summary>
    [Range(1, 1_000_000)]
    public int AbuseThreshold { get; set; } = 100;

    /// <summary>The window over which rate-limited messages are counted towards <see cref="AbuseThreshold"/>. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AbuseWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Idle time after which the server sends a WebSocket ping. Default 15 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Time a ping may go unanswered before the connection counts as dead and leaves. Default 30 s, so a dead peer is gone within 45 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Messages waiting to be written to one connection; a reader that falls further behind is dropped. Default 256.</summary>
    [Range(1, 100_000)]
    public int OutboundQueueLimit { get; set; } = 256;

    /// <summary>Time one write to a socket may take before the connection is dropped. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a participant whose connection is lost (not closed) stays in the room, counted from
    /// when the server last heard from them: a new connection with their resume token carries on
    /// within it. 0 turns resume off (a lost connection leaves at once). Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Messages kept for a participant's resume (those the client has not acknowledged); past it the
    /// oldest go, and a resume that needs them fails. At most <see cref="OutboundQueueLimit"/> − 1
    /// are kept whatever this says, since a resume sends them all at once. Default 200.
    /// </summary>
    [Range(1, 100_000)]
    public int ResumeQueueMessages { get; set; } = 200;

    /// <summary>Bytes of the messages kept for a participant's resume. Default 256 KiB.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int ResumeQueueBytes { get; set; } = 256 * 1024;

    /// <summary>Pending TCP connections the listener queues (Kestrel's default is 512): a reconnect storm needs more. Also raise net.core.somaxconn.</summary>
    [Range(16, 65535)]
    public int ListenBacklog { get; set; } = 4096;

    /// <summary>Origins, besides the server's own, whose pages may open the signaling WebSocket (e.g. <c>https://meet.example.org</c>).</summary>
    public IList<string> AllowedOrigins { get; } = [];
}

/// <summary>SignalingOptionsValidator checks the attributes above (source-generated).</summary>
[OptionsValidator]
public sealed partial class SignalingOptionsValidator : IValidateOptions<SignalingOptions>;

/// <summary>SignalingOptionsRules holds the checks no attribute expresses; each failure names its key.</summary>
internal sealed class SignalingOptionsRules : IValidateOptions<SignalingOptions>
{
    public ValidateOptionsResult Validate(string? name, SignalingOptions options)
    {
        var failures = new List<string>();
        if (options.MessageBurst < options.MessagesPerSecond)
        {
            failures.Add($"Parley:MessageBurst ({options.MessageBurst}) must be at least Parley:MessagesPerSecond ({options.MessagesPerSecond}).");
        }
        if (options.ChatBurst < options.ChatMessagesPerSecond)
        {
            failures.Add($"Parley:ChatBurst ({options.ChatBurst}) must be at least Parley:ChatMessagesPerSecond ({options.ChatMessagesPerSecond}).");
        }
        foreach (var origin in options.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                failures.Add($"Parley:AllowedOrigins entry '{origin}' must be an origin like 'https://meet.example.org' (scheme, host, optional port; no path).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
