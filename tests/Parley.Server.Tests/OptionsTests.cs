using Microsoft.Extensions.Options;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>OptionsTests check that bad configuration stops the server at start, naming the key.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData("Parley:MaxParticipants", "0", "MaxParticipants")]
    [InlineData("Parley:MaxMessageBytes", "10", "MaxMessageBytes")]
    [InlineData("Parley:JoinTimeout", "00:00:00", "JoinTimeout")]
    [InlineData("Parley:MessagesPerSecond", "0", "MessagesPerSecond")]
    [InlineData("Parley:MessageBurst", "10", "Parley:MessageBurst")]
    [InlineData("Parley:ChatMessagesPerSecond", "0", "ChatMessagesPerSecond")]
    [InlineData("Parley:ChatBurst", "0", "ChatBurst")]
    [InlineData("Parley:ChatMessagesPerSecond", "6", "Parley:ChatBurst (5) must be at least Parley:ChatMessagesPerSecond (6)")]
    [InlineData("Parley:KeepAliveTimeout", "00:00:00", "KeepAliveTimeout")]
    [InlineData("Parley:OutboundQueueLimit", "0", "OutboundQueueLimit")]
    [InlineData("Parley:ResumeWindow", "00:11:00", "ResumeWindow")]
    [InlineData("Parley:ResumeQueueMessages", "0", "ResumeQueueMessages")]
    [InlineData("Parley:ResumeQueueBytes", "10", "ResumeQueueBytes")]
    [InlineData("Parley:IceTransportPolicy", "sometimes", "Parley:IceTransportPolicy")]
    [InlineData("Parley:AllowedOrigins:0", "https://meet.example.org/path", "Parley:AllowedOrigins")]
    [InlineData("Parley:AllowedOrigins:0", "meet.example.org", "Parley:AllowedOrigins")]
    [InlineData("Parley:IceServers:0:Urls:0", "http://stun.example.org", "Parley:IceServers:0:Urls")]
    [InlineData("Parley:IceServers:0:Username", "nobody", "Parley:IceServers:0:Urls")]
    [InlineData("Parley:IceTransportPolicy", "relay", "Parley:IceTransportPolicy")]
    [InlineData("Parley:Redis:Configuration", "127.0.0.1:6379,abortConnect=maybe", "Parley:Redis:Configuration is not a Redis configuration string")]
    [InlineData("Parley:Redis:Configuration", "password=secret-words", "Parley:Redis:Configuration names no Redis server")]
    [InlineData("Parley:Redis:KeyPrefix", "has spaces", "Parley:Redis:KeyPrefix")]
    [InlineData("Parley:Redis:LeaseTime", "00:00:01", "LeaseTime")]
    public async Task Bad_configuration_stops_the_start_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var app = ParleyTestServer.Build(new Dictionary<string, string?> { [key] = value }, null, out _);
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Parley:Sfu:JanusUrl", "http://127.0.0.1:8188", "Parley:Sfu:JanusUrl")]
    [InlineData("Parley:Sfu:ApiSecret", "", "Parley:Sfu:ApiSecret")]
    [InlineData("Parley:Sfu:AdminKey", "", "Parley:Sfu:AdminKey")]
    [InlineData("Parley:Sfu:MeshMax", "7", "Parley:Sfu:MeshMax")]
    [InlineData("Parley:Sfu:MaxParticipants", "4", "Parley:Sfu:MaxParticipants")]
    [InlineData("Parley:Sfu:MaxParticipants", "1", "MaxParticipants")]
    [InlineData("Parley:Sfu:RequestTimeout", "00:00:00", "RequestTimeout")]
    public async Task Bad_sfu_configuration_stops_the_start_with_a_message_naming_the_key(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Parley:Sfu:JanusUrl"] = "ws://127.0.0.1:1",
            ["Parley:Sfu:ApiSecret"] = "secret",
            ["Parley:Sfu:AdminKey"] = "key",
            [key] = value,
        };
        await using var app = ParleyTestServer.Build(settings, null, out _);
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_stops_the_start()
    {
        await using var app = ParleyTestServer.Build(new Dictionary<string, string?> { ["Parley:MaxParticipants"] = "six" }, null, out _);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("MaxParticipants", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_ice_servers_reach_clients_in_joined()
    {
        await using var server = await ParleyTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Parley:IceServers:0:Urls:0"] = "stun:stun.example.org:3478",
            ["Parley:IceServers:1:Urls:0"] = "turn:turn.example.org:3478?transport=udp",
            ["Parley:IceServers:1:Urls:1"] = "turns:turn.example.org:5349?transport=tcp",
            ["Parley:IceServers:1:Username"] = "user",
            ["Parley:IceServers:1:Credential"] = "pass",
            ["Parley:IceTransportPolicy"] = "relay",
        }, TestContext.Current.CancellationToken);
        var (client, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "ice", "Ada", TestContext.Current.CancellationToken);
        await using var c = client;
        Assert.Equal("relay", joined.GetProperty("iceTransportPolicy").GetString());
        var servers = joined.GetProperty("iceServers");
        Assert.Equal("stun:stun.example.org:3478", servers[0].GetProperty("urls")[0].GetString());
        Assert.False(servers[0].TryGetProperty("username", out _));
        Assert.Equal("turns:turn.example.org:5349?transport=tcp", servers[1].GetProperty("urls")[1].GetString());
        Assert.Equal("user", servers[1].GetProperty("username").GetString());
        Assert.Equal("pass", servers[1].GetProperty("credential").GetString());
    }
}
