// @ts-check
// paths.js moves a meeting's media between the room's two ways of carrying it
// (transport.js: peer to peer, or through the media server) without a gap.
// When the server switches the room (a `mode` message with a new epoch), the
// new transport is built beside the old one, with the same local tracks; each
// participant's tile moves to the new transport's stream only once that
// stream decodes (its frames and packets advance), and the old connection to them is
// closed only when the server says the switch is over (`switch-done`) and
// not kept for them, because one side of the pair lacks the new path. A
// participant's screen moves with their camera: it is shown from the path
// their tile is, and the new transport sends our own screen from its start.
// It never touches the DOM.

import { Emitter } from './emitter.js';

/** @typedef {import('./transport.js').MediaTransport} MediaTransport */
/** @typedef {import('./transport.js').TransportFactory} TransportFactory */
/** @typedef {import('./transport.js').TransportContext} TransportContext */
/** @typedef {import('./transport.js').TransportMessage} TransportMessage */
/** @typedef {import('./transport.js').ConnectionStatus} ConnectionStatus */
/** @typedef {import('./transport.js').RemotePeer} RemotePeer */
/** @typedef {import('./transport.js').VideoLevel} VideoLevel */
/** @typedef {import('./media.js').SendKind} SendKind */

/**
 * REPORT_AFTER_MS is how long a switch may take on this side: then the
 * client reports whom it still misses on the new path, so the server keeps
 * the old connection to them (the server's own deadline is a little longer).
 */
export const REPORT_AFTER_MS = 25_000;

/** POLL_MS is how often, during a switch, the new path is asked whether it plays each participant yet. */
const POLL_MS = 150;

/**
 * SETTLE_POLL_MS is how often, after a switch that kept old connections, the
 * new path is asked whether it now plays those participants; SETTLE_FOR_MS
 * is how long it keeps asking.
 */
const SETTLE_POLL_MS = 1_000;
const SETTLE_FOR_MS = 120_000;

/**
 * @typedef {object} PathsEvents
 * @property {{id: string, stream: MediaStream}} stream the stream to show for participant `id`, from the path in use for them
 * @property {{id: string, stream: MediaStream | null}} screen the stream of participant `id`'s screen, from that same path
 * @property {{id: string, status: ConnectionStatus}} connection how that path is doing for them
 * @property {{text: string}} notice something to tell the user about our own media
 * @property {{epoch: number, missing: string[]}} ready this side of the switch is over: everyone but `missing` plays on the new path
 */

/**
 * @typedef {object} Path
 * @property {MediaTransport} transport
 * @property {(() => void)[]} off
 * @property {Map<string, MediaStream>} streams the latest stream of each participant on this path
 * @property {Map<string, MediaStream | null>} screens the latest screen stream of each participant on this path
 * @property {Map<string, ConnectionStatus>} statuses
 */

/**
 * @typedef {object} PathsOptions
 * @property {Readonly<Record<string, TransportFactory>>} factories the transport of each mode
 * @property {() => TransportContext} context what a new transport starts with: ICE configuration, local tracks, signal
 * @property {(id: string) => boolean} initiates whether we start toward participant `id` on a new transport
 * @property {(id: string) => {audio: boolean, video: boolean}} expects what participant `id` says they send
 */

/**
 * MediaPaths holds the transport of the room's mode, and during a switch (or
 * for the pairs a switch kept on it) the one of the other mode.
 *
 * @extends {Emitter<PathsEvents>}
 */
export class MediaPaths extends Emitter {
  /** @type {Map<string, Path>} */
  #paths = new Map();
  /** @type {Map<string, string>} participant id → the mode whose stream they are shown from */
  #source = new Map();
  /** @type {Map<string, RemotePeer>} */
  #peers = new Map();
  /** @type {Map<string, VideoLevel>} participant id → how large their video is shown */
  #levels = new Map();
  /** @type {{epoch: number, to: string, timer: number, poll: number, reported: boolean} | null} */
  #switch = null;
  /** @type {{epoch: number, kept: Set<string>, poll: number, until: number} | null} after a switch, those still on the old path */
  #settle = null;
  #options;
  #closed = false;
  mode = '';
  epoch = 0;

  /** @param {PathsOptions} options */
  constructor(options) {
    super();
    this.#options = options;
  }

  /**
   * start makes the transport of the room's mode at join.
   * @param {string} mode
   * @param {number} epoch
   */
  start(mode, epoch) {
    this.mode = mode;
    this.epoch = epoch;
    this.#path(mode);
  }

  /**
   * switchTo follows the server's switch of the room to `mode`, unless
   * `epoch` is not newer than the one we know (a late message of an earlier
   * switch). True when it was taken.
   * @param {string} mode
   * @param {number} epoch
   * @returns {boolean}
   */
  switchTo(mode, epoch) {
    if (this.#closed || epoch <= this.epoch || !this.#options.factories[mode]) return false;
    this.epoch = epoch;
    this.mode = mode;
    this.#endSwitch();
    this.#endSettle();
    const path = this.#path(mode);
    for (const peer of this.#peers.values()) path.transport.addPeer(peer, this.#options.initiates(peer.id));
    // The new path sends each picture at the size it is shown, from the start.
    for (const [id, level] of this.#levels) path.transport.setView?.(id, level);
    this.#switch = {
      epoch,
      to: mode,
      timer: setTimeout(() => this.#report(), REPORT_AFTER_MS),
      poll: setInterval(() => void this.#poll(), POLL_MS),
      reported: false,
    };
    console.debug(`parley: switching to ${mode} (epoch ${epoch})`);
    for (const id of this.#peers.keys()) this.#evaluate(id);
    this.#maybeReady();
    return true;
  }

  /**
   * done ends the switch of `epoch`: the old connection to everyone but
   * `keep` closes, and a transport that carries nobody any more goes.
   * @param {number} epoch
   * @param {string[]} keep
   */
  done(epoch, keep) {
    if (epoch !== this.epoch) return;
    this.#endSwitch();
    this.#endSettle();
    const kept = new Set(keep);
    for (const [mode, path] of [...this.#paths]) {
      if (mode === this.mode) continue;
      let carries = false;
      for (const id of this.#peers.keys()) {
        if (kept.has(id)) {
          carries = true;
          continue;
        }
        if (this.#source.get(id) === mode) this.#adopt(id, this.mode);
        path.transport.removePeer(id);
      }
      if (!carries) this.#closePath(mode);
    }
    if (kept.size > 0 && this.#paths.size > 1) {
      this.#settle = {
        epoch,
        kept,
        poll: setInterval(() => void this.#settlePoll(), SETTLE_POLL_MS),
        until: performance.now() + SETTLE_FOR_MS,
      };
    }
  }

  /**
   * addPeer adds a participant who came: only to the transport of the room's
   * mode (someone who joins during a switch goes straight to the new path).
   * @param {RemotePeer} peer
   * @param {boolean} initiator
   */
  addPeer(peer, initiator) {
    if (this.#closed || this.#peers.has(peer.id)) return;
    this.#peers.set(peer.id, peer);
    this.#source.set(peer.id, this.mode);
    this.#paths.get(this.mode)?.transport.addPeer(peer, initiator);
  }

  /** @param {string} id */
  removePeer(id) {
    this.#peers.delete(id);
    this.#levels.delete(id);
    this.#source.delete(id);
    for (const path of this.#paths.values()) {
      path.transport.removePeer(id);
      path.streams.delete(id);
      path.screens.delete(id);
      path.statuses.delete(id);
    }
    this.#maybeReady();
  }

  /**
   * stateChanged re-checks, during a switch, whether participant `id` now
   * plays on the new path (they turned their camera off, say).
   * @param {string} id
   */
  stateChanged(id) {
    this.#evaluate(id);
    this.#maybeReady();
  }

  /** @param {TransportMessage} msg */
  handle(msg) {
    for (const path of this.#paths.values()) path.transport.handle(msg);
  }

  /**
   * setTrack sends `track` on every transport there is: during a switch both
   * paths carry our media, and a mute, a new camera or a screen share reaches both.
   * @param {SendKind} kind
   * @param {MediaStreamTrack | null} track
   */
  async setTrack(kind, track) {
    await Promise.all([...this.#paths.values()].map((p) => p.transport.setTrack(kind, track)));
  }

  /** @param {RTCIceServer[]} iceServers */
  setIceServers(iceServers) {
    for (const path of this.#paths.values()) path.transport.setIceServers(iceServers);
  }

  /** networkChanged tells every path's transport this device's network changed. */
  networkChanged() {
    for (const path of this.#paths.values()) path.transport.networkChanged();
  }

  /** switching is true from a switch's start until the old path is let go (getStats then waits: it costs CPU the switch needs). */
  get switching() {
    return this.#switch !== null || this.#settle !== null;
  }

  /**
   * receiveStats reads the statistics of the path participant `id` is shown from.
   * @param {string} id
   * @returns {Promise<RTCStatsReport | null>}
   */
  async receiveStats(id) {
    const path = this.#paths.get(this.#source.get(id) ?? this.mode);
    return path ? path.transport.receiveStats(id) : null;
  }

  /**
   * sendStats reads the statistics of every connection that sends our media, on every path.
   * @returns {Promise<RTCStatsReport[]>}
   */
  async sendStats() {
    const all = await Promise.all([...this.#paths.values()].map((p) => p.transport.sendStats()));
    return all.flat();
  }

  /**
   * setView tells the transports how large participant `id`'s video is shown.
   * @param {string} id
   * @param {VideoLevel} level
   */
  setView(id, level) {
    this.#levels.set(id, level);
    for (const path of this.#paths.values()) path.transport.setView?.(id, level);
  }

  close() {
    this.#closed = true;
    this.#endSwitch();
    this.#endSettle();
    for (const mode of [...this.#paths.keys()]) this.#closePath(mode);
    this.#peers.clear();
    this.#source.clear();
    this.#levels.clear();
    this.clearListeners();
  }

  /**
   * path is the transport of `mode`, made (with the local tracks and ICE
   * configuration in force now) when there is none.
   * @param {string} mode
   * @returns {Path}
   */
  #path(mode) {
    const existing = this.#paths.get(mode);
    if (existing) return existing;
    const transport = this.#options.factories[mode](this.#options.context());
    /** @type {Path} */
    const path = { transport, off: [], streams: new Map(), screens: new Map(), statuses: new Map() };
    this.#paths.set(mode, path);
    path.off.push(
      transport.on('stream', ({ id, stream }) => {
        path.streams.set(id, stream);
        if (this.#source.get(id) === mode) this.emit('stream', { id, stream });
      }),
      transport.on('screen', ({ id, stream }) => {
        path.screens.set(id, stream);
        if (this.#source.get(id) === mode) this.emit('screen', { id, stream });
      }),
      transport.on('connection', ({ id, status }) => {
        path.statuses.set(id, status);
        if (this.#source.get(id) === mode) this.emit('connection', { id, status });
      }),
      transport.on('notice', (notice) => this.emit('notice', notice)),
    );
    return path;
  }

  #endSettle() {
    if (!this.#settle) return;
    clearInterval(this.#settle.poll);
    this.#settle = null;
  }

  /**
   * settlePoll: after a switch that kept old connections, each participant
   * kept there whom the new path now plays moves over, and the server hears
   * it (a `switch-ready` of the same epoch), so it can close those pairs too.
   */
  async #settlePoll() {
    const s = this.#settle;
    const path = s && this.#paths.get(this.mode);
    if (!s || !path) return;
    let moved = false;
    for (const id of [...s.kept]) {
      if (!this.#peers.has(id)) {
        s.kept.delete(id);
        continue;
      }
      if (!path.streams.has(id)) continue;
      const wants = this.#wants(id);
      const plays = (!wants.video && !wants.audio) || (await path.transport.playing(id, wants));
      if (this.#settle !== s) return;
      if (plays) {
        s.kept.delete(id);
        if (this.#source.get(id) !== this.mode) this.#adopt(id, this.mode);
        moved = true;
      }
    }
    if (moved) {
      console.debug(`parley: after the switch (epoch ${s.epoch}) the new path plays more; missing ${s.kept.size}`);
      this.emit('ready', { epoch: s.epoch, missing: [...s.kept] });
    }
    if (s.kept.size === 0 || performance.now() > s.until) this.#endSettle();
  }

  #endSwitch() {
    if (!this.#switch) return;
    clearTimeout(this.#switch.timer);
    clearInterval(this.#switch.poll);
    this.#switch = null;
  }

  /**
   * evaluate moves participant `id` to the new path at once when they send
   * nothing to wait for; otherwise poll does, once it plays there.
   * @param {string} id
   */
  #evaluate(id) {
    const to = this.#switch?.to;
    if (!to || this.#source.get(id) === to || !this.#peers.has(id)) return;
    const wants = this.#wants(id);
    if (!wants.video && !wants.audio) this.#adopt(id, to);
  }

  /**
   * poll moves each participant still on the old path to the new one once
   * the new path decodes their media of every kind they send: frames and
   * packets that advance, not just a track that has heard a first packet (a
   * picture waits for its first keyframe). Until then the old path plays.
   */
  async #poll() {
    const s = this.#switch;
    const path = s && this.#paths.get(s.to);
    if (!s || !path) return;
    for (const id of this.#peers.keys()) {
      if (this.#source.get(id) === s.to || !path.streams.has(id)) continue;
      const wants = this.#wants(id);
      if (!wants.video && !wants.audio) this.#adopt(id, s.to);
      else if ((await path.transport.playing(id, wants)) && this.#switch === s) this.#adopt(id, s.to);
    }
    if (this.#switch === s) this.#maybeReady();
  }

  /**
   * wants is what the new path must play of participant `id` before their
   * tile moves: what they send, less a video we do not show (a tile out of
   * sight, a page in the background gets none through the media server).
   * @param {string} id
   */
  #wants(id) {
    const sent = this.#options.expects(id);
    return { audio: sent.audio, video: sent.video && this.#levels.get(id) !== 'off' };
  }

  /**
   * @param {string} id
   * @param {string} mode
   */
  #adopt(id, mode) {
    this.#source.set(id, mode);
    const path = this.#paths.get(mode);
    const stream = path?.streams.get(id);
    if (stream) this.emit('stream', { id, stream });
    this.emit('screen', { id, stream: path?.screens.get(id) ?? null });
    const status = path?.statuses.get(id);
    if (status) this.emit('connection', { id, status });
  }

  #maybeReady() {
    const to = this.#switch?.to;
    if (to && [...this.#peers.keys()].every((id) => this.#source.get(id) === to)) this.#report();
  }

  #report() {
    const s = this.#switch;
    if (!s || s.reported || this.#closed) return;
    s.reported = true;
    clearTimeout(s.timer);
    const missing = [...this.#peers.keys()].filter((id) => this.#source.get(id) !== s.to);
    console.debug(`parley: switch to ${s.to} (epoch ${s.epoch}) ready; missing ${missing.length}`);
    this.emit('ready', { epoch: s.epoch, missing });
  }

  /** @param {string} mode */
  #closePath(mode) {
    const path = this.#paths.get(mode);
    if (!path) return;
    this.#paths.delete(mode);
    for (const off of path.off) off();
    path.transport.close();
  }
}
