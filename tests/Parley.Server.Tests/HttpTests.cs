using System.Net;
using System.Net.WebSockets;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>HttpTests cover the pages, the health check and the WebSocket's origin check.</summary>
public sealed class HttpTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private ParleyTestServer _server = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await ParleyTestServer.StartAsync(
            new Dictionary<string, string?> { ["Parley:AllowedOrigins:0"] = "https://meet.example.org" }, Ct);
        _http = new HttpClient { BaseAddress = _server.BaseUri };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Healthz_answers_200()
    {
        using var response = await _http.GetAsync("/healthz", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_landing_page_is_served_at_the_root()
    {
        using var response = await _http.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_room_link_serves_the_meeting_page()
    {
        using var response = await _http.GetAsync("/r/calm-otter-417", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var room = await File.ReadAllTextAsync(Path.Combine(ParleyTestServer.SourceRoot, "src/Parley.Server/wwwroot/room.html"), Ct);
        Assert.Equal(room, await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("/r/Not_A_Room")]
    [InlineData("/r/-dash")]
    [InlineData("/r/a1234567890123456789012345678901234567890123456789012345678901234")]
    public async Task An_invalid_room_link_is_404_with_a_reason(string path)
    {
        using var response = await _http.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("room id", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plain_request_to_the_websocket_endpoint_is_400()
    {
        using var response = await _http.GetAsync("/ws", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1.evil.example")]
    [InlineData("https://meet.example.org.evil.example")]
    public async Task A_websocket_from_a_foreign_origin_is_refused_with_403_before_the_upgrade(string origin)
    {
        var e = await Assert.ThrowsAsync<WebSocketException>(() => SignalingClient.ConnectAsync(_server.WebSocketUri, Ct, origin));
        Assert.Contains("403", e.Message, StringComparison.Ordinal);
        Assert.Contains(_server.Logs.Lines, l => l.Contains($"Refused WebSocket from origin {origin}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_websocket_from_the_same_origin_an_allowed_origin_or_no_origin_is_accepted()
    {
        foreach (var origin in new[] { $"http://{_server.BaseUri.Authority}", "https://meet.example.org", null })
        {
            await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct, origin);
            await client.JoinAsync("origins", "Ada", Ct);
        }
    }
}
