using System.Text.Json;
using StackExchange.Redis;

namespace Parley.Cluster;

/// <summary>
/// RoomDirectory is the rooms' membership as the Parley servers sharing a Redis agree on it:
/// <c>{prefix}room:{id}:m</c> (a hash of participant id → <see cref="DirectoryMember"/>) and
/// <c>{prefix}room:{id}</c> (its <c>version</c>, counted up by every change), and each server's
/// rooms, <c>{prefix}node:{node}:rooms</c>. Every change is one Lua script, so it is atomic across
/// servers: two joins racing for the last place never both get in, and each change has a version
/// of its own. Nothing is removed because one server has no members left: only a leave, or the
/// sweep of a server whose lease lapsed (<see cref="SweepAsync"/>).
/// </summary>
/// <remarks>Issue 12, first part: the directory and its tests; the Redis-backed IRoomRouter that uses it comes next.</remarks>
internal sealed class RoomDirectory(IDatabase db, string prefix)
{
    // KEYS: members, room, the node's rooms. ARGV: id, member JSON, the most members, room id.
    // Returns {status, count, version, members before}: 1 joined, 0 full, -1 already a member;
    // on a join, the members before it (id, JSON, id, JSON…), read in the same step, so the
    // joiner's roster is exactly the room at the version before its own.
    private const string JoinScript = """
        local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {-1, redis.call('HLEN', KEYS[1]), version, {}} end
        local n = redis.call('HLEN', KEYS[1])
        if n >= tonumber(ARGV[3]) then return {0, n, version, {}} end
        local before = redis.call('HGETALL', KEYS[1])
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        version = redis.call('HINCRBY', KEYS[2], 'version', 1)
        redis.call('SADD', KEYS[3], ARGV[4])
        return {1, n + 1, version, before}
        """;

    // KEYS: members, room. ARGV: id. Returns {removed (1 or 0), count left, version}; the last leave deletes the room.
    private const string LeaveScript = """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
          return {0, redis.call('HLEN', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], 'version') or '0')}
        end
        local left = redis.call('HLEN', KEYS[1])
        local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
        if left == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
        return {1, left, version}
        """;

    // KEYS: members, room. ARGV: node. Removes that node's members and returns their ids.
    private const string SweepScript = """
        local removed = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          local ok, member = pcall(cjson.decode, all[i + 1])
          if ok and member.node == ARGV[1] then
            redis.call('HDEL', KEYS[1], all[i])
            removed[#removed + 1] = all[i]
          end
        end
        if #removed > 0 then redis.call('HINCRBY', KEYS[2], 'version', 1) end
        if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
        return removed
        """;

    /// <summary>JoinAsync adds <paramref name="member"/> to <paramref name="roomId"/> unless it holds <paramref name="max"/> already.</summary>
    public async Task<DirectoryChange> JoinAsync(string roomId, string participantId, DirectoryMember member, int max)
    {
        var json = JsonSerializer.Serialize(member, ClusterJson.Default.DirectoryMember);
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(JoinScript,
            [MembersKey(roomId), RoomKey(roomId), NodeRoomsKey(member.Node)],
            [participantId, json, max, roomId]))!;
        var status = (int)result[0] switch { 1 => DirectoryStatus.Done, 0 => DirectoryStatus.Full, _ => DirectoryStatus.AlreadyMember };
        var before = (RedisResult[])result[3]!;
        var members = new List<(string, DirectoryMember)>(before.Length / 2);
        for (var i = 0; i + 1 < before.Length; i += 2)
        {
            if (JsonSerializer.Deserialize((string)before[i + 1]!, ClusterJson.Default.DirectoryMember) is { } m)
            {
                members.Add(((string)before[i]!, m));
            }
        }
        return new DirectoryChange(status, (int)result[1], (long)result[2]) { Before = members };
    }

    /// <summary>LeaveAsync removes the participant, if a member; the last leave removes the room.</summary>
    public async Task<DirectoryChange> LeaveAsync(string roomId, string participantId)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(LeaveScript, [MembersKey(roomId), RoomKey(roomId)], [participantId]))!;
        return new DirectoryChange((int)result[0] == 1 ? DirectoryStatus.Done : DirectoryStatus.NotMember, (int)result[1], (long)result[2]);
    }

    /// <summary>MembersAsync reads a room's members (for a roster snapshot): a room holds at most a few dozen.</summary>
    public async Task<IReadOnlyDictionary<string, DirectoryMember>> MembersAsync(string roomId)
    {
        var entries = await db.HashGetAllAsync(MembersKey(roomId));
        var members = new Dictionary<string, DirectoryMember>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (JsonSerializer.Deserialize((string)entry.Value!, ClusterJson.Default.DirectoryMember) is { } m)
            {
                members[(string)entry.Name!] = m;
            }
        }
        return members;
    }

    /// <summary>
    /// SweepAsync removes the members of every server whose lease has lapsed (it died without
    /// leaving) from the rooms it had members in, and forgets that server. It returns whom it
    /// removed, by room, so the rooms can be told. Any server may sweep; a second sweep finds
    /// nothing more to do.
    /// </summary>
    public async Task<IReadOnlyList<(string Room, string Participant)>> SweepAsync()
    {
        var removed = new List<(string, string)>();
        foreach (var node in await db.SetMembersAsync(NodesKey))
        {
            var name = (string)node!;
            if (await db.KeyExistsAsync(LeaseKey(name)))
            {
                continue;
            }
            foreach (var room in await db.SetMembersAsync(NodeRoomsKey(name)))
            {
                var roomId = (string)room!;
                var ids = (RedisResult[])(await db.ScriptEvaluateAsync(SweepScript, [MembersKey(roomId), RoomKey(roomId)], [name]))!;
                removed.AddRange(ids.Select(id => (roomId, (string)id!)));
            }
            await db.KeyDeleteAsync(NodeRoomsKey(name));
            await db.SetRemoveAsync(NodesKey, name);
        }
        return removed;
    }

    private string MembersKey(string roomId) => $"{prefix}room:{roomId}:m";

    private string RoomKey(string roomId) => $"{prefix}room:{roomId}";

    private string NodeRoomsKey(string node) => $"{prefix}node:{node}:rooms";

    private string LeaseKey(string node) => $"{prefix}node:{node}";

    private string NodesKey => $"{prefix}nodes";
}

/// <summary>DirectoryMember is what the directory keeps of a participant: the server holding its connection, its name, and whether its client can use the SFU.</summary>
internal sealed record DirectoryMember(string Node, string Name, bool Sfu);

/// <summary>DirectoryStatus is how a change went.</summary>
internal enum DirectoryStatus
{
    Done,
    Full,
    AlreadyMember,
    NotMember,
}

/// <summary>
/// DirectoryChange is the outcome of a change: how it went, the room's size after it, and its
/// version; for a join, <see cref="Before"/> is the members it met (not part of equality).
/// </summary>
internal readonly record struct DirectoryChange(DirectoryStatus Status, int Count, long Version)
{
    public IReadOnlyList<(string Id, DirectoryMember Member)> Before { get; init; } = [];

    public bool Equals(DirectoryChange other) => (Status, Count, Version) == (other.Status, other.Count, other.Version);

    public override int GetHashCode() => HashCode.Combine(Status, Count, Version);
}
