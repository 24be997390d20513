using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Parley.Cluster;

/// <summary>
/// RedisCluster is this server's place among the Parley servers that share a Redis: one
/// connection (a multiplexer), this server's node id, and its liveness lease, the key
/// <c>{prefix}node:{id}</c> set with a time to live of <see cref="ClusterOptions.LeaseTime"/> and
/// renewed every third of it, its id in the set <c>{prefix}nodes</c>. A stopping server removes
/// its lease at once; a dead one's lapses. Without a Redis configuration it does nothing and
/// <see cref="IsReady"/> is always true.
/// </summary>
internal sealed partial class RedisCluster(IOptions<ClusterOptions> options, TimeProvider time, ILogger<RedisCluster> logger) : BackgroundService
{
    private readonly ClusterOptions _options = options.Value;
    private ConnectionMultiplexer? _redis;
    private long _leaseRenewedAt = long.MinValue;
    private bool _leaseFailing;

    /// <summary>NodeId names this server in Redis: its host name and a part new on every start.</summary>
    public string NodeId { get; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Enabled is true when a Redis configuration is set.</summary>
    public bool Enabled => _options.IsEnabled;

    /// <summary>
    /// IsReady is true when this server may take joins as far as Redis goes: no Redis is
    /// configured, or its lease was renewed within the lease time (so Redis answers, and the other
    /// servers count this one alive).
    /// </summary>
    public bool IsReady => !Enabled || time.GetElapsedTime(Interlocked.Read(ref _leaseRenewedAt)) < _options.LeaseTime;

    private string LeaseKey => $"{_options.KeyPrefix}node:{NodeId}";

    private string NodesKey => $"{_options.KeyPrefix}nodes";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        var config = ConfigurationOptions.Parse(_options.Configuration!);
        // Start without Redis and keep trying: a server must come up, and say it is not ready,
        // while Redis is away, rather than fail to start.
        config.AbortOnConnectFail = false;
        // Come back soon after Redis does: tries from 0.5 s apart, growing to at most 5 s (the
        // library's default waits up to tens of seconds, longer than the lease lasts).
        config.ReconnectRetryPolicy = new ExponentialRetry(500, 5_000);
        config.ClientName ??= $"parley-{NodeId}";
        _redis = await ConnectionMultiplexer.ConnectAsync(config);
        _redis.ConnectionFailed += (_, e) => ConnectionLost(logger, e.EndPoint, e.FailureType);
        _redis.ConnectionRestored += (_, e) => ConnectionBack(logger, e.EndPoint);
        var lease = JsonSerializer.Serialize(new NodeLease(NodeId, time.GetUtcNow()), ClusterJson.Default.NodeLease);
        using var timer = new PeriodicTimer(_options.LeaseTime / 3, time);
        do
        {
            await RenewAsync(lease);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task RenewAsync(string lease)
    {
        var db = _redis!.GetDatabase();
        try
        {
            var tx = db.CreateTransaction();
            _ = tx.StringSetAsync(LeaseKey, lease, _options.LeaseTime);
            _ = tx.SetAddAsync(NodesKey, NodeId);
            if (await tx.ExecuteAsync())
            {
                Interlocked.Exchange(ref _leaseRenewedAt, time.GetTimestamp());
                if (_leaseFailing)
                {
                    _leaseFailing = false;
                    LeaseRenewed(logger, NodeId);
                }
            }
        }
        catch (RedisException e)
        {
            if (!_leaseFailing)
            {
                _leaseFailing = true;
                LeaseFailed(logger, NodeId, e.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_redis is not { } redis)
        {
            return;
        }
        try
        {
            // Leave at once rather than let the others wait for the lease to lapse.
            var db = redis.GetDatabase();
            await Task.WhenAll(db.KeyDeleteAsync(LeaseKey), db.SetRemoveAsync(NodesKey, NodeId)).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException)
        {
            LeaseFailed(logger, NodeId, e.Message);
        }
        await redis.CloseAsync();
        redis.Dispose();
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} lost ({Failure})")]
    private static partial void ConnectionLost(ILogger logger, System.Net.EndPoint? endPoint, ConnectionFailureType failure);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Redis connection to {EndPoint} restored")]
    private static partial void ConnectionBack(ILogger logger, System.Net.EndPoint? endPoint);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "The liveness lease of node {Node} could not be renewed: {Reason}")]
    private static partial void LeaseFailed(ILogger logger, string node, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "The liveness lease of node {Node} is renewed again")]
    private static partial void LeaseRenewed(ILogger logger, string node);
}

/// <summary>NodeLease is what a server's lease key holds: who it is and since when it runs.</summary>
internal sealed record NodeLease(string Node, DateTimeOffset StartedAt);

[System.Text.Json.Serialization.JsonSerializable(typeof(NodeLease))]
[System.Text.Json.Serialization.JsonSerializable(typeof(DirectoryMember))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
internal sealed partial class ClusterJson : System.Text.Json.Serialization.JsonSerializerContext;
