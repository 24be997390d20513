using System.Security.Cryptography;

namespace Parley.Testing;

/// <summary>TestRooms makes a fresh room id per test, so no test meets another's participants.</summary>
public static class TestRooms
{
    public static string New() => "test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
