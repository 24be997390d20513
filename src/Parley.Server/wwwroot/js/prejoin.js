// @ts-check
// prejoin.js runs the meeting page's pre-join step: the camera preview and
// its toggles, the name, the device pickers, relay-only mode and the
// connection check. It remembers the choices for the next visit and hands
// the name to whoever joins.

import { IceConfigError, PATH_WORDS, checkConnectivity, checkSummary, fetchIceConfig, hasTurnServer } from './diagnostics.js';
import { byId, recall, remember, setNotice, showView } from './dom.js';
import { explainProblems } from './media.js';
import { cleanName } from './names.js';
import { initial } from './tiles.js';
import { MediaToggles } from './toggles.js';

/** @typedef {import('./media.js').LocalMedia} LocalMedia */
/** @typedef {import('./diagnostics.js').IceConfig} IceConfig */
/** @typedef {import('./diagnostics.js').ConnectivityReport} ConnectivityReport */
/** @typedef {import('./diagnostics.js').PathStatus} PathStatus */

/** STORAGE names what the page remembers in localStorage. */
const STORAGE = {
  name: 'parley.name',
  audioDevice: 'parley.audioDevice',
  videoDevice: 'parley.videoDevice',
  relayOnly: 'parley.relayOnly',
};

const RELAY_HELP = "Hides your IP address from others by routing media through the server's relay; may add delay.";

/**
 * showPath puts one path's result on its line of the check results.
 * @param {HTMLLIElement} item
 * @param {PathStatus} status
 */
function showPath(item, status) {
  item.dataset.status = status;
  const result = item.querySelector('.path-result');
  if (result) result.textContent = PATH_WORDS[status];
}

/**
 * fillDevices lists the devices of one kind in a picker.
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} all every device
 * @param {MediaDeviceKind} kind
 * @param {string} selected device id in use
 * @param {string} none text when there is no device
 */
export function fillDevices(select, all, kind, selected, none) {
  const devices = all.filter((d) => d.kind === kind);
  const key = JSON.stringify(devices.map((d) => [d.deviceId, d.label])) + selected;
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.replaceChildren();
  if (devices.length === 0) {
    const option = document.createElement('option');
    option.value = '';
    option.textContent = none;
    select.append(option);
    select.disabled = true;
    return;
  }
  devices.forEach((device, i) => {
    const option = document.createElement('option');
    option.value = device.deviceId;
    // Labels are empty until the user grants permission.
    option.textContent = device.label || `${kind === 'audioinput' ? 'Microphone' : kind === 'audiooutput' ? 'Speaker' : 'Camera'} ${i + 1}`;
    option.selected = device.deviceId === selected;
    select.append(option);
  });
  select.disabled = false;
}

/** PrejoinView is the pre-join step of one room. */
export class PrejoinView {
  #ui = {
    preview: byId('preview', HTMLVideoElement),
    previewTile: /** @type {HTMLElement} */ (byId('preview', HTMLVideoElement).parentElement),
    previewInitial: byId('preview-initial', HTMLSpanElement),
    previewStatus: byId('preview-status', HTMLParagraphElement),
    joinForm: byId('join-form', HTMLFormElement),
    name: byId('name', HTMLInputElement),
    nameError: byId('name-error', HTMLParagraphElement),
    micSelect: byId('mic-select', HTMLSelectElement),
    camSelect: byId('cam-select', HTMLSelectElement),
    relayOnly: byId('relay-only', HTMLInputElement),
    relayHelp: byId('relay-help', HTMLParagraphElement),
    relayNotice: byId('relay-notice', HTMLParagraphElement),
    check: byId('check', HTMLButtonElement),
    checkStatus: byId('check-status', HTMLParagraphElement),
    checkResults: byId('check-results', HTMLUListElement),
    checkDirect: byId('check-direct', HTMLLIElement),
    checkStun: byId('check-stun', HTMLLIElement),
    checkRelay: byId('check-relay', HTMLLIElement),
    mediaNotice: byId('media-notice', HTMLParagraphElement),
    joinError: byId('join-error', HTMLParagraphElement),
    join: byId('join', HTMLButtonElement),
  };

  /**
   * #iceConfig is what the server last said about its ICE servers and policy
   * (GET /api/ice-servers, then `joined`); null until it answers.
   * @type {IceConfig | null}
   */
  #iceConfig = null;
  /** @type {Promise<void>} */
  #mediaReady = Promise.resolve();
  #media;
  #toggles;

  /**
   * @param {string} room
   * @param {LocalMedia} media
   * @param {(name: string) => void} onJoin called with the cleaned name when the form is sent
   */
  constructor(room, media, onJoin) {
    const ui = this.#ui;
    this.#media = media;
    this.#toggles = new MediaToggles(media, byId('pre-mic', HTMLButtonElement), byId('pre-cam', HTMLButtonElement));
    byId('prejoin-room', HTMLElement).textContent = room;

    ui.name.addEventListener('input', () => {
      ui.previewInitial.textContent = initial(ui.name.value);
      ui.nameError.hidden = true;
      ui.name.removeAttribute('aria-invalid');
    });
    ui.micSelect.addEventListener('change', () => {
      remember(STORAGE.audioDevice, ui.micSelect.value);
      void media.selectDevice('audio', ui.micSelect.value);
    });
    ui.camSelect.addEventListener('change', () => {
      remember(STORAGE.videoDevice, ui.camSelect.value);
      void media.selectDevice('video', ui.camSelect.value);
    });
    ui.relayOnly.addEventListener('change', () => {
      remember(STORAGE.relayOnly, ui.relayOnly.checked ? '1' : '');
      this.#renderRelay();
    });
    ui.check.addEventListener('click', () => void this.#runCheck());
    ui.joinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = cleanName(ui.name.value);
      if (!name) {
        setNotice(ui.nameError, 'Please enter your name, so others know who you are.');
        ui.name.setAttribute('aria-invalid', 'true');
        ui.name.focus();
        return;
      }
      ui.name.value = name;
      remember(STORAGE.name, name);
      onJoin(name);
    });
  }

  /** start shows the pre-join step and starts the camera and microphone. */
  start() {
    const ui = this.#ui;
    const media = this.#media;
    showView('prejoin');
    ui.name.value = recall(STORAGE.name);
    ui.previewInitial.textContent = initial(ui.name.value);
    media.on('change', () => this.render());
    this.#mediaReady = media
      .start({ audioDeviceId: recall(STORAGE.audioDevice), videoDeviceId: recall(STORAGE.videoDevice) })
      .catch((err) => console.error('parley: media start failed', err));
    this.#mediaReady.then(() => this.render());
    ui.relayOnly.checked = recall(STORAGE.relayOnly) === '1';
    this.#renderRelay();
    // The server's policy and servers, to lock the toggle or warn before joining;
    // without them the page just learns it all from `joined`.
    fetchIceConfig()
      .then((config) => this.setIceConfig(config))
      .catch((err) => console.warn('parley: no ICE configuration before joining', err));
    if (!ui.name.value) ui.name.focus();
  }

  /** render shows the local media: preview, toggles, what is missing, the devices. */
  render() {
    const ui = this.#ui;
    const media = this.#media;
    const stream = media.videoStream;
    if (ui.preview.srcObject !== stream) {
      ui.preview.srcObject = stream;
      if (stream) ui.preview.play().catch(() => {});
    }
    ui.previewTile.dataset.video = media.state.video ? 'on' : 'off';
    ui.previewStatus.textContent = media.videoProblem ? 'No camera' : media.camOn ? 'Starting camera…' : 'Camera is off';
    this.#toggles.render();

    // What the user has to know about missing devices, in plain words.
    setNotice(ui.mediaNotice, explainProblems(media.audioProblem, media.videoProblem));

    fillDevices(ui.micSelect, media.devices, 'audioinput', media.audioDeviceId, 'No microphone');
    fillDevices(ui.camSelect, media.devices, 'videoinput', media.videoDeviceId, 'No camera');
  }

  /**
   * setIceConfig takes what the server said of its ICE servers and policy.
   * @param {IceConfig} config
   */
  setIceConfig(config) {
    this.#iceConfig = config;
    this.#renderRelay();
  }

  /** mediaReady settles once the first request for camera and microphone is answered. */
  get mediaReady() {
    return this.#mediaReady;
  }

  /** relayWanted is true when this page's calls use only the relay. */
  get relayWanted() {
    return this.#relayForced() || this.#ui.relayOnly.checked;
  }

  /**
   * setJoining shows that a join is under way (the button is busy) or over.
   * @param {boolean} joining
   */
  setJoining(joining) {
    this.#ui.join.disabled = joining;
    this.#ui.join.textContent = joining ? 'Joining…' : 'Join';
    if (joining) this.#ui.joinError.hidden = true;
  }

  /**
   * showError says why joining failed.
   * @param {string} text
   */
  showError(text) {
    setNotice(this.#ui.joinError, text);
  }

  /** relayForced is true when the server makes every call relay-only. */
  #relayForced() {
    return this.#iceConfig?.iceTransportPolicy === 'relay';
  }

  /** renderRelay shows the relay-only toggle: locked on when the server insists, and whether it can work. */
  #renderRelay() {
    const ui = this.#ui;
    const forced = this.#relayForced();
    if (forced) ui.relayOnly.checked = true;
    ui.relayOnly.disabled = forced;
    ui.relayHelp.textContent = forced ? `${RELAY_HELP} This server always does this.` : RELAY_HELP;
    const broken = this.relayWanted && this.#iceConfig !== null && !hasTurnServer(this.#iceConfig.iceServers);
    setNotice(
      ui.relayNotice,
      broken
        ? 'This server has no relay (TURN) server, so with relay-only mode on, calls cannot connect. Turn it off to talk with others.'
        : '',
    );
  }

  /** runCheck gathers candidates with the room's ICE servers and shows which paths work. */
  async #runCheck() {
    const ui = this.#ui;
    ui.check.disabled = true;
    ui.checkResults.hidden = true;
    ui.checkStatus.textContent = 'Checking your connection…';
    try {
      let config;
      try {
        config = await fetchIceConfig();
      } catch (err) {
        console.warn('parley: connection check: no ICE configuration', err);
        ui.checkStatus.textContent =
          err instanceof IceConfigError && err.status === 429
            ? "Couldn't run the check: too many checks from your network just now. Try again in a minute."
            : "Couldn't run the check: the server did not send its connection settings. You can still join.";
        return;
      }
      this.setIceConfig(config);
      /** @type {ConnectivityReport} */
      let report;
      try {
        report = await checkConnectivity(config.iceServers);
      } catch (err) {
        console.warn('parley: connection check failed', err);
        ui.checkStatus.textContent = "Couldn't run the check: this browser could not look for connections.";
        return;
      }
      showPath(ui.checkDirect, report.direct);
      showPath(ui.checkStun, report.stun);
      showPath(ui.checkRelay, report.relay);
      ui.checkResults.hidden = false;
      ui.checkStatus.textContent = checkSummary(report, this.relayWanted);
    } finally {
      ui.check.disabled = false;
    }
  }
}
