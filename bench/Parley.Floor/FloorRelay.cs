using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Parley.Floor;

/// <summary>
/// FloorRelay is the whole floor: two WebSockets that ask for the same <c>/ws?pair=n</c> are told
/// <c>ready</c> and then each text message one sends is written to the other, as is. No JSON, no
/// rooms, no queue: a message is forwarded from the reader's own loop, so the only buffering is
/// the sockets'. Like Parley it assembles a message of up to 64 KiB before sending it on, and an
/// idle connection holds no buffer (it waits with a zero-byte read).
/// </summary>
internal static class FloorRelay
{
    private const int MaxMessageBytes = 64 * 1024;
    private static readonly ReadOnlyMemory<byte> Ready = "ready"u8.ToArray();

    public static async Task HandleAsync(HttpContext context, ConcurrentDictionary<long, Pair> pairs)
    {
        if (!context.WebSockets.IsWebSocketRequest || !long.TryParse(context.Request.Query["pair"], out var id))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var cancel = context.RequestAborted;
        var pair = pairs.GetOrAdd(id, static _ => new Pair());
        WebSocket partner;
        try
        {
            switch (pair.Enter(socket))
            {
                case Pair.Role.First:
                    partner = await pair.Second.Task.WaitAsync(cancel);
                    break;
                case Pair.Role.Second:
                    partner = pair.First!;
                    // Both ready frames go out before either side's relay loop starts, so no socket
                    // ever has two sends at once: after this, only the partner's loop writes to it.
                    await partner.SendAsync(Ready, WebSocketMessageType.Text, endOfMessage: true, cancel);
                    await socket.SendAsync(Ready, WebSocketMessageType.Text, endOfMessage: true, cancel);
                    pair.Second.TrySetResult(socket);
                    break;
                default:
                    await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "pair taken", cancel);
                    return;
            }
            await RelayAsync(socket, partner, cancel);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The client went away: the pair ends.
        }
        finally
        {
            pairs.TryRemove(new KeyValuePair<long, Pair>(id, pair));
            pair.Second.TrySetCanceled(CancellationToken.None);
            pair.AbortAll();
        }
    }

    private static async Task RelayAsync(WebSocket from, WebSocket to, CancellationToken cancel)
    {
        while (true)
        {
            // Zero-byte read: wait for data without holding a buffer.
            var peek = await from.ReceiveAsync(Memory<byte>.Empty, cancel);
            if (peek.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var count = 0;
                while (true)
                {
                    if (count == buffer.Length)
                    {
                        if (count > MaxMessageBytes)
                        {
                            await from.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancel);
                            return;
                        }
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var result = await from.ReceiveAsync(buffer.AsMemory(count), cancel);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    count += result.Count;
                    if (result.EndOfMessage)
                    {
                        await to.SendAsync(buffer.AsMemory(0, count), result.MessageType, endOfMessage: true, cancel);
                        break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}

/// <summary>Pair is two sockets that relay to each other.</summary>
internal sealed class Pair
{
    private readonly Lock _gate = new();
    private int _count;

    public enum Role
    {
        First,
        Second,
        Refused,
    }

    public WebSocket? First { get; private set; }

    public WebSocket? SecondSocket { get; private set; }

    /// <summary>Second completes with the second socket once both are ready.</summary>
    public TaskCompletionSource<WebSocket> Second { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Role Enter(WebSocket socket)
    {
        lock (_gate)
        {
            switch (_count++)
            {
                case 0:
                    First = socket;
                    return Role.First;
                case 1:
                    SecondSocket = socket;
                    return Role.Second;
                default:
                    return Role.Refused;
            }
        }
    }

    /// <summary>AbortAll ends both sides: when one leaves, the pair is over.</summary>
    public void AbortAll()
    {
        First?.Abort();
        SecondSocket?.Abort();
    }
}
