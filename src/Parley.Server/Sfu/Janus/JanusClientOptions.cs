namespace Parley.Sfu.Janus;

/// <summary>JanusClientOptions says where Janus is and how long to wait for it.</summary>
internal sealed class JanusClientOptions
{
    /// <summary>Url is Janus's WebSocket API, e.g. <c>ws://10.0.0.2:8188</c>, or
    /// <c>unix://localhost/run/janus/ws.sock</c> for its <c>ws_unix</c> socket (the path is the socket's).</summary>
    public required Uri Url { get; init; }

    /// <summary>ApiSecret is Janus's <c>api_secret</c>, sent as <c>apisecret</c> on every request when set.</summary>
    public string? ApiSecret { get; init; }

    /// <summary>RequestTimeout bounds the wait for Janus's answer to any one request (default 10 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>KeepAliveInterval is the time between <c>keepalive</c> requests (default 25 s, as janus.js;
    /// Janus's <c>session_timeout</c> is 60 s by default).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>ConnectTimeout bounds the WebSocket handshake (default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>MaxMessageBytes is the largest message accepted from Janus (default 4 MiB); a larger
    /// one is a protocol error that ends the session.</summary>
    public int MaxMessageBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Validate throws when a value cannot work, saying which and why.</summary>
    public void Validate()
    {
        if (Url is null || !(Url.Scheme is "ws" or "wss" || (Url.Scheme == "unix" && Url.AbsolutePath.Length > 1)))
        {
            throw new ArgumentException(
                $"Janus Url must be a ws:// or wss:// address, or unix://localhost/path/to/socket, not '{Url}'.", nameof(Url));
        }
        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(KeepAliveInterval, nameof(KeepAliveInterval));
        RequirePositive(ConnectTimeout, nameof(ConnectTimeout));
        if (MaxMessageBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, "Janus MaxMessageBytes must be at least 1024.");
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"Janus {name} must be positive.");
        }
    }
}
