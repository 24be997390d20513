// @ts-check
// screen.js is how a screen share is captured and sent: getDisplayMedia with
// the size and rate a shared screen needs, and the sender parameters both
// transports put on the screen's sender (peer.js, sfu.js). It never touches
// the DOM; the toolbar button is call.js's, the tiles tiles.js's.
//
// A screen is sent for legibility, not motion: contentHint "detail", at most
// 1920x1080 and 15 fps, up to 1.5 Mb/s, and when bandwidth is short the
// encoder drops frames rather than pixels (degradationPreference
// "maintain-resolution").

/** SCREEN_MAX_BITRATE is the most a shared screen is sent at, in bit/s. */
export const SCREEN_MAX_BITRATE = 1_500_000;

/** SCREEN_MAX_FRAMERATE is the most frames per second a shared screen is sent at. */
export const SCREEN_MAX_FRAMERATE = 15;

/** SCREEN_CONSTRAINTS ask for the screen at up to 1920x1080, 15 fps, no audio. */
const SCREEN_CONSTRAINTS = {
  video: { width: { max: 1920 }, height: { max: 1080 }, frameRate: { ideal: SCREEN_MAX_FRAMERATE, max: SCREEN_MAX_FRAMERATE } },
  audio: false,
};

/**
 * SCREEN_ENCODING is the screen sender's one encoding (never simulcast), for
 * a transceiver made before any screen is shared.
 * @type {RTCRtpEncodingParameters}
 */
export const SCREEN_ENCODING = Object.freeze({ maxBitrate: SCREEN_MAX_BITRATE, maxFramerate: SCREEN_MAX_FRAMERATE });

/**
 * screenSupported is false where the browser cannot share a screen (phones,
 * an insecure page).
 * @returns {boolean}
 */
export function screenSupported() {
  return Boolean(navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === 'function');
}

/**
 * captureScreen asks the user for a screen, window or tab to share (the
 * browser's own picker) and returns its video track, marked as detail. It
 * must run from a user gesture (a click, a key). It rejects when the user
 * cancels (NotAllowedError) or the browser refuses.
 * @returns {Promise<MediaStreamTrack>}
 */
export async function captureScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia(SCREEN_CONSTRAINTS);
  const [track] = stream.getVideoTracks();
  for (const other of stream.getTracks()) if (other !== track) other.stop();
  if (!track) throw new DOMException('No screen was shared.', 'NotFoundError');
  track.contentHint = 'detail';
  return track;
}

/**
 * tuneScreenSender puts the screen's sending parameters on `sender`:
 * 1.5 Mb/s and 15 fps at most, resolution kept when bandwidth is short. A
 * sender not negotiated yet has no encodings to set (its transceiver got
 * SCREEN_ENCODING when made, or it gets these once a track is on it); a
 * browser that refuses the degradation preference gets the rest.
 * @param {RTCRtpSender} sender
 * @returns {Promise<void>}
 */
export async function tuneScreenSender(sender) {
  const apply = async (/** @type {boolean} */ withPreference) => {
    const params = /** @type {RTCRtpSendParameters & {degradationPreference?: string}} */ (sender.getParameters());
    if (!params.encodings || params.encodings.length === 0) return;
    for (const encoding of params.encodings) {
      encoding.maxBitrate = SCREEN_MAX_BITRATE;
      encoding.maxFramerate = SCREEN_MAX_FRAMERATE;
    }
    if (withPreference) params.degradationPreference = 'maintain-resolution';
    await sender.setParameters(params);
  };
  try {
    await apply(true);
  } catch {
    await apply(false).catch((err) => console.warn('parley: screen sender parameters refused', err));
  }
}
