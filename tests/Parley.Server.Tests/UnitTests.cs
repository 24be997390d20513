using Microsoft.Extensions.Time.Testing;
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
