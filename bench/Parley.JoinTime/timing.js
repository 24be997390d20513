// timing.js is injected into each benchmark page before the app's scripts (AddInitScript). It
// changes nothing the app does; it wraps WebSocket and RTCPeerConnection to note, on one clock
// (performance.timeOrigin + performance.now(), in ms), when the Join button was clicked, when
// each signaling message went out or came in, when ICE and DTLS connected, and when the first
// remote video frame was decoded (a MediaStreamTrackProcessor on a clone of the remote track).
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const t = {
    click: 0, wsOpen: 0, joinSent: 0, joined: 0, pcCreated: 0,
    iceConnected: 0, connected: 0, firstFrame: 0, frameMethod: '',
    /** @type {{dir: 'out' | 'in', type: string, at: number}[]} */
    messages: [],
  };
  window.__joinTime = t;

  document.addEventListener('click', (ev) => {
    const target = /** @type {Element} */ (ev.target);
    if (!t.click && target && target.closest && target.closest('#join')) t.click = now();
  }, true);

  const typeOf = (data) => {
    if (typeof data !== 'string') return '';
    const m = /"type"\s*:\s*"([a-z-]+)"/.exec(data);
    return m ? m[1] : '';
  };

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => { if (!t.wsOpen) t.wsOpen = now(); });
      this.addEventListener('message', (ev) => {
        const at = now();
        const type = typeOf(ev.data);
        if (type === 'joined' && !t.joined) t.joined = at;
        if (type !== 'pong') t.messages.push({ dir: 'in', type, at });
      });
    }
    send(data) {
      const at = now();
      const type = typeOf(data);
      if (type === 'join' && !t.joinSent) t.joinSent = at;
      if (type !== 'ping') t.messages.push({ dir: 'out', type, at });
      return super.send(data);
    }
  };

  const firstFrame = (track) => {
    if (t.firstFrame || t.frameMethod) return;
    if (typeof MediaStreamTrackProcessor === 'function') {
      t.frameMethod = 'MediaStreamTrackProcessor';
      const clone = track.clone();
      const reader = new MediaStreamTrackProcessor({ track: clone }).readable.getReader();
      reader.read().then(({ value }) => {
        if (value && !t.firstFrame) t.firstFrame = now();
        if (value) value.close();
        reader.cancel().catch(() => {});
        clone.stop();
      }).catch(() => {});
      return;
    }
    t.frameMethod = 'requestVideoFrameCallback';
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.style.cssText = 'position:fixed;left:0;top:0;width:4px;height:4px;opacity:0.01;pointer-events:none';
    video.srcObject = new MediaStream([track]);
    document.documentElement.appendChild(video);
    video.requestVideoFrameCallback(() => {
      if (!t.firstFrame) t.firstFrame = now();
      video.remove();
    });
    video.play().catch(() => {});
  };

  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      if (!t.pcCreated) t.pcCreated = now();
      this.addEventListener('iceconnectionstatechange', () => {
        if (!t.iceConnected && (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed')) t.iceConnected = now();
      });
      this.addEventListener('connectionstatechange', () => {
        if (!t.connected && this.connectionState === 'connected') t.connected = now();
      });
      this.addEventListener('track', (ev) => {
        if (ev.track.kind === 'video') firstFrame(ev.track);
      });
    }
  };
})();
