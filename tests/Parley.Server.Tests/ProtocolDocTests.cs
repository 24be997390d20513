using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Parley.Signaling;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>ProtocolDocTests keep docs/protocol.md and the server's message records in step.</summary>
public sealed partial class ProtocolDocTests
{
    // Strict is the server's own serializer context, refusing fields its records do not have.
    private static readonly ParleyJsonContext Strict = new(new JsonSerializerOptions(ParleyJsonContext.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    });

    private static readonly Dictionary<string, JsonTypeInfo> Types = new()
    {
        ["join"] = Strict.JoinMessage,
        ["joined"] = Strict.JoinedMessage,
        ["peer-joined"] = Strict.PeerJoinedMessage,
        ["peer-left"] = Strict.PeerLeftMessage,
        ["peer-away"] = Strict.PeerAwayMessage,
        ["resumed"] = Strict.ResumedMessage,
        ["offer"] = Strict.OfferMessage,
        ["answer"] = Strict.AnswerMessage,
        ["candidate"] = Strict.CandidateMessage,
        ["state"] = Strict.StateMessage,
        ["chat"] = Strict.ChatMessage,
        ["ice-servers"] = Strict.IceServersMessage,
        ["leave"] = Strict.LeaveMessage,
        ["ping"] = Strict.PingMessage,
        ["pong"] = Strict.PongMessage,
        ["error"] = Strict.ErrorMessage,
        ["mode"] = Strict.ModeMessage,
        ["sfu-offer"] = Strict.SfuOfferMessage,
        ["sfu-answer"] = Strict.SfuAnswerMessage,
        ["sfu-candidate"] = Strict.SfuCandidateMessage,
        ["sfu-close"] = Strict.SfuCloseMessage,
        ["sfu-status"] = Strict.SfuStatusMessage,
        ["switch-ready"] = Strict.SwitchReadyMessage,
        ["switch-done"] = Strict.SwitchDoneMessage,
        ["sfu-view"] = Strict.SfuViewMessage,
        ["sfu-restart"] = Strict.SfuRestartMessage,
    };

    private static readonly string[] ServerToClientOnly = ["joined", "resumed", "peer-joined", "peer-left", "peer-away", "pong", "error", "ice-servers", "mode", "sfu-close", "sfu-status", "switch-done"];

    public static TheoryData<int, string> Examples()
    {
        var doc = File.ReadAllText(Path.Combine(ParleyTestServer.SourceRoot, "docs", "protocol.md"));
        var data = new TheoryData<int, string>();
        var n = 0;
        foreach (Match m in JsonBlock().Matches(doc))
        {
            data.Add(++n, m.Groups[1].Value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_in_the_protocol_doc_parses_with_the_servers_own_types(int number, string json)
    {
        var original = JsonNode.Parse(json)!.AsObject();
        var type = original["type"]!.GetValue<string>();
        Assert.True(Types.TryGetValue(type, out var info), $"example {number}: no record for type '{type}'");

        // id is the envelope's, shared by every message, so no record carries it.
        original.Remove("id");
        var message = JsonSerializer.Deserialize(original.ToJsonString(), info);
        Assert.NotNull(message);

        var written = JsonNode.Parse(JsonSerializer.Serialize(message, info));
        Assert.True(JsonNode.DeepEquals(original, written), $"example {number} does not round-trip:\n{original}\n{written}");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_has_a_valid_envelope(int number, string json)
    {
        var kind = Envelope.Scan(Encoding.UTF8.GetBytes(json), out var unknown, out _, out var problem);
        Assert.Null(problem);
        Assert.NotEqual(MessageKind.Invalid, kind);
        // Only server-to-client types are unknown to the server's reader.
        if (kind == MessageKind.Unknown)
        {
            Assert.Contains(unknown, ServerToClientOnly);
        }
        Assert.True(number > 0);
    }

    [Fact]
    public void The_protocol_doc_has_an_example_of_every_message_type()
    {
        var documented = Examples().Select(row => JsonNode.Parse(row.Data.Item2)!["type"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(Types.Keys.Order(), documented.Order());
    }

    [Fact]
    public void The_protocol_doc_lists_every_error_code()
    {
        var doc = File.ReadAllText(Path.Combine(ParleyTestServer.SourceRoot, "docs", "protocol.md"));
        var codes = typeof(ErrorCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToList();
        Assert.Equal(15, codes.Count);
        Assert.All(codes, code => Assert.Contains($"| `{code}` |", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void The_connectivity_check_example_parses_with_the_servers_own_type()
    {
        var doc = File.ReadAllText(Path.Combine(ParleyTestServer.SourceRoot, "docs", "protocol.md"));
        var block = Assert.Single(HttpBlock().Matches(doc)).Groups[1].Value;
        var original = JsonNode.Parse(block);
        var strict = new Parley.Turn.IceJsonContext(new JsonSerializerOptions(Parley.Turn.IceJsonContext.Default.Options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        });
        var config = JsonSerializer.Deserialize(block, strict.IceConfigMessage);
        Assert.NotNull(config);
        Assert.True(JsonNode.DeepEquals(original, JsonNode.Parse(JsonSerializer.Serialize(config, strict.IceConfigMessage))));
    }

    [GeneratedRegex("```json http-response\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex HttpBlock();

    [GeneratedRegex("```json\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
