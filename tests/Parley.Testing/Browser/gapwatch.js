// gapwatch.js is an init script for tests and benchmarks (GapWatch.cs): it measures, per remote
// tile, the longest gap between decoded video frames of what the tile shows
// (requestVideoFrameCallback on the visible element, following it when a switch of path replaces
// it) and the longest gap in the audio of the tile's audio track (when its receiver last played
// out a packet, sampled every 100 ms). A gap counts only the time the page itself ran: a
// heartbeat timer records the page's own stalls (its main thread starved, as happens with several
// pages on two cores, switch or not), which are taken out of each gap and reported apart.
(() => {
  const watched = new WeakSet();
  let tiles = new Map();
  let since = 0;

  const now = () => performance.now();

  // The page's own stalls: [start, end] spans in which the heartbeat did not run (last 2 minutes).
  const BEAT_MS = 20;
  const STALL_MS = 60;
  /** @type {[number, number][]} */
  const stalls = [];
  let beat = now();
  let longestStall = 0;
  setInterval(() => {
    const t = now();
    if (t - beat > STALL_MS) {
      stalls.push([beat + BEAT_MS, t]);
      if (since) longestStall = Math.max(longestStall, t - beat - BEAT_MS);
      while (stalls.length && stalls[0][1] < t - 120_000) stalls.shift();
    }
    beat = t;
  }, BEAT_MS);
  /** ran is how much of [from, to] the page ran, its stalls taken out. */
  const ran = (from, to) => {
    let stalled = 0;
    for (const [a, b] of stalls) stalled += Math.max(0, Math.min(b, to) - Math.max(a, from));
    return to - from - stalled;
  };
  const entry = (name) => {
    let e = tiles.get(name);
    if (!e) {
      e = { name, lastFrame: 0, videoGap: 0, videoGapAt: 0, frames: 0, lastAudio: 0, audioGap: 0, audioGapAt: 0 };
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
      if (since && e.lastFrame && e.lastFrame >= since && ran(e.lastFrame, t) > e.videoGap) {
        e.videoGap = ran(e.lastFrame, t);
        e.videoGapAt = t - since;
      }
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

  // Audio: every 100 ms, the time its receiver last played out a packet (getSynchronizationSources:
  // synchronous and cheap, where getStats of every connection ten times a second would load the
  // very threads that carry the media). A gap is the time between two such packets, less stalls.
  const onClock = (ts) => (ts > 1e11 ? ts - performance.timeOrigin : ts);
  setInterval(() => {
    const receivers = new Map();
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      for (const r of pc.getReceivers()) if (r.track && r.track.kind === 'audio') receivers.set(r.track.id, r);
    }
    for (const tile of document.querySelectorAll('#grid .tile:not(.self)')) {
      const name = tile.querySelector('.tile-name')?.textContent || '';
      const video = tile.querySelector('video.tile-video:not(.incoming)');
      const track = video && video.srcObject ? video.srcObject.getAudioTracks()[0] : null;
      const source = track ? receivers.get(track.id)?.getSynchronizationSources()[0] : undefined;
      if (!source) continue;
      const e = entry(name);
      const t = Math.min(onClock(source.timestamp), now());
      if (t <= e.lastAudio) continue;
      if (since && e.lastAudio && e.lastAudio >= since && ran(e.lastAudio, t) > e.audioGap) {
        e.audioGap = ran(e.lastAudio, t);
        e.audioGapAt = t - since;
      }
      e.lastAudio = t;
    }
  }, 100);

  window.__gaps = {
    /** start measures from now on (the last frame before it counts as the start). */
    start() {
      since = now();
      longestStall = 0;
      for (const e of tiles.values()) {
        e.videoGap = 0;
        e.audioGap = 0;
        e.videoGapAt = 0;
        e.audioGapAt = 0;
        e.lastFrame = e.lastFrame ? since : 0;
        e.lastAudio = e.lastAudio ? since : 0;
      }
    },
    /** read gives each tile's longest gaps since start (a gap still open counts up to now), and the page's longest stall. */
    read() {
      const t = now();
      return [...tiles.values()].map((e) => ({
        name: e.name,
        videoGap: Math.round(Math.max(e.videoGap, e.lastFrame ? ran(e.lastFrame, t) : 0)),
        audioGap: Math.round(Math.max(e.audioGap, e.lastAudio ? ran(e.lastAudio, t) : 0)),
        frames: e.frames,
        videoGapAt: Math.round(e.videoGapAt),
        audioGapAt: Math.round(e.audioGapAt),
        pageStall: Math.round(longestStall),
      }));
    },
  };
})();
