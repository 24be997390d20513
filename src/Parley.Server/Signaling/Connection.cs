using System.Net.WebSockets;
using Parley.Rooms;

namespace Parley.Signaling;

/// <summary>
/// IConnection is the transport as the session sees it: a place to send frames and a way to end
/// the connection. The session decides when and why it ends; the transport only carries it out.
/// </summary>
internal interface IConnection : IPeerOutbox
{
    /// <summary>Id names the connection in logs.</summary>
    string Id { get; }

    /// <summary>Close sends a close frame behind what is already queued; later frames are dropped and later messages ignored.</summary>
    void Close(WebSocketCloseStatus status, string reason);
}

/// <summary>
/// IConnectionHandler is the session as the transport sees it. The transport hands over one
/// whole message at a time and awaits it, so messages are handled strictly in order even when a
/// handler awaits (an SFU request is an asynchronous transaction).
/// </summary>
internal interface IConnectionHandler
{
    /// <summary>OnTextAsync handles one complete text message; the memory is valid until the returned task completes.</summary>
    ValueTask OnTextAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken);

    /// <summary>OnBinaryAsync handles one binary message.</summary>
    ValueTask OnBinaryAsync(CancellationToken cancellationToken);

    /// <summary>OnClosedAsync is called once, when the connection has ended for whatever reason (<paramref name="why"/> in words).</summary>
    ValueTask OnClosedAsync(string why);
}
