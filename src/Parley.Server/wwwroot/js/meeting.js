// @ts-check
// meeting.js runs one stay in one room. It owns the signaling connection for
// the whole stay, joins, keeps the participants, announces our media state,
// and moves media through one MediaTransport (transport.js) at a time: it
// hands the transport the participants, the local tracks, the ICE servers
// and the messages meant for it, and re-emits what the transport reports, by
// participant. It knows nothing of how the transport moves media, and never
// touches the DOM; the UI listens to its events.
//
// ICE configuration: the servers and policy come from `joined`; fresh TURN
// credentials (`ice-servers`) replace the servers for the transport in use
// and the ones made later. Relay-only mode (a per-user privacy choice)
// forces the policy `relay`, whatever the server's default.

import { Emitter } from './emitter.js';
import { DEFAULT_MODE, TRANSPORTS } from './transport.js';

/** @typedef {import('./signaling.js').SignalingClient} SignalingClient */
/** @typedef {import('./signaling.js').PeerInfo} PeerInfo */
/** @typedef {import('./signaling.js').MediaState} MediaState */
/** @typedef {import('./signaling.js').JoinedMessage} JoinedMessage */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./signaling.js').ErrorMessage} ErrorMessage */
/** @typedef {import('./media.js').LocalMedia} LocalMedia */
/** @typedef {import('./transport.js').MediaTransport} MediaTransport */
/** @typedef {import('./transport.js').TransportFactory} TransportFactory */
/** @typedef {import('./transport.js').ConnectionStatus} ConnectionStatus */

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {string} name
 * @property {MediaState | null} state null until the participant sends one
 * @property {ConnectionStatus} connection the last status the transport reported ('new' until it does)
 */

/**
 * @typedef {object} MeetingEvents
 * @property {Participant} participant-joined
 * @property {Participant} participant-left
 * @property {Participant} participant-state
 * @property {{participant: Participant, stream: MediaStream}} participant-stream the media received from a
 *   participant (the same stream again when it gained a track)
 * @property {{participant: Participant, status: ConnectionStatus}} participant-connection
 * @property {ErrorMessage} server-error an error not tied to a request (e.g. rate-limited)
 * @property {{mode: string, reason: string}} mode the room's media now travels another way (reason: '' or words
 *   for people, e.g. why it went back to peer to peer)
 * @property {{text: string}} notice something about our own media to tell the user ('' when it passed)
 * @property {CloseInfo} disconnected the meeting is over (left, or the connection was lost); every media
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
  #transports;
  /** @type {MediaTransport | null} */
  #transport = null;
  #mode = '';
  /** @type {(() => void)[]} removes the listeners on the transport in use */
  #transportOff = [];
  /**
   * #initiates holds the ids of the participants toward whom we start (in a
   * mesh: make the first offer). At join, those already in the room (listed
   * in `joined`): the newcomer starts. After a switch of transport, those
   * whose id is smaller than ours (docs/protocol.md: the larger id offers).
   * Participants who come later start toward us.
   * @type {Set<string>}
   */
  #initiates = new Set();
  /** @type {(() => void)[]} */
  #unsubscribe = [];
  #over = false;
  #relayOnly;
  #lastState = '';

  /**
   * @param {SignalingClient} signaling a client not connected yet; the Meeting connects it and closes it at the end
   * @param {LocalMedia} media local camera and microphone
   * @param {object} [options]
   * @param {boolean} [options.relayOnly] media only through the TURN relay, whatever the server's default
   * @param {Readonly<Record<string, TransportFactory>>} [options.transports] the transport of each mode; TRANSPORTS by default
   */
  constructor(signaling, media, { relayOnly = false, transports = TRANSPORTS } = {}) {
    super();
    this.#signaling = signaling;
    this.#media = media;
    this.#relayOnly = relayOnly;
    this.#transports = transports;
  }

  /**
   * rtcConfig is the configuration new media connections get: the latest ICE
   * servers and the transport policy in force.
   * @returns {RTCConfiguration}
   */
  get rtcConfig() {
    return { ...this.#rtcConfig };
  }

  /** mode is the kind of media transport in use (a key of the transports), '' before joining. */
  get mode() {
    return this.#mode;
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

    s.on('peer-joined', ({ peer }) => this.#add(peer));
    s.on('peer-left', ({ id }) => this.#remove(id));
    // Messages for the transport in use, whichever it is.
    s.on('offer', (msg) => this.#transport?.handle(msg));
    s.on('answer', (msg) => this.#transport?.handle(msg));
    s.on('candidate', (msg) => this.#transport?.handle(msg));
    s.on('sfu-offer', (msg) => this.#transport?.handle(msg));
    s.on('sfu-answer', (msg) => this.#transport?.handle(msg));
    s.on('sfu-candidate', (msg) => this.#transport?.handle(msg));
    s.on('sfu-close', (msg) => this.#transport?.handle(msg));
    s.on('sfu-status', (msg) => {
      this.#transport?.handle(msg);
      this.emit('notice', { text: msg.status === 'down' ? (msg.message ?? 'The media server is unavailable.') : '' });
    });
    s.on('mode', ({ mode, reason }) => {
      if (mode === this.#mode || !this.#transports[mode]) return;
      this.#useTransport(mode);
      this.emit('mode', { mode, reason: reason ?? '' });
    });
    s.on('state', (msg) => {
      const p = this.participants.get(msg.from);
      if (!p) return;
      p.state = { audio: Boolean(msg.audio), video: Boolean(msg.video), screen: Boolean(msg.screen), hand: Boolean(msg.hand) };
      this.emit('participant-state', p);
    });
    s.on('ice-servers', ({ iceServers }) => {
      // Same policy, fresh credentials.
      this.#rtcConfig = { ...this.#rtcConfig, iceServers };
      this.#transport?.setIceServers(iceServers);
    });
    s.on('error', (msg) => {
      // unknown-peer: the peer left while our message was on its way; harmless.
      if (msg.code !== 'unknown-peer') this.emit('server-error', msg);
    });

    this.#unsubscribe.push(
      this.#media.on('track', ({ kind, track }) => {
        this.#transport?.setTrack(kind, track).catch((err) => console.warn('parley: setTrack failed', err));
        this.#sendState();
      }),
      this.#media.on('change', () => this.#sendState()),
    );

    this.#sendState();
    this.#useTransport(joined.mode && this.#transports[joined.mode] ? joined.mode : DEFAULT_MODE);
    for (const info of joined.peers) {
      this.#initiates.add(info.id);
      this.#add(info);
    }
    return joined;
  }

  /** leave says goodbye to the room and closes every connection. */
  leave() {
    if (this.#over) return;
    this.#signaling.leave();
    this.#end({ code: 1000, reason: '', byClient: true });
  }

  /**
   * useTransport makes the transport of `mode` the one in use. It is the
   * switch point: a server message that changes the room's mode calls it.
   * It closes the transport there was (which ends its connections and
   * streams and reports nothing more), makes the new one with the ICE
   * configuration and the local tracks in force, and adds every participant
   * to it. Who starts toward whom is decided anew on a switch: the larger
   * id, as both sides of each pair can tell without asking. Participants
   * keep their last stream and status until the new transport reports its
   * own.
   * @param {string} mode a key of the transports
   */
  #useTransport(mode) {
    const make = this.#transports[mode];
    if (!make) throw new Error(`parley: no media transport "${mode}"`);
    if (this.#over || !this.self) return;
    const selfId = this.self.id;
    if (this.#transport) {
      this.#closeTransport();
      this.#initiates = new Set([...this.participants.keys()].filter((id) => selfId > id));
    }
    const transport = make({
      selfId,
      config: this.rtcConfig,
      tracks: { audio: this.#media.audioTrack, video: this.#media.videoTrack },
      signal: (msg) => this.#signaling.relay(msg),
    });
    this.#transport = transport;
    this.#mode = mode;
    this.#transportOff.push(
      transport.on('stream', ({ id, stream }) => {
        const participant = this.participants.get(id);
        if (participant) this.emit('participant-stream', { participant, stream });
      }),
      transport.on('notice', (notice) => this.emit('notice', notice)),
      transport.on('connection', ({ id, status }) => {
        const participant = this.participants.get(id);
        if (!participant) return;
        participant.connection = status;
        this.emit('participant-connection', { participant, status });
      }),
    );
    for (const p of this.participants.values()) transport.addPeer(p, this.#initiates.has(p.id));
  }

  #closeTransport() {
    for (const off of this.#transportOff.splice(0)) off();
    this.#transport?.close();
    this.#transport = null;
  }

  #sendState() {
    if (this.#over || !this.self) return;
    const state = this.#media.state;
    const key = JSON.stringify(state);
    if (key === this.#lastState) return;
    this.#lastState = key;
    this.#signaling.sendState(state);
  }

  /**
   * add makes `info` a participant, announces it, then gives it to the
   * transport (which may report its stream at once).
   * @param {PeerInfo} info
   */
  #add(info) {
    if (this.participants.has(info.id)) return;
    /** @type {Participant} */
    const participant = {
      id: info.id,
      name: info.name,
      state: info.state ?? null,
      connection: { state: 'new', noRoute: false, relayOnly: this.#rtcConfig.iceTransportPolicy === 'relay' },
    };
    this.participants.set(info.id, participant);
    this.emit('participant-joined', participant);
    this.#transport?.addPeer(participant, this.#initiates.has(participant.id));
  }

  /** @param {string} id */
  #remove(id) {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    this.#initiates.delete(id);
    this.#transport?.removePeer(id);
    this.emit('participant-left', p);
  }

  /** @param {CloseInfo} info */
  #end(info) {
    const wasOver = this.#over;
    this.#over = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#closeTransport();
    this.participants.clear();
    this.#initiates.clear();
    if (!wasOver && this.self) this.emit('disconnected', info);
    if (this.self) this.clearListeners();
  }
}
