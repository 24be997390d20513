using System.Net.WebSockets;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>LimitTests cross each configured limit and check the server's answer.</summary>
public sealed class LimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<ParleyTestServer> Start(params (string Key, string Value)[] settings) =>
        ParleyTestServer.StartAsync(settings.ToDictionary(s => "Parley:" + s.Key, s => (string?)s.Value), Ct);

    private static string Padded(int totalBytes)
    {
        const string head = "{\"type\":\"ping\",\"pad\":\"";
        const string tail = "\"}";
        return head + new string('x', totalBytes - head.Length - tail.Length) + tail;
    }

    [Fact]
    public async Task A_message_of_exactly_the_limit_is_accepted_and_one_byte_more_closes_with_1009()
    {
        await using var server = await Start();
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);

        await client.SendTextAsync(Padded(64 * 1024), Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());

        await client.SendTextAsync(Padded((64 * 1024) + 1), Ct);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.ExpectCloseAsync(Ct));
    }

    [Fact]
    public async Task An_oversized_message_from_a_member_closes_it_with_1009_and_the_room_is_told()
    {
        await using var server = await Start(("MaxMessageBytes", "2048"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "big", "Ada", Ct);
        await using var a = ada;
        var (grace, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "big", "Grace", Ct);
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await grace.SendAsync(new { type = "offer", to = ada.Id, sdp = new string('s', 3000) }, Ct);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await grace.ExpectCloseAsync(Ct));
        Assert.Equal(grace.Id, (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString());
        Assert.Null(await ada.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct)); // the offer was not relayed
    }

    [Fact]
    public async Task No_join_within_the_timeout_closes_with_1008()
    {
        await using var server = await Start(("JoinTimeout", "00:00:00.300"));
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "ping" }, Ct); // traffic is not a join
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await client.ExpectCloseAsync(Ct));
        Assert.Equal("join timeout", client.Socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_join_before_the_timeout_keeps_the_connection_open_past_it()
    {
        await using var server = await Start(("JoinTimeout", "00:00:00.300"));
        var (client, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "in-time", "Ada", Ct);
        await using var c = client;
        Assert.Null(await client.NextWithinAsync(TimeSpan.FromMilliseconds(700), Ct));
        await client.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task One_more_than_MaxParticipants_gets_room_full_and_may_join_once_someone_leaves()
    {
        await using var server = await Start(("MaxParticipants", "2"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "small", "Ada", Ct);
        var (grace, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "small", "Grace", Ct);
        await using var g = grace;
        await using var eve = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);

        await eve.SendAsync(new { type = "join", version = 1, room = "small", name = "Eve", id = "j" }, Ct);
        var full = await eve.ReceiveErrorAsync("room-full", Ct);
        Assert.Equal("j", full.GetProperty("ref").GetString());
        Assert.Null(await grace.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct)); // nobody was told of Eve

        await ada.SendAsync(new { type = "leave" }, Ct);
        await ada.ExpectCloseAsync(Ct);
        await ada.DisposeAsync();
        await grace.ReceiveTypeAsync("peer-left", Ct);

        var joined = await eve.JoinAsync("small", "Eve", Ct);
        Assert.Equal(grace.Id, Assert.Single(joined.GetProperty("peers").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_burst_past_the_bucket_gets_rate_limited_with_the_ref_and_the_connection_stays_open()
    {
        await using var server = await Start(("MessagesPerSecond", "5"), ("MessageBurst", "10"), ("AbuseThreshold", "1000"));
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        for (var i = 0; i < 15; i++)
        {
            await client.SendAsync(new { type = "ping", id = $"m{i}" }, Ct);
        }
        var answers = new List<JsonElement>();
        for (var i = 0; i < 15; i++)
        {
            answers.Add(await client.ReceiveAsync(Ct));
        }
        var pongs = answers.Count(a => a.GetProperty("type").GetString() == "pong");
        var limited = answers.Where(a => a.GetProperty("type").GetString() == "error").ToList();
        Assert.InRange(pongs, 10, 11); // the burst, plus at most one token refilled meanwhile
        Assert.All(limited, e => Assert.Equal("rate-limited", e.GetProperty("code").GetString()));
        Assert.Equal("m14", limited[^1].GetProperty("ref").GetString());

        // The bucket refills at 5/s: after 300 ms there is a token again.
        await Task.Delay(300, Ct);
        await client.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Sustained_abuse_closes_with_1008_and_the_room_is_told()
    {
        await using var server = await Start(("MessagesPerSecond", "5"), ("MessageBurst", "5"), ("AbuseThreshold", "20"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "abuse", "Ada", Ct);
        await using var a = ada;
        var (mallory, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "abuse", "Mallory", Ct);
        await using var m = mallory;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        var sent = 0;
        while (mallory.Socket.State == WebSocketState.Open && sent < 500)
        {
            try
            {
                await mallory.SendAsync(new { type = "ping" }, Ct);
                sent++;
            }
            catch (WebSocketException)
            {
                break;
            }
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await mallory.ExpectCloseAsync(Ct));
        Assert.Equal("rate limit exceeded", mallory.Socket.CloseStatusDescription);
        Assert.Equal(mallory.Id, (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString());
        Assert.Contains(server.Logs.Lines, l => l.Contains("rate-limited messages", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dead_connection_is_noticed_within_the_keepalive_window_and_leaves_when_the_resume_window_ends()
    {
        await using var server = await Start(("KeepAliveInterval", "00:00:00.300"), ("KeepAliveTimeout", "00:00:00.600"), ("ResumeWindow", "00:00:03"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "liveness", "Ada", Ct);
        await using var a = ada;

        // The raw client joins, then never reads again: it answers no ping.
        using var dead = await RawWebSocket.ConnectAsync(server.WebSocketUri, Ct);
        await dead.SendTextAsync("{\"type\":\"join\",\"version\":1,\"room\":\"liveness\",\"name\":\"Ghost\"}", Ct);
        var joined = await ada.ReceiveTypeAsync("peer-joined", Ct);
        var ghost = joined.GetProperty("peer").GetProperty("id").GetString();

        // Ada keeps reading (so her client answers pings) and stays; the ghost is away within
        // interval + timeout, and gone once the resume window from its last message has passed.
        var started = DateTime.UtcNow;
        var away = await ada.ReceiveTypeAsync("peer-away", Ct, TimeSpan.FromSeconds(5));
        Assert.Equal(ghost, away.GetProperty("id").GetString());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2.5), "noticed late");
        var left = await ada.ReceiveTypeAsync("peer-left", Ct, TimeSpan.FromSeconds(5));
        Assert.Equal(ghost, left.GetProperty("id").GetString());
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 2.5, 4.5);
        Assert.Equal(WebSocketState.Open, ada.Socket.State);
    }

    [Fact]
    public async Task A_slow_reader_is_dropped_and_never_stalls_the_room()
    {
        await using var server = await Start(
            ("OutboundQueueLimit", "8"), ("WriteTimeout", "00:00:01"),
            ("MessagesPerSecond", "100000"), ("MessageBurst", "100000"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "slow", "Ada", Ct);
        await using var a = ada;
        var (grace, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "slow", "Grace", Ct);
        await using var g = grace;
        using var slow = await RawWebSocket.ConnectAsync(server.WebSocketUri, Ct, receiveBufferBytes: 4096);
        await slow.SendTextAsync("{\"type\":\"join\",\"version\":1,\"room\":\"slow\",\"name\":\"Sloth\"}", Ct);
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        var sloth = (await ada.ReceiveTypeAsync("peer-joined", Ct)).GetProperty("peer").GetProperty("id").GetString();
        await grace.ReceiveTypeAsync("peer-joined", Ct);

        // Ada floods the sloth with offers while Grace keeps talking to Ada.
        var sdp = new string('s', 60_000);
        string? leftId = null;
        for (var i = 0; i < 2000 && leftId is null; i++)
        {
            await ada.SendAsync(new { type = "offer", to = sloth, sdp }, Ct);
            if (i % 50 == 0)
            {
                await grace.SendAsync(new { type = "offer", to = ada.Id, sdp = $"from-grace-{i}" }, Ct);
                var relayed = await ada.ReceiveTypeAsync("offer", Ct, TimeSpan.FromSeconds(2));
                Assert.Equal($"from-grace-{i}", relayed.GetProperty("sdp").GetString());
            }
            if (await ada.NextWithinAsync(TimeSpan.Zero, Ct) is { } text && text.Contains("peer-left", StringComparison.Ordinal))
            {
                leftId = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString();
            }
        }
        leftId ??= (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString();
        Assert.Equal(sloth, leftId);
        Assert.True(await slow.IsClosedByServerAsync(Ct));
        Assert.Contains(server.Logs.Lines, l => l.Contains("waiting to be written", StringComparison.Ordinal));

        // The room still relays between those who read.
        await grace.SendAsync(new { type = "answer", to = ada.Id, sdp = "still-here" }, Ct);
        Assert.Equal("still-here", (await ada.ReceiveTypeAsync("answer", Ct)).GetProperty("sdp").GetString());
    }

    [Fact]
    public async Task Stopping_the_server_closes_every_socket_with_1001()
    {
        var server = await Start();
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "shutdown", "Ada", Ct);
        await using var a = ada;
        await using var waiting = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);

        var stopping = server.DisposeAsync().AsTask();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ada.ExpectCloseAsync(Ct));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await waiting.ExpectCloseAsync(Ct));
        await stopping;
    }
}
