using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Parley.Network.Tests.Turn;

/// <summary>
/// TurnTransport carries STUN messages between a client and its TURN server: UDP datagrams, or a
/// TCP stream in which each message is framed by its own length (RFC 8656 section 3.1).
/// </summary>
public abstract class TurnTransport : IAsyncDisposable
{
    /// <summary>IsReliable is true for TCP, where requests are sent once (RFC 8489 section 6.2.2).</summary>
    public abstract bool IsReliable { get; }

    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    /// <summary>ReceiveAsync returns the next message or frame; null when the server closed a TCP connection.</summary>
    public abstract ValueTask<byte[]?> ReceiveAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    public static async Task<TurnTransport> ConnectAsync(IPEndPoint server, ProtocolType protocol, CancellationToken cancellationToken)
    {
        var socket = protocol switch
        {
            ProtocolType.Udp => new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp),
            ProtocolType.Tcp => new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp),
            _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "TURN runs over UDP or TCP."),
        };
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return protocol == ProtocolType.Udp ? new UdpTransport(socket) : new TcpTransport(socket);
    }

    private sealed class UdpTransport(Socket socket) : TurnTransport
    {
        private readonly byte[] _buffer = new byte[65536];

        public override bool IsReliable => false;

        public override async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
            await socket.SendAsync(message, SocketFlags.None, cancellationToken);

        public override async ValueTask<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                try
                {
                    var received = await socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken);
                    return _buffer.AsSpan(0, received).ToArray();
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    // An ICMP port-unreachable for an earlier datagram (the server not listening
                    // yet): UDP has no connection to lose, so keep reading; the request retransmits.
                }
            }
        }

        public override ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class TcpTransport(Socket socket) : TurnTransport
    {
        private readonly NetworkStream _stream = new(socket, ownsSocket: true);

        public override bool IsReliable => true;

        public override async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
            await _stream.WriteAsync(message, cancellationToken);

        public override async ValueTask<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
        {
            var head = new byte[4];
            if (await _stream.ReadAtLeastAsync(head, 4, throwOnEndOfStream: false, cancellationToken) < 4)
            {
                return null;
            }
            // A STUN message starts with bits 00 and is followed by 16 more header bytes and its
            // attributes; a ChannelData frame starts with 01 and is padded to 4 bytes on TCP.
            var length = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2));
            var rest = (head[0] & 0xC0) == 0 ? StunMessage.HeaderLength - 4 + length : StunMessage.Padded(length);
            var frame = new byte[4 + rest];
            head.CopyTo(frame, 0);
            await _stream.ReadExactlyAsync(frame.AsMemory(4), cancellationToken);
            return frame;
        }

        public override async ValueTask DisposeAsync() => await _stream.DisposeAsync();
    }
}
