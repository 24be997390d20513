using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// LayerTests: through the media server each page gets, per remote participant, the simulcast
/// layer that fits the tile (no renegotiation), and nothing for a tile out of sight.
/// </summary>
public sealed partial class LayerTests(Chromium chromium)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_large_tile_gets_the_full_picture_a_thumbnail_the_half_size_one_and_a_hidden_tile_none()
    {
        await using var call = await SfuCall.StartAsync("layers", meshMax: 1, Ct);
        // The product's own camera size (640x360): two simulcast layers.
        var ada = await call.JoinAsync(chromium.Browser, "Ada", smallCamera: false);
        var grace = await call.JoinAsync(chromium.Browser, "Grace", smallCamera: false);
        var alan = await call.JoinAsync(chromium.Browser, "Alan", smallCamera: false);
        await ada.Page.SetViewportSizeAsync(1280, 720);
        await TileFlow.WaitForAllAsync(ada, ["Grace", "Alan"], Ct);
        await WaitForWidthAsync(ada, "Grace", 640);
        await WaitForWidthAsync(ada, "Alan", 640);
        using var http = new HttpClient { BaseAddress = call.Parley.BaseUri };
        var offers = await SfuOffersAsync(http);

        // A small window: every tile a thumbnail.
        await ada.Page.SetViewportSizeAsync(420, 320);
        await WaitForWidthAsync(ada, "Grace", 320);
        await WaitForWidthAsync(ada, "Alan", 320);
        await TileFlow.WaitForAllAsync(ada, ["Grace", "Alan"], Ct);
        Assert.Matches(LayerGauge("low", "[1-9]"), await http.GetStringAsync("/metrics", Ct));

        // Grace's tile out of sight: her video stops reaching Ada (her sound does not), and comes back with the tile.
        await ada.Page.SetViewportSizeAsync(1280, 720);
        await ada.TileOf("Grace").EvaluateAsync("tile => { tile.style.display = 'none'; }");
        await WaitForFramesAsync(ada, "Grace", rising: false);
        await TileFlow.WaitForAllAsync(ada, ["Alan", "Grace"], Ct, silent: ["Grace"]);
        await ada.TileOf("Grace").EvaluateAsync("tile => { tile.style.display = ''; }");
        await WaitForFramesAsync(ada, "Grace", rising: true);
        await WaitForWidthAsync(ada, "Grace", 640);

        // Layers and pauses changed without any client offering again.
        Assert.Equal(offers, await SfuOffersAsync(http));
    }

    private static async Task WaitForWidthAsync(Participant p, string name, double width)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var tile = (await TileFlow.ReadAsync(p)).SingleOrDefault(t => t.Name == name);
            if (tile?.FrameWidth == width)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{p.Name} receives {name}'s video {tile?.FrameWidth} wide, not {width}.");
            await Task.Delay(250, Ct);
        }
    }

    private static async Task WaitForFramesAsync(Participant p, string name, bool rising)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var before = (await TileFlow.ReadAsync(p)).Single(t => t.Name == name).FramesDecoded;
        while (true)
        {
            // The window over which the count must rise by 10 (or stay put, for "stopped"): a
            // measuring interval, polled again until the deadline, not a wait for the outcome.
            await Task.Delay(1500, Ct);
            var now = (await TileFlow.ReadAsync(p)).Single(t => t.Name == name).FramesDecoded;
            if (rising ? now >= before + 10 : now == before)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{p.Name}: {name}'s video did not {(rising ? "resume" : "stop")} ({before} then {now} frames).");
            before = now;
        }
    }

    private static async Task<int> SfuOffersAsync(HttpClient http)
    {
        var match = OfferCounter().Match(await http.GetStringAsync("/metrics", Ct));
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private static Regex LayerGauge(string layer, string count) => new($"parley_sfu_layers\\{{[^}}]*layer=\"{layer}\"[^}}]*\\}} {count}");

    [GeneratedRegex("parley_messages_relayed_total\\{[^}]*type=\"sfu-offer\"[^}]*\\} (\\d+)")]
    private static partial Regex OfferCounter();
}
