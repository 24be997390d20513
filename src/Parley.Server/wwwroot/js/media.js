// @ts-check
// media.js owns the local camera and microphone: it asks for them, finds out
// why it could not get them, switches devices and turns them on and off. It
// also holds the screen share (screen.js asks for it). It never touches the DOM.

import { Emitter } from './emitter.js';

/** @typedef {'audio' | 'video'} MediaKind */

/**
 * SendKind is what a transport sends: the microphone, the camera, or the
 * shared screen (a second video).
 * @typedef {MediaKind | 'screen'} SendKind
 */

/**
 * MediaProblem says why a device is not available:
 * denied (the user or the browser refused permission), missing (no such
 * device), busy (another application holds it), insecure (the page is not
 * https:// or localhost, so the browser offers no devices at all), failed
 * (anything else).
 * @typedef {'denied' | 'missing' | 'busy' | 'insecure' | 'failed'} MediaProblem
 */

/**
 * @typedef {object} LocalMediaEvents
 * @property {{kind: SendKind, track: MediaStreamTrack | null}} track the track of a kind was replaced (null: none)
 * @property {LocalMedia} change anything changed: tracks, on/off, problems
 */

/** VIDEO_CONSTRAINTS suit a small mesh call: a few streams per person. */
const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };

/** AUDIO_CONSTRAINTS keep the browser's voice processing on. */
const AUDIO_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/**
 * classifyError maps a getUserMedia failure to a MediaProblem.
 * @param {unknown} err
 * @returns {MediaProblem}
 */
export function classifyError(err) {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

/**
 * explainProblems says in plain words what the user can and cannot do with
 * the devices they have. It returns '' when there is nothing to say.
 * @param {MediaProblem | null} audio
 * @param {MediaProblem | null} video
 * @returns {string}
 */
export function explainProblems(audio, video) {
  if (!audio && !video) return '';
  if (audio === 'insecure' || video === 'insecure') {
    return 'This page is not secure (it is not https:// or localhost), so your browser does not offer a camera or microphone. You can still join to watch and listen.';
  }
  if (audio && video) {
    if (audio === 'missing' && video === 'missing') {
      return 'No camera or microphone was found. You can still join to watch and listen; others will not see or hear you.';
    }
    if (audio === 'denied' && video === 'denied') {
      return 'Your browser is not allowing this page to use the camera or microphone. You can still join to watch and listen. To be seen and heard, allow them in the site settings (next to the address bar) and reload.';
    }
    return `${sentence('camera', video)} ${sentence('microphone', audio)} You can still join to watch and listen.`;
  }
  if (video) return `${sentence('camera', video)} You can join with your microphone only: others will hear you but not see you.`;
  return `${sentence('microphone', /** @type {MediaProblem} */ (audio))} You can join with your camera only: others will see you but not hear you.`;
}

/**
 * sentence says in plain words why one device is not available.
 * @param {'camera' | 'microphone'} device
 * @param {MediaProblem} problem
 * @returns {string}
 */
export function sentence(device, problem) {
  const Device = device[0].toUpperCase() + device.slice(1);
  switch (problem) {
    case 'denied':
      return `Your browser is not allowing this page to use the ${device} (you can allow it in the site settings, next to the address bar).`;
    case 'missing':
      return `No ${device} was found.`;
    case 'busy':
      return `${Device} is in use by another application, or could not be started.`;
    case 'insecure':
      return `This page is not secure (not https:// or localhost), so your browser offers no ${device}.`;
    default:
      return `${Device} could not be started.`;
  }
}

/**
 * LocalMedia is the local camera and microphone.
 * The microphone is muted with track.enabled (instant, no new permission);
 * the camera is turned off by stopping its track, so its light goes off.
 *
 * @extends {Emitter<LocalMediaEvents>}
 */
export class LocalMedia extends Emitter {
  /** @type {MediaStreamTrack | null} */
  audioTrack = null;
  /** @type {MediaStreamTrack | null} */
  videoTrack = null;
  /** @type {MediaStreamTrack | null} the shared screen, while sharing */
  screenTrack = null;
  /** micOn is the user's choice: send sound when there is a microphone. */
  micOn = true;
  /** camOn is the user's choice: send video when there is a camera. */
  camOn = true;
  /** @type {MediaProblem | null} */
  audioProblem = null;
  /** @type {MediaProblem | null} */
  videoProblem = null;
  /** @type {string} */
  audioDeviceId = '';
  /** @type {string} */
  videoDeviceId = '';
  /** @type {MediaDeviceInfo[]} */
  devices = [];
  #stopped = false;
  /** @type {{track: MediaStreamTrack | null, stream: MediaStream | null}} what videoStream last made */
  #shown = { track: null, stream: null };
  /** @type {{track: MediaStreamTrack | null, stream: MediaStream | null}} what screenStream last made */
  #shownScreen = { track: null, stream: null };

  /** supported is false where the browser offers no media devices (insecure page). */
  static get supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  /**
   * start asks for the microphone and the camera (one prompt for both where
   * possible); what cannot be had is recorded in audioProblem/videoProblem.
   * @param {{audioDeviceId?: string, videoDeviceId?: string}} [preferred] remembered device choices
   * @returns {Promise<void>}
   */
  async start(preferred = {}) {
    this.audioDeviceId = preferred.audioDeviceId ?? '';
    this.videoDeviceId = preferred.videoDeviceId ?? '';
    if (!LocalMedia.supported) {
      this.audioProblem = 'insecure';
      this.videoProblem = 'insecure';
      this.emit('change', this);
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: this.#audioConstraints(),
        video: this.#videoConstraints(),
      });
      this.#setTrack('audio', stream.getAudioTracks()[0] ?? null);
      this.#setTrack('video', stream.getVideoTracks()[0] ?? null);
    } catch {
      // One of them failed: ask for each alone to keep the other and learn why.
      await this.#acquire('video');
      await this.#acquire('audio');
    }
    await this.refreshDevices();
    navigator.mediaDevices.addEventListener('devicechange', () => void this.refreshDevices());
    this.emit('change', this);
  }

  /** refreshDevices re-reads the device list; labels appear once permission is granted. */
  async refreshDevices() {
    if (!LocalMedia.supported) return;
    try {
      this.devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.deviceId !== '');
    } catch {
      this.devices = [];
    }
    this.emit('change', this);
  }

  /**
   * setMic mutes or unmutes the microphone. Turning it on when there is no
   * microphone track tries to get one (the user may have plugged one in or
   * allowed it since).
   * @param {boolean} on
   */
  async setMic(on) {
    this.micOn = on;
    if (on && !this.audioTrack && LocalMedia.supported) await this.#acquire('audio');
    if (this.audioTrack) this.audioTrack.enabled = on;
    this.emit('change', this);
  }

  /**
   * setCamera turns the camera on (a new track) or off (the track stops, the
   * camera light goes off).
   * @param {boolean} on
   */
  async setCamera(on) {
    this.camOn = on;
    if (!on) {
      this.#setTrack('video', null);
    } else if (!this.videoTrack && LocalMedia.supported) {
      await this.#acquire('video');
      if (!this.camOn) this.#setTrack('video', null); // turned off again meanwhile
    }
    this.emit('change', this);
  }

  /**
   * selectDevice switches to another microphone or camera.
   * @param {MediaKind} kind
   * @param {string} deviceId
   */
  async selectDevice(kind, deviceId) {
    if (kind === 'audio') this.audioDeviceId = deviceId;
    else this.videoDeviceId = deviceId;
    const wanted = kind === 'audio' ? this.audioTrack !== null || this.micOn : this.camOn;
    if (wanted && LocalMedia.supported) await this.#acquire(kind);
    this.emit('change', this);
  }

  /** stop releases every device, and ends a screen share. */
  stop() {
    this.#stopped = true;
    this.#setTrack('audio', null);
    this.#setTrack('video', null);
    this.setScreen(null);
  }

  /**
   * setScreen shares `track` (from screen.js's captureScreen), or stops
   * sharing (null): the track before it is stopped. A track that ends by
   * itself (the browser's own "Stop sharing" bar, a closed window) stops the
   * share like setScreen(null).
   * @param {MediaStreamTrack | null} track
   */
  setScreen(track) {
    const old = this.screenTrack;
    if (old === track) return;
    if (track && this.#stopped) {
      track.stop();
      return;
    }
    this.screenTrack = track;
    old?.stop();
    track?.addEventListener('ended', () => {
      if (this.screenTrack === track) this.setScreen(null);
    });
    this.emit('track', { kind: 'screen', track });
    this.emit('change', this);
  }

  /** state is what to announce in the protocol's `state` message. */
  get state() {
    return {
      audio: Boolean(this.audioTrack && this.micOn),
      video: Boolean(this.videoTrack && this.camOn),
      screen: this.screenTrack !== null,
      hand: false,
    };
  }

  /**
   * videoStream is the camera track alone, for showing ourselves (null without
   * a camera): the same stream until the track changes, so every view that
   * shows it can set it again on each change without restarting its video.
   * @returns {MediaStream | null}
   */
  get videoStream() {
    if (this.#shown.track !== this.videoTrack) {
      this.#shown = { track: this.videoTrack, stream: this.videoTrack ? new MediaStream([this.videoTrack]) : null };
    }
    return this.#shown.stream;
  }

  /**
   * screenStream is the shared screen alone, for showing it to ourselves
   * (null while not sharing), the same stream until the track changes.
   * @returns {MediaStream | null}
   */
  get screenStream() {
    if (this.#shownScreen.track !== this.screenTrack) {
      this.#shownScreen = { track: this.screenTrack, stream: this.screenTrack ? new MediaStream([this.screenTrack]) : null };
    }
    return this.#shownScreen.stream;
  }

  /** @returns {MediaTrackConstraints} */
  #audioConstraints() {
    return this.audioDeviceId ? { ...AUDIO_CONSTRAINTS, deviceId: { exact: this.audioDeviceId } } : AUDIO_CONSTRAINTS;
  }

  /** @returns {MediaTrackConstraints} */
  #videoConstraints() {
    return this.videoDeviceId ? { ...VIDEO_CONSTRAINTS, deviceId: { exact: this.videoDeviceId } } : VIDEO_CONSTRAINTS;
  }

  /**
   * acquire gets a fresh track of one kind and swaps it in, or records why not.
   * @param {MediaKind} kind
   */
  async #acquire(kind) {
    try {
      const constraints = kind === 'audio' ? { audio: this.#audioConstraints() } : { video: this.#videoConstraints() };
      const stream = await navigator.mediaDevices.getUserMedia(constraints).catch((err) => {
        // A remembered device that is gone: fall back to the default one.
        const named = kind === 'audio' ? this.audioDeviceId : this.videoDeviceId;
        if (!named || classifyError(err) !== 'missing') throw err;
        if (kind === 'audio') this.audioDeviceId = '';
        else this.videoDeviceId = '';
        return navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: AUDIO_CONSTRAINTS } : { video: VIDEO_CONSTRAINTS });
      });
      const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (this.#stopped) {
        track?.stop();
        return;
      }
      this.#setTrack(kind, track ?? null);
    } catch (err) {
      if (kind === 'audio') this.audioProblem = classifyError(err);
      else this.videoProblem = classifyError(err);
    }
  }

  /**
   * @param {MediaKind} kind
   * @param {MediaStreamTrack | null} track
   */
  #setTrack(kind, track) {
    const old = kind === 'audio' ? this.audioTrack : this.videoTrack;
    if (old === track) return;
    old?.stop();
    if (track) {
      if (kind === 'audio') {
        track.enabled = this.micOn;
        this.audioProblem = null;
        this.audioDeviceId = track.getSettings().deviceId ?? this.audioDeviceId;
      } else {
        this.videoProblem = null;
        this.videoDeviceId = track.getSettings().deviceId ?? this.videoDeviceId;
      }
      track.addEventListener('ended', () => {
        // Unplugged or revoked: forget it, the peers stop getting it.
        if ((kind === 'audio' ? this.audioTrack : this.videoTrack) !== track) return;
        if (kind === 'audio') this.audioProblem = 'missing';
        else this.videoProblem = 'missing';
        this.#setTrack(kind, null);
        this.emit('change', this);
      });
    }
    if (kind === 'audio') this.audioTrack = track;
    else this.videoTrack = track;
    this.emit('track', { kind, track });
  }
}
