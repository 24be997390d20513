// @ts-check
// diagnostics.js knows what the room's ICE servers offer: it fetches them
// before joining (GET /api/ice-servers, credentials minted for a throwaway
// id, so checking shows up to nobody), tells STUN from TURN servers, and runs
// the pre-join connectivity check: gather candidates with those servers and
// sort them into the three paths a call can take, then say in plain words
// what that means for calls. It never touches the DOM.

/** ICE_CONFIG_URL answers {iceServers, iceTransportPolicy} like `joined` does. */
export const ICE_CONFIG_URL = '/api/ice-servers';

/** CHECK_TIMEOUT_MS bounds candidate gathering: a TURN server that does not answer would hold it for long. */
export const CHECK_TIMEOUT_MS = 5_000;

/** FETCH_TIMEOUT_MS bounds the request for the ICE servers. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * @typedef {object} IceConfig
 * @property {RTCIceServer[]} iceServers
 * @property {RTCIceTransportPolicy} iceTransportPolicy the server's default
 */

/**
 * PathStatus says whether one way to connect works from here:
 * available (the browser found a candidate of that type), unavailable (it did
 * not), unconfigured (the server offers nothing for that path).
 * @typedef {'available' | 'unavailable' | 'unconfigured'} PathStatus
 */

/**
 * @typedef {object} ConnectivityReport
 * @property {PathStatus} direct host candidates: this device's own addresses
 * @property {PathStatus} stun server-reflexive candidates: the public address a STUN (or TURN) server saw
 * @property {PathStatus} relay relay candidates: an allocation on the TURN server
 * @property {boolean} complete false when gathering was cut short by CHECK_TIMEOUT_MS
 */

/**
 * PATH_WORDS says a PathStatus in plain words.
 * @type {Readonly<Record<PathStatus, string>>}
 */
export const PATH_WORDS = Object.freeze({
  available: 'available',
  unavailable: 'not available',
  unconfigured: 'not configured on this server',
});

/**
 * checkSummary says in plain words what a connection check means for calls.
 * @param {ConnectivityReport} report
 * @param {boolean} relayOnly
 * @returns {string}
 */
export function checkSummary(report, relayOnly) {
  if (relayOnly) {
    return report.relay === 'available'
      ? 'The relay answers: calls in relay-only mode should connect.'
      : 'Relay-only mode is on but the relay cannot be used from here, so calls cannot connect.';
  }
  if (report.relay === 'available') return 'Calls should connect from any network.';
  if (report.stun === 'available') {
    return 'Calls should connect from most networks; a strict firewall on either side may still block them.';
  }
  if (report.direct === 'available') {
    return 'Calls can connect only with people whose network reaches yours directly, such as the same network.';
  }
  return 'This browser found no way to connect, so calls cannot work from here.';
}

/** IceConfigError is a failed request for the ICE configuration. */
export class IceConfigError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status, 0 when there was no answer
   */
  constructor(message, status) {
    super(message);
    this.name = 'IceConfigError';
    this.status = status;
  }
}

/**
 * urlsOf lists the URLs of an RTCIceServer (`urls` may be one string or many).
 * @param {RTCIceServer} server
 * @returns {string[]}
 */
export function urlsOf(server) {
  const urls = server.urls;
  if (typeof urls === 'string') return [urls];
  return Array.isArray(urls) ? urls.filter((u) => typeof u === 'string') : [];
}

/**
 * hasTurnServer is true when a `turn:` or `turns:` server is listed: without
 * one, relay-only calls cannot connect.
 * @param {RTCIceServer[]} iceServers
 * @returns {boolean}
 */
export function hasTurnServer(iceServers) {
  return iceServers.some((s) => urlsOf(s).some((u) => /^turns?:/i.test(u)));
}

/**
 * hasStunServer is true when some server can report the public address: a
 * `stun:` server, or a TURN server (its allocation answer carries it too).
 * @param {RTCIceServer[]} iceServers
 * @returns {boolean}
 */
export function hasStunServer(iceServers) {
  return iceServers.some((s) => urlsOf(s).some((u) => /^(stuns?|turns?):/i.test(u)));
}

/**
 * fetchIceConfig asks the server for its ICE servers and policy. It rejects
 * with an IceConfigError when the server does not answer, answers an error
 * (429: too many requests from this address), or answers something that is
 * not an ICE configuration.
 * @param {string} [url]
 * @returns {Promise<IceConfig>}
 */
export async function fetchIceConfig(url = ICE_CONFIG_URL) {
  /** @type {Response} */
  let response;
  /** @type {any} */
  let body;
  try {
    response = await fetch(url, {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw new IceConfigError(`${url} answered ${response.status}`, response.status);
    body = await response.json();
  } catch (err) {
    if (err instanceof IceConfigError) throw err;
    throw new IceConfigError(`${url}: ${err instanceof Error ? err.message : String(err)}`, 0);
  }
  if (!body || !Array.isArray(body.iceServers)) throw new IceConfigError(`${url} answered no iceServers`, response.status);
  return {
    iceServers: body.iceServers,
    iceTransportPolicy: body.iceTransportPolicy === 'relay' ? 'relay' : 'all',
  };
}

/**
 * candidateType reads a gathered candidate's type ('host', 'srflx', 'relay'),
 * from the candidate line when the browser leaves `type` empty.
 * @param {RTCIceCandidate} candidate
 * @returns {string}
 */
function candidateType(candidate) {
  if (candidate.type) return candidate.type;
  const match = / typ (\S+)/.exec(candidate.candidate);
  return match ? match[1] : '';
}

/**
 * checkConnectivity gathers ICE candidates with `iceServers` (always with
 * policy `all`: the check is about what exists, and gathered candidates stay
 * on this device) and reports each path. It waits until gathering completes,
 * every configured path has answered, or `timeoutMs` passes.
 * @param {RTCIceServer[]} iceServers
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<ConnectivityReport>}
 */
export async function checkConnectivity(iceServers, { timeoutMs = CHECK_TIMEOUT_MS } = {}) {
  const stunConfigured = hasStunServer(iceServers);
  const turnConfigured = hasTurnServer(iceServers);
  /** @type {Set<string>} */
  const found = new Set();
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'all' });
  let timer = 0;
  try {
    /** @type {Promise<boolean>} true when gathering completed */
    const gathered = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      const allFound = () =>
        found.has('host') && (!stunConfigured || found.has('srflx')) && (!turnConfigured || found.has('relay'));
      pc.onicecandidate = ({ candidate }) => {
        if (!candidate) {
          resolve(true); // null: end of candidates
          return;
        }
        found.add(candidateType(candidate));
        if (allFound()) resolve(true);
      };
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === 'complete') resolve(true);
      };
    });
    // A data channel gives the offer one m-line, which is all gathering needs.
    pc.createDataChannel('check');
    await pc.setLocalDescription();
    const complete = await gathered;
    /**
     * @param {string} type
     * @param {boolean} configured
     * @returns {PathStatus}
     */
    const status = (type, configured) => (found.has(type) ? 'available' : configured ? 'unavailable' : 'unconfigured');
    return {
      direct: status('host', true),
      stun: status('srflx', stunConfigured),
      relay: status('relay', turnConfigured),
      complete,
    };
  } finally {
    clearTimeout(timer);
    pc.onicecandidate = null;
    pc.onicegatheringstatechange = null;
    pc.close();
  }
}
