using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Parley.Network.Tests.Turn;

/// <summary>TurnAllocation is the outcome of an Allocate: the relayed and mapped addresses, or the error.</summary>
public sealed record TurnAllocation(StunError? Error, IPEndPoint? Relayed, IPEndPoint? Mapped, TimeSpan Lifetime)
{
    public bool Succeeded => Error is null;
}

/// <summary>RelayedData is a datagram a peer sent to the relayed address, delivered in a Data indication.</summary>
public sealed record RelayedData(IPEndPoint Peer, byte[] Data);

/// <summary>
/// TurnClient is a small TURN client (RFC 8656, with STUN from RFC 8489): Allocate with the
/// long-term credential mechanism, CreatePermission, Send and Data indications, Refresh. One
/// reader task matches responses to requests by transaction id; over UDP a request is
/// retransmitted with a doubling timeout until it is answered or its deadline passes.
/// </summary>
public sealed class TurnClient : IAsyncDisposable
{
    private readonly TurnTransport _transport;
    private readonly IPEndPoint _server;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StunMessage>> _pending = new();
    private readonly Channel<RelayedData> _data = Channel.CreateBounded<RelayedData>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private Session? _session;

    private TurnClient(TurnTransport transport, IPEndPoint server)
    {
        _transport = transport;
        _server = server;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>TransactionTimeout bounds one request, retransmissions included. Default 5 s.</summary>
    public TimeSpan TransactionTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>InitialRetransmitTimeout is the first UDP retransmission timeout (RFC 8489's RTO); it doubles each time.</summary>
    public TimeSpan InitialRetransmitTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Realm is the realm the server named in its 401, once Allocate has been answered.</summary>
    public string? Realm => _session?.Realm;

    public static async Task<TurnClient> ConnectAsync(IPEndPoint server, ProtocolType protocol, CancellationToken cancellationToken)
    {
        var transport = await TurnTransport.ConnectAsync(server, protocol, cancellationToken);
        return new TurnClient(transport, server);
    }

    /// <summary>BindingAsync sends a Binding request (RFC 8489) and returns the success response.</summary>
    public async Task<StunMessage> BindingAsync(CancellationToken cancellationToken)
    {
        var response = await TransactAsync(new StunMessageBuilder(StunMethod.Binding, StunClass.Request, StunMessageBuilder.NewTransactionId()), cancellationToken);
        return response.Error is { } error ? throw new InvalidDataException($"Binding failed: {error}") : response;
    }

    /// <summary>
    /// AllocateAsync asks for a UDP relay of <paramref name="family"/>. The first request carries no
    /// credentials; the server answers 401 with REALM and NONCE, and the second request proves the
    /// password with MESSAGE-INTEGRITY keyed by MD5(username:realm:password) (RFC 8656 section 7.1).
    /// </summary>
    public async Task<TurnAllocation> AllocateAsync(string username, string password, AddressFamily family, CancellationToken cancellationToken)
    {
        if (_session is { Allocated: true })
        {
            throw new InvalidOperationException("This client already holds an allocation; use one client per allocation.");
        }
        var challenge = await TransactAsync(AllocateRequest(family), cancellationToken);
        if (challenge.Error is not { Code: 401 } || challenge.GetString(StunAttributeType.Realm) is not { } realm
            || challenge.GetString(StunAttributeType.Nonce) is not { } nonce)
        {
            return ToAllocation(challenge);
        }
        var session = new Session(username, realm, nonce, StunMessageBuilder.LongTermKey(username, realm, password));
        _session = session;
        var response = await AuthenticatedAsync(() => AllocateRequest(family), cancellationToken);
        if (response.Class == StunClass.SuccessResponse)
        {
            session.Allocated = true;
        }
        return ToAllocation(response);
    }

    /// <summary>
    /// CreatePermissionAsync asks the server to let <paramref name="peer"/> send to, and receive
    /// from, the relayed address (RFC 8656 section 9). It returns null on success, else the error:
    /// 403 when the server's policy forbids the peer.
    /// </summary>
    public async Task<StunError?> CreatePermissionAsync(IPAddress peer, CancellationToken cancellationToken)
    {
        RequireAllocation();
        // The port of XOR-PEER-ADDRESS is ignored for permissions (RFC 8656 section 9.1).
        var response = await AuthenticatedAsync(
            () => new StunMessageBuilder(StunMethod.CreatePermission, StunClass.Request, StunMessageBuilder.NewTransactionId())
                .AddXorAddress(StunAttributeType.XorPeerAddress, new IPEndPoint(peer, 0)),
            cancellationToken);
        return response.Error;
    }

    /// <summary>
    /// ChannelBindAsync binds channel <paramref name="channel"/> (0x4000-0x4FFF) to
    /// <paramref name="peer"/>, which also installs a permission (RFC 8656 section 11); the server
    /// applies the same peer policy as to CreatePermission. It returns null on success, else the error.
    /// </summary>
    public async Task<StunError?> ChannelBindAsync(IPEndPoint peer, ushort channel, CancellationToken cancellationToken)
    {
        RequireAllocation();
        var response = await AuthenticatedAsync(
            () => new StunMessageBuilder(StunMethod.ChannelBind, StunClass.Request, StunMessageBuilder.NewTransactionId())
                .Add(StunAttributeType.ChannelNumber, [(byte)(channel >> 8), (byte)channel, 0, 0])
                .AddXorAddress(StunAttributeType.XorPeerAddress, peer),
            cancellationToken);
        return response.Error;
    }

    /// <summary>RefreshAsync sets the allocation's lifetime; zero deletes it (RFC 8656 section 8).</summary>
    public async Task<StunError?> RefreshAsync(TimeSpan lifetime, CancellationToken cancellationToken)
    {
        RequireAllocation();
        var response = await AuthenticatedAsync(
            () => new StunMessageBuilder(StunMethod.Refresh, StunClass.Request, StunMessageBuilder.NewTransactionId())
                .Add(StunAttributeType.Lifetime, (uint)lifetime.TotalSeconds),
            cancellationToken);
        if (response.Error is null && lifetime == TimeSpan.Zero)
        {
            _session!.Allocated = false;
        }
        return response.Error;
    }

    /// <summary>SendAsync relays <paramref name="data"/> to a permitted peer in a Send indication (RFC 8656 section 10).</summary>
    public async Task SendAsync(IPEndPoint peer, byte[] data, CancellationToken cancellationToken)
    {
        RequireAllocation();
        var indication = new StunMessageBuilder(StunMethod.Send, StunClass.Indication, StunMessageBuilder.NewTransactionId())
            .AddXorAddress(StunAttributeType.XorPeerAddress, peer)
            .Add(StunAttributeType.Data, data)
            .Build(fingerprint: true);
        await _transport.SendAsync(indication, cancellationToken);
    }

    /// <summary>ReceiveDataAsync returns the next datagram a peer sent to the relayed address.</summary>
    public async Task<RelayedData> ReceiveDataAsync(CancellationToken cancellationToken) =>
        await _data.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_session is { Allocated: true })
        {
            // Release the relay port at once rather than when the allocation expires; best effort.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await RefreshAsync(TimeSpan.Zero, deadline.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException or SocketException)
            {
                // The server is gone or slow; its allocation times out on its own.
            }
        }
        await _stop.CancelAsync();
        await _transport.DisposeAsync();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private static StunMessageBuilder AllocateRequest(AddressFamily family)
    {
        var request = new StunMessageBuilder(StunMethod.Allocate, StunClass.Request, StunMessageBuilder.NewTransactionId())
            // REQUESTED-TRANSPORT: protocol 17 (UDP) and three reserved bytes.
            .Add(StunAttributeType.RequestedTransport, [17, 0, 0, 0]);
        // REQUESTED-ADDRESS-FAMILY (RFC 8656 section 18.8): 0x01 IPv4 (the default) or 0x02 IPv6.
        return family == AddressFamily.InterNetworkV6 ? request.Add(StunAttributeType.RequestedAddressFamily, [0x02, 0, 0, 0]) : request;
    }

    private static TurnAllocation ToAllocation(StunMessage response) => new(
        response.Error,
        response.GetXorAddress(StunAttributeType.XorRelayedAddress),
        response.GetXorAddress(StunAttributeType.XorMappedAddress),
        TimeSpan.FromSeconds(response.GetUInt32(StunAttributeType.Lifetime) ?? 0));

    private void RequireAllocation()
    {
        if (_session is not { Allocated: true })
        {
            throw new InvalidOperationException("Allocate first: this request needs an allocation and its credentials.");
        }
    }

    // AuthenticatedAsync sends a request with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY, and
    // repeats it once with the fresh nonce if the server answers 438 Stale Nonce. A success
    // response must carry a MESSAGE-INTEGRITY made with the same key, or it is not the server's.
    private async Task<StunMessage> AuthenticatedAsync(Func<StunMessageBuilder> request, CancellationToken cancellationToken)
    {
        var session = _session ?? throw new InvalidOperationException("No credentials: Allocate first.");
        for (var attempt = 0; ; attempt++)
        {
            var message = request()
                .Add(StunAttributeType.Username, session.Username)
                .Add(StunAttributeType.Realm, session.Realm)
                .Add(StunAttributeType.Nonce, session.Nonce);
            var response = await TransactAsync(message, cancellationToken, session.Key);
            if (response.Error is { Code: 438 } && attempt == 0 && response.GetString(StunAttributeType.Nonce) is { } fresh)
            {
                session.Nonce = fresh;
                continue;
            }
            if (response.Class == StunClass.SuccessResponse && !response.HasValidIntegrity(session.Key))
            {
                throw new InvalidDataException($"The {response.Method} success response from {_server} has no valid MESSAGE-INTEGRITY for this credential.");
            }
            return response;
        }
    }

    private async Task<StunMessage> TransactAsync(StunMessageBuilder request, CancellationToken cancellationToken, byte[]? key = null)
    {
        var bytes = request.Build(key, fingerprint: true);
        var id = Convert.ToHexString(request.TransactionId);
        var answer = new TaskCompletionSource<StunMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TransactionTimeout);
        try
        {
            var wait = InitialRetransmitTimeout;
            while (true)
            {
                await _transport.SendAsync(bytes, deadline.Token);
                if (_transport.IsReliable)
                {
                    return await answer.Task.WaitAsync(deadline.Token);
                }
                try
                {
                    return await answer.Task.WaitAsync(wait, deadline.Token);
                }
                catch (TimeoutException)
                {
                    wait *= 2;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No answer to {request.Method} from {_server} within {TransactionTimeout.TotalSeconds:0.#} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _transport.ReceiveAsync(_stop.Token) is { } frame)
            {
                if (StunMessage.TryParse(frame) is not { } message)
                {
                    continue;
                }
                if (message.Class is StunClass.SuccessResponse or StunClass.ErrorResponse)
                {
                    if (_pending.TryGetValue(Convert.ToHexString(message.TransactionId), out var answer))
                    {
                        answer.TrySetResult(message);
                    }
                }
                else if (message is { Class: StunClass.Indication, Method: StunMethod.Data }
                    && message.GetXorAddress(StunAttributeType.XorPeerAddress) is { } peer && message.Get(StunAttributeType.Data) is { } data)
                {
                    _data.Writer.TryWrite(new RelayedData(peer, data));
                }
            }
            Fail(new IOException($"{_server} closed the connection."));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        foreach (var answer in _pending.Values)
        {
            answer.TrySetException(e);
        }
        _data.Writer.TryComplete(e);
    }

    private sealed class Session(string username, string realm, string nonce, byte[] key)
    {
        public string Username { get; } = username;

        public string Realm { get; } = realm;

        public byte[] Key { get; } = key;

        public string Nonce { get; set; } = nonce;

        public bool Allocated { get; set; }
    }
}
