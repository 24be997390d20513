using System.Buffers;
using System.Text.Json;

namespace Parley.Signaling;

/// <summary>
/// RelayRewriter turns a client's <c>offer</c>, <c>answer</c> or <c>candidate</c> into the
/// frame its recipient gets: <c>to</c> removed, <c>from</c> stamped, the payload checked and
/// copied as it came, byte for byte. It never decodes the SDP into a string and back, which is
/// most of the relay's cost; <see cref="OfferMessage"/> and its siblings stay the documented
/// shapes, and a test checks that both ways give the same bytes.
/// </summary>
#pragma warning disable CA1001 // The writer holds no unmanaged resource; it lives as long as its session.
internal sealed class RelayRewriter
#pragma warning restore CA1001
{
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText FromName = JsonEncodedText.Encode("from");
    private static readonly JsonEncodedText SdpName = JsonEncodedText.Encode("sdp");
    private static readonly JsonEncodedText CandidateName = JsonEncodedText.Encode("candidate");
    private static readonly JsonEncodedText SdpMidName = JsonEncodedText.Encode("sdpMid");
    private static readonly JsonEncodedText SdpMLineIndexName = JsonEncodedText.Encode("sdpMLineIndex");
    private static readonly JsonEncodedText UsernameFragmentName = JsonEncodedText.Encode("usernameFragment");
    private static readonly JsonEncodedText Offer = JsonEncodedText.Encode("offer");
    private static readonly JsonEncodedText Answer = JsonEncodedText.Encode("answer");
    private static readonly JsonEncodedText Candidate = JsonEncodedText.Encode("candidate");

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public RelayRewriter() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

    /// <summary>
    /// Rewrite checks <paramref name="utf8"/> (already known to be well-formed JSON of
    /// <paramref name="kind"/>) and returns the frame for the recipient, or null with the reason
    /// in <paramref name="problem"/>.
    /// </summary>
    public byte[]? Rewrite(ReadOnlySpan<byte> utf8, MessageKind kind, string fromId, out string? to, out string? problem)
    {
        to = null;
        problem = null;
        var isCandidate = kind == MessageKind.Candidate;
        Range payload = default;
        var sawPayload = false;
        Span<Range> fields = stackalloc Range[4];
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("to"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || to is not null)
                {
                    problem = "\"to\" must be one string.";
                    return null;
                }
                to = reader.GetString();
            }
            else if (!isCandidate && reader.ValueTextEquals("sdp"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || sawPayload)
                {
                    problem = "\"sdp\" must be one string.";
                    return null;
                }
                payload = Raw(ref reader);
                sawPayload = true;
            }
            else if (isCandidate && reader.ValueTextEquals("candidate"u8))
            {
                reader.Read();
                if (sawPayload || !ReadCandidate(ref reader, fields, out payload, out problem))
                {
                    problem ??= "\"candidate\" must appear once.";
                    return null;
                }
                sawPayload = true;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (to is null || !sawPayload)
        {
            problem = isCandidate
                ? "candidate needs a \"to\" string and a \"candidate\" (an RTCIceCandidateInit, or null for end of candidates)."
                : $"{(kind == MessageKind.Offer ? "offer" : "answer")} needs \"to\" and \"sdp\" strings.";
            return null;
        }

        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteString(TypeName, kind switch { MessageKind.Offer => Offer, MessageKind.Answer => Answer, _ => Candidate });
        _writer.WriteString(FromName, fromId);
        if (!isCandidate)
        {
            _writer.WritePropertyName(SdpName);
            _writer.WriteRawValue(utf8[payload], skipInputValidation: true);
        }
        else if (payload.Equals(default(Range)))
        {
            _writer.WriteNull(CandidateName);
        }
        else
        {
            _writer.WriteStartObject(CandidateName);
            WriteField(utf8, CandidateName, fields[0]);
            WriteField(utf8, SdpMidName, fields[1]);
            WriteField(utf8, SdpMLineIndexName, fields[2]);
            WriteField(utf8, UsernameFragmentName, fields[3]);
            _writer.WriteEndObject();
        }
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    // ReadCandidate checks an RTCIceCandidateInit (or null) and notes where its four fields are;
    // a null field is noted as the default range and left out, as the records leave nulls out.
    private static bool ReadCandidate(ref Utf8JsonReader reader, scoped Span<Range> fields, out Range whole, out string? problem)
    {
        fields.Clear();
        whole = default;
        problem = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            problem = "\"candidate\" must be an object (an RTCIceCandidateInit) or null.";
            return false;
        }
        var start = (int)reader.TokenStartIndex;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = reader.ValueTextEquals("candidate"u8) ? 0
                : reader.ValueTextEquals("sdpMid"u8) ? 1
                : reader.ValueTextEquals("sdpMLineIndex"u8) ? 2
                : reader.ValueTextEquals("usernameFragment"u8) ? 3
                : -1;
            reader.Read();
            if (index < 0)
            {
                reader.Skip();
                continue;
            }
            var ok = reader.TokenType == JsonTokenType.Null
                ? index != 0
                : index == 2 ? reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out _)
                : reader.TokenType == JsonTokenType.String;
            if (!ok)
            {
                problem = index switch
                {
                    0 => "candidate.candidate must be a string.",
                    2 => "candidate.sdpMLineIndex must be a whole number or null.",
                    _ => "candidate.sdpMid and candidate.usernameFragment must be strings or null.",
                };
                return false;
            }
            fields[index] = reader.TokenType == JsonTokenType.Null ? default : Raw(ref reader);
        }
        if (fields[0].Equals(default(Range)))
        {
            problem = "candidate.candidate must be a string (or the whole candidate null for end of candidates).";
            return false;
        }
        whole = new Range(start, (int)reader.BytesConsumed);
        return true;
    }

    private void WriteField(ReadOnlySpan<byte> utf8, JsonEncodedText name, Range value)
    {
        if (!value.Equals(default(Range)))
        {
            _writer.WritePropertyName(name);
            _writer.WriteRawValue(utf8[value], skipInputValidation: true);
        }
    }

    // Raw is the current value's bytes as they came, quotes and escapes included.
    private static Range Raw(ref Utf8JsonReader reader) => new((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
}
