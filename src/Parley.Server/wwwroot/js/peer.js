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
// it reports 'failed' and gives up. Gathering that ends without a single
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
      if (candidate) this.#localCandidates++;
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
    switch (state) {
      case 'connected':
        this.#restarts = 0;
        this.#troubled = false;
        clearTimeout(this.#restartTimer);
        this.#setState(state);
        return;
      case 'failed':
        this.#onFailure();
        return;
      case 'new':
      case 'connecting':
      case 'disconnected':
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

  /** failing is true while the connection is failed or has no route. */
  #failing() {
    return !this.#closed && (this.pc.connectionState === 'failed' || this.#noRoute);
  }

  /** restartIce starts an ICE restart and reports 'retrying' until it works or fails. */
  #restartIce() {
    this.#troubled = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (!this.#closed && this.pc.connectionState !== 'connected') this.#giveUp();
    }, RESTART_TIMEOUT_MS);
    this.pc.restartIce();
    this.#setState('retrying');
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
