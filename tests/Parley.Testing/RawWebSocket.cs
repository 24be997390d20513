using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Testing;

/// <summary>
/// RawWebSocket speaks just enough RFC 6455 over a plain socket to behave badly on purpose:
/// it can stop reading (a slow reader) or stop answering pings (a dead peer), which
/// <see cref="System.Net.WebSockets.ClientWebSocket"/> cannot be made to do.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawWebSocket(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    /// <summary>ConnectAsync opens a TCP connection with a small receive buffer and performs the upgrade.</summary>
    public static async Task<RawWebSocket> ConnectAsync(Uri wsUri, CancellationToken cancellationToken, int receiveBufferBytes = 4096)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveBufferSize = receiveBufferBytes,
            NoDelay = true,
        };
        await socket.ConnectAsync(wsUri.Host, wsUri.Port, cancellationToken);
        var raw = new RawWebSocket(socket);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET {wsUri.PathAndQuery} HTTP/1.1\r\nHost: {wsUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await raw._stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        var response = new StringBuilder();
        var one = new byte[1];
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await raw._stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new IOException("Connection closed during the upgrade.");
            }
            response.Append((char)one[0]);
        }
        if (!response.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            throw new IOException($"Upgrade refused: {response}");
        }
        return raw;
    }

    /// <summary>SendTextAsync sends one masked text frame, as a client must.</summary>
    public async Task SendTextAsync(string text, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var header = new List<byte> { 0x81 };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add(0x80 | 127);
            var len = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(len, (ulong)payload.Length);
            header.AddRange(len);
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        header.AddRange(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= mask[i % 4];
        }
        await _stream.WriteAsync(header.ToArray(), cancellationToken);
        await _stream.WriteAsync(payload, cancellationToken);
    }

    /// <summary>IsClosedByServer reports whether the server has closed or reset the TCP connection (reading and discarding what is pending).</summary>
    public async Task<bool> IsClosedByServerAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(TimeSpan.FromMilliseconds(200));
            while (true)
            {
                if (await _stream.ReadAsync(buffer, poll.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
