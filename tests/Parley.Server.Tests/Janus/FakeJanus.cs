using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Tests.Janus;

/// <summary>
/// FakeJanus is a scripted Janus WebSocket API on a real Kestrel port on 127.0.0.1. It refuses
/// handshakes without the janus-protocol subprotocol. By default every connection answers info,
/// create, attach, keepalive, trickle, hangup, detach and destroy as Janus 1.1.2 does, and hands
/// each "message" to <see cref="OnMessage"/>; a test that needs more replaces <see cref="Handler"/>.
/// </summary>
public sealed class FakeJanus : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<FakeJanusConnection> _accepted = Channel.CreateUnbounded<FakeJanusConnection>();
    private int _attempts;
    private volatile bool _refuse;
    private Exception? _failure;

    private FakeJanus(WebApplication app)
    {
        _app = app;
        Handler = (request, connection) => connection.AnswerAsync(request);
    }

    /// <summary>Url is <c>ws://127.0.0.1:port/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Handler gets every request of every connection, one at a time per connection.</summary>
    public Func<JsonObject, FakeJanusConnection, Task> Handler { get; set; }

    /// <summary>OnMessage gets the "message" requests the standard answers leave alone (default: no answer).</summary>
    public Func<JsonObject, FakeJanusConnection, Task> OnMessage { get; set; } = (_, _) => Task.CompletedTask;

    /// <summary>Refuse makes the next handshakes fail with HTTP 503.</summary>
    public bool Refuse { get => _refuse; set => _refuse = value; }

    /// <summary>Version is the "version" of the server_info answer.</summary>
    public int Version { get; set; } = 1102;

    /// <summary>Plugins are the names listed in the server_info answer.</summary>
    public IReadOnlyList<string> Plugins { get; set; } = ["janus.plugin.videoroom"];

    /// <summary>Attempts counts the handshakes tried, refused ones included.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public static Task<FakeJanus> StartAsync(CancellationToken cancellationToken) => StartAsync(unixSocket: null, cancellationToken);

    /// <summary>StartAsync with a unixSocket path listens on that socket file (like Janus's ws_unix)
    /// instead of a TCP port; Url is then <c>unix://localhost/that/path</c>.</summary>
    public static async Task<FakeJanus> StartAsync(string? unixSocket, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(unixSocket is null ? "http://127.0.0.1:0" : $"http://unix:{unixSocket}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeJanus(app);
        app.UseWebSockets();
        app.Run(fake.ServeAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Url = unixSocket is null
            ? new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + "/")
            : new Uri("unix://localhost" + unixSocket);
        return fake;
    }

    /// <summary>NextConnectionAsync waits (at most the kit's deadline) for the next accepted connection.</summary>
    public async Task<FakeJanusConnection> NextConnectionAsync(CancellationToken cancellationToken) =>
        await _accepted.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(JanusTestKit.Deadline, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        if (_failure is not null)
        {
            throw new InvalidOperationException("The fake Janus's script failed.", _failure);
        }
    }

    internal void Fail(Exception e) => Interlocked.CompareExchange(ref _failure, e, null);

    private async Task ServeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _attempts);
        if (_refuse)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest || !context.WebSockets.WebSocketRequestedProtocols.Contains(FakeJanusConnection.Protocol))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(FakeJanusConnection.Protocol);
        var connection = new FakeJanusConnection(this, context, socket);
        _accepted.Writer.TryWrite(connection);
        await connection.RunAsync(context.RequestAborted);
    }
}

/// <summary>FakeJanusConnection is one client's socket on the fake: what it sent, and ways to answer.</summary>
public sealed class FakeJanusConnection
{
    public const string Protocol = "janus-protocol";

    private static long s_nextSession = 4471000137700;

    private readonly FakeJanus _fake;
    private readonly HttpContext _context;
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly Lock _lock = new();
    private readonly List<JsonObject> _requests = [];
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _taken;
    private long _nextHandle = 8000110;

    internal FakeJanusConnection(FakeJanus fake, HttpContext context, WebSocket socket)
    {
        _fake = fake;
        _context = context;
        _socket = socket;
    }

    /// <summary>SessionId is what this connection answers to create; unique across connections.</summary>
    public long SessionId { get; } = Interlocked.Increment(ref s_nextSession);

    /// <summary>Requests are all requests received so far, in order.</summary>
    public IReadOnlyList<JsonObject> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Ended completes when the socket is closed or lost.</summary>
    public Task Ended => _ended.Task;

    /// <summary>TakeAsync waits (at most the kit's deadline) for the next request of that type not taken before.</summary>
    public async Task<JsonObject> TakeAsync(string janus, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(JanusTestKit.Deadline);
        while (true)
        {
            Task received;
            lock (_lock)
            {
                for (var i = _taken; i < _requests.Count; i++)
                {
                    if ((string?)_requests[i]["janus"] == janus)
                    {
                        _taken = i + 1;
                        return _requests[i];
                    }
                }
                received = _received.Task;
            }
            await received.WaitAsync(deadline.Token);
        }
    }

    /// <summary>Drop resets the connection without a close frame.</summary>
    public void Drop() => _context.Abort();

    public Task SendAsync(JsonObject message) => SendAsync(message.ToJsonString());

    public async Task SendAsync(string json)
    {
        await SendFragmentedAsync(json, parts: 1);
    }

    /// <summary>SendFragmentedAsync sends one message as that many WebSocket frames.</summary>
    public async Task SendFragmentedAsync(string json, int parts)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var size = (bytes.Length + parts - 1) / parts;
        await _sending.WaitAsync();
        try
        {
            for (var offset = 0; offset < bytes.Length; offset += size)
            {
                var count = Math.Min(size, bytes.Length - offset);
                await _socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, offset + count == bytes.Length, CancellationToken.None);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>AnswerAsync answers as Janus 1.1.2 would; "message" goes to the fake's OnMessage.</summary>
    public Task AnswerAsync(JsonObject request)
    {
        var t = (string?)request["transaction"];
        return (string?)request["janus"] switch
        {
            "info" => SendAsync(new JsonObject
            {
                ["janus"] = "server_info",
                ["transaction"] = t,
                ["name"] = "Janus WebRTC Server",
                ["version"] = _fake.Version,
                ["version_string"] = $"{_fake.Version / 1000}.{_fake.Version / 100 % 10}.{_fake.Version % 100}",
                ["session-timeout"] = 60,
                ["plugins"] = new JsonObject(_fake.Plugins.Select(p => KeyValuePair.Create(p, (JsonNode?)new JsonObject { ["name"] = p }))),
            }),
            "create" => SendAsync($$"""{"janus":"success","transaction":"{{t}}","data":{"id":{{SessionId}} } }"""),
            "attach" => SendAsync($$"""{"janus":"success","session_id":{{SessionId}},"transaction":"{{t}}","data":{"id":{{Interlocked.Increment(ref _nextHandle)}} } }"""),
            "keepalive" or "trickle" => AckAsync(request),
            "hangup" or "detach" or "destroy" => SendAsync($$"""{"janus":"success","session_id":{{SessionId}},"transaction":"{{t}}"}"""),
            "message" => _fake.OnMessage(request, this),
            _ => Task.CompletedTask,
        };
    }

    public Task AckAsync(JsonObject request) =>
        SendAsync($$"""{"janus":"ack","session_id":{{SessionId}},"transaction":"{{request["transaction"]}}"}""");

    /// <summary>EventAsync sends a plugin event answering the request (its transaction and handle).</summary>
    public Task EventAsync(JsonObject request, string data, string? jsep = null) =>
        SendAsync(PluginMessage("event", (long)request["handle_id"]!, (string?)request["transaction"], data, jsep));

    /// <summary>PluginSuccessAsync sends the sync plugin answer to the request.</summary>
    public Task PluginSuccessAsync(JsonObject request, string data) =>
        SendAsync(PluginMessage("success", (long)request["handle_id"]!, (string?)request["transaction"], data, jsep: null));

    /// <summary>UnsolicitedAsync sends a plugin event without a transaction on a handle.</summary>
    public Task UnsolicitedAsync(long handle, string data, string? jsep = null) =>
        SendAsync(PluginMessage("event", handle, transaction: null, data, jsep));

    /// <summary>CoreEventAsync sends a core event (webrtcup, media, hangup, ...) with extra fields.</summary>
    public Task CoreEventAsync(string janus, long handle, string fields = "") =>
        SendAsync($$"""{"janus":"{{janus}}","session_id":{{SessionId}},"sender":{{handle}}{{(fields.Length > 0 ? "," + fields : "")}}}""");

    public Task ErrorAsync(JsonObject request, int code, string reason) =>
        SendAsync($$"""{"janus":"error","session_id":{{SessionId}},"transaction":"{{request["transaction"]}}","error":{"code":{{code}},"reason":"{{reason}}"} }""");

    public static string Offer(string sdp) => $$"""{"type":"offer","sdp":"{{sdp}}"}""";

    internal async Task RunAsync(CancellationToken aborted)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", aborted);
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var request = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                TaskCompletionSource received;
                lock (_lock)
                {
                    _requests.Add(request);
                    received = _received;
                    _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                received.TrySetResult();
                await _fake.Handler(request, this);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException or ObjectDisposedException)
        {
            // The client went away, or the test dropped the connection.
        }
        catch (Exception e)
        {
            _fake.Fail(e);
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    /// <summary>PluginMessage is the text of a plugin "event" or "success" from a handle.</summary>
    public string PluginMessage(string janus, long handle, string? transaction, string data, string? jsep) =>
        $$"""{"janus":"{{janus}}","session_id":{{SessionId}},"sender":{{handle}}{{(transaction is null ? "" : $",\"transaction\":\"{transaction}\"")}},"plugindata":{"plugin":"janus.plugin.videoroom","data":{{data}} }{{(jsep is null ? "" : ",\"jsep\":" + jsep)}}}""";
}
