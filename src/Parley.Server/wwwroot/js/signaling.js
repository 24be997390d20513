// @ts-check
// signaling.js is the client side of the Parley signaling protocol v1
// (docs/protocol.md). It owns one WebSocket, never touches the DOM, and hands
// every incoming message to listeners synchronously, in arrival order; a
// listener that does asynchronous work must keep its own order (peer.js does,
// with a promise chain per peer).

import { Emitter } from './emitter.js';

/** PROTOCOL_VERSION is the protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;

/** FEATURES are what this client can do beyond the basics: `sfu`, media through the media server. */
export const FEATURES = Object.freeze(['sfu']);

/** PING_INTERVAL_MS is how often the client sends an application ping. */
export const PING_INTERVAL_MS = 20_000;

/**
 * IDLE_TIMEOUT_MS is how long the client waits without hearing anything from
 * the server (not even a pong) before it gives the connection up as dead.
 */
export const IDLE_TIMEOUT_MS = 45_000;

/** CONNECT_TIMEOUT_MS bounds the WebSocket opening handshake. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** JOIN_TIMEOUT_MS bounds the wait for `joined` after sending `join`. */
export const JOIN_TIMEOUT_MS = 10_000;

/**
 * @typedef {object} MediaState
 * @property {boolean} audio microphone on (sending and not muted)
 * @property {boolean} video camera on
 * @property {boolean} screen sharing the screen
 * @property {boolean} hand hand raised
 * @property {number} [handAt] when the hand went up (server time, Unix ms), on received states only
 */

/**
 * @typedef {object} PeerInfo
 * @property {string} id server-made participant id
 * @property {string} name display name (plain text, never HTML)
 * @property {MediaState} [state] last `state` the participant sent, if any
 */

/**
 * @typedef {object} JoinedMessage
 * @property {'joined'} type
 * @property {string} room
 * @property {PeerInfo} self
 * @property {PeerInfo[]} peers
 * @property {RTCIceServer[]} [iceServers]
 * @property {RTCIceTransportPolicy} [iceTransportPolicy]
 * @property {RoomMode} [mode] how the room's media travels (a server without an SFU may omit it: mesh)
 * @property {number} [epoch] the number of the room's last switch between mesh and SFU
 * @property {ChatEntry[]} [chat] the room's recent chat, oldest first
 */

/** @typedef {'mesh' | 'sfu'} RoomMode */
/** @typedef {'publish' | 'subscribe'} SfuPc one of the two connections to the media server */
/** @typedef {{mid: string, peer: string, kind: 'audio' | 'video' | 'screen'}} SfuStreamInfo whose media an m-line carries (screen: their shared screen) */
/** @typedef {{type: 'mode', mode: RoomMode, epoch: number, reason?: string}} ModeMessage the room's media now travels this way */
/** @typedef {{type: 'switch-done', epoch: number, keep: string[]}} SwitchDoneMessage the switch is over: keep the old path only to these */
/** @typedef {{type: 'sfu-offer', pc: SfuPc, sdp: string, streams?: SfuStreamInfo[], fresh?: boolean}} SfuOfferMessage */
/** @typedef {{type: 'sfu-answer', pc: SfuPc, sdp: string}} SfuAnswerMessage */
/** @typedef {{type: 'sfu-candidate', pc: SfuPc, candidate: RTCIceCandidateInit | null}} SfuCandidateMessage */
/** @typedef {{type: 'sfu-close', pc: SfuPc, reason?: string}} SfuCloseMessage the media server ended one connection */
/** @typedef {{type: 'sfu-status', status: 'up' | 'down', message?: string}} SfuStatusMessage the media server was lost or is back */
/** @typedef {SfuOfferMessage | SfuAnswerMessage | SfuCandidateMessage | SfuCloseMessage | SfuStatusMessage} SfuMessage */

/** @typedef {{type: 'peer-joined', peer: PeerInfo}} PeerJoinedMessage */
/** @typedef {{type: 'peer-left', id: string}} PeerLeftMessage */
/** @typedef {{type: 'offer' | 'answer', from: string, sdp: string}} DescriptionMessage */
/** @typedef {{type: 'candidate', from: string, candidate: RTCIceCandidateInit | null}} CandidateMessage */
/** @typedef {{type: 'state', from: string} & MediaState} StateMessage */
/** @typedef {{type: 'error', code: string, message: string, ref?: string}} ErrorMessage */
/**
 * @typedef {object} ChatEntry a chat message as the server stamped it
 * @property {string} from sender's id
 * @property {string} name sender's name (plain text)
 * @property {string} text the message (plain text, never HTML)
 * @property {number} ts server time, Unix ms
 * @property {string} [to] the recipient's id, on a direct message
 */
/** @typedef {{type: 'chat'} & ChatEntry} ChatMessage */
/** @typedef {{type: 'pong'}} PongMessage */
/** @typedef {{type: 'ice-servers', iceServers: RTCIceServer[]}} IceServersMessage fresh TURN credentials */

/** @typedef {DescriptionMessage | CandidateMessage} RelayedMessage */

/**
 * @typedef {{type: 'offer' | 'answer', to: string, sdp: string}
 *   | {type: 'candidate', to: string, candidate: RTCIceCandidateInit | null}
 *   | {type: 'sfu-offer', pc: 'publish', sdp: string, fresh?: boolean}
 *   | {type: 'sfu-answer', pc: 'subscribe', sdp: string}
 *   | {type: 'sfu-candidate', pc: SfuPc, candidate: RTCIceCandidateInit | null}
 *   | {type: 'sfu-view', streams: {peer: string, video: 'high' | 'low' | 'off'}[]}
 *   | {type: 'sfu-restart', pc: 'subscribe'}} OutgoingRelay
 */

/**
 * @typedef {object} CloseInfo
 * @property {number} code WebSocket close code (1006 when the connection died)
 * @property {string} reason close reason from the server, may be empty
 * @property {boolean} byClient true when this client asked to close
 */

/**
 * @typedef {object} SignalingEvents
 * @property {PeerJoinedMessage} peer-joined
 * @property {PeerLeftMessage} peer-left
 * @property {DescriptionMessage} offer
 * @property {DescriptionMessage} answer
 * @property {CandidateMessage} candidate
 * @property {StateMessage} state
 * @property {ChatMessage} chat
 * @property {IceServersMessage} ice-servers
 * @property {ModeMessage} mode
 * @property {SwitchDoneMessage} switch-done
 * @property {SfuOfferMessage} sfu-offer
 * @property {SfuAnswerMessage} sfu-answer
 * @property {SfuCandidateMessage} sfu-candidate
 * @property {SfuCloseMessage} sfu-close
 * @property {SfuStatusMessage} sfu-status
 * @property {ErrorMessage} error an error not answered to a pending request
 * @property {CloseInfo} close the connection is gone; the client is finished
 */

/**
 * SignalingError is a protocol `error` answered to one of our requests.
 */
export class SignalingError extends Error {
  /**
   * @param {string} code stable machine-readable code, e.g. `room-full`
   * @param {string} message human-readable text from the server
   */
  constructor(code, message) {
    super(message);
    this.name = 'SignalingError';
    this.code = code;
  }
}

/**
 * signalingUrl returns the `/ws` URL on the page's own origin.
 * @param {Location} loc
 * @returns {string}
 */
export function signalingUrl(loc) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

/**
 * SignalingClient speaks protocol v1 over one WebSocket: connect, join,
 * relay, state, leave. Once closed it stays closed; make a new one to retry.
 *
 * @extends {Emitter<SignalingEvents>}
 */
export class SignalingClient extends Emitter {
  /** @type {WebSocket | null} */
  #ws = null;
  #nextId = 1;
  /** @type {Map<string, {resolve: (m: any) => void, reject: (e: Error) => void, timer: number}>} */
  #pending = new Map();
  /** @type {string | null} id of the `join` request waiting for `joined` */
  #joinId = null;
  #closed = false;
  #closeRequested = false;
  #pingTimer = 0;
  #lastHeard = 0;

  /** @param {string} url WebSocket URL of the signaling endpoint */
  constructor(url) {
    super();
    this.url = url;
  }

  /** closed is true once the connection is gone for good. */
  get closed() {
    return this.#closed;
  }

  /**
   * connect opens the WebSocket. It rejects if the socket cannot be opened
   * within CONNECT_TIMEOUT_MS.
   * @returns {Promise<void>}
   */
  connect() {
    if (this.#ws) return Promise.reject(new Error('connect called twice'));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.#ws = ws;
      let opened = false;
      const timer = setTimeout(() => {
        if (!opened) {
          reject(new Error('The signaling server did not answer in time.'));
          this.#finish(1006, 'connect timeout', false);
        }
      }, CONNECT_TIMEOUT_MS);
      ws.addEventListener('open', () => {
        opened = true;
        clearTimeout(timer);
        this.#lastHeard = Date.now();
        this.#pingTimer = setInterval(() => this.#keepAlive(), PING_INTERVAL_MS);
        resolve();
      });
      ws.addEventListener('message', (ev) => this.#onMessage(ev));
      ws.addEventListener('close', (ev) => {
        clearTimeout(timer);
        if (!opened) reject(new Error('Could not connect to the signaling server.'));
        this.#finish(ev.code, ev.reason, this.#closeRequested);
      });
      // 'error' is always followed by 'close', which does the work.
    });
  }

  /**
   * join sends `join` and resolves with `joined`, or rejects with a
   * SignalingError (e.g. `room-full`); after a failed join the connection
   * stays open and join may be called again.
   * @param {string} room
   * @param {string} name
   * @returns {Promise<JoinedMessage>}
   */
  join(room, name) {
    const id = this.#newId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        if (this.#joinId === id) this.#joinId = null;
        reject(new Error('The server did not answer the join request in time.'));
      }, JOIN_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#joinId = id;
      this.#send({ type: 'join', id, version: PROTOCOL_VERSION, room, name, features: FEATURES });
    });
  }

  /**
   * relay sends an offer, answer or candidate to one peer, or an SFU
   * negotiation message to the media server.
   * @param {OutgoingRelay} msg
   */
  relay(msg) {
    this.#send(msg);
  }

  /**
   * sendState tells the room our media state.
   * @param {MediaState} state
   */
  sendState(state) {
    this.#send({ type: 'state', audio: state.audio, video: state.video, screen: state.screen, hand: state.hand });
  }

  /**
   * sendChat sends a chat message to the room, or only to participant `to`;
   * the server echoes it back stamped, which is the sender's confirmation.
   * @param {string} text
   * @param {string} [to]
   * @returns {string} the message's id, which an error about it names as `ref`
   */
  sendChat(text, to) {
    const id = `chat-${this.#newId()}`;
    this.#send(to ? { type: 'chat', id, text, to } : { type: 'chat', id, text });
    return id;
  }

  /**
   * switchReady tells the server this side of the room's switch `epoch` is
   * over: it receives everyone on the new path but `missing`.
   * @param {number} epoch
   * @param {string[]} missing
   */
  switchReady(epoch, missing) {
    this.#send({ type: 'switch-ready', epoch, missing });
  }

  /** leave says goodbye; the server answers by closing the socket (1000). */
  leave() {
    this.#closeRequested = true;
    this.#send({ type: 'leave' });
    // The server closes; if it does not within a moment, close from our side.
    setTimeout(() => this.close(), 2000);
  }

  /** close closes the connection from the client side. */
  close() {
    this.#closeRequested = true;
    if (this.#ws && this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(1000);
    this.#finish(1000, '', true);
  }

  /** @returns {string} */
  #newId() {
    return String(this.#nextId++);
  }

  /** @param {object} msg */
  #send(msg) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(msg));
  }

  #keepAlive() {
    if (Date.now() - this.#lastHeard > IDLE_TIMEOUT_MS) {
      // Dead connection: the close handshake could take minutes, so give up now.
      this.#ws?.close(4000, 'idle');
      this.#finish(1006, 'The server stopped answering.', false);
      return;
    }
    this.#send({ type: 'ping' });
  }

  /** @param {MessageEvent} ev */
  #onMessage(ev) {
    if (this.#closed) return;
    this.#lastHeard = Date.now();
    if (typeof ev.data !== 'string') return;
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn('parley: ignoring a frame that is not JSON');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'joined':
        if (this.#joinId) this.#settle(this.#joinId, msg, null);
        this.#joinId = null;
        return;
      case 'error':
        if (typeof msg.ref === 'string' && this.#pending.has(msg.ref)) {
          if (this.#joinId === msg.ref) this.#joinId = null;
          this.#settle(msg.ref, null, new SignalingError(String(msg.code), String(msg.message ?? '')));
        } else {
          this.emit('error', msg);
        }
        return;
      case 'pong':
        return;
      case 'peer-joined':
      case 'peer-left':
      case 'offer':
      case 'answer':
      case 'candidate':
      case 'state':
      case 'chat':
      case 'mode':
      case 'switch-done':
      case 'sfu-offer':
      case 'sfu-answer':
      case 'sfu-candidate':
      case 'sfu-close':
      case 'sfu-status':
        this.emit(msg.type, msg);
        return;
      case 'ice-servers':
        if (Array.isArray(msg.iceServers)) this.emit('ice-servers', msg);
        return;
      default:
        // Forward compatibility: newer servers may send types we do not know.
        return;
    }
  }

  /**
   * @param {string} id
   * @param {any} value
   * @param {Error | null} error
   */
  #settle(id, value, error) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /**
   * @param {number} code
   * @param {string} reason
   * @param {boolean} byClient
   */
  #finish(code, reason, byClient) {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, null, new Error('The connection to the server closed.'));
    }
    this.emit('close', { code, reason, byClient });
    this.clearListeners();
  }
}
