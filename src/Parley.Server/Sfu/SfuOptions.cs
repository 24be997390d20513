using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Parley.Signaling;

namespace Parley.Sfu;

/// <summary>
/// SfuOptions connect Parley to a Janus media server (the VideoRoom plugin), which carries the
/// media of rooms too large for a mesh. Bound from <c>Parley:Sfu</c>, validated at start.
/// Without <see cref="JanusUrl"/> there is no SFU: rooms are meshes of at most
/// <c>Parley:MaxParticipants</c>.
/// </summary>
public sealed class SfuOptions
{
    public const string SectionName = "Parley:Sfu";

    /// <summary>
    /// Janus's WebSocket API: <c>ws://127.0.0.1:8188</c>, or <c>unix:/run/janus/ws.sock</c> for
    /// its <c>ws_unix</c> socket. Empty (the default): no SFU.
    /// </summary>
    public string? JanusUrl { get; set; }

    /// <summary>Janus's <c>api_secret</c>, sent on every request. Never sent to clients or logged.</summary>
    public string? ApiSecret { get; set; }

    /// <summary>The VideoRoom plugin's <c>admin_key</c>, which creating and listing rooms needs.</summary>
    public string? AdminKey { get; set; }

    /// <summary>The largest room kept as a mesh: the join that makes a room larger moves it to the SFU. Default 4.</summary>
    [Range(1, 1000)]
    public int MeshMax { get; set; } = 4;

    /// <summary>Participants per room on the SFU; one more gets <c>room-full</c>. Default 50.</summary>
    [Range(2, 10_000)]
    public int MaxParticipants { get; set; } = 50;

    /// <summary>Time one Janus request may take before it counts as failed. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest video bitrate a publisher may send, in bits per second (the room's REMB cap). Default 1.5 Mb/s.</summary>
    [Range(64_000, 50_000_000)]
    public int MaxBitrate { get; set; } = 1_500_000;

    /// <summary>How long an SFU room must have held at MeshMax − 1 or fewer before it goes back to a mesh; a join restarts the wait. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MeshReturnDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a switch between mesh and SFU may take: then the old path closes for every pair whose new path works. Default 30 s (a client reports at 25 s at the latest).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan SwitchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>IsEnabled is true when a Janus URL is set.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(JanusUrl);
}

/// <summary>SfuOptionsValidator checks the attributes above (source-generated).</summary>
[OptionsValidator]
public sealed partial class SfuOptionsValidator : IValidateOptions<SfuOptions>;

/// <summary>SfuOptionsRules holds the checks across fields and sections; each failure names its key.</summary>
internal sealed class SfuOptionsRules(IOptions<SignalingOptions> signaling) : IValidateOptions<SfuOptions>
{
    public ValidateOptionsResult Validate(string? name, SfuOptions options)
    {
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }
        var failures = new List<string>();
        if (!JanusUrls.TryParse(options.JanusUrl!, out _))
        {
            failures.Add($"Parley:Sfu:JanusUrl '{options.JanusUrl}' must be a ws:// URL (e.g. 'ws://127.0.0.1:8188') or unix:/path/to/socket (Janus's ws_unix).");
        }
        if (string.IsNullOrWhiteSpace(options.ApiSecret))
        {
            failures.Add("Parley:Sfu:ApiSecret is required with Parley:Sfu:JanusUrl: set it to Janus's api_secret (e.g. the environment variable Parley__Sfu__ApiSecret).");
        }
        if (string.IsNullOrWhiteSpace(options.AdminKey))
        {
            failures.Add("Parley:Sfu:AdminKey is required with Parley:Sfu:JanusUrl: set it to the VideoRoom plugin's admin_key (e.g. Parley__Sfu__AdminKey).");
        }
        var meshCap = signaling.Value.MaxParticipants;
        if (options.MeshMax > meshCap)
        {
            failures.Add($"Parley:Sfu:MeshMax ({options.MeshMax}) must not exceed Parley:MaxParticipants ({meshCap}), the most a mesh may hold.");
        }
        if (options.MaxParticipants <= options.MeshMax)
        {
            failures.Add($"Parley:Sfu:MaxParticipants ({options.MaxParticipants}) must be larger than Parley:Sfu:MeshMax ({options.MeshMax}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>JanusUrls reads <see cref="SfuOptions.JanusUrl"/>: a WebSocket URL, or a unix socket path.</summary>
internal static class JanusUrls
{
    /// <summary>TryParse gives the URL to connect to; a <c>unix:</c> one carries the socket path as its absolute path.</summary>
    public static bool TryParse(string value, out Uri url)
    {
        if (value.StartsWith("unix:/", StringComparison.Ordinal))
        {
            url = new Uri("unix://localhost" + value["unix:".Length..]);
            return true;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out url!) && url.Scheme is "ws" or "wss" && url.AbsolutePath == "/";
    }
}
