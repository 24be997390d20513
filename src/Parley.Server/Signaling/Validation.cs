using System.Globalization;
using System.Text;

namespace Parley.Signaling;

/// <summary>Validation holds the protocol's rules for room ids, display names and chat text.</summary>
internal static class Validation
{
    public const int MaxRoomIdLength = 64;
    public const int MaxNameLength = 64;
    public const int MaxChatLength = 2000;

    /// <summary>IsRoomId: 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit.</summary>
    public static bool IsRoomId(string? room)
    {
        if (room is null || room.Length is 0 or > MaxRoomIdLength || room[0] == '-')
        {
            return false;
        }
        foreach (var c in room)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// NormalizeName trims a display name and returns it, or null if it is empty, longer than 64
    /// characters (Unicode scalar values), or holds control characters or bidirectional overrides
    /// (which could make a name display as another).
    /// </summary>
    public static string? NormalizeName(string? name)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        var count = 0;
        foreach (var rune in trimmed.EnumerateRunes())
        {
            if (++count > MaxNameLength || Rune.IsControl(rune) || IsBidiControl(rune.Value)
                || Rune.GetUnicodeCategory(rune) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return null;
            }
        }
        return trimmed;
    }

    /// <summary>
    /// ChatTextProblem says which rule a chat text breaks, or null when it is fine: 1-2000
    /// characters (Unicode scalar values), not only white space, and no control characters but
    /// line feed and tab. An accepted text is passed on exactly as sent.
    /// </summary>
    public static string? ChatTextProblem(string? text)
    {
        if (text is null)
        {
            return $"chat needs \"text\": a string of 1-{MaxChatLength} characters.";
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            return "chat.text must not be empty or only white space.";
        }
        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (++count > MaxChatLength)
            {
                return $"chat.text must be at most {MaxChatLength} characters (Unicode scalar values).";
            }
            if (Rune.IsControl(rune) && rune.Value is not ('\n' or '\t'))
            {
                return $"chat.text must not contain control characters (U+{rune.Value:X4}); only line feed (\\n) and tab (\\t) are allowed.";
            }
        }
        return null;
    }

    private static bool IsBidiControl(int c) => c is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069) or 0x200E or 0x200F or 0x061C;
}
