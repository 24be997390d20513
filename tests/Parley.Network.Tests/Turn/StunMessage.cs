using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Network.Tests.Turn;

/// <summary>
/// StunMessage is one parsed STUN message (RFC 8489): header, attributes in wire order, and the
/// raw bytes, which MESSAGE-INTEGRITY and FINGERPRINT are checked against.
/// </summary>
public sealed class StunMessage
{
    public const int HeaderLength = 20;
    public const uint MagicCookie = 0x2112A442;

    // FingerprintXor: RFC 8489 section 14.7 XORs the CRC-32 with "STUN" so a CRC of the
    // surrounding protocol's payload is not mistaken for a STUN fingerprint.
    internal const uint FingerprintXor = 0x5354554E;

    private readonly byte[] _raw;
    private readonly List<(ushort Type, int Offset, int Length)> _attributes;

    private StunMessage(byte[] raw, StunMethod method, StunClass @class, List<(ushort, int, int)> attributes)
    {
        _raw = raw;
        Method = method;
        Class = @class;
        _attributes = attributes;
    }

    public StunMethod Method { get; }

    public StunClass Class { get; }

    public ReadOnlySpan<byte> TransactionId => _raw.AsSpan(8, 12);

    /// <summary>Length is the size of the whole message on the wire, header included.</summary>
    public int Length => _raw.Length;

    /// <summary>AttributeTypes lists the attribute types in the order they are on the wire.</summary>
    public IReadOnlyList<ushort> AttributeTypes => [.. _attributes.Select(a => a.Type)];

    /// <summary>Error is the ERROR-CODE of an error response, or null.</summary>
    public StunError? Error => Get(StunAttributeType.ErrorCode) is { Length: >= 4 } value
        ? new StunError((value[2] & 0x07) * 100 + value[3], Encoding.UTF8.GetString(value[4..]))
        : null;

    /// <summary>
    /// TryParse reads one STUN message that fills <paramref name="datagram"/> exactly; it returns
    /// null for anything else (a ChannelData frame, garbage, a truncated message).
    /// </summary>
    public static StunMessage? TryParse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < HeaderLength || (datagram[0] & 0xC0) != 0
            || BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) != MagicCookie)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (length % 4 != 0 || HeaderLength + length != datagram.Length)
        {
            return null;
        }
        var attributes = new List<(ushort, int, int)>();
        var offset = HeaderLength;
        while (offset < datagram.Length)
        {
            if (offset + 4 > datagram.Length)
            {
                return null;
            }
            var type = BinaryPrimitives.ReadUInt16BigEndian(datagram[offset..]);
            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[(offset + 2)..]);
            if (offset + 4 + valueLength > datagram.Length)
            {
                return null;
            }
            attributes.Add((type, offset, valueLength));
            offset += 4 + Padded(valueLength);
        }
        var messageType = BinaryPrimitives.ReadUInt16BigEndian(datagram);
        return new StunMessage(datagram.ToArray(), DecodeMethod(messageType), DecodeClass(messageType), attributes);
    }

    /// <summary>Get returns the value of the first attribute of a type (RFC 8489: later duplicates are ignored).</summary>
    public byte[]? Get(ushort type)
    {
        foreach (var (t, offset, length) in _attributes)
        {
            if (t == type)
            {
                return _raw.AsSpan(offset + 4, length).ToArray();
            }
        }
        return null;
    }

    public string? GetString(ushort type) => Get(type) is { } value ? Encoding.UTF8.GetString(value) : null;

    public uint? GetUInt32(ushort type) => Get(type) is { Length: 4 } value ? BinaryPrimitives.ReadUInt32BigEndian(value) : null;

    /// <summary>GetXorAddress decodes an XOR-MAPPED-, XOR-RELAYED- or XOR-PEER-ADDRESS (RFC 8489 section 14.2).</summary>
    public IPEndPoint? GetXorAddress(ushort type) =>
        Get(type) is { } value ? XorAddress.Decode(value, TransactionId) : null;

    /// <summary>
    /// HasValidIntegrity checks MESSAGE-INTEGRITY with <paramref name="key"/>: HMAC-SHA1 over the
    /// message up to the attribute, with the header's length as if the message ended after it.
    /// </summary>
    public bool HasValidIntegrity(ReadOnlySpan<byte> key)
    {
        var index = _attributes.FindIndex(a => a.Type == StunAttributeType.MessageIntegrity);
        if (index < 0 || _attributes[index].Length != 20)
        {
            return false;
        }
        var offset = _attributes[index].Offset;
        var expected = StunMessageBuilder.ComputeIntegrity(_raw.AsSpan(0, offset), key);
        return CryptographicOperations.FixedTimeEquals(expected, _raw.AsSpan(offset + 4, 20));
    }

    /// <summary>HasValidFingerprint checks a FINGERPRINT that must be the last attribute (RFC 8489 section 14.7).</summary>
    public bool HasValidFingerprint()
    {
        if (_attributes.Count == 0 || _attributes[^1] is not { Type: StunAttributeType.Fingerprint, Length: 4 } last)
        {
            return false;
        }
        var expected = StunMessageBuilder.ComputeFingerprint(_raw.AsSpan(0, last.Offset));
        return expected == BinaryPrimitives.ReadUInt32BigEndian(_raw.AsSpan(last.Offset + 4));
    }

    /// <summary>IsResponseTo is true for a success or error response carrying this transaction id.</summary>
    public bool IsResponseTo(ReadOnlySpan<byte> transactionId) =>
        Class is StunClass.SuccessResponse or StunClass.ErrorResponse && TransactionId.SequenceEqual(transactionId);

    internal static int Padded(int length) => (length + 3) & ~3;

    // The 14-bit message type interleaves the class bits C1 (bit 8) and C0 (bit 4) with the
    // method bits M11..M0 (RFC 8489 section 5, figure 3).
    internal static ushort EncodeType(StunMethod method, StunClass @class)
    {
        var m = (int)method;
        var c = (int)@class;
        return (ushort)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
    }

    private static StunMethod DecodeMethod(ushort type) =>
        (StunMethod)((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));

    private static StunClass DecodeClass(ushort type) =>
        (StunClass)(((type & 0x0010) >> 4) | ((type & 0x0100) >> 7));
}

/// <summary>
/// XorAddress encodes and decodes the XOR-*-ADDRESS value: family, port XOR the cookie's top 16
/// bits, and the address XOR the cookie (IPv4) or the cookie followed by the transaction id (IPv6).
/// </summary>
public static class XorAddress
{
    public static byte[] Encode(IPEndPoint endpoint, ReadOnlySpan<byte> transactionId)
    {
        var address = endpoint.Address.GetAddressBytes();
        var value = new byte[4 + address.Length];
        value[1] = endpoint.AddressFamily == AddressFamily.InterNetwork ? (byte)0x01 : (byte)0x02;
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(2), (ushort)(endpoint.Port ^ (StunMessage.MagicCookie >> 16)));
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, StunMessage.MagicCookie);
        transactionId.CopyTo(mask[4..]);
        for (var i = 0; i < address.Length; i++)
        {
            value[4 + i] = (byte)(address[i] ^ mask[i]);
        }
        return value;
    }

    public static IPEndPoint? Decode(ReadOnlySpan<byte> value, ReadOnlySpan<byte> transactionId)
    {
        var length = value.Length >= 4 ? value[1] switch { 0x01 => 4, 0x02 => 16, _ => 0 } : 0;
        if (length == 0 || value.Length != 4 + length)
        {
            return null;
        }
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, StunMessage.MagicCookie);
        transactionId.CopyTo(mask[4..]);
        var address = new byte[length];
        for (var i = 0; i < length; i++)
        {
            address[i] = (byte)(value[4 + i] ^ mask[i]);
        }
        var port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (int)(StunMessage.MagicCookie >> 16);
        return new IPEndPoint(new IPAddress(address), port);
    }
}
