// probe.js is injected into every test page before the app's scripts run
// (page.AddInitScriptAsync). It is test-only: it records each
// RTCPeerConnection (with the configuration it was made with) and each
// getUserMedia track so the tests can read getStats() (media counters, the
// selected candidate pair, the candidates and checks) and configurations and
// check that the camera really stopped, and it records what the
// Content-Security-Policy blocked, without any hook in the product's code.
//
// A test may set, in an earlier init script:
// - window.__parleyProbeBreakIce = true: connectivity checks go nowhere (below);
// - window.__parleyProbeNoCandidates = true: the other side's candidates never
//   arrive (dropped, in SDP too), as from a peer that never sends one; with
//   both pages so, ICE has no pair to check and never says 'failed' by itself;
// - window.__parleyProbeTurnCredential = {username, credential}: every TURN
//   server in the `joined` and `ice-servers` signaling messages then carries
//   that credential instead of the one the server minted, as if it had been
//   tampered with or had expired on its way.
(() => {
  /** @type {RTCPeerConnection[]} */
  const pcs = [];
  /** @type {WeakMap<RTCPeerConnection, RTCConfiguration>} */
  const initialConfigs = new WeakMap();
  /** @type {MediaStreamTrack[]} */
  const tracks = [];

  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    /** @param {RTCConfiguration} [config] */
    constructor(config) {
      super(config);
      pcs.push(this);
      initialConfigs.set(this, JSON.parse(JSON.stringify(config || {})));
    }
  };

  // restarts counts restartIce() calls, the app's and the probe's.
  let restarts = 0;
  const restartIce = NativePeerConnection.prototype.restartIce;
  NativePeerConnection.prototype.restartIce = function (...args) {
    restarts++;
    return restartIce.apply(this, args);
  };

  /** isTurn is true for an RTCIceServer with a turn: or turns: URL. */
  const isTurn = (server) => [].concat(server.urls).some((u) => /^turns?:/.test(u));

  /** turnUsernamesOf lists the usernames of a configuration's TURN servers. */
  const turnUsernamesOf = (config) => ((config && config.iceServers) || []).filter(isTurn).map((s) => s.username || '');

  // The credential override rewrites incoming signaling messages before the
  // app's listener sees them; the app's code is untouched.
  const override = window.__parleyProbeTurnCredential;
  if (override) {
    const rewrite = (data) => {
      if (typeof data !== 'string') return data;
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return data;
      }
      if (!msg || (msg.type !== 'joined' && msg.type !== 'ice-servers') || !Array.isArray(msg.iceServers)) return data;
      msg.iceServers = msg.iceServers.map((s) => (isTurn(s) ? { ...s, ...override } : s));
      return JSON.stringify(msg);
    };
    const addEventListener = WebSocket.prototype.addEventListener;
    WebSocket.prototype.addEventListener = function (type, listener, ...rest) {
      if (type !== 'message' || typeof listener !== 'function') return addEventListener.call(this, type, listener, ...rest);
      const wrapped = (ev) => listener.call(this, new MessageEvent('message', { data: rewrite(ev.data), origin: ev.origin }));
      return addEventListener.call(this, type, wrapped, ...rest);
    };
  }

  // breakIce (set by a test before the page loads) sends every remote candidate's
  // connectivity checks to a port where nothing listens (a high one: Chrome
  // never checks ports below 1024), like a firewall that blocks the media path
  // while signaling still works.
  const addIceCandidate = NativePeerConnection.prototype.addIceCandidate;
  NativePeerConnection.prototype.addIceCandidate = function (candidate, ...rest) {
    if (window.__parleyProbeNoCandidates && candidate && candidate.candidate) return Promise.resolve();
    if (window.__parleyProbeBreakIce && candidate && candidate.candidate) {
      const fields = candidate.candidate.split(' ');
      if (fields.length > 5) fields[5] = '40999';
      candidate = { ...candidate, candidate: fields.join(' ') };
    }
    return addIceCandidate.call(this, candidate, ...rest);
  };

  // collisions counts offers that arrive while this side has an offer of its
  // own outstanding (glare), which perfect negotiation's polite side rolls back.
  let collisions = 0;
  const setRemoteDescription = NativePeerConnection.prototype.setRemoteDescription;
  NativePeerConnection.prototype.setRemoteDescription = function (description, ...rest) {
    if (description && description.type === 'offer' && this.signalingState === 'have-local-offer') collisions++;
    if (window.__parleyProbeNoCandidates && description && description.sdp) {
      description = { type: description.type, sdp: description.sdp.replace(/^a=candidate:.*\r?\n/gm, '') };
    }
    return setRemoteDescription.call(this, description, ...rest);
  };

  // cspViolations records what the page's Content-Security-Policy blocked (an
  // inline style or script, a connection elsewhere): the product must need none.
  /** @type {string[]} */
  const cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
  });

  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      tracks.push(...stream.getTracks());
      return stream;
    };
  }

  /** open lists the connections that are not closed, in creation order. */
  const open = () => pcs.filter((pc) => pc.connectionState !== 'closed');

  /** describe keeps what the tests read of a local-candidate or remote-candidate report. */
  const describe = (c) =>
    c
      ? {
          candidateType: c.candidateType,
          protocol: c.protocol,
          relayProtocol: c.relayProtocol || null,
          address: c.address || c.ip || '',
          port: c.port,
        }
      : null;

  /** reports returns a connection's getStats() as a map by id. */
  const reports = async (pc) => {
    const byId = new Map();
    (await pc.getStats()).forEach((s) => byId.set(s.id, s));
    return byId;
  };

  window.__pcs = pcs;
  window.__parleyProbe = {
    /** stats sums the inbound RTP counters of each peer connection, in creation order. */
    async stats() {
      const out = [];
      for (let i = 0; i < pcs.length; i++) {
        const pc = pcs[i];
        let framesDecoded = 0;
        let packetsReceived = 0;
        if (pc.connectionState !== 'closed') {
          const report = await pc.getStats();
          report.forEach((s) => {
            if (s.type !== 'inbound-rtp') return;
            if (s.kind === 'video') framesDecoded += s.framesDecoded || 0;
            if (s.kind === 'audio') packetsReceived += s.packetsReceived || 0;
          });
        }
        out.push({ index: i, state: pc.connectionState, framesDecoded, packetsReceived });
      }
      return out;
    },
    /**
     * tiles reads, for every remote tile, what its media element plays: the
     * inbound counters of the very tracks in it (matched by trackIdentifier,
     * whichever connection they arrive on), so a test can tell that Ada's
     * tile shows Ada and is decoding, in a mesh and through the media server.
     */
    async tiles() {
      const byTrack = new Map();
      for (const pc of open()) {
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.trackIdentifier) byTrack.set(s.trackIdentifier, s);
        });
      }
      return [...document.querySelectorAll('#grid .tile:not(.self)')].map((tile) => {
        const video = tile.querySelector('video');
        const stream = video && video.srcObject instanceof MediaStream ? video.srcObject : null;
        let framesDecoded = 0;
        let packetsReceived = 0;
        let frameWidth = 0;
        for (const track of stream ? stream.getTracks() : []) {
          const s = byTrack.get(track.id);
          if (!s) continue;
          if (track.kind === 'video') {
            framesDecoded += s.framesDecoded || 0;
            frameWidth = Math.max(frameWidth, s.frameWidth || 0);
          } else {
            packetsReceived += s.packetsReceived || 0;
          }
        }
        const name = tile.querySelector('.tile-name');
        return { name: name ? name.textContent : '', framesDecoded, packetsReceived, frameWidth };
      });
    },
    /**
     * paths describes each open connection's selected candidate pair: the
     * transport's selectedCandidatePairId, or else a nominated pair that
     * succeeded. local and remote are null while there is none.
     */
    async paths() {
      const out = [];
      for (const pc of open()) {
        const byId = await reports(pc);
        let pair = null;
        for (const s of byId.values()) {
          if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId) || pair;
        }
        if (!pair) {
          for (const s of byId.values()) {
            if (s.type === 'candidate-pair' && (s.selected || s.nominated) && s.state === 'succeeded') pair = s;
          }
        }
        out.push({
          state: pc.connectionState,
          pairState: pair ? pair.state : null,
          local: pair ? describe(byId.get(pair.localCandidateId)) : null,
          remote: pair ? describe(byId.get(pair.remoteCandidateId)) : null,
        });
      }
      return out;
    },
    /**
     * ice describes each open connection's ICE work so far: the local and
     * remote candidates, and every candidate pair with its checks.
     */
    async ice() {
      const out = [];
      for (const pc of open()) {
        const byId = await reports(pc);
        const local = [];
        const remote = [];
        const pairs = [];
        for (const s of byId.values()) {
          if (s.type === 'local-candidate') local.push(describe(s));
          if (s.type === 'remote-candidate') remote.push(describe(s));
          if (s.type === 'candidate-pair') {
            pairs.push({
              state: s.state,
              local: describe(byId.get(s.localCandidateId)),
              remote: describe(byId.get(s.remoteCandidateId)),
              requestsSent: s.requestsSent || 0,
              responsesReceived: s.responsesReceived || 0,
            });
          }
        }
        out.push({ state: pc.connectionState, iceState: pc.iceConnectionState, local, remote, pairs });
      }
      return out;
    },
    /** openConnections is the number of this page's RTCPeerConnections that are not closed. */
    /** senderTrackIds lists the ids of the tracks every open connection sends. */
    senderTrackIds() {
      return open().flatMap((pc) => pc.getSenders().map((s) => (s.track ? s.track.id : ''))).filter((id) => id !== '');
    },
    openConnections() {
      return open().length;
    },
    /** collisions is the number of offer collisions this page has seen. */
    collisions() {
      return collisions;
    },
    /** renegotiate restarts ICE on every open connection, which makes this side offer. */
    renegotiate() {
      for (const pc of open()) pc.restartIce();
    },
    /** negotiation describes each open connection: signaling state and the remote ICE ufrag. */
    negotiation() {
      return open().map((pc) => {
        const match = /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription ? pc.remoteDescription.sdp : '');
        return `${pc.signalingState}/${pc.connectionState}/${match ? match[1] : ''}`;
      });
    },
    /** cspViolations lists what the Content-Security-Policy blocked on this page. */
    cspViolations() {
      return cspViolations.slice();
    },
    /** restarts is the number of ICE restarts this page has started. */
    restarts() {
      return restarts;
    },
    /**
     * iceConfigs describes each open connection's ICE configuration, in creation order:
     * transport policy and TURN usernames, now and as the connection was made.
     */
    iceConfigs() {
      return open().map((pc) => {
        const now = pc.getConfiguration();
        const initial = initialConfigs.get(pc) || {};
        return {
          policy: now.iceTransportPolicy,
          turnUsernames: turnUsernamesOf(now),
          initialPolicy: initial.iceTransportPolicy || 'all',
          initialTurnUsernames: turnUsernamesOf(initial),
        };
      });
    },
    /** turnUsernames lists the TURN usernames each open connection is configured with now. */
    turnUsernames() {
      return open().map((pc) => turnUsernamesOf(pc.getConfiguration()));
    },
    /** liveVideoTracks counts camera tracks that are still running (the camera light is on). */
    liveVideoTracks() {
      return tracks.filter((t) => t.kind === 'video' && t.readyState === 'live').length;
    },
  };
})();
