using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Parley.Load;

/// <summary>ClientState is where a simulated participant is in its connection's life.</summary>
internal enum ClientState
{
    Idle,
    Connecting,
    Upgrading,
    Joining,
    Joined,
    Closed,
}

/// <summary>
/// Client is one simulated participant: a non-blocking socket that connects, upgrades to a
/// WebSocket, joins a room (or, against the floor, waits to be paired) and then relays. It keeps
/// no receive buffer of its own between reads, only the unfinished tail of the last one, and
/// queues outgoing frames in one buffer that its loop sends once per batch.
/// </summary>
internal sealed unsafe class Client
{
    private const int OutInitialBytes = 8 * 1024;
    private const int MaxHandshakeBytes = 16 * 1024;

    private readonly Fleet _fleet;
    private int _fd = -1;
    private int _slot = -1;
    private byte[]? _carry;
    private int _carryLength;
    private byte[]? _out;
    private int _outStart;
    private int _outEnd;
    private bool _dirty;

    public Client(Fleet fleet, EventLoop loop, int index)
    {
        _fleet = fleet;
        Loop = loop;
        Index = index;
        loop.Clients.Add(this);
    }

    public EventLoop Loop { get; }

    /// <summary>Index is the client's number; clients 2k and 2k+1 share room k.</summary>
    public int Index { get; }

    public ClientState State { get; private set; }

    public Client? Partner { get; set; }

    /// <summary>SelfId is the peer id the server gave this client in <c>joined</c>.</summary>
    public byte[]? SelfId { get; private set; }

    /// <summary>ConnectStarted is the tick this connection attempt began; Joined the tick it joined.</summary>
    public long ConnectStarted { get; private set; }

    public long JoinedAt { get; private set; }

    /// <summary>JoinRetries counts <c>room-full</c> answers retried on this connection.</summary>
    public int JoinRetries { get; private set; }

    /// <summary>HoldsConnectSlot is true while this client counts against its loop's bound on handshakes in flight.</summary>
    public bool HoldsConnectSlot { get; set; }

    // Relay bookkeeping, kept by the driver on the loop's thread.
    public int InFlight;
    public long NextSequence;
    public long ExpectedSequence;
    public byte[]? Message;
    public byte[]? OfferMessage;

    /// <summary>Connect opens a new connection and starts the handshake; loop thread only.</summary>
    public void Connect()
    {
        Reset();
        ConnectStarted = Stopwatch.GetTimestamp();
        var fd = Native.socket(Native.AfInet, Native.SockStream | Native.SockNonBlock | Native.SockCloExec, 0);
        if (fd < 0)
        {
            Fail($"socket: errno {Native.Errno}");
            return;
        }
        _fd = fd;
        Native.SetIntOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
        var target = _fleet.Target;
        if (target.Sources.Length > 1)
        {
            // Spread over several loopback addresses, each with its own ephemeral port range; the
            // port is chosen at connect(), knowing the destination, not at bind().
            Native.SetIntOption(fd, Native.SolIp, Native.IpBindAddressNoPort, 1);
            var source = target.Sources[Index % target.Sources.Length];
            if (Native.bind(fd, &source, sizeof(SockAddrIn)) != 0)
            {
                Fail($"bind: errno {Native.Errno}");
                return;
            }
        }
        var address = target.Address;
        if (Native.connect(fd, &address, sizeof(SockAddrIn)) != 0 && Native.Errno != Native.EInProgress)
        {
            Fail($"connect: errno {Native.Errno}");
            return;
        }
        _slot = Loop.Register(this, fd);
        if (_slot < 0)
        {
            Fail($"epoll_ctl: errno {Native.Errno}");
            return;
        }
        State = ClientState.Connecting;
    }

    /// <summary>Abort resets the connection at once (RST, no close handshake), as a dead network would; loop thread only.</summary>
    public void Abort()
    {
        if (_fd < 0)
        {
            return;
        }
        var linger = stackalloc int[2] { 1, 0 };
        _ = Native.setsockopt(_fd, Native.SolSocket, Native.SoLinger, linger, 2 * sizeof(int));
        CloseSocket();
        State = ClientState.Closed;
    }

    /// <summary>OnEvents handles what epoll reported for this client's socket.</summary>
    public void OnEvents(uint events)
    {
        try
        {
            if (State == ClientState.Connecting)
            {
                if ((events & (Native.EpollOut | Native.EpollErr | Native.EpollHup)) == 0)
                {
                    return;
                }
                int error;
                var length = sizeof(int);
                _ = Native.getsockopt(_fd, Native.SolSocket, Native.SoError, &error, &length);
                if (error != 0)
                {
                    Fail($"connect: errno {error}");
                    return;
                }
                State = ClientState.Upgrading;
                Append(_fleet.Target.UpgradeRequest(Index));
                Flush();
                return;
            }
            if ((events & Native.EpollOut) != 0 && _outEnd > _outStart)
            {
                Flush();
            }
            if ((events & (Native.EpollIn | Native.EpollRdHup | Native.EpollHup | Native.EpollErr)) != 0)
            {
                Receive();
            }
        }
        catch (InvalidDataException e)
        {
            Fail(e.Message);
        }
    }

    /// <summary>SendText queues one masked text frame; it goes out with the loop's batch.</summary>
    public void SendText(ReadOnlySpan<byte> payload)
    {
        var frame = BeginFrame(Opcode.Text, payload.Length);
        payload.CopyTo(frame);
        EndFrame(frame);
    }

    /// <summary>BeginFrame reserves a text frame of <paramref name="length"/> bytes and returns its payload to fill in.</summary>
    public Span<byte> BeginFrame(Opcode opcode, int length)
    {
        var header = Wire.HeaderLength(length);
        Reserve(header + length);
        var mask = Loop.NextRandom();
        _ = Wire.WriteHeader(_out.AsSpan(_outEnd), opcode, length, mask);
        _outEnd += header;
        var payload = _out.AsSpan(_outEnd, length);
        _outEnd += length;
        return payload;
    }

    /// <summary>EndFrame masks the payload filled in since <see cref="BeginFrame"/> and marks the client for sending.</summary>
    public void EndFrame(Span<byte> payload)
    {
        var mask = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_out.AsSpan(_outEnd - payload.Length - 4, 4));
        Wire.Mask(payload, mask);
        MarkDirty();
    }

    /// <summary>Flush sends what is queued, as far as the socket takes it; the rest waits for EPOLLOUT.</summary>
    public void Flush()
    {
        _dirty = false;
        if (_fd < 0 || _out is null)
        {
            return;
        }
        fixed (byte* p = _out)
        {
            while (_outStart < _outEnd)
            {
                var n = Native.send(_fd, p + _outStart, _outEnd - _outStart, Native.MsgNoSignal | Native.MsgDontWait);
                if (n > 0)
                {
                    _outStart += (int)n;
                    continue;
                }
                var errno = Native.Errno;
                if (errno == Native.EAgain)
                {
                    return;
                }
                if (errno != Native.EIntr)
                {
                    Fail($"send: errno {errno}");
                    return;
                }
            }
        }
        ArrayPool<byte>.Shared.Return(_out);
        _out = null;
        _outStart = _outEnd = 0;
    }

    private void MarkDirty()
    {
        if (!_dirty)
        {
            _dirty = true;
            Loop.MarkDirty(this);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_out.AsSpan(_outEnd));
        _outEnd += bytes.Length;
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_out))]
    private void Reserve(int bytes)
    {
        if (_out is null)
        {
            _out = ArrayPool<byte>.Shared.Rent(Math.Max(OutInitialBytes, bytes));
            return;
        }
        if (_outEnd + bytes <= _out.Length)
        {
            return;
        }
        var pending = _outEnd - _outStart;
        var target = _out.Length;
        while (pending + bytes > target)
        {
            target *= 2;
        }
        var larger = target == _out.Length ? _out : ArrayPool<byte>.Shared.Rent(target);
        _out.AsSpan(_outStart, pending).CopyTo(larger);
        if (larger != _out)
        {
            ArrayPool<byte>.Shared.Return(_out);
        }
        _out = larger;
        _outStart = 0;
        _outEnd = pending;
    }

    private void Receive()
    {
        var scratch = Loop.Scratch;
        var length = 0;
        if (_carry is not null)
        {
            _carry.AsSpan(0, _carryLength).CopyTo(scratch);
            length = _carryLength;
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = null;
            _carryLength = 0;
        }
        fixed (byte* p = scratch)
        {
            while (_fd >= 0)
            {
                var room = scratch.Length - length;
                if (room == 0)
                {
                    Fail("a frame larger than the receive buffer");
                    return;
                }
                var n = Native.recv(_fd, p + length, room, 0);
                if (n > 0)
                {
                    length += (int)n;
                    var used = Process(scratch.AsSpan(0, length));
                    if (_fd < 0)
                    {
                        return;
                    }
                    if (used > 0)
                    {
                        scratch.AsSpan(used, length - used).CopyTo(scratch);
                        length -= used;
                    }
                    if (n < room)
                    {
                        // Drained for now: with edge-triggered epoll, new data brings a new event.
                        break;
                    }
                    continue;
                }
                if (n == 0)
                {
                    Lost("closed by the server (EOF)");
                    return;
                }
                var errno = Native.Errno;
                if (errno == Native.EAgain)
                {
                    break;
                }
                if (errno != Native.EIntr)
                {
                    Lost($"recv: errno {errno}");
                    return;
                }
            }
        }
        if (length > 0 && _fd >= 0)
        {
            _carry = ArrayPool<byte>.Shared.Rent(Math.Max(length, 256));
            scratch.AsSpan(0, length).CopyTo(_carry);
            _carryLength = length;
        }
    }

    // Process handles every complete unit in buffer and returns how many bytes it used.
    private int Process(Span<byte> buffer)
    {
        var used = 0;
        if (State == ClientState.Upgrading)
        {
            var end = buffer.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                if (buffer.Length > MaxHandshakeBytes)
                {
                    Fail("the upgrade response has no end");
                }
                return 0;
            }
            if (!buffer.StartsWith("HTTP/1.1 101"u8))
            {
                var line = buffer.IndexOf("\r\n"u8);
                Fail($"upgrade refused: {Encoding.ASCII.GetString(buffer[..line])}");
                return 0;
            }
            used = end + 4;
            State = ClientState.Joining;
            if (!_fleet.Target.Floor)
            {
                SendJoin();
            }
        }
        var now = Stopwatch.GetTimestamp();
        while (_fd >= 0 && Wire.TryReadFrame(buffer[used..], out var fin, out var opcode, out var start, out var length, out var frameLength))
        {
            var payload = buffer.Slice(used + start, length);
            used += frameLength;
            if (!fin || opcode == Opcode.Continuation)
            {
                Fail("the server sent a fragmented message");
                return used;
            }
            switch (opcode)
            {
                case Opcode.Text:
                    OnText(payload, now);
                    break;
                case Opcode.Ping:
                    var pong = BeginFrame(Opcode.Pong, payload.Length);
                    payload.CopyTo(pong);
                    EndFrame(pong);
                    break;
                case Opcode.Close:
                    var code = payload.Length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
                    var reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload[2..]) : "";
                    Lost($"close {code} {reason}".TrimEnd());
                    return used;
                case Opcode.Pong:
                    break;
                default:
                    Fail($"unexpected opcode {opcode}");
                    return used;
            }
        }
        return used;
    }

    private void OnText(ReadOnlySpan<byte> text, long now)
    {
        Loop.Stats.Received++;
        Loop.Stats.ReceivedBytes += text.Length;
        if (State == ClientState.Joining)
        {
            if (_fleet.Target.Floor)
            {
                if (text.SequenceEqual("ready"u8))
                {
                    OnJoined(null, now);
                }
                return;
            }
            if (text.StartsWith("{\"type\":\"joined\""u8))
            {
                OnJoined(ReadSelfId(text), now);
            }
            else if (text.StartsWith("{\"type\":\"error\""u8))
            {
                var code = ReadString(text, "code"u8) ?? "?";
                if (code == "room-full" && JoinRetries < 200)
                {
                    // The room still holds our previous connection: the server has not seen it go yet.
                    JoinRetries++;
                    _fleet.Count("join retried (room-full)");
                    Loop.Schedule(TimeSpan.FromMilliseconds(5 + (Loop.NextRandom() % 20)), () =>
                    {
                        if (State == ClientState.Joining)
                        {
                            SendJoin();
                        }
                    });
                    return;
                }
                Fail($"join refused: {code}");
            }
            return;
        }
        if (State != ClientState.Joined || text.Length < 10)
        {
            return;
        }
        // Every server message starts {"type":" (9 bytes); the next byte tells the relayed ones apart.
        switch (text[9])
        {
            case (byte)'c' or (byte)'o' or (byte)'a':
                _fleet.Driver?.OnRelayed(this, text, now);
                break;
            case (byte)'e':
                _fleet.Count("server error: " + (ReadString(text, "code"u8) ?? "?"));
                break;
            default:
                break;
        }
    }

    private void OnJoined(byte[]? selfId, long now)
    {
        SelfId = selfId;
        JoinedAt = now;
        State = ClientState.Joined;
        _fleet.OnJoined(this);
    }

    private void SendJoin()
    {
        var join = _fleet.Target.JoinMessage(Index);
        SendText(join);
    }

    private void Fail(string why)
    {
        var was = State;
        Close();
        _fleet.OnLost(this, was, "failed: " + why);
    }

    private void Lost(string why)
    {
        var was = State;
        Close();
        _fleet.OnLost(this, was, "lost: " + why);
    }

    private void Close()
    {
        CloseSocket();
        State = ClientState.Closed;
    }

    private void CloseSocket()
    {
        if (_fd >= 0)
        {
            Loop.Unregister(_slot);
            _ = Native.close(_fd);
            _fd = -1;
            _slot = -1;
        }
    }

    private void Reset()
    {
        CloseSocket();
        if (_carry is not null)
        {
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = null;
        }
        if (_out is not null)
        {
            ArrayPool<byte>.Shared.Return(_out);
            _out = null;
        }
        _carryLength = _outStart = _outEnd = 0;
        _dirty = false;
        SelfId = null;
        InFlight = 0;
        NextSequence = 0;
        ExpectedSequence = 0;
        Message = null;
        OfferMessage = null;
        JoinRetries = 0;
        State = ClientState.Idle;
    }

    private static byte[]? ReadSelfId(ReadOnlySpan<byte> joined)
    {
        var reader = new Utf8JsonReader(joined);
        var depth = 0;
        var inSelf = false;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    depth++;
                    break;
                case JsonTokenType.EndObject:
                    depth--;
                    inSelf = false;
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("self"u8):
                    inSelf = true;
                    break;
                case JsonTokenType.PropertyName when depth == 2 && inSelf && reader.ValueTextEquals("id"u8):
                    reader.Read();
                    return reader.ValueSpan.ToArray();
                default:
                    break;
            }
        }
        return null;
    }

    private static string? ReadString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(property))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }
        return null;
    }
}
