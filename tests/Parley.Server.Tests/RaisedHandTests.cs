using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>RaisedHandTests check <c>handAt</c>, the server's time of a raised hand, by which clients order hands.</summary>
public sealed class RaisedHandTests
{
    private const long Start = FakeClockServer.Start;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _time = FakeClockServer.NewClock();

    private static Task State(SignalingClient client, bool hand, bool audio = true) =>
        client.SendAsync(new { type = "state", audio, video = true, screen = false, hand }, Ct);

    private static long? HandAt(JsonElement state) => state.TryGetProperty("handAt", out var at) ? at.GetInt64() : null;

    [Fact]
    public async Task A_raised_hand_gets_handAt_which_stays_while_it_is_up_and_goes_when_it_is_down()
    {
        await using var server = await FakeClockServer.StartAsync(_time, Ct);
        await using var members = await Members.JoinAsync(server.WebSocketUri, "hands", Ct, "Ada", "Grace");
        var (ada, grace) = members;

        await State(ada, hand: false);
        Assert.Null(HandAt(await grace.ReceiveTypeAsync("state", Ct)));

        _time.Advance(TimeSpan.FromSeconds(3));
        await State(ada, hand: true);
        var up = await grace.ReceiveTypeAsync("state", Ct);
        Assert.True(up.GetProperty("hand").GetBoolean());
        Assert.Equal(Start + 3000, HandAt(up));

        // Muting while the hand is up keeps its place in the queue.
        _time.Advance(TimeSpan.FromSeconds(5));
        await State(ada, hand: true, audio: false);
        var muted = await grace.ReceiveTypeAsync("state", Ct);
        Assert.False(muted.GetProperty("audio").GetBoolean());
        Assert.Equal(Start + 3000, HandAt(muted));

        await State(ada, hand: false);
        var down = await grace.ReceiveTypeAsync("state", Ct);
        Assert.False(down.GetProperty("hand").GetBoolean());
        Assert.Null(HandAt(down));

        _time.Advance(TimeSpan.FromSeconds(1));
        await State(ada, hand: true);
        Assert.Equal(Start + 9000, HandAt(await grace.ReceiveTypeAsync("state", Ct)));
    }

    [Fact]
    public async Task A_hand_raised_in_the_first_state_gets_handAt_and_a_late_joiner_sees_each_in_joined_peers()
    {
        await using var server = await FakeClockServer.StartAsync(_time, Ct);
        await using var members = await Members.JoinAsync(server.WebSocketUri, "queue", Ct, "Ada", "Grace", "Eve");
        var (ada, grace, eve) = members;

        await State(grace, hand: true);
        Assert.Equal(Start, HandAt(await ada.ReceiveTypeAsync("state", Ct)));
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        await State(ada, hand: true);
        Assert.Equal(Start + 1500, HandAt(await grace.ReceiveTypeAsync("state", Ct)));
        await State(eve, hand: false);
        await ada.ReceiveTypeAsync("state", Ct);

        var (late, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "queue", "Late", Ct);
        await using var l = late;
        var peers = joined.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("state"));
        Assert.Equal(Start + 1500, HandAt(peers[ada.Id!]));
        Assert.Equal(Start, HandAt(peers[grace.Id!]));
        Assert.False(peers[eve.Id!].GetProperty("hand").GetBoolean());
        Assert.Null(HandAt(peers[eve.Id!]));
    }

    [Fact]
    public async Task A_handAt_sent_by_a_client_is_ignored_whatever_its_type()
    {
        await using var server = await FakeClockServer.StartAsync(_time, Ct);
        await using var members = await Members.JoinAsync(server.WebSocketUri, "forged", Ct, "Ada", "Grace");
        var (ada, grace) = members;

        await ada.SendAsync(new { type = "state", hand = true, handAt = 1 }, Ct);
        Assert.Equal(Start, HandAt(await grace.ReceiveTypeAsync("state", Ct)));

        await ada.SendAsync(new { type = "state", hand = false, handAt = "soon", id = "s2" }, Ct);
        Assert.Null(HandAt(await grace.ReceiveTypeAsync("state", Ct)));

        await ada.SendAsync(new { type = "state", hand = false, handAt = new { at = 1.5 }, id = "s3" }, Ct);
        Assert.Null(HandAt(await grace.ReceiveTypeAsync("state", Ct)));
        Assert.Null(await ada.NextWithinAsync(TimeSpan.FromMilliseconds(200), Ct)); // no error
    }
}
