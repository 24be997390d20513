// @ts-check
// quality.js reads call quality out of WebRTC statistics (getStats()): for
// the media we receive from one participant, and for what we send. It is
// plain computation over the reports, with no connection and no DOM, so the
// same code serves a mesh and the media server.

/**
 * @typedef {'good' | 'fair' | 'poor' | 'unknown'} QualityLevel
 */

/**
 * @typedef {object} ReceiveQuality what we get from one participant, over the last interval
 * @property {QualityLevel} level
 * @property {number | null} rttMs round-trip time of the connection
 * @property {number | null} lossPct packets lost, percent
 * @property {number | null} kbps bitrate of their audio and video together
 * @property {number} width their video as decoded (0: none)
 * @property {number} height
 * @property {number | null} fps frames decoded per second
 * @property {boolean | null} relayed whether the media goes through a TURN relay (null: no path yet)
 */

/**
 * @typedef {object} SendQuality what we send, over the last interval
 * @property {QualityLevel} level
 * @property {string} limitation why the browser sends less than it would ('bandwidth', 'cpu'; '' when it does not)
 * @property {number | null} lossPct packets the receivers report lost, percent
 * @property {number | null} rttMs
 */

/**
 * @typedef {object} Counters the cumulative counters of one participant's inbound media at one moment
 * @property {number} at timestamp, ms
 * @property {number} bytes
 * @property {number} received
 * @property {number} lost
 */

/**
 * grade turns loss and delay into a level: what people notice, roughly — a
 * few percent loss or a quarter second of delay is audible, ten percent or
 * half a second makes talking hard.
 * @param {number | null} lossPct
 * @param {number | null} rttMs
 * @returns {QualityLevel}
 */
export function grade(lossPct, rttMs) {
  if (lossPct === null && rttMs === null) return 'unknown';
  if ((lossPct ?? 0) >= 10 || (rttMs ?? 0) >= 500) return 'poor';
  if ((lossPct ?? 0) >= 3 || (rttMs ?? 0) >= 250) return 'fair';
  return 'good';
}

/**
 * selectedPair finds the candidate pair a report's transport uses.
 * @param {RTCStatsReport} report
 * @returns {any}
 */
function selectedPair(report) {
  /** @type {any} */
  let pair = null;
  report.forEach((/** @type {any} */ s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) ?? pair;
  });
  if (!pair) {
    report.forEach((/** @type {any} */ s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
  }
  return pair;
}

/**
 * receiveQuality measures the media of the tracks `trackIds` in `report`
 * against `before` (the previous sample, or null), and returns the quality
 * and this sample's counters for the next call.
 * @param {RTCStatsReport} report
 * @param {Set<string>} trackIds the tracks that carry the participant's media
 * @param {Counters | null} before
 * @returns {{quality: ReceiveQuality, counters: Counters}}
 */
export function receiveQuality(report, trackIds, before) {
  let bytes = 0;
  let received = 0;
  let lost = 0;
  let width = 0;
  let height = 0;
  /** @type {number | null} */
  let fps = null;
  let at = 0;
  report.forEach((/** @type {any} */ s) => {
    if (s.type !== 'inbound-rtp' || !trackIds.has(s.trackIdentifier)) return;
    at = Math.max(at, s.timestamp ?? 0);
    bytes += s.bytesReceived ?? 0;
    received += s.packetsReceived ?? 0;
    lost += Math.max(0, s.packetsLost ?? 0);
    if (s.kind === 'video') {
      width = Math.max(width, s.frameWidth ?? 0);
      height = Math.max(height, s.frameHeight ?? 0);
      if (typeof s.framesPerSecond === 'number') fps = s.framesPerSecond;
    }
  });
  const pair = selectedPair(report);
  const rttMs = typeof pair?.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
  const local = pair ? /** @type {any} */ (report.get(pair.localCandidateId)) : null;
  const remote = pair ? /** @type {any} */ (report.get(pair.remoteCandidateId)) : null;
  const relayed = pair ? local?.candidateType === 'relay' || remote?.candidateType === 'relay' : null;
  /** @type {number | null} */
  let lossPct = null;
  /** @type {number | null} */
  let kbps = null;
  if (before && at > before.at) {
    const got = received - before.received;
    const missed = lost - before.lost;
    lossPct = got + missed > 0 ? (100 * Math.max(0, missed)) / (got + missed) : null;
    kbps = Math.round(((bytes - before.bytes) * 8) / (at - before.at));
  }
  const counters = { at, bytes, received, lost };
  return { quality: { level: grade(lossPct, rttMs), rttMs, lossPct, kbps, width, height, fps, relayed }, counters };
}

/**
 * sendQuality reads how our own media leaves: whether the browser holds the
 * video back (for bandwidth or CPU) and what the receivers report lost.
 * @param {RTCStatsReport[]} reports one per connection that sends
 * @returns {SendQuality}
 */
export function sendQuality(reports) {
  let limitation = '';
  /** @type {number | null} */
  let lossPct = null;
  /** @type {number | null} */
  let rttMs = null;
  for (const report of reports) {
    report.forEach((/** @type {any} */ s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.qualityLimitationReason && s.qualityLimitationReason !== 'none') {
        // Bandwidth is what the user can do something about; it wins over cpu.
        if (limitation !== 'bandwidth') limitation = s.qualityLimitationReason;
      }
      if (s.type === 'remote-inbound-rtp') {
        if (typeof s.fractionLost === 'number') lossPct = Math.max(lossPct ?? 0, s.fractionLost * 100);
        if (typeof s.roundTripTime === 'number') rttMs = Math.max(rttMs ?? 0, Math.round(s.roundTripTime * 1000));
      }
    });
  }
  const graded = grade(lossPct, rttMs);
  const level = limitation === 'bandwidth' && (graded === 'good' || graded === 'unknown') ? 'fair' : graded;
  return { level, limitation, lossPct, rttMs };
}

/**
 * describe puts a participant's quality in words, one line per measure.
 * @param {ReceiveQuality} q
 * @returns {string[]}
 */
export function describe(q) {
  const lines = [];
  lines.push(`Quality: ${q.level === 'unknown' ? 'measuring…' : q.level}`);
  if (q.rttMs !== null) lines.push(`Round trip: ${q.rttMs} ms`);
  if (q.lossPct !== null) lines.push(`Packet loss: ${q.lossPct.toFixed(1)} %`);
  if (q.kbps !== null) lines.push(`Bitrate: ${q.kbps} kb/s`);
  if (q.width) lines.push(`Video: ${q.width}×${q.height}${q.fps !== null ? ` at ${Math.round(q.fps)} fps` : ''}`);
  if (q.relayed !== null) lines.push(`Path: ${q.relayed ? 'relayed (TURN)' : 'direct'}`);
  return lines;
}
