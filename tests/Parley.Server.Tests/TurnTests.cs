using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Testing;
using Parley.Turn;

namespace Parley.Server.Tests;

public sealed class TurnTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> TurnSettings(string lifetime = "01:00:00") => new()
    {
        ["Parley:IceServers:0:Urls:0"] = "stun:turn.example.org:3478",
        ["Parley:Turn:Urls:0"] = "turn:turn.example.org:3478?transport=udp",
        ["Parley:Turn:Urls:1"] = "turn:turn.example.org:3478?transport=tcp",
        ["Parley:Turn:Urls:2"] = "turns:turn.example.org:5349?transport=tcp",
        ["Parley:Turn:Secret"] = "north-wind-secret",
        ["Parley:Turn:CredentialLifetime"] = lifetime,
    };

    [Fact]
    public void A_credential_matches_a_vector_computed_independently()
    {
        // Computed outside .NET:
        //   printf '1764072000:p_test' | openssl dgst -sha1 -hmac north-wind-secret -binary | base64
        var now = DateTimeOffset.FromUnixTimeSeconds(1764072000 - 3600);
        var credential = TurnCredentials.Mint("north-wind-secret", "p_test", now, TimeSpan.FromHours(1));
        Assert.Equal("1764072000:p_test", credential.Username);
        Assert.Equal("nIOsFsYOzKJsnmu4I2JYgt4hr1s=", credential.Password);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764072000), credential.Expires);
    }

    [Fact]
    public async Task Joined_carries_a_turn_credential_minted_for_this_participant_and_never_the_secret()
    {
        await using var server = await ParleyTestServer.StartAsync(TurnSettings(), Ct);
        await using var raw = await SignalingClient.ConnectAsync(server.WebSocketUri, Ct);
        await raw.SendAsync(new { type = "join", version = 1, room = "turn", name = "Ada" }, Ct);
        var text = await raw.ReceiveTextAsync(Ct);
        Assert.DoesNotContain("north-wind-secret", text, StringComparison.Ordinal);
        var joined = System.Text.Json.JsonDocument.Parse(text!).RootElement;
        var id = joined.GetProperty("self").GetProperty("id").GetString();

        var servers = joined.GetProperty("iceServers");
        Assert.Equal(2, servers.GetArrayLength());
        Assert.Equal("stun:turn.example.org:3478", servers[0].GetProperty("urls")[0].GetString());
        var turn = servers[1];
        Assert.Equal(3, turn.GetProperty("urls").GetArrayLength());
        var username = turn.GetProperty("username").GetString()!;
        var expiry = long.Parse(username.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"{expiry}:{id}", username);
        Assert.InRange(expiry - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 3590, 3610);
#pragma warning disable CA5350 // the TURN REST scheme is HMAC-SHA1
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("north-wind-secret"), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
        Assert.Equal(expected, turn.GetProperty("credential").GetString());
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("north-wind-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Before_credentials_expire_the_server_sends_fresh_ones_in_ice_servers()
    {
        await using var server = await ParleyTestServer.StartAsync(TurnSettings(lifetime: "00:00:02"), Ct);
        var (ada, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "refresh", "Ada", Ct);
        await using var a = ada;
        var first = joined.GetProperty("iceServers")[1].GetProperty("username").GetString()!;

        // Refreshed at 80% of the lifetime: 1.6 s, before the 2 s expiry.
        var started = DateTime.UtcNow;
        var fresh = await ada.ReceiveTypeAsync("ice-servers", Ct, TimeSpan.FromSeconds(3));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        var turn = fresh.GetProperty("iceServers")[1];
        var username = turn.GetProperty("username").GetString()!;
        Assert.EndsWith($":{ada.Id}", username, StringComparison.Ordinal);
        Assert.True(string.CompareOrdinal(username, first) >= 0);
        Assert.Equal("stun:turn.example.org:3478", fresh.GetProperty("iceServers")[0].GetProperty("urls")[0].GetString());

        // And again, for as long as the participant stays.
        await ada.ReceiveTypeAsync("ice-servers", Ct, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Without_a_turn_server_nobody_gets_ice_servers_messages()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        var (ada, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "no-turn", "Ada", Ct);
        await using var a = ada;
        Assert.Equal(0, joined.GetProperty("iceServers").GetArrayLength());
        Assert.Null(await ada.NextWithinAsync(TimeSpan.FromMilliseconds(300), Ct));
    }

    [Theory]
    [InlineData("Parley:Turn:Secret", "", "Parley:Turn:Secret")]
    [InlineData("Parley:Turn:CredentialLifetime", "00:00:00", "Parley:Turn:CredentialLifetime")]
    [InlineData("Parley:Turn:Urls:0", "turn//turn.example.org", "Parley:Turn:Urls")]
    [InlineData("Parley:Turn:Urls:0", "stun:turn.example.org", "Parley:Turn:Urls")]
    [InlineData("Parley:IceServers:0:Urls:0", "turn:turn.example.org:3478", "Parley:IceServers:0:Urls")]
    [InlineData("Parley:IceServers:0:Urls:0", "stun:", "Parley:IceServers:0:Urls")]
    public async Task Bad_turn_configuration_stops_the_start_naming_the_key(string key, string value, string named)
    {
        var settings = TurnSettings();
        settings[key] = value;
        await using var app = ParleyTestServer.Build(settings, null, out _);
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Ct));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("north-wind-secret", e.Message, StringComparison.Ordinal);
    }
}
