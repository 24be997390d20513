using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Parley.Sfu.Janus;

namespace Parley.Server.Tests.Janus;

/// <summary>JanusSessionTests drive the session against the scripted fake: connect, requests, timeouts and endings.</summary>
public sealed class JanusSessionTests : JanusTestKit
{
    [Fact]
    public async Task Connect_asks_info_then_creates_the_session_and_keeps_the_server_info()
    {
        var (session, connection) = await ConnectAsync();
        await using var _ = session;

        Assert.Equal(["info", "create"], connection.Requests.Select(r => (string?)r["janus"]));
        Assert.Equal(connection.SessionId, session.Id);
        Assert.True(session.IsOpen);
        Assert.Equal("server_info", session.ServerInfo.GetProperty("janus").GetString());
        Assert.Equal(1102, session.ServerInfo.GetProperty("version").GetInt32());
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task Every_request_has_a_fresh_transaction_the_api_secret_and_its_session_and_handle_ids()
    {
        Fake.OnMessage = (request, connection) => connection.PluginSuccessAsync(request, """{"videoroom":"success"}""");
        var (session, connection) = await ConnectAsync();
        var handle = await Within(session.AttachAsync("janus.plugin.videoroom", "parley:room:alice", Ct));
        await Within(handle.MessageAsync(Body("""{"request":"exists","room":4242}"""), null, Ct));
        await Within(handle.MessageAsync(Body("""{"request":"publish"}"""), new Jsep("offer", "v=0\r\n"), Ct));
        await Within(handle.TrickleAsync(Body("""{"candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}"""), Ct));
        await Within(handle.TrickleAsync(null, Ct));
        await Within(handle.HangupAsync(Ct));
        await Within(handle.DetachAsync(Ct));
        await session.DisposeAsync();

        var requests = connection.Requests;
        Assert.Equal(
            ["info", "create", "attach", "message", "message", "trickle", "trickle", "hangup", "detach", "destroy"],
            requests.Select(r => (string?)r["janus"]));
        Assert.All(requests, r => Assert.Equal(Secret, (string?)r["apisecret"]));
        Assert.Equal(requests.Count, requests.Select(r => (string?)r["transaction"]).Distinct().Count());
        Assert.All(requests.Take(2), r => Assert.Null(r["session_id"]));
        Assert.All(requests.Skip(2), r => Assert.Equal(connection.SessionId, (long?)r["session_id"]));
        Assert.All(requests.Where(r => (string?)r["janus"] is "attach" or "destroy"), r => Assert.Null(r["handle_id"]));
        Assert.All(requests.Skip(3).SkipLast(1), r => Assert.Equal(handle.Id, (long?)r["handle_id"]));

        Assert.Equal("janus.plugin.videoroom", (string?)requests[2]["plugin"]);
        Assert.Equal("parley:room:alice", (string?)requests[2]["opaque_id"]);
        Assert.Equal("""{"request":"exists","room":4242}""", requests[3]["body"]!.ToJsonString());
        Assert.False(requests[3].ContainsKey("jsep"));
        Assert.Equal("offer", (string?)requests[4]["jsep"]!["type"]);
        Assert.Equal("v=0\r\n", (string?)requests[4]["jsep"]!["sdp"]);
        Assert.Equal("0", (string?)requests[5]["candidate"]!["sdpMid"]);
        Assert.Equal(0, (int?)requests[5]["candidate"]!["sdpMLineIndex"]);
        Assert.StartsWith("candidate:1", (string?)requests[5]["candidate"]!["candidate"], StringComparison.Ordinal);
        Assert.Equal("""{"completed":true}""", requests[6]["candidate"]!.ToJsonString());
    }

    [Fact]
    public async Task A_unix_url_reaches_Janus_through_its_socket_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"parley-janus-{Guid.NewGuid():N}.sock");
        await using var fake = await FakeJanus.StartAsync(path, Ct);
        try
        {
            Assert.Equal(new Uri("unix://localhost" + path), fake.Url);
            await using var session = await Within(JanusSession.ConnectAsync(
                new JanusClientOptions { Url = fake.Url }, TimeProvider.System, Logs.CreateLogger("Janus"), null, Ct));

            var handle = await Attach(session);

            var connection = await fake.NextConnectionAsync(Ct);
            Assert.Equal(["info", "create", "attach"], connection.Requests.Select(r => (string?)r["janus"]));
            Assert.Equal(connection.SessionId, session.Id);
            Assert.NotEqual(0, handle.Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_url_that_is_not_a_WebSocket_or_unix_socket_is_refused_at_once()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => JanusSession.ConnectAsync(
            new JanusClientOptions { Url = new Uri("http://127.0.0.1:8088/janus") }, TimeProvider.System, Logs.CreateLogger("Janus"), null, Ct));

        Assert.Contains("ws:// or wss://", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_api_secret_is_sent_when_none_is_set()
    {
        var options = Options();
        var (session, connection) = await ConnectAsync(options: new JanusClientOptions { Url = options.Url });
        await using var _ = session;

        Assert.All(connection.Requests, r => Assert.False(r.ContainsKey("apisecret")));
    }

    [Fact]
    public async Task A_keepalive_is_sent_every_interval()
    {
        var time = new FakeTimeProvider();
        var (session, connection) = await ConnectAsync(time);
        await using var _ = session;

        time.Advance(TimeSpan.FromSeconds(24));
        // A request after 24 s passes through the same reader and writer as a keepalive would.
        await Attach(session);
        Assert.DoesNotContain(connection.Requests, r => (string?)r["janus"] == "keepalive");

        time.Advance(TimeSpan.FromSeconds(1));
        var first = await connection.TakeAsync("keepalive", Ct);
        Assert.Equal(connection.SessionId, (long?)first["session_id"]);
        Assert.Equal(Secret, (string?)first["apisecret"]);
        // The ack must be in before the clock moves on, or the keepalive's own timeout would pass.
        await Within(Observer.WaitForAsync("keepalive", 1));

        time.Advance(TimeSpan.FromSeconds(25));
        var second = await connection.TakeAsync("keepalive", Ct);
        Assert.NotEqual((string?)first["transaction"], (string?)second["transaction"]);
        Assert.True(session.IsOpen);
    }

    [Fact]
    public async Task A_Janus_without_the_videoroom_plugin_is_refused_with_a_clear_message()
    {
        Fake.Plugins = ["janus.plugin.echotest"];

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Within(JanusSession.ConnectAsync(Options(), TimeProvider.System, Logs.CreateLogger("Janus"), null, Ct)));

        Assert.Contains("no VideoRoom plugin (janus.plugin.videoroom)", e.Message, StringComparison.Ordinal);
        var connection = await Fake.NextConnectionAsync(Ct);
        await Within(connection.Ended);
        Assert.DoesNotContain(connection.Requests, r => (string?)r["janus"] == "create");
    }

    [Fact]
    public async Task A_Janus_older_than_1_1_is_refused_with_a_clear_message()
    {
        Fake.Version = 1014;

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Within(JanusSession.ConnectAsync(Options(), TimeProvider.System, Logs.CreateLogger("Janus"), null, Ct)));

        Assert.Contains("is version 1.0.14 (1014); Parley needs Janus 1.1.0 or later", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Janus_that_refuses_the_handshake_is_unavailable()
    {
        Fake.Refuse = true;

        var e = await Assert.ThrowsAsync<JanusUnavailableException>(() =>
            Within(JanusSession.ConnectAsync(Options(), TimeProvider.System, Logs.CreateLogger("Janus"), null, Ct)));

        Assert.Contains(Fake.Url.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_core_error_on_attach_throws_JanusException_with_the_code()
    {
        Fake.Handler = (request, connection) => (string?)request["janus"] == "attach"
            ? connection.ErrorAsync(request, 460, "No such plugin 'janus.plugin.nope'")
            : connection.AnswerAsync(request);
        var (session, _) = await ConnectAsync();
        await using var s = session;

        var e = await Assert.ThrowsAsync<JanusException>(() => Within(session.AttachAsync("janus.plugin.nope", null, Ct)));

        Assert.Equal(460, e.Code);
        Assert.Equal("No such plugin 'janus.plugin.nope'", e.Reason);
        Assert.Equal("attach", e.Request);
        Assert.Contains("attach", e.Message, StringComparison.Ordinal);
        Assert.Contains("460", e.Message, StringComparison.Ordinal);
        Assert.Contains(("attach", (int?)460), Observer.Outcomes);
    }

    [Fact]
    public async Task A_request_Janus_never_answers_times_out_and_its_late_answers_are_ignored()
    {
        var time = new FakeTimeProvider();
        var unanswered = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.OnMessage = (request, connection) => (string?)request["body"]!["request"] == "join"
            ? Task.FromResult(unanswered.TrySetResult(request))
            : connection.PluginSuccessAsync(request, """{"videoroom":"success","exists":true}""");
        var (session, connection, handle) = await AttachAsync(time);
        await using var _ = session;
        var events = EventRecorder.Listen(handle);

        var join = handle.MessageAsync(Body("""{"request":"join","ptype":"publisher","room":4242}"""), null, Ct);
        var request = await Within(unanswered.Task);
        time.Advance(RequestTimeout);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => Within(join));
        Assert.Contains("message:join", e.Message, StringComparison.Ordinal);
        Assert.Contains(("message:join", (int?)408), Observer.Outcomes);

        await connection.AckAsync(request);
        await connection.PluginSuccessAsync(request, """{"videoroom":"success"}""");
        await connection.EventAsync(request, """{"videoroom":"joined","id":1001}""", FakeJanusConnection.Offer("v=0 late"));

        var late = await events.NextAsync(Ct);
        Assert.Equal(JanusEventKind.Plugin, late.Kind);
        Assert.Equal("joined", late.Data!.Value.GetProperty("videoroom").GetString());
        Assert.Equal(new Jsep("offer", "v=0 late"), late.Jsep);
        var reply = await Within(handle.MessageAsync(Body("""{"request":"exists","room":4242}"""), null, Ct));
        Assert.True(reply.Data.GetProperty("exists").GetBoolean());
        Assert.Equal(0, events.Count);
        Assert.True(session.IsOpen);
    }

    [Fact]
    public async Task A_dropped_socket_fails_every_pending_request_and_completes_Closed()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        Fake.Handler = (_, _) => Task.CompletedTask;

        var pending = new[]
        {
            handle.MessageAsync(Body("""{"request":"join"}"""), null, Ct),
            handle.TrickleAsync(null, Ct),
            handle.HangupAsync(Ct),
            session.AttachAsync("janus.plugin.videoroom", null, Ct),
        };
        await connection.TakeAsync("attach", Ct);
        await connection.TakeAsync("attach", Ct);
        connection.Drop();

        foreach (var request in pending)
        {
            await Assert.ThrowsAsync<JanusUnavailableException>(() => Within(request));
        }
        Assert.StartsWith("connection lost", await Within(session.Closed), StringComparison.Ordinal);
        Assert.False(session.IsOpen);
        Assert.Contains(("message:join", (int?)503), Observer.Outcomes);
        await Assert.ThrowsAsync<JanusUnavailableException>(() => Within(session.AttachAsync("janus.plugin.videoroom", null, Ct)));
    }

    [Fact]
    public async Task A_timeout_from_Janus_ends_the_session()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var join = handle.MessageAsync(Body("""{"request":"join"}"""), null, Ct);
        await connection.TakeAsync("message", Ct);

        await connection.SendAsync($$"""{"janus":"timeout","session_id":{{connection.SessionId}}}""");

        Assert.Equal("Janus timed out the session", await Within(session.Closed));
        await Assert.ThrowsAsync<JanusUnavailableException>(() => Within(join));
    }

    [Fact]
    public async Task A_keepalive_answered_with_458_ends_the_session()
    {
        var time = new FakeTimeProvider();
        Fake.Handler = (request, connection) => (string?)request["janus"] == "keepalive"
            ? connection.ErrorAsync(request, 458, "No such session 4471")
            : connection.AnswerAsync(request);
        var (session, _) = await ConnectAsync(time);
        await using var s = session;

        time.Advance(TimeSpan.FromSeconds(25));

        Assert.Equal("keepalive failed: 458 No such session 4471", await Within(session.Closed));
    }

    [Fact]
    public async Task A_keepalive_Janus_does_not_answer_ends_the_session_after_the_request_timeout()
    {
        var time = new FakeTimeProvider();
        Fake.Handler = (request, connection) => (string?)request["janus"] == "keepalive" ? Task.CompletedTask : connection.AnswerAsync(request);
        var (session, connection) = await ConnectAsync(time);
        await using var s = session;

        time.Advance(TimeSpan.FromSeconds(25));
        await connection.TakeAsync("keepalive", Ct);
        Assert.True(session.IsOpen);
        time.Advance(RequestTimeout);

        Assert.Equal("keepalive timed out", await Within(session.Closed));
    }

    [Fact]
    public async Task A_message_in_many_frames_is_assembled()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var events = EventRecorder.Listen(handle);
        var sdp = "v=0 " + new string('a', 40_000);

        await connection.SendFragmentedAsync(
            connection.PluginMessage("event", handle.Id, transaction: null, """{"videoroom":"updated"}""", FakeJanusConnection.Offer(sdp)), parts: 7);

        var e = await events.NextAsync(Ct);
        Assert.Equal(sdp, e.Jsep!.Sdp);
    }

    [Fact]
    public async Task A_message_larger_than_the_limit_ends_the_session()
    {
        var (session, connection) = await ConnectAsync(options: Options(maxMessageBytes: 8192));
        await using var _ = session;

        await connection.SendFragmentedAsync($$"""{"janus":"event","session_id":1,"sender":2,"pad":"{{new string('a', 9000)}}"}""", parts: 3);

        Assert.Equal("Janus sent a message larger than 8192 bytes", await Within(session.Closed));
        await Within(connection.Ended);
    }

    [Fact]
    public async Task Late_unknown_and_malformed_messages_are_ignored_and_the_session_stays_usable()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        var events = EventRecorder.Listen(handle);
        var s = connection.SessionId;

        await connection.SendAsync($$"""{"janus":"ack","session_id":{{s}},"transaction":"nope"}""");
        await connection.SendAsync($$"""{"janus":"success","session_id":{{s}},"transaction":"nope","data":{"id":1} }""");
        await connection.SendAsync($$"""{"janus":"error","session_id":{{s}},"error":{"code":454,"reason":"Failed to parse JSON"} }""");
        await connection.SendAsync($$"""{"janus":"webrtcup","session_id":{{s}},"sender":999}""");
        await connection.SendAsync($$"""{"janus":"webrtcup","session_id":{{s}}}""");
        await connection.SendAsync($$"""{"janus":"something-new","session_id":{{s}}}""");
        await connection.SendAsync("""{"no":"type"}""");
        await connection.SendAsync("not json {");
        await connection.SendAsync($$"""[{"janus":"webrtcup","session_id":{{s}},"sender":{{handle.Id}}},{"janus":"media","session_id":{{s}},"sender":{{handle.Id}},"type":"audio","receiving":true}]""");

        Assert.Equal(JanusEventKind.WebrtcUp, (await events.NextAsync(Ct)).Kind);
        Assert.Equal(JanusEventKind.Media, (await events.NextAsync(Ct)).Kind);
        await Within(handle.HangupAsync(Ct));
        Assert.Equal(0, events.Count);
        Assert.True(session.IsOpen);
        Assert.Contains(Logs.Lines, l => l.Contains("unknown type something-new", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dispose_destroys_the_session_closes_the_socket_and_fails_pending_requests()
    {
        var (session, connection) = await ConnectAsync();
        var handle = await Attach(session);
        var join = handle.MessageAsync(Body("""{"request":"join"}"""), null, Ct);
        await connection.TakeAsync("message", Ct);

        await Within(session.DisposeAsync().AsTask());

        Assert.Equal("destroy", (string?)(await connection.TakeAsync("destroy", Ct))["janus"]);
        Assert.Equal("disposed", await Within(session.Closed));
        await Assert.ThrowsAsync<JanusUnavailableException>(() => Within(join));
        await Within(connection.Ended);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task Cancelling_a_request_throws_OperationCanceledException_and_reports_nothing()
    {
        var (session, connection, handle) = await AttachAsync();
        await using var _ = session;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var join = handle.MessageAsync(Body("""{"request":"join"}"""), null, cancel.Token);
        await connection.TakeAsync("message", Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(join));
        Assert.DoesNotContain(Observer.Outcomes, o => o.Request == "message:join");
        Assert.True(session.IsOpen);
    }

    [Fact]
    public async Task The_log_holds_no_sdp_candidate_or_api_secret()
    {
        var time = new FakeTimeProvider();
        Fake.OnMessage = async (request, connection) =>
        {
            if ((string?)request["body"]!["request"] == "publish")
            {
                await connection.AckAsync(request);
                await connection.EventAsync(request, """{"videoroom":"event","configured":"ok"}""", """{"type":"answer","sdp":"v=0 SDP-ANSWER-BODY"}""");
            }
            else
            {
                await connection.EventAsync(request, """{"videoroom":"event","error_code":465,"error":"Invalid SDP"}""");
            }
        };
        var (session, connection) = await ConnectAsync(time);
        var handle = await Attach(session);
        await Within(handle.MessageAsync(Body("""{"request":"publish"}"""), new Jsep("offer", "v=0 SDP-OFFER-BODY"), Ct));
        await Assert.ThrowsAsync<JanusException>(() => Within(handle.MessageAsync(Body("""{"request":"configure"}"""), new Jsep("offer", "v=0 SDP-BAD-BODY"), Ct)));
        await Within(handle.TrickleAsync(Body("""{"candidate":"candidate:CANDIDATE-BODY","sdpMid":"0","sdpMLineIndex":0}"""), Ct));
        await connection.CoreEventAsync("trickle", 999, """ "candidate":{"candidate":"candidate:REMOTE-CANDIDATE","sdpMid":"0","sdpMLineIndex":0}""");
        await connection.UnsolicitedAsync(handle.Id, """{"videoroom":"updated"}""", FakeJanusConnection.Offer("v=0 SDP-UNSOLICITED-BODY"));
        await Within(handle.HangupAsync(Ct));
        await session.DisposeAsync();

        Assert.NotEmpty(Logs.Lines);
        foreach (var secret in new[] { "SDP-", "CANDIDATE", Secret, "v=0" })
        {
            Assert.DoesNotContain(Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }
}
