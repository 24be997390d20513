using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>IceCheckTests cover <c>GET /api/ice-servers</c>, which the pre-join connectivity check uses.</summary>
public sealed class IceCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task It_answers_the_ice_servers_with_a_fresh_turn_credential_uncached()
    {
        await using var server = await ParleyTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Parley:IceServers:0:Urls:0"] = "stun:127.0.0.1:3478",
            ["Parley:Turn:Urls:0"] = "turn:127.0.0.1:3478?transport=udp",
            ["Parley:Turn:Secret"] = "check-secret",
        }, Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        using var response = await http.GetAsync("/api/ice-servers", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("check-secret", body, StringComparison.Ordinal);
        var config = JsonDocument.Parse(body).RootElement;
        Assert.Equal("all", config.GetProperty("iceTransportPolicy").GetString());
        var servers = config.GetProperty("iceServers");
        Assert.Equal("stun:127.0.0.1:3478", servers[0].GetProperty("urls")[0].GetString());
        Assert.Matches(@"^\d+:p_[A-Za-z0-9_-]{22}$", servers[1].GetProperty("username").GetString());
        Assert.False(string.IsNullOrEmpty(servers[1].GetProperty("credential").GetString()));
    }

    [Fact]
    public async Task It_is_rate_limited_per_client_with_429()
    {
        await using var server = await ParleyTestServer.StartAsync(
            new Dictionary<string, string?> { ["Parley:IceCheckRequestsPerMinute"] = "3" }, Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        for (var i = 0; i < 3; i++)
        {
            using var ok = await http.GetAsync("/api/ice-servers", Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await http.GetAsync("/api/ice-servers", Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
    }
}
