using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Parley.Rooms;
using Parley.Signaling;

namespace Parley.Server.Tests;

public sealed class TokenBucketTests
{
    [Fact]
    public void A_full_bucket_allows_the_burst_then_refuses_until_time_refills_it()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(time, ratePerSecond: 50, burst: 200);
        for (var i = 0; i < 200; i++)
        {
            Assert.True(bucket.TryTake(), $"token {i}");
        }
        Assert.False(bucket.TryTake());

        time.Advance(TimeSpan.FromMilliseconds(100)); // 5 tokens at 50/s
        for (var i = 0; i < 5; i++)
        {
            Assert.True(bucket.TryTake());
        }
        Assert.False(bucket.TryTake());
    }

    [Fact]
    public void Refill_never_exceeds_the_burst()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(time, ratePerSecond: 50, burst: 10);
        time.Advance(TimeSpan.FromHours(1));
        var taken = 0;
        while (bucket.TryTake())
        {
            taken++;
        }
        Assert.Equal(10, taken);
    }
}

public sealed class ValidationTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("0", true)]
    [InlineData("calm-otter-k7mq-x2np-vd4h", true)]
    [InlineData("a-", true)]
    [InlineData("-a", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("A", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    public void Room_ids_follow_the_protocol_rule(string? room, bool valid) => Assert.Equal(valid, Validation.IsRoomId(room));

    [Fact]
    public void Room_ids_may_be_64_characters_but_not_65()
    {
        Assert.True(Validation.IsRoomId(new string('a', 64)));
        Assert.False(Validation.IsRoomId(new string('a', 65)));
    }

    [Theory]
    [InlineData(" Ada ", "Ada")]
    [InlineData("Ada Lovelace", "Ada Lovelace")]
    [InlineData("👩‍💻 Grace", "👩‍💻 Grace")]
    [InlineData("<b>x</b>", "<b>x</b>")]
    [InlineData("", null)]
    [InlineData("\t\n", null)]
    [InlineData("a\u0007", null)]
    [InlineData("a\u2028b", null)]
    [InlineData("a\u2066b", null)]
    [InlineData("a\u200Fb", null)]
    [InlineData(null, null)]
    public void Names_are_trimmed_and_checked(string? name, string? expected) => Assert.Equal(expected, Validation.NormalizeName(name));
}

public sealed class RoomRouterTests
{
    private sealed class Outbox : IPeerOutbox
    {
        public List<string> Frames { get; } = [];

        public void Send(ReadOnlyMemory<byte> frame) => Frames.Add(System.Text.Encoding.UTF8.GetString(frame.Span));
    }

    private static LocalRoomRouter Router(int max = 6) =>
        new(Options.Create(new ParleyOptions { MaxParticipants = max }));

    private static JoinFrames Frames(string who) => peers =>
        (System.Text.Encoding.UTF8.GetBytes($"joined {who} with {string.Join(",", peers.Select(p => p.Name))}"),
         System.Text.Encoding.UTF8.GetBytes($"peer-joined {who}"));

    [Fact]
    public void Joining_sends_joined_to_the_joiner_and_peer_joined_to_the_others()
    {
        var router = Router();
        var a = new Participant("p_a", "A", new Outbox());
        var b = new Participant("p_b", "B", new Outbox());
        Assert.Equal(JoinStatus.Joined, router.Join("r", a, Frames("A")));
        Assert.Equal(JoinStatus.Joined, router.Join("r", b, Frames("B")));
        Assert.Equal(["joined A with ", "peer-joined B"], ((Outbox)a.Outbox).Frames);
        Assert.Equal(["joined B with A"], ((Outbox)b.Outbox).Frames);
        Assert.Equal(1, router.RoomCount);
    }

    [Fact]
    public void A_full_room_refuses_and_tells_nobody()
    {
        var router = Router(max: 1);
        var a = new Participant("p_a", "A", new Outbox());
        var b = new Participant("p_b", "B", new Outbox());
        router.Join("r", a, Frames("A"));
        Assert.Equal(JoinStatus.RoomFull, router.Join("r", b, Frames("B")));
        Assert.Single(((Outbox)a.Outbox).Frames);
        Assert.Empty(((Outbox)b.Outbox).Frames);
        Assert.Null(b.Room);
    }

    [Fact]
    public void The_last_leave_removes_the_room()
    {
        var router = Router();
        var a = new Participant("p_a", "A", new Outbox());
        var b = new Participant("p_b", "B", new Outbox());
        router.Join("r", a, Frames("A"));
        router.Join("r", b, Frames("B"));
        router.Leave(a, "left A"u8.ToArray());
        Assert.Equal("left A", ((Outbox)b.Outbox).Frames[^1]);
        Assert.Equal(1, router.RoomCount);
        router.Leave(b, "left B"u8.ToArray());
        Assert.Equal(0, router.RoomCount);
        router.Leave(b, "again"u8.ToArray()); // a second leave is harmless
    }

    [Fact]
    public void SendTo_reaches_only_another_member_of_the_same_room()
    {
        var router = Router();
        var a = new Participant("p_a", "A", new Outbox());
        var b = new Participant("p_b", "B", new Outbox());
        var c = new Participant("p_c", "C", new Outbox());
        router.Join("r", a, Frames("A"));
        router.Join("r", b, Frames("B"));
        router.Join("other", c, Frames("C"));
        Assert.True(router.SendTo(a, "p_b", "hi"u8.ToArray()));
        Assert.False(router.SendTo(a, "p_c", "hi"u8.ToArray()));
        Assert.False(router.SendTo(a, "p_a", "hi"u8.ToArray()));
        Assert.Equal("hi", ((Outbox)b.Outbox).Frames[^1]);
        Assert.DoesNotContain("hi", ((Outbox)c.Outbox).Frames);
    }

    [Fact]
    public async Task Concurrent_joins_and_leaves_leave_no_room_behind_and_never_exceed_the_limit()
    {
        var router = Router(max: 4);
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var p = new Participant($"p_{t}_{i}", "X", new Outbox());
                if (router.Join("hot", p, Frames("X")) == JoinStatus.Joined)
                {
                    Assert.InRange(p.Room!.Count, 1, 4);
                    router.Leave(p, "bye"u8.ToArray());
                }
            }
        }, TestContext.Current.CancellationToken));
        await Task.WhenAll(tasks);
        Assert.Equal(0, router.RoomCount);
    }
}
