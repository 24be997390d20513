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

/** PING_INTERVAL_MS is how often the client sends an application ping (with `seen`, once joined). */
export const PING_INTERVAL_MS = 5_000;

/**
 * IDLE_TIMEOUT_MS is how long the client waits without hearing anything from
 * the server (not even a pong) before it gives the connection up as dead, and
 * (once joined) reconnects to resume.
 */
export const IDLE_TIMEOUT_MS = 15_000;

/** RECONNECT_BASE_MS and RECONNECT_CAP_MS shape the reconnect backoff (see reconnectDelay). */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_CAP_MS = 10_000;

/** OUTBOX_WHILE_AWAY bounds the messages kept to send once a lost connection is resumed. */
const OUTBOX_WHILE_AWAY = 200;

/** RESUME_FAILED is the close code a client reports when its stay could not be resumed: it must join afresh. */
export const RESUME_FAILED = 4002;

/**
 * reconnectDelay is how long to wait before reconnect attempt `attempt`
 * (0-based): the first at once, then exponential backoff with full jitter
 * (a random delay up to RECONNECT_BASE_MS·2^attempt, at most RECONNECT_CAP_MS),
 * so a server that comes back is not hit by every client at the same instant.
 * @param {number} attempt
 * @param {() => number} [random] a source of numbers in [0, 1)
 * @returns {number} milliseconds
 */
export function reconnectDelay(attempt, random = Math.random) {
  if (attempt <= 0) return 0;
  return Math.floor(random() * Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt));
}

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
 * @property {string} [resume] the token that resumes this stay after a lost connection
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
/** @typedef {{type: 'peer-away', id: string, away: boolean}} PeerAwayMessage a participant's connection was lost (they may come back), or they are back */
/** @typedef {{type: 'resumed', room: string, self: PeerInfo, resume: string, replayed: number}} ResumedMessage */
/** @typedef {{attempt: number, delay: number}} ReconnectingInfo the connection was lost; attempt `attempt` comes in `delay` ms */
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
 * @property {{ms: number, windowMs: number, serverRestarted: boolean}} [away] for RESUME_FAILED: how long
 *   the connection was lost before the refusal, the server's resume window (`joined.resumeWindow`),
 *   and whether the server said it was going away (1001) meanwhile
 */

/**
 * @typedef {object} SignalingEvents
 * @property {PeerJoinedMessage} peer-joined
 * @property {PeerLeftMessage} peer-left
 * @property {PeerAwayMessage} peer-away
 * @property {ReconnectingInfo} reconnecting the connection was lost; the client reconnects by itself and resumes
 * @property {ResumedMessage} resumed the stay carries on over a new connection; what was missed follows
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
 * SignalingClient speaks protocol v1: connect, join, relay, state, leave.
 * Once joined it outlives a lost WebSocket: it reconnects by itself, with
 * backoff, and resumes the stay (docs/protocol.md, "Resume"), so listeners
 * see every message once, in order, and what is sent meanwhile goes out
 * after. Once closed it stays closed; make a new one to join again.
 *
 * @extends {Emitter<SignalingEvents>}
 */
export class SignalingClient extends Emitter {
  /** @type {WebSocket | null} */
  #ws = null;
  #nextId = 1;
  /** @type {Map<string, {resolve: (m: any) => void, reject: (e: Error) => void, timer: number, stay?: {room: string, name: string}}>} */
  #pending = new Map();
  /** @type {string | null} id of the `join` request waiting for `joined` */
  #joinId = null;
  #closed = false;
  #closeRequested = false;
  #pingTimer = 0;
  #lastHeard = 0;
  /** @type {{room: string, name: string} | null} the stay, once joined */
  #stay = null;
  #token = '';
  /** #seen counts the messages of the stay received (pongs and `resumed` aside); null while not counting */
  #seen = /** @type {number | null} */ (null);
  /** @type {object[] | null} messages to send once resumed; non-null while reconnecting */
  #away = null;
  #attempt = 0;
  #retryTimer = 0;
  /** since when the connection has been lost, and whether the server said it was going away (1001) */
  #lostAt = 0;
  #serverWentAway = false;
  /** the server's resume window, from `joined` */
  #windowMs = 30_000;

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
    return new Promise((resolve, reject) => this.#open(resolve, reject));
  }

  /** reconnecting is true while the connection is lost and the client is getting it back. */
  get reconnecting() {
    return this.#away !== null;
  }

  /**
   * reconnectNow makes the next reconnect attempt at once (the network came
   * back: the browser's `online` event); nothing when not reconnecting.
   */
  reconnectNow() {
    if (this.#away === null || this.#closed || this.#ws) return;
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#retry();
  }

  /**
   * open opens a WebSocket: the first, or one that resumes the stay.
   * @param {() => void} resolve
   * @param {(err: Error) => void} reject
   */
  #open(resolve, reject) {
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    let opened = false;
    const timer = setTimeout(() => {
      if (!opened) {
        reject(new Error('The signaling server did not answer in time.'));
        ws.close();
        this.#lost(ws, 1006, 'connect timeout');
      }
    }, CONNECT_TIMEOUT_MS);
    ws.addEventListener('open', () => {
      opened = true;
      clearTimeout(timer);
      this.#lastHeard = Date.now();
      clearInterval(this.#pingTimer);
      this.#pingTimer = setInterval(() => this.#keepAlive(), PING_INTERVAL_MS);
      resolve();
    });
    ws.addEventListener('message', (ev) => {
      if (ws === this.#ws) this.#onMessage(ev);
    });
    ws.addEventListener('close', (ev) => {
      clearTimeout(timer);
      if (!opened) reject(new Error('Could not connect to the signaling server.'));
      this.#lost(ws, ev.code, ev.reason);
    });
    // 'error' is always followed by 'close', which does the work.
  }

  /**
   * lost handles the end of WebSocket `ws`: once joined, a connection that
   * was lost (not closed by us, nor refused by the server's policy) is
   * reconnected and the stay resumed; anything else finishes the client.
   * @param {WebSocket} ws
   * @param {number} code
   * @param {string} reason
   */
  #lost(ws, code, reason) {
    if (ws !== this.#ws || this.#closed) return;
    this.#ws = null;
    const resumable = this.#stay !== null && this.#token !== '' && !this.#closeRequested && ![1000, 1008, 1009].includes(code);
    if (!resumable) {
      this.#finish(code, reason, this.#closeRequested);
      return;
    }
    if (this.#away === null) {
      this.#away = [];
      this.#lostAt = Date.now();
      this.#serverWentAway = false;
    }
    // A server going away (1001, a deploy) is still there for a moment: do not try it at once.
    if (code === 1001) {
      this.#serverWentAway = true;
      this.#attempt = Math.max(this.#attempt, 1);
    }
    this.#seenWhileAway();
    const delay = reconnectDelay(this.#attempt);
    this.emit('reconnecting', { attempt: this.#attempt, delay });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#retry(), delay);
  }

  /** seenWhileAway stops counting: messages on a new connection count again from `resumed`. */
  #seenWhileAway() {
    if (this.#seen !== null) this.#resumeSeen = this.#seen;
    this.#seen = null;
  }

  #resumeSeen = 0;

  /** retry opens a new WebSocket and asks to resume the stay. */
  #retry() {
    if (this.#closed || this.#ws || !this.#stay) return;
    this.#attempt++;
    const stay = this.#stay;
    this.#open(
      () => {
        const id = this.#newId();
        this.#resumeId = id;
        this.#sendNow({ type: 'join', id, version: PROTOCOL_VERSION, room: stay.room, name: stay.name, features: FEATURES, resume: { token: this.#token, seen: this.#resumeSeen } });
      },
      () => {},
    );
  }

  /** @type {string} the id of the resuming `join` */
  #resumeId = '';

  /**
   * resumed carries on after `resumed`: count again, send what waited.
   * @param {ResumedMessage} msg
   */
  #resumed(msg) {
    this.#token = String(msg.resume ?? '');
    this.#seen = this.#resumeSeen;
    this.#attempt = 0;
    this.#resumeId = '';
    const waiting = this.#away ?? [];
    this.#away = null;
    for (const m of waiting) this.#sendNow(m);
    this.emit('resumed', msg);
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
      this.#pending.set(id, { resolve, reject, timer, stay: { room, name } });
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
    this.#sendNow({ type: 'leave' });
    // The server closes; if it does not within a moment, close from our side.
    setTimeout(() => this.close(), 2000);
  }

  /** close closes the connection from the client side. */
  close() {
    this.#closeRequested = true;
    if (this.#ws && this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(1000);
    this.#finish(1000, '', true);
  }

  /**
   * drop closes the WebSocket as a lost connection would end (for tests and
   * for a connection known to be dead): once joined, the client resumes.
   */
  drop() {
    const ws = this.#ws;
    if (!ws) return;
    ws.close(4000, 'dropped');
    this.#lost(ws, 1006, 'dropped');
  }

  /** @returns {string} */
  #newId() {
    return String(this.#nextId++);
  }

  /**
   * send sends `msg`; while the connection is being resumed it waits, in
   * order (at most OUTBOX_WHILE_AWAY, the oldest dropped first).
   * @param {object} msg
   */
  #send(msg) {
    if (this.#away !== null) {
      this.#away.push(msg);
      if (this.#away.length > OUTBOX_WHILE_AWAY) this.#away.shift();
      return;
    }
    this.#sendNow(msg);
  }

  /** @param {object} msg */
  #sendNow(msg) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(msg));
  }

  #keepAlive() {
    const ws = this.#ws;
    if (!ws) return;
    if (Date.now() - this.#lastHeard > IDLE_TIMEOUT_MS) {
      // Dead connection: the close handshake could take minutes, so give up now.
      ws.close(4000, 'idle');
      this.#lost(ws, 1006, 'The server stopped answering.');
      return;
    }
    this.#sendNow(this.#seen === null ? { type: 'ping' } : { type: 'ping', seen: this.#seen });
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
    if (this.#seen !== null && msg.type !== 'pong') this.#seen++;
    switch (msg.type) {
      case 'joined':
        if (this.#joinId) {
          this.#stay = this.#pending.get(this.#joinId)?.stay ?? null;
          this.#token = typeof msg.resume === 'string' ? msg.resume : '';
          this.#windowMs = typeof msg.resumeWindow === 'number' ? msg.resumeWindow * 1000 : 30_000;
          this.#seen = 1;
          this.#settle(this.#joinId, msg, null);
        }
        this.#joinId = null;
        return;
      case 'resumed':
        if (this.#resumeId) this.#resumed(msg);
        return;
      case 'error':
        if (msg.ref && msg.ref === this.#resumeId) {
          // The stay is over (too long away, or the server restarted): the user must join afresh.
          this.#resumeId = '';
          this.#away = null;
          const away = { ms: Date.now() - this.#lostAt, windowMs: this.#windowMs, serverRestarted: this.#serverWentAway };
          this.#finish(RESUME_FAILED, String(msg.message ?? 'resume-failed'), false, away);
          return;
        }
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
      case 'peer-away':
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
   * @param {CloseInfo['away']} [away]
   */
  #finish(code, reason, byClient, away) {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#retryTimer);
    if (this.#ws && this.#ws.readyState < WebSocket.CLOSING) this.#ws.close(1000);
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, null, new Error('The connection to the server closed.'));
    }
    this.emit('close', away ? { code, reason, byClient, away } : { code, reason, byClient });
    this.clearListeners();
  }
}
