namespace Parley.Sfu;

/// <summary>SfuLog is the SFU's structured log. It never logs SDP, candidates or secrets.</summary>
internal static partial class SfuLog
{
    [LoggerMessage(201, LogLevel.Information, "SFU room {Room} created on Janus")]
    public static partial void RoomCreated(ILogger logger, string room);

    [LoggerMessage(202, LogLevel.Information, "SFU room {Room} closed")]
    public static partial void RoomClosed(ILogger logger, string room);

    [LoggerMessage(203, LogLevel.Debug, "SFU room {Room}: cleanup failed: {Why}")]
    public static partial void CleanupFailed(ILogger logger, string room, string why);

    [LoggerMessage(204, LogLevel.Warning, "SFU room {Room}: handling a Janus event failed: {Why}")]
    public static partial void EventFailed(ILogger logger, string room, string why);

    [LoggerMessage(205, LogLevel.Error, "SFU room {Room}: its loop failed")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string room);

    [LoggerMessage(206, LogLevel.Information, "Janus is up: {Rooms} SFU rooms to rebuild, {Stale} leftover rooms destroyed")]
    public static partial void JanusUp(ILogger logger, int rooms, int stale);

    [LoggerMessage(207, LogLevel.Warning, "Janus is down ({Why}): {Fallen} rooms fell back to a mesh, {Waiting} wait for it")]
    public static partial void JanusDown(ILogger logger, string why, int fallen, int waiting);

    [LoggerMessage(208, LogLevel.Information, "SFU request of peer {PeerId} in room {Room} refused with {Code}: {Why}")]
    public static partial void Refused(ILogger logger, string room, string peerId, string code, string why);

    [LoggerMessage(209, LogLevel.Error, "Handling Janus coming up or down failed")]
    public static partial void TransitionFailed(ILogger logger, Exception exception);

    [LoggerMessage(210, LogLevel.Information, "Room {Room} switching {Direction} (epoch {Epoch}); {Members} members to report")]
    public static partial void SwitchBegun(ILogger logger, string room, string direction, int epoch, int members);

    [LoggerMessage(211, LogLevel.Information, "Room {Room} switched {Direction} (epoch {Epoch}): {Outcome} in {Took} (deadline: {Deadline})")]
    public static partial void SwitchDone(ILogger logger, string room, string direction, int epoch, string outcome, TimeSpan took, bool deadline);

    [LoggerMessage(218, LogLevel.Information, "SFU room {Room}: peer {PeerId}'s subscribe connection never connected; it gets a fresh one")]
    public static partial void Resubscribed(ILogger logger, string room, string peerId);

    [LoggerMessage(217, LogLevel.Debug, "Room {Room}: switch-ready of {PeerId} for epoch {Epoch}, missing {Missing}: {Outcome}")]
    public static partial void SwitchReady(ILogger logger, string room, string peerId, int epoch, int missing, string outcome);

    [LoggerMessage(213, LogLevel.Information, "SFU room {Room}: the downlink of peer {PeerId} is slow; its video steps down a layer")]
    public static partial void SlowLink(ILogger logger, string room, string peerId);

    [LoggerMessage(214, LogLevel.Debug, "SFU room {Room}: subscribe offer to {PeerId} (fresh: {Fresh}, {Streams} streams)")]
    public static partial void OfferSent(ILogger logger, string room, string peerId, bool fresh, int streams);

    [LoggerMessage(215, LogLevel.Debug, "SFU room {Room}: subscribe answer of {PeerId} started")]
    public static partial void AnswerStarted(ILogger logger, string room, string peerId);

    [LoggerMessage(216, LogLevel.Debug, "SFU room {Room}: layers of {PeerId}: {Layers}")]
    public static partial void LayersSet(ILogger logger, string room, string peerId, string layers);

    [LoggerMessage(212, LogLevel.Warning, "Room {Room} could not move to the SFU ({Why}); it stays a mesh, held for {Hold}")]
    public static partial void SwitchFailed(ILogger logger, string room, string why, TimeSpan hold);
}
