// @ts-check
// sfu.js is the media-server MediaTransport (transport.js): our media goes
// once to the media server on a publish connection, and everyone else's
// comes back on one subscribe connection, whose m-lines the server maps to
// participants (`streams` of its offers). It never touches the DOM.
//
// Who offers: we do on the publish connection (sfu-offer, answered by
// sfu-answer); the media server does on the subscribe connection, and we
// answer. So there is never glare, and we never offer or restart ICE on the
// subscribe connection ourselves. Every message of one connection is handled
// strictly in order, on a promise chain of its own.
//
// A shared screen is a third m-line of the publish connection, there from the
// start like the other two, so starting and stopping a share is replaceTrack;
// the server describes it to the media server, and the subscribe offers' `streams`
// name the m-lines that carry someone's screen with kind `screen`. The camera
// is sent in simulcast layers, the screen in one.
//
// Remote tracks: an m-line the server stops using is reused later for
// someone else (the same receiver track). So tracks are never stopped; each
// participant's MediaStream holds exactly the tracks of the m-lines mapped to
// them now, and is reported again whenever that changes.

import { Emitter } from './emitter.js';
import { SCREEN_ENCODING, tuneScreenSender } from './screen.js';
import { advancing } from './stats.js';

/** @typedef {import('./transport.js').MediaTransport} MediaTransport */
/** @typedef {import('./transport.js').TransportContext} TransportContext */
/** @typedef {import('./transport.js').TransportEvents} TransportEvents */
/** @typedef {import('./transport.js').TransportMessage} TransportMessage */
/** @typedef {import('./transport.js').LocalTracks} LocalTracks */
/** @typedef {import('./transport.js').SendKind} SendKind */
/** @typedef {import('./transport.js').RemotePeer} RemotePeer */
/** @typedef {import('./transport.js').ConnectionState} ConnectionState */
/** @typedef {import('./signaling.js').SfuStreamInfo} SfuStreamInfo */

/** SLOTS is the order of the publish connection's transceivers: the screen is the second video. */
const SLOTS = /** @type {const} */ (['audio', 'video', 'screen']);

/** REPUBLISH_DELAY_MS spaces fresh publish attempts after the server ended our publish connection. */
const REPUBLISH_DELAY_MS = 1_000;

/**
 * CONNECT_WITHIN_MS is how long a new connection to the media server may take
 * to connect once negotiated; then it is replaced by a fresh one. An ICE
 * restart does not mend one whose DTLS handshake stalled (seen on a machine
 * with every core busy), a new connection does.
 */
const CONNECT_WITHIN_MS = 12_000;

/**
 * SIMULCAST is how the camera is sent to the media server: the full picture
 * and one at half its size, so a thumbnail costs a quarter of the pixels. The
 * first is the highest (the media server's default rid order). Bitrates stay
 * well under the room's cap (Parley:Sfu:MaxBitrate, 1.5 Mb/s by default).
 * @type {RTCRtpEncodingParameters[]}
 */
const SIMULCAST = [
  { rid: 'h', maxBitrate: 900_000 },
  { rid: 'l', maxBitrate: 200_000, scaleResolutionDownBy: 2 },
];

/**
 * SIMULCAST_FROM_WIDTH is the camera width from which the camera is sent in
 * two layers: a smaller picture has no room for a half-size one (Chrome then
 * sends one layer of the two, and a subscriber asking for the other would get
 * nothing).
 */
const SIMULCAST_FROM_WIDTH = 640;

/** VIEW_DELAY_MS gathers tile size changes into one sfu-view. */
const VIEW_DELAY_MS = 200;

/** STATS_EVERY_MS is how often the subscribe connection's loss is looked at. */
const STATS_EVERY_MS = 2_000;

/** POOR_LOSS and GOOD_LOSS: received video losing more than 8% is a poor downlink; back to good below 2% for GOOD_FOR_MS. */
const POOR_LOSS = 0.08;
const GOOD_LOSS = 0.02;
const GOOD_FOR_MS = 10_000;

/** RESTART_AFTER_MS is how long a connection may stay disconnected before it is restarted. */
const RESTART_AFTER_MS = 4_000;

/**
 * SfuTransport sends our media to the media server and receives everyone
 * else's from it.
 *
 * @extends {Emitter<TransportEvents>}
 * @implements {MediaTransport}
 */
export class SfuTransport extends Emitter {
  /** @type {RTCConfiguration} */
  #config;
  /** @type {LocalTracks} */
  #tracks;
  #signal;
  #closed = false;
  /** #serverUp is false while the server says the media server is unavailable. */
  #serverUp = true;
  /** @type {Map<string, RemotePeer>} */
  #peers = new Map();

  /** @type {RTCPeerConnection | null} */
  #publish = null;
  /** @type {Record<SendKind, RTCRtpTransceiver | null>} */
  #senders = { audio: null, video: null, screen: null };
  /** @type {Promise<void>} */
  #publishChain = Promise.resolve();
  /** @type {(RTCIceCandidateInit | null)[]} */
  #publishCandidates = [];
  #republishTimer = 0;

  /** @type {RTCPeerConnection | null} */
  #subscribe = null;
  /** @type {Promise<void>} */
  #subscribeChain = Promise.resolve();
  /** @type {(RTCIceCandidateInit | null)[]} */
  #subscribeCandidates = [];
  /** @type {Map<string, {peer: string, kind: string}>} mid → whose media it carries */
  #mids = new Map();
  /** @type {Map<string, MediaStream>} participant id → the stream of their tracks */
  #streams = new Map();
  /** @type {Map<string, MediaStream>} participant id → the stream of their screen m-line's track */
  #screens = new Map();
  /** @type {Map<string, import('./transport.js').VideoLevel>} how large each participant is shown */
  #view = new Map();
  #sentView = '';
  #viewTimer = 0;
  /** #poor is true while the downlink loses too much: large tiles get the small picture. */
  #poor = false;
  #goodSince = 0;
  #statsTimer = 0;
  /** @type {{lost: number, received: number} | null} */
  #lastLoss = null;
  #subscribeRestartTimer = 0;
  #subscribeWatchdog = 0;
  #publishWatchdog = 0;
  #publishRestartTimer = 0;

  /** @param {TransportContext} context */
  constructor({ config, tracks, signal }) {
    super();
    this.#config = { ...config };
    this.#tracks = { screen: null, ...tracks };
    this.#signal = signal;
    this.#startPublishing();
    this.#statsTimer = setInterval(() => void this.#watchDownlink(), STATS_EVERY_MS);
  }

  /**
   * setView records how large participant `id`'s video is shown, and soon
   * tells the server, which sends each subscriber the layer that fits.
   * @param {string} id
   * @param {import('./transport.js').VideoLevel} level
   */
  setView(id, level) {
    if (this.#closed) return;
    this.#view.set(id, level);
    clearTimeout(this.#viewTimer);
    this.#viewTimer = setTimeout(() => this.#sendView(), VIEW_DELAY_MS);
  }

  #sendView() {
    if (this.#closed) return;
    const streams = [...this.#view]
      .filter(([id]) => this.#peers.has(id))
      .map(([peer, level]) => ({ peer, video: this.#poor && level === 'high' ? /** @type {const} */ ('low') : level }));
    const key = JSON.stringify(streams);
    if (key === this.#sentView || streams.length === 0) return;
    this.#sentView = key;
    this.#signal({ type: 'sfu-view', streams });
  }

  /** watchDownlink steps large tiles down to the small picture while received video loses packets, and back after a while. */
  async #watchDownlink() {
    const pc = this.#subscribe;
    if (!pc || this.#closed) return;
    let lost = 0;
    let received = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        lost += s.packetsLost || 0;
        received += s.packetsReceived || 0;
      }
    });
    const last = this.#lastLoss;
    this.#lastLoss = { lost, received };
    if (!last || received + lost <= last.received + last.lost) return;
    const loss = (lost - last.lost) / (received + lost - last.received - last.lost);
    const now = Date.now();
    if (loss > POOR_LOSS && !this.#poor) {
      this.#poor = true;
      this.#sendView();
    } else if (loss < GOOD_LOSS && this.#poor) {
      if (!this.#goodSince) this.#goodSince = now;
      if (now - this.#goodSince >= GOOD_FOR_MS) {
        this.#poor = false;
        this.#goodSince = 0;
        this.#sendView();
      }
    } else if (loss >= GOOD_LOSS) {
      this.#goodSince = 0;
    }
  }

  /** @param {RemotePeer} remote */
  addPeer(remote) {
    if (this.#closed) return;
    this.#peers.set(remote.id, remote);
    this.#report(remote.id);
  }

  /** @param {string} id */
  removePeer(id) {
    this.#peers.delete(id);
    this.#streams.delete(id);
    this.#screens.delete(id);
  }

  /**
   * handle takes the server's SFU messages: answers and candidates of the
   * publish connection, offers and candidates of the subscribe connection,
   * and news of the media server.
   * @param {TransportMessage} msg
   */
  handle(msg) {
    if (this.#closed) return;
    switch (msg.type) {
      case 'sfu-answer':
        if (msg.pc === 'publish') this.#onPublish(() => this.#publish?.setRemoteDescription({ type: 'answer', sdp: msg.sdp }));
        return;
      case 'sfu-offer':
        if (msg.pc === 'subscribe') this.#onSubscribe(() => this.#subscribeOffer(msg.sdp, msg.streams ?? [], Boolean(msg.fresh)));
        return;
      case 'sfu-candidate':
        if (msg.pc === 'publish') this.#onPublish(() => this.#addCandidate(this.#publish, this.#publishCandidates, msg.candidate));
        else this.#onSubscribe(() => this.#addCandidate(this.#subscribe, this.#subscribeCandidates, msg.candidate));
        return;
      case 'sfu-close':
        if (msg.pc === 'publish') {
          this.#closePublish();
          this.#scheduleRepublish();
        } else {
          this.#onSubscribe(async () => this.#closeSubscribe());
        }
        return;
      case 'sfu-status':
        this.#serverUp = msg.status === 'up';
        this.#closePublish();
        this.#onSubscribe(async () => this.#closeSubscribe());
        if (this.#serverUp) this.#startPublishing();
        else for (const id of this.#peers.keys()) this.#report(id, 'retrying');
        return;
      default:
    }
  }

  /**
   * setTrack sends `track` on the publish connection's sender of its kind,
   * without renegotiation; the first track of a participant that had none
   * starts publishing.
   * @param {SendKind} kind
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<void>}
   */
  async setTrack(kind, track) {
    this.#tracks[kind] = track;
    if (this.#closed) return;
    const sender = this.#senders[kind];
    if (sender) {
      await sender.sender.replaceTrack(track);
      if (kind === 'screen' && track) await tuneScreenSender(sender.sender);
      return;
    }
    this.#startPublishing();
  }

  /** @type {Map<string, number>} */
  #counts = new Map();

  /**
   * @param {string} id
   * @param {{audio: boolean, video: boolean}} wants
   * @returns {Promise<boolean>}
   */
  playing(id, wants) {
    return advancing(this.#subscribe, this.#streams.get(id)?.getTracks() ?? [], wants, this.#counts);
  }

  /** @param {RTCIceServer[]} iceServers */
  setIceServers(iceServers) {
    this.#config = { ...this.#config, iceServers };
    for (const pc of [this.#publish, this.#subscribe]) {
      try {
        pc?.setConfiguration({ ...pc.getConfiguration(), iceServers });
      } catch (err) {
        console.warn('parley: new ICE servers refused', err);
      }
    }
  }

  /**
   * networkChanged restarts ICE on both connections, each the way it always
   * is: the publisher offers a restart itself; for the subscribe connection
   * the media server is asked for a restart offer.
   */
  networkChanged() {
    if (this.#closed) return;
    const pc = this.#publish;
    if (pc) this.#onPublish(() => this.#offer(pc, { iceRestart: true }, false));
    if (this.#subscribe) this.#signal({ type: 'sfu-restart', pc: 'subscribe' });
  }

  /** @type {{pc: RTCPeerConnection, at: number, report: Promise<RTCStatsReport>} | null} the last subscribe report, shared by everyone's tile */
  #stats = null;

  /**
   * receiveStats reads the subscribe connection's statistics, which carry
   * everyone's media: one getStats() a second at most, however many tiles ask.
   * @param {string} _id
   */
  async receiveStats(_id) {
    const pc = this.#subscribe;
    if (!pc || pc.connectionState === 'closed') return null;
    const now = performance.now();
    if (this.#stats?.pc !== pc || now - this.#stats.at > 1000) this.#stats = { pc, at: now, report: pc.getStats() };
    return this.#stats.report;
  }

  async sendStats() {
    const pc = this.#publish;
    return pc && pc.connectionState !== 'closed' ? [await pc.getStats()] : [];
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#republishTimer);
    clearTimeout(this.#viewTimer);
    clearTimeout(this.#subscribeRestartTimer);
    clearTimeout(this.#publishRestartTimer);
    clearInterval(this.#statsTimer);
    this.#closePublish();
    this.#closeSubscribe();
    this.#peers.clear();
    this.clearListeners();
  }

  // ---------------------------------------------------------------------
  // Publish connection

  /** startPublishing makes a fresh publish connection and offers it, when there is something to send. */
  #startPublishing() {
    if (this.#closed || !this.#serverUp || this.#publish) return;
    if (!this.#tracks.audio && !this.#tracks.video && !this.#tracks.screen) return; // receive-only: nothing to publish (yet)
    const pc = new RTCPeerConnection(this.#config);
    this.#publish = pc;
    this.#publishCandidates = [];
    // Every slot from the start, even without a track, so turning the camera
    // or microphone on later, or sharing the screen, is replaceTrack, with no
    // renegotiation. Simulcast is for the camera only.
    const width = this.#tracks.video?.getSettings().width ?? SIMULCAST_FROM_WIDTH;
    for (const slot of SLOTS) {
      /** @type {RTCRtpEncodingParameters[] | undefined} */
      let sendEncodings;
      if (slot === 'video' && width >= SIMULCAST_FROM_WIDTH) sendEncodings = SIMULCAST;
      else if (slot === 'screen') sendEncodings = [{ ...SCREEN_ENCODING }];
      this.#senders[slot] = pc.addTransceiver(this.#tracks[slot] ?? (slot === 'audio' ? 'audio' : 'video'), {
        direction: 'sendonly',
        ...(sendEncodings ? { sendEncodings } : {}),
      });
    }
    const screen = this.#senders.screen;
    if (screen && this.#tracks.screen) void tuneScreenSender(screen.sender).catch(() => {});
    pc.onicecandidate = ({ candidate }) => {
      // Firefox ends each generation with an empty candidate before the null: nothing to send.
      if (candidate && !candidate.candidate) return;
      this.#signal({ type: 'sfu-candidate', pc: 'publish', candidate: candidate ? candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = () => {
      if (this.#publish !== pc) return;
      clearTimeout(this.#publishRestartTimer);
      // The publisher restarts ICE itself (its offer goes to the media server as a renegotiation).
      const restart = () => this.#onPublish(() => this.#offer(pc, { iceRestart: true }, false));
      if (pc.connectionState === 'failed') restart();
      else if (pc.connectionState === 'disconnected') this.#publishRestartTimer = setTimeout(restart, RESTART_AFTER_MS);
      this.emit('notice', {
        text:
          pc.connectionState === 'failed'
            ? 'Others cannot see or hear you: the connection to the media server failed. Trying again…'
            : '',
      });
    };
    this.#onPublish(() => this.#offer(pc, {}, true));
  }

  /**
   * @param {RTCPeerConnection} pc
   * @param {RTCOfferOptions} options
   * @param {boolean} fresh
   */
  async #offer(pc, options, fresh) {
    if (this.#publish !== pc) return;
    const offer = await pc.createOffer(options);
    await pc.setLocalDescription(offer);
    if (this.#publish !== pc || !pc.localDescription) return;
    this.#signal({ type: 'sfu-offer', pc: 'publish', sdp: pc.localDescription.sdp, ...(fresh ? { fresh: true } : {}) });
    if (fresh) {
      clearTimeout(this.#publishWatchdog);
      this.#publishWatchdog = setTimeout(() => {
        if (this.#publish !== pc || pc.connectionState === 'connected' || this.#closed) return;
        console.warn(`parley: the publish connection is still ${pc.connectionState}; making a fresh one`);
        this.#closePublish();
        this.#startPublishing();
      }, CONNECT_WITHIN_MS);
    }
  }

  #closePublish() {
    const pc = this.#publish;
    this.#publish = null;
    clearTimeout(this.#publishWatchdog);
    this.#senders = { audio: null, video: null, screen: null };
    if (!pc) return;
    pc.onicecandidate = null;
    pc.onconnectionstatechange = null;
    pc.close();
  }

  #scheduleRepublish() {
    clearTimeout(this.#republishTimer);
    this.#republishTimer = setTimeout(() => this.#startPublishing(), REPUBLISH_DELAY_MS);
  }

  /** @param {() => Promise<unknown> | undefined} step */
  #onPublish(step) {
    this.#publishChain = this.#publishChain
      .then(step)
      .then(() => this.#flush(this.#publish, this.#publishCandidates))
      .catch((err) => console.warn('parley: publish connection:', err));
  }

  // ---------------------------------------------------------------------
  // Subscribe connection

  /**
   * @param {string} sdp
   * @param {SfuStreamInfo[]} streams
   * @param {boolean} fresh
   */
  async #subscribeOffer(sdp, streams, fresh) {
    if (fresh || !this.#subscribe) this.#closeSubscribe();
    let pc = this.#subscribe;
    const isNew = !pc;
    if (!pc) {
      pc = new RTCPeerConnection(this.#config);
      this.#subscribe = pc;
      this.#subscribeCandidates = [];
      const own = pc;
      pc.onicecandidate = ({ candidate }) => {
        if (candidate && !candidate.candidate) return; // Firefox's end of a generation; the null follows
        this.#signal({ type: 'sfu-candidate', pc: 'subscribe', candidate: candidate ? candidate.toJSON() : null });
      };
      pc.ontrack = () => this.#regroup();
      pc.onconnectionstatechange = () => {
        if (this.#subscribe !== own) return;
        for (const id of this.#peers.keys()) this.#report(id);
        // Only the media server offers here: ask it for an ICE-restart offer, never make one.
        clearTimeout(this.#subscribeRestartTimer);
        const restart = () => this.#signal({ type: 'sfu-restart', pc: 'subscribe' });
        if (own.connectionState === 'failed') restart();
        else if (own.connectionState === 'disconnected') this.#subscribeRestartTimer = setTimeout(restart, RESTART_AFTER_MS);
      };
    }
    this.#mids = new Map(streams.map((s) => [s.mid, { peer: s.peer, kind: s.kind }]));
    await pc.setRemoteDescription({ type: 'offer', sdp });
    // We answer as the DTLS server (setup:passive), so the media server starts the handshake once
    // its own ICE check succeeded. As the client, our first DTLS packets could reach Janus before
    // it picked its candidate pair; it drops those, and the browser's retransmissions back off
    // (1 s, 2 s, 4 s…), which on a busy machine outlasted the connection's watchdog.
    const answer = await pc.createAnswer();
    await pc.setLocalDescription({ type: 'answer', sdp: (answer.sdp ?? '').replaceAll('a=setup:active', 'a=setup:passive') });
    if (this.#subscribe !== pc || !pc.localDescription) return;
    this.#signal({ type: 'sfu-answer', pc: 'subscribe', sdp: pc.localDescription.sdp });
    if (isNew) {
      clearTimeout(this.#subscribeWatchdog);
      const own = pc;
      this.#subscribeWatchdog = setTimeout(() => {
        if (this.#subscribe !== own || own.connectionState === 'connected' || this.#closed) return;
        console.warn(`parley: the subscribe connection is still ${own.connectionState}; asking for a fresh one`);
        this.#signal({ type: 'sfu-restart', pc: 'subscribe', fresh: true });
      }, CONNECT_WITHIN_MS);
    }
    this.#lastLoss = null;
    this.#regroup();
    for (const id of this.#peers.keys()) this.#report(id);
  }

  /**
   * regroup puts each receiver's track in the stream of the participant its
   * m-line carries now (a screen m-line's in their screen stream), and
   * reports every stream that changed.
   */
  #regroup() {
    /** @type {Map<string, MediaStreamTrack[]>} */
    const wanted = new Map();
    /** @type {Map<string, MediaStreamTrack[]>} */
    const screens = new Map();
    for (const transceiver of this.#subscribe?.getTransceivers() ?? []) {
      const owner = transceiver.mid === null ? undefined : this.#mids.get(transceiver.mid);
      if (!owner || transceiver.currentDirection === 'inactive') continue;
      const into = owner.kind === 'screen' ? screens : wanted;
      const tracks = into.get(owner.peer) ?? [];
      tracks.push(transceiver.receiver.track);
      into.set(owner.peer, tracks);
    }
    this.#sort(wanted, this.#streams, (id, stream) => this.emit('stream', { id, stream }));
    this.#sort(screens, this.#screens, (id, stream) => this.emit('screen', { id, stream }));
  }

  /**
   * sort makes each participant's stream in `streams` hold exactly their
   * tracks in `wanted`, and calls `changed` for every stream that changed.
   * @param {Map<string, MediaStreamTrack[]>} wanted
   * @param {Map<string, MediaStream>} streams
   * @param {(id: string, stream: MediaStream) => void} changed
   */
  #sort(wanted, streams, changed) {
    for (const id of new Set([...wanted.keys(), ...streams.keys()])) {
      if (!this.#peers.has(id)) continue;
      const tracks = wanted.get(id) ?? [];
      let stream = streams.get(id);
      const had = stream ? stream.getTracks() : [];
      if (stream && had.length === tracks.length && had.every((t) => tracks.includes(t))) continue;
      if (!stream) {
        stream = new MediaStream();
        streams.set(id, stream);
      }
      for (const track of had) if (!tracks.includes(track)) stream.removeTrack(track);
      for (const track of tracks) if (!had.includes(track)) stream.addTrack(track);
      changed(id, stream);
    }
  }

  #closeSubscribe() {
    const pc = this.#subscribe;
    this.#subscribe = null;
    clearTimeout(this.#subscribeRestartTimer);
    clearTimeout(this.#subscribeWatchdog);
    this.#mids = new Map();
    if (pc) {
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    for (const [id, stream] of this.#streams) {
      if (stream.getTracks().length === 0) continue;
      for (const track of stream.getTracks()) stream.removeTrack(track);
      if (this.#peers.has(id)) this.emit('stream', { id, stream });
    }
    for (const [id, stream] of this.#screens) {
      if (stream.getTracks().length === 0) continue;
      for (const track of stream.getTracks()) stream.removeTrack(track);
      if (this.#peers.has(id)) this.emit('screen', { id, stream });
    }
  }

  /** @param {() => Promise<unknown> | undefined} step */
  #onSubscribe(step) {
    this.#subscribeChain = this.#subscribeChain
      .then(step)
      .then(() => this.#flush(this.#subscribe, this.#subscribeCandidates))
      .catch((err) => console.warn('parley: subscribe connection:', err));
  }

  // ---------------------------------------------------------------------
  // Both

  /**
   * addCandidate adds a server candidate once the connection has its remote
   * description; until then it waits in `queue`.
   * @param {RTCPeerConnection | null} pc
   * @param {(RTCIceCandidateInit | null)[]} queue
   * @param {RTCIceCandidateInit | null} candidate
   */
  async #addCandidate(pc, queue, candidate) {
    if (!pc) return;
    if (!pc.remoteDescription) {
      queue.push(candidate);
      return;
    }
    await (candidate ? pc.addIceCandidate(candidate) : pc.addIceCandidate());
  }

  /**
   * @param {RTCPeerConnection | null} pc
   * @param {(RTCIceCandidateInit | null)[]} queue
   */
  async #flush(pc, queue) {
    if (!pc?.remoteDescription) return;
    for (const candidate of queue.splice(0)) {
      await (candidate ? pc.addIceCandidate(candidate) : pc.addIceCandidate()).catch((err) =>
        console.warn('parley: candidate rejected', err),
      );
    }
  }

  /**
   * report says how the media of participant `id` is getting on: through the
   * subscribe connection when it carries any of theirs; someone who sends
   * nothing has nothing to connect.
   * @param {string} id
   * @param {ConnectionState} [override]
   */
  #report(id, override) {
    if (this.#closed) return;
    const carried = [...this.#mids.values()].some((m) => m.peer === id);
    /** @type {ConnectionState} */
    let state = 'connected';
    if (override) state = override;
    else if (carried && this.#subscribe) {
      const s = this.#subscribe.connectionState;
      state = s === 'closed' ? 'failed' : s;
    }
    this.emit('connection', {
      id,
      status: { state, noRoute: false, relayOnly: this.#config.iceTransportPolicy === 'relay' },
    });
  }
}
