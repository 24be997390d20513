using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// OperationsTests cover readiness, the Prometheus metrics and the security headers. They run
/// alone: a MeterListener sees every "Parley" meter in the process, so servers of tests running
/// in parallel would add to the counts.
/// </summary>
[Collection(nameof(OperationsTests))]
[CollectionDefinition(nameof(OperationsTests), DisableParallelization = true)]
public sealed partial class OperationsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private ParleyTestServer _server = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await ParleyTestServer.StartAsync(null, Ct);
        _http = new HttpClient { BaseAddress = _server.BaseUri };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Readyz_answers_200_once_started()
    {
        using var response = await _http.GetAsync("/readyz", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_503_once_the_server_is_stopping()
    {
        // ApplicationStopping callbacks run before Kestrel stops listening: ask from inside one.
        HttpStatusCode? whileStopping = null;
        _server.App.Lifetime.ApplicationStopping.Register(() =>
        {
            using var response = _http.GetAsync("/readyz", CancellationToken.None).GetAwaiter().GetResult();
            whileStopping = response.StatusCode;
        });
        await _server.App.StopAsync(Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileStopping);
    }

    [Fact]
    public async Task Metrics_count_connections_joins_relays_errors_and_bytes()
    {
        var before = await Scrape();
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(_server.WebSocketUri, "metrics", "Ada", Ct);
        await using var a = ada;
        var (grace, _) = await SignalingClient.ConnectAndJoinAsync(_server.WebSocketUri, "metrics", "Grace", Ct);
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        await ada.SendAsync(new { type = "offer", to = grace.Id, sdp = "v=0" }, Ct);
        await grace.ReceiveTypeAsync("offer", Ct);
        await ada.SendAsync(new { type = "candidate", to = grace.Id, candidate = (object?)null }, Ct);
        await grace.ReceiveTypeAsync("candidate", Ct);
        await ada.SendAsync(new { type = "offer", to = "p_nobody", sdp = "v=0" }, Ct);
        await ada.ReceiveErrorAsync("unknown-peer", Ct);

        var after = await Scrape();
        Assert.Equal(2, Value(after, "parley_connections") - Value(before, "parley_connections"));
        Assert.Equal(1, Value(after, "parley_rooms"));
        Assert.Equal(2, Value(after, "parley_participants"));
        Assert.Equal(2, Value(after, "parley_joins_total") - Value(before, "parley_joins_total"));
        Assert.Equal(2, Value(after, "parley_join_duration_seconds_count") - Value(before, "parley_join_duration_seconds_count"));
        Assert.Equal(1, Value(after, "parley_messages_relayed_total{type=\"offer\"}"));
        Assert.Equal(1, Value(after, "parley_messages_relayed_total{type=\"candidate\"}"));
        Assert.Equal(1, Value(after, "parley_errors_total{code=\"unknown-peer\"}"));
        Assert.True(Value(after, "parley_bytes_received_bytes_total") > Value(before, "parley_bytes_received_bytes_total"));
        Assert.True(Value(after, "parley_bytes_sent_bytes_total") > Value(before, "parley_bytes_sent_bytes_total"));
    }

    [Fact]
    public async Task Metrics_count_rate_limited_messages()
    {
        await using var server = await ParleyTestServer.StartAsync(
            new Dictionary<string, string?> { ["Parley:MessagesPerSecond"] = "1", ["Parley:MessageBurst"] = "1" }, Ct);
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "ping" }, Ct);
        await client.SendAsync(new { type = "ping" }, Ct);
        await client.ReceiveAsync(Ct);
        await client.ReceiveErrorAsync("rate-limited", Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var text = await Scrape(http);
        Assert.Equal(1, Value(text, "parley_rate_limited_total"));
        Assert.Equal(1, Value(text, "parley_errors_total{code=\"rate-limited\"}"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/r/calm-otter-417")]
    [InlineData("/js/room.js")]
    [InlineData("/healthz")]
    [InlineData("/r/Not_A_Room")]
    public async Task Every_response_carries_the_security_headers(string path)
    {
        using var response = await _http.GetAsync(path, Ct);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var permissions = Assert.Single(response.Headers.GetValues("Permissions-Policy"));
        Assert.Contains("camera=(self)", permissions, StringComparison.Ordinal);
        Assert.Contains("microphone=(self)", permissions, StringComparison.Ordinal);
        Assert.Contains("display-capture=(self)", permissions, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Strict-Transport-Security")); // plain http: no HSTS
    }

    [Fact]
    public async Task Hsts_is_sent_behind_a_tls_proxy()
    {
        await using var server = await ParleyTestServer.StartAsync(
            new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" }, Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "meet.example.org";
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("max-age=31536000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
    }

    private Task<string> Scrape() => Scrape(_http);

    private static async Task<string> Scrape(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    // Value reads one sample; a series not exported yet counts as 0.
    private static double Value(string exposition, string series)
    {
        var name = series.Split('{')[0];
        var labels = series.Contains('{', StringComparison.Ordinal) ? series[(series.IndexOf('{', StringComparison.Ordinal) + 1)..^1] : null;
        foreach (var line in exposition.Split('\n'))
        {
            var m = Sample().Match(line);
            if (!m.Success || m.Groups["name"].Value != name)
            {
                continue;
            }
            var lineLabels = m.Groups["labels"].Value;
            if (labels is null ? lineLabels.Contains("type=", StringComparison.Ordinal) || lineLabels.Contains("code=", StringComparison.Ordinal)
                              : !lineLabels.Contains(labels, StringComparison.Ordinal))
            {
                continue;
            }
            return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return 0;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|NaN)")]
    private static partial Regex Sample();
}
