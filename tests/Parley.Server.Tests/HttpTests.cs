using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>HttpTests cover the pages, the health check and the WebSocket's origin check.</summary>
public sealed partial class HttpTests : IAsyncLifetime
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
    [InlineData("/", "landing.js")]
    [InlineData("/r/calm-otter-417", "room.js")]
    public async Task A_page_preloads_exactly_the_modules_its_script_imports(string page, string entry)
    {
        // The browser then fetches the whole module graph at once instead of one import level per
        // round trip; a module added to or dropped from the graph must be added to or dropped from the page.
        var html = await _http.GetStringAsync(page, Ct);
        Assert.Contains($"<script type=\"module\" src=\"/js/{entry}\"></script>", html, StringComparison.Ordinal);
        var preloaded = PreloadLink().Matches(html).Select(m => m.Groups[1].Value).ToList();

        var imported = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([entry]);
        while (pending.TryDequeue(out var module))
        {
            using var response = await _http.GetAsync($"/js/{module}", Ct);
            Assert.True(response.IsSuccessStatusCode, $"/js/{module} answered {(int)response.StatusCode}");
            foreach (Match import in StaticImport().Matches(await response.Content.ReadAsStringAsync(Ct)))
            {
                if (imported.Add(import.Groups[1].Value))
                {
                    pending.Enqueue(import.Groups[1].Value);
                }
            }
        }

        Assert.NotEmpty(imported);
        Assert.Equal(preloaded.Count, preloaded.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(imported, new SortedSet<string>(preloaded, StringComparer.Ordinal));
    }

    [GeneratedRegex("""<link rel="modulepreload" href="/js/([a-z-]+\.js)">""")]
    private static partial Regex PreloadLink();

    // A static import or re-export at the start of a line (not the import() types in JSDoc comments).
    [GeneratedRegex("""^\s*(?:import|export)\b[^;]*?\bfrom\s+'\./([a-z-]+\.js)'""", RegexOptions.Multiline)]
    private static partial Regex StaticImport();

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
