using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Parley.Testing;

/// <summary>
/// SignalingClient is a protocol v1 test client over a real <see cref="ClientWebSocket"/>.
/// Every wait has a deadline, so a missing message fails the test instead of hanging it.
/// </summary>
public sealed class SignalingClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket;
    private readonly Channel<string> _inbox = Channel.CreateUnbounded<string>();
    private readonly Task _pump;
    private byte[] _buffer = new byte[64 * 1024];

    private SignalingClient(ClientWebSocket socket)
    {
        _socket = socket;
        _pump = Task.Run(PumpAsync);
    }

    public WebSocket Socket => _socket;

    /// <summary>Id is this client's peer id once <see cref="JoinAsync"/> succeeded.</summary>
    public string? Id { get; private set; }

    public static async Task<SignalingClient> ConnectAsync(Uri uri, CancellationToken cancellationToken, string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        await socket.ConnectAsync(uri, cancellationToken);
        return new SignalingClient(socket);
    }

    /// <summary>ConnectAndJoinAsync connects, joins and returns the client with its <c>joined</c> message.</summary>
    public static async Task<(SignalingClient Client, JsonElement Joined)> ConnectAndJoinAsync(
        Uri uri, string room, string name, CancellationToken cancellationToken, params string[] features)
    {
        var client = await ConnectAsync(uri, cancellationToken);
        var joined = await client.JoinAsync(room, name, cancellationToken, features);
        return (client, joined);
    }

    public async Task<JsonElement> JoinAsync(string room, string name, CancellationToken cancellationToken, params string[] features)
    {
        await SendAsync(features.Length == 0
            ? new { type = "join", version = 1, room, name }
            : new { type = "join", version = 1, room, name, features }, cancellationToken);
        var joined = await ReceiveAsync(cancellationToken);
        if (joined.GetProperty("type").GetString() != "joined")
        {
            throw new InvalidOperationException($"Expected joined, got {joined}");
        }
        Id = joined.GetProperty("self").GetProperty("id").GetString();
        return joined;
    }

    public Task SendAsync(object message, CancellationToken cancellationToken) =>
        SendTextAsync(JsonSerializer.Serialize(message), cancellationToken);

    public async Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type, CancellationToken cancellationToken) =>
        await _socket.SendAsync(bytes, type, true, cancellationToken);

    /// <summary>ReceiveAsync returns the next message; it throws if the socket closes or the deadline passes.</summary>
    public async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var text = await ReceiveTextAsync(cancellationToken, timeout)
            ?? throw new InvalidOperationException($"Socket closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>ReceiveTypeAsync skips messages until one of <paramref name="type"/> arrives.</summary>
    public async Task<JsonElement> ReceiveTypeAsync(string type, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        while (true)
        {
            var message = await ReceiveAsync(deadline.Token, Timeout.InfiniteTimeSpan);
            if (message.GetProperty("type").GetString() == type)
            {
                return message;
            }
        }
    }

    /// <summary>ReceiveErrorAsync expects the next message to be an error and returns it.</summary>
    public async Task<JsonElement> ReceiveErrorAsync(string code, CancellationToken cancellationToken)
    {
        var message = await ReceiveAsync(cancellationToken);
        if (message.GetProperty("type").GetString() != "error" || message.GetProperty("code").GetString() != code)
        {
            throw new InvalidOperationException($"Expected error {code}, got {message}");
        }
        return message;
    }

    /// <summary>ReceiveTextAsync returns the next text message, or null when the server closed the socket.</summary>
    public async Task<string?> ReceiveTextAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        // Cancelling a ClientWebSocket receive aborts the socket, so one pump reads the socket and
        // waits with a deadline happen on the channel it fills.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(timeout ?? DefaultTimeout);
        }
        if (!await _inbox.Reader.WaitToReadAsync(deadline.Token))
        {
            return null;
        }
        return _inbox.Reader.TryRead(out var text) ? text : null;
    }

    private async Task PumpAsync()
    {
        var count = 0;
        try
        {
            while (true)
            {
                if (count == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                var result = await _socket.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                count += result.Count;
                if (result.EndOfMessage)
                {
                    _inbox.Writer.TryWrite(Encoding.UTF8.GetString(_buffer, 0, count));
                    count = 0;
                }
            }
        }
        catch (WebSocketException)
        {
            // The connection failed; readers see the end of the inbox.
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }

    /// <summary>ExpectCloseAsync reads until the server's close frame and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ExpectCloseAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        while (await ReceiveTextAsync(deadline.Token, Timeout.InfiniteTimeSpan) is not null)
        {
        }
        return _socket.CloseStatus;
    }

    /// <summary>NextWithinAsync returns the next message if one arrives within <paramref name="window"/>, else null.</summary>
    public async Task<string?> NextWithinAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        if (_inbox.Reader.TryRead(out var ready))
        {
            return ready;
        }
        try
        {
            return await ReceiveTextAsync(cancellationToken, window) ?? "<closed>";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server may already be gone; the test's assertions are what matter.
            }
        }
        _socket.Dispose();
        await _pump;
    }
}
