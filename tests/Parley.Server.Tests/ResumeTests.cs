using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Parley.Signaling;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// ResumeTests drive a stay across lost connections over real WebSockets: a connection that is
/// lost (aborted, not closed) leaves its participant in the room for the resume window, and a new
/// connection with the token gets everything it missed, in order, once. Message numbers count
/// every message the server sent the participant since <c>joined</c> (which is 1), pongs aside.
/// </summary>
public sealed class ResumeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    // LongWrites keeps the fake clock's jumps below the write deadline: a write in flight when the
    // test moves the clock half a minute would otherwise count as timed out and drop Ada.
    private static readonly (string, string) LongWrites = ("WriteTimeout", "00:10:00");

    private static Task<ParleyTestServer> StartServer(params (string Key, string Value)[] settings) =>
        ParleyTestServer.StartAsync(settings.ToDictionary(s => "Parley:" + s.Key, s => (string?)s.Value), Ct);

    // Pair joins Ada, then Grace (Grace's joined is her message 1), and returns Grace's token.
    private static async Task<(SignalingClient Ada, SignalingClient Grace, string Token)> Pair(ParleyTestServer server, string room)
    {
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, room, "Ada", Ct);
        var (grace, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, room, "Grace", Ct);
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        // The window comes with the token, in whole seconds, so the client can tell the user why a resume failed.
        Assert.Equal((int)Math.Ceiling(server.App.Services.GetRequiredService<IOptions<SignalingOptions>>().Value.ResumeWindow.TotalSeconds),
            joined.GetProperty("resumeWindow").GetInt32());
        return (ada, grace, joined.GetProperty("resume").GetString()!);
    }

    private static async Task<SignalingClient> Resume(ParleyTestServer server, string room, string token, long seen)
    {
        var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "join", version = 1, room, name = "Grace", resume = new { token, seen }, id = "r1" }, Ct);
        return client;
    }

    private static Task Offer(SignalingClient from, string to, int n) =>
        from.SendAsync(new { type = "offer", to, sdp = $"v=0 offer {n}" }, Ct);

    private static string Type(JsonElement m) => m.GetProperty("type").GetString()!;

    private static async Task ExpectAway(SignalingClient client, string id, bool away)
    {
        var m = await client.ReceiveTypeAsync("peer-away", Ct);
        Assert.Equal(id, m.GetProperty("id").GetString());
        Assert.Equal(away, m.GetProperty("away").GetBoolean());
    }

    [Fact]
    public async Task A_lost_connection_resumes_with_every_missed_message_in_order_once_and_the_room_sees_no_leave()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "resume");
        await using var owned = ada;
        var graceId = grace.Id!;

        grace.Socket.Abort();
        await ExpectAway(ada, graceId, away: true);
        for (var n = 1; n <= 5; n++)
        {
            await Offer(ada, graceId, n);
        }
        await ada.SendAsync(new { type = "chat", text = "while you were away" }, Ct);
        await ada.ReceiveTypeAsync("chat", Ct);

        await using var back = await Resume(server, "resume", token, seen: 1);
        var resumed = await back.ReceiveAsync(Ct);
        Assert.Equal("resumed", Type(resumed));
        Assert.Equal(graceId, resumed.GetProperty("self").GetProperty("id").GetString());
        Assert.Equal(6, resumed.GetProperty("replayed").GetInt64());
        var next = resumed.GetProperty("resume").GetString();
        Assert.StartsWith("r_", next, StringComparison.Ordinal);
        Assert.NotEqual(token, next);
        for (var n = 1; n <= 5; n++)
        {
            var offer = await back.ReceiveAsync(Ct);
            Assert.Equal("offer", Type(offer));
            Assert.Equal($"v=0 offer {n}", offer.GetProperty("sdp").GetString());
        }
        Assert.Equal("while you were away", (await back.ReceiveAsync(Ct)).GetProperty("text").GetString());
        Assert.Null(await back.NextWithinAsync(Quiet, Ct));

        await ExpectAway(ada, graceId, away: false);
        Assert.Null(await ada.NextWithinAsync(Quiet, Ct));

        // The stay goes on: both ways.
        await Offer(ada, graceId, 6);
        Assert.Equal("v=0 offer 6", (await back.ReceiveTypeAsync("offer", Ct)).GetProperty("sdp").GetString());
        await back.SendAsync(new { type = "answer", to = ada.Id, sdp = "v=0 answer" }, Ct);
        Assert.Equal(graceId, (await ada.ReceiveTypeAsync("answer", Ct)).GetProperty("from").GetString());
    }

    [Fact]
    public async Task A_resume_skips_what_the_client_says_it_already_has()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "seen");
        await using var owned = ada;
        await Offer(ada, grace.Id!, 1);
        await Offer(ada, grace.Id!, 2);
        Assert.Equal("offer", Type(await grace.ReceiveAsync(Ct)));
        Assert.Equal("offer", Type(await grace.ReceiveAsync(Ct)));

        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);
        await Offer(ada, grace.Id!, 3);

        // Grace got messages 1-3 (joined, offers 1 and 2); offer 2 was lost on the way, say.
        await using var back = await Resume(server, "seen", token, seen: 2);
        var resumed = await back.ReceiveAsync(Ct);
        Assert.Equal(2, resumed.GetProperty("replayed").GetInt64());
        Assert.Equal("v=0 offer 2", (await back.ReceiveAsync(Ct)).GetProperty("sdp").GetString());
        Assert.Equal("v=0 offer 3", (await back.ReceiveAsync(Ct)).GetProperty("sdp").GetString());
        Assert.Null(await back.NextWithinAsync(Quiet, Ct));
    }

    [Fact]
    public async Task A_newer_connection_with_the_token_takes_over_from_an_open_one_which_closes_with_4001()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "takeover");
        await using var owned = ada;
        await using var old = grace;

        await using var back = await Resume(server, "takeover", token, seen: 1);
        Assert.Equal("resumed", Type(await back.ReceiveAsync(Ct)));
        Assert.Equal((WebSocketCloseStatus)4001, await old.ExpectCloseAsync(Ct));
        await Offer(ada, grace.Id!, 1);
        Assert.Equal("v=0 offer 1", (await back.ReceiveAsync(Ct)).GetProperty("sdp").GetString());
        // The room saw neither a leave nor an absence.
        Assert.Null(await ada.NextWithinAsync(Quiet, Ct));
    }

    [Fact]
    public async Task A_token_works_once_and_its_successor_works_next()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "once");
        await using var owned = ada;
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);

        var first = await Resume(server, "once", token, seen: 1);
        var next = (await first.ReceiveAsync(Ct)).GetProperty("resume").GetString()!;
        await ExpectAway(ada, grace.Id!, away: false);
        first.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);

        await using var again = await Resume(server, "once", token, seen: 1);
        var refused = await again.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Equal("r1", refused.GetProperty("ref").GetString());
        Assert.Contains("already used", refused.GetProperty("message").GetString(), StringComparison.Ordinal);

        await using var second = await Resume(server, "once", next, seen: 1);
        Assert.Equal("resumed", Type(await second.ReceiveAsync(Ct)));
    }

    [Fact]
    public async Task A_token_for_another_room_is_refused_and_stays_good_for_its_own()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "mine");
        await using var owned = ada;
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);

        await using var wrong = await Resume(server, "theirs", token, seen: 1);
        var refused = await wrong.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Contains("another room", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        // After a refusal the connection may join afresh.
        var joined = await wrong.JoinAsync("theirs", "Grace", Ct);
        Assert.NotEqual(grace.Id, joined.GetProperty("self").GetProperty("id").GetString());

        await using var back = await Resume(server, "mine", token, seen: 1);
        Assert.Equal("resumed", Type(await back.ReceiveAsync(Ct)));
    }

    [Fact]
    public async Task An_unknown_token_is_refused_with_resume_failed()
    {
        await using var server = await StartServer();
        await using var client = await Resume(server, "nobody", "r_AAAAAAAAAAAAAAAAAAAAAA", seen: 1);
        var refused = await client.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Contains("Join afresh", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_participant_away_past_the_window_leaves_and_its_token_no_longer_works()
    {
        var time = FakeClockServer.NewClock();
        await using var server = await FakeClockServer.StartAsync(time, Ct, ("ResumeWindow", "00:00:30"), LongWrites);
        var (ada, grace, token) = await Pair(server, "expiry");
        await using var owned = ada;
        // The window counts from when Grace was last heard: her join, 20 s before the loss.
        time.Advance(TimeSpan.FromSeconds(20));
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Null(await ada.NextWithinAsync(Quiet, Ct));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(grace.Id, (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString());

        await using var late = await Resume(server, "expiry", token, seen: 1);
        await late.ReceiveErrorAsync("resume-failed", Ct);
    }

    [Fact]
    public async Task A_half_dead_connection_silent_past_the_window_cannot_be_resumed_and_its_participant_leaves()
    {
        var time = FakeClockServer.NewClock();
        await using var server = await FakeClockServer.StartAsync(time, Ct, ("ResumeWindow", "00:00:30"), LongWrites);
        var (ada, grace, token) = await Pair(server, "silent");
        await using var owned = ada;
        await using var old = grace;
        time.Advance(TimeSpan.FromSeconds(31));

        await using var late = await Resume(server, "silent", token, seen: 1);
        var refused = await late.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Contains("heard nothing from it for more than 30 s", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(grace.Id, (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString());
        Assert.Equal((WebSocketCloseStatus)4001, await old.ExpectCloseAsync(Ct));
    }

    [Fact]
    public async Task A_stay_that_missed_more_than_the_server_keeps_cannot_be_resumed_and_leaves()
    {
        await using var server = await StartServer(("ResumeQueueMessages", "3"));
        var (ada, grace, token) = await Pair(server, "overflow");
        await using var owned = ada;
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);
        for (var n = 1; n <= 4; n++)
        {
            await Offer(ada, grace.Id!, n);
        }

        await using var back = await Resume(server, "overflow", token, seen: 1);
        var refused = await back.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Contains("missed more messages than the server keeps", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(grace.Id, (await ada.ReceiveTypeAsync("peer-left", Ct)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_ping_with_seen_lets_the_server_forget_those_messages()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "ack");
        await using var owned = ada;
        await Offer(ada, grace.Id!, 1);
        Assert.Equal("offer", Type(await grace.ReceiveAsync(Ct)));
        await grace.SendAsync(new { type = "ping", seen = 2 }, Ct);
        Assert.Equal("pong", Type(await grace.ReceiveAsync(Ct)));
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);

        // Message 2 is forgotten: a client that says it lacks it cannot be made whole.
        await using var back = await Resume(server, "ack", token, seen: 1);
        await back.ReceiveErrorAsync("resume-failed", Ct);
    }

    [Fact]
    public async Task A_resume_claiming_more_than_was_sent_is_refused()
    {
        await using var server = await StartServer();
        var (ada, grace, token) = await Pair(server, "claim");
        await using var owned = ada;
        grace.Socket.Abort();
        await ExpectAway(ada, grace.Id!, away: true);
        await using var back = await Resume(server, "claim", token, seen: 7);
        var refused = await back.ReceiveErrorAsync("resume-failed", Ct);
        Assert.Contains("is more than the server sent (1)", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"G","resume":{"seen":1}}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"G","resume":{"token":"r_x"}}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"G","resume":{"token":"r_x","seen":-1}}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"G","resume":{"token":"","seen":1}}""")]
    public async Task A_resume_without_a_token_and_a_whole_seen_is_a_bad_request(string join)
    {
        await using var server = await StartServer();
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await client.SendTextAsync(join, Ct);
        var error = await client.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains("join.resume needs", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"ping","seen":-1}""", "ping.seen must be")]
    [InlineData("""{"type":"ping","seen":"all"}""", "Malformed ping")]
    public async Task A_ping_with_a_bad_seen_is_a_bad_request(string ping, string says)
    {
        await using var server = await StartServer();
        var (client, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "ping", "Ada", Ct);
        await using var owned = client;
        await client.SendTextAsync(ping, Ct);
        var error = await client.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains(says, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_connection_leaves_at_once()
    {
        await using var server = await StartServer();
        var (ada, grace, _) = await Pair(server, "closed");
        await using var owned = ada;
        await grace.DisposeAsync();
        Assert.Equal(grace.Id, (await ada.ReceiveAsync(Ct)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task With_resume_off_a_lost_connection_leaves_at_once_and_joined_has_no_token()
    {
        await using var server = await StartServer(("ResumeWindow", "00:00:00"));
        var (ada, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "off", "Ada", Ct);
        await using var owned = ada;
        var (grace, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "off", "Grace", Ct);
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        Assert.False(joined.TryGetProperty("resume", out _));
        Assert.False(joined.TryGetProperty("resumeWindow", out _));
        grace.Socket.Abort();
        var left = await ada.ReceiveAsync(Ct);
        Assert.Equal("peer-left", Type(left));
    }
}
