using System.Globalization;
using System.Text.Json;

namespace Parley.Browser.Tests;

/// <summary>
/// IceConfig is one open RTCPeerConnection's ICE configuration, from getConfiguration() via probe.js:
/// now, and as the page made the connection.
/// </summary>
public sealed record IceConfig(string Policy, string[] TurnUsernames, string InitialPolicy, string[] InitialTurnUsernames)
{
    /// <summary>TurnUsername is the one TURN username now (<c>&lt;expiry&gt;:&lt;peer id&gt;</c>).</summary>
    public string TurnUsername => TurnUsernames.Single();

    /// <summary>InitialTurnUsername is the one TURN username the connection was made with.</summary>
    public string InitialTurnUsername => InitialTurnUsernames.Single();

    /// <summary>Expiry reads the unix time a TURN REST username expires at.</summary>
    public static long Expiry(string username) => long.Parse(username[..username.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
}

/// <summary>IceConfigs reads a page's ICE configurations and restarts, and waits for them to change.</summary>
public static class IceConfigs
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>ReadAsync returns the configuration of every open peer connection of the page, in creation order.</summary>
    public static async Task<IReadOnlyList<IceConfig>> ReadAsync(Participant p)
    {
        var json = await p.Page.EvaluateAsync<string>("() => JSON.stringify(window.__parleyProbe.iceConfigs())");
        return JsonSerializer.Deserialize<IceConfig[]>(json, Json) ?? [];
    }

    /// <summary>RestartsAsync is the number of ICE restarts the page has started.</summary>
    public static Task<int> RestartsAsync(Participant p) => p.Page.EvaluateAsync<int>("() => window.__parleyProbe.restarts()");

    /// <summary>WaitForAsync polls the page's configurations until <paramref name="done"/> holds, or throws at the deadline.</summary>
    public static async Task<IReadOnlyList<IceConfig>> WaitForAsync(
        Participant p, Func<IReadOnlyList<IceConfig>, bool> done, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var configs = await ReadAsync(p);
            if (done(configs))
            {
                return configs;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{p.Name}: {what}. Now: {JsonSerializer.Serialize(configs, Json)}.");
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>WaitForRestartsAsync polls until the page has started more than <paramref name="than"/> ICE restarts.</summary>
    public static async Task WaitForRestartsAsync(Participant p, int than, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (await RestartsAsync(p) <= than)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{p.Name}: no ICE restart after the first {than}.");
            }
            await Task.Delay(200, cancellationToken);
        }
    }
}
