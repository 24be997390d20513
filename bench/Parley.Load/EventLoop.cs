using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Parley.Load;

/// <summary>
/// EventLoop is one thread that owns a set of <see cref="Client"/>s and drives their sockets with
/// edge-triggered epoll. Everything about a client happens on its loop's thread; other threads
/// talk to a loop only through <see cref="Post"/>. Frames a client queues while the loop handles
/// a batch of events are sent together at the end of the batch, several frames per send().
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const ulong WakeToken = ulong.MaxValue;
    private const int MaxEvents = 1024;
    private static readonly long HousekeepingTicks = Stopwatch.Frequency / 20;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly List<Client?> _slots = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly List<Client> _dirty = [];
    private readonly PriorityQueue<Action, long> _timers = new();
    private volatile bool _stopping;
    private uint _random;

    public EventLoop(int id)
    {
        Id = id;
        _random = (uint)(0x9E3779B9 * (id + 1));
        _epoll = Native.epoll_create1(Native.EfdCloExec);
        if (_epoll < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Native.Errno}.");
        }
        _wake = Native.eventfd(0, Native.EfdNonBlock | Native.EfdCloExec);
        var ev = new EpollEvent { Events = Native.EpollIn, Data = WakeToken };
        if (_wake < 0 || Native.epoll_ctl(_epoll, Native.EpollCtlAdd, _wake, &ev) != 0)
        {
            throw new InvalidOperationException($"eventfd failed: errno {Native.Errno}.");
        }
        Scratch = GC.AllocateUninitializedArray<byte>(256 * 1024, pinned: true);
        _thread = new Thread(Run) { IsBackground = true, Name = $"loop-{id}" };
    }

    public int Id { get; }

    /// <summary>Scratch is the loop's receive buffer: a client keeps only the unfinished tail of what it read.</summary>
    public byte[] Scratch { get; }

    /// <summary>Stats are this loop's counters; only its thread writes them.</summary>
    public LoopStats Stats { get; } = new();

    /// <summary>Pacer, when set, runs after every batch of events and returns the tick of its next due send.</summary>
    public Func<long, long>? Pacer { get; set; }

    /// <summary>Clients holds every client this loop owns.</summary>
    public List<Client> Clients { get; } = [];

    public void Start() => _thread.Start();

    /// <summary>Post runs <paramref name="action"/> on the loop's thread.</summary>
    public void Post(Action action)
    {
        _commands.Enqueue(action);
        ulong one = 1;
        _ = Native.write(_wake, &one, sizeof(ulong));
    }

    /// <summary>Schedule runs <paramref name="action"/> on the loop's thread after <paramref name="delay"/>; loop thread only.</summary>
    public void Schedule(TimeSpan delay, Action action) =>
        _timers.Enqueue(action, Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency));

    /// <summary>NextRandom is a cheap per-loop xorshift for mask keys and jitter; loop thread only.</summary>
    public uint NextRandom()
    {
        var x = _random;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        _random = x;
        return x;
    }

    public int Register(Client client, int fd)
    {
        var slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : AddSlot();
        _slots[slot] = client;
        var ev = new EpollEvent
        {
            Events = Native.EpollIn | Native.EpollOut | Native.EpollRdHup | Native.EpollEt,
            Data = (ulong)slot,
        };
        if (Native.epoll_ctl(_epoll, Native.EpollCtlAdd, fd, &ev) != 0)
        {
            _slots[slot] = null;
            _freeSlots.Push(slot);
            return -1;
        }
        return slot;
    }

    public void Unregister(int slot)
    {
        if (slot >= 0 && slot < _slots.Count)
        {
            _slots[slot] = null;
            _freeSlots.Push(slot);
        }
    }

    /// <summary>MarkDirty asks for the client's queued frames to be sent at the end of this batch.</summary>
    public void MarkDirty(Client client) => _dirty.Add(client);

    public void Stop()
    {
        _stopping = true;
        Post(static () => { });
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    private int AddSlot()
    {
        _slots.Add(null);
        return _slots.Count - 1;
    }

    private void Run()
    {
        // Sleep as precisely as asked: the default 50 µs timer slack would smear the pacing.
        _ = Native.prctl(Native.PrSetTimerSlack, 1, 0, 0, 0);
        var events = (EpollEvent*)NativeMemory.Alloc((nuint)(MaxEvents * sizeof(EpollEvent)));
        try
        {
            var nextPace = long.MaxValue;
            while (!_stopping)
            {
                var now = Stopwatch.GetTimestamp();
                var due = Math.Min(nextPace, now + HousekeepingTicks);
                if (_timers.TryPeek(out _, out var timerDue))
                {
                    due = Math.Min(due, timerDue);
                }
                var wait = Math.Max(0, due - now);
                var timeout = new TimeSpec
                {
                    Seconds = wait / Stopwatch.Frequency,
                    Nanoseconds = wait % Stopwatch.Frequency * 1_000_000_000 / Stopwatch.Frequency,
                };
                var n = Native.epoll_pwait2(_epoll, events, MaxEvents, &timeout, null);
                if (n < 0 && Native.Errno != Native.EIntr)
                {
                    throw new InvalidOperationException($"epoll_pwait2 failed: errno {Native.Errno}.");
                }
                for (var i = 0; i < n; i++)
                {
                    var data = events[i].Data;
                    if (data == WakeToken)
                    {
                        ulong value;
                        _ = Native.read(_wake, &value, sizeof(ulong));
                        while (_commands.TryDequeue(out var command))
                        {
                            command();
                        }
                        continue;
                    }
                    if ((int)data < _slots.Count && _slots[(int)data] is { } client)
                    {
                        client.OnEvents(events[i].Events);
                    }
                }
                now = Stopwatch.GetTimestamp();
                while (_timers.TryPeek(out var timer, out var at) && at <= now)
                {
                    _timers.Dequeue();
                    timer();
                }
                nextPace = Pacer is { } pacer ? pacer(now) : long.MaxValue;
                Flush();
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void Flush()
    {
        // A flush can fail a client, whose loss may queue more work: index, don't enumerate.
        for (var i = 0; i < _dirty.Count; i++)
        {
            _dirty[i].Flush();
        }
        _dirty.Clear();
    }

    public void Dispose()
    {
        _ = Native.close(_epoll);
        _ = Native.close(_wake);
    }
}

/// <summary>LoopStats are one loop's counters: written by its thread, read by the reporter.</summary>
internal sealed class LoopStats
{
    public long Sent;
    public long Received;
    public long Relayed;
    public long ReceivedBytes;
    public long OutOfOrder;
    public long Throttled;
    public Histogram Latency { get; } = new();
    public Histogram JoinLatency { get; } = new();
    public Histogram SinceEpoch { get; } = new();
}
