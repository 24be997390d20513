using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// SfuProtocolTests cross every SFU rule that needs no media server: the features of a join,
/// the mode a room is in, the size limits while the media server is unreachable, and each
/// malformed SFU message. (With a real Janus: tests/Parley.Sfu.Tests.)
/// </summary>
public sealed class SfuProtocolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Unreachable: port 1 on loopback refuses at once, so Parley keeps retrying in the background.
    private static readonly Dictionary<string, string?> UnreachableJanus = new()
    {
        ["Parley:Sfu:JanusUrl"] = "ws://127.0.0.1:1",
        ["Parley:Sfu:ApiSecret"] = "secret",
        ["Parley:Sfu:AdminKey"] = "key",
    };

    private static readonly string[] SfuFeature = ["sfu"];

    private const string Sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

    [Fact]
    public async Task Without_a_media_server_rooms_are_meshes_and_sfu_messages_get_sfu_unavailable()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        var (client, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "plain", "Ada", Ct, "sfu", "future-thing");
        await using var c = client;
        Assert.Equal("mesh", joined.GetProperty("mode").GetString());
        await c.SendAsync(new { type = "sfu-offer", pc = "publish", sdp = Sdp, id = "o" }, Ct);
        var error = await c.ReceiveErrorAsync("sfu-unavailable", Ct);
        Assert.Equal("o", error.GetProperty("ref").GetString());
    }

    [Theory]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"A","features":"sfu"}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"A","features":[1]}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"A","features":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"A","features":["a-feature-name-longer-than-32-chars"]}""")]
    [InlineData("""{"type":"join","version":1,"room":"r","name":"A","features":[null]}""")]
    public async Task Malformed_features_are_a_bad_request_and_the_connection_may_join_again(string join)
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        await using var c = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await c.SendTextAsync(join, Ct);
        await c.ReceiveErrorAsync("bad-request", Ct);
        var joined = await c.JoinAsync("r", "A", Ct, "sfu");
        Assert.Equal("mesh", joined.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task While_the_media_server_is_unreachable_a_mesh_stops_at_MeshMax_with_a_reason()
    {
        await using var server = await ParleyTestServer.StartAsync(UnreachableJanus, Ct);
        var clients = new List<SignalingClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var (client, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "grow", $"P{i}", Ct, "sfu");
                clients.Add(client);
                Assert.Equal("mesh", joined.GetProperty("mode").GetString());
            }
            await using var fifth = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
            await fifth.SendAsync(new { type = "join", version = 1, room = "grow", name = "P4", features = SfuFeature, id = "j" }, Ct);
            var error = await fifth.ReceiveErrorAsync("room-full", Ct);
            Assert.Contains("media server", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("limited to 4", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            // Nobody heard of the refused joiner.
            Assert.Null(await clients[^1].NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Sfu_messages_in_a_mesh_room_get_wrong_mode()
    {
        await using var server = await ParleyTestServer.StartAsync(UnreachableJanus, Ct);
        var (client, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "small", "Ada", Ct, "sfu");
        await using var c = client;
        await c.SendAsync(new { type = "sfu-offer", pc = "publish", sdp = Sdp, id = "1" }, Ct);
        await c.ReceiveErrorAsync("wrong-mode", Ct);
        await c.SendAsync(new { type = "sfu-answer", pc = "subscribe", sdp = Sdp, id = "2" }, Ct);
        await c.ReceiveErrorAsync("wrong-mode", Ct);
        await c.SendAsync(new { type = "sfu-candidate", pc = "publish", candidate = (object?)null, id = "3" }, Ct);
        await c.ReceiveErrorAsync("wrong-mode", Ct);
        await c.SendAsync(new { type = "sfu-view", streams = new[] { new { peer = "p_x", video = "low" } } }, Ct);
        await c.ReceiveErrorAsync("wrong-mode", Ct);
        await c.SendAsync(new { type = "sfu-restart", pc = "subscribe" }, Ct);
        await c.ReceiveErrorAsync("wrong-mode", Ct);
        // A switch report in a room that is not switching changes nothing and gets no answer.
        await c.SendAsync(new { type = "switch-ready", epoch = 1, missing = Array.Empty<string>() }, Ct);
        Assert.Null(await c.NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct));
    }

    public static TheoryData<string, string> MalformedSfuMessages() => new()
    {
        { """{"type":"sfu-offer","pc":"sideways","sdp":"v=0\r\n"}""", "\"pc\" must be" },
        { """{"type":"sfu-offer","sdp":"v=0\r\n"}""", "\"pc\" must be" },
        { """{"type":"sfu-offer","pc":"subscribe","sdp":"v=0\r\n"}""", "Only the server offers" },
        { """{"type":"sfu-answer","pc":"publish","sdp":"v=0\r\n"}""", "answer comes from the server" },
        { """{"type":"sfu-offer","pc":"publish","sdp":"hello"}""", "must be an SDP description" },
        { """{"type":"sfu-offer","pc":"publish"}""", "must be an SDP description" },
        { """{"type":"sfu-offer","pc":"publish","sdp":42}""", "Malformed sfuoffer" },
        { """{"type":"sfu-answer","pc":"subscribe","sdp":""}""", "must be an SDP description" },
        { """{"type":"sfu-candidate","pc":"publish"}""", "Malformed sfucandidate" },
        { """{"type":"sfu-candidate","pc":"publish","candidate":{"candidate":"not a candidate"}}""", "ICE candidate line" },
        { """{"type":"sfu-candidate","pc":"publish","candidate":{"sdpMid":"0"}}""", "ICE candidate line" },
        { """{"type":"sfu-candidate","pc":"publish","candidate":"candidate:1"}""", "Malformed sfucandidate" },
        { """{"type":"switch-ready"}""", "switch-ready needs a whole number" },
        { """{"type":"switch-ready","epoch":"one"}""", "Malformed switchready" },
        { """{"type":"switch-ready","epoch":1,"missing":[null]}""", "switch-ready needs" },
        { """{"type":"switch-ready","epoch":1,"missing":"p_a"}""", "Malformed switchready" },
        { """{"type":"sfu-view"}""", "sfu-view.streams must list" },
        { """{"type":"sfu-view","streams":[{"peer":"p_a","video":"huge"}]}""", "\"video\": \"high\", \"low\" or \"off\"" },
        { """{"type":"sfu-view","streams":[{"video":"low"}]}""", "needs a \"peer\"" },
        { """{"type":"sfu-restart","pc":"publish"}""", "Restart the publish connection yourself" },
        { """{"type":"sfu-restart"}""", "\"pc\" must be" },
    };

    [Theory]
    [MemberData(nameof(MalformedSfuMessages))]
    public async Task A_malformed_sfu_message_is_a_bad_request_that_says_what_is_wrong(string message, string says)
    {
        await using var server = await ParleyTestServer.StartAsync(UnreachableJanus, Ct);
        var (client, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "bad", "Ada", Ct, "sfu");
        await using var c = client;
        await c.SendTextAsync(message, Ct);
        var error = await c.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains(says, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // The connection is fine afterwards.
        await c.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await c.ReceiveAsync(Ct)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_candidate_line_longer_than_1024_characters_is_refused()
    {
        await using var server = await ParleyTestServer.StartAsync(UnreachableJanus, Ct);
        var (client, _) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "long", "Ada", Ct, "sfu");
        await using var c = client;
        await c.SendAsync(new { type = "sfu-candidate", pc = "publish", candidate = new { candidate = "candidate:" + new string('x', 1020) } }, Ct);
        var error = await c.ReceiveErrorAsync("bad-request", Ct);
        Assert.Contains("1024", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_whose_client_cannot_use_the_media_server_keeps_the_room_a_mesh()
    {
        await using var server = await ParleyTestServer.StartAsync(UnreachableJanus, Ct);
        var clients = new List<SignalingClient>();
        try
        {
            // One v1 client (no features) among four: the fifth may not move the room.
            clients.Add((await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "old", "Old", Ct)).Client);
            for (var i = 1; i < 4; i++)
            {
                clients.Add((await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "old", $"P{i}", Ct, "sfu")).Client);
            }
            await using var fifth = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
            await fifth.SendAsync(new { type = "join", version = 1, room = "old", name = "P4", features = SfuFeature }, Ct);
            var error = await fifth.ReceiveTypeAsync("error", Ct);
            // While the media server is unreachable, that is the reason given first.
            Assert.Equal("room-full", error.GetProperty("code").GetString());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public void The_joined_mode_is_written_for_every_join()
    {
        var joined = JsonSerializer.Serialize(new Parley.Signaling.JoinedMessage("r", new("p_a", "A"), [], [], "all"), Parley.Signaling.ParleyJsonContext.Default.JoinedMessage);
        Assert.Contains("\"mode\":\"mesh\"", joined, StringComparison.Ordinal);
    }
}

public sealed class SdpScrubTests
{
    [Theory]
    [InlineData("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=VideoRoom 1656298684392075\r\nt=0 0\r\n", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")]
    [InlineData("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=VideoRoom 42\nt=0 0\n", "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\n", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\n")]
    [InlineData("v=0\r\ns=VideoRoom 7", "v=0\r\ns=-")]
    public void Janus_session_names_which_hold_its_room_id_are_replaced(string sdp, string scrubbed) =>
        Assert.Equal(scrubbed, Parley.Sfu.VideoRoom.Scrub(sdp));
}
