// @ts-check
// mesh.js runs one meeting: it joins through the signaling client, keeps one
// Peer (one RTCPeerConnection) per remote participant, keeps every sender in
// step with the local media, and announces our media state. It never touches
// the DOM; the UI listens to its events.
//
// Who starts: the newcomer, who learns the members from `joined.peers`,
// creates the transceivers and so makes the first offer to each of them
// (impolite); members create their side on `peer-joined` and wait (polite).
//
// ICE configuration: the servers and policy come from `joined`; fresh TURN
// credentials (`ice-servers`) go to every connection and to the ones made
// later. Relay-only mode (a per-user privacy choice) forces the policy
// `relay`, so no other participant learns this device's IP addresses.

import { Emitter } from './emitter.js';
import { Peer } from './peer.js';
import { SignalingClient } from './signaling.js';

/** @typedef {import('./signaling.js').PeerInfo} PeerInfo */
/** @typedef {import('./signaling.js').MediaState} MediaState */
/** @typedef {import('./signaling.js').JoinedMessage} JoinedMessage */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./signaling.js').ErrorMessage} ErrorMessage */
/** @typedef {import('./media.js').LocalMedia} LocalMedia */
/** @typedef {import('./peer.js').PeerState} PeerState */

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {string} name
 * @property {MediaState | null} state null until the participant sends one
 * @property {Peer} peer
 */

/**
 * @typedef {object} MeetingEvents
 * @property {Participant} participant-joined
 * @property {Participant} participant-left
 * @property {Participant} participant-state
 * @property {{participant: Participant, stream: MediaStream}} participant-stream
 * @property {{participant: Participant, state: PeerState}} participant-connection
 * @property {ErrorMessage} server-error an error not tied to a request (e.g. rate-limited)
 * @property {CloseInfo} disconnected the meeting is over (left, or the connection was lost); every peer
 *   connection is closed and no participant-left events precede this one
 */

/**
 * Meeting is one stay in one room.
 *
 * @extends {Emitter<MeetingEvents>}
 */
export class Meeting extends Emitter {
  /** @type {Map<string, Participant>} */
  participants = new Map();
  /** @type {PeerInfo | null} */
  self = null;
  /** @type {RTCConfiguration} */
  #rtcConfig = {};
  #signaling;
  #media;
  /** @type {(() => void)[]} */
  #unsubscribe = [];
  #over = false;
  #relayOnly;

  /**
   * @param {string} url signaling WebSocket URL
   * @param {LocalMedia} media local camera and microphone
   * @param {{relayOnly?: boolean}} [options] relayOnly: media only through the TURN relay, whatever the server's default
   */
  constructor(url, media, { relayOnly = false } = {}) {
    super();
    this.#signaling = new SignalingClient(url);
    this.#media = media;
    this.#relayOnly = relayOnly;
  }

  /**
   * rtcConfig is the configuration new peer connections get: the latest ICE
   * servers and the transport policy in force.
   * @returns {RTCConfiguration}
   */
  get rtcConfig() {
    return { ...this.#rtcConfig };
  }

  /**
   * join connects and joins `room` as `name`. It rejects with a
   * SignalingError (e.g. code `room-full`) or an Error when the server
   * cannot be reached; the Meeting is then over and cannot be reused.
   * @param {string} room
   * @param {string} name
   * @returns {Promise<JoinedMessage>}
   */
  async join(room, name) {
    const s = this.#signaling;
    s.on('close', (info) => this.#end(info));
    await s.connect();
    /** @type {JoinedMessage} */
    let joined;
    try {
      joined = await s.join(room, name);
    } catch (err) {
      this.#over = true;
      s.close();
      throw err;
    }
    this.self = joined.self;
    this.#rtcConfig = {
      iceServers: joined.iceServers ?? [],
      iceTransportPolicy: this.#relayOnly || joined.iceTransportPolicy === 'relay' ? 'relay' : 'all',
    };

    s.on('peer-joined', ({ peer }) => this.#add(peer, false));
    s.on('peer-left', ({ id }) => this.#remove(id));
    s.on('offer', (msg) => this.#relay(msg));
    s.on('answer', (msg) => this.#relay(msg));
    s.on('candidate', (msg) => this.#relay(msg));
    s.on('state', (msg) => {
      const p = this.participants.get(msg.from);
      if (!p) return;
      p.state = { audio: Boolean(msg.audio), video: Boolean(msg.video), screen: Boolean(msg.screen), hand: Boolean(msg.hand) };
      this.emit('participant-state', p);
    });
    s.on('ice-servers', ({ iceServers }) => {
      // Same policy, fresh credentials: for new connections and, through
      // setConfiguration, for the next ICE restart of the existing ones.
      this.#rtcConfig = { ...this.#rtcConfig, iceServers };
      for (const p of this.participants.values()) p.peer.setIceServers(iceServers);
    });
    s.on('error', (msg) => {
      // unknown-peer: the peer left while our message was on its way; harmless.
      if (msg.code !== 'unknown-peer') this.emit('server-error', msg);
    });

    this.#unsubscribe.push(
      this.#media.on('track', ({ kind, track }) => {
        for (const p of this.participants.values()) {
          p.peer.setTrack(kind, track).catch((err) => console.warn('parley: replaceTrack failed', err));
        }
        this.#sendState();
      }),
      this.#media.on('change', () => this.#sendState()),
    );

    this.#sendState();
    for (const info of joined.peers) this.#add(info, true);
    return joined;
  }

  /** leave says goodbye to the room and closes every connection. */
  leave() {
    if (this.#over) return;
    this.#signaling.leave();
    this.#end({ code: 1000, reason: '', byClient: true });
  }

  #lastState = '';

  #sendState() {
    if (this.#over || !this.self) return;
    const state = this.#media.state;
    const key = JSON.stringify(state);
    if (key === this.#lastState) return;
    this.#lastState = key;
    this.#signaling.sendState(state);
  }

  /**
   * @param {PeerInfo} info
   * @param {boolean} initiator true for members listed in `joined`: we are the newcomer
   */
  #add(info, initiator) {
    if (this.participants.has(info.id)) return;
    const peer = new Peer({
      id: info.id,
      polite: !initiator,
      initiator,
      config: this.#rtcConfig,
      tracks: { audio: this.#media.audioTrack, video: this.#media.videoTrack },
      signal: (msg) => this.#signaling.relay(msg),
    });
    /** @type {Participant} */
    const participant = { id: info.id, name: info.name, state: info.state ?? null, peer };
    this.participants.set(info.id, participant);
    peer.on('stream', (stream) => this.emit('participant-stream', { participant, stream }));
    peer.on('connectionstate', (state) => this.emit('participant-connection', { participant, state }));
    this.emit('participant-joined', participant);
  }

  /** @param {string} id */
  #remove(id) {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    p.peer.close();
    this.emit('participant-left', p);
  }

  /** close ends every peer connection without announcing departures. */
  #closeAll() {
    for (const p of this.participants.values()) p.peer.close();
    this.participants.clear();
  }

  /** @param {import('./signaling.js').RelayedMessage} msg */
  #relay(msg) {
    const p = this.participants.get(msg.from);
    if (!p) {
      console.warn(`parley: ${msg.type} from unknown participant ${msg.from}`);
      return;
    }
    p.peer.handle(msg);
  }

  /** @param {CloseInfo} info */
  #end(info) {
    const wasOver = this.#over;
    this.#over = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#closeAll();
    if (!wasOver && this.self) this.emit('disconnected', info);
    if (this.self) this.clearListeners();
  }
}
