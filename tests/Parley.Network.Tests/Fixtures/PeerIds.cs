using System.Security.Cryptography;

namespace Parley.Network.Tests.Fixtures;

/// <summary>PeerIds makes peer ids shaped like the server's: <c>p_</c> and 128 random bits in base64url.</summary>
public static class PeerIds
{
    // Each allocation gets an id of its own, as each participant has: coturn's user-quota counts
    // allocations per username, and coturn frees a slot only about a second after a Refresh(0).
    public static string New() =>
        "p_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
