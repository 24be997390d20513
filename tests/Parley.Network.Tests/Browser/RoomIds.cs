using System.Security.Cryptography;

namespace Parley.Network.Tests.Browser;

/// <summary>RoomIds makes a fresh room id per test, so no test meets another's participants.</summary>
public static class RoomIds
{
    public static string New() => "net-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
