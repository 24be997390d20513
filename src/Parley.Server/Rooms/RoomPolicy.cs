using Microsoft.Extensions.Options;
using Parley.Sfu;
using Parley.Signaling;

namespace Parley.Rooms;

/// <summary>
/// RoomPolicy is the one place that decides how large a room may grow and whether its media
/// goes peer to peer or through the SFU. A room starts as a mesh; the join that would make it
/// larger than <c>Parley:Sfu:MeshMax</c> moves it to the SFU, where it stays until it empties
/// (or the SFU is lost and the room is small enough for a mesh again). Without an SFU a mesh
/// holds <c>Parley:MaxParticipants</c>.
/// </summary>
public sealed class RoomPolicy(IOptions<SignalingOptions> signaling, IOptions<SfuOptions> sfu, IMediaServerStatus mediaServer)
{
    private readonly int _meshCap = signaling.Value.MaxParticipants;
    private readonly int _meshMax = sfu.Value.MeshMax;
    private readonly int _sfuCap = sfu.Value.MaxParticipants;

    /// <summary>MeshLimit is the most a mesh grows to by joins: MeshMax with an SFU, Parley:MaxParticipants without.</summary>
    public int MeshLimit => mediaServer.IsConfigured ? _meshMax : _meshCap;

    /// <summary>MeshCap is the most a mesh may hold at all (a room falling back from the SFU included).</summary>
    public int MeshCap => _meshCap;

    /// <summary>SfuCap is the most an SFU room holds.</summary>
    public int SfuCap => _sfuCap;

    /// <summary>
    /// Admit decides a join into a room of <paramref name="count"/> members in <paramref name="mode"/>;
    /// <paramref name="membersSupportSfu"/> is true when every member's client can use the SFU.
    /// </summary>
    public JoinDecision Admit(string roomId, RoomMode mode, int count, bool joinerSupportsSfu, bool membersSupportSfu)
    {
        if (mode == RoomMode.Sfu)
        {
            if (count >= _sfuCap)
            {
                return JoinDecision.Refuse(JoinStatus.RoomFull, $"This meeting is full ({_sfuCap} participants). Try again when someone leaves.");
            }
            return joinerSupportsSfu
                ? JoinDecision.Admit(RoomMode.Sfu, switched: false)
                : JoinDecision.Refuse(JoinStatus.SfuRequired,
                    "This meeting runs through the media server, which this client does not support. Reload the page to get one that does.");
        }
        if (count < MeshLimit)
        {
            return JoinDecision.Admit(RoomMode.Mesh, switched: false);
        }
        if (!mediaServer.IsConfigured)
        {
            return JoinDecision.Refuse(JoinStatus.RoomFull, $"This meeting is full ({_meshCap} participants). Try again when someone leaves.");
        }
        if (!mediaServer.IsUp)
        {
            return JoinDecision.Refuse(JoinStatus.RoomFull,
                $"This meeting is limited to {MeshLimit} participants for now: the media server that carries larger meetings is unavailable. Try again in a moment.");
        }
        if (mediaServer.IsHeld(roomId))
        {
            // The room's last moves to the SFU failed: it stays a mesh for a while, as large as a mesh may be.
            return count < _meshCap
                ? JoinDecision.Admit(RoomMode.Mesh, switched: false)
                : JoinDecision.Refuse(JoinStatus.RoomFull,
                    $"This meeting is limited to {_meshCap} participants for now: moving it to the media server failed. Try again in a few minutes.");
        }
        if (!joinerSupportsSfu)
        {
            return JoinDecision.Refuse(JoinStatus.SfuRequired,
                $"This meeting has {count} participants; one more needs the media server, which this client does not support. Reload the page to get one that does.");
        }
        if (!membersSupportSfu)
        {
            return JoinDecision.Refuse(JoinStatus.RoomFull,
                $"This meeting cannot grow past {MeshLimit} participants: someone in it uses a client without media-server support.");
        }
        return JoinDecision.Admit(RoomMode.Sfu, switched: true);
    }

    /// <summary>
    /// MaySwitchUp is true when a mesh of <paramref name="count"/> should move to the SFU now without
    /// a join (a retry after a failed move): it is larger than MeshMax, the SFU is up and not held
    /// for the room, and every member's client can follow.
    /// </summary>
    public bool MaySwitchUp(string roomId, int count, bool membersSupportSfu) =>
        count > MeshLimit && count < _sfuCap && mediaServer is { IsConfigured: true, IsUp: true } && !mediaServer.IsHeld(roomId) && membersSupportSfu;

    /// <summary>MayReturnToMesh is true when an SFU room of <paramref name="count"/> is small enough to go back to a mesh (MeshMax − 1 or fewer).</summary>
    public bool MayReturnToMesh(int count) => count <= MeshLimit - 1;

    /// <summary>MayFallBackToMesh is true when a room of <paramref name="count"/> that lost its SFU can carry on as a mesh.</summary>
    public bool MayFallBackToMesh(int count) => count <= _meshCap;
}

/// <summary>JoinDecision is the policy's answer to one join.</summary>
public readonly record struct JoinDecision(JoinStatus Status, RoomMode Mode, bool Switched, string? Reason)
{
    public static JoinDecision Admit(RoomMode mode, bool switched) => new(JoinStatus.Joined, mode, switched, null);

    public static JoinDecision Refuse(JoinStatus status, string reason) => new(status, RoomMode.Mesh, false, reason);
}

/// <summary>JoinStatus is the outcome of a join.</summary>
public enum JoinStatus
{
    Joined,

    /// <summary>RoomFull: the room is at its limit for now; the reason says which.</summary>
    RoomFull,

    /// <summary>SfuRequired: the room runs through the SFU and the joiner's client cannot.</summary>
    SfuRequired,
}
