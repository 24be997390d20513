using System.Text;
using Microsoft.Extensions.Options;
using Parley.Rooms;
using Parley.Sfu;
using Parley.Signaling;

namespace Parley.Server.Tests;

/// <summary>Outbox records the frames a participant was sent, as text.</summary>
internal sealed class Outbox : IPeerOutbox
{
    private readonly List<string> _frames = [];

    public IReadOnlyList<string> Frames
    {
        get
        {
            lock (_frames)
            {
                return [.. _frames];
            }
        }
    }

    public void Send(ReadOnlyMemory<byte> frame)
    {
        lock (_frames)
        {
            _frames.Add(Encoding.UTF8.GetString(frame.Span));
        }
    }
}

/// <summary>FakeMediaServer is an SFU status a test sets by hand.</summary>
internal sealed class FakeMediaServer(bool configured, bool up) : IMediaServerStatus
{
    public bool IsConfigured { get; set; } = configured;

    public bool IsUp { get; set; } = up;

    public HashSet<string> Held { get; } = [];

    public bool IsHeld(string roomId) => Held.Contains(roomId);
}

public sealed class RoomRouterTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    internal static RoomPolicy Policy(int meshCap = 6, IMediaServerStatus? sfu = null, int meshMax = 4, int sfuCap = 50) =>
        new(Options.Create(new SignalingOptions { MaxParticipants = meshCap }),
            Options.Create(new SfuOptions { MeshMax = meshMax, MaxParticipants = sfuCap }),
            sfu ?? new FakeMediaServer(configured: false, up: false));

    private static LocalRoomRouter Router(int max = 6, IMediaServerStatus? sfu = null) => new(Policy(max, sfu));

    private static JoinFrames Frames(string who) => (in JoinContext c) => new JoinFrameSet(
        Encoding.UTF8.GetBytes($"joined {who} with {string.Join(",", c.Peers.Select(p => p.Name))} in {c.Mode}"),
        Encoding.UTF8.GetBytes($"peer-joined {who}"),
        Encoding.UTF8.GetBytes($"mode {c.Mode}"));

    private static (Participant Participant, Outbox Outbox) Member(string id, bool sfu = true)
    {
        var outbox = new Outbox();
        return (new Participant(id, id.ToUpperInvariant(), outbox, sfu), outbox);
    }

    [Fact]
    public async Task Joining_sends_joined_to_the_joiner_and_peer_joined_to_the_others()
    {
        var router = Router();
        var (a, aBox) = Member("a");
        var (b, bBox) = Member("b");
        Assert.Equal(JoinStatus.Joined, (await router.JoinAsync("r", a, Frames("A"), Ct)).Status);
        var joined = await router.JoinAsync("r", b, Frames("B"), Ct);
        Assert.Equal((JoinStatus.Joined, RoomMode.Mesh, false, 2), (joined.Status, joined.Mode, joined.Switched, joined.Count));
        Assert.Equal(["joined A with  in Mesh", "peer-joined B"], aBox.Frames);
        Assert.Equal(["joined B with A in Mesh"], bBox.Frames);
        Assert.Equal(1, router.RoomCount);
        Assert.Equal(1, router.CountRooms(RoomMode.Mesh));
    }

    [Fact]
    public async Task A_full_room_refuses_with_the_reason_and_tells_nobody()
    {
        var router = Router(max: 1);
        var (a, aBox) = Member("a");
        var (b, bBox) = Member("b");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        var refused = await router.JoinAsync("r", b, Frames("B"), Ct);
        Assert.Equal(JoinStatus.RoomFull, refused.Status);
        Assert.Equal("This meeting is full (1 participants). Try again when someone leaves.", refused.Reason);
        Assert.Single(aBox.Frames);
        Assert.Empty(bBox.Frames);
        Assert.Equal(1, router.ParticipantCount);
    }

    [Fact]
    public async Task The_last_leave_removes_the_room_and_a_second_leave_is_harmless()
    {
        var router = Router();
        var (a, _) = Member("a");
        var (b, bBox) = Member("b");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        await router.JoinAsync("r", b, Frames("B"), Ct);
        var left = await router.LeaveAsync("r", "a", "left A"u8.ToArray(), Ct);
        Assert.Equal(new LeaveResult(true, RoomMode.Mesh, 1), left);
        Assert.Equal("left A", bBox.Frames[^1]);
        Assert.Equal(1, router.RoomCount);
        Assert.Equal(new LeaveResult(true, RoomMode.Mesh, 0), await router.LeaveAsync("r", "b", "left B"u8.ToArray(), Ct));
        Assert.Equal(0, router.RoomCount);
        Assert.False((await router.LeaveAsync("r", "b", "again"u8.ToArray(), Ct)).WasMember);
        Assert.Equal(0, router.ParticipantCount);
    }

    [Fact]
    public async Task A_relay_reaches_only_another_member_of_the_same_room()
    {
        var router = Router();
        var (a, _) = Member("a");
        var (b, bBox) = Member("b");
        var (c, cBox) = Member("c");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        await router.JoinAsync("r", b, Frames("B"), Ct);
        await router.JoinAsync("other", c, Frames("C"), Ct);
        Assert.True(await router.SendAsync("r", "b", "hi"u8.ToArray(), "a", Ct));
        Assert.False(await router.SendAsync("r", "c", "hi"u8.ToArray(), "a", Ct));
        Assert.False(await router.SendAsync("r", "a", "hi"u8.ToArray(), "a", Ct));
        Assert.False(await router.SendAsync("other", "c", "hi"u8.ToArray(), "a", Ct));
        Assert.Equal("hi", bBox.Frames[^1]);
        Assert.DoesNotContain("hi", cBox.Frames);
    }

    [Fact]
    public async Task The_server_can_send_to_one_member_by_id_and_broadcast_to_the_rest()
    {
        var router = Router();
        var (a, aBox) = Member("a");
        var (b, bBox) = Member("b");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        await router.JoinAsync("r", b, Frames("B"), Ct);
        Assert.True(await router.SendAsync("r", "a", "to a"u8.ToArray(), null, Ct));
        Assert.False(await router.SendAsync("r", "nobody", "lost"u8.ToArray(), null, Ct));
        await router.BroadcastAsync("r", "all but b"u8.ToArray(), "b", Ct);
        await router.BroadcastAsync("r", "all"u8.ToArray(), null, Ct);
        Assert.Equal(["to a", "all but b", "all"], aBox.Frames.Skip(2));
        Assert.Equal(["all"], bBox.Frames.Skip(1));
    }

    [Fact]
    public async Task State_is_kept_for_later_joiners_and_sent_to_the_others()
    {
        var router = Router();
        var (a, _) = Member("a");
        var (b, bBox) = Member("b");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        await router.JoinAsync("r", b, Frames("B"), Ct);
        var state = new PresenceState(new MediaState(true, false, false), Hand: true);
        Assert.True(await router.SetStateAsync("r", "a", state, "state a"u8.ToArray(), Ct));
        Assert.False(await router.SetStateAsync("r", "nobody", state, "state x"u8.ToArray(), Ct));
        Assert.Equal("state a", bBox.Frames[^1]);
        var snapshot = await router.GetAsync("r", Ct);
        Assert.Equal(state, snapshot!.Members.Single(m => m.Id == "a").State);
        Assert.Null(snapshot.Members.Single(m => m.Id == "b").State);
    }

    private static ChatEntry Entry(string from, string text, long ts = 0) => new(from, from.ToUpperInvariant(), text, ts);

    // JoinCapturingChat joins and returns the chat history the join's frames were made with.
    private static async Task<IReadOnlyList<ChatEntry>> JoinCapturingChat(LocalRoomRouter router, string roomId, Participant joiner)
    {
        IReadOnlyList<ChatEntry>? history = null;
        await router.JoinAsync(roomId, joiner, (in JoinContext c) =>
        {
            history = c.Chat;
            return Frames(joiner.Name)(c);
        }, Ct);
        return history!;
    }

    [Fact]
    public async Task A_room_chat_reaches_every_member_and_later_joiners_get_the_last_100_oldest_first()
    {
        var router = Router();
        var (a, aBox) = Member("a");
        var (b, bBox) = Member("b");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        Assert.Empty(await JoinCapturingChat(router, "r", b));
        for (var i = 1; i <= 101; i++)
        {
            Assert.True(await router.ChatAsync("r", Entry("a", $"m{i}", i), null, Encoding.UTF8.GetBytes($"chat m{i}"), Ct));
        }
        Assert.Equal("chat m101", aBox.Frames[^1]);
        Assert.Equal("chat m101", bBox.Frames[^1]);
        Assert.Equal(101, bBox.Frames.Count(f => f.StartsWith("chat", StringComparison.Ordinal)));

        var history = await JoinCapturingChat(router, "r", Member("c").Participant);
        Assert.Equal(Enumerable.Range(2, 100).Select(i => Entry("a", $"m{i}", i)), history);
    }

    [Fact]
    public async Task The_chat_history_drops_the_oldest_past_256_KiB_of_text()
    {
        var router = Router();
        await router.JoinAsync("r", Member("a").Participant, Frames("A"), Ct);
        // 2000 two-byte characters are 4000 bytes: 65 such texts fit in 262,144 bytes, 66 do not.
        var text = new string('é', 2000);
        for (var i = 1; i <= 70; i++)
        {
            await router.ChatAsync("r", Entry("a", text, ts: i), null, "chat"u8.ToArray(), Ct);
        }
        var history = await JoinCapturingChat(router, "r", Member("b").Participant);
        Assert.Equal(Enumerable.Range(6, 65).Select(i => (long)i), history.Select(e => e.Ts));
    }

    [Fact]
    public async Task A_direct_chat_reaches_its_recipient_and_the_sender_only_and_is_never_kept()
    {
        var router = Router();
        var (a, aBox) = Member("a");
        var (b, bBox) = Member("b");
        var (c, cBox) = Member("c");
        await router.JoinAsync("r", a, Frames("A"), Ct);
        await router.JoinAsync("r", b, Frames("B"), Ct);
        await router.JoinAsync("r", c, Frames("C"), Ct);
        Assert.True(await router.ChatAsync("r", Entry("a", "psst"), "b", "dm"u8.ToArray(), Ct));
        Assert.Equal("dm", aBox.Frames[^1]);
        Assert.Equal("dm", bBox.Frames[^1]);
        Assert.DoesNotContain("dm", cBox.Frames);

        Assert.False(await router.ChatAsync("r", Entry("a", "me"), "a", "self"u8.ToArray(), Ct));
        Assert.False(await router.ChatAsync("r", Entry("a", "who"), "nobody", "lost"u8.ToArray(), Ct));
        Assert.False(await router.ChatAsync("r", Entry("nobody", "hi"), null, "stranger"u8.ToArray(), Ct));
        Assert.False(await router.ChatAsync("elsewhere", Entry("a", "hi"), null, "nowhere"u8.ToArray(), Ct));
        Assert.DoesNotContain(aBox.Frames.Concat(bBox.Frames).Concat(cBox.Frames), f => f is "self" or "lost" or "stranger" or "nowhere");
        Assert.Empty(await JoinCapturingChat(router, "r", Member("d").Participant));
    }

    [Fact]
    public async Task The_join_past_MeshMax_moves_the_room_to_the_sfu_and_the_others_hear_the_mode_before_the_newcomer()
    {
        var router = Router(sfu: new FakeMediaServer(configured: true, up: true));
        var boxes = new List<Outbox>();
        for (var i = 0; i < 4; i++)
        {
            var (p, box) = Member($"p{i}");
            boxes.Add(box);
            Assert.Equal(RoomMode.Mesh, (await router.JoinAsync("r", p, Frames(p.Name), Ct)).Mode);
        }
        var (fifth, fifthBox) = Member("p4");
        var joined = await router.JoinAsync("r", fifth, Frames("P4"), Ct);
        Assert.Equal((JoinStatus.Joined, RoomMode.Sfu, true, 5), (joined.Status, joined.Mode, joined.Switched, joined.Count));
        Assert.Equal("joined P4 with P0,P1,P2,P3 in Sfu", fifthBox.Frames.Single());
        foreach (var box in boxes)
        {
            Assert.Equal(["mode Sfu", "peer-joined P4"], box.Frames.TakeLast(2));
        }
        Assert.Equal(1, router.CountRooms(RoomMode.Sfu));
        // It stays on the SFU as people leave, until it empties.
        await router.LeaveAsync("r", "p4", "left"u8.ToArray(), Ct);
        await router.LeaveAsync("r", "p3", "left"u8.ToArray(), Ct);
        Assert.Equal(RoomMode.Sfu, (await router.GetAsync("r", Ct))!.Mode);
        var (late, _) = Member("late");
        var again = await router.JoinAsync("r", late, Frames("L"), Ct);
        Assert.Equal((RoomMode.Sfu, false), (again.Mode, again.Switched));
    }

    [Fact]
    public async Task A_room_falls_back_to_a_mesh_only_when_it_is_small_enough()
    {
        var router = Router(max: 6, sfu: new FakeMediaServer(configured: true, up: true));
        for (var i = 0; i < 7; i++)
        {
            await router.JoinAsync("r", Member($"p{i}").Participant, Frames("X"), Ct);
        }
        Assert.False((await router.ChangeModeAsync("r", RoomMode.Mesh, static (m, e) => System.Text.Encoding.UTF8.GetBytes($"mode {m} {e}"), Ct)).Changed);
        await router.LeaveAsync("r", "p6", "left"u8.ToArray(), Ct);
        var change = await router.ChangeModeAsync("r", RoomMode.Mesh, static (m, e) => System.Text.Encoding.UTF8.GetBytes($"mode {m} {e}"), Ct);
        Assert.Equal((true, RoomMode.Mesh, 6, 2), (change.Changed, change.Mode, change.Count, change.Epoch));
        Assert.Equal(6, change.Members!.Count);
        Assert.False((await router.ChangeModeAsync("nowhere", RoomMode.Mesh, static (m, e) => System.Text.Encoding.UTF8.GetBytes($"mode {m} {e}"), Ct)).Changed);
    }

    [Fact]
    public async Task Concurrent_joins_and_leaves_leave_no_room_behind_and_never_exceed_the_limit()
    {
        var router = Router(max: 4);
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var (p, _) = Member($"p_{t}_{i}");
                var joined = await router.JoinAsync("hot", p, Frames("X"), Ct);
                if (joined.Status == JoinStatus.Joined)
                {
                    Assert.InRange(joined.Count, 1, 4);
                    await router.LeaveAsync("hot", p.Id, "bye"u8.ToArray(), Ct);
                }
            }
        }, TestContext.Current.CancellationToken));
        await Task.WhenAll(tasks);
        Assert.Equal(0, router.RoomCount);
        Assert.Equal(0, router.ParticipantCount);
    }
}

public sealed class RoomPolicyTests
{
    [Fact]
    public void Without_an_sfu_a_mesh_holds_MaxParticipants()
    {
        var policy = RoomRouterTests.Policy(meshCap: 6);
        Assert.Equal(JoinStatus.Joined, policy.Admit("r", RoomMode.Mesh, 5, true, true).Status);
        var full = policy.Admit("r", RoomMode.Mesh, 6, true, true);
        Assert.Equal((JoinStatus.RoomFull, "This meeting is full (6 participants). Try again when someone leaves."), (full.Status, full.Reason));
    }

    [Fact]
    public void With_an_sfu_the_room_moves_past_MeshMax_and_fills_at_the_sfu_cap()
    {
        var policy = RoomRouterTests.Policy(meshCap: 6, sfu: new FakeMediaServer(true, true), meshMax: 4, sfuCap: 10);
        Assert.Equal(JoinDecision.Admit(RoomMode.Mesh, false), policy.Admit("r", RoomMode.Mesh, 3, true, true));
        Assert.Equal(JoinDecision.Admit(RoomMode.Sfu, true), policy.Admit("r", RoomMode.Mesh, 4, true, true));
        Assert.Equal(JoinDecision.Admit(RoomMode.Sfu, false), policy.Admit("r", RoomMode.Sfu, 9, true, true));
        Assert.Equal(JoinStatus.RoomFull, policy.Admit("r", RoomMode.Sfu, 10, true, true).Status);
    }

    [Fact]
    public void While_the_sfu_is_down_a_mesh_stops_at_MeshMax_and_says_why()
    {
        var policy = RoomRouterTests.Policy(sfu: new FakeMediaServer(true, up: false), meshMax: 4);
        Assert.Equal(JoinStatus.Joined, policy.Admit("r", RoomMode.Mesh, 3, true, true).Status);
        var refused = policy.Admit("r", RoomMode.Mesh, 4, true, true);
        Assert.Equal(JoinStatus.RoomFull, refused.Status);
        Assert.Contains("media server", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("unavailable", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_without_sfu_support_is_refused_from_an_sfu_room_and_never_strands_a_mesh()
    {
        var policy = RoomRouterTests.Policy(sfu: new FakeMediaServer(true, true), meshMax: 4);
        Assert.Equal(JoinStatus.SfuRequired, policy.Admit("r", RoomMode.Sfu, 5, joinerSupportsSfu: false, true).Status);
        Assert.Equal(JoinStatus.SfuRequired, policy.Admit("r", RoomMode.Mesh, 4, joinerSupportsSfu: false, true).Status);
        // A member that cannot follow the room to the SFU keeps it a mesh: the joiner is refused.
        var refused = policy.Admit("r", RoomMode.Mesh, 4, true, membersSupportSfu: false);
        Assert.Equal(JoinStatus.RoomFull, refused.Status);
        Assert.Contains("someone in it", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(JoinStatus.Joined, policy.Admit("r", RoomMode.Mesh, 3, joinerSupportsSfu: false, false).Status);
    }

    [Fact]
    public void A_room_that_lost_its_sfu_falls_back_to_a_mesh_only_up_to_the_mesh_cap()
    {
        var policy = RoomRouterTests.Policy(meshCap: 6, sfu: new FakeMediaServer(true, false));
        Assert.True(policy.MayFallBackToMesh(6));
        Assert.False(policy.MayFallBackToMesh(7));
    }
}
