using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// ProductionJanusTests run Debian's Janus with deploy/janus/*.jcfg (only the test's replacements,
/// see <see cref="JanusServer"/>) and check what the configuration promises: only the VideoRoom
/// plugin and the WebSocket transport, every request needs the api secret, only the admin key
/// creates rooms or forwards RTP, no static rooms, and nothing else listening.
/// </summary>
[Collection(SharedJanus.Name)]
public sealed class ProductionJanusTests(JanusFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private JanusServer Janus => fixture.Janus;

    [Fact]
    public async Task Info_reports_Janus_1_1_2_with_exactly_the_VideoRoom_plugin_and_the_WebSocket_transport()
    {
        await using var janus = await JanusWebSocket.ConnectAsync(Janus.WebSocketUri, Ct);

        var info = await janus.InfoAsync(Ct);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"JanusServer.StartAsync took {fixture.StartTime.TotalMilliseconds:0} ms, of which {Janus.StartupTime.TotalMilliseconds:0} ms from launching janus to its first info answer");
        Assert.Equal("server_info", info.GetProperty("janus").GetString());
        Assert.Equal(1102, info.GetProperty("version").GetInt32());
        Assert.Equal("1.1.2", info.GetProperty("version_string").GetString());
        Assert.Equal(["janus.plugin.videoroom"], Keys(info, "plugins"));
        Assert.Equal(["janus.transport.websockets"], Keys(info, "transports"));
        Assert.Empty(Keys(info, "events"));
        Assert.Empty(Keys(info, "loggers"));
        Assert.False(info.GetProperty("event_handlers").GetBoolean());
        Assert.True(info.GetProperty("api_secret").GetBoolean());
        Assert.False(info.GetProperty("auth_token").GetBoolean());
        Assert.True(info.GetProperty("full-trickle").GetBoolean());
        Assert.False(info.GetProperty("ice-tcp").GetBoolean());
        Assert.False(info.GetProperty("ice-lite").GetBoolean());
        Assert.False(info.GetProperty("mdns-enabled").GetBoolean());
        Assert.Equal(60, info.GetProperty("session-timeout").GetInt32());
        Assert.Equal(0, info.GetProperty("reclaim-session-timeout").GetInt32());
        Assert.Equal("parley-sfu", info.GetProperty("server-name").GetString());
        // hide_dependencies: no library versions for whoever asks.
        Assert.False(info.TryGetProperty("dependencies", out _));
    }

    [Fact]
    public async Task A_request_without_the_api_secret_or_with_a_wrong_one_is_refused_with_403_and_one_with_it_creates_a_session()
    {
        await using var janus = await JanusWebSocket.ConnectAsync(Janus.WebSocketUri, Ct);

        Assert.Equal(403, JanusApi.ErrorCode(await janus.CreateSessionAsync(apiSecret: null, Ct)));
        Assert.Equal(403, JanusApi.ErrorCode(await janus.CreateSessionAsync(Janus.ApiSecret + "x", Ct)));
        var session = JanusApi.Id(await janus.CreateSessionAsync(Janus.ApiSecret, Ct));

        // Every request on the session needs the secret too, not only the first.
        var attach = await janus.RequestAsync(new JsonObject { ["janus"] = "attach", ["session_id"] = session, ["plugin"] = JanusApi.VideoRoom }, Ct);
        Assert.Equal(403, JanusApi.ErrorCode(attach));
    }

    [Fact]
    public async Task Only_a_request_with_the_admin_key_creates_a_room()
    {
        await using var janus = await JanusWebSocket.ConnectAsync(Janus.WebSocketUri, Ct);
        var handle = await janus.AttachVideoRoomAsync(Janus.ApiSecret, Ct);
        const long room = 4201;

        var without = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Create(room, adminKey: null), Ct);
        var wrong = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Create(room, Janus.AdminKey + "x"), Ct);
        var with = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Create(room, Janus.AdminKey), Ct);
        try
        {
            Assert.Equal(429, JanusApi.PluginErrorCode(without));   // missing element: admin_key
            Assert.Equal(433, JanusApi.PluginErrorCode(wrong));     // unauthorized
            Assert.Null(JanusApi.PluginErrorCode(with));
            Assert.Equal("created", with.GetProperty("videoroom").GetString());
            Assert.Contains(room, await ListRoomsAsync(janus, handle));
        }
        finally
        {
            await janus.VideoRoomAsync(handle, Janus.ApiSecret, new JsonObject { ["request"] = "destroy", ["room"] = room }, Ct);
        }
    }

    [Fact]
    public async Task Janus_starts_with_no_rooms_so_neither_demo_room_exists()
    {
        await using var janus = await JanusWebSocket.ConnectAsync(Janus.WebSocketUri, Ct);
        var handle = await janus.AttachVideoRoomAsync(Janus.ApiSecret, Ct);

        var rooms = await ListRoomsAsync(janus, handle);

        // Rooms the other tests create (42xx) may exist while they run; nothing else may.
        Assert.DoesNotContain(1234, rooms);
        Assert.DoesNotContain(5678, rooms);
        Assert.All(rooms, r => Assert.InRange(r, 4200, 4299));
        var exists = await janus.VideoRoomAsync(handle, Janus.ApiSecret, new JsonObject { ["request"] = "exists", ["room"] = 1234 }, Ct);
        Assert.False(exists.GetProperty("exists").GetBoolean());
    }

    [Fact]
    public async Task Forwarding_a_publisher_s_RTP_needs_the_admin_key()
    {
        await using var janus = await JanusWebSocket.ConnectAsync(Janus.WebSocketUri, Ct);
        var handle = await janus.AttachVideoRoomAsync(Janus.ApiSecret, Ct);
        const long room = 4202;
        Assert.Equal("created", (await janus.VideoRoomAsync(handle, Janus.ApiSecret, Create(room, Janus.AdminKey), Ct)).GetProperty("videoroom").GetString());
        try
        {
            // The target is the test's own side of the veth: were a forward ever set up, nothing would leave the machine.
            JsonObject Forward(string? adminKey)
            {
                var body = new JsonObject { ["request"] = "rtp_forward", ["room"] = room, ["publisher_id"] = 1, ["host"] = Janus.HostAddress.ToString() };
                if (adminKey is not null)
                {
                    body["admin_key"] = adminKey;
                }
                return body;
            }

            var without = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Forward(null), Ct);
            var wrong = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Forward(Janus.AdminKey + "x"), Ct);
            var with = await janus.VideoRoomAsync(handle, Janus.ApiSecret, Forward(Janus.AdminKey), Ct);

            Assert.Equal(429, JanusApi.PluginErrorCode(without));
            Assert.Equal(433, JanusApi.PluginErrorCode(wrong));
            // With the key the request gets past the lock and fails only because publisher 1 does not exist.
            Assert.NotNull(JanusApi.PluginErrorCode(with));
            Assert.NotEqual(429, JanusApi.PluginErrorCode(with));
            Assert.NotEqual(433, JanusApi.PluginErrorCode(with));
        }
        finally
        {
            await janus.VideoRoomAsync(handle, Janus.ApiSecret, new JsonObject { ["request"] = "destroy", ["room"] = room }, Ct);
        }
    }

    [Fact]
    public async Task Nothing_listens_in_Janus_s_namespace_but_the_WebSocket_on_the_veth()
    {
        // Every listening TCP, UDP, raw and UNIX socket of the namespace, numeric, without a header.
        var listening = (await Janus.RunInNamespaceAsync(Ct, "ss", "-H", "-l", "-n", "-p", "-t", "-u", "-w", "-x"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var only = Assert.Single(listening);
        var columns = only.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("tcp", columns[0]);
        Assert.Equal($"{Janus.Address}:{JanusServer.Port}", columns[4]);
        Assert.Contains($"pid={Janus.ProcessId},", only, StringComparison.Ordinal);
    }

    private static JsonObject Create(long room, string? adminKey)
    {
        var body = new JsonObject { ["request"] = "create", ["room"] = room, ["description"] = "parley-test", ["is_private"] = true };
        if (adminKey is not null)
        {
            body["admin_key"] = adminKey;
        }
        return body;
    }

    // ListRoomsAsync lists every room, private ones included (that needs the admin key).
    private async Task<List<long>> ListRoomsAsync(JanusWebSocket janus, (long, long) handle)
    {
        var list = await janus.VideoRoomAsync(handle, Janus.ApiSecret, new JsonObject { ["request"] = "list", ["admin_key"] = Janus.AdminKey }, Ct);
        return [.. list.GetProperty("list").EnumerateArray().Select(r => r.GetProperty("room").GetInt64())];
    }

    private static string[] Keys(JsonElement info, string property) =>
        [.. info.GetProperty(property).EnumerateObject().Select(p => p.Name)];
}
