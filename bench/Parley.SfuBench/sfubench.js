// sfubench.js is injected into every benchmark page before the app's scripts (AddInitScript),
// after Participant.SmallCamera and before Parley.Testing's probe.js. It changes nothing the app
// does. On the page's clock (Date.now(), the machine's clock, the same in every page and in the
// C# harness) it notes:
//   - when the Join button was clicked (capture phase, before the app sees the click);
//   - when #meeting first showed each data-mode ('mesh', 'sfu');
//   - for every RTCPeerConnection, when it was made, when it reached 'connected', when it was closed;
// and window.__sfuBench.arm(names, options) starts a watch that polls getStats() every
// `pollMs` (50 ms by default) and notes, per name, when that name's tile first decodes video
// as asked (see tileFrames), resolving window.__sfuBench.done with everything once every name has.
(() => {
  /** @type {{pc: RTCPeerConnection, created: number, connected: number, closed: number}[]} */
  const pcs = [];
  const times = { click: 0, mode: /** @type {Record<string, number>} */ ({}) };

  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      const record = { pc: this, created: Date.now(), connected: 0, closed: 0 };
      pcs.push(record);
      this.addEventListener('connectionstatechange', () => {
        if (!record.connected && this.connectionState === 'connected') record.connected = Date.now();
      });
    }
  };
  const nativeClose = NativePeerConnection.prototype.close;
  NativePeerConnection.prototype.close = function (...args) {
    const record = pcs.find((r) => r.pc === this);
    if (record && !record.closed) record.closed = Date.now();
    return nativeClose.apply(this, args);
  };

  document.addEventListener('click', (ev) => {
    const target = /** @type {Element} */ (ev.target);
    if (!times.click && target && target.closest && target.closest('#join')) times.click = Date.now();
  }, true);

  const noteMode = () => {
    const meeting = document.getElementById('meeting');
    const mode = meeting ? meeting.getAttribute('data-mode') : null;
    if (mode && !times.mode[mode]) times.mode[mode] = Date.now();
  };
  new MutationObserver(noteMode).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-mode'] });

  /**
   * tileFrames reads, per remote tile (by the name it shows), the framesDecoded of the video
   * track its media element plays, counting only tracks that arrive on connections made at or
   * after index `from` (so, after arm() with newConnectionsOnly, only the media server's
   * connections, never the mesh's). -1: no such track yet.
   * @param {number} from
   */
  const tileFrames = async (from) => {
    /** @type {Map<string, number>} */
    const byTrack = new Map();
    for (let i = from; i < pcs.length; i++) {
      const { pc } = pcs[i];
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.trackIdentifier) byTrack.set(s.trackIdentifier, s.framesDecoded || 0);
      });
    }
    /** @type {Map<string, {track: string, frames: number}>} */
    const out = new Map();
    for (const tile of document.querySelectorAll('#grid .tile:not(.self)')) {
      const label = tile.querySelector('.tile-name');
      const name = label ? label.textContent || '' : '';
      const video = tile.querySelector('video');
      const stream = video && video.srcObject instanceof MediaStream ? video.srcObject : null;
      let frames = -1;
      let track = '';
      for (const t of stream ? stream.getVideoTracks() : []) {
        const f = byTrack.get(t.id);
        if (f !== undefined && f > frames) {
          frames = f;
          track = t.id;
        }
      }
      out.set(name, { track, frames });
    }
    return out;
  };

  const describePcs = () => pcs.map((r) => ({ created: r.created, connected: r.connected, closed: r.closed, state: r.pc.connectionState }));

  window.__sfuBench = {
    /**
     * arm starts watching the tiles of `names`. A name counts once the video track in its tile
     * has decoded `minRise` frames more than when the watch first saw that track (with
     * newConnectionsOnly: more than 0, on a connection made after arm(): a fresh counter).
     * @param {string[]} names
     * @param {{newConnectionsOnly?: boolean, minRise?: number, pollMs?: number, timeoutMs?: number}} [options]
     */
    arm(names, options = {}) {
      const fresh = Boolean(options.newConnectionsOnly);
      const from = fresh ? pcs.length : 0;
      const minRise = options.minRise ?? 1;
      const pollMs = options.pollMs ?? 50;
      const armed = Date.now();
      const deadline = armed + (options.timeoutMs ?? 60_000);
      /** @type {Record<string, {track: string, frames: number}>} */
      const baseline = {};
      /** @type {Record<string, number>} */
      const seen = {};
      let polls = 0;
      let pollTotalMs = 0;
      const finish = (complete) => ({
        complete, armed, from, click: times.click, mode: { ...times.mode }, seen: { ...seen },
        at: Date.now(), polls, pollMeanMs: polls ? pollTotalMs / polls : 0, pcs: describePcs(),
      });
      this.done = new Promise((resolve) => {
        const tick = async () => {
          const started = Date.now();
          let now;
          try {
            now = await tileFrames(from);
          } catch (err) {
            now = new Map();
          }
          const at = Date.now();
          polls++;
          pollTotalMs += at - started;
          for (const name of names) {
            if (seen[name]) continue;
            const tile = now.get(name);
            if (!tile || tile.frames < 0) continue;
            const base = baseline[name];
            if (!base || base.track !== tile.track) {
              baseline[name] = { track: tile.track, frames: fresh ? 0 : tile.frames };
            }
            if (tile.frames >= baseline[name].frames + minRise) seen[name] = at;
          }
          if (names.every((n) => seen[n])) resolve(finish(true));
          else if (at > deadline) resolve(finish(false));
          else setTimeout(tick, pollMs);
        };
        tick();
      });
      return armed;
    },
    /** @type {Promise<unknown> | null} */
    done: null,
    /** timeline is what the page noted so far, without a watch. */
    timeline() {
      return { click: times.click, mode: { ...times.mode }, pcs: describePcs() };
    },
  };
})();
