using System.Security.Cryptography;

namespace Parley.Browser.Tests;

/// <summary>Rooms makes a fresh room id per test, so no test meets another's participants.</summary>
public static class Rooms
{
    public static string New() => "test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
