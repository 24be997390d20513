using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Parley.Rooms;
using Parley.Sfu;

namespace Parley.Signaling;

/// <summary>
/// SfuSignals turns what the SFU has to tell participants into protocol messages
/// (docs/protocol.md, "Rooms on the media server") and routes them by participant id.
/// </summary>
internal sealed class SfuSignals(IRoomRouter router) : ISfuSignals
{
    private static readonly ParleyJsonContext Json = ParleyJsonContext.Default;

    public async ValueTask OfferAsync(string roomId, string participantId, string sdp, IReadOnlyList<SfuTrackInfo> streams, bool fresh, CancellationToken cancellationToken)
    {
        var infos = new SfuStreamInfo[streams.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            infos[i] = new SfuStreamInfo(streams[i].Mid, streams[i].ParticipantId, streams[i].Kind);
        }
        var message = new SfuOfferMessage(PcName(SfuPc.Subscribe), sdp, infos, fresh ? true : null);
        await router.SendAsync(roomId, participantId, Serialize(message, Json.SfuOfferMessage), null, cancellationToken);
    }

    public async ValueTask CandidateAsync(string roomId, string participantId, SfuPc pc, SfuCandidate? candidate, CancellationToken cancellationToken)
    {
        var ice = candidate is null ? null : new IceCandidate(candidate.Candidate, candidate.SdpMid, candidate.SdpMLineIndex);
        await router.SendAsync(roomId, participantId, Serialize(new SfuCandidateMessage(PcName(pc), ice), Json.SfuCandidateMessage), null, cancellationToken);
    }

    public async ValueTask ClosedAsync(string roomId, string participantId, SfuPc pc, string reason, CancellationToken cancellationToken) =>
        await router.SendAsync(roomId, participantId, Serialize(new SfuCloseMessage(PcName(pc), reason), Json.SfuCloseMessage), null, cancellationToken);

    public ValueTask StatusAsync(string roomId, bool up, string? message, CancellationToken cancellationToken) =>
        router.BroadcastAsync(roomId, StatusFrame(up, message), null, cancellationToken);

    public ValueTask<ModeChange> ChangeModeAsync(string roomId, RoomMode mode, string? reason, CancellationToken cancellationToken) =>
        router.ChangeModeAsync(roomId, mode, (m, epoch) => ModeFrame(m, epoch, reason), cancellationToken);

    public async ValueTask SwitchDoneAsync(string roomId, string participantId, int epoch, IReadOnlyList<string> keep, CancellationToken cancellationToken) =>
        await router.SendAsync(roomId, participantId, Serialize(new SwitchDoneMessage(epoch, keep), Json.SwitchDoneMessage), null, cancellationToken);

    /// <summary>ModeFrame is the <c>mode</c> message of a room's new epoch.</summary>
    public static byte[] ModeFrame(RoomMode mode, int epoch, string? reason = null) =>
        Serialize(new ModeMessage(ModeName(mode), epoch, reason), Json.ModeMessage);

    /// <summary>StatusFrame is the <c>sfu-status</c> message.</summary>
    public static byte[] StatusFrame(bool up, string? message) =>
        Serialize(new SfuStatusMessage(up ? "up" : "down", message), Json.SfuStatusMessage);

    /// <summary>PcName is a connection's name on the wire.</summary>
    public static string PcName(SfuPc pc) => pc == SfuPc.Publish ? "publish" : "subscribe";

    /// <summary>ModeName is a mode's name on the wire.</summary>
    public static string ModeName(RoomMode mode) => mode == RoomMode.Sfu ? "sfu" : "mesh";

    private static byte[] Serialize<T>(T message, JsonTypeInfo<T> info) => JsonSerializer.SerializeToUtf8Bytes(message, info);
}
