using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// SfuTrustTests drive the SFU messages with a protocol-level client (sfuclient.js) against a real
/// Janus: publishing and subscribing work, Janus's ids stay on the server, and hostile or broken
/// input gets a clear error to its sender while the room, the others and Parley's Janus session
/// go on.
/// </summary>
public sealed class SfuTrustTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] StreamFields = ["kind", "mid", "peer"];

    [Fact]
    public async Task A_protocol_client_publishes_and_subscribes_through_real_Janus_and_learns_only_participant_ids()
    {
        await using var call = await SfuCall.StartAsync("trust-pubsub", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await ada.PublishAsync();
        await grace.PublishAsync();

        await ada.WaitForMediaAsync(1, Ct);
        await grace.WaitForMediaAsync(1, Ct);

        var offer = await ada.NextAsync("sfu-offer");
        Assert.Equal("subscribe", offer.GetProperty("pc").GetString());
        Assert.True(offer.GetProperty("fresh").GetBoolean());
        var streams = offer.GetProperty("streams").EnumerateArray().ToList();
        Assert.Equal(["audio", "video"], streams.Select(s => s.GetProperty("kind").GetString()).Order());
        Assert.All(streams, s =>
        {
            Assert.Equal(grace.Id, s.GetProperty("peer").GetString());
            Assert.Equal(StreamFields, s.EnumerateObject().Select(p => p.Name).Order());
        });

        // No Janus room id appears in anything a client was sent.
        await using var janus = await JanusWebSocket.ConnectAsync(call.Janus.WebSocketUri, Ct);
        var handle = await janus.AttachVideoRoomAsync(call.Janus.ApiSecret, Ct);
        var list = await janus.VideoRoomAsync(handle, call.Janus.ApiSecret, new JsonObject { ["request"] = "list", ["admin_key"] = call.Janus.AdminKey }, Ct);
        var roomIds = list.GetProperty("list").EnumerateArray().Select(r => r.GetProperty("room").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(roomIds);
        foreach (var client in new[] { ada, grace })
        {
            var everything = string.Join('\n', (await client.MessagesAsync()).Select(m => m.GetRawText()));
            Assert.All(roomIds, id => Assert.DoesNotContain(id, everything, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Garbage_sdp_gets_sfu_failed_to_its_sender_and_the_room_and_the_sender_carry_on()
    {
        await using var call = await SfuCall.StartAsync("trust-garbage", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await using var mallory = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Mallory");
        await ada.PublishAsync();
        await grace.PublishAsync();
        await ada.WaitForMediaAsync(1, Ct);

        var before = await mallory.CountAsync();
        await mallory.RawAsync(new { type = "sfu-offer", pc = "publish", sdp = "v=0\r\nthis is not an SDP\r\n", fresh = true, id = "g1" });
        var error = await mallory.NextAsync("error", before);
        Assert.Equal("sfu-failed", error.GetProperty("code").GetString());
        Assert.Equal("g1", error.GetProperty("ref").GetString());
        Assert.Contains("media server refused", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // An offer that is valid SDP but no media description Janus can take.
        before = await mallory.CountAsync();
        await mallory.RawAsync(new { type = "sfu-offer", pc = "publish", sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", id = "g2" });
        Assert.Equal("sfu-failed", (await mallory.NextAsync("error", before)).GetProperty("code").GetString());

        // The sender can still publish properly, and everyone then gets everyone.
        await mallory.PublishAsync();
        await ada.WaitForMediaAsync(2, Ct);
        await grace.WaitForMediaAsync(2, Ct);
        await mallory.WaitForMediaAsync(2, Ct);
    }

    [Fact]
    public async Task An_answer_with_no_offer_waiting_and_an_offer_in_the_answers_place_are_refused_without_harm()
    {
        await using var call = await SfuCall.StartAsync("trust-wrong-pc", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var mallory = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Mallory");
        var sdp = await mallory.OfferSdpAsync();

        // Nothing was offered on Mallory's subscribe connection yet.
        var before = await mallory.CountAsync();
        await mallory.RawAsync(new { type = "sfu-answer", pc = "subscribe", sdp, id = "a1" });
        var error = await mallory.NextAsync("error", before);
        Assert.Equal(("bad-request", "a1"), (error.GetProperty("code").GetString(), error.GetProperty("ref").GetString()));
        Assert.Contains("No subscribe offer is waiting", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Once an offer waits, answering it with an offer (an SDP for the wrong side) is refused by Janus.
        await mallory.SetAutoAnswerAsync(false);
        await ada.PublishAsync();
        await mallory.NextAsync("sfu-offer");
        before = await mallory.CountAsync();
        await mallory.RawAsync(new { type = "sfu-answer", pc = "subscribe", sdp = "v=0\r\nnot an answer\r\n", id = "a2" });
        Assert.Equal("sfu-failed", (await mallory.NextAsync("error", before)).GetProperty("code").GetString());

        // Ada's publishing is untouched: a newcomer receives her.
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await grace.WaitForMediaAsync(1, Ct);
    }

    [Fact]
    public async Task Candidates_before_any_sdp_get_a_clear_error()
    {
        await using var call = await SfuCall.StartAsync("trust-early", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        var candidate = new { candidate = "candidate:1 1 udp 2122260223 10.231.9.1 40000 typ host", sdpMid = "0", sdpMLineIndex = 0 };

        await ada.RawAsync(new { type = "sfu-candidate", pc = "publish", candidate, id = "c1" });
        var publish = await ada.NextAsync("error");
        Assert.Equal(("bad-request", "c1"), (publish.GetProperty("code").GetString(), publish.GetProperty("ref").GetString()));
        Assert.Contains("No publish connection yet", publish.GetProperty("message").GetString(), StringComparison.Ordinal);

        var before = await ada.CountAsync();
        await ada.RawAsync(new { type = "sfu-candidate", pc = "subscribe", candidate, id = "c2" });
        var subscribe = await ada.NextAsync("error", before);
        Assert.Contains("No subscribe connection yet", subscribe.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Ada goes on to publish normally.
        await ada.PublishAsync();
        await grace.WaitForMediaAsync(1, Ct);
    }

    [Fact]
    public async Task A_flood_of_candidates_is_cut_off_at_64_and_the_call_goes_on()
    {
        await using var call = await SfuCall.StartAsync("trust-flood", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var mallory = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Mallory");
        await ada.PublishAsync();
        await mallory.PublishAsync();
        await ada.WaitForMediaAsync(1, Ct);

        var before = await mallory.CountAsync();
        for (var i = 0; i < 80; i++)
        {
            await mallory.RawAsync(new { type = "sfu-candidate", pc = "publish", candidate = new { candidate = $"candidate:{i} 1 udp 1 192.0.2.{i} 9 typ host", sdpMid = "0", sdpMLineIndex = 0 } });
        }
        // At least the 16 past 64 (more if the browser's own candidates counted too) are refused.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        List<JsonElement> refused;
        do
        {
            await Task.Delay(200, Ct);
            refused = [.. (await mallory.MessagesAsync()).Skip(before).Where(m => m.GetProperty("type").GetString() == "error")];
        }
        while (refused.Count < 16 && DateTime.UtcNow < deadline);
        Assert.InRange(refused.Count, 16, 80);
        Assert.All(refused, e => Assert.Contains("Too many candidates", e.GetProperty("message").GetString(), StringComparison.Ordinal));

        // The room and Parley's Janus session are fine: a newcomer gets both.
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await grace.WaitForMediaAsync(2, Ct);
    }

    [Fact]
    public async Task A_client_receives_only_its_own_rooms_media_whatever_it_sends()
    {
        await using var call = await SfuCall.StartAsync("trust-rooms", meshMax: 1, Ct);
        var other = TestRooms.New();
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await using var alan = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, other, "Alan");
        await using var edsger = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, other, "Edsger");
        await ada.PublishAsync();
        await alan.PublishAsync();
        await edsger.PublishAsync();
        // Grace asks for more than her own room: fields naming Janus feeds and rooms are not part of the protocol and are ignored.
        await grace.RawAsync(new { type = "sfu-offer", pc = "publish", sdp = await grace.OfferSdpAsync(), feed = 1, room = 1, streams = new[] { new { mid = "0", peer = alan.Id, kind = "audio" } } });

        await grace.WaitForMediaAsync(1, Ct);
        await edsger.WaitForMediaAsync(1, Ct);
        var peers = (await grace.MessagesAsync())
            .Where(m => m.GetProperty("type").GetString() == "sfu-offer")
            .SelectMany(m => m.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("peer").GetString()))
            .ToHashSet();
        Assert.Equal([ada.Id], peers);
    }

    [Fact]
    public async Task A_subscribe_restart_gets_a_fresh_ice_offer_from_the_media_server_and_media_goes_on()
    {
        await using var call = await SfuCall.StartAsync("trust-restart", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await ada.PublishAsync();
        await grace.WaitForMediaAsync(1, Ct);
        var first = await grace.NextAsync("sfu-offer");

        var before = await grace.CountAsync();
        await grace.RawAsync(new { type = "sfu-restart", pc = "subscribe" });
        var restart = await grace.NextAsync("sfu-offer", before);

        Assert.False(restart.TryGetProperty("fresh", out _));
        Assert.NotEqual(Ufrag(first.GetProperty("sdp").GetString()!), Ufrag(restart.GetProperty("sdp").GetString()!));
        // The same streams, still mapped to Ada, and still playing after the restart.
        Assert.All(restart.GetProperty("streams").EnumerateArray(), s => Assert.Equal(ada.Id, s.GetProperty("peer").GetString()));
        var (frames, packets, _, _) = await grace.InboundAsync();
        await UntilAsync(TimeSpan.FromSeconds(15), async () =>
        {
            var now = await grace.InboundAsync();
            return (now.Frames > frames + 20 && now.AudioPackets > packets + 20, $"Media stopped after the ICE restart: {frames}/{packets} then {now.Frames}/{now.AudioPackets}.");
        });
    }

    [Fact]
    public async Task A_fresh_subscribe_restart_replaces_the_connection_with_the_same_streams_and_without_one_it_is_refused()
    {
        await using var call = await SfuCall.StartAsync("trust-resubscribe", meshMax: 1, Ct);
        await using var ada = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Ada");
        await using var grace = await SfuProtocolClient.JoinAsync(_browser, call.Parley.BaseUri, call.Room, "Grace");
        await ada.PublishAsync();
        await grace.WaitForMediaAsync(1, Ct);

        // Ada receives nobody (Grace sends nothing): no subscribe connection to replace.
        var refusedFrom = await ada.CountAsync();
        await ada.RawAsync(new { type = "sfu-restart", pc = "subscribe", fresh = true });
        var refused = await ada.NextAsync("error", refusedFrom, "bad-request");
        Assert.Contains("No subscribe connection", refused.GetProperty("message").GetString(), StringComparison.Ordinal);

        var before = await grace.CountAsync();
        await grace.RawAsync(new { type = "sfu-restart", pc = "subscribe", fresh = true });
        var fresh = await grace.NextAsync("sfu-offer", before);
        Assert.True(fresh.GetProperty("fresh").GetBoolean());
        Assert.NotEmpty(fresh.GetProperty("streams").EnumerateArray());
        Assert.All(fresh.GetProperty("streams").EnumerateArray(), s => Assert.Equal(ada.Id, s.GetProperty("peer").GetString()));
        // A second subscribe connection replaced the first, and plays Ada from its first frames on.
        await UntilAsync(TimeSpan.FromSeconds(20), async () =>
        {
            var subscribes = (await grace.Page.EvaluateAsync<JsonElement>("() => window.__sfu.state()")).GetProperty("subscribes").GetInt32();
            var now = subscribes == 2 ? await grace.InboundAsync() : default;
            return (now.Frames > 20 && now.AudioPackets > 20, $"The fresh subscribe connection does not play: {now.Frames} frames, {now.AudioPackets} audio packets.");
        });
    }

    /// <summary>UntilAsync polls <paramref name="check"/> every 250 ms until it holds, failing with its message at the deadline.</summary>
    private static async Task UntilAsync(TimeSpan timeout, Func<Task<(bool Done, string Why)>> check)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (done, why) = await check();
            if (done)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, why);
            await Task.Delay(250, Ct);
        }
    }

    private static string Ufrag(string sdp) =>
        sdp.Split('\n').First(l => l.StartsWith("a=ice-ufrag:", StringComparison.Ordinal)).Trim();
}
