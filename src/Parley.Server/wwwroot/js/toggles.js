// @ts-check
// toggles.js runs a microphone and a camera toggle: the pair of round buttons
// that the preview and the call's toolbar each have. Pressed means "on".

import { toast } from './dom.js';
import { sentence } from './media.js';

/** @typedef {import('./media.js').LocalMedia} LocalMedia */

/**
 * setToggle reflects an on/off control in aria-pressed and its tooltip.
 * @param {HTMLButtonElement} button
 * @param {boolean} on
 * @param {'Microphone' | 'Camera'} device
 * @param {boolean} available whether the device can be used at all
 */
function setToggle(button, on, device, available) {
  button.setAttribute('aria-pressed', String(on));
  if (!available) {
    button.title = `${device} not available`;
  } else if (device === 'Microphone') {
    button.title = on ? 'Microphone on (click to mute)' : 'Microphone muted (click to unmute)';
  } else {
    button.title = on ? 'Camera on (click to turn off)' : 'Camera off (click to turn on)';
  }
}

/** MediaToggles turns the microphone and the camera on and off with two buttons. */
export class MediaToggles {
  #media;
  #mic;
  #cam;

  /**
   * @param {LocalMedia} media
   * @param {HTMLButtonElement} mic
   * @param {HTMLButtonElement} cam
   */
  constructor(media, mic, cam) {
    this.#media = media;
    this.#mic = mic;
    this.#cam = cam;
    mic.addEventListener('click', () => void this.#toggleMic());
    cam.addEventListener('click', () => void this.#toggleCamera());
  }

  /** render shows whether each device is on, and whether it can be had at all. */
  render() {
    const media = this.#media;
    const state = media.state;
    setToggle(this.#mic, state.audio, 'Microphone', media.audioTrack !== null || media.audioProblem === null);
    setToggle(this.#cam, state.video, 'Camera', media.videoTrack !== null || media.videoProblem === null);
  }

  async #toggleMic() {
    const media = this.#media;
    const on = !media.state.audio;
    await media.setMic(on);
    if (on && !media.audioTrack) toast(sentence('microphone', media.audioProblem ?? 'missing'));
  }

  async #toggleCamera() {
    const media = this.#media;
    const on = !media.state.video;
    await media.setCamera(on);
    if (on && !media.videoTrack) toast(sentence('camera', media.videoProblem ?? 'missing'));
  }
}
