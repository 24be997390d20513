using System.Buffers.Binary;
using System.Text;

namespace Parley.Load;

/// <summary>Opcode is a WebSocket frame opcode (RFC 6455 §5.2).</summary>
internal enum Opcode : byte
{
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}

/// <summary>
/// Wire writes client frames (always masked, as RFC 6455 requires of a client) and reads server
/// frames (never masked). It allocates nothing: frames are written into the caller's buffer.
/// </summary>
internal static class Wire
{
    /// <summary>MaxHeader is the longest client frame header: 2 + 8 length bytes + 4 mask bytes.</summary>
    public const int MaxHeader = 14;

    public static int HeaderLength(int payloadLength) =>
        payloadLength < 126 ? 6 : payloadLength <= ushort.MaxValue ? 8 : 14;

    /// <summary>WriteHeader writes a final frame's header with <paramref name="mask"/> and returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, Opcode opcode, int payloadLength, uint mask)
    {
        destination[0] = (byte)(0x80 | (byte)opcode);
        int at;
        if (payloadLength < 126)
        {
            destination[1] = (byte)(0x80 | payloadLength);
            at = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            at = 4;
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            at = 10;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], mask);
        return at + 4;
    }

    /// <summary>Mask XORs <paramref name="payload"/> in place with the 4-byte key, eight bytes at a time.</summary>
    public static void Mask(Span<byte> payload, uint mask)
    {
        var wide = mask | ((ulong)mask << 32);
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(payload);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] ^= wide;
        }
        for (var i = words.Length * 8; i < payload.Length; i++)
        {
            payload[i] ^= (byte)(mask >> (8 * (i & 3)));
        }
    }

    /// <summary>
    /// TryReadFrame parses one server frame at the start of <paramref name="buffer"/>: false when
    /// the frame is not complete yet. <paramref name="frameLength"/> is header plus payload.
    /// </summary>
    public static bool TryReadFrame(ReadOnlySpan<byte> buffer, out bool fin, out Opcode opcode, out int payloadStart, out int payloadLength, out int frameLength)
    {
        fin = false;
        opcode = 0;
        payloadStart = payloadLength = frameLength = 0;
        if (buffer.Length < 2)
        {
            return false;
        }
        fin = (buffer[0] & 0x80) != 0;
        opcode = (Opcode)(buffer[0] & 0x0F);
        var masked = (buffer[1] & 0x80) != 0;
        long length = buffer[1] & 0x7F;
        var at = 2;
        if (length == 126)
        {
            if (buffer.Length < 4)
            {
                return false;
            }
            length = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
            at = 4;
        }
        else if (length == 127)
        {
            if (buffer.Length < 10)
            {
                return false;
            }
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(buffer[2..]);
            at = 10;
        }
        if (masked)
        {
            throw new InvalidDataException("The server sent a masked frame.");
        }
        if (length > 16 * 1024 * 1024)
        {
            throw new InvalidDataException($"The server sent a frame of {length} bytes.");
        }
        payloadStart = at;
        payloadLength = (int)length;
        frameLength = at + payloadLength;
        return buffer.Length >= frameLength;
    }

    /// <summary>UpgradeRequest is the HTTP/1.1 request that opens a WebSocket at <paramref name="path"/>.</summary>
    public static byte[] UpgradeRequest(string host, int port, string path) =>
        Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: Parley.Load\r\n\r\n");

    /// <summary>WriteDigits writes <paramref name="value"/> as exactly <paramref name="destination"/>.Length decimal digits.</summary>
    public static void WriteDigits(Span<byte> destination, ulong value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    /// <summary>ReadDigits reads decimal digits; -1 if any byte is not a digit.</summary>
    public static long ReadDigits(ReadOnlySpan<byte> digits)
    {
        long value = 0;
        foreach (var b in digits)
        {
            var d = b - '0';
            if ((uint)d > 9)
            {
                return -1;
            }
            value = (value * 10) + d;
        }
        return value;
    }
}

/// <summary>MessageKind is what the generator relays: ICE candidates (~300 B) or SDP offers (4 KB).</summary>
internal enum RelayKind
{
    Candidate,
    Offer,
}

/// <summary>
/// Payload is a relayed message as the client sends it, with three slots filled per message:
/// the recipient's id (<c>to</c>), a send timestamp and a sequence number. The stamp is the text
/// <c>xts=TTTTTTTTTTTTTTTTTTT.SSSSSSSSSS</c> inside the candidate or SDP string, where the server
/// copies it through unchanged, so the receiver finds it with one search.
/// </summary>
internal sealed class Payload
{
    /// <summary>CandidateBytes and OfferBytes are the sizes of the client's JSON text.</summary>
    public const int CandidateBytes = 300;
    public const int OfferBytes = 4096;

    public const int IdLength = 24;
    public const int StampDigits = 19;
    public const int SeqDigits = 10;

    /// <summary>Marker starts the stamp; it appears nowhere else in a payload.</summary>
    public static ReadOnlySpan<byte> Marker => "xts="u8;

    /// <summary>DummyId stands in for <c>to</c> where there is no peer id (the floor).</summary>
    public const string DummyId = "p_AAAAAAAAAAAAAAAAAAAAAA";

    private Payload(byte[] bytes, int toOffset, int stampOffset)
    {
        Bytes = bytes;
        ToOffset = toOffset;
        StampOffset = stampOffset;
    }

    public byte[] Bytes { get; }

    public int ToOffset { get; }

    /// <summary>StampOffset is where the 19 timestamp digits start; the sequence digits follow a dot.</summary>
    public int StampOffset { get; }

    public static Payload Create(RelayKind kind) => kind == RelayKind.Candidate ? Candidate() : Offer();

    /// <summary>Stamp fills in the timestamp and sequence number of a copy of <see cref="Bytes"/>.</summary>
    public void Stamp(Span<byte> copy, long timestamp, long sequence)
    {
        Wire.WriteDigits(copy.Slice(StampOffset, StampDigits), (ulong)timestamp);
        Wire.WriteDigits(copy.Slice(StampOffset + StampDigits + 1, SeqDigits), (ulong)sequence);
    }

    /// <summary>TryReadStamp finds the stamp in a relayed message.</summary>
    public static bool TryReadStamp(ReadOnlySpan<byte> message, out long timestamp, out long sequence)
    {
        timestamp = sequence = -1;
        var at = message.IndexOf(Marker);
        if (at < 0 || message.Length < at + Marker.Length + StampDigits + 1 + SeqDigits)
        {
            return false;
        }
        var digits = message[(at + Marker.Length)..];
        timestamp = Wire.ReadDigits(digits[..StampDigits]);
        sequence = Wire.ReadDigits(digits.Slice(StampDigits + 1, SeqDigits));
        return timestamp >= 0 && sequence >= 0;
    }

    private static string StampText => "xts=" + new string('0', StampDigits) + "." + new string('0', SeqDigits);

    // Candidate is a host candidate as Chrome writes it, with the stamp as an extension attribute
    // and padding to exactly CandidateBytes.
    private static Payload Candidate()
    {
        string Build(string pad) =>
            "{\"type\":\"candidate\",\"to\":\"" + DummyId + "\",\"candidate\":{\"candidate\":\"candidate:3179623563 1 udp 2122260223 127.0.0.1 54400 typ host generation 0 ufrag Xq4k network-id 1 network-cost 10 "
            + StampText + pad + "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"Xq4k\"}}";
        var bare = Build("");
        var text = Build(" x-pad " + new string('p', CandidateBytes - bare.Length - 7));
        return FromText(text, CandidateBytes);
    }

    // Offer is an audio+video offer shaped like Chrome's, cut or padded to exactly OfferBytes of JSON.
    private static Payload Offer()
    {
        var sdp = new StringBuilder();
        void Line(string line) => sdp.Append(line).Append("\\r\\n");
        Line("v=0");
        Line("o=- 4611731400430051336 2 IN IP4 127.0.0.1");
        Line("s=-");
        Line("t=0 0");
        Line("a=x-bench:" + StampText);
        Line("a=group:BUNDLE 0 1");
        Line("a=extmap-allow-mixed");
        Line("a=msid-semantic: WMS 6f3c8a52-6d4e-4b0e-9d3a-1f6e2b7c9a10");
        Line("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126");
        Line("c=IN IP4 0.0.0.0");
        Line("a=rtcp:9 IN IP4 0.0.0.0");
        Line("a=ice-ufrag:Xq4k");
        Line("a=ice-pwd:Ye0eHk0jEwRR7ZXe7hgyZxhp");
        Line("a=ice-options:trickle");
        Line("a=fingerprint:sha-256 8C:71:B6:A4:5E:0C:27:93:F1:3D:6A:88:C4:02:9E:B7:41:D5:6F:1A:3B:E8:90:C2:7D:54:16:AF:E3:09:B8:62");
        Line("a=setup:actpass");
        Line("a=mid:0");
        Line("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level");
        Line("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
        Line("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
        Line("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid");
        Line("a=sendrecv");
        Line("a=msid:6f3c8a52-6d4e-4b0e-9d3a-1f6e2b7c9a10 0c4e6a8b-2d1f-4e3a-b5c7-9e8d7f6a5b4c");
        Line("a=rtcp-mux");
        Line("a=rtcp-rsize");
        Line("a=rtpmap:111 opus/48000/2");
        Line("a=rtcp-fb:111 transport-cc");
        Line("a=fmtp:111 minptime=10;useinbandfec=1");
        Line("a=rtpmap:63 red/48000/2");
        Line("a=fmtp:63 111/111");
        Line("a=rtpmap:9 G722/8000");
        Line("a=rtpmap:0 PCMU/8000");
        Line("a=rtpmap:8 PCMA/8000");
        Line("a=rtpmap:13 CN/8000");
        Line("a=rtpmap:110 telephone-event/48000");
        Line("a=rtpmap:126 telephone-event/8000");
        Line("a=ssrc:3735928559 cname:Hk0jEwRR7ZXe7hgy");
        Line("a=ssrc:3735928559 msid:6f3c8a52-6d4e-4b0e-9d3a-1f6e2b7c9a10 0c4e6a8b-2d1f-4e3a-b5c7-9e8d7f6a5b4c");
        Line("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101 112 113 116 117 118");
        Line("c=IN IP4 0.0.0.0");
        Line("a=rtcp:9 IN IP4 0.0.0.0");
        Line("a=ice-ufrag:Xq4k");
        Line("a=ice-pwd:Ye0eHk0jEwRR7ZXe7hgyZxhp");
        Line("a=ice-options:trickle");
        Line("a=fingerprint:sha-256 8C:71:B6:A4:5E:0C:27:93:F1:3D:6A:88:C4:02:9E:B7:41:D5:6F:1A:3B:E8:90:C2:7D:54:16:AF:E3:09:B8:62");
        Line("a=setup:actpass");
        Line("a=mid:1");
        Line("a=extmap:14 urn:ietf:params:rtp-hdrext:toffset");
        Line("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
        Line("a=extmap:13 urn:3gpp:video-orientation");
        Line("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
        Line("a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay");
        Line("a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type");
        Line("a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing");
        Line("a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space");
        Line("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid");
        Line("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
        Line("a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id");
        Line("a=sendrecv");
        Line("a=msid:6f3c8a52-6d4e-4b0e-9d3a-1f6e2b7c9a10 5a7b9c1d-3e5f-4a6b-8c9d-0e1f2a3b4c5d");
        Line("a=rtcp-mux");
        Line("a=rtcp-rsize");
        var payloadTypes = new[] { 96, 97, 102, 103, 104, 105, 106, 107, 108, 109, 127, 125, 39, 40, 45, 46, 98, 99, 100, 101, 112, 113 };
        var codecs = new[] { "VP8", "rtx", "H264", "rtx", "H264", "rtx", "H264", "rtx", "H264", "rtx", "H264", "rtx", "H264", "rtx", "AV1", "rtx", "VP9", "rtx", "VP9", "rtx", "H264", "rtx" };
        for (var i = 0; i < payloadTypes.Length; i++)
        {
            var pt = payloadTypes[i];
            Line($"a=rtpmap:{pt} {codecs[i]}/90000");
            if (codecs[i] == "rtx")
            {
                Line($"a=fmtp:{pt} apt={payloadTypes[i - 1]}");
                continue;
            }
            Line($"a=rtcp-fb:{pt} goog-remb");
            Line($"a=rtcp-fb:{pt} transport-cc");
            Line($"a=rtcp-fb:{pt} ccm fir");
            Line($"a=rtcp-fb:{pt} nack");
            Line($"a=rtcp-fb:{pt} nack pli");
            if (codecs[i] == "H264")
            {
                Line($"a=fmtp:{pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
            }
        }
        string Build(string body) => "{\"type\":\"offer\",\"to\":\"" + DummyId + "\",\"sdp\":\"" + body + "\"}";
        var full = sdp.ToString();
        var overhead = Build("").Length;
        // Cut whole lines until the text fits, then pad the last line to the exact size.
        var body = full;
        while (overhead + body.Length > OfferBytes - 16)
        {
            body = body[..body.LastIndexOf("\\r\\n", body.Length - 5, StringComparison.Ordinal)] + "\\r\\n";
        }
        var padLine = "a=x-pad:";
        var padding = OfferBytes - overhead - body.Length - padLine.Length - 4;
        body += padLine + new string('p', padding) + "\\r\\n";
        return FromText(Build(body), OfferBytes);
    }

    private static Payload FromText(string text, int expectedLength)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length != expectedLength)
        {
            throw new InvalidOperationException($"Payload is {bytes.Length} bytes, not {expectedLength}.");
        }
        var to = text.IndexOf(DummyId, StringComparison.Ordinal);
        var stamp = text.IndexOf("xts=", StringComparison.Ordinal) + 4;
        return new Payload(bytes, to, stamp);
    }
}
