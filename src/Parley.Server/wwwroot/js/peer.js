// @ts-check
// peer.js holds one RTCPeerConnection to one remote participant and runs
// perfect negotiation on it, as in the webrtc/samples "perfect negotiation"
// example: makingOffer, ignoreOffer, a polite and an impolite side, and the
// argument-free setLocalDescription(). It never touches the DOM.
//
// Media uses three stable transceivers, audio, video (the camera), then video
// again (the shared screen), made once by the initiating side and adopted by
// the other side from the first offer, in that order. All stay sendrecv for
// the life of the call, even without a local track, so a receive-only
// participant still receives, and turning the camera off and on, or starting
// and stopping a screen share, is sender.replaceTrack() with no
// renegotiation. (A screen added as a new track would renegotiate at every
// share, and a late offer could collide with an ICE restart; one m-line more
// up front costs a few hundred bytes of SDP and nothing on the wire.)
//
// When ICE fails, either side restarts it (restartIce(): the new offer goes
// through perfect negotiation like any other) and the Peer reports
// 'retrying' until the connection works again or the restart fails too, when
// it reports 'failed' and gives up. A connection that stays 'disconnected'
// for DISCONNECTED_RESTART_MS is restarted by the impolite side alone (one
// restart offer, no glare). Chrome says 'disconnected' only some 6 s after
// the packets stop, so the Peer watches the flow itself too (the bytes its
// candidate pairs received, once a second): a steady flow that stops for STALL_MS
// reports 'disconnected' at once, and the impolite side restarts ICE then
// (the old path keeps being used until a new one works, so a blip that
// heals by itself costs nothing). A network change (networkChanged()) restarts it
// at once from the side that saw the change, and revives one given up. A
// first attempt that never connects (a peer whose candidates never come:
// no pair to check, so the browser never says 'failed') counts as a failure
// after CONNECT_TIMEOUT_MS, so it is retried once and then given up on,
// like any other. Gathering that ends without a single
// local candidate counts as a failure too: it is what relay-only mode gets
// from a TURN server that refuses it or cannot be reached, and the browser
// never reports that as 'failed' (the connection just stays 'new').

import { Emitter } from './emitter.js';
import { SCREEN_ENCODING, tuneScreenSender } from './screen.js';

/** @typedef {import('./signaling.js').OutgoingRelay} OutgoingRelay */
/** @typedef {import('./signaling.js').RelayedMessage} RelayedMessage */
/** @typedef {import('./media.js').SendKind} SendKind */

/**
 * PeerState is the RTCPeerConnectionState, plus 'retrying': the connection
 * failed since it last worked and an ICE restart is under way. 'failed'
 * means the restarts failed too: the Peer has given up.
 * @typedef {RTCPeerConnectionState | 'retrying'} PeerState
 */

/**
 * @typedef {object} PeerEvents
 * @property {MediaStream} stream the remote media stream (microphone and camera) got a new track
 * @property {MediaStream} screen the remote screen's stream, once its m-line has a track (it plays only while they share)
 * @property {PeerState} connectionstate
 */

/** MAX_ICE_RESTARTS bounds the ICE restarts after a failure, before giving up. */
const MAX_ICE_RESTARTS = 1;

/**
 * RESTART_TIMEOUT_MS is how long an ICE restart may take to connect before
 * the Peer gives up on it. Chrome fails unanswered checks after about 15 s by
 * itself; this bounds the restarts that never get that far (no answer, no
 * candidate pair to check), which would otherwise say "retrying" for ever.
 */
const RESTART_TIMEOUT_MS = 30_000;

/**
 * CONNECT_TIMEOUT_MS bounds a first attempt: a connection that has never
 * connected by then is treated as failed (restarted once, then given up).
 * Two pages on one machine connect in well under a second, a relayed call
 * under load in a few; and it is later than Chrome's own failure of checks
 * that go unanswered (about 15 s), so this only catches the attempts that
 * have nothing to check.
 */
const CONNECT_TIMEOUT_MS = 20_000;

/**
 * DISCONNECTED_RESTART_MS is how long a connection may stay 'disconnected'
 * (no answer to consent checks: a Wi-Fi roam, a blip) before the impolite
 * side restarts ICE, rather than wait for the browser to call it 'failed'
 * (Chrome: about 30 s later). Chrome says 'disconnected' after about 2.5 s
 * without an answer, so a path that is gone is replaced about 5 s after it
 * went; one that only blipped has come back by itself before.
 */
const DISCONNECTED_RESTART_MS = 2_000;

/**
 * STALL_MS is how long a steady flow of packets may stop before the Peer
 * calls the connection interrupted. Audio alone (even muted: silence is
 * sent) brings fifty packets a second.
 */
const STALL_MS = 2_500;

/** WATCH_EVERY_MS is how often the Peer reads how many bytes its connection received. */
const WATCH_EVERY_MS = 1_000;

/**
 * MEDIA_BYTES is how much a reading must have grown to count as media
 * flowing (muted audio alone brings some 4 kB a second): a stop counts as a
 * stall only after a flow. A pair with no media at all (nobody has a
 * device) gets only the odd control packet, and is never called stalled.
 */
const MEDIA_BYTES = 2_000;

/**
 * GIVE_UP_DELAY_MS is how long a failure must last before the Peer gives up:
 * Chrome reports 'failed' for a moment while it applies an ICE restart.
 */
const GIVE_UP_DELAY_MS = 1_500;

/** SLOTS is the order of the stable transceivers: the screen is the second video. */
const SLOTS = /** @type {const} */ (['audio', 'video', 'screen']);

/**
 * slotKind is the media kind of a slot's m-line.
 * @param {SendKind} slot
 * @returns {'audio' | 'video'}
 */
const slotKind = (slot) => (slot === 'audio' ? 'audio' : 'video');

/**
 * Peer is the connection to one remote participant.
 *
 * @extends {Emitter<PeerEvents>}
 */
export class Peer extends Emitter {
  /** @type {Record<SendKind, RTCRtpTransceiver | null>} */
  #transceivers = { audio: null, video: null, screen: null };
  /** @type {Record<SendKind, MediaStreamTrack | null>} */
  #tracks;
  /** @type {(msg: OutgoingRelay) => void} */
  #signal;
  #makingOffer = false;
  #ignoreOffer = false;
  #closed = false;
  /** #restarts counts ICE restarts since the connection last worked. */
  #restarts = 0;
  /** #troubled is true when the connection has failed since it last worked. */
  #troubled = false;
  /** @type {PeerState} */
  #state = 'new';
  #restartTimer = 0;
  #giveUpTimer = 0;
  #connectTimer = 0;
  #disconnectedTimer = 0;
  /** #reached is true once the connection has worked. */
  #reached = false;
  #watchTimer = 0;
  /** the flow watch: bytes received at the last reading, whether media flowed before it, when they last grew */
  #flow = { bytes: -1, flowing: false, grewAt: 0, stalled: false };
  /** #localCandidates counts the candidates of the current gathering. */
  #localCandidates = 0;
  /** #noRoute is true when the last gathering ended without any local candidate. */
  #noRoute = false;
  /** @type {Promise<void>} the chain that keeps incoming messages in order */
  #chain = Promise.resolve();
  /** @type {(RTCIceCandidateInit | null)[]} candidates waiting for a remote description */
  #pendingCandidates = [];

  /**
   * @param {object} options
   * @param {string} options.id remote participant id
   * @param {boolean} options.polite the polite side yields when offers collide
   * @param {boolean} options.initiator whether this side creates the transceivers and so makes the first offer
   * @param {RTCConfiguration} options.config ICE servers and policy from `joined`
   * @param {{audio: MediaStreamTrack | null, video: MediaStreamTrack | null, screen?: MediaStreamTrack | null}} options.tracks local tracks to send
   * @param {(msg: OutgoingRelay) => void} options.signal sends a message to the remote peer through the server
   */
  constructor({ id, polite, initiator, config, tracks, signal }) {
    super();
    this.id = id;
    this.polite = polite;
    this.#tracks = { screen: null, ...tracks };
    this.#signal = signal;
    /** remoteStream collects the microphone and camera tracks received from this peer. */
    this.remoteStream = new MediaStream();
    /** screenStream holds the track of this peer's screen m-line (muted while they do not share). */
    this.screenStream = new MediaStream();
    this.pc = new RTCPeerConnection(config);

    this.pc.onnegotiationneeded = () => this.#negotiate();
    this.pc.onicegatheringstatechange = () => {
      if (this.pc.iceGatheringState !== 'gathering') return;
      this.#localCandidates = 0;
      this.#noRoute = false;
    };
    this.pc.onicecandidate = ({ candidate }) => {
      // Firefox ends each generation with an empty candidate (then the null): not a route.
      if (candidate?.candidate) this.#localCandidates++;
      this.#signal({ type: 'candidate', to: this.id, candidate: candidate ? candidate.toJSON() : null });
      if (!candidate && this.#localCandidates === 0 && !this.#closed) {
        this.#noRoute = true;
        this.#onFailure();
      }
    };
    this.pc.ontrack = ({ track, transceiver }) => {
      const slot = this.#slotOf(transceiver);
      if (!slot) return;
      const stream = slot === 'screen' ? this.screenStream : this.remoteStream;
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      if (slot === 'screen') this.emit('screen', stream);
      else this.emit('stream', stream);
    };
    this.pc.onconnectionstatechange = () => this.#onConnectionState();
    this.#connectTimer = setTimeout(() => {
      if (!this.#closed && !this.#reached && !this.#troubled) this.#onFailure();
    }, CONNECT_TIMEOUT_MS);
    this.#watchTimer = setInterval(() => void this.#watchFlow(), WATCH_EVERY_MS);

    if (initiator) {
      for (const slot of SLOTS) {
        this.#transceivers[slot] = this.pc.addTransceiver(this.#tracks[slot] ?? slotKind(slot), {
          direction: 'sendrecv',
          ...(slot === 'screen' ? { sendEncodings: [{ ...SCREEN_ENCODING }] } : {}),
        });
      }
    }
  }

  /** connectionState is the last PeerState reported. */
  get connectionState() {
    return this.#state;
  }

  /** reached is true once the connection has worked (a 'retrying' before that is still a first attempt). */
  get reached() {
    return this.#reached;
  }

  /**
   * noRoute is true when this side found no way out at all: its last
   * gathering ended without a candidate (in relay-only mode: the TURN server
   * could not be used).
   */
  get noRoute() {
    return this.#noRoute;
  }

  /**
   * setIceServers makes `iceServers` (fresh TURN credentials) the ones the
   * next ICE restart uses, keeping the rest of the configuration (the
   * transport policy). A connection that is down right now restarts at once
   * with them.
   * @param {RTCIceServer[]} iceServers
   */
  setIceServers(iceServers) {
    if (this.#closed) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    } catch (err) {
      console.warn(`parley: peer ${this.id}: new ICE servers refused`, err);
      return;
    }
    const state = this.pc.connectionState;
    if (state === 'failed' || this.#state === 'failed') this.#restartIce();
    else if (state === 'disconnected') this.pc.restartIce();
  }

  /**
   * networkChanged restarts ICE at once: this device's network changed (the
   * browser came back online, or changed connection), so the path in use
   * may be gone and a new one must be found; a connection given up on is
   * tried again too. Perfect negotiation carries the restart from either side.
   */
  networkChanged() {
    if (this.#closed) return;
    clearTimeout(this.#disconnectedTimer);
    clearTimeout(this.#giveUpTimer);
    this.#restarts = 0;
    this.#restartIce();
  }

  /**
   * handle queues an offer, answer or candidate from this peer. Messages are
   * processed strictly one after another, in the order they were handed in.
   * @param {RelayedMessage} msg
   */
  handle(msg) {
    this.#chain = this.#chain
      .then(() => this.#process(msg))
      .catch((err) => console.warn(`parley: peer ${this.id}: ${msg.type} failed`, err));
  }

  /**
   * setTrack sends `track` (or nothing, when null) on the stable transceiver of
   * its kind, without renegotiation.
   * @param {SendKind} kind
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<void>}
   */
  async setTrack(kind, track) {
    this.#tracks[kind] = track;
    const transceiver = this.#transceivers[kind];
    if (!transceiver || this.#closed) return; // adopted from the first offer later
    await transceiver.sender.replaceTrack(track);
    if (kind === 'screen' && track) await tuneScreenSender(transceiver.sender);
  }

  /** close ends the connection; the Peer cannot be reused. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#giveUpTimer);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#disconnectedTimer);
    clearInterval(this.#watchTimer);
    this.pc.onnegotiationneeded = null;
    this.pc.onicegatheringstatechange = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
    this.clearListeners();
  }

  #onConnectionState() {
    if (this.#closed) return;
    const state = this.pc.connectionState;
    if (state !== 'failed') clearTimeout(this.#giveUpTimer);
    if (state !== 'disconnected') clearTimeout(this.#disconnectedTimer);
    switch (state) {
      case 'connected':
        if (this.#flow.stalled) return; // the watch says when packets flow again
        this.#reached = true;
        clearTimeout(this.#connectTimer);
        this.#restarts = 0;
        this.#troubled = false;
        clearTimeout(this.#restartTimer);
        this.#setState(state);
        return;
      case 'failed':
        this.#onFailure();
        return;
      case 'disconnected':
        // The impolite side restarts a connection that stays interrupted; the polite side
        // answers its offer (if both restarted, perfect negotiation would sort it out).
        // (Not again when the flow watch has restarted it already.)
        if (!this.polite && !this.#flow.stalled) {
          clearTimeout(this.#disconnectedTimer);
          this.#disconnectedTimer = setTimeout(() => {
            if (!this.#closed && this.pc.connectionState === 'disconnected') this.#restartIce(false);
          }, DISCONNECTED_RESTART_MS);
        }
        this.#setState(this.#troubled ? 'retrying' : state);
        return;
      case 'new':
      case 'connecting':
        // After a failure, any new attempt (ours or the other side's restart) is a retry.
        this.#setState(this.#troubled ? 'retrying' : state);
        return;
      default:
        this.#setState(state);
    }
  }

  /**
   * onFailure restarts ICE, or gives up when the restarts since the
   * connection last worked are used up. Either side restarts after a failure
   * (a network change, a blip, a TURN credential that expired): whichever
   * offers first, perfect negotiation carries it, and the other side's
   * answer restarts too.
   */
  #onFailure() {
    this.#troubled = true;
    if (this.#restarts < MAX_ICE_RESTARTS) {
      this.#restarts++;
      this.#restartIce();
      return;
    }
    clearTimeout(this.#giveUpTimer);
    this.#giveUpTimer = setTimeout(() => {
      if (this.#failing()) this.#giveUp();
    }, GIVE_UP_DELAY_MS);
    this.#setState('retrying');
  }

  /**
   * watchFlow reads the bytes the connection received: a steady flow that
   * stops for STALL_MS while the browser still says 'connected' is an
   * interruption (reported as 'disconnected'; the impolite side restarts
   * ICE), and the flow coming back ends it.
   */
  async #watchFlow() {
    if (this.#closed || this.pc.connectionState !== 'connected') return;
    let bytes = 0;
    try {
      (await this.pc.getStats()).forEach((s) => {
        if (s.type === 'candidate-pair') bytes += s.bytesReceived ?? 0;
      });
    } catch {
      return;
    }
    if (this.#closed) return;
    const flow = this.#flow;
    const now = performance.now();
    if (bytes !== flow.bytes) {
      flow.flowing = flow.bytes >= 0 && bytes - flow.bytes >= MEDIA_BYTES;
      flow.bytes = bytes;
      flow.grewAt = now;
      if (flow.stalled) {
        flow.stalled = false;
        this.#onConnectionState();
      }
      return;
    }
    if (flow.stalled || !flow.flowing || now - flow.grewAt < STALL_MS) return;
    flow.stalled = true;
    flow.flowing = false;
    this.#setState(this.#troubled ? 'retrying' : 'disconnected');
    if (!this.polite) this.#restartIce(false);
  }

  /** failing is true while the connection is failed or has no route. */
  #failing() {
    return !this.#closed && (this.pc.connectionState === 'failed' || this.#noRoute);
  }

  /**
   * restartIce starts an ICE restart, given up on if it has not connected
   * within RESTART_TIMEOUT_MS. After a failure it reports 'retrying' until
   * it works or fails; a restart of a connection that is only interrupted
   * (`afterFailure` false) keeps saying 'disconnected'.
   * @param {boolean} [afterFailure]
   */
  #restartIce(afterFailure = true) {
    if (afterFailure) this.#troubled = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (!this.#closed && this.pc.connectionState !== 'connected') this.#giveUp();
    }, RESTART_TIMEOUT_MS);
    this.pc.restartIce();
    if (afterFailure) this.#setState('retrying');
  }

  #giveUp() {
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#giveUpTimer);
    this.#setState('failed');
  }

  /** @param {PeerState} state */
  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('connectionstate', state);
  }

  async #negotiate() {
    if (this.#closed) return;
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      const sdp = this.pc.localDescription?.sdp;
      if (sdp && this.pc.localDescription?.type === 'offer') {
        this.#signal({ type: 'offer', to: this.id, sdp });
      }
    } catch (err) {
      console.warn(`parley: peer ${this.id}: offer failed`, err);
    } finally {
      this.#makingOffer = false;
    }
  }

  /** @param {RelayedMessage} msg */
  async #process(msg) {
    if (this.#closed) return;
    const pc = this.pc;
    if (msg.type === 'candidate') {
      if (!pc.remoteDescription) {
        this.#pendingCandidates.push(msg.candidate);
        return;
      }
      if (this.#stale(msg.candidate)) return;
      await this.#addCandidate(msg.candidate);
      return;
    }

    const description = { type: msg.type, sdp: msg.sdp };
    const offerCollision = description.type === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
    this.#ignoreOffer = !this.polite && offerCollision;
    if (this.#ignoreOffer) return;

    // The polite side rolls back its own offer implicitly here.
    await pc.setRemoteDescription(description);
    if (this.#closed) return;
    if (description.type === 'offer') {
      await this.#adoptTransceivers();
      await pc.setLocalDescription();
      const sdp = pc.localDescription?.sdp;
      if (sdp) this.#signal({ type: 'answer', to: this.id, sdp });
    }
    const queued = this.#pendingCandidates.splice(0);
    for (const candidate of queued) if (!this.#stale(candidate)) await this.#addCandidate(candidate);
  }

  /**
   * stale is true for a candidate of other ICE credentials than the current
   * remote description's: one of an offer we ignored, or of an older
   * generation. Such candidates must not be added: Chrome accepts them
   * without complaint, and a pair made from them is never checked, so it
   * never fails either and the connection stays 'checking' for ever. A
   * description always reaches us before its own candidates.
   * @param {RTCIceCandidateInit | null} candidate
   * @returns {boolean}
   */
  #stale(candidate) {
    const ufrag = candidate?.usernameFragment;
    if (!ufrag) return false;
    const match = /^a=ice-ufrag:(\S+)/m.exec(this.pc.remoteDescription?.sdp ?? '');
    return match !== null && match[1] !== ufrag;
  }

  /** @param {RTCIceCandidateInit | null} candidate */
  async #addCandidate(candidate) {
    try {
      // null marks the end of candidates; addIceCandidate() with no argument says so.
      await (candidate ? this.pc.addIceCandidate(candidate) : this.pc.addIceCandidate());
    } catch (err) {
      // Candidates of an offer we ignored are expected to fail.
      if (!this.#ignoreOffer) console.warn(`parley: peer ${this.id}: candidate rejected`, err);
    }
  }

  /**
   * adoptTransceivers takes over the transceivers the remote offer created,
   * one per slot (the first audio, the first video, the second video), makes
   * them sendrecv and puts our tracks on them, so the answer already carries
   * our media.
   */
  async #adoptTransceivers() {
    for (const transceiver of this.pc.getTransceivers()) {
      const slot = this.#slotOf(transceiver);
      if (!slot || this.#transceivers[slot] || transceiver.direction === 'stopped') continue;
      this.#transceivers[slot] = transceiver;
      transceiver.direction = 'sendrecv';
      await transceiver.sender.replaceTrack(this.#tracks[slot]);
      if (slot === 'screen' && this.#tracks.screen) await tuneScreenSender(transceiver.sender);
    }
  }

  /**
   * slotOf is the slot a transceiver serves: the one it was made or adopted
   * for, or else the one its place among the connection's transceivers of
   * its kind gives it (m-line order is the same on both sides); null for any
   * further one.
   * @param {RTCRtpTransceiver} transceiver
   * @returns {SendKind | null}
   */
  #slotOf(transceiver) {
    for (const slot of SLOTS) if (this.#transceivers[slot] === transceiver) return slot;
    const kind = transceiver.receiver.track.kind;
    const index = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === kind).indexOf(transceiver);
    return SLOTS.filter((slot) => slotKind(slot) === kind)[index] ?? null;
  }
}
