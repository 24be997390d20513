// @ts-check
// meeting.js runs one stay in one room. It owns the signaling connection for
// the whole stay, joins, keeps the participants, announces our media state,
// and moves media through one MediaTransport (transport.js) at a time: it
// hands the transport the participants, the local tracks, the ICE servers
// and the messages meant for it, and re-emits what the transport reports, by
// participant. It knows nothing of how the transport moves media, and never
// touches the DOM; the UI listens to its events.
//
// Screen share: our own screen is a third local track (LocalMedia.screenTrack)
// that every transport sends from its start; a participant's screen is shown
// (participant-screen) only while their `state` says they share and their
// screen's track has arrived, and hidden again when either ends.
//
// ICE configuration: the servers and policy come from `joined`; fresh TURN
// credentials (`ice-servers`) replace the servers for the transport in use
// and the ones made later. Relay-only mode (a per-user privacy choice)
// forces the policy `relay`, whatever the server's default.

import { Emitter } from './emitter.js';
import { MediaPaths } from './paths.js';
import { receiveQuality, sendQuality } from './quality.js';
import { DEFAULT_MODE, TRANSPORTS } from './transport.js';

/** @typedef {import('./signaling.js').SignalingClient} SignalingClient */
/** @typedef {import('./signaling.js').PeerInfo} PeerInfo */
/** @typedef {import('./signaling.js').MediaState} MediaState */
/** @typedef {import('./signaling.js').JoinedMessage} JoinedMessage */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./signaling.js').ErrorMessage} ErrorMessage */
/** @typedef {import('./signaling.js').ChatEntry} ChatEntry */
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
 * @property {MediaStream | null} screen their screen as shown now: while they share and its track has arrived
 * @property {boolean} away their connection to the server was lost and they may come back (their media may still flow)
 */

/**
 * @typedef {object} MeetingEvents
 * @property {Participant} participant-joined
 * @property {Participant} participant-left
 * @property {Participant} participant-state
 * @property {Participant} participant-away the participant's `away` changed
 * @property {import('./signaling.js').ReconnectingInfo} reconnecting our connection to the server was lost; the
 *   media goes on while it comes back by itself
 * @property {{}} resumed our connection to the server is back, with everything missed meanwhile
 * @property {{participant: Participant, stream: MediaStream}} participant-stream the media received from a
 *   participant (the same stream again when it gained a track)
 * @property {{participant: Participant, stream: MediaStream | null}} participant-screen the participant's shared
 *   screen to show (the same stream again when its track changed), or null: they stopped sharing
 * @property {{participant: Participant, status: ConnectionStatus}} participant-connection
 * @property {ErrorMessage} server-error an error not tied to a request (e.g. rate-limited)
 * @property {{mode: string, reason: string}} mode the room's media now travels another way (reason: '' or words
 *   for people, e.g. why it went back to peer to peer)
 * @property {ChatEntry} chat a chat message: from the room's history at join, then as they come (our own included, as the server stamped them)
 * @property {ErrorMessage} chat-error the server refused one of our chat messages (`ref`: what sendChat returned)
 * @property {boolean} hand our own hand went up (true) or down
 * @property {{text: string}} notice something about our own media to tell the user ('' when it passed)
 * @property {CloseInfo} disconnected the meeting is over (left, or the connection was lost); every media
 *   connection is closed and no participant-left events precede this one
 */

/** CHAT_KEPT is how many chat messages a stay keeps (the server's history holds 100). */
const CHAT_KEPT = 500;

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
  /** @type {MediaPaths | null} the transports of the room's media, one per mode during a switch */
  #paths = null;
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
  #hand = false;
  /** @type {ChatEntry[]} the chat seen in this stay, oldest first */
  chat = [];
  /** @type {Map<string, MediaStream>} the stream each participant is shown with */
  #streams = new Map();
  /** @type {Map<string, import('./quality.js').Counters>} each participant's counters at the last quality sample */
  #counters = new Map();
  /** @type {Map<string, MediaStream | null>} participant id → the stream of their screen m-line, as the paths report it */
  #screens = new Map();

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

  /** mode is the room's mode, the kind of media transport in use (a key of the transports), '' before joining. */
  get mode() {
    return this.#paths?.mode ?? '';
  }

  /**
   * setView tells the media how large participant `id`'s video is shown:
   * through the media server a thumbnail gets the small picture, a large tile
   * the large one, and a tile out of sight none.
   * @param {string} id
   * @param {import('./transport.js').VideoLevel} level
   */
  setView(id, level) {
    this.#paths?.setView(id, level);
  }

  /** hand is true while our hand is raised. */
  get hand() {
    return this.#hand;
  }

  /**
   * setHand raises or lowers our hand.
   * @param {boolean} up
   */
  setHand(up) {
    if (this.#hand === up) return;
    this.#hand = up;
    this.#sendState();
    this.emit('hand', up);
  }

  /**
   * sendChat sends `text` to the room, or to participant `to` alone. It
   * shows once the server echoes it (a `chat` event).
   * @param {string} text
   * @param {string} [to]
   * @returns {string} the message's id ('' when not in the meeting); a `chat-error` names it
   */
  sendChat(text, to) {
    if (this.#over || !this.self) return '';
    return this.#signaling.sendChat(text, to);
  }

  /**
   * quality measures the media we receive from participant `id` since the
   * last call for them (the first call sets the baseline); null when nothing
   * comes from them yet.
   * @param {string} id
   * @returns {Promise<import('./quality.js').ReceiveQuality | null>}
   */
  async quality(id) {
    const stream = this.#streams.get(id);
    const report = stream ? await this.#paths?.receiveStats(id) : null;
    if (!stream || !report) return null;
    const { quality, counters } = receiveQuality(report, new Set(stream.getTracks().map((t) => t.id)), this.#counters.get(id) ?? null);
    this.#counters.set(id, counters);
    return quality;
  }

  /** switching is true while the room's media moves between mesh and media server. */
  get switching() {
    return this.#paths?.switching ?? false;
  }

  /**
   * uplink measures how our own media leaves.
   * @returns {Promise<import('./quality.js').SendQuality>}
   */
  async uplink() {
    return sendQuality((await this.#paths?.sendStats()) ?? []);
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
    s.on('peer-away', ({ id, away }) => {
      const p = this.participants.get(id);
      if (!p || p.away === Boolean(away)) return;
      p.away = Boolean(away);
      this.emit('participant-away', p);
    });
    s.on('reconnecting', (info) => this.emit('reconnecting', info));
    s.on('resumed', () => this.emit('resumed', {}));
    // Messages for the transport in use, whichever it is.
    s.on('offer', (msg) => this.#paths?.handle(msg));
    s.on('answer', (msg) => this.#paths?.handle(msg));
    s.on('candidate', (msg) => this.#paths?.handle(msg));
    s.on('sfu-offer', (msg) => this.#paths?.handle(msg));
    s.on('sfu-answer', (msg) => this.#paths?.handle(msg));
    s.on('sfu-candidate', (msg) => this.#paths?.handle(msg));
    s.on('sfu-close', (msg) => this.#paths?.handle(msg));
    s.on('sfu-status', (msg) => {
      this.#paths?.handle(msg);
      this.emit('notice', { text: msg.status === 'down' ? (msg.message ?? 'The media server is unavailable.') : '' });
    });
    s.on('mode', ({ mode, epoch, reason }) => {
      const selfId = this.self?.id ?? '';
      // On a switch both sides of a pair can tell who starts without asking: the larger id.
      const initiates = new Set([...this.participants.keys()].filter((id) => selfId > id));
      const before = this.#initiates;
      this.#initiates = initiates;
      if (!this.#paths?.switchTo(mode, epoch ?? 0)) {
        this.#initiates = before;
        return;
      }
      this.emit('mode', { mode, reason: reason ?? '' });
    });
    s.on('switch-done', ({ epoch, keep }) => this.#paths?.done(epoch, keep ?? []));
    s.on('state', (msg) => {
      const p = this.participants.get(msg.from);
      if (!p) return;
      p.state = {
        audio: Boolean(msg.audio),
        video: Boolean(msg.video),
        screen: Boolean(msg.screen),
        hand: Boolean(msg.hand),
        handAt: typeof msg.handAt === 'number' ? msg.handAt : undefined,
      };
      this.emit('participant-state', p);
      this.#showScreen(p, false);
      this.#paths?.stateChanged(p.id);
    });
    s.on('chat', (msg) => {
      const { from, name, text, ts, to } = msg;
      if (typeof text !== 'string' || typeof from !== 'string') return;
      this.#addChat({ from, name: String(name ?? ''), text, ts: Number(ts) || Date.now(), to });
    });
    s.on('ice-servers', ({ iceServers }) => {
      // Same policy, fresh credentials.
      this.#rtcConfig = { ...this.#rtcConfig, iceServers };
      this.#paths?.setIceServers(iceServers);
    });
    s.on('error', (msg) => {
      // unknown-peer: the peer left while our message was on its way; harmless.
      if (msg.ref?.startsWith('chat-')) this.emit('chat-error', msg);
      else if (msg.code !== 'unknown-peer') this.emit('server-error', msg);
    });

    this.#unsubscribe.push(
      this.#media.on('track', ({ kind, track }) => {
        this.#paths?.setTrack(kind, track).catch((err) => console.warn('parley: setTrack failed', err));
        this.#sendState();
      }),
      this.#media.on('change', () => this.#sendState()),
    );

    for (const entry of Array.isArray(joined.chat) ? joined.chat : []) this.#addChat(entry);
    this.#sendState();
    this.#startPaths(joined.mode && this.#transports[joined.mode] ? joined.mode : DEFAULT_MODE, joined.epoch ?? 0);
    for (const info of joined.peers) {
      this.#initiates.add(info.id);
      this.#add(info);
    }
    return joined;
  }

  /** reconnecting is true while our connection to the server is lost and coming back. */
  get reconnecting() {
    return this.#signaling.reconnecting;
  }

  /**
   * networkChanged is for this device's network coming back or changing: a
   * lost connection to the server is tried again at once, and the media
   * connections restart ICE (the path they used may be gone).
   */
  networkChanged() {
    this.#signaling.reconnectNow();
    this.#paths?.networkChanged();
  }

  /** leave says goodbye to the room and closes every connection. */
  leave() {
    if (this.#over) return;
    this.#signaling.leave();
    this.#end({ code: 1000, reason: '', byClient: true });
  }

  /**
   * startPaths makes the media paths at join, in the room's mode. Later
   * switches (a `mode` message) go through MediaPaths, which builds the new
   * transport beside the old one and moves each participant over once they
   * play there; what the paths report is re-emitted by participant.
   * @param {string} mode a key of the transports
   * @param {number} epoch
   */
  #startPaths(mode, epoch) {
    if (this.#over || !this.self) return;
    const selfId = this.self.id;
    const paths = new MediaPaths({
      factories: this.#transports,
      context: () => ({
        selfId,
        config: this.rtcConfig,
        tracks: { audio: this.#media.audioTrack, video: this.#media.videoTrack, screen: this.#media.screenTrack },
        signal: (msg) => this.#signaling.relay(msg),
      }),
      initiates: (id) => this.#initiates.has(id),
      expects: (id) => {
        const state = this.participants.get(id)?.state;
        // Before the first `state` arrives, trust the media: assume both.
        return { audio: state ? state.audio : true, video: state ? state.video : true };
      },
    });
    this.#paths = paths;
    paths.on('stream', ({ id, stream }) => {
      const participant = this.participants.get(id);
      if (!participant) return;
      if (this.#streams.get(id) !== stream) this.#counters.delete(id);
      this.#streams.set(id, stream);
      this.emit('participant-stream', { participant, stream });
    });
    paths.on('screen', ({ id, stream }) => {
      const participant = this.participants.get(id);
      if (!participant) return;
      this.#screens.set(id, stream);
      this.#showScreen(participant, true);
    });
    paths.on('connection', ({ id, status }) => {
      const participant = this.participants.get(id);
      if (!participant) return;
      participant.connection = status;
      this.emit('participant-connection', { participant, status });
    });
    paths.on('notice', (notice) => this.emit('notice', notice));
    paths.on('ready', ({ epoch, missing }) => this.#signaling.switchReady(epoch, missing));
    paths.start(mode, epoch);
  }

  /**
   * showScreen emits participant-screen when what to show of `p`'s screen
   * changed: the stream while their state says they share and it has a
   * track, else null. `again` re-emits a stream shown already (its track
   * changed).
   * @param {Participant} p
   * @param {boolean} again
   */
  #showScreen(p, again) {
    const stream = this.#screens.get(p.id) ?? null;
    const shown = p.state?.screen && stream && stream.getVideoTracks().length > 0 ? stream : null;
    if (shown === p.screen && !(again && shown)) return;
    if (Boolean(shown) !== Boolean(p.screen)) console.debug(`parley: screen of ${p.id} ${shown ? 'shown' : 'hidden'}`);
    p.screen = shown;
    this.emit('participant-screen', { participant: p, stream: shown });
  }

  #sendState() {
    if (this.#over || !this.self) return;
    const state = { ...this.#media.state, hand: this.#hand };
    const key = JSON.stringify(state);
    if (key === this.#lastState) return;
    this.#lastState = key;
    this.#signaling.sendState(state);
  }

  /**
   * addChat keeps a chat message (the stay's chat is bounded like the server's history) and announces it.
   * @param {ChatEntry} entry
   */
  #addChat(entry) {
    this.chat.push(entry);
    if (this.chat.length > CHAT_KEPT) this.chat.splice(0, this.chat.length - CHAT_KEPT);
    this.emit('chat', entry);
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
      screen: null,
      away: false,
    };
    this.participants.set(info.id, participant);
    this.emit('participant-joined', participant);
    this.#paths?.addPeer(participant, this.#initiates.has(participant.id));
  }

  /** @param {string} id */
  #remove(id) {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    this.#streams.delete(id);
    this.#counters.delete(id);
    this.#screens.delete(id);
    this.#initiates.delete(id);
    this.#paths?.removePeer(id);
    this.emit('participant-left', p);
  }

  /** @param {CloseInfo} info */
  #end(info) {
    const wasOver = this.#over;
    this.#over = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#paths?.close();
    this.#paths = null;
    this.participants.clear();
    this.#screens.clear();
    this.#initiates.clear();
    if (!wasOver && this.self) this.emit('disconnected', info);
    if (this.self) this.clearListeners();
  }
}
