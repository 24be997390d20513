// sfuclient.js is a test-only protocol client for the SFU messages, evaluated in a blank Parley
// page: it speaks docs/protocol.md over its own WebSocket and uses Chromium's RTCPeerConnection
// as its WebRTC stack, with none of the product's client code. It publishes a fake camera and
// microphone, answers every subscribe offer, and keeps every message it received, so a test
// can check what the server says and send it anything (raw) it likes.
(() => {
  const received = [];
  let ws = null;
  let publish = null;
  let subscribe = null;
  let subscribes = 0;
  const queued = { publish: [], subscribe: [] };
  let autoAnswer = true;

  const send = (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message));

  const pcOf = (name) => (name === 'publish' ? publish : subscribe);

  async function addCandidate(name, candidate) {
    const pc = pcOf(name);
    if (!pc || !pc.remoteDescription) {
      queued[name].push(candidate);
      return;
    }
    await (candidate ? pc.addIceCandidate(candidate) : pc.addIceCandidate());
  }

  async function flush(name) {
    const pc = pcOf(name);
    for (const candidate of queued[name].splice(0)) await (candidate ? pc.addIceCandidate(candidate) : pc.addIceCandidate());
  }

  let chain = Promise.resolve();
  function handle(message) {
    chain = chain.then(async () => {
      if (message.type === 'sfu-answer' && message.pc === 'publish' && publish) {
        await publish.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        await flush('publish');
      } else if (message.type === 'sfu-offer' && message.pc === 'subscribe' && autoAnswer) {
        if (message.fresh && subscribe) {
          subscribe.close();
          subscribe = null;
        }
        if (!subscribe) {
          subscribe = new RTCPeerConnection();
          subscribes++;
          subscribe.onicecandidate = ({ candidate }) =>
            send({ type: 'sfu-candidate', pc: 'subscribe', candidate: candidate ? candidate.toJSON() : null });
        }
        await subscribe.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        await subscribe.setLocalDescription();
        send({ type: 'sfu-answer', pc: 'subscribe', sdp: subscribe.localDescription.sdp });
        await flush('subscribe');
      } else if (message.type === 'sfu-candidate') {
        await addCandidate(message.pc, message.candidate);
      }
    }).catch((err) => received.push({ type: 'client-error', message: String(err) }));
  }

  window.__sfu = {
    /** connect opens the signaling socket and joins; resolves with `joined` or the `error`. */
    async connect(room, name) {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.onmessage = (e) => {
        const message = JSON.parse(e.data);
        received.push(message);
        handle(message);
      };
      send({ type: 'join', version: 1, room, name, features: ['sfu'] });
      return window.__sfu.next((m) => m.type === 'joined' || m.type === 'error');
    },
    /** next resolves with the first message received (from `from` on) that matches. */
    async next(match, from = 0, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.slice(from).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(received.map((m) => m.type))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** publish sends a fake camera and microphone on a fresh publish connection. */
    async publish() {
      const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 180, frameRate: 15 } });
      publish = new RTCPeerConnection();
      for (const track of media.getTracks()) publish.addTransceiver(track, { direction: 'sendonly' });
      publish.onicecandidate = ({ candidate }) =>
        send({ type: 'sfu-candidate', pc: 'publish', candidate: candidate ? candidate.toJSON() : null });
      await publish.setLocalDescription();
      send({ type: 'sfu-offer', pc: 'publish', sdp: publish.localDescription.sdp, fresh: true });
    },
    /** offerSdp makes an SDP offer with audio and video, for tests that send it somewhere odd. */
    async offerSdp() {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio');
      pc.addTransceiver('video');
      const offer = await pc.createOffer();
      pc.close();
      return offer.sdp;
    },
    /** raw sends any text or object as it is. */
    raw(message) {
      send(message);
    },
    setAutoAnswer(on) {
      autoAnswer = on;
    },
    count() {
      return received.length;
    },
    messages() {
      return received.slice();
    },
    /** state is the connection state of both SFU connections, and how many subscribe connections there were. */
    state() {
      return { publish: publish ? publish.connectionState : 'none', subscribe: subscribe ? subscribe.connectionState : 'none', subscribes };
    },
    /** inbound sums what the subscribe connection receives, per kind. */
    async inbound() {
      const out = { framesDecoded: 0, audioPackets: 0, videoStreams: 0, audioStreams: 0 };
      if (!subscribe) return out;
      (await subscribe.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          out.framesDecoded += s.framesDecoded || 0;
          if ((s.framesDecoded || 0) > 0) out.videoStreams++;
        } else {
          out.audioPackets += s.packetsReceived || 0;
          if ((s.packetsReceived || 0) > 0) out.audioStreams++;
        }
      });
      return out;
    },
    close() {
      ws && ws.close();
      publish && publish.close();
      subscribe && subscribe.close();
    },
  };
})();
