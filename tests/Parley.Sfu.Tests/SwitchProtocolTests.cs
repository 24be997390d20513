using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// SwitchProtocolTests drive the server's switch decider with protocol clients (no media): the
/// epochs, who reports, which old connections each member keeps, the way back to a mesh, and a
/// move to the SFU that fails while Janus dies. Janus is real: the room policy needs it up.
/// </summary>
public sealed class SwitchProtocolTests
{
    private static readonly string[] SfuFeature = ["sfu"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Dictionary<string, string?> Quick = new()
    {
        ["Parley:Sfu:MeshReturnDelay"] = "00:00:02",
        ["Parley:Sfu:SwitchTimeout"] = "00:00:02",
    };

    private sealed class Members(List<SignalingClient> clients) : IAsyncDisposable
    {
        public List<SignalingClient> Clients { get; } = clients;

        public SignalingClient this[int i] => Clients[i];

        public async ValueTask DisposeAsync()
        {
            foreach (var c in Clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    private static async Task<Members> JoinAsync(SfuCall call, int count)
    {
        var clients = new List<SignalingClient>();
        for (var i = 0; i < count; i++)
        {
            clients.Add((await SignalingClient.ConnectAndJoinAsync(call.Parley.WebSocketUri, call.Room, $"P{i}", Ct, "sfu")).Client);
        }
        return new Members(clients);
    }

    // DrainAsync reads what a client was sent until it is quiet for a moment.
    private static async Task DrainAsync(SignalingClient c)
    {
        while (await c.NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct) is not null)
        {
        }
    }

    private static Task SendReadyAsync(SignalingClient c, int epoch, params string[] missing) =>
        c.SendAsync(new { type = "switch-ready", epoch, missing }, Ct);

    private static async Task<string[]> KeepAsync(SignalingClient c, int epoch, TimeSpan? timeout = null)
    {
        var done = await c.ReceiveTypeAsync("switch-done", Ct, timeout ?? TimeSpan.FromSeconds(10));
        while (done.GetProperty("epoch").GetInt32() < epoch)
        {
            done = await c.ReceiveTypeAsync("switch-done", Ct, timeout ?? TimeSpan.FromSeconds(10));
        }
        Assert.Equal(epoch, done.GetProperty("epoch").GetInt32());
        return [.. done.GetProperty("keep").EnumerateArray().Select(k => k.GetString()!).Order()];
    }

    [Fact]
    public async Task The_fifth_join_switches_up_with_a_new_epoch_and_the_switch_ends_when_every_mesh_member_reports()
    {
        await using var call = await SfuCall.StartAsync("switch-up", meshMax: 4, Ct);
        await using var m = await JoinAsync(call, 4);
        var (fifth, joined) = await SignalingClient.ConnectAndJoinAsync(call.Parley.WebSocketUri, call.Room, "P4", Ct, "sfu");
        m.Clients.Add(fifth);
        Assert.Equal(("sfu", 1), (joined.GetProperty("mode").GetString(), joined.GetProperty("epoch").GetInt32()));

        for (var i = 0; i < 4; i++)
        {
            // The mode comes before the newcomer's peer-joined: no mesh connection is started toward it.
            var mode = await m[i].ReceiveTypeAsync("mode", Ct);
            Assert.Equal(("sfu", 1), (mode.GetProperty("mode").GetString(), mode.GetProperty("epoch").GetInt32()));
            Assert.Equal("peer-joined", (await m[i].ReceiveAsync(Ct)).GetProperty("type").GetString());
        }
        for (var i = 0; i < 3; i++)
        {
            await SendReadyAsync(m[i], 1);
        }
        Assert.Null(await m[4].NextWithinAsync(TimeSpan.FromMilliseconds(500), Ct));
        await SendReadyAsync(m[3], 1);
        for (var i = 0; i < 5; i++)
        {
            Assert.Empty(await KeepAsync(m[i], 1));
        }
        // A late report of that switch, or of one that never was, changes nothing.
        await SendReadyAsync(m[0], 1, m[1].Id!);
        await SendReadyAsync(m[0], 7);
        Assert.Null(await m[0].NextWithinAsync(TimeSpan.FromMilliseconds(500), Ct));
    }

    [Fact]
    public async Task A_pair_where_either_side_misses_the_new_path_keeps_its_old_connection_and_a_silent_member_keeps_all_of_its()
    {
        await using var call = await SfuCall.StartAsync("switch-keep", meshMax: 4, Ct, extra: Quick);
        await using var m = await JoinAsync(call, 5);
        string Id(int i) => m[i].Id!;
        // P0 misses P1 on the SFU; P3 never reports (its SFU side is broken).
        await SendReadyAsync(m[0], 1, Id(1));
        await SendReadyAsync(m[1], 1);
        await SendReadyAsync(m[2], 1);

        Assert.Equal(new[] { Id(1), Id(3) }.Order(), await KeepAsync(m[0], 1));
        Assert.Equal(new[] { Id(0), Id(3) }.Order(), await KeepAsync(m[1], 1));
        Assert.Equal([Id(3)], await KeepAsync(m[2], 1));
        Assert.Equal(new[] { Id(0), Id(1), Id(2) }.Order(), await KeepAsync(m[3], 1));
        // The newcomer had no mesh connections: nothing to keep.
        Assert.Empty(await KeepAsync(m[4], 1));

        // Later P3's SFU side plays everyone but P0: the pairs it now has on both sides close, and
        // each member with fewer old connections hears its new list (P2 and P1 are done with P3).
        await SendReadyAsync(m[3], 1, Id(0));
        Assert.Empty(await KeepAsync(m[2], 1));
        Assert.Equal([Id(0)], await KeepAsync(m[1], 1));
        Assert.Equal([Id(0)], await KeepAsync(m[3], 1));
        // P0's list did not change (it still lacks P1, P3 lacks it): it heard nothing. Now P0
        // plays everyone: its pair with P1 closes; the one with P3 stays until P3 reports too.
        await SendReadyAsync(m[0], 1);
        Assert.Equal([Id(3)], await KeepAsync(m[0], 1));
        Assert.Empty(await KeepAsync(m[1], 1));
        await SendReadyAsync(m[3], 1);
        Assert.Empty(await KeepAsync(m[0], 1));
        Assert.Empty(await KeepAsync(m[3], 1));
        // Nothing is kept any more: a report after that, or of another epoch, changes nothing.
        await SendReadyAsync(m[2], 1, Id(0));
        await SendReadyAsync(m[2], 7, Id(0));
        await NoSwitchDoneAsync(m[2]);
    }

    private static async Task NoSwitchDoneAsync(SignalingClient c)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < until && await c.NextWithinAsync(until - DateTime.UtcNow, Ct) is { } message)
        {
            Assert.DoesNotContain("\"switch-done\"", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_small_sfu_room_goes_back_to_a_mesh_after_the_delay_and_a_join_restarts_the_wait()
    {
        await using var call = await SfuCall.StartAsync("switch-down", meshMax: 4, Ct,
            extra: new Dictionary<string, string?> { ["Parley:Sfu:MeshReturnDelay"] = "00:00:03", ["Parley:Sfu:SwitchTimeout"] = "00:00:02" });
        await using var m = await JoinAsync(call, 5);
        for (var i = 0; i < 4; i++)
        {
            await SendReadyAsync(m[i], 1);
        }
        await KeepAsync(m[4], 1);

        // Down to two: the wait starts; a join (three, still small) restarts it.
        await m[4].DisposeAsync();
        await m[3].DisposeAsync();
        await m[2].DisposeAsync();
        m.Clients.RemoveRange(2, 3);
        var leftAt = DateTime.UtcNow;
        await DrainAsync(m[0]);
        await Task.Delay(TimeSpan.FromSeconds(1.5) - (DateTime.UtcNow - leftAt), Ct);
        var (late, _) = await SignalingClient.ConnectAndJoinAsync(call.Parley.WebSocketUri, call.Room, "Late", Ct, "sfu");
        m.Clients.Add(late);
        // peer-joined of the late one, then nothing for a while: the wait started again at its join.
        Assert.Equal("peer-joined", (await m[0].ReceiveAsync(Ct)).GetProperty("type").GetString());
        // The first wait would have ended 3 s after the leaves; the new one ends 3 s after the join.
        var early = await m[0].NextWithinAsync(TimeSpan.FromSeconds(2), Ct);
        Assert.True(early is null, $"the wait was not restarted: {early}");
        var mode = await m[0].ReceiveTypeAsync("mode", Ct, TimeSpan.FromSeconds(5));
        Assert.Equal(("mesh", 2), (mode.GetProperty("mode").GetString(), mode.GetProperty("epoch").GetInt32()));
        Assert.False(mode.TryGetProperty("reason", out _));
        Assert.Equal(2, (await late.ReceiveTypeAsync("mode", Ct)).GetProperty("epoch").GetInt32());

        // Everyone had the SFU path: all three report, and keep nothing of it.
        foreach (var c in m.Clients)
        {
            await SendReadyAsync(c, 2);
        }
        foreach (var c in m.Clients)
        {
            Assert.Empty(await KeepAsync(c, 2));
        }
    }

    [Fact]
    public async Task When_Janus_dies_during_a_move_up_the_room_stays_a_mesh_says_why_and_moves_again_only_once_Janus_is_back()
    {
        await using var call = await SfuCall.StartAsync("switch-fail", meshMax: 4, Ct, extra: Quick);
        await using var m = await JoinAsync(call, 5);
        await call.Janus.KillAsync(Ct);

        var mode = await m[0].ReceiveTypeAsync("mode", Ct, TimeSpan.FromSeconds(15));
        if (mode.GetProperty("epoch").GetInt32() == 1)
        {
            mode = await m[0].ReceiveTypeAsync("mode", Ct, TimeSpan.FromSeconds(15));
        }
        Assert.Equal(("mesh", 2), (mode.GetProperty("mode").GetString(), mode.GetProperty("epoch").GetInt32()));
        Assert.Contains("peer to peer", mode.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // While Janus is down, the room does not grow past MeshMax, and says why.
        await using var sixth = await SignalingClient.ConnectAsync(call.Parley.WebSocketUri, Ct);
        await sixth.SendAsync(new { type = "join", version = 1, room = call.Room, name = "P5", features = SfuFeature }, Ct);
        var refused = await sixth.ReceiveTypeAsync("error", Ct);
        Assert.Equal("room-full", refused.GetProperty("code").GetString());

        // Janus back: after its backoff the room of five moves up again, on its own, with a new epoch.
        await call.Janus.StartAgainAsync(Ct);
        var again = await m[0].ReceiveTypeAsync("mode", Ct, TimeSpan.FromSeconds(40));
        while (again.GetProperty("mode").GetString() != "sfu")
        {
            again = await m[0].ReceiveTypeAsync("mode", Ct, TimeSpan.FromSeconds(40));
        }
        Assert.True(again.GetProperty("epoch").GetInt32() >= 3);
    }
}
