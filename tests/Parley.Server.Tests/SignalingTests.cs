using System.Net.WebSockets;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>SignalingTests drive protocol v1 over a real Kestrel port with real WebSocket clients.</summary>
public sealed class SignalingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private ParleyTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await ParleyTestServer.StartAsync(null, Ct);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private Task<(SignalingClient Client, JsonElement Joined)> Join(string room, string name) =>
        SignalingClient.ConnectAndJoinAsync(_server.WebSocketUri, room, name, Ct);

    [Fact]
    public async Task Join_answers_joined_with_self_no_peers_and_the_ice_configuration()
    {
        var (ada, joined) = await Join("calm-otter-417", "Ada");
        await using var _ = ada;

        Assert.Equal("joined", joined.GetProperty("type").GetString());
        Assert.Equal("calm-otter-417", joined.GetProperty("room").GetString());
        Assert.Equal("Ada", joined.GetProperty("self").GetProperty("name").GetString());
        Assert.StartsWith("p_", joined.GetProperty("self").GetProperty("id").GetString());
        Assert.Equal(0, joined.GetProperty("peers").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, joined.GetProperty("iceServers").ValueKind);
        Assert.Equal("all", joined.GetProperty("iceTransportPolicy").GetString());
    }

    [Fact]
    public async Task A_second_joiner_sees_the_first_in_peers_and_the_first_is_told_peer_joined()
    {
        var (ada, _) = await Join("room-1", "Ada");
        await using var a = ada;
        var (grace, joined) = await Join("room-1", "Grace");
        await using var g = grace;

        var peer = Assert.Single(joined.GetProperty("peers").EnumerateArray());
        Assert.Equal(ada.Id, peer.GetProperty("id").GetString());
        Assert.Equal("Ada", peer.GetProperty("name").GetString());

        var told = await ada.ReceiveAsync(Ct);
        Assert.Equal("peer-joined", told.GetProperty("type").GetString());
        Assert.Equal(grace.Id, told.GetProperty("peer").GetProperty("id").GetString());
        Assert.Equal("Grace", told.GetProperty("peer").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Peer_ids_are_unguessable_and_never_repeat()
    {
        var ids = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            var (client, _) = await Join($"ids-{i}", "X");
            await using var c = client;
            var id = client.Id!;
            Assert.Matches("^p_[A-Za-z0-9_-]{22}$", id); // 128 random bits, base64url
            Assert.True(ids.Add(id));
        }
    }

    [Fact]
    public async Task Offer_answer_and_candidate_are_relayed_with_from_stamped_by_the_server()
    {
        var (ada, _) = await Join("relay", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("relay", "Grace");
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await ada.SendAsync(new { type = "offer", to = grace.Id, from = "p_forged", sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" }, Ct);
        var offer = await grace.ReceiveAsync(Ct);
        Assert.Equal("offer", offer.GetProperty("type").GetString());
        Assert.Equal(ada.Id, offer.GetProperty("from").GetString());
        Assert.False(offer.TryGetProperty("to", out _));
        Assert.Equal("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", offer.GetProperty("sdp").GetString());

        await grace.SendAsync(new { type = "answer", to = ada.Id, sdp = "v=0 answer" }, Ct);
        var answer = await ada.ReceiveAsync(Ct);
        Assert.Equal("answer", answer.GetProperty("type").GetString());
        Assert.Equal(grace.Id, answer.GetProperty("from").GetString());
        Assert.Equal("v=0 answer", answer.GetProperty("sdp").GetString());

        await ada.SendAsync(new
        {
            type = "candidate",
            to = grace.Id,
            candidate = new { candidate = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid = "0", sdpMLineIndex = 0, usernameFragment = "abcd" },
        }, Ct);
        var candidate = await grace.ReceiveAsync(Ct);
        Assert.Equal(ada.Id, candidate.GetProperty("from").GetString());
        var init = candidate.GetProperty("candidate");
        Assert.Equal("candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", init.GetProperty("candidate").GetString());
        Assert.Equal("0", init.GetProperty("sdpMid").GetString());
        Assert.Equal(0, init.GetProperty("sdpMLineIndex").GetInt32());
        Assert.Equal("abcd", init.GetProperty("usernameFragment").GetString());

        await ada.SendAsync(new { type = "candidate", to = grace.Id, candidate = (object?)null }, Ct);
        var end = await grace.ReceiveAsync(Ct);
        Assert.Equal(JsonValueKind.Null, end.GetProperty("candidate").ValueKind);
        Assert.Equal(ada.Id, end.GetProperty("from").GetString());
    }

    [Fact]
    public async Task A_relay_to_an_unknown_peer_gets_unknown_peer_with_the_ref_and_delivers_nothing()
    {
        var (ada, _) = await Join("here", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("here", "Grace");
        await using var g = grace;
        var (other, _) = await Join("elsewhere", "Eve");
        await using var o = other;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await ada.SendAsync(new { type = "offer", to = "p_nobody", sdp = "x", id = "42" }, Ct);
        var error = await ada.ReceiveErrorAsync("unknown-peer", Ct);
        Assert.Equal("42", error.GetProperty("ref").GetString());
        Assert.Contains("p_nobody", error.GetProperty("message").GetString());

        await ada.SendAsync(new { type = "offer", to = other.Id, sdp = "x", id = "43" }, Ct);
        Assert.Equal("43", (await ada.ReceiveErrorAsync("unknown-peer", Ct)).GetProperty("ref").GetString());

        await ada.SendAsync(new { type = "answer", to = ada.Id, sdp = "x", id = "44" }, Ct);
        Assert.Equal("44", (await ada.ReceiveErrorAsync("unknown-peer", Ct)).GetProperty("ref").GetString());

        Assert.Null(await other.NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct));
        Assert.Null(await grace.NextWithinAsync(TimeSpan.FromMilliseconds(100), Ct));
    }

    [Theory]
    [InlineData("{\"type\":\"ping\"", "bad-json")]
    [InlineData("not json", "bad-json")]
    [InlineData("", "bad-json")]
    [InlineData("{\"type\":\"ping\"} {}", "bad-json")]
    [InlineData("[1,2]", "bad-request")]
    [InlineData("\"ping\"", "bad-request")]
    [InlineData("{}", "bad-request")]
    [InlineData("{\"type\":7}", "bad-request")]
    [InlineData("{\"type\":\"teleport\"}", "unknown-type")]
    [InlineData("{\"type\":\"offer\",\"to\":\"p_x\",\"sdp\":\"x\"}", "not-joined")]
    [InlineData("{\"type\":\"answer\",\"to\":\"p_x\",\"sdp\":\"x\"}", "not-joined")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_x\",\"candidate\":null}", "not-joined")]
    [InlineData("{\"type\":\"state\",\"audio\":true}", "not-joined")]
    [InlineData("{\"type\":\"chat\",\"text\":\"hi\"}", "not-joined")]
    [InlineData("{\"type\":\"ping\",\"id\":5}", "bad-request")]
    public async Task A_bad_message_gets_an_error_and_the_connection_stays_open(string text, string code)
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendTextAsync(text, Ct);
        var error = await client.ReceiveErrorAsync(code, Ct);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));

        await client.SendTextAsync("{\"type\":\"ping\"}", Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
        await client.JoinAsync("still-open", "Ada", Ct);
    }

    [Theory]
    [InlineData("{\"type\":\"join\",\"version\":1,\"room\":5,\"name\":\"Ada\"}", "bad-request")]
    [InlineData("{\"type\":\"join\",\"version\":\"1\",\"room\":\"r\",\"name\":\"Ada\"}", "bad-request")]
    [InlineData("{\"type\":\"join\",\"room\":\"r\",\"name\":\"Ada\"}", "bad-request")]
    [InlineData("{\"type\":\"join\",\"version\":2,\"room\":\"r\",\"name\":\"Ada\"}", "unsupported-version")]
    [InlineData("{\"type\":\"join\",\"version\":1,\"name\":\"Ada\"}", "bad-request")]
    [InlineData("{\"type\":\"join\",\"version\":1,\"room\":\"r\"}", "bad-request")]
    public async Task A_failed_join_answers_an_error_and_a_corrected_join_succeeds(string text, string code)
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendTextAsync(text.Replace("}", ",\"id\":\"j1\"}", StringComparison.Ordinal), Ct);
        var error = await client.ReceiveErrorAsync(code, Ct);
        Assert.Equal("j1", error.GetProperty("ref").GetString());
        await client.JoinAsync("corrected", "Ada", Ct);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-starts-with-dash")]
    [InlineData("UPPER")]
    [InlineData("under_score")]
    [InlineData("space room")]
    [InlineData("dot.room")]
    [InlineData("ümlaut")]
    [InlineData("a1234567890123456789012345678901234567890123456789012345678901234")] // 65 chars
    public async Task A_join_with_an_invalid_room_id_is_a_bad_request(string room)
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "join", version = 1, room, name = "Ada" }, Ct);
        var error = await client.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains("room", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Ada\u0000")]
    [InlineData("Ada\nLovelace")]
    [InlineData("\u202Eevil")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 65 chars
    public async Task A_join_with_an_invalid_name_is_a_bad_request(string name)
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "join", version = 1, room = "names", name }, Ct);
        var error = await client.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains("name", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Names_are_trimmed_and_may_hold_64_characters_of_any_script()
    {
        var sixtyFour = string.Concat(Enumerable.Repeat("😀", 32)) + new string('é', 32);
        var (client, joined) = await Join("names-ok", "  " + sixtyFour + " ");
        await using var c = client;
        Assert.Equal(sixtyFour, joined.GetProperty("self").GetProperty("name").GetString());
        var (markup, joined2) = await Join("names-ok", "<img src=x onerror=alert(1)>");
        await using var m = markup;
        Assert.Equal("<img src=x onerror=alert(1)>", joined2.GetProperty("self").GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_second_join_on_one_connection_is_already_joined()
    {
        var (ada, _) = await Join("twice", "Ada");
        await using var a = ada;
        await ada.SendAsync(new { type = "join", version = 1, room = "other", name = "Ada", id = "again" }, Ct);
        Assert.Equal("again", (await ada.ReceiveErrorAsync("already-joined", Ct)).GetProperty("ref").GetString());
    }

    [Fact]
    public async Task Malformed_relays_are_bad_requests_naming_what_is_wrong()
    {
        var (ada, _) = await Join("malformed", "Ada");
        await using var a = ada;
        string[] bad =
        [
            "{\"type\":\"offer\",\"sdp\":\"x\"}",
            "{\"type\":\"offer\",\"to\":\"p_x\"}",
            "{\"type\":\"offer\",\"to\":5,\"sdp\":\"x\"}",
            "{\"type\":\"answer\",\"to\":\"p_x\",\"sdp\":{}}",
            "{\"type\":\"candidate\",\"to\":\"p_x\"}",
            "{\"type\":\"candidate\",\"to\":\"p_x\",\"candidate\":\"candidate:1\"}",
            "{\"type\":\"candidate\",\"to\":\"p_x\",\"candidate\":{\"sdpMid\":\"0\"}}",
            "{\"type\":\"candidate\",\"to\":\"p_x\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}}",
            "{\"type\":\"state\",\"audio\":\"yes\"}",
        ];
        foreach (var text in bad)
        {
            await ada.SendTextAsync(text, Ct);
            var error = await ada.ReceiveErrorAsync("bad-request", Ct);
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), text);
        }
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendTextAsync("{\"type\":\"join\",\"version\":1,\"room\":\"fwd\",\"name\":\"Ada\",\"future\":{\"x\":[1,2]},\"password\":null}", Ct);
        Assert.Equal("joined", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_binary_frame_is_a_bad_request_and_the_connection_stays_open()
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary, Ct);
        await client.ReceiveErrorAsync("bad-request", Ct);
        await client.JoinAsync("after-binary", "Ada", Ct);
    }

    [Fact]
    public async Task A_message_in_several_frames_is_assembled_and_an_empty_frame_is_handled()
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        var socket = client.Socket;
        await socket.SendAsync("{\"type\":"u8.ToArray(), WebSocketMessageType.Text, false, Ct);
        await socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, false, Ct);
        await socket.SendAsync("\"pi"u8.ToArray(), WebSocketMessageType.Text, false, Ct);
        await socket.SendAsync("ng\"}"u8.ToArray(), WebSocketMessageType.Text, true, Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
        await socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, true, Ct);
        await client.ReceiveErrorAsync("bad-json", Ct);
    }

    [Fact]
    public async Task A_message_too_big_in_several_frames_closes_with_1009()
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        var chunk = new byte[40 * 1024];
        Array.Fill(chunk, (byte)'x');
        await client.Socket.SendAsync(chunk, WebSocketMessageType.Text, false, Ct);
        await client.Socket.SendAsync(chunk, WebSocketMessageType.Text, false, Ct);
        await client.Socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, true, Ct);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.ExpectCloseAsync(Ct));
    }

    [Fact]
    public async Task Ping_is_answered_with_pong_before_and_after_join()
    {
        await using var client = await SignalingClient.ConnectAsync(_server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
        await client.JoinAsync("pings", "Ada", Ct);
        await client.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await client.ReceiveAsync(Ct)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Leave_tells_the_room_peer_left_and_closes_with_1000()
    {
        var (ada, _) = await Join("leaving", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("leaving", "Grace");
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await grace.SendAsync(new { type = "leave" }, Ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await grace.ExpectCloseAsync(Ct));
        var left = await ada.ReceiveAsync(Ct);
        Assert.Equal("peer-left", left.GetProperty("type").GetString());
        Assert.Equal(grace.Id, left.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_closed_socket_counts_as_leaving()
    {
        var (ada, _) = await Join("closing", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("closing", "Grace");
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        var graceId = grace.Id;
        await grace.DisposeAsync();

        var left = await ada.ReceiveAsync(Ct);
        Assert.Equal("peer-left", left.GetProperty("type").GetString());
        Assert.Equal(graceId, left.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_room_ends_with_its_last_member_and_a_new_one_starts_empty()
    {
        var (ada, _) = await Join("ephemeral", "Ada");
        await ada.SendAsync(new { type = "leave" }, Ct);
        await ada.ExpectCloseAsync(Ct);
        await ada.DisposeAsync();

        var (grace, joined) = await Join("ephemeral", "Grace");
        await using var g = grace;
        Assert.Equal(0, joined.GetProperty("peers").GetArrayLength());
    }

    [Fact]
    public async Task State_is_relayed_with_from_and_given_to_later_joiners()
    {
        var (ada, _) = await Join("states", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("states", "Grace");
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await ada.SendAsync(new { type = "state", audio = true, video = false, screen = false, hand = true }, Ct);
        var state = await grace.ReceiveAsync(Ct);
        Assert.Equal("state", state.GetProperty("type").GetString());
        Assert.Equal(ada.Id, state.GetProperty("from").GetString());
        Assert.True(state.GetProperty("audio").GetBoolean());
        Assert.False(state.GetProperty("video").GetBoolean());
        Assert.True(state.GetProperty("hand").GetBoolean());

        var (eve, joined) = await Join("states", "Eve");
        await using var e = eve;
        var seenAda = joined.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == ada.Id);
        Assert.False(seenAda.GetProperty("state").GetProperty("video").GetBoolean());
        Assert.True(seenAda.GetProperty("state").GetProperty("audio").GetBoolean());
        var seenGrace = joined.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == grace.Id);
        Assert.False(seenGrace.TryGetProperty("state", out _));
    }

    [Fact]
    public async Task The_log_never_holds_sdp_or_candidates()
    {
        var (ada, _) = await Join("quiet-log", "Ada");
        await using var a = ada;
        var (grace, _) = await Join("quiet-log", "Grace");
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);
        await ada.SendAsync(new { type = "offer", to = grace.Id, sdp = "v=0 SECRET-SDP-BODY" }, Ct);
        await ada.SendAsync(new { type = "candidate", to = grace.Id, candidate = new { candidate = "candidate:SECRET-CANDIDATE" } }, Ct);
        await ada.SendAsync(new { type = "offer", to = "p_nobody", sdp = "v=0 SECRET-SDP-BODY" }, Ct);
        await grace.ReceiveTypeAsync("candidate", Ct);
        await ada.ReceiveErrorAsync("unknown-peer", Ct);

        Assert.Contains(_server.Logs.Lines, l => l.Contains("joined room quiet-log", StringComparison.Ordinal));
        Assert.Contains(_server.Logs.Lines, l => l.Contains("rejected with unknown-peer", StringComparison.Ordinal));
        Assert.DoesNotContain(_server.Logs.Lines, l => l.Contains("SECRET", StringComparison.Ordinal));
    }
}
