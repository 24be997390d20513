using System.Text.Json;

namespace Parley.Signaling;

/// <summary>MessageKind is a message's <c>type</c>, resolved without allocating.</summary>
internal enum MessageKind
{
    Invalid,
    Unknown,
    Join,
    Offer,
    Answer,
    Candidate,
    State,
    Chat,
    Leave,
    Ping,
    SfuOffer,
    SfuAnswer,
    SfuCandidate,
    SwitchReady,
    SfuView,
    SfuRestart,
}

/// <summary>EnvelopeProblem is why a message could not even be dispatched.</summary>
internal readonly record struct EnvelopeProblem(string Code, string Message);

/// <summary>
/// Envelope reads the fields every message shares, <c>type</c> and <c>id</c>, in one pass that
/// also checks the whole text is one well-formed JSON object.
/// </summary>
internal static class Envelope
{
    /// <summary>MaxIdLength bounds a client's <c>id</c>.</summary>
    public const int MaxIdLength = 64;

    public static MessageKind Scan(ReadOnlySpan<byte> utf8, out string? type, out string? id, out EnvelopeProblem? problem)
    {
        type = null;
        id = null;
        problem = null;
        var kind = MessageKind.Invalid;
        var sawType = false;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                problem = new(ErrorCodes.BadRequest, "A message must be a JSON object.");
                return MessageKind.Invalid;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        reader.Skip();
                        problem ??= new(ErrorCodes.BadRequest, "\"type\" must be a string.");
                        continue;
                    }
                    sawType = true;
                    kind = Resolve(ref reader, out type);
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxIdLength * 3
                        && reader.GetString() is { Length: <= MaxIdLength } value)
                    {
                        id = value;
                    }
                    else
                    {
                        reader.Skip();
                        problem ??= new(ErrorCodes.BadRequest, $"\"id\" must be a string of at most {MaxIdLength} characters.");
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            EnsureEnd(ref reader);
        }
        catch (JsonException)
        {
            problem = new(ErrorCodes.BadJson, "The message is not well-formed JSON.");
            return MessageKind.Invalid;
        }
        if (problem is not null)
        {
            return MessageKind.Invalid;
        }
        if (!sawType)
        {
            problem = new(ErrorCodes.BadRequest, "A message needs a string \"type\".");
            return MessageKind.Invalid;
        }
        return kind;
    }

    private static MessageKind Resolve(ref Utf8JsonReader reader, out string? type)
    {
        type = null;
        if (reader.ValueTextEquals("candidate"u8)) { return MessageKind.Candidate; }
        if (reader.ValueTextEquals("offer"u8)) { return MessageKind.Offer; }
        if (reader.ValueTextEquals("answer"u8)) { return MessageKind.Answer; }
        if (reader.ValueTextEquals("ping"u8)) { return MessageKind.Ping; }
        if (reader.ValueTextEquals("state"u8)) { return MessageKind.State; }
        if (reader.ValueTextEquals("chat"u8)) { return MessageKind.Chat; }
        if (reader.ValueTextEquals("join"u8)) { return MessageKind.Join; }
        if (reader.ValueTextEquals("leave"u8)) { return MessageKind.Leave; }
        if (reader.ValueTextEquals("sfu-candidate"u8)) { return MessageKind.SfuCandidate; }
        if (reader.ValueTextEquals("sfu-offer"u8)) { return MessageKind.SfuOffer; }
        if (reader.ValueTextEquals("sfu-answer"u8)) { return MessageKind.SfuAnswer; }
        if (reader.ValueTextEquals("sfu-view"u8)) { return MessageKind.SfuView; }
        if (reader.ValueTextEquals("switch-ready"u8)) { return MessageKind.SwitchReady; }
        if (reader.ValueTextEquals("sfu-restart"u8)) { return MessageKind.SfuRestart; }
        type = reader.GetString();
        return MessageKind.Unknown;
    }

    // EnsureEnd rejects anything after the top-level value: the reader only checks what it reads.
    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("Trailing content after the message.");
        }
    }
}
