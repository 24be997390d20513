using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// ChatTests drive in-call chat over real WebSockets, on a fake clock: timestamps are exact and
/// the chat bucket refills only when a test moves the clock.
/// </summary>
public sealed class ChatTests
{
    private const long Start = FakeClockServer.Start;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _time = FakeClockServer.NewClock();

    private Task<ParleyTestServer> StartServer(params (string Key, string Value)[] settings) =>
        FakeClockServer.StartAsync(_time, Ct, settings);

    private static Task<(SignalingClient Client, JsonElement Joined)> Join(ParleyTestServer server, string room, string name) =>
        SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, room, name, Ct);

    // Chats sends each text to the room and waits for the sender's echo of the last, so the room has taken them all.
    private static async Task Chats(SignalingClient client, IEnumerable<string> texts)
    {
        string? last = null;
        foreach (var text in texts)
        {
            await client.SendAsync(new { type = "chat", text }, Ct);
            last = text;
        }
        while ((await client.ReceiveTypeAsync("chat", Ct)).GetProperty("text").GetString() != last)
        {
        }
    }

    private static string[] Texts(JsonElement joined) =>
        [.. joined.GetProperty("chat").EnumerateArray().Select(static m => m.GetProperty("text").GetString()!)];

    [Fact]
    public async Task A_room_message_reaches_every_member_and_the_sender_stamped_with_from_name_and_ts()
    {
        await using var server = await StartServer();
        await using var members = await Members.JoinAsync(server.WebSocketUri, "chat", Ct, "Ada", "Grace", "Eve");
        var (ada, grace, eve) = members;

        _time.Advance(TimeSpan.FromMilliseconds(250));
        await ada.SendAsync(new { type = "chat", text = "hello", from = "p_forged", name = "Mallory", ts = 1, id = "c1" }, Ct);

        foreach (var client in new[] { ada, grace, eve })
        {
            var chat = await client.ReceiveAsync(Ct);
            Assert.Equal("chat", chat.GetProperty("type").GetString());
            Assert.Equal(ada.Id, chat.GetProperty("from").GetString());
            Assert.Equal("Ada", chat.GetProperty("name").GetString());
            Assert.Equal("hello", chat.GetProperty("text").GetString());
            Assert.Equal(Start + 250, chat.GetProperty("ts").GetInt64());
            Assert.False(chat.TryGetProperty("to", out _));
            Assert.False(chat.TryGetProperty("ref", out _));
        }
    }

    [Fact]
    public async Task A_direct_message_reaches_only_its_recipient_and_the_senders_echo_and_is_not_kept()
    {
        await using var server = await StartServer();
        await using var members = await Members.JoinAsync(server.WebSocketUri, "dm", Ct, "Ada", "Grace", "Eve");
        var (ada, grace, eve) = members;

        await ada.SendAsync(new { type = "chat", text = "just you", to = grace.Id }, Ct);

        foreach (var client in new[] { grace, ada })
        {
            var chat = await client.ReceiveAsync(Ct);
            Assert.Equal("chat", chat.GetProperty("type").GetString());
            Assert.Equal(ada.Id, chat.GetProperty("from").GetString());
            Assert.Equal("Ada", chat.GetProperty("name").GetString());
            Assert.Equal(grace.Id, chat.GetProperty("to").GetString());
            Assert.Equal("just you", chat.GetProperty("text").GetString());
            Assert.Equal(Start, chat.GetProperty("ts").GetInt64());
        }
        Assert.Null(await eve.NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct));

        var (late, joined) = await Join(server, "dm", "Late");
        await using var l = late;
        Assert.False(joined.TryGetProperty("chat", out _));
    }

    [Fact]
    public async Task A_late_joiner_gets_the_room_history_oldest_first_and_a_joiner_of_a_quiet_room_none()
    {
        await using var server = await StartServer();
        var (ada, first) = await Join(server, "history", "Ada");
        await using var a = ada;
        Assert.False(first.TryGetProperty("chat", out _));
        var (grace, _) = await Join(server, "history", "Grace");
        await using var g = grace;
        await ada.ReceiveTypeAsync("peer-joined", Ct);

        await Chats(ada, ["one"]);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Chats(grace, ["two"]);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Chats(ada, ["three"]);

        var (eve, joined) = await Join(server, "history", "Eve");
        await using var e = eve;
        var chat = joined.GetProperty("chat").EnumerateArray().ToList();
        Assert.Equal(["one", "two", "three"], chat.Select(m => m.GetProperty("text").GetString()));
        Assert.Equal([ada.Id, grace.Id, ada.Id], chat.Select(m => m.GetProperty("from").GetString()));
        Assert.Equal(["Ada", "Grace", "Ada"], chat.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal([Start, Start + 1000, Start + 2000], chat.Select(m => m.GetProperty("ts").GetInt64()));
        Assert.All(chat, m => Assert.False(m.TryGetProperty("type", out _)));
    }

    [Fact]
    public async Task The_history_keeps_only_the_last_100_messages()
    {
        await using var server = await StartServer(("ChatBurst", "150"));
        var (ada, _) = await Join(server, "hundred", "Ada");
        await using var a = ada;
        await Chats(ada, Enumerable.Range(1, 103).Select(i => $"m{i}"));

        var (grace, joined) = await Join(server, "hundred", "Grace");
        await using var g = grace;
        Assert.Equal(Enumerable.Range(4, 100).Select(i => $"m{i}"), Texts(joined));
    }

    [Fact]
    public async Task The_history_keeps_at_most_256_KiB_of_text()
    {
        // Two digits and 1998 four-byte characters are 2000 characters and 7994 bytes: 32 such
        // messages fit in 256 KiB (262,144 bytes), 33 do not.
        await using var server = await StartServer(("ChatBurst", "100"));
        var (ada, _) = await Join(server, "bytes", "Ada");
        await using var a = ada;
        var texts = Enumerable.Range(0, 40).Select(i => $"{i:D2}" + string.Concat(Enumerable.Repeat("😀", 1998))).ToList();
        await Chats(ada, texts);

        var (grace, joined) = await Join(server, "bytes", "Grace");
        await using var g = grace;
        Assert.Equal(texts[^32..], Texts(joined));
    }

    [Fact]
    public async Task A_room_message_is_passed_on_exactly_as_sent()
    {
        await using var server = await StartServer();
        var (ada, _) = await Join(server, "exact", "Ada");
        await using var a = ada;

        var text = "  two\tcolumns\nand a second line \n";
        await ada.SendAsync(new { type = "chat", text }, Ct);
        Assert.Equal(text, (await ada.ReceiveAsync(Ct)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_text_of_2000_multi_byte_characters_is_accepted()
    {
        await using var server = await StartServer();
        var (ada, _) = await Join(server, "long", "Ada");
        await using var a = ada;

        // 2000 Unicode scalar values, 4000 UTF-16 code units, 8000 UTF-8 bytes.
        var text = string.Concat(Enumerable.Repeat("𝄞", 2000));
        await ada.SendAsync(new { type = "chat", text, id = "long" }, Ct);
        var chat = await ada.ReceiveAsync(Ct);
        Assert.Equal("chat", chat.GetProperty("type").GetString());
        Assert.Equal(text, chat.GetProperty("text").GetString());
    }

    public static TheoryData<string, string, string> BadChats() => new()
    {
        { """{"type":"chat","id":"c1"}""", "bad-request", "\"text\"" },
        { """{"type":"chat","text":null,"id":"c1"}""", "bad-request", "\"text\"" },
        { """{"type":"chat","text":5,"id":"c1"}""", "bad-request", "$.text" },
        { """{"type":"chat","text":["hi"],"id":"c1"}""", "bad-request", "$.text" },
        { """{"type":"chat","text":"","id":"c1"}""", "bad-request", "empty" },
        { """{"type":"chat","text":" \n\t ","id":"c1"}""", "bad-request", "white space" },
        { JsonSerializer.Serialize(new { type = "chat", text = new string('a', 2001), id = "c1" }), "bad-request", "2000" },
        { JsonSerializer.Serialize(new { type = "chat", text = string.Concat(Enumerable.Repeat("é", 2001)), id = "c1" }), "bad-request", "2000" },
        { """{"type":"chat","text":"ring \u0007 bell","id":"c1"}""", "bad-request", "control" },
        { """{"type":"chat","text":"carriage\r\nreturn","id":"c1"}""", "bad-request", "control" },
        { """{"type":"chat","text":"nul\u0000","id":"c1"}""", "bad-request", "control" },
        { """{"type":"chat","text":"c1 \u0085","id":"c1"}""", "bad-request", "control" },
        { """{"type":"chat","text":"hi","to":5,"id":"c1"}""", "bad-request", "$.to" },
        { """{"type":"chat","text":"hi","to":"p_nobody","id":"c1"}""", "unknown-peer", "p_nobody" },
    };

    [Theory]
    [MemberData(nameof(BadChats))]
    public async Task A_bad_chat_gets_its_error_with_the_ref_and_reaches_nobody(string json, string code, string named)
    {
        await using var server = await StartServer();
        await using var members = await Members.JoinAsync(server.WebSocketUri, "bad", Ct, "Ada", "Grace");
        var (ada, grace) = members;

        await ada.SendTextAsync(json, Ct);
        var error = await ada.ReceiveErrorAsync(code, Ct);
        Assert.Equal("c1", error.GetProperty("ref").GetString());
        Assert.Contains(named, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(await grace.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct));

        // The connection stays open and a good message goes through.
        await ada.SendAsync(new { type = "chat", text = "fine" }, Ct);
        Assert.Equal("fine", (await grace.ReceiveAsync(Ct)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_direct_message_to_yourself_is_a_bad_request()
    {
        await using var server = await StartServer();
        var (ada, _) = await Join(server, "self", "Ada");
        await using var a = ada;

        await ada.SendAsync(new { type = "chat", text = "me?", to = ada.Id, id = "c1" }, Ct);
        var error = await ada.ReceiveErrorAsync("bad-request", Ct);
        Assert.Equal("c1", error.GetProperty("ref").GetString());
        Assert.Contains("yourself", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_direct_message_to_a_member_of_another_room_is_an_unknown_peer()
    {
        await using var server = await StartServer();
        var (ada, _) = await Join(server, "here", "Ada");
        await using var a = ada;
        var (eve, _) = await Join(server, "elsewhere", "Eve");
        await using var e = eve;

        await ada.SendAsync(new { type = "chat", text = "psst", to = eve.Id, id = "c1" }, Ct);
        Assert.Equal("c1", (await ada.ReceiveErrorAsync("unknown-peer", Ct)).GetProperty("ref").GetString());
        Assert.Null(await eve.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct));
    }

    [Fact]
    public async Task Chat_before_join_is_not_joined()
    {
        await using var server = await StartServer();
        await using var client = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await client.SendAsync(new { type = "chat", text = "anyone?", id = "c1" }, Ct);
        Assert.Equal("c1", (await client.ReceiveErrorAsync("not-joined", Ct)).GetProperty("ref").GetString());
    }

    [Fact]
    public async Task Chat_past_its_burst_is_rate_limited_and_recovers_at_the_chat_rate()
    {
        await using var server = await StartServer();
        await using var members = await Members.JoinAsync(server.WebSocketUri, "chatty", Ct, "Ada", "Grace");
        var (ada, grace) = members;

        // The default bucket: bursts of 5, then 1 per second; the clock stands still meanwhile.
        for (var i = 1; i <= 6; i++)
        {
            await ada.SendAsync(new { type = "chat", text = $"m{i}", id = $"c{i}" }, Ct);
        }
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal($"m{i}", (await ada.ReceiveAsync(Ct)).GetProperty("text").GetString());
        }
        var limited = await ada.ReceiveErrorAsync("rate-limited", Ct);
        Assert.Equal("c6", limited.GetProperty("ref").GetString());
        Assert.Equal("Too many chat messages: at most 5 in a burst, then 1 per second. This one was dropped.", limited.GetProperty("message").GetString());

        // Other messages are not held back by the chat bucket.
        await ada.SendAsync(new { type = "ping" }, Ct);
        Assert.Equal("pong", (await ada.ReceiveAsync(Ct)).GetProperty("type").GetString());

        _time.Advance(TimeSpan.FromSeconds(1));
        await ada.SendAsync(new { type = "chat", text = "m7", id = "c7" }, Ct);
        Assert.Equal("m7", (await ada.ReceiveAsync(Ct)).GetProperty("text").GetString());
        await ada.SendAsync(new { type = "chat", text = "m8", id = "c8" }, Ct);
        Assert.Equal("c8", (await ada.ReceiveErrorAsync("rate-limited", Ct)).GetProperty("ref").GetString());

        var received = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            received.Add((await grace.ReceiveAsync(Ct)).GetProperty("text").GetString()!);
        }
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "m7"], received);
        Assert.Null(await grace.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct));
    }

    [Fact]
    public async Task Chat_that_keeps_going_past_its_limit_counts_as_abuse_and_closes_with_1008()
    {
        await using var server = await StartServer(("ChatMessagesPerSecond", "1"), ("ChatBurst", "1"), ("AbuseThreshold", "3"));
        var (mallory, _) = await Join(server, "spam", "Mallory");
        await using var m = mallory;
        for (var i = 0; i < 5; i++)
        {
            await mallory.SendAsync(new { type = "chat", text = $"spam {i}" }, Ct);
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await mallory.ExpectCloseAsync(Ct));
        Assert.Equal("rate limit exceeded", mallory.Socket.CloseStatusDescription);
    }

    [Fact]
    public async Task The_history_is_gone_once_the_room_empties()
    {
        await using var server = await StartServer();
        var (ada, _) = await Join(server, "ephemeral", "Ada");
        await Chats(ada, ["remember me"]);
        var (grace, joined) = await Join(server, "ephemeral", "Grace");
        Assert.Equal(["remember me"], Texts(joined));

        await ada.SendAsync(new { type = "leave" }, Ct);
        await ada.ExpectCloseAsync(Ct);
        await ada.DisposeAsync();
        await grace.ReceiveTypeAsync("peer-left", Ct);
        await grace.SendAsync(new { type = "leave" }, Ct);
        await grace.ExpectCloseAsync(Ct);
        await grace.DisposeAsync();

        var (eve, fresh) = await Join(server, "ephemeral", "Eve");
        await using var e = eve;
        Assert.Equal(0, fresh.GetProperty("peers").GetArrayLength());
        Assert.False(fresh.TryGetProperty("chat", out _));
    }
}
