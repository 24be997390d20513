// @ts-check
// stats.js reads what a connection's getStats() says of the media received.

/**
 * advancing is the shared half of MediaTransport.playing: from one
 * getStats() of the connection carrying `tracks`, whether each wanted kind's
 * counter (video framesDecoded, audio packetsReceived) advanced since the
 * last look, which `last` keeps by track id.
 * @param {RTCPeerConnection | null | undefined} pc
 * @param {MediaStreamTrack[]} tracks
 * @param {{audio: boolean, video: boolean}} wants
 * @param {Map<string, number>} last
 * @returns {Promise<boolean>}
 */
export async function advancing(pc, tracks, wants, last) {
  if (!pc || pc.connectionState === 'closed') return false;
  const ids = new Map(tracks.map((t) => [t.id, t.kind]));
  /** @type {Record<string, boolean>} */
  const moved = { audio: false, video: false };
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || !ids.has(s.trackIdentifier)) return;
    const kind = ids.get(s.trackIdentifier) ?? '';
    const count = kind === 'video' ? s.framesDecoded || 0 : s.packetsReceived || 0;
    const before = last.get(s.trackIdentifier);
    last.set(s.trackIdentifier, count);
    if (before !== undefined && count > before) moved[kind] = true;
  });
  return (!wants.video || moved.video) && (!wants.audio || moved.audio);
}
