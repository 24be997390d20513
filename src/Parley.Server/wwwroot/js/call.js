// @ts-check
// call.js runs the meeting page's in-call view: the tiles, the toolbar, the
// banner and notices, what the tiles say of each connection, and leaving.
// It shows a Meeting (meeting.js) and reads only its participants and the
// plain statuses it reports, never a connection.

import { hasTurnServer } from './diagnostics.js';
import { byId, setNotice, showView, toast } from './dom.js';
import { captureScreen, screenSupported } from './screen.js';
import { SignalingError } from './signaling.js';
import { TileGrid } from './tiles.js';
import { MediaToggles } from './toggles.js';
import { ViewWatcher } from './views.js';

/** @typedef {import('./meeting.js').Meeting} Meeting */
/** @typedef {import('./meeting.js').Participant} Participant */
/** @typedef {import('./media.js').LocalMedia} LocalMedia */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./transport.js').ConnectionStatus} ConnectionStatus */

/** SLOW_CONNECT_MS is when "Connecting…" becomes "Still trying to reach …". */
const SLOW_CONNECT_MS = 10_000;

/**
 * joinErrorText says why a join failed, in plain words.
 * @param {unknown} err
 * @returns {string}
 */
export function joinErrorText(err) {
  if (err instanceof SignalingError) {
    switch (err.code) {
      case 'room-full':
        // The server says which limit: the room's size, or the media server that larger meetings need.
        return err.message || 'This meeting is full. Try again when someone leaves.';
      case 'sfu-required':
        return 'This page is out of date for this meeting. Reload it and try again.';
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

/**
 * lostText says why the connection to the server ended, in plain words.
 * @param {CloseInfo} info
 * @returns {string}
 */
function lostText(info) {
  switch (info.code) {
    case 1001:
      return 'The server is restarting. Rejoin in a moment.';
    case 1008:
      return `The server ended the connection${info.reason ? ` (${info.reason})` : ''}.`;
    case 1009:
      return 'The server ended the connection: a message was too big.';
    default:
      return 'The connection to the server was lost.';
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
 * typing is true when `target` takes text (a field, an editable element),
 * where a key is a character, not a shortcut.
 * @param {EventTarget | null} target
 * @returns {boolean}
 */
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'reset', 'submit', 'color', 'file', 'image'].includes(target.type);
}

/** CallView is the in-call view of one room, for one Meeting after another (a rejoin is a new Meeting). */
export class CallView {
  #ui = {
    meeting: byId('meeting', HTMLElement),
    banner: byId('banner', HTMLDivElement),
    bannerText: byId('banner-text', HTMLSpanElement),
    rejoin: byId('rejoin', HTMLButtonElement),
    meetingNotice: byId('meeting-notice', HTMLParagraphElement),
    mediaStatus: byId('media-status', HTMLParagraphElement),
    sound: byId('sound', HTMLDivElement),
    invite: byId('invite', HTMLDivElement),
    inviteLink: byId('invite-link', HTMLInputElement),
    endedTitle: byId('ended-title', HTMLHeadingElement),
    endedText: byId('ended-text', HTMLParagraphElement),
    endedRejoin: byId('ended-rejoin', HTMLButtonElement),
    share: byId('share', HTMLButtonElement),
  };
  #media;
  #grid;
  #toggles;
  /** @type {Meeting | null} the meeting we are in, once joined */
  #meeting = null;
  /** @type {Map<string, number>} per participant, the timer of the slow-connect hint */
  #slowTimers = new Map();
  /** #choosingScreen is true while the browser's screen picker is open. */
  #choosingScreen = false;

  /**
   * @param {string} room
   * @param {LocalMedia} media
   * @param {() => void} onRejoin called when the user asks to join again after the connection was lost
   */
  constructor(room, media, onRejoin) {
    const ui = this.#ui;
    this.#media = media;
    this.#grid = new TileGrid(byId('grid', HTMLDivElement), () => {
      ui.sound.hidden = false;
    });
    this.#toggles = new MediaToggles(media, byId('mic', HTMLButtonElement), byId('cam', HTMLButtonElement));
    const inviteUrl = `${location.origin}/r/${room}`;
    ui.inviteLink.value = inviteUrl;
    media.on('change', () => this.render());

    ui.rejoin.addEventListener('click', () => onRejoin());
    byId('leave', HTMLButtonElement).addEventListener('click', () => this.#leave());
    ui.endedRejoin.addEventListener('click', () => location.reload());
    byId('copy-link', HTMLButtonElement).addEventListener('click', async () => {
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
    byId('sound-on', HTMLButtonElement).addEventListener('click', () => {
      this.#grid.unmuteAll();
      ui.sound.hidden = true;
    });
    // Leaving the page is leaving the meeting: tell the room at once.
    window.addEventListener('pagehide', () => this.#meeting?.leave());
    this.#setupShare();
  }

  /** visible is true while the in-call view is on screen (a rejoin from its banner). */
  get visible() {
    return !this.#ui.meeting.hidden;
  }

  /**
   * listen shows what `meeting` reports, from before it joins: participants
   * arrive while join() is still under way.
   * @param {Meeting} meeting
   */
  listen(meeting) {
    const grid = this.#grid;
    // How large each tile is shown decides which picture the media server sends it.
    const views = new ViewWatcher((id, level) => meeting.setView(id, level));
    meeting.on('participant-joined', (p) => {
      const tile = grid.add(p.id, p.name);
      views.watch(p.id, tile.el);
      this.#showConnection(p, p.connection);
      this.#applyState(p);
    });
    meeting.on('participant-left', (p) => {
      this.#forgetConnection(p.id);
      const tile = grid.get(p.id);
      if (tile) views.unwatch(tile.el);
      grid.remove(p.id);
      grid.showScreen(p.id, p.name, null);
      toast(`${p.name} left`);
    });
    meeting.on('participant-screen', ({ participant, stream }) => grid.showScreen(participant.id, participant.name, stream));
    meeting.on('participant-state', (p) => this.#applyState(p));
    meeting.on('participant-stream', ({ participant, stream }) => grid.get(participant.id)?.setStream(stream));
    meeting.on('participant-connection', ({ participant, status }) => this.#showConnection(participant, status));
    meeting.on('server-error', (msg) =>
      toast(msg.code === 'rate-limited' ? 'Slow down: the server is limiting messages.' : msg.message),
    );
    meeting.on('disconnected', (info) => this.#onDisconnected(info));
    // How the media travels is the server's choice; say so only when it went back for a reason.
    meeting.on('mode', ({ mode, reason }) => {
      this.#ui.meeting.dataset.mode = mode;
      views.again();
      if (reason) toast(reason);
    });
    meeting.on('notice', ({ text }) => setNotice(this.#ui.mediaStatus, text));
  }

  /**
   * setJoining shows that a join is under way (Rejoin is busy) or over.
   * @param {boolean} joining
   */
  setJoining(joining) {
    this.#ui.rejoin.disabled = joining;
  }

  /**
   * showError says on the banner why rejoining failed.
   * @param {string} text
   */
  showError(text) {
    this.#ui.bannerText.textContent = text;
  }

  /**
   * enter shows the call once `meeting` has joined as `name`.
   * @param {Meeting} meeting
   * @param {string} name
   */
  enter(meeting, name) {
    const ui = this.#ui;
    this.#meeting = meeting;
    ui.banner.hidden = true;
    ui.meeting.dataset.mode = meeting.mode;
    const { iceTransportPolicy, iceServers = [] } = meeting.rtcConfig;
    const noRelay = iceTransportPolicy === 'relay' && !hasTurnServer(iceServers);
    setNotice(
      ui.meetingNotice,
      noRelay
        ? 'Relay-only mode is on, but this server has no relay (TURN) server, so calls cannot connect. To talk with others, leave, turn relay-only mode off and join again.'
        : '',
    );

    const self = this.#grid.add('self', `${name} (you)`, true);
    self.setName(`${name} (you)`);
    showView('meeting');
    this.render();
  }

  /** render shows the local media on the self tile and the toolbar. */
  render() {
    const media = this.#media;
    const self = this.#grid.get('self');
    if (self) {
      self.setStream(media.videoStream);
      self.setVideo(media.state.video);
      self.setAudio(media.state.audio);
      this.#grid.showScreen('self', '', media.screenStream);
    }
    this.#toggles.render();
    this.#renderShare();
  }

  // Screen share: the toolbar's share button and its shortcut S (not while typing, no modifier key).

  #setupShare() {
    const button = this.#ui.share;
    if (!screenSupported()) return; // phones and insecure pages: the button stays hidden
    button.hidden = false;
    button.addEventListener('click', () => void this.#toggleShare());
    document.addEventListener('keydown', (e) => {
      if (e.key?.toLowerCase() !== 's' || e.ctrlKey || e.altKey || e.metaKey || e.shiftKey || e.repeat) return;
      if (!this.#meeting || !this.visible || typing(e.target)) return;
      e.preventDefault();
      void this.#toggleShare();
    });
  }

  /** toggleShare stops our screen share, or asks the browser for a screen to share. */
  async #toggleShare() {
    const media = this.#media;
    if (media.screenTrack) {
      media.setScreen(null);
      return;
    }
    if (this.#choosingScreen) return;
    this.#choosingScreen = true;
    try {
      const track = await captureScreen();
      // Left the call meanwhile: nothing to share with.
      if (this.#meeting) media.setScreen(track);
      else track.stop();
    } catch (err) {
      // NotAllowedError: the user closed the picker (or refused); nothing to say.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) toast('Your screen could not be shared.');
    } finally {
      this.#choosingScreen = false;
    }
  }

  #renderShare() {
    const sharing = this.#media.screenTrack !== null;
    const button = this.#ui.share;
    button.setAttribute('aria-pressed', String(sharing));
    button.setAttribute('aria-label', sharing ? 'Stop sharing screen' : 'Share screen');
    button.title = sharing ? 'Stop sharing your screen (S)' : 'Share your screen (S)';
  }

  /** @param {Participant} p */
  #applyState(p) {
    const tile = this.#grid.get(p.id);
    if (!tile) return;
    // Before the first `state` arrives, trust the media: assume on.
    tile.setVideo(p.state ? p.state.video : true);
    tile.setAudio(p.state ? p.state.audio : true);
  }

  /**
   * showConnection puts the state of the media from `p` on their tile, in words.
   * @param {Participant} p
   * @param {ConnectionStatus} status
   */
  #showConnection(p, status) {
    const tile = this.#grid.get(p.id);
    if (!tile) return;
    this.#forgetConnection(p.id);
    const { state } = status;
    switch (state) {
      case 'new':
      case 'connecting':
        tile.setConnection(state, 'Connecting…');
        this.#slowTimers.set(
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
   * forgetConnection drops what showConnection kept about a participant.
   * @param {string} id
   */
  #forgetConnection(id) {
    clearTimeout(this.#slowTimers.get(id));
    this.#slowTimers.delete(id);
  }

  /** @param {CloseInfo} info */
  #onDisconnected(info) {
    const ui = this.#ui;
    this.#meeting = null;
    for (const id of [...this.#slowTimers.keys()]) this.#forgetConnection(id);
    this.#grid.removeAllExcept('self');
    setNotice(ui.mediaStatus, '');
    if (info.byClient) return;
    ui.bannerText.textContent = lostText(info);
    ui.banner.hidden = false;
    ui.rejoin.focus();
  }

  #leave() {
    const ui = this.#ui;
    this.#meeting?.leave();
    this.#meeting = null;
    this.#media.stop();
    this.#grid.removeAllExcept('');
    ui.endedTitle.textContent = 'You left the meeting';
    ui.endedText.textContent = 'Your camera and microphone are off.';
    showView('ended');
    ui.endedRejoin.focus();
  }
}
