using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Network.Tests.Turn;

/// <summary>
/// StunMessageBuilder writes one STUN message: attributes in the order they are added, each padded
/// with zeros to 4 bytes, then optionally MESSAGE-INTEGRITY and FINGERPRINT, which must come last.
/// </summary>
public sealed class StunMessageBuilder
{
    private readonly MemoryStream _body = new();

    public StunMessageBuilder(StunMethod method, StunClass @class, ReadOnlySpan<byte> transactionId)
    {
        if (transactionId.Length != 12)
        {
            throw new ArgumentException("A STUN transaction id is 12 bytes.", nameof(transactionId));
        }
        Method = method;
        Class = @class;
        TransactionId = transactionId.ToArray();
    }

    public StunMethod Method { get; }

    public StunClass Class { get; }

    public byte[] TransactionId { get; }

    /// <summary>NewTransactionId returns 96 random bits, as RFC 8489 section 5 asks.</summary>
    public static byte[] NewTransactionId() => RandomNumberGenerator.GetBytes(12);

    public StunMessageBuilder Add(ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(header, type);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], checked((ushort)value.Length));
        _body.Write(header);
        _body.Write(value);
        _body.Write(new byte[StunMessage.Padded(value.Length) - value.Length]);
        return this;
    }

    public StunMessageBuilder Add(ushort type, string value) => Add(type, Encoding.UTF8.GetBytes(value));

    public StunMessageBuilder Add(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Add(type, bytes);
    }

    public StunMessageBuilder AddXorAddress(ushort type, IPEndPoint endpoint) =>
        Add(type, XorAddress.Encode(endpoint, TransactionId));

    /// <summary>
    /// Build returns the message; with <paramref name="integrityKey"/> it appends MESSAGE-INTEGRITY
    /// (HMAC-SHA1 keyed by it), and with <paramref name="fingerprint"/> a FINGERPRINT after that.
    /// </summary>
    public byte[] Build(ReadOnlySpan<byte> integrityKey = default, bool fingerprint = false)
    {
        var message = new MemoryStream();
        var header = new byte[StunMessage.HeaderLength];
        BinaryPrimitives.WriteUInt16BigEndian(header, StunMessage.EncodeType(Method, Class));
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), StunMessage.MagicCookie);
        TransactionId.CopyTo(header, 8);
        message.Write(header);
        message.Write(_body.GetBuffer().AsSpan(0, (int)_body.Length));
        if (!integrityKey.IsEmpty)
        {
            var mac = ComputeIntegrity(message.GetBuffer().AsSpan(0, (int)message.Length), integrityKey);
            WriteAttribute(message, StunAttributeType.MessageIntegrity, mac);
        }
        if (fingerprint)
        {
            var crc = ComputeFingerprint(message.GetBuffer().AsSpan(0, (int)message.Length));
            var value = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(value, crc);
            WriteAttribute(message, StunAttributeType.Fingerprint, value);
        }
        var bytes = message.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)(bytes.Length - StunMessage.HeaderLength));
        return bytes;
    }

    /// <summary>
    /// LongTermKey is the key of the long-term credential mechanism: MD5(username ":" realm ":"
    /// password) (RFC 8489 section 9.2.2). The strings are used as given: TURN REST usernames and
    /// passwords are ASCII, so the OpaqueString/SASLprep step changes nothing for them.
    /// </summary>
    public static byte[] LongTermKey(string username, string realm, string password)
    {
#pragma warning disable CA5351 // MD5 is what RFC 8489's long-term credential key is defined with.
        return MD5.HashData(Encoding.UTF8.GetBytes($"{username}:{realm}:{password}"));
#pragma warning restore CA5351
    }

    /// <summary>ShortTermKey is the key of the short-term mechanism: the password itself (RFC 8489 section 9.1.1).</summary>
    public static byte[] ShortTermKey(string password) => Encoding.UTF8.GetBytes(password);

    // ComputeIntegrity: HMAC-SHA1 over the message before MESSAGE-INTEGRITY, with the header's
    // length field counting up to the end of MESSAGE-INTEGRITY (24 bytes more).
    internal static byte[] ComputeIntegrity(ReadOnlySpan<byte> messageBefore, ReadOnlySpan<byte> key)
    {
        var copy = messageBefore.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(2), (ushort)(copy.Length - StunMessage.HeaderLength + 24));
#pragma warning disable CA5350 // HMAC-SHA1 is what MESSAGE-INTEGRITY is defined with (RFC 8489 section 14.5).
        return HMACSHA1.HashData(key, copy);
#pragma warning restore CA5350
    }

    // ComputeFingerprint: CRC-32 over the message before FINGERPRINT, with the header's length
    // counting the 8-byte FINGERPRINT attribute, XORed with 0x5354554E.
    internal static uint ComputeFingerprint(ReadOnlySpan<byte> messageBefore)
    {
        var copy = messageBefore.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(2), (ushort)(copy.Length - StunMessage.HeaderLength + 8));
        return Crc32.Compute(copy) ^ StunMessage.FingerprintXor;
    }

    private static void WriteAttribute(MemoryStream message, ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(header, type);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)value.Length);
        message.Write(header);
        message.Write(value);
    }
}

/// <summary>Crc32 is the CRC-32 of ISO 3309 / ITU-T V.42 (polynomial 0xEDB88320, reflected) that FINGERPRINT uses.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
