using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Parley.Network.Tests.Turn;
using Parley.Turn;

namespace Parley.Network.Tests.Fixtures;

/// <summary>
/// PeerPolicy asks a coturn which peers it lets a client relay to: it holds one IPv4 and one IPv6
/// allocation (a peer must have the family of the relayed address) and sends CreatePermission
/// for each peer, which coturn answers without sending anything to the peer.
/// </summary>
public sealed class PeerPolicy : IAsyncDisposable
{
    private readonly TurnClient _v4;
    private readonly TurnClient _v6;

    private PeerPolicy(TurnClient v4, TurnClient v6)
    {
        _v4 = v4;
        _v6 = v6;
    }

    public static async Task<PeerPolicy> AllocateAsync(CoturnServer server, CancellationToken cancellationToken)
    {
        var v4 = await AllocatedClientAsync(server, AddressFamily.InterNetwork, cancellationToken);
        try
        {
            return new PeerPolicy(v4, await AllocatedClientAsync(server, AddressFamily.InterNetworkV6, cancellationToken));
        }
        catch
        {
            await v4.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// AllocatedClientAsync connects to coturn over UDP and allocates a relay with a credential
    /// Parley mints. A 437 (allocation mismatch) means the new socket got the port of a client
    /// whose allocation coturn still holds, just released: as RFC 8656 advises for a 437, it tries
    /// again from another 5-tuple (a new socket), up to three times.
    /// </summary>
    public static async Task<TurnClient> AllocatedClientAsync(CoturnServer server, AddressFamily family, CancellationToken cancellationToken)
    {
        var credential = TurnCredentials.Mint(server.Secret, PeerIds.New(), DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        // The refused socket is kept until the next one is open, so the next cannot get its port.
        TurnClient? refused = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var client = await TurnClient.ConnectAsync(family == AddressFamily.InterNetwork ? server.Endpoint : server.EndpointV6, ProtocolType.Udp, cancellationToken);
                if (refused is not null)
                {
                    await refused.DisposeAsync();
                    refused = null;
                }
                var allocation = await client.AllocateAsync(credential.Username, credential.Password, family, cancellationToken);
                if (allocation.Succeeded)
                {
                    return client;
                }
                if (allocation.Error is { Code: 437 } && attempt < 3)
                {
                    refused = client;
                    continue;
                }
                await client.DisposeAsync();
                throw new InvalidOperationException($"Allocate ({family}) failed: {allocation.Error}; coturn's log is {server.LogPath}.");
            }
        }
        finally
        {
            if (refused is not null)
            {
                await refused.DisposeAsync();
            }
        }
    }

    /// <summary>OutcomeAsync is "200" when coturn permits <paramref name="peer"/>, else its error code ("403").</summary>
    public async Task<string> OutcomeAsync(IPAddress peer, CancellationToken cancellationToken)
    {
        var client = peer.AddressFamily == AddressFamily.InterNetwork ? _v4 : _v6;
        var error = await client.CreatePermissionAsync(peer, cancellationToken);
        return error is null ? "200" : error.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// MismatchesAsync asks about every peer and returns one line per peer whose outcome differs
    /// from the expected one, so a failing test names all of them at once.
    /// </summary>
    public async Task<IReadOnlyList<string>> MismatchesAsync(IEnumerable<(IPAddress Peer, string Expected)> cases, CancellationToken cancellationToken)
    {
        var mismatches = new List<string>();
        foreach (var (peer, expected) in cases)
        {
            var outcome = await OutcomeAsync(peer, cancellationToken);
            if (outcome != expected)
            {
                mismatches.Add($"{peer}: coturn answered {outcome}, expected {expected}");
            }
        }
        return mismatches;
    }

    public async ValueTask DisposeAsync()
    {
        await _v4.DisposeAsync();
        await _v6.DisposeAsync();
    }

    /// <summary>Middle is the address halfway between two addresses of one family.</summary>
    public static IPAddress Middle(IPAddress first, IPAddress last)
    {
        var a = new BigInteger(first.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var b = new BigInteger(last.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var middle = ((a + b) / 2).ToByteArray(isUnsigned: true, isBigEndian: true);
        var bytes = new byte[first.GetAddressBytes().Length];
        middle.CopyTo(bytes, bytes.Length - middle.Length);
        return new IPAddress(bytes);
    }
}
