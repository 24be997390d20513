using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Parley.Testing;

/// <summary>
/// JanusWebSocket speaks Janus's API over one WebSocket (subprotocol <c>janus-protocol</c>), over
/// TCP or Janus's <c>ws_unix</c> socket: it sends a request with a fresh transaction and returns
/// the reply carrying it, skipping the <c>ack</c> Janus sends first for asynchronous requests.
/// It is deliberately independent of Parley's own Janus client, so tests can check Janus (and
/// that client) against it. One caller at a time: there is no background reader.
/// </summary>
public sealed class JanusWebSocket : IAsyncDisposable
{
    public const string SubProtocol = "janus-protocol";

    /// <summary>DefaultTimeout bounds every wait for a reply.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;
    private readonly List<JsonElement> _unmatched = [];
    private int _transactions;

    private JanusWebSocket(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        _socket = socket;
        _invoker = invoker;
    }

    /// <summary>Unmatched are the messages received while waiting that answered no request of this client (events, late replies).</summary>
    public IReadOnlyList<JsonElement> Unmatched => _unmatched;

    /// <summary>ConnectAsync opens <paramref name="uri"/> (<c>ws://host:port</c>) with Janus's subprotocol.</summary>
    public static async Task<JanusWebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = NewSocket();
        try
        {
            await socket.ConnectAsync(uri, cancellationToken);
            return new JanusWebSocket(socket, invoker: null);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>ConnectUnixAsync opens the WebSocket over the UNIX socket at <paramref name="path"/> (Janus's <c>ws_unix</c>).</summary>
    public static async Task<JanusWebSocket> ConnectUnixAsync(string path, CancellationToken cancellationToken)
    {
        var invoker = Parley.Sfu.Janus.JanusSession.UnixSocketInvoker(path);
        var socket = NewSocket();
        try
        {
            // The host name only fills the Host header; the invoker decides where to connect.
            await socket.ConnectAsync(new Uri("ws://localhost/"), invoker, cancellationToken);
            return new JanusWebSocket(socket, invoker);
        }
        catch
        {
            socket.Dispose();
            invoker.Dispose();
            throw;
        }
    }

    /// <summary>
    /// RequestAsync sets a fresh <c>transaction</c> on <paramref name="request"/>, sends it and returns
    /// the first message with that transaction that is not an <c>ack</c>: <c>success</c>,
    /// <c>error</c>, <c>server_info</c>, or the plugin's <c>event</c>.
    /// </summary>
    public async Task<JsonElement> RequestAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var transaction = $"t{Interlocked.Increment(ref _transactions)}";
        request["transaction"] = transaction;
        await SendAsync(request, cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(DefaultTimeout);
        while (true)
        {
            JsonElement message;
            try
            {
                message = await ReceiveAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Janus did not answer {request["janus"]} within {DefaultTimeout.TotalSeconds:0} s.");
            }
            var mine = message.TryGetProperty("transaction", out var t) && t.GetString() == transaction;
            if (mine && message.GetProperty("janus").GetString() != "ack")
            {
                return message;
            }
            if (!mine)
            {
                _unmatched.Add(message);
            }
        }
    }

    /// <summary>InfoAsync asks <c>info</c>, which needs no api_secret, and returns the <c>server_info</c> reply.</summary>
    public Task<JsonElement> InfoAsync(CancellationToken cancellationToken) =>
        RequestAsync(new JsonObject { ["janus"] = "info" }, cancellationToken);

    public async Task SendAsync(JsonObject message, CancellationToken cancellationToken) =>
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>ReceiveAsync returns the next whole message; it throws <see cref="WebSocketException"/> once Janus closes the socket.</summary>
    public async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"Janus closed the WebSocket ({result.CloseStatus}).");
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                using var document = JsonDocument.Parse(message.ToArray());
                return document.RootElement.Clone();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Janus went away first: nothing left to close.
        }
        _socket.Dispose();
        _invoker?.Dispose();
    }

    private static ClientWebSocket NewSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SubProtocol);
        return socket;
    }
}
