// netprobe.js is injected into every page of the network tests before the app's
// scripts run (BrowserContext.AddInitScriptAsync). It is test-only: it records
// each RTCPeerConnection so the tests can read getStats() (media counters, the
// selected candidate pair, the candidates and checks), and it records what the
// Content-Security-Policy blocked. Nothing in the product knows about it.
//
// A test may set window.__netProbeTurnCredential = {username, credential}
// before this runs (an earlier init script): every TURN server in the
// `joined` and `ice-servers` signaling messages then carries that credential
// instead of the one the server minted, as if it had been tampered with or
// had expired on its way.
(() => {
  /** @type {RTCPeerConnection[]} */
  const pcs = [];
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    /** @param {RTCConfiguration} [config] */
    constructor(config) {
      super(config);
      pcs.push(this);
    }
  };

  /** @type {string[]} */
  const cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
  });

  /** isTurn is true for an RTCIceServer with a turn: or turns: URL. */
  const isTurn = (server) => [].concat(server.urls).some((u) => /^turns?:/.test(u));

  // The credential override rewrites incoming signaling messages before the
  // app's listener sees them; the app's code is untouched.
  const override = window.__netProbeTurnCredential;
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

  window.__netProbe = {
    /** inbound sums the inbound RTP counters of each open connection. */
    async inbound() {
      const out = [];
      for (const pc of open()) {
        let framesDecoded = 0;
        let packetsReceived = 0;
        for (const s of (await reports(pc)).values()) {
          if (s.type !== 'inbound-rtp') continue;
          if (s.kind === 'video') framesDecoded += s.framesDecoded || 0;
          if (s.kind === 'audio') packetsReceived += s.packetsReceived || 0;
        }
        out.push({ state: pc.connectionState, framesDecoded, packetsReceived });
      }
      return out;
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

    /** turnUsernames lists the TURN usernames each open connection is configured with. */
    turnUsernames() {
      return open().map((pc) =>
        (pc.getConfiguration().iceServers || []).filter(isTurn).map((s) => s.username || ''),
      );
    },

    /** cspViolations lists what the Content-Security-Policy blocked on this page. */
    cspViolations() {
      return cspViolations.slice();
    },
  };
})();
