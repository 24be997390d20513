using System.Globalization;
using System.Text;

namespace Parley.Signaling;

/// <summary>Validation holds the protocol's rules for room ids and display names.</summary>
internal static class Validation
{
    public const int MaxRoomIdLength = 64;
    public const int MaxNameLength = 64;

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

    private static bool IsBidiControl(int c) => c is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069) or 0x200E or 0x200F or 0x061C;
}
