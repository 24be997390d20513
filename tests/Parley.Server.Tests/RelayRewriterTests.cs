using System.Text;
using System.Text.Json;
using Parley.Signaling;

namespace Parley.Server.Tests;

/// <summary>
/// RelayRewriterTests check the relay's byte-copying fast path against the documented message
/// records: for every input both must give the same frame.
/// </summary>
public sealed class RelayRewriterTests
{
    private const string From = "p_3kq8Zr1xWm0aT5yQ2bN7cA";

    [Theory]
    [InlineData("{\"type\":\"offer\",\"to\":\"p_b\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}")]
    [InlineData("{\"type\":\"answer\",\"to\":\"p_b\",\"sdp\":\"v=0 \\u00e9\\u2028 \\\"quoted\\\" ünïcode 😀\"}")]
    [InlineData("{\"sdp\":\"x\",\"id\":\"7\",\"from\":\"p_forged\",\"extra\":{\"a\":[1,2]},\"type\":\"offer\",\"to\":\"p_b\"}")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"abcd\"}}")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null}}")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"usernameFragment\":\"u\",\"extra\":{\"x\":1},\"candidate\":\"c\"}}")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":null}")]
    public void The_fast_path_gives_the_same_frame_as_the_message_records(string input)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var kind = Envelope.Scan(bytes, out _, out _, out var problem);
        Assert.Null(problem);
        var frame = new RelayRewriter().Rewrite(bytes, kind, From, out var to, out var why);
        Assert.Null(why);
        Assert.Equal("p_b", to);

        var json = ParleyJsonContext.Default;
        var expected = kind switch
        {
            MessageKind.Offer => JsonSerializer.Serialize(JsonSerializer.Deserialize(bytes, json.OfferMessage)! with { To = null, From = From }, json.OfferMessage),
            MessageKind.Answer => JsonSerializer.Serialize(JsonSerializer.Deserialize(bytes, json.AnswerMessage)! with { To = null, From = From }, json.AnswerMessage),
            _ => JsonSerializer.Serialize(JsonSerializer.Deserialize(bytes, json.CandidateMessage)! with { To = null, From = From }, json.CandidateMessage),
        };
        // Same document; the fast path keeps the sender's escapes, the serializer writes its own.
        Assert.True(
            System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(expected), System.Text.Json.Nodes.JsonNode.Parse(frame)),
            $"{expected}\n{Encoding.UTF8.GetString(frame!)}");
    }

    [Theory]
    [InlineData("{\"type\":\"offer\",\"to\":\"p_b\",\"to\":\"p_c\",\"sdp\":\"x\"}", "to")]
    [InlineData("{\"type\":\"offer\",\"to\":\"p_b\",\"sdp\":\"x\",\"sdp\":\"y\"}", "sdp")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":1.5}}", "sdpMLineIndex")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":0}}", "sdpMid")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":{\"candidate\":null}}", "candidate.candidate")]
    [InlineData("{\"type\":\"candidate\",\"to\":\"p_b\",\"candidate\":[]}", "object")]
    [InlineData("{\"type\":\"answer\",\"sdp\":\"x\"}", "\"to\"")]
    public void Malformed_relays_are_refused_naming_the_field(string input, string named)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var kind = Envelope.Scan(bytes, out _, out _, out _);
        var frame = new RelayRewriter().Rewrite(bytes, kind, From, out _, out var problem);
        Assert.Null(frame);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }
}
