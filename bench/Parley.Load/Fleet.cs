using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Parley.Load;

/// <summary>
/// Target is the server under test: Parley (join a room) or the floor (connect to
/// <c>/ws?pair=n</c> and wait for <c>ready</c>), and the loopback source addresses to connect from.
/// </summary>
internal sealed class Target
{
    private readonly byte[]? _parleyUpgrade;
    private readonly string _host;
    private readonly int _port;
    private readonly string _path;
    private readonly int _pairBase = Random.Shared.Next(1, 1000) * 1_000_000;

    public Target(Uri url, bool floor, int sources)
    {
        if (url.Scheme is not ("http" or "ws"))
        {
            throw new ArgumentException($"{url} must be an http:// or ws:// URL on loopback.");
        }
        var ip = IPAddress.Parse(url.Host);
        if (!IPAddress.IsLoopback(ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{url.Host} is not an IPv4 loopback address: the generator only ever targets 127.0.0.0/8.");
        }
        Url = url;
        Floor = floor;
        _host = url.Host;
        _port = url.Port;
        _path = url.AbsolutePath is "/" or "" ? "/ws" : url.AbsolutePath;
        Address = SockAddrIn.From(ip, url.Port);
        Sources = new SockAddrIn[Math.Max(1, sources)];
        for (var i = 0; i < Sources.Length; i++)
        {
            Sources[i] = SockAddrIn.From(new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + i) }), 0);
        }
        if (!floor)
        {
            _parleyUpgrade = Wire.UpgradeRequest(_host, _port, _path);
        }
        RoomPrefix = "bench-" + Convert.ToString(Random.Shared.Next(), 16);
    }

    public Uri Url { get; }

    public bool Floor { get; }

    public SockAddrIn Address { get; }

    public SockAddrIn[] Sources { get; }

    public string RoomPrefix { get; }

    public string Name => Floor ? "floor" : "parley";

    public byte[] UpgradeRequest(int client) =>
        _parleyUpgrade ?? Wire.UpgradeRequest(_host, _port, $"{_path}?pair={_pairBase + (client / 2)}");

    public byte[] JoinMessage(int client) =>
        Encoding.UTF8.GetBytes($"{{\"type\":\"join\",\"version\":1,\"room\":\"{RoomPrefix}-{client / 2}\",\"name\":\"Load {client}\"}}");
}

/// <summary>IDriver is a scenario's hook into every relayed message.</summary>
internal interface IDriver
{
    void OnRelayed(Client receiver, ReadOnlySpan<byte> message, long now);

    void OnJoined(Client client);
}

/// <summary>
/// Fleet is the set of simulated clients, spread over the event loops (both members of a room on
/// the same loop), with a bound on the handshakes in flight per loop, optional reconnection and
/// counts of everything that went wrong.
/// </summary>
internal sealed class Fleet : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _events = new();
    private readonly Queue<Client>[] _pending;
    private readonly int[] _inFlight;
    private int _joined;
    private long _joins;
    private volatile bool _closing;

    public Fleet(Target target, int clients, int loops, int connectConcurrency)
    {
        Target = target;
        ConnectConcurrency = connectConcurrency <= 0 ? int.MaxValue : Math.Max(1, connectConcurrency / loops);
        Loops = new EventLoop[loops];
        _pending = new Queue<Client>[loops];
        _inFlight = new int[loops];
        for (var i = 0; i < loops; i++)
        {
            Loops[i] = new EventLoop(i);
            _pending[i] = new Queue<Client>();
        }
        Clients = new Client[clients];
        for (var i = 0; i < clients; i++)
        {
            Clients[i] = new Client(this, Loops[i / 2 % loops], i);
        }
        for (var i = 0; i + 1 < clients; i += 2)
        {
            Clients[i].Partner = Clients[i + 1];
            Clients[i + 1].Partner = Clients[i];
        }
        foreach (var loop in Loops)
        {
            loop.Start();
        }
    }

    public Target Target { get; }

    public EventLoop[] Loops { get; }

    public Client[] Clients { get; }

    public IDriver? Driver { get; set; }

    /// <summary>ConnectConcurrency bounds the handshakes in flight per loop.</summary>
    public int ConnectConcurrency { get; set; }

    /// <summary>Reconnect makes a client whose connection ends connect again at once.</summary>
    public bool Reconnect { get; set; }

    /// <summary>Epoch is the tick from which <see cref="LoopStats.SinceEpoch"/> counts.</summary>
    public long Epoch { get; set; } = Stopwatch.GetTimestamp();

    public int Joined => Volatile.Read(ref _joined);

    public long Joins => Interlocked.Read(ref _joins);

    /// <summary>Events are counts of what went wrong (or was retried), by description.</summary>
    public IReadOnlyDictionary<string, long> Events => _events;

    public long Failures => _events.Where(static e => e.Key.StartsWith("failed", StringComparison.Ordinal) || e.Key.StartsWith("lost", StringComparison.Ordinal)
        || e.Key.StartsWith("server error", StringComparison.Ordinal)).Sum(static e => e.Value);

    public void Count(string what) => _events.AddOrUpdate(what, 1, static (_, n) => n + 1);

    /// <summary>ConnectAll starts connecting every client, within the concurrency bound.</summary>
    public void ConnectAll() => ConnectRange(0, Clients.Length);

    /// <summary>ConnectRange starts connecting clients [from, to).</summary>
    public void ConnectRange(int from, int to)
    {
        foreach (var loop in Loops)
        {
            loop.Post(() =>
            {
                for (var i = from; i < to; i++)
                {
                    if (Clients[i].Loop == loop)
                    {
                        _pending[loop.Id].Enqueue(Clients[i]);
                    }
                }
                Pump(loop);
            });
        }
    }

    /// <summary>AbortAll resets every connection at once; with <see cref="Reconnect"/> they all connect again.</summary>
    public Task AbortAllAsync() => OnEachLoopAsync(loop =>
    {
        foreach (var client in loop.Clients)
        {
            if (client.State == ClientState.Joined)
            {
                Interlocked.Decrement(ref _joined);
            }
            if (client.HoldsConnectSlot)
            {
                client.HoldsConnectSlot = false;
                _inFlight[loop.Id]--;
            }
            client.Abort();
        }
        if (Reconnect)
        {
            foreach (var client in loop.Clients)
            {
                _pending[loop.Id].Enqueue(client);
            }
            Pump(loop);
        }
    });

    /// <summary>OnEachLoopAsync runs <paramref name="action"/> on every loop's thread and completes when all have.</summary>
    public Task OnEachLoopAsync(Action<EventLoop> action)
    {
        var tasks = new Task[Loops.Length];
        for (var i = 0; i < Loops.Length; i++)
        {
            var loop = Loops[i];
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.Post(() =>
            {
                try
                {
                    action(loop);
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
            tasks[i] = done.Task;
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>WaitForJoinedAsync waits until <paramref name="count"/> clients are joined, or the timeout.</summary>
    public async Task<bool> WaitForJoinedAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Joined < count)
        {
            // Without reconnection a failed client never joins: no point in waiting for it.
            if (Stopwatch.GetTimestamp() > deadline || (!Reconnect && Failures > 0))
            {
                return false;
            }
            await Task.Delay(2, cancellationToken);
        }
        return true;
    }

    public void OnJoined(Client client)
    {
        Interlocked.Increment(ref _joined);
        Interlocked.Increment(ref _joins);
        var stats = client.Loop.Stats;
        stats.JoinLatency.Record(Ticks.ToNanoseconds(client.JoinedAt - client.ConnectStarted));
        stats.SinceEpoch.Record(Ticks.ToNanoseconds(client.JoinedAt - Epoch));
        if (client.HoldsConnectSlot)
        {
            client.HoldsConnectSlot = false;
            _inFlight[client.Loop.Id]--;
            Pump(client.Loop);
        }
        Driver?.OnJoined(client);
    }

    public void OnLost(Client client, ClientState was, string why)
    {
        if (_closing)
        {
            return;
        }
        Count(why);
        if (was == ClientState.Joined)
        {
            Interlocked.Decrement(ref _joined);
        }
        var loop = client.Loop;
        if (client.HoldsConnectSlot)
        {
            client.HoldsConnectSlot = false;
            _inFlight[loop.Id]--;
        }
        if (Reconnect)
        {
            // Not inline: the client may be in the middle of handling its socket's events.
            loop.Schedule(TimeSpan.FromMilliseconds(1 + (loop.NextRandom() % 10)), () =>
            {
                _pending[loop.Id].Enqueue(client);
                Pump(loop);
            });
        }
        else
        {
            loop.Schedule(TimeSpan.Zero, () => Pump(loop));
        }
    }

    private void Pump(EventLoop loop)
    {
        var pending = _pending[loop.Id];
        while (_inFlight[loop.Id] < ConnectConcurrency && pending.Count > 0)
        {
            var client = pending.Dequeue();
            if (client.State is ClientState.Connecting or ClientState.Upgrading or ClientState.Joining or ClientState.Joined)
            {
                continue;
            }
            _inFlight[loop.Id]++;
            client.HoldsConnectSlot = true;
            client.Connect();
        }
    }

    /// <summary>CloseAsync resets every connection without counting it as lost.</summary>
    public async Task CloseAsync()
    {
        _closing = true;
        Reconnect = false;
        await OnEachLoopAsync(loop =>
        {
            _pending[loop.Id].Clear();
            foreach (var client in loop.Clients)
            {
                client.Abort();
            }
        });
        Volatile.Write(ref _joined, 0);
    }

    public void Dispose()
    {
        foreach (var loop in Loops)
        {
            loop.Stop();
            loop.Dispose();
        }
    }
}

/// <summary>Ticks converts <see cref="Stopwatch"/> ticks.</summary>
internal static class Ticks
{
    public static long ToNanoseconds(long ticks) =>
        Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));

    public static long FromSeconds(double seconds) => (long)(seconds * Stopwatch.Frequency);
}
