using System.Text.Json;
using Parley.Sfu.Janus;

namespace Parley.Server.Tests.Janus;

/// <summary>JanusHandleTests drive plugin messages and the routing of events to handles.</summary>
public sealed class JanusHandleTests : JanusTestKit
{
    private const string Joined = """{"videoroom":"joined","room":4242,"id":1001,"private_id":3822119,"publishers":[]}""";

    [Fact]
    public async Task An_ack_then_the_event_completes_MessageAsync_with_the_events_data_and_jsep()
    {
        Fake.OnMessage = async (request, connection) =>
        {
            await connection.AckAsync(request);
            await connection.EventAsync(request, Joined, FakeJanusConnection.Offer("v=0 offer"));
        };
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;

        var reply = await Within(handle.MessageAsync(Body("""{"request":"join","ptype":"publisher","room":4242}"""), null, Ct));

        Assert.Equal("joined", reply.Data.GetProperty("videoroom").GetString());
        Assert.Equal(3822119, reply.Data.GetProperty("private_id").GetInt64());
        Assert.Equal(new Jsep("offer", "v=0 offer"), reply.Jsep);
        Assert.Contains(("message:join", (int?)null), Observer.Outcomes);
    }

    [Fact]
    public async Task The_event_before_its_ack_completes_MessageAsync_and_the_late_ack_is_ignored()
    {
        Fake.OnMessage = async (request, connection) =>
        {
            await connection.EventAsync(request, """{"videoroom":"event","configured":"ok"}""", """{"type":"answer","sdp":"v=0 answer"}""");
            await connection.AckAsync(request);
        };
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;
        var events = EventRecorder.Listen(handle);

        var reply = await Within(handle.MessageAsync(Body("""{"request":"configure"}"""), new Jsep("offer", "v=0 offer"), Ct));
        await Within(handle.HangupAsync(Ct));

        Assert.Equal("ok", reply.Data.GetProperty("configured").GetString());
        Assert.Equal(new Jsep("answer", "v=0 answer"), reply.Jsep);
        Assert.Equal(0, events.Count);
        Assert.True(session.IsOpen);
    }

    [Fact]
    public async Task A_sync_plugin_success_completes_MessageAsync()
    {
        Fake.OnMessage = (request, connection) => connection.PluginSuccessAsync(request, """{"videoroom":"created","room":4242,"permanent":false}""");
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;

        var reply = await Within(handle.MessageAsync(Body("""{"request":"create","room":4242}"""), null, Ct));

        Assert.Equal("created", reply.Data.GetProperty("videoroom").GetString());
        Assert.Equal(4242, reply.Data.GetProperty("room").GetInt32());
        Assert.Null(reply.Jsep);
    }

    [Theory]
    [InlineData(428, "No such feed (1003)", true)]
    [InlineData(425, "Already in as a publisher on this handle", true)]
    [InlineData(436, "User ID 1001 already exists", true)]
    [InlineData(427, "Room 4242 already exists", false)]
    public async Task A_plugin_error_code_throws_JanusException_with_that_code(int code, string reason, bool async)
    {
        Fake.OnMessage = async (request, connection) =>
        {
            var data = $$"""{"videoroom":"event","error_code":{{code}},"error":"{{reason}}"}""";
            if (async)
            {
                await connection.AckAsync(request);
                await connection.EventAsync(request, data);
            }
            else
            {
                await connection.PluginSuccessAsync(request, data);
            }
        };
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;

        var e = await Assert.ThrowsAsync<JanusException>(() => Within(handle.MessageAsync(Body("""{"request":"join"}"""), null, Ct)));

        Assert.Equal(code, e.Code);
        Assert.Equal(reason, e.Reason);
        Assert.Equal("message:join", e.Request);
        Assert.Contains(("message:join", (int?)code), Observer.Outcomes);
        Assert.True(session.IsOpen);
    }

    [Theory]
    [InlineData(458, "No such session 4471000137700")]
    [InlineData(465, "Error processing SDP")]
    public async Task A_core_error_throws_JanusException_with_that_code(int code, string reason)
    {
        Fake.OnMessage = (request, connection) => connection.ErrorAsync(request, code, reason);
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;

        var e = await Assert.ThrowsAsync<JanusException>(() =>
            Within(handle.MessageAsync(Body("""{"request":"publish"}"""), new Jsep("offer", "bad"), Ct)));

        Assert.Equal(code, e.Code);
        Assert.Equal(reason, e.Reason);
        Assert.Equal("message:publish", e.Request);
    }

    [Fact]
    public async Task Events_reach_the_right_handle_in_arrival_order_and_not_another()
    {
        var (session, connection) = await ConnectAsync();
        await using var _ = session;
        var first = await Attach(session);
        var second = await Attach(session);
        var firstEvents = EventRecorder.Listen(first);
        var secondEvents = EventRecorder.Listen(second);

        await connection.UnsolicitedAsync(first.Id, """{"videoroom":"updated","room":4242,"streams":[]}""", FakeJanusConnection.Offer("v=0 update"));
        await connection.CoreEventAsync("webrtcup", second.Id);
        await connection.CoreEventAsync("webrtcup", first.Id);
        await connection.CoreEventAsync("media", first.Id, """ "mid":"1","type":"video","receiving":true""");
        await connection.CoreEventAsync("slowlink", first.Id, """ "mid":"1","media":"video","uplink":true,"lost":12""");
        await connection.CoreEventAsync("media", second.Id, """ "mid":"0","type":"audio","receiving":false,"seconds":1""");
        await connection.CoreEventAsync("trickle", first.Id, """ "candidate":{"sdpMid":"0","sdpMLineIndex":0,"candidate":"candidate:1 1 udp 1 10.0.0.2 40000 typ host"}""");
        await connection.CoreEventAsync("trickle", first.Id, """ "candidate":{"completed":true}""");
        await connection.CoreEventAsync("hangup", first.Id, """ "reason":"DTLS alert" """);
        await connection.CoreEventAsync("detached", first.Id);
        await connection.CoreEventAsync("webrtcup", first.Id);

        var plugin = await firstEvents.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Plugin, plugin.Kind);
        Assert.Equal("updated", plugin.Data!.Value.GetProperty("videoroom").GetString());
        Assert.Equal(new Jsep("offer", "v=0 update"), plugin.Jsep);
        Assert.Equal(first.Id, plugin.Message.GetProperty("sender").GetInt64());
        Assert.Equal(JanusEventKind.WebrtcUp, (await firstEvents.NextAsync(Ct)).Kind);
        var media = await firstEvents.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Media, media.Kind);
        Assert.Null(media.Data);
        Assert.Equal("1", media.Message.GetProperty("mid").GetString());
        Assert.Equal(12, (await firstEvents.NextAsync(Ct)) is { Kind: JanusEventKind.SlowLink } slow ? slow.Message.GetProperty("lost").GetInt32() : -1);
        var candidate = await firstEvents.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Trickle, candidate.Kind);
        Assert.Equal(0, candidate.Message.GetProperty("candidate").GetProperty("sdpMLineIndex").GetInt32());
        var completed = await firstEvents.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Trickle, completed.Kind);
        Assert.True(completed.Message.GetProperty("candidate").GetProperty("completed").GetBoolean());
        var hangup = await firstEvents.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Hangup, hangup.Kind);
        Assert.Equal("DTLS alert", hangup.Message.GetProperty("reason").GetString());
        Assert.Equal(JanusEventKind.Detached, (await firstEvents.NextAsync(Ct)).Kind);

        Assert.Equal(JanusEventKind.WebrtcUp, (await secondEvents.NextAsync(Ct)).Kind);
        Assert.Equal(JanusEventKind.Media, (await secondEvents.NextAsync(Ct)).Kind);
        await Within(second.HangupAsync(Ct));
        Assert.Equal(0, firstEvents.Count);
        Assert.Equal(0, secondEvents.Count);
    }

    [Fact]
    public async Task Events_that_arrive_before_OnEvent_is_set_are_delivered_in_order_once_it_is_set()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;

        await connection.CoreEventAsync("webrtcup", handle.Id);
        await connection.CoreEventAsync("media", handle.Id, """ "mid":"0","type":"audio","receiving":true""");
        await connection.UnsolicitedAsync(handle.Id, """{"videoroom":"event","publishers":[]}""");
        await Within(handle.HangupAsync(Ct));
        var events = EventRecorder.Listen(handle);

        Assert.Equal(3, events.Count);
        Assert.Equal(JanusEventKind.WebrtcUp, (await events.NextAsync(Ct)).Kind);
        Assert.Equal(JanusEventKind.Media, (await events.NextAsync(Ct)).Kind);
        Assert.Equal(JanusEventKind.Plugin, (await events.NextAsync(Ct)).Kind);
        await connection.CoreEventAsync("hangup", handle.Id, """ "reason":"Janus API" """);
        Assert.Equal(JanusEventKind.Hangup, (await events.NextAsync(Ct)).Kind);
    }

    [Fact]
    public async Task At_most_256_events_wait_for_OnEvent_and_the_overflow_is_logged_once()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;

        for (var i = 0; i < 300; i++)
        {
            await connection.CoreEventAsync("media", handle.Id, $$""" "mid":"{{i}}","type":"video","receiving":true""");
        }
        await Within(handle.HangupAsync(Ct));
        var events = EventRecorder.Listen(handle);

        Assert.Equal(256, events.Count);
        Assert.Equal("0", (await events.NextAsync(Ct)).Message.GetProperty("mid").GetString());
        Assert.Single(Logs.Lines, l => l.Contains("[308]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_event_with_a_transaction_that_is_not_pending_is_a_plugin_event_for_its_handle()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var events = EventRecorder.Listen(handle);

        await connection.SendAsync(connection.PluginMessage("event", handle.Id, "not-ours", """{"videoroom":"updated"}""", FakeJanusConnection.Offer("v=0 x")));

        var e = await events.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Plugin, e.Kind);
        Assert.Equal("offer", e.Jsep!.Type);
    }

    [Fact]
    public async Task A_detached_handle_gets_no_more_events_and_detaching_a_gone_handle_is_not_an_error()
    {
        var detaches = 0;
        Fake.Handler = (request, connection) => (string?)request["janus"] == "detach" && Interlocked.Increment(ref detaches) > 1
            ? connection.ErrorAsync(request, 459, "No such handle")
            : connection.AnswerAsync(request);
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var events = EventRecorder.Listen(handle);

        await Within(handle.DetachAsync(Ct));
        await connection.CoreEventAsync("detached", handle.Id);
        await connection.CoreEventAsync("webrtcup", handle.Id);
        await Within(handle.DetachAsync(Ct));

        Assert.Equal(2, detaches);
        Assert.Equal(0, events.Count);
    }

    [Fact]
    public async Task Detaching_after_the_session_ended_is_not_an_error()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        connection.Drop();
        await Within(session.Closed);

        await Within(handle.DetachAsync(Ct));
    }

    [Fact]
    public async Task A_handler_that_throws_is_logged_and_later_events_still_arrive()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var events = new EventRecorder();
        handle.OnEvent = e =>
        {
            events.Handler(e);
            if (e.Kind == JanusEventKind.WebrtcUp)
            {
                throw new InvalidOperationException("boom");
            }
        };

        await connection.CoreEventAsync("webrtcup", handle.Id);
        await connection.CoreEventAsync("hangup", handle.Id, """ "reason":"ICE failed" """);

        Assert.Equal(JanusEventKind.WebrtcUp, (await events.NextAsync(Ct)).Kind);
        Assert.Equal(JanusEventKind.Hangup, (await events.NextAsync(Ct)).Kind);
        Assert.Contains(Logs.Lines, l => l.Contains("[307]", StringComparison.Ordinal) && l.Contains("boom", StringComparison.Ordinal));
        Assert.True(session.IsOpen);
    }

    [Fact]
    public async Task Buffered_events_are_dropped_when_the_session_ends()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        await connection.CoreEventAsync("webrtcup", handle.Id);
        await Within(handle.HangupAsync(Ct));

        connection.Drop();
        await Within(session.Closed);
        var events = EventRecorder.Listen(handle);

        Assert.Equal(0, events.Count);
    }

    [Fact]
    public async Task The_reply_data_outlives_the_message_it_came_in()
    {
        Fake.OnMessage = (request, connection) => connection.PluginSuccessAsync(request, """{"videoroom":"success","list":[{"room":1},{"room":2}]}""");
        var (session, _, handle) = await AttachAsync();
        await using var _ = session;

        var first = await Within(handle.MessageAsync(Body("""{"request":"list"}"""), null, Ct));
        await Within(handle.MessageAsync(Body("""{"request":"list"}"""), null, Ct));

        Assert.Equal(JsonValueKind.Array, first.Data.GetProperty("list").ValueKind);
        Assert.Equal(2, first.Data.GetProperty("list")[1].GetProperty("room").GetInt32());
    }
}
