// probe.js is injected into every test page before the app's scripts run
// (page.AddInitScriptAsync). It is test-only: it records each
// RTCPeerConnection and each getUserMedia track so the tests can read
// getStats() and check that the camera really stopped, without any hook in
// the product's code.
(() => {
  /** @type {RTCPeerConnection[]} */
  const pcs = [];
  /** @type {MediaStreamTrack[]} */
  const tracks = [];

  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    /** @param {RTCConfiguration} [config] */
    constructor(config) {
      super(config);
      pcs.push(this);
    }
  };

  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      tracks.push(...stream.getTracks());
      return stream;
    };
  }

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
    /** liveVideoTracks counts camera tracks that are still running (the camera light is on). */
    liveVideoTracks() {
      return tracks.filter((t) => t.kind === 'video' && t.readyState === 'live').length;
    },
  };
})();
