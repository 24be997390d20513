using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;
using StackExchange.Redis;

namespace Parley.Server.Tests;

/// <summary>
/// ClusterTests: a server given Redis (a real redis-server, started by the test) holds a liveness
/// lease there that lapses within the lease time once it is gone, removes it at once when it
/// stops, and says it is not ready while Redis is away, and ready again when it is back.
/// </summary>
public sealed class ClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<ParleyTestServer> StartAsync(RedisServer redis) =>
        ParleyTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Parley:Redis:Configuration"] = redis.Configuration,
            ["Parley:Redis:LeaseTime"] = "00:00:03",
        }, Ct);

    // NodesAsync is the ids in the nodes set whose lease key is there.
    private static async Task<string[]> LiveNodesAsync(IDatabase db)
    {
        var live = new List<string>();
        foreach (var node in await db.SetMembersAsync("parley:nodes"))
        {
            if (await db.KeyExistsAsync($"parley:node:{node}"))
            {
                live.Add(node!);
            }
        }
        return [.. live];
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, $"waited {timeout.TotalSeconds} s for {what}; last: {value}");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task A_server_holds_a_lease_in_redis_that_it_renews_and_removes_when_it_stops()
    {
        await using var redis = await RedisServer.StartAsync(Ct);
        var db = await redis.DatabaseAsync();
        var server = await StartAsync(redis);
        string node;
        await using (server)
        {
            var nodes = await PollAsync(() => LiveNodesAsync(db), n => n.Length == 1, "the server's lease", TimeSpan.FromSeconds(10));
            node = nodes[0];
            Assert.StartsWith(Environment.MachineName + "-", node, StringComparison.Ordinal);
            var lease = JsonDocument.Parse((string)(await db.StringGetAsync($"parley:node:{node}"))!).RootElement;
            Assert.Equal(node, lease.GetProperty("node").GetString());
            var ttl = await db.KeyTimeToLiveAsync($"parley:node:{node}");
            Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromSeconds(3), $"lease TTL {ttl}");
            // Renewed every second (a third of the lease time): still there after two lease times.
            await Task.Delay(TimeSpan.FromSeconds(6), Ct);
            Assert.Equal([node], await LiveNodesAsync(db));
            using var http = new HttpClient { BaseAddress = server.BaseUri };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode);
        }
        // A server that stops leaves at once: the others need not wait for its lease to lapse.
        Assert.False(await db.KeyExistsAsync($"parley:node:{node}"));
        Assert.False(await db.SetContainsAsync("parley:nodes", node));
    }

    [Fact]
    public async Task While_redis_is_away_the_server_is_not_ready_and_when_it_is_back_it_is_ready_again_with_its_lease()
    {
        await using var redis = await RedisServer.StartAsync(Ct);
        await using var server = await StartAsync(redis);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var ready = new Uri("readyz", UriKind.Relative);
        await PollAsync(async () => (await http.GetAsync(ready, Ct)).StatusCode, s => s == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(10));

        await redis.KillAsync(Ct);
        // Unready within the lease time (3 s), with the reason in words.
        var down = await PollAsync(() => http.GetAsync(ready, Ct), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, "not ready", TimeSpan.FromSeconds(6));
        Assert.Contains("Redis cannot be reached", await down.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Redis comes back empty: the server reconnects by itself and writes its lease again.
        await redis.StartAgainAsync(Ct);
        await PollAsync(async () => (await http.GetAsync(ready, Ct)).StatusCode, s => s == HttpStatusCode.OK, "ready again", TimeSpan.FromSeconds(30));
        var db = await redis.DatabaseAsync();
        await PollAsync(() => LiveNodesAsync(db), n => n.Length == 1, "the lease written again", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_redis_nothing_changes_and_the_server_is_ready()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode);
        Assert.False(server.App.Services.GetRequiredService<Parley.Cluster.RedisCluster>().Enabled);
    }
}
