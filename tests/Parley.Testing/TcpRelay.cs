using System.Net;
using System.Net.Sockets;

namespace Parley.Testing;

/// <summary>
/// TcpRelay is a loopback port in front of a server: what connects to it is piped to the server,
/// byte for byte. A page opened through it has a path of its own, which an nftables rule on
/// <see cref="Port"/> cuts alone. When either side of a pipe ends, the other is reset (no FIN, no
/// WebSocket close frame), as a network that loses a connection does.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private TcpRelay(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Port is the relay's loopback port.</summary>
    public int Port { get; }

    /// <summary>BaseUri is the relay's <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Start relays a new loopback port to <paramref name="target"/>'s host (an IP address) and port.</summary>
    public static TcpRelay Start(Uri target) => new(target);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                _ = PipeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PipeAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
                await Task.WhenAny(CopyAsync(client, server), CopyAsync(server, client));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                // The connection ended; both sides are reset below.
            }
            Reset(client);
            Reset(server);
        }
    }

    private async Task CopyAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side failed: the pipe ends.
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
