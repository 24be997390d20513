using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Parley.Signaling;

/// <summary>ConnectionTracker knows the open signaling connections, to count them and to close them all at shutdown.</summary>
internal sealed class ConnectionTracker
{
    private readonly ConcurrentDictionary<WebSocketConnection, byte> _open = new();

    public int Count => _open.Count;

    public void Add(WebSocketConnection connection) => _open.TryAdd(connection, 0);

    public void Remove(WebSocketConnection connection) => _open.TryRemove(connection, out _);

    /// <summary>CloseAll tells every client the server is going away (1001), so it can reconnect elsewhere.</summary>
    public void CloseAll()
    {
        foreach (var connection in _open.Keys)
        {
            connection.Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }
    }
}
