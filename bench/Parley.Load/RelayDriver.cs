namespace Parley.Load;

/// <summary>
/// RelayDriver makes each client send relayed messages to its room's other member and checks
/// what arrives: every message carries its send tick and a per-direction sequence number, so the
/// receiver records the latency and notices a loss or reordering. It either keeps a window of
/// messages in flight per client (as fast as the server takes them) or paces all clients to a
/// fixed total rate, with the window then only as a safety bound.
/// </summary>
internal sealed class RelayDriver : IDriver
{
    private readonly Fleet _fleet;
    private readonly Payload _candidate = Payload.Create(RelayKind.Candidate);
    private readonly Payload _offer = Payload.Create(RelayKind.Offer);
    private readonly int _offerEvery;
    private readonly Pace[] _paces;
    private volatile bool _sending;
    private volatile bool _measuring;

    /// <summary>
    /// <paramref name="offerEvery"/>: 0 sends only candidates, 1 only offers, k one offer in k messages.
    /// <paramref name="rate"/>: total messages per second, or 0 for as fast as the window allows.
    /// </summary>
    public RelayDriver(Fleet fleet, int offerEvery, int window, double rate)
    {
        _fleet = fleet;
        _offerEvery = offerEvery;
        Window = window;
        Rate = rate;
        _paces = new Pace[fleet.Loops.Length];
        fleet.Driver = this;
    }

    public int Window { get; }

    public double Rate { get; }

    public bool Measuring
    {
        get => _measuring;
        set => _measuring = value;
    }

    /// <summary>Describe names the message mix for reports.</summary>
    public static string Describe(int offerEvery) => offerEvery switch
    {
        0 => $"candidate ({Payload.CandidateBytes} B)",
        1 => $"offer ({Payload.OfferBytes} B)",
        _ => $"1 offer ({Payload.OfferBytes} B) per {offerEvery} messages, the rest candidates ({Payload.CandidateBytes} B)",
    };

    /// <summary>StartAsync starts sending on every loop.</summary>
    public Task StartAsync()
    {
        _sending = true;
        return _fleet.OnEachLoopAsync(loop =>
        {
            if (Rate > 0)
            {
                var pace = new Pace(loop, Rate / _fleet.Loops.Length);
                _paces[loop.Id] = pace;
                loop.Pacer = now => pace.Run(this, now);
                return;
            }
            foreach (var client in loop.Clients)
            {
                Fill(client);
            }
        });
    }

    /// <summary>StopAsync stops sending and waits (up to <paramref name="drain"/>) for what is in flight to arrive.</summary>
    public async Task<long> StopAsync(TimeSpan drain)
    {
        _sending = false;
        await _fleet.OnEachLoopAsync(static loop => loop.Pacer = null);
        var deadline = DateTime.UtcNow + drain;
        long inFlight;
        do
        {
            inFlight = 0;
            foreach (var client in _fleet.Clients)
            {
                if (client.State == ClientState.Joined)
                {
                    inFlight += Volatile.Read(ref client.InFlight);
                }
            }
            if (inFlight == 0)
            {
                break;
            }
            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);
        return inFlight;
    }

    public void ResetLatency() => _ = _fleet.OnEachLoopAsync(static loop => loop.Stats.Latency.Reset());

    public void OnJoined(Client client)
    {
        if (_sending && Rate <= 0 && client.Partner is { State: ClientState.Joined })
        {
            Fill(client);
            Fill(client.Partner);
        }
    }

    public void OnRelayed(Client receiver, ReadOnlySpan<byte> message, long now)
    {
        var stats = receiver.Loop.Stats;
        if (!Payload.TryReadStamp(message, out var stamp, out var sequence))
        {
            _fleet.Count("failed: a relayed message without its stamp");
            return;
        }
        if (sequence != receiver.ExpectedSequence)
        {
            stats.OutOfOrder++;
        }
        receiver.ExpectedSequence = sequence + 1;
        stats.Relayed++;
        if (_measuring)
        {
            stats.Latency.Record(Ticks.ToNanoseconds(now - stamp));
        }
        if (receiver.Partner is not { } sender)
        {
            return;
        }
        sender.InFlight--;
        if (_sending && Rate <= 0)
        {
            Send(sender, now);
        }
    }

    private void Fill(Client client)
    {
        if (client.State != ClientState.Joined || client.Partner is not { State: ClientState.Joined })
        {
            return;
        }
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        while (client.InFlight < Window)
        {
            Send(client, now);
        }
    }

    // Send queues one stamped message from client to its partner.
    private void Send(Client client, long now)
    {
        var offer = _offerEvery == 1 || (_offerEvery > 1 && client.NextSequence % _offerEvery == 0);
        var payload = offer ? _offer : _candidate;
        var template = offer ? client.OfferMessage ??= Template(client, _offer) : client.Message ??= Template(client, _candidate);
        var frame = client.BeginFrame(Opcode.Text, template.Length);
        template.CopyTo(frame);
        payload.Stamp(frame, now, client.NextSequence++);
        client.EndFrame(frame);
        client.InFlight++;
        client.Loop.Stats.Sent++;
    }

    // Template is the payload with the partner's id as `to` (the floor ignores it).
    private static byte[] Template(Client client, Payload payload)
    {
        var bytes = (byte[])payload.Bytes.Clone();
        if (client.Partner?.SelfId is { Length: Payload.IdLength } id)
        {
            id.CopyTo(bytes.AsSpan(payload.ToOffset));
        }
        return bytes;
    }

    /// <summary>Pace spreads one loop's share of the rate evenly over its clients, round robin.</summary>
    private sealed class Pace(EventLoop loop, double ratePerSecond)
    {
        private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
        private readonly double _perTick = ratePerSecond / System.Diagnostics.Stopwatch.Frequency;
        private long _sent;
        private int _next;

        public long Run(RelayDriver driver, long now)
        {
            var due = (long)((now - _start) * _perTick) - _sent;
            var clients = loop.Clients;
            // After a stall (the generator was not scheduled) catch up, but never with more than 5 ms
            // worth at once; what is beyond that is skipped and reported. Latency is measured from
            // the real send, so a late send does not count as server latency.
            var cap = Math.Max(1, (long)(ratePerSecond / 200));
            if (due > cap)
            {
                _sent += due - cap;
                loop.Stats.Throttled += due - cap;
                due = cap;
            }
            for (var tries = 0; due > 0 && tries < clients.Count * 2; tries++)
            {
                var client = clients[_next];
                _next = (_next + 1) % clients.Count;
                if (client.State != ClientState.Joined || client.Partner is not { State: ClientState.Joined })
                {
                    continue;
                }
                if (client.InFlight >= driver.Window)
                {
                    loop.Stats.Throttled++;
                    _sent++;
                    due--;
                    continue;
                }
                driver.Send(client, now);
                _sent++;
                due--;
            }
            return _start + (long)((_sent + 1) / _perTick);
        }
    }
}
