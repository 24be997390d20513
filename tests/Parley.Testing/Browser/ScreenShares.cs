using Microsoft.Playwright;

namespace Parley.Testing;

/// <summary>
/// ScreenShares is what the screen-share tests share, mesh and SFU: the tile of someone's screen,
/// the wait for it to decode a screen-sized picture, and the browser's own "Stop sharing" (the
/// track's <c>ended</c>). Chromium's fake capture answers getDisplayMedia with a 1280x720 moving
/// picture, without a picker, under the fake-UI flag every test browser has (TESTING.md).
/// </summary>
public static class ScreenShares
{
    /// <summary>
    /// Record, as an init script, keeps every track getDisplayMedia returns in
    /// <c>window.__parleyScreens</c>, so a test can end one as the browser's "Stop sharing" bar does.
    /// It also asks for 1280x720 at most (the fake screen is 1920x1080 otherwise): several pages then
    /// encode and decode screens on two cores without starving each other.
    /// </summary>
    public const string Record = """
        (() => {
          const md = navigator.mediaDevices;
          window.__parleyScreens = [];
          if (!md || !md.getDisplayMedia) return;
          const original = md.getDisplayMedia.bind(md);
          md.getDisplayMedia = async (c) => {
            const video = { ...(c && typeof c.video === 'object' ? c.video : {}), width: { max: 1280 }, height: { max: 720 } };
            const stream = await original({ ...c, video });
            window.__parleyScreens.push(...stream.getVideoTracks());
            return stream;
          };
        })();
        """;

    /// <summary>MinWidth is the least frame width that counts as a screen rather than a camera thumbnail.</summary>
    public const double MinWidth = 1000;

    /// <summary>Tile is the tile of <paramref name="owner"/>'s screen (a participant id, or <c>self</c>) on <paramref name="p"/>'s page.</summary>
    public static ILocator Tile(Participant p, string owner) => p.Page.Locator($"#grid [data-peer=\"screen:{owner}\"]");

    /// <summary>Grid is <paramref name="p"/>'s grid of tiles (it carries <c>data-presenting</c>).</summary>
    public static ILocator Grid(Participant p) => p.Page.Locator("#grid");

    /// <summary>CameraTile is <paramref name="name"/>'s own tile on <paramref name="p"/>'s page, not their screen's (whose name holds theirs).</summary>
    public static ILocator CameraTile(Participant p, string name) =>
        p.Page.Locator("#grid .tile:not(.self):not(.screen)").Filter(new() { Has = p.Page.Locator(".tile-name", new() { HasText = name }) });

    /// <summary>IdOfAsync is the participant id of <paramref name="other"/>, from the data-peer of their camera tile on <paramref name="p"/>'s page.</summary>
    public static async Task<string> IdOfAsync(Participant p, Participant other) =>
        await CameraTile(p, other.Name).GetAttributeAsync("data-peer") ?? throw new InvalidOperationException($"{p.Name} has no tile of {other.Name}.");

    /// <summary>
    /// WaitForDecodingAsync waits until <paramref name="p"/>'s tile of <paramref name="sharer"/>'s
    /// screen decodes frames (at least <see cref="MediaFlow.MinFrames"/> more between readings) at
    /// least <see cref="MinWidth"/> wide, and returns the last reading.
    /// </summary>
    public static Task<TileMedia> WaitForDecodingAsync(Participant p, string sharer, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        WaitForTileAsync(p, $"{sharer}'s screen", MinWidth, cancellationToken, timeout);

    /// <summary>
    /// WaitForTileAsync waits until <paramref name="p"/>'s tile named <paramref name="name"/> (a
    /// camera's or a screen's) decodes frames at least <paramref name="minWidth"/> wide, and returns
    /// the last reading.
    /// </summary>
    public static async Task<TileMedia> WaitForTileAsync(Participant p, string name, double minWidth, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        TileMedia? first = null;
        TileMedia? now = null;
        while (true)
        {
            now = (await TileFlow.ReadAsync(p)).SingleOrDefault(t => t.Name == name);
            if (now is not null)
            {
                if (first is null || now.FramesDecoded < first.FramesDecoded)
                {
                    first = now;
                }
                else if (now.FramesDecoded >= first.FramesDecoded + MediaFlow.MinFrames && now.FrameWidth >= minWidth)
                {
                    return now;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{p.Name}: {name} does not decode a picture {minWidth} wide or more. First: {first?.ToString() ?? "no tile"}; now: {now?.ToString() ?? "no tile"}.");
            }
            await Task.Delay(300, cancellationToken);
        }
    }

    /// <summary>EndAsync ends <paramref name="p"/>'s latest screen track as the browser's own "Stop sharing" does: the track stops and fires <c>ended</c>.</summary>
    public static Task EndAsync(Participant p) => p.Page.EvaluateAsync("""
        () => {
          const track = window.__parleyScreens.at(-1);
          track.stop();
          track.dispatchEvent(new Event('ended'));
        }
        """);
}
