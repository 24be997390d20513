// @ts-check
// room.js runs the meeting page /r/{room}: pre-join (preview, name, devices),
// the meeting (tiles, controls, messages), and what comes after. It wires the
// DOM to the no-DOM modules: media.js, meeting.js (which uses signaling.js and
// a media transport, mesh.js), diagnostics.js (the ICE servers and the connection check).

import { IceConfigError, checkConnectivity, fetchIceConfig, hasTurnServer } from './diagnostics.js';
import { byId, recall, remember, showView, toast } from './dom.js';
import { LocalMedia, explainProblems, sentence } from './media.js';
import { Meeting } from './meeting.js';
import { cleanName } from './names.js';
import { roomFromPath } from './room-id.js';
import { SignalingClient, SignalingError, signalingUrl } from './signaling.js';
import { TileGrid, initial } from './tiles.js';

/** @typedef {import('./meeting.js').Participant} Participant */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./transport.js').ConnectionStatus} ConnectionStatus */
/** @typedef {import('./diagnostics.js').IceConfig} IceConfig */
/** @typedef {import('./diagnostics.js').ConnectivityReport} ConnectivityReport */
/** @typedef {import('./diagnostics.js').PathStatus} PathStatus */

const STORAGE = {
  name: 'parley.name',
  audioDevice: 'parley.audioDevice',
  videoDevice: 'parley.videoDevice',
  relayOnly: 'parley.relayOnly',
};

const ui = {
  roomLabel: byId('room-label', HTMLSpanElement),
  preview: byId('preview', HTMLVideoElement),
  previewTile: /** @type {HTMLElement} */ (byId('preview', HTMLVideoElement).parentElement),
  previewInitial: byId('preview-initial', HTMLSpanElement),
  previewStatus: byId('preview-status', HTMLParagraphElement),
  preMic: byId('pre-mic', HTMLButtonElement),
  preCam: byId('pre-cam', HTMLButtonElement),
  joinForm: byId('join-form', HTMLFormElement),
  prejoinRoom: byId('prejoin-room', HTMLElement),
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
  meeting: byId('meeting', HTMLElement),
  banner: byId('banner', HTMLDivElement),
  bannerText: byId('banner-text', HTMLSpanElement),
  rejoin: byId('rejoin', HTMLButtonElement),
  meetingNotice: byId('meeting-notice', HTMLParagraphElement),
  grid: byId('grid', HTMLDivElement),
  mic: byId('mic', HTMLButtonElement),
  cam: byId('cam', HTMLButtonElement),
  copyLink: byId('copy-link', HTMLButtonElement),
  leave: byId('leave', HTMLButtonElement),
  sound: byId('sound', HTMLDivElement),
  soundOn: byId('sound-on', HTMLButtonElement),
  invite: byId('invite', HTMLDivElement),
  inviteLink: byId('invite-link', HTMLInputElement),
  endedTitle: byId('ended-title', HTMLHeadingElement),
  endedText: byId('ended-text', HTMLParagraphElement),
  endedRejoin: byId('ended-rejoin', HTMLButtonElement),
};

/**
 * setToggle reflects an on/off control in aria-pressed and its tooltip.
 * @param {HTMLButtonElement} button
 * @param {boolean} on
 * @param {string} device 'Microphone' or 'Camera'
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

// ---------------------------------------------------------------------------
// The room

const room = roomFromPath(location.pathname);
const inviteUrl = room ? `${location.origin}/r/${room}` : '';
const media = new LocalMedia();
const grid = new TileGrid(ui.grid, () => {
  ui.sound.hidden = false;
});
/** @type {Meeting | null} */
let meeting = null;
let myName = '';


// ---------------------------------------------------------------------------
// Pre-join

/** mediaReady settles once the first request for camera and microphone is answered. */
let mediaReady = Promise.resolve();

function startPrejoin() {
  showView('prejoin');
  ui.name.value = recall(STORAGE.name);
  ui.previewInitial.textContent = initial(ui.name.value);
  media.on('change', renderMedia);
  mediaReady = media
    .start({ audioDeviceId: recall(STORAGE.audioDevice), videoDeviceId: recall(STORAGE.videoDevice) })
    .catch((err) => console.error('parley: media start failed', err));
  mediaReady.then(() => renderMedia());
  ui.relayOnly.checked = recall(STORAGE.relayOnly) === '1';
  renderRelay();
  // The server's policy and servers, to lock the toggle or warn before joining;
  // without them the page just learns it all from `joined`.
  fetchIceConfig()
    .then((config) => {
      iceConfig = config;
      renderRelay();
    })
    .catch((err) => console.warn('parley: no ICE configuration before joining', err));
  if (!ui.name.value) ui.name.focus();
}

/** selfVideo is what the preview and the self tile show. */
const selfVideo = {
  /** @type {MediaStreamTrack | null} */
  track: null,
  /** @type {MediaStream | null} */
  stream: null,
};

/** renderMedia shows the local media state everywhere it appears. */
function renderMedia() {
  const state = media.state;
  const hasMic = media.audioTrack !== null;
  const hasCam = media.videoTrack !== null;

  // Preview and self tile: a new stream only when the camera track changed.
  if (selfVideo.track !== media.videoTrack) {
    selfVideo.track = media.videoTrack;
    selfVideo.stream = media.videoTrack ? new MediaStream([media.videoTrack]) : null;
    ui.preview.srcObject = selfVideo.stream;
    if (selfVideo.stream) ui.preview.play().catch(() => {});
  }
  const stream = selfVideo.stream;
  ui.previewTile.dataset.video = state.video ? 'on' : 'off';
  ui.previewStatus.textContent = media.videoProblem ? 'No camera' : media.camOn ? 'Starting camera…' : 'Camera is off';
  const self = grid.get('self');
  if (self) {
    self.setStream(stream);
    self.setVideo(state.video);
    self.setAudio(state.audio);
  }

  // Toggles: pressed means "on".
  const micAvailable = hasMic || media.audioProblem === null;
  const camAvailable = hasCam || media.videoProblem === null;
  for (const button of [ui.preMic, ui.mic]) setToggle(button, state.audio, 'Microphone', micAvailable);
  for (const button of [ui.preCam, ui.cam]) setToggle(button, state.video, 'Camera', camAvailable);

  // What the user has to know about missing devices, in plain words.
  const notice = explainProblems(media.audioProblem, media.videoProblem);
  ui.mediaNotice.textContent = notice;
  ui.mediaNotice.hidden = notice === '';

  fillDevices(ui.micSelect, 'audioinput', media.audioDeviceId, 'No microphone');
  fillDevices(ui.camSelect, 'videoinput', media.videoDeviceId, 'No camera');
}

/**
 * fillDevices lists the devices of one kind in a picker.
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceKind} kind
 * @param {string} selected device id in use
 * @param {string} none text when there is no device
 */
function fillDevices(select, kind, selected, none) {
  const devices = media.devices.filter((d) => d.kind === kind);
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
    option.textContent = device.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}`;
    option.selected = device.deviceId === selected;
    select.append(option);
  });
  select.disabled = false;
}

ui.name.addEventListener('input', () => {
  ui.previewInitial.textContent = initial(ui.name.value);
  ui.nameError.hidden = true;
  ui.name.removeAttribute('aria-invalid');
});

ui.preMic.addEventListener('click', () => void toggleMic());
ui.preCam.addEventListener('click', () => void toggleCamera());
ui.mic.addEventListener('click', () => void toggleMic());
ui.cam.addEventListener('click', () => void toggleCamera());

async function toggleMic() {
  const on = !media.state.audio;
  await media.setMic(on);
  if (on && !media.audioTrack) toast(sentence('microphone', media.audioProblem ?? 'missing'));
}

async function toggleCamera() {
  const on = !media.state.video;
  await media.setCamera(on);
  if (on && !media.videoTrack) toast(sentence('camera', media.videoProblem ?? 'missing'));
}

ui.micSelect.addEventListener('change', () => {
  remember(STORAGE.audioDevice, ui.micSelect.value);
  void media.selectDevice('audio', ui.micSelect.value);
});
ui.camSelect.addEventListener('change', () => {
  remember(STORAGE.videoDevice, ui.camSelect.value);
  void media.selectDevice('video', ui.camSelect.value);
});

// ---------------------------------------------------------------------------
// Relay-only mode and the connection check

/**
 * iceConfig is what the server last said about its ICE servers and policy
 * (GET /api/ice-servers, then `joined`); null until it answers.
 * @type {IceConfig | null}
 */
let iceConfig = null;

const RELAY_HELP = "Hides your IP address from others by routing media through the server's relay; may add delay.";

/** relayForced is true when the server makes every call relay-only. */
function relayForced() {
  return iceConfig?.iceTransportPolicy === 'relay';
}

/** relayWanted is true when this page's calls use only the relay. */
function relayWanted() {
  return relayForced() || ui.relayOnly.checked;
}

/** renderRelay shows the relay-only toggle: locked on when the server insists, and whether it can work. */
function renderRelay() {
  const forced = relayForced();
  if (forced) ui.relayOnly.checked = true;
  ui.relayOnly.disabled = forced;
  ui.relayHelp.textContent = forced ? `${RELAY_HELP} This server always does this.` : RELAY_HELP;
  const broken = relayWanted() && iceConfig !== null && !hasTurnServer(iceConfig.iceServers);
  ui.relayNotice.textContent = broken
    ? 'This server has no relay (TURN) server, so with relay-only mode on, calls cannot connect. Turn it off to talk with others.'
    : '';
  ui.relayNotice.hidden = !broken;
}

ui.relayOnly.addEventListener('change', () => {
  remember(STORAGE.relayOnly, ui.relayOnly.checked ? '1' : '');
  renderRelay();
});

/** @type {Record<PathStatus, string>} */
const PATH_WORDS = {
  available: 'available',
  unavailable: 'not available',
  unconfigured: 'not configured on this server',
};

/**
 * checkSummary says in plain words what a connection check means for calls.
 * @param {ConnectivityReport} report
 * @param {boolean} relayOnly
 * @returns {string}
 */
function checkSummary(report, relayOnly) {
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

/** runCheck gathers candidates with the room's ICE servers and shows which paths work. */
async function runCheck() {
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
    iceConfig = config;
    renderRelay();
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
    ui.checkStatus.textContent = checkSummary(report, relayWanted());
  } finally {
    ui.check.disabled = false;
  }
}

ui.check.addEventListener('click', () => void runCheck());

ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = cleanName(ui.name.value);
  if (!name) {
    ui.nameError.textContent = 'Please enter your name, so others know who you are.';
    ui.nameError.hidden = false;
    ui.name.setAttribute('aria-invalid', 'true');
    ui.name.focus();
    return;
  }
  ui.name.value = name;
  remember(STORAGE.name, name);
  myName = name;
  void join();
});

// ---------------------------------------------------------------------------
// Joining and the meeting

/**
 * joinErrorText says why a join failed, in plain words.
 * @param {unknown} err
 * @returns {string}
 */
function joinErrorText(err) {
  if (err instanceof SignalingError) {
    switch (err.code) {
      case 'room-full':
        return 'This meeting is full. Try again when someone leaves.';
      case 'unsupported-version':
        return 'This page is out of date. Reload it and try again.';
      case 'rate-limited':
        return 'Too many attempts in a short time. Wait a moment and try again.';
      case 'bad-request':
        return `The server refused to join: ${err.message}`;
      default:
        return `Could not join: ${err.message || err.code}`;
    }
  }
  return 'Cannot reach the Parley server. Check your connection and try again.';
}

/** join connects to the room (first time and on rejoin). */
async function join() {
  if (!room) return;
  ui.join.disabled = true;
  ui.rejoin.disabled = true;
  ui.join.textContent = 'Joining…';
  ui.joinError.hidden = true;
  await mediaReady;

  const m = new Meeting(new SignalingClient(signalingUrl(location)), media, { relayOnly: relayWanted() });
  m.on('participant-joined', onParticipantJoined);
  m.on('participant-left', (p) => {
    forgetConnection(p.id);
    grid.remove(p.id);
    toast(`${p.name} left`);
  });
  m.on('participant-state', (p) => applyState(p));
  m.on('participant-stream', ({ participant, stream }) => grid.get(participant.id)?.setStream(stream));
  m.on('participant-connection', ({ participant, status }) => showConnection(participant, status));
  m.on('server-error', (msg) => toast(msg.code === 'rate-limited' ? 'Slow down: the server is limiting messages.' : msg.message));
  m.on('disconnected', onDisconnected);

  /** @type {import('./signaling.js').JoinedMessage} */
  let joined;
  try {
    joined = await m.join(room, myName);
  } catch (err) {
    ui.join.disabled = false;
    ui.rejoin.disabled = false;
    ui.join.textContent = 'Join';
    const text = joinErrorText(err);
    if (!ui.meeting.hidden) {
      ui.bannerText.textContent = text;
      return;
    }
    ui.joinError.textContent = text;
    ui.joinError.hidden = false;
    return;
  }
  meeting = m;
  ui.join.disabled = false;
  ui.rejoin.disabled = false;
  ui.join.textContent = 'Join';
  ui.banner.hidden = true;

  iceConfig = { iceServers: joined.iceServers ?? [], iceTransportPolicy: joined.iceTransportPolicy ?? 'all' };
  renderRelay();
  const noRelay = m.rtcConfig.iceTransportPolicy === 'relay' && !hasTurnServer(iceConfig.iceServers);
  ui.meetingNotice.textContent = noRelay
    ? 'Relay-only mode is on, but this server has no relay (TURN) server, so calls cannot connect. To talk with others, leave, turn relay-only mode off and join again.'
    : '';
  ui.meetingNotice.hidden = !noRelay;

  const self = grid.add('self', `${myName} (you)`, true);
  self.setName(`${myName} (you)`);
  showView('meeting');
  renderMedia();
}

/** @param {Participant} p */
function onParticipantJoined(p) {
  grid.add(p.id, p.name);
  showConnection(p, p.connection);
  applyState(p);
}

/** @param {Participant} p */
function applyState(p) {
  const tile = grid.get(p.id);
  if (!tile) return;
  // Before the first `state` arrives, trust the media: assume on.
  tile.setVideo(p.state ? p.state.video : true);
  tile.setAudio(p.state ? p.state.audio : true);
}

/** SLOW_CONNECT_MS is when "Connecting…" becomes "Still trying to reach …". */
const SLOW_CONNECT_MS = 10_000;

/**
 * slowTimers holds, per participant, the timer of the slow-connect hint.
 * @type {Map<string, number>}
 */
const slowTimers = new Map();

/**
 * showConnection puts the state of the media from `p` on their tile, in words.
 * @param {Participant} p
 * @param {ConnectionStatus} status
 */
function showConnection(p, status) {
  const tile = grid.get(p.id);
  if (!tile) return;
  clearTimeout(slowTimers.get(p.id));
  slowTimers.delete(p.id);
  const { state } = status;
  switch (state) {
    case 'new':
    case 'connecting':
      tile.setConnection(state, 'Connecting…');
      slowTimers.set(
        p.id,
        setTimeout(() => {
          const now = p.connection.state;
          if (now === 'new' || now === 'connecting') tile.setConnection(now, `Still trying to reach ${p.name}…`);
        }, SLOW_CONNECT_MS),
      );
      break;
    case 'connected':
      tile.setConnection(state, '');
      break;
    case 'disconnected':
      tile.setConnection(state, 'Connection interrupted, trying again…');
      break;
    case 'retrying':
      // The connection failed; the transport is trying again before it gives up.
      tile.setConnection(state, 'Connection lost — retrying…');
      break;
    case 'failed':
      tile.setConnection(state, unreachableText(p, status));
      break;
    default:
      tile.setConnection(state, '');
  }
}

/**
 * unreachableText says why the connection to `p` was given up.
 * @param {Participant} p
 * @param {ConnectionStatus} status
 * @returns {string}
 */
function unreachableText(p, status) {
  if (!status.noRoute) return `Cannot reach ${p.name}. A firewall or the network between you may be blocking the call.`;
  return status.relayOnly
    ? `Cannot reach ${p.name}: the server's relay could not be used, and relay-only mode allows no other way.`
    : `Cannot reach ${p.name}: this device found no network path.`;
}

/**
 * forgetConnection drops what showConnection kept about a participant.
 * @param {string} id
 */
function forgetConnection(id) {
  clearTimeout(slowTimers.get(id));
  slowTimers.delete(id);
}

/** @param {CloseInfo} info */
function onDisconnected(info) {
  meeting = null;
  for (const id of [...slowTimers.keys()]) forgetConnection(id);
  grid.removeAllExcept('self');
  if (info.byClient) return;
  let text;
  switch (info.code) {
    case 1001:
      text = 'The server is restarting. Rejoin in a moment.';
      break;
    case 1008:
      text = `The server ended the connection${info.reason ? ` (${info.reason})` : ''}.`;
      break;
    case 1009:
      text = 'The server ended the connection: a message was too big.';
      break;
    default:
      text = 'The connection to the server was lost.';
  }
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
  ui.rejoin.focus();
}

ui.rejoin.addEventListener('click', () => void join());

ui.leave.addEventListener('click', () => {
  meeting?.leave();
  meeting = null;
  media.stop();
  grid.removeAllExcept('');
  ui.endedTitle.textContent = 'You left the meeting';
  ui.endedText.textContent = 'Your camera and microphone are off.';
  showView('ended');
  ui.endedRejoin.focus();
});

ui.endedRejoin.addEventListener('click', () => location.reload());

ui.copyLink.addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(inviteUrl);
    toast('Invite link copied. Send it to the people you want to meet.');
  } catch {
    // No clipboard access (an insecure page, or refused): let the user copy it.
    ui.invite.hidden = false;
    ui.inviteLink.focus();
    ui.inviteLink.select();
    toast('Copy the invite link below.');
  }
});

ui.soundOn.addEventListener('click', () => {
  grid.unmuteAll();
  ui.sound.hidden = true;
});

// Leaving the page is leaving the meeting: tell the room at once.
window.addEventListener('pagehide', () => meeting?.leave());

// ---------------------------------------------------------------------------
// Start (last, once every binding above exists)

if (!room) {
  showView('bad-room');
} else {
  document.title = `${room} · Parley`;
  ui.roomLabel.textContent = room;
  ui.prejoinRoom.textContent = room;
  ui.inviteLink.value = inviteUrl;
  startPrejoin();
}
