using Parley.Cluster;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// RoomDirectoryTests: the shared membership (Cluster/RoomDirectory.cs) against a real
/// redis-server: joins from three servers racing for the last places never overfill a room, each
/// change has a version of its own, the last leave removes the room, and a dead server's members
/// (its lease lapsed) are swept from every room it had, and nobody else's.
/// </summary>
public sealed class RoomDirectoryTests
{
    private const string Prefix = "parley:";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DirectoryMember On(string node) => new(node, "someone", Sfu: true);

    [Fact]
    public async Task Joins_racing_on_three_servers_for_the_last_places_never_overfill_the_room_and_each_gets_its_own_version()
    {
        await using var redis = await RedisServer.StartAsync(Ct);
        // Three servers, each with its own connection, as three processes would have.
        var servers = new List<RoomDirectory>();
        var connections = new List<StackExchange.Redis.ConnectionMultiplexer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var c = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Configuration);
                connections.Add(c);
                servers.Add(new RoomDirectory(c.GetDatabase(), Prefix));
            }
            var joins = Enumerable.Range(0, 30).Select(i => servers[i % 3].JoinAsync("race", $"p_{i}", On($"node-{i % 3}"), max: 5)).ToArray();
            var results = await Task.WhenAll(joins);

            var joined = results.Where(r => r.Status == DirectoryStatus.Done).ToArray();
            Assert.Equal(5, joined.Length);
            Assert.All(results.Where(r => r.Status != DirectoryStatus.Done), r => Assert.Equal((DirectoryStatus.Full, 5), (r.Status, r.Count)));
            Assert.Equal([1L, 2, 3, 4, 5], joined.Select(r => r.Version).Order());
            // Each join met the joins of the versions before its own, and no later one.
            Assert.All(joined, r => Assert.Equal(r.Version - 1, r.Before.Count));
            Assert.Equal(5, (await servers[0].MembersAsync("race")).Count);
        }
        finally
        {
            foreach (var c in connections)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_second_join_of_a_member_changes_nothing_and_the_last_leave_removes_the_room()
    {
        await using var redis = await RedisServer.StartAsync(Ct);
        var db = await redis.DatabaseAsync();
        var directory = new RoomDirectory(db, Prefix);

        Assert.Equal(new DirectoryChange(DirectoryStatus.Done, 1, 1), await directory.JoinAsync("r", "p_ada", On("a"), 5));
        Assert.Equal(new DirectoryChange(DirectoryStatus.AlreadyMember, 1, 1), await directory.JoinAsync("r", "p_ada", On("b"), 5));
        var grace = await directory.JoinAsync("r", "p_grace", On("b"), 5);
        Assert.Equal(new DirectoryChange(DirectoryStatus.Done, 2, 2), grace);
        // The join met exactly the room before it.
        Assert.Equal([("p_ada", On("a"))], grace.Before);
        Assert.Equal("a", (await directory.MembersAsync("r"))["p_ada"].Node);

        Assert.Equal(new DirectoryChange(DirectoryStatus.Done, 1, 3), await directory.LeaveAsync("r", "p_ada"));
        Assert.Equal(DirectoryStatus.NotMember, (await directory.LeaveAsync("r", "p_ada")).Status);
        Assert.Equal(new DirectoryChange(DirectoryStatus.Done, 0, 4), await directory.LeaveAsync("r", "p_grace"));
        Assert.False(await db.KeyExistsAsync($"{Prefix}room:r:m"));
        Assert.False(await db.KeyExistsAsync($"{Prefix}room:r"));
    }

    [Fact]
    public async Task The_sweep_removes_a_dead_servers_members_from_every_room_it_had_and_only_theirs()
    {
        await using var redis = await RedisServer.StartAsync(Ct);
        var db = await redis.DatabaseAsync();
        var directory = new RoomDirectory(db, Prefix);
        // "live" holds its lease; "dead" had one, which lapsed.
        await db.StringSetAsync($"{Prefix}node:live", "{}", TimeSpan.FromMinutes(1));
        await db.SetAddAsync($"{Prefix}nodes", ["live", "dead"]);
        await directory.JoinAsync("one", "p_ada", On("live"), 10);
        await directory.JoinAsync("one", "p_grace", On("dead"), 10);
        await directory.JoinAsync("two", "p_alan", On("dead"), 10);

        var removed = await directory.SweepAsync();

        Assert.Equal([("one", "p_grace"), ("two", "p_alan")], removed.Order());
        Assert.Equal(["p_ada"], (await directory.MembersAsync("one")).Keys);
        Assert.Empty(await directory.MembersAsync("two"));
        Assert.False(await db.KeyExistsAsync($"{Prefix}room:two"));
        Assert.Equal(["live"], (await db.SetMembersAsync($"{Prefix}nodes")).Select(v => (string)v!));
        // Nothing is left to do for the next sweep, on whichever server it runs.
        Assert.Empty(await directory.SweepAsync());
        Assert.Equal(["p_ada"], (await directory.MembersAsync("one")).Keys);
    }
}
