using System.Text.Json;

namespace Parley.Browser.Tests;

/// <summary>
/// MediaPathsTests: the client's switch between transports (paths.js), against scripted fake
/// transports in a real page, for the edge cases a real call cannot aim at: a late epoch, a tile
/// shown at no size, the sizes a new path starts with, the old path kept for whom the server says
/// and reported again once the new path plays them.
/// </summary>
public sealed class MediaPathsTests(Chromium chromium)
{
    // The page script: two fake transports that record what they are asked, and a switch mesh → sfu.
    private const string Script = """
        async () => {
          const { MediaPaths } = await import('/js/paths.js');
          const { Emitter } = await import('/js/emitter.js');
          const made = {};
          const playing = { a: false, b: false };
          const asked = {};
          class Fake extends Emitter {
            constructor(mode) { super(); this.mode = mode; this.calls = []; made[mode] = this; }
            addPeer(peer) { this.calls.push(`add ${peer.id}`); }
            removePeer(id) { this.calls.push(`remove ${id}`); }
            handle() {}
            async setTrack(kind) { this.calls.push(`track ${kind}`); }
            setIceServers() {}
            setView(id, level) { this.calls.push(`view ${id}=${level}`); }
            async playing(id, wants) { asked[id] = wants; return playing[id]; }
            close() { this.calls.push('close'); }
          }
          const paths = new MediaPaths({
            factories: { mesh: () => new Fake('mesh'), sfu: () => new Fake('sfu') },
            context: () => ({}),
            initiates: () => false,
            expects: () => ({ audio: true, video: true }),
          });
          const shown = [];
          const ready = [];
          paths.on('stream', ({ id, stream }) => shown.push(`${id}:${stream.id}`));
          paths.on('ready', (r) => ready.push(r));
          const stream = (id) => ({ id, getTracks: () => [] });
          const until = async (check) => {
            const deadline = performance.now() + 5000;
            while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            return check();
          };
          const out = {};

          paths.start('mesh', 0);
          paths.addPeer({ id: 'a', name: 'A' }, false);
          paths.addPeer({ id: 'b', name: 'B' }, false);
          paths.setView('a', 'low');
          paths.setView('b', 'off');
          made.mesh.emit('stream', { id: 'a', stream: stream('mesh-a') });
          made.mesh.emit('stream', { id: 'b', stream: stream('mesh-b') });

          out.taken = paths.switchTo('sfu', 1);
          out.sameEpochAgain = paths.switchTo('sfu', 1);
          out.olderEpoch = paths.switchTo('mesh', 0);
          out.sfuCalls = [...made.sfu.calls];
          await paths.setTrack('audio', null);
          out.trackOnBoth = made.mesh.calls.includes('track audio') && made.sfu.calls.includes('track audio');

          made.sfu.emit('stream', { id: 'a', stream: stream('sfu-a') });
          made.sfu.emit('stream', { id: 'b', stream: stream('sfu-b') });
          // b's tile is shown at no size: only its sound must play on the new path.
          playing.b = true;
          out.bMoved = await until(() => shown.includes('b:sfu-b'));
          out.askedOfB = asked.b;
          out.askedOfA = asked.a;
          // a does not play on the new path yet: its tile stays on the old one, and no report goes.
          await new Promise((r) => setTimeout(r, 400));
          out.aStillOld = !shown.includes('a:sfu-a');
          out.readyBeforeA = ready.length;
          playing.a = true;
          out.aMoved = await until(() => shown.includes('a:sfu-a'));
          out.ready = await until(() => ready.length === 1) ? ready[0] : null;

          paths.done(2, []);
          out.wrongEpochDoneClosed = made.mesh.calls.includes('close');
          paths.done(1, ['a']);
          out.meshAfterKeep = [...made.mesh.calls];
          // The server kept a's old connection (a's side lacked the new path); once the new path
          // plays a here, this side says so again, for the server to close that pair too.
          out.settled = await until(() => ready.length === 2) ? ready[1] : null;
          paths.close();
          out.sfuClosed = made.sfu.calls.includes('close') && made.mesh.calls.includes('close');
          return JSON.stringify(out);
        }
        """;

    [Fact]
    public async Task A_switch_moves_each_tile_once_it_plays_skips_unshown_video_and_keeps_the_old_path_for_whom_the_server_says()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        await using var page = await Participant.OpenAsync(chromium.Browser, server.BaseUri, "/", "Ada");

        using var result = JsonDocument.Parse(await page.Page.EvaluateAsync<string>(Script));
        var r = result.RootElement;

        Assert.True(r.GetProperty("taken").GetBoolean());
        Assert.False(r.GetProperty("sameEpochAgain").GetBoolean());
        Assert.False(r.GetProperty("olderEpoch").GetBoolean());
        // The new path gets everyone, and each picture's size from the start.
        Assert.Equal(["add a", "add b", "view a=low", "view b=off"], r.GetProperty("sfuCalls").EnumerateArray().Select(e => e.GetString()));
        Assert.True(r.GetProperty("trackOnBoth").GetBoolean(), "A mute during the switch must reach both paths.");

        Assert.True(r.GetProperty("bMoved").GetBoolean(), "b's tile did not move once its sound played on the new path.");
        Assert.False(r.GetProperty("askedOfB").GetProperty("video").GetBoolean());
        Assert.True(r.GetProperty("askedOfB").GetProperty("audio").GetBoolean());
        Assert.True(r.GetProperty("askedOfA").GetProperty("video").GetBoolean());
        Assert.True(r.GetProperty("aStillOld").GetBoolean(), "a's tile moved before a played on the new path.");
        Assert.Equal(0, r.GetProperty("readyBeforeA").GetInt32());
        Assert.True(r.GetProperty("aMoved").GetBoolean());
        var ready = r.GetProperty("ready");
        Assert.Equal(1, ready.GetProperty("epoch").GetInt32());
        Assert.Empty(ready.GetProperty("missing").EnumerateArray());

        Assert.False(r.GetProperty("wrongEpochDoneClosed").GetBoolean(), "A switch-done of another epoch closed the old path.");
        var mesh = r.GetProperty("meshAfterKeep").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("remove b", mesh);
        Assert.DoesNotContain("remove a", mesh);
        Assert.DoesNotContain("close", mesh);
        var settled = r.GetProperty("settled");
        Assert.Equal(JsonValueKind.Object, settled.ValueKind);
        Assert.Equal(1, settled.GetProperty("epoch").GetInt32());
        Assert.Empty(settled.GetProperty("missing").EnumerateArray());
        Assert.True(r.GetProperty("sfuClosed").GetBoolean());
    }
}
