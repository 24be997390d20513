using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Sfu.Janus;

namespace Parley.Sfu;

/// <summary>
/// VideoRoom holds the Janus VideoRoom requests Parley makes and reads their answers
/// (janus-sfu.md §2). Room, feed and handle ids are Janus's business: none of them reaches a
/// client.
/// </summary>
internal static class VideoRoom
{
    public const string Plugin = "janus.plugin.videoroom";

    /// <summary>DescriptionPrefix marks the Janus rooms Parley made, so a restart can find and destroy its leftovers.</summary>
    public const string DescriptionPrefix = "parley:";

    public static JsonObject Create(long room, string parleyRoom, string adminKey, int publishers, int bitrate) => new()
    {
        ["request"] = "create",
        ["room"] = room,
        ["permanent"] = false,
        ["description"] = DescriptionPrefix + parleyRoom,
        ["is_private"] = true,
        ["admin_key"] = adminKey,
        ["publishers"] = publishers,
        ["bitrate"] = bitrate,
        ["bitrate_cap"] = true,
        ["audiocodec"] = "opus",
        ["videocodec"] = "vp8",
        ["notify_joining"] = false,
        // Firefox breaks on video-orientation changes with it (spreed-signaling, janus-sfu.md §2.1).
        ["videoorient_ext"] = false,
    };

    public static JsonObject Destroy(long room) => new() { ["request"] = "destroy", ["room"] = room };

    public static JsonObject List(string adminKey) => new() { ["request"] = "list", ["admin_key"] = adminKey };

    /// <summary>JoinObserver joins Parley's own non-publishing participant, which hears every publisher come and go.</summary>
    public static JsonObject JoinObserver(long room, long id) => new()
    {
        ["request"] = "join",
        ["ptype"] = "publisher",
        ["room"] = room,
        ["id"] = id,
        ["display"] = "parley",
    };

    /// <summary>
    /// ScreenDescription is the description a publisher's screen m-line gets on Janus: subscribers'
    /// stream lists then carry it as <c>feed_description</c>, which is how the screen is told from
    /// the camera.
    /// </summary>
    public const string ScreenDescription = "screen";

    /// <summary>
    /// JoinAndPublish joins a participant's publisher and publishes its offer in one round trip;
    /// <paramref name="screenMid"/> (see <see cref="ScreenMid"/>) is described as the screen.
    /// </summary>
    public static JsonObject JoinAndPublish(long room, long feed, string? screenMid = null) => Describe(new JsonObject
    {
        ["request"] = "joinandconfigure",
        ["ptype"] = "publisher",
        ["room"] = room,
        ["id"] = feed,
        ["audio"] = true,
        ["video"] = true,
    }, screenMid);

    /// <summary>Configure renegotiates a publisher (a new offer, an ICE restart), as spreed-signaling sends every later offer.</summary>
    public static JsonObject Configure(string? screenMid = null) =>
        Describe(new JsonObject { ["request"] = "configure", ["audio"] = true, ["video"] = true }, screenMid);

    /// <summary>
    /// ScreenMid is the mid of a publish offer's screen m-line: its second video m-line (the first
    /// is the camera; docs/protocol.md, "Screen share"), or null when it has none. A video m-line
    /// without an <c>a=mid</c> line has no mid to describe, and counts as none.
    /// </summary>
    public static string? ScreenMid(string sdp)
    {
        var videos = 0;
        var inScreen = false;
        foreach (var raw in sdp.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("m=", StringComparison.Ordinal))
            {
                if (inScreen)
                {
                    return null;
                }
                inScreen = line.StartsWith("m=video ", StringComparison.Ordinal) && ++videos == 2;
            }
            else if (inScreen && line.StartsWith("a=mid:", StringComparison.Ordinal))
            {
                var mid = line["a=mid:".Length..].Trim();
                return mid.Length > 0 ? mid : null;
            }
        }
        return null;
    }

    public static JsonObject Subscribe(long room, IEnumerable<long> feeds) => new()
    {
        ["request"] = "join",
        ["ptype"] = "subscriber",
        ["room"] = room,
        ["streams"] = Feeds(feeds),
    };

    public static JsonObject Update(IReadOnlyCollection<long> subscribe, IReadOnlyCollection<long> unsubscribe)
    {
        var body = new JsonObject { ["request"] = "update" };
        if (subscribe.Count > 0)
        {
            body["subscribe"] = Feeds(subscribe);
        }
        if (unsubscribe.Count > 0)
        {
            body["unsubscribe"] = Feeds(unsubscribe);
        }
        return body;
    }

    public static JsonObject Start() => new() { ["request"] = "start" };

    /// <summary>Restart asks for an ICE-restart offer on a subscriber.</summary>
    public static JsonObject Restart() => new() { ["request"] = "configure", ["restart"] = true };

    /// <summary>
    /// Layers sets, per video m-line of a subscriber, the simulcast layer it relays (substream 2:
    /// the highest, 0: the lowest; Janus takes the nearest one a publisher has) or pauses it.
    /// </summary>
    public static JsonObject Layers(IEnumerable<(string Mid, SfuVideo Video)> layers)
    {
        var streams = new JsonArray();
        foreach (var (mid, video) in layers)
        {
            var stream = new JsonObject { ["mid"] = mid, ["send"] = video != SfuVideo.Off };
            if (video != SfuVideo.Off)
            {
                stream["substream"] = video == SfuVideo.High ? 2 : 0;
            }
            streams.Add(stream);
        }
        return new JsonObject { ["request"] = "configure", ["streams"] = streams };
    }

    public static JsonObject Leave() => new() { ["request"] = "leave" };

    /// <summary>Kind is the answer's <c>videoroom</c> field: joined, attached, updated, updating, event, ...</summary>
    public static string? Kind(JsonElement data) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty("videoroom", out var kind) && kind.ValueKind == JsonValueKind.String
            ? kind.GetString()
            : null;

    /// <summary>Publishers reads a <c>joined</c> or <c>event</c>'s <c>publishers</c> list: each feed and its streams' kinds.</summary>
    public static IEnumerable<(long Feed, int Streams)> Publishers(JsonElement data)
    {
        if (!data.TryGetProperty("publishers", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }
        foreach (var publisher in list.EnumerateArray())
        {
            if (publisher.TryGetProperty("id", out var id) && id.TryGetInt64(out var feed))
            {
                var streams = publisher.TryGetProperty("streams", out var s) && s.ValueKind == JsonValueKind.Array ? s.GetArrayLength() : 0;
                yield return (feed, streams);
            }
        }
    }

    /// <summary>Gone reads the feed an <c>event</c> says stopped publishing or left (<c>unpublished</c>, <c>leaving</c>, <c>kicked</c>).</summary>
    public static long? Gone(JsonElement data)
    {
        foreach (var name in (ReadOnlySpan<string>)["unpublished", "leaving", "kicked"])
        {
            if (data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var feed))
            {
                return feed;
            }
        }
        return null;
    }

    /// <summary>
    /// Streams reads a subscriber's <c>attached</c>/<c>updated</c> streams: every active m-line with
    /// the feed it carries and its kind, <c>audio</c>, <c>video</c> (a camera) or <c>screen</c> (a
    /// video m-line its publisher described as the screen).
    /// </summary>
    public static IEnumerable<(string Mid, long Feed, string Kind)> Streams(JsonElement data)
    {
        if (!data.TryGetProperty("streams", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }
        foreach (var stream in list.EnumerateArray())
        {
            var active = !stream.TryGetProperty("active", out var a) || a.ValueKind != JsonValueKind.False;
            if (active && stream.TryGetProperty("mid", out var mid) && mid.ValueKind == JsonValueKind.String
                && stream.TryGetProperty("feed_id", out var feed) && feed.TryGetInt64(out var feedId)
                && stream.TryGetProperty("type", out var type) && type.GetString() is "audio" or "video")
            {
                var screen = type.GetString() == "video" && stream.TryGetProperty("feed_description", out var d)
                    && d.ValueKind == JsonValueKind.String && d.GetString() == ScreenDescription;
                yield return (mid.GetString()!, feedId, screen ? "screen" : type.GetString()!);
            }
        }
    }

    /// <summary>Rooms reads a <c>list</c> answer: each room's id and description.</summary>
    public static IEnumerable<(long Room, string Description)> Rooms(JsonElement data)
    {
        if (!data.TryGetProperty("list", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }
        foreach (var room in list.EnumerateArray())
        {
            if (room.TryGetProperty("room", out var id) && id.TryGetInt64(out var roomId))
            {
                var description = room.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                yield return (roomId, description);
            }
        }
    }

    /// <summary>Candidate reads a <c>trickle</c> event's candidate: null for <c>completed</c> (end of candidates), or when it is not one.</summary>
    public static SfuCandidate? Candidate(JsonElement message)
    {
        if (!message.TryGetProperty("candidate", out var c) || c.ValueKind != JsonValueKind.Object
            || !c.TryGetProperty("candidate", out var text) || text.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        var mid = c.TryGetProperty("sdpMid", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        int? index = c.TryGetProperty("sdpMLineIndex", out var i) && i.TryGetInt32(out var n) ? n : null;
        return new SfuCandidate(text.GetString()!, mid, index);
    }

    /// <summary>TrickleBody is a browser candidate as Janus takes it.</summary>
    public static JsonObject? TrickleBody(SfuCandidate? candidate)
    {
        if (candidate is null)
        {
            return null;
        }
        var body = new JsonObject { ["candidate"] = candidate.Candidate };
        if (candidate.SdpMid is not null)
        {
            body["sdpMid"] = candidate.SdpMid;
        }
        if (candidate.SdpMLineIndex is { } index)
        {
            body["sdpMLineIndex"] = index;
        }
        return body;
    }

    // Describe adds the screen m-line's description to a publish request (Janus keeps it per stream).
    private static JsonObject Describe(JsonObject body, string? screenMid)
    {
        if (screenMid is not null)
        {
            body["descriptions"] = new JsonArray(new JsonObject { ["mid"] = screenMid, ["description"] = ScreenDescription });
        }
        return body;
    }

    private static JsonArray Feeds(IEnumerable<long> feeds)
    {
        var array = new JsonArray();
        foreach (var feed in feeds)
        {
            array.Add(new JsonObject { ["feed"] = feed });
        }
        return array;
    }

    /// <summary>
    /// Scrub removes what Janus writes of itself into an SDP it makes: its session name line is
    /// <c>s=VideoRoom &lt;room id&gt;</c>, and a room id must never reach a client.
    /// </summary>
    public static string Scrub(string sdp)
    {
        var start = sdp.StartsWith("s=", StringComparison.Ordinal) ? 0 : sdp.IndexOf("\ns=", StringComparison.Ordinal) + 1;
        if (start <= 0 && !sdp.StartsWith("s=", StringComparison.Ordinal))
        {
            return sdp;
        }
        var end = sdp.IndexOf('\n', start);
        end = end < 0 ? sdp.Length : end;
        var eol = end > start && sdp[end - 1] == '\r' ? end - 1 : end;
        return string.Concat(sdp.AsSpan(0, start), "s=-", sdp.AsSpan(eol));
    }

    /// <summary>Answer reads the SDP answer a publish returned; a reply without one is a failure of the media server.</summary>
    public static string AnswerOf(JanusReply reply) =>
        reply.Jsep is { Type: "answer", Sdp: var sdp } ? Scrub(sdp) : throw new JanusException(0, "no SDP answer in the reply", "message:publish");
}
