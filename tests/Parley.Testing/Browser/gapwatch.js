// gapwatch.js is an init script for tests and benchmarks (GapWatch.cs): it measures, per remote
// tile, the longest gap between decoded video frames of what the tile shows
// (requestVideoFrameCallback on the visible element, following it when a switch of path replaces
// it) and the longest gap in received audio of the tile's audio track (inbound-rtp
// packetsReceived, sampled every 100 ms).
(() => {
  const watched = new WeakSet();
  let tiles = new Map();
  let since = 0;

  const now = () => performance.now();
  const entry = (name) => {
    let e = tiles.get(name);
    if (!e) {
      e = { name, lastFrame: 0, videoGap: 0, frames: 0, lastAudio: 0, audioPackets: -1, audioGap: 0 };
      tiles.set(name, e);
    }
    return e;
  };

  const watchVideo = (video, name) => {
    if (watched.has(video)) return;
    watched.add(video);
    const onFrame = () => {
      if (!video.isConnected) return;
      const e = entry(name);
      const t = now();
      if (since && e.lastFrame && e.lastFrame >= since) e.videoGap = Math.max(e.videoGap, t - e.lastFrame);
      e.lastFrame = t;
      e.frames++;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };

  setInterval(() => {
    for (const tile of document.querySelectorAll('#grid .tile:not(.self)')) {
      const name = tile.querySelector('.tile-name')?.textContent || '';
      const video = tile.querySelector('video.tile-video:not(.incoming)');
      if (video) watchVideo(video, name);
    }
  }, 50);

  setInterval(async () => {
    const pcs = window.__pcs || [];
    const byTrack = new Map();
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.trackIdentifier) byTrack.set(s.trackIdentifier, s.packetsReceived || 0);
      });
    }
    const t = now();
    for (const tile of document.querySelectorAll('#grid .tile:not(.self)')) {
      const name = tile.querySelector('.tile-name')?.textContent || '';
      const video = tile.querySelector('video.tile-video:not(.incoming)');
      const track = video && video.srcObject ? video.srcObject.getAudioTracks()[0] : null;
      const e = entry(name);
      const packets = track ? byTrack.get(track.id) ?? -1 : -1;
      if (packets >= 0 && packets !== e.audioPackets) {
        if (since && e.lastAudio && e.lastAudio >= since) e.audioGap = Math.max(e.audioGap, t - e.lastAudio);
        e.lastAudio = t;
        e.audioPackets = packets;
      }
    }
  }, 100);

  window.__gaps = {
    /** start measures from now on (the last frame before it counts as the start). */
    start() {
      since = now();
      for (const e of tiles.values()) {
        e.videoGap = 0;
        e.audioGap = 0;
        e.lastFrame = e.lastFrame ? since : 0;
        e.lastAudio = e.lastAudio ? since : 0;
      }
    },
    /** read gives each tile's longest gaps since start (a gap still open counts up to now). */
    read() {
      const t = now();
      return [...tiles.values()].map((e) => ({
        name: e.name,
        videoGap: Math.round(Math.max(e.videoGap, e.lastFrame ? t - e.lastFrame : 0)),
        audioGap: Math.round(Math.max(e.audioGap, e.lastAudio ? t - e.lastAudio : 0)),
        frames: e.frames,
      }));
    },
  };
})();
