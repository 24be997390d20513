using System.Security.Cryptography;
using System.Text;

namespace Parley.Turn;

/// <summary>TurnCredential is a short-lived TURN username and password.</summary>
public readonly record struct TurnCredential(string Username, string Password, DateTimeOffset Expires);

/// <summary>
/// TurnCredentials mints credentials in the TURN REST scheme that coturn checks with
/// <c>use-auth-secret</c>: the username is <c>&lt;expiry unix time&gt;:&lt;peer id&gt;</c> and the
/// password is base64(HMAC-SHA1(secret, username)). coturn accepts it until the expiry without
/// any call back to Parley; the secret itself never leaves the server.
/// </summary>
public static class TurnCredentials
{
    public static TurnCredential Mint(string secret, string peerId, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var expires = now + lifetime;
        var username = $"{expires.ToUnixTimeSeconds()}:{peerId}";
#pragma warning disable CA5350 // HMAC-SHA1 is what the TURN REST scheme and coturn's use-auth-secret specify.
        var mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username));
#pragma warning restore CA5350
        return new TurnCredential(username, Convert.ToBase64String(mac), DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }
}
