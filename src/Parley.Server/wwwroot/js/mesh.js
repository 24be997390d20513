// @ts-check
// mesh.js is the peer-to-peer MediaTransport (transport.js): one Peer (one
// RTCPeerConnection, peer.js) per remote participant, every sender kept in
// step with the local media. It never touches the DOM.
//
// Who starts is the Meeting's `initiator` flag: at join, the newcomer, who
// learns the members from `joined.peers`, creates the transceivers and so
// makes the first offer to each of them, as the impolite side; members add
// it on `peer-joined` and wait, as the polite side. After a switch of
// transport the larger id starts.
//
// ICE configuration: every Peer is made with the configuration in force (the
// servers and policy from `joined`, with the freshest TURN credentials);
// fresh credentials go to every Peer there is too. Relay-only mode (a
// per-user privacy choice) is the policy `relay`, so no other participant
// learns this device's IP addresses.

import { Emitter } from './emitter.js';
import { Peer } from './peer.js';
import { advancing } from './stats.js';

/** @typedef {import('./transport.js').MediaTransport} MediaTransport */
/** @typedef {import('./transport.js').TransportContext} TransportContext */
/** @typedef {import('./transport.js').TransportEvents} TransportEvents */
/** @typedef {import('./transport.js').TransportMessage} TransportMessage */
/** @typedef {import('./transport.js').LocalTracks} LocalTracks */
/** @typedef {import('./transport.js').SendKind} SendKind */
/** @typedef {import('./transport.js').RemotePeer} RemotePeer */

/**
 * MeshTransport sends our media to every participant and receives theirs,
 * each over a connection of its own.
 *
 * @extends {Emitter<TransportEvents>}
 * @implements {MediaTransport}
 */
export class MeshTransport extends Emitter {
  /** @type {Map<string, Peer>} */
  #peers = new Map();
  /** @type {RTCConfiguration} */
  #config;
  /** @type {LocalTracks} */
  #tracks;
  #signal;
  #closed = false;

  /** @param {TransportContext} context */
  constructor({ config, tracks, signal }) {
    super();
    this.#config = { ...config };
    this.#tracks = { screen: null, ...tracks };
    this.#signal = signal;
  }

  /**
   * @param {RemotePeer} remote
   * @param {boolean} initiator true when we start: we offer first, and are impolite
   */
  addPeer({ id }, initiator) {
    if (this.#closed || this.#peers.has(id)) return;
    const peer = new Peer({
      id,
      polite: !initiator,
      initiator,
      config: this.#config,
      tracks: this.#tracks,
      signal: this.#signal,
    });
    this.#peers.set(id, peer);
    const relayOnly = this.#config.iceTransportPolicy === 'relay';
    peer.on('stream', (stream) => this.emit('stream', { id, stream }));
    peer.on('screen', (stream) => this.emit('screen', { id, stream }));
    peer.on('connectionstate', (state) => {
      // 'closed' comes only from close(), which stops the events first.
      if (state === 'closed') return;
      this.emit('connection', { id, status: { state, noRoute: peer.noRoute, relayOnly, reached: peer.reached } });
    });
  }

  /** @param {string} id */
  removePeer(id) {
    this.#peers.get(id)?.close();
    this.#peers.delete(id);
  }

  /**
   * handle gives a relayed offer, answer or candidate to the Peer it is from.
   * @param {TransportMessage} msg
   */
  handle(msg) {
    if (msg.type !== 'offer' && msg.type !== 'answer' && msg.type !== 'candidate') return;
    const peer = this.#peers.get(msg.from);
    if (!peer) {
      console.warn(`parley: ${msg.type} from unknown participant ${msg.from}`);
      return;
    }
    peer.handle(msg);
  }

  /**
   * setTrack puts `track` on every connection's sender of its kind, and on
   * the connections made later.
   * @param {SendKind} kind
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<void>}
   */
  async setTrack(kind, track) {
    this.#tracks[kind] = track;
    await Promise.all(
      [...this.#peers.values()].map((peer) =>
        peer.setTrack(kind, track).catch((err) => console.warn('parley: replaceTrack failed', err)),
      ),
    );
  }

  /**
   * setIceServers makes `iceServers` the ones of the connections made later
   * and, through setConfiguration, of the next ICE restart of every one there is.
   * @param {RTCIceServer[]} iceServers
   */
  setIceServers(iceServers) {
    this.#config = { ...this.#config, iceServers };
    for (const peer of this.#peers.values()) peer.setIceServers(iceServers);
  }

  /** networkChanged restarts ICE on every connection: the path each one used may be gone. */
  networkChanged() {
    for (const peer of this.#peers.values()) peer.networkChanged();
  }

  /** @type {Map<string, number>} */
  #counts = new Map();

  /**
   * @param {string} id
   * @param {{audio: boolean, video: boolean}} wants
   * @returns {Promise<boolean>}
   */
  playing(id, wants) {
    const peer = this.#peers.get(id);
    return advancing(peer?.pc, peer ? peer.remoteStream.getTracks() : [], wants, this.#counts);
  }

  /** close ends every connection; the transport cannot be reused. */
  /** @param {string} id */
  async receiveStats(id) {
    const peer = this.#peers.get(id);
    return peer && peer.pc.connectionState !== 'closed' ? peer.pc.getStats() : null;
  }

  async sendStats() {
    const open = [...this.#peers.values()].filter((p) => p.pc.connectionState !== 'closed');
    return Promise.all(open.map((p) => p.pc.getStats()));
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.clearListeners();
  }
}
