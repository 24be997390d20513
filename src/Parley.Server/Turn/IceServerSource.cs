using Microsoft.Extensions.Options;

namespace Parley.Turn;

/// <summary>
/// IceServerSource makes the <c>iceServers</c> one participant receives: the configured static
/// servers, plus the TURN server with a credential minted for that participant.
/// </summary>
internal sealed class IceServerSource(IOptions<IceOptions> options, TimeProvider time)
{
    private readonly IceServer[] _static = [.. options.Value.IceServers.Select(s => new IceServer([.. s.Urls], s.Username, s.Credential))];
    private readonly TurnOptions _turn = options.Value.Turn;
    private readonly string[] _turnUrls = [.. options.Value.Turn.Urls];

    /// <summary>TransportPolicy is <c>all</c> or <c>relay</c>, the ICE transport policy every participant gets.</summary>
    public string TransportPolicy { get; } = options.Value.IceTransportPolicy;

    /// <summary>MintsCredentials is true when a TURN server with a shared secret is configured.</summary>
    public bool MintsCredentials => _turnUrls.Length > 0;

    /// <summary>
    /// RefreshAfter is when a participant gets fresh credentials: once 80% of the lifetime has
    /// passed, which leaves the client time to use them before the old ones expire.
    /// </summary>
    public TimeSpan RefreshAfter => _turn.CredentialLifetime * 0.8;

    public IReadOnlyList<IceServer> ForParticipant(string peerId)
    {
        if (!MintsCredentials)
        {
            return _static;
        }
        var credential = TurnCredentials.Mint(_turn.Secret!, peerId, time.GetUtcNow(), _turn.CredentialLifetime);
        return [.. _static, new IceServer(_turnUrls, credential.Username, credential.Password)];
    }
}
