using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Parley.Turn;

/// <summary>
/// IceOptions are the ICE servers and policy clients get, and the TURN server whose credentials
/// Parley mints; bound from the <c>Parley</c> section and validated at start.
/// </summary>
public sealed class IceOptions
{
    public const string SectionName = "Parley";

    /// <summary>STUN and TURN servers handed to clients in <c>joined.iceServers</c>. Default none: no outside server is contacted.</summary>
    public IList<IceServerOptions> IceServers { get; } = [];

    /// <summary>Turn is the TURN server whose credentials Parley mints per participant (coturn's <c>use-auth-secret</c>).</summary>
    public TurnOptions Turn { get; } = new();

    /// <summary>Requests per minute one client address may make to <c>/api/ice-servers</c> (the pre-join check: one per page load and one per check). Default 30.</summary>
    [Range(1, 100_000)]
    public int IceCheckRequestsPerMinute { get; set; } = 30;

    /// <summary><c>all</c> (default) or <c>relay</c>: the ICE transport policy handed to clients.</summary>
    [RegularExpression("^(all|relay)$", ErrorMessage = "Parley:IceTransportPolicy must be 'all' or 'relay'.")]
    public string IceTransportPolicy { get; set; } = "all";
}

/// <summary>IceServerOptions is one entry of <see cref="IceOptions.IceServers"/>, shaped like WebRTC's RTCIceServer.</summary>
public sealed class IceServerOptions
{
    /// <summary>One or more <c>stun:</c>, <c>turn:</c> or <c>turns:</c> URLs.</summary>
    public IList<string> Urls { get; } = [];

    /// <summary>Username for a TURN server with static credentials.</summary>
    public string? Username { get; set; }

    /// <summary>Password for a TURN server with static credentials.</summary>
    public string? Credential { get; set; }
}

/// <summary>
/// TurnOptions configure a TURN server that shares a secret with Parley (the TURN REST scheme):
/// each participant gets its own credential, valid for <see cref="CredentialLifetime"/>.
/// </summary>
public sealed class TurnOptions
{
    /// <summary><c>turn:</c> and <c>turns:</c> URLs of the TURN server, e.g. <c>turn:turn.example.org:3478?transport=udp</c>.</summary>
    public IList<string> Urls { get; } = [];

    /// <summary>The secret shared with coturn's <c>static-auth-secret</c>. Required with <see cref="Urls"/>; never sent to clients or logged.</summary>
    public string? Secret { get; set; }

    /// <summary>How long a minted credential is valid. Default 1 hour; clients get fresh ones before it ends.</summary>
    public TimeSpan CredentialLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>IceOptionsValidator checks the attributes above (source-generated).</summary>
[OptionsValidator]
public sealed partial class IceOptionsValidator : IValidateOptions<IceOptions>;

/// <summary>IceOptionsRules holds the checks no attribute expresses; each failure names its key.</summary>
internal sealed class IceOptionsRules : IValidateOptions<IceOptions>
{
    public ValidateOptionsResult Validate(string? name, IceOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.IceServers.Count; i++)
        {
            var server = options.IceServers[i];
            if (server.Urls.Count == 0)
            {
                failures.Add($"Parley:IceServers:{i}:Urls must hold at least one stun:, turn: or turns: URL.");
            }
            foreach (var url in server.Urls)
            {
                if (!IceUrl.IsValid(url))
                {
                    failures.Add($"Parley:IceServers:{i}:Urls entry '{url}' is not a stun:, turn: or turns: URL (e.g. 'stun:stun.example.org:3478').");
                }
                else if (IceUrl.IsTurn(url) && (string.IsNullOrEmpty(server.Username) || string.IsNullOrEmpty(server.Credential)))
                {
                    failures.Add($"Parley:IceServers:{i}:Urls entry '{url}' is a TURN server without Parley:IceServers:{i}:Username and Credential; for minted credentials put it in Parley:Turn:Urls with Parley:Turn:Secret.");
                }
            }
        }
        TurnRules.Validate(options.Turn, failures);
        if (options.IceTransportPolicy == "relay" && options.Turn.Urls.Count == 0
            && !options.IceServers.Any(s => s.Urls.Any(IceUrl.IsTurn)))
        {
            failures.Add("Parley:IceTransportPolicy is 'relay' but no TURN server is configured (Parley:Turn:Urls or a turn: URL in Parley:IceServers): no call could connect.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class TurnRules
{
    public static void Validate(TurnOptions turn, List<string> failures)
    {
        foreach (var url in turn.Urls)
        {
            if (!IceUrl.IsValid(url) || !IceUrl.IsTurn(url))
            {
                failures.Add($"Parley:Turn:Urls entry '{url}' is not a turn: or turns: URL (e.g. 'turn:turn.example.org:3478?transport=udp').");
            }
        }
        if (turn.Urls.Count > 0 && string.IsNullOrWhiteSpace(turn.Secret))
        {
            failures.Add("Parley:Turn:Secret is required with Parley:Turn:Urls: set it to coturn's static-auth-secret (e.g. the environment variable Parley__Turn__Secret).");
        }
        if (turn.CredentialLifetime < TimeSpan.FromSeconds(1) || turn.CredentialLifetime > TimeSpan.FromDays(7))
        {
            failures.Add($"Parley:Turn:CredentialLifetime ({turn.CredentialLifetime}) must be between 00:00:01 and 7.00:00:00.");
        }
    }
}

/// <summary>IceUrl checks the shape of a STUN or TURN URL (RFC 7064, RFC 7065).</summary>
internal static partial class IceUrl
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(\?transport=(udp|tcp))?$")]
    private static partial System.Text.RegularExpressions.Regex Pattern();

    public static bool IsValid(string url) => Pattern().IsMatch(url);

    public static bool IsTurn(string url) => url.StartsWith("turn", StringComparison.Ordinal);
}
