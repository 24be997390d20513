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

/// <summary>ScreenShareSdpTests: how the server finds a publisher's screen m-line, describes it to Janus and tells subscribers which m-line is a screen.</summary>
public sealed class ScreenShareSdpTests
{
    private const string Head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n";
    private const string Audio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n";
    private const string Camera = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\na=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l\r\n";
    private const string Screen = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n";

    public static TheoryData<string, string?> Offers() => new()
    {
        { Head + Audio + Camera + Screen, "2" },
        // Line endings of either kind.
        { (Head + Audio + Camera + Screen).Replace("\r\n", "\n", StringComparison.Ordinal), "2" },
        // The second video m-line, wherever it is and whatever its mid.
        { Head + Camera.Replace("a=mid:1", "a=mid:v", StringComparison.Ordinal) + Audio + Screen.Replace("a=mid:2", "a=mid:screen", StringComparison.Ordinal), "screen" },
        // A camera alone, or audio alone: no screen.
        { Head + Audio + Camera, null },
        { Head + Audio, null },
        { "", null },
        // A second video m-line without a mid has nothing to describe.
        { Head + Audio + Camera + Screen.Replace("a=mid:2\r\n", "", StringComparison.Ordinal), null },
        // The mid of the screen m-line, not that of a later one.
        { Head + Audio + Camera + Screen.Replace("a=mid:2\r\n", "", StringComparison.Ordinal) + Audio.Replace("a=mid:0", "a=mid:3", StringComparison.Ordinal), null },
    };

    [Theory]
    [MemberData(nameof(Offers))]
    public void The_screen_mid_is_the_mid_of_the_second_video_m_line(string sdp, string? mid) =>
        Assert.Equal(mid, Parley.Sfu.VideoRoom.ScreenMid(sdp));

    [Fact]
    public void A_publish_with_a_screen_m_line_describes_it_to_Janus_as_the_screen()
    {
        var mid = Parley.Sfu.VideoRoom.ScreenMid(Head + Audio + Camera + Screen);
        foreach (var body in new[] { Parley.Sfu.VideoRoom.JoinAndPublish(42, 7, mid), Parley.Sfu.VideoRoom.Configure(mid) })
        {
            Assert.Equal("""[{"mid":"2","description":"screen"}]""", body["descriptions"]!.ToJsonString());
        }
        Assert.Equal("joinandconfigure", Parley.Sfu.VideoRoom.JoinAndPublish(42, 7, mid)["request"]!.GetValue<string>());
        Assert.Equal("configure", Parley.Sfu.VideoRoom.Configure(mid)["request"]!.GetValue<string>());
    }

    [Fact]
    public void A_publish_without_a_screen_m_line_describes_nothing()
    {
        Assert.False(Parley.Sfu.VideoRoom.JoinAndPublish(42, 7, null).ContainsKey("descriptions"));
        Assert.False(Parley.Sfu.VideoRoom.Configure(null).ContainsKey("descriptions"));
        Assert.False(Parley.Sfu.VideoRoom.Configure().ContainsKey("descriptions"));
    }

    [Fact]
    public void Subscriber_streams_described_as_the_screen_are_of_kind_screen_and_the_rest_keep_their_type()
    {
        // As Janus 1.1.2 lists a subscriber's streams (janus_videoroom.c: feed_id, feed_mid, feed_description).
        using var doc = JsonDocument.Parse("""
            {"videoroom":"attached","room":42,"streams":[
              {"type":"audio","active":true,"mindex":0,"mid":"0","feed_id":7,"feed_mid":"0","codec":"opus"},
              {"type":"video","active":true,"mindex":1,"mid":"1","feed_id":7,"feed_mid":"1","codec":"vp8","simulcast":true},
              {"type":"video","active":true,"mindex":2,"mid":"2","feed_id":7,"feed_mid":"2","feed_description":"screen","codec":"vp8"},
              {"type":"video","active":true,"mindex":3,"mid":"3","feed_id":8,"feed_mid":"1","feed_description":"camera","codec":"vp8"},
              {"type":"video","active":false,"mindex":4,"mid":"4","feed_id":9,"feed_mid":"2","feed_description":"screen","codec":"vp8"},
              {"type":"data","active":true,"mindex":5,"mid":"5","feed_id":7}
            ]}
            """);
        var streams = Parley.Sfu.VideoRoom.Streams(doc.RootElement).ToArray();
        Assert.Equal(
            [("0", 7L, "audio"), ("1", 7L, "video"), ("2", 7L, "screen"), ("3", 8L, "video")],
            streams);
    }
}
