// @ts-check
// speaker.js tells who is talking from the sound itself: one Web Audio
// analyser per participant's audio track, read a few times a second. It is
// the same in a mesh and through the media server (the tracks are what the
// page plays either way), and it needs nothing from the server. It never
// touches the DOM.

import { Emitter } from './emitter.js';

/** SAMPLE_MS is how often the levels are read. */
const SAMPLE_MS = 150;

/** SPEAKING_LEVEL is the RMS level (0..1) above which a sample counts as sound. */
const SPEAKING_LEVEL = 0.02;

/** HOLD_MS is how long someone still counts as speaking after their last loud sample (speech has pauses). */
const HOLD_MS = 1_200;

/** DOMINANT_MS is how long someone must speak before they take the large tile from another speaker. */
const DOMINANT_MS = 600;

/**
 * @typedef {object} SpeakerEvents
 * @property {{id: string, speaking: boolean}} speaking someone started or stopped speaking
 * @property {{id: string}} active the main speaker changed (the one a speaker layout shows large)
 */

/**
 * @typedef {object} Watched
 * @property {MediaStreamTrack} track
 * @property {MediaStreamAudioSourceNode} source
 * @property {AnalyserNode} analyser
 * @property {Float32Array<ArrayBuffer>} samples
 * @property {number} loudAt when the last loud sample was read (0: never)
 * @property {number} since when the current run of speech started (0: not speaking)
 * @property {boolean} candidate whether they can become the main speaker (not our own microphone)
 */

/**
 * SpeakerDetector follows the audio level of each watched track.
 *
 * @extends {Emitter<SpeakerEvents>}
 */
export class SpeakerDetector extends Emitter {
  /** @type {AudioContext | null} */
  #ctx = null;
  /** @type {Map<string, Watched>} */
  #watched = new Map();
  #timer = 0;
  /** the main speaker's id, '' before anyone spoke */
  active = '';

  /** supported is false where the page has no Web Audio. */
  static get supported() {
    return typeof AudioContext === 'function';
  }

  /**
   * watch follows the audio of `stream` as participant `id` (a later call for
   * the same id with another track replaces it; no audio track: unwatch).
   * @param {string} id
   * @param {MediaStream | null} stream
   * @param {boolean} [candidate] false for our own microphone: it rings, but never becomes the main speaker
   */
  watch(id, stream, candidate = true) {
    const track = stream?.getAudioTracks()[0] ?? null;
    const old = this.#watched.get(id);
    if (old?.track === track) return;
    this.unwatch(id);
    if (!track || !SpeakerDetector.supported) return;
    const ctx = (this.#ctx ??= new AudioContext());
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    this.#watched.set(id, { track, source, analyser, samples: new Float32Array(analyser.fftSize), loudAt: 0, since: 0, candidate });
    if (!this.#timer) this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  /** @param {string} id */
  unwatch(id) {
    const w = this.#watched.get(id);
    if (!w) return;
    this.#watched.delete(id);
    w.source.disconnect();
    if (w.since) this.emit('speaking', { id, speaking: false });
    if (this.active === id) this.active = '';
    if (this.#watched.size === 0) {
      clearInterval(this.#timer);
      this.#timer = 0;
    }
  }

  /** resume starts the audio clock where the browser waits for a user gesture; call it from one. */
  resume() {
    if (this.#ctx?.state === 'suspended') this.#ctx.resume().catch(() => {});
  }

  /**
   * isSpeaking is true while participant `id` counts as speaking.
   * @param {string} id
   */
  isSpeaking(id) {
    return Boolean(this.#watched.get(id)?.since);
  }

  /** close stops listening to everyone. */
  close() {
    for (const id of [...this.#watched.keys()]) this.unwatch(id);
    this.#ctx?.close().catch(() => {});
    this.#ctx = null;
  }

  #sample() {
    const now = performance.now();
    /** @type {string} */
    let longest = '';
    let longestSince = Infinity;
    for (const [id, w] of this.#watched) {
      w.analyser.getFloatTimeDomainData(w.samples);
      let sum = 0;
      for (const v of w.samples) sum += v * v;
      const rms = Math.sqrt(sum / w.samples.length);
      // A muted or ended track is silence, whatever a buffer still holds.
      const loud = rms > SPEAKING_LEVEL && w.track.enabled && w.track.readyState === 'live' && !w.track.muted;
      if (loud) w.loudAt = now;
      const speaking = w.loudAt > 0 && now - w.loudAt < HOLD_MS;
      if (speaking && !w.since) {
        w.since = now;
        this.emit('speaking', { id, speaking: true });
      } else if (!speaking && w.since) {
        w.since = 0;
        this.emit('speaking', { id, speaking: false });
      }
      if (w.candidate && w.since && w.since < longestSince) {
        longest = id;
        longestSince = w.since;
      }
    }
    // The main speaker changes to someone who has spoken a moment, while the current one is quiet.
    const current = this.#watched.get(this.active);
    const currentSpeaking = Boolean(current?.since);
    if (longest && longest !== this.active && !currentSpeaking && now - longestSince >= DOMINANT_MS) {
      this.active = longest;
      this.emit('active', { id: longest });
    }
  }
}
