// @ts-check
// call.js runs the meeting page's in-call view: the tiles, the toolbar, the
// banner and notices, what the tiles say of each connection, and leaving.
// It shows a Meeting (meeting.js) and reads only its participants and the
// plain statuses it reports, never a connection.

import { ChatPanel } from './chat.js';
import { hasTurnServer } from './diagnostics.js';
import { announce, byId, recall, remember, setNotice, showView, toast } from './dom.js';
import { PeoplePanel, handOrder } from './people.js';
import { fillDevices } from './prejoin.js';
import { describe } from './quality.js';
import { captureScreen, screenSupported } from './screen.js';
import { RESUME_FAILED, SignalingError } from './signaling.js';
import { SpeakerDetector } from './speaker.js';
import { TileGrid } from './tiles.js';
import { MediaToggles } from './toggles.js';
import { ViewWatcher } from './views.js';

/** @typedef {import('./meeting.js').Meeting} Meeting */
/** @typedef {import('./meeting.js').Participant} Participant */
/** @typedef {import('./media.js').LocalMedia} LocalMedia */
/** @typedef {import('./signaling.js').CloseInfo} CloseInfo */
/** @typedef {import('./transport.js').ConnectionStatus} ConnectionStatus */

/** @typedef {import('./people.js').Person} Person */
/** @typedef {'chat' | 'people' | 'settings'} PanelName */

/** SELF_VIEW_KEY remembers the small self view between meetings. */
const SELF_VIEW_KEY = 'parley.selfView';

/**
 * QUALITY_EVERY_MS is how often the tiles' quality and our uplink are
 * measured: getStats() of every connection costs CPU, which a page with many
 * streams on a small machine needs for the media itself.
 */
const QUALITY_EVERY_MS = 5_000;

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
 * HEARD_BEFORE_LOSS_MS is how long before the connection was seen lost the
 * server may have last heard from us (the window counts from then): a ping
 * interval, and the time a dead socket takes to be given up.
 */
const HEARD_BEFORE_LOSS_MS = 15_000;

/**
 * rejoinText says why the page joins the meeting again after its stay could
 * not be resumed.
 * @param {CloseInfo} info
 * @returns {string}
 */
export function rejoinText(info) {
  if (info.away?.serverRestarted) return 'The server restarted: joining the meeting again…';
  if (info.away && info.away.ms + HEARD_BEFORE_LOSS_MS < info.away.windowMs) {
    return 'The server lost your place in the meeting (it may have restarted): joining again…';
  }
  return 'You were away too long: joining the meeting again…';
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
    serverStatus: byId('server-status', HTMLParagraphElement),
    uplink: byId('uplink', HTMLParagraphElement),
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
  #chat;
  #people;
  #speaker = new SpeakerDetector();
  /** @type {Record<PanelName, HTMLElement>} */
  #panels;
  #handButton = byId('hand', HTMLButtonElement);
  #layoutButton = byId('layout-toggle', HTMLButtonElement);
  #settingsButton = byId('settings-toggle', HTMLButtonElement);
  #shortcuts = byId('shortcuts', HTMLDialogElement);
  /** our own name in this stay */
  #name = '';
  /** when we raised our hand (our clock; others' come stamped by the server) */
  #handAt = 0;
  /** the participant whose tile stays large, '' for none */
  #pinned = '';
  /** whether the speaker layout is on (the main speaker large), instead of the even grid */
  #speakerLayout = false;
  #qualityTimer = 0;
  /** @type {Map<string, string>} the text of our chat messages by id, until the server confirms them */
  #unsent = new Map();
  /** @type {MediaStreamTrack | null} the microphone track whose level rings our own tile */
  #selfAudio = null;
  /** @type {() => void} joins again */
  #rejoin = () => {};
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
    this.#grid = new TileGrid(
      byId('grid', HTMLDivElement),
      () => {
        ui.sound.hidden = false;
      },
      () => this.#openPanel('people'),
    );
    this.#panels = {
      chat: byId('chat-panel', HTMLElement),
      people: byId('people-panel', HTMLElement),
      settings: byId('settings-panel', HTMLElement),
    };
    this.#chat = new ChatPanel(
      {
        panel: this.#panels.chat,
        log: byId('chat-log', HTMLOListElement),
        form: byId('chat-form', HTMLFormElement),
        input: byId('chat-input', HTMLTextAreaElement),
        to: byId('chat-to', HTMLSelectElement),
        toggle: byId('chat-toggle', HTMLButtonElement),
        unread: byId('chat-unread', HTMLElement),
      },
      (text, to) => {
        const id = this.#meeting?.sendChat(text, to || undefined);
        if (id) this.#unsent.set(id, text);
      },
      (open) => open && this.#closePanelsExcept('chat'),
    );
    this.#people = new PeoplePanel(
      {
        panel: this.#panels.people,
        list: byId('people-list', HTMLUListElement),
        title: byId('people-title', HTMLElement),
        toggle: byId('people-toggle', HTMLButtonElement),
        count: byId('people-count', HTMLElement),
      },
      (open) => open && this.#closePanelsExcept('people'),
    );
    this.#setUpControls();
    this.#toggles = new MediaToggles(media, byId('mic', HTMLButtonElement), byId('cam', HTMLButtonElement));
    const inviteUrl = `${location.origin}/r/${room}`;
    ui.inviteLink.value = inviteUrl;
    media.on('change', () => this.render());

    this.#rejoin = onRejoin;
    ui.rejoin.addEventListener('click', () => onRejoin());
    // The network is back, or another one took over (Wi-Fi to wired, a roam): reconnect to the
    // server at once and restart ICE, without waiting for timers to notice.
    window.addEventListener('online', () => this.#meeting?.networkChanged());
    /** @type {EventTarget | undefined} the Network Information API, where the browser has it (Chromium) */
    const connection = /** @type {any} */ (navigator).connection;
    connection?.addEventListener?.('change', () => this.#meeting?.networkChanged());
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
      tile.addActions((id) => this.#pin(id));
      views.watch(p.id, tile.el);
      this.#showConnection(p, p.connection);
      this.#applyState(p);
      this.#peopleChanged();
      // Those already in the room arrive during the join: announce only later arrivals.
      if (this.#meeting === meeting) announce(`${p.name} joined`);
    });
    meeting.on('participant-left', (p) => {
      this.#forgetConnection(p.id);
      this.#speaker.unwatch(p.id);
      const tile = grid.get(p.id);
      if (tile) views.unwatch(tile.el);
      grid.remove(p.id);
      if (this.#pinned === p.id) this.#pinned = '';
      this.#peopleChanged();
      grid.showScreen(p.id, p.name, null);
      toast(`${p.name} left`);
    });
    meeting.on('participant-screen', ({ participant, stream }) => {
      const tile = grid.showScreen(participant.id, participant.name, stream);
      if (tile && !tile.pinButton) tile.addActions((id) => this.#pin(id));
      if (!tile && this.#pinned === `screen:${participant.id}`) this.#pinned = '';
      this.#refocus();
    });
    meeting.on('participant-state', (p) => {
      const before = this.#handUp.has(p.id);
      this.#applyState(p);
      this.#peopleChanged();
      if (p.state?.hand && !before) announce(`${p.name} raised their hand`);
    });
    meeting.on('participant-stream', ({ participant, stream }) => {
      grid.get(participant.id)?.setStream(stream);
      this.#speaker.watch(participant.id, stream);
    });
    // The room's history arrives during the join; enter() shows it, without counting it as unread.
    meeting.on('chat', (entry) => {
      // Our own message came back stamped: the oldest one still waiting is confirmed.
      if (entry.from === meeting.self?.id) this.#unsent.delete(this.#unsent.keys().next().value ?? '');
      if (this.#meeting === meeting) this.#chat.add(entry, (id) => meeting.participants.get(id)?.name ?? 'someone who left');
    });
    meeting.on('chat-error', (err) => {
      // Nothing is lost: the refused text goes back in the box.
      const text = this.#unsent.get(err.ref ?? '');
      this.#unsent.delete(err.ref ?? '');
      if (text !== undefined) this.#chat.restore(text);
      toast(`Message not sent: ${err.message}`);
    });
    meeting.on('hand', (up) => {
      this.#handAt = up ? Date.now() : 0;
      this.#peopleChanged();
    });
    meeting.on('participant-connection', ({ participant, status }) => this.#showConnection(participant, status));
    meeting.on('server-error', (msg) =>
      toast(msg.code === 'rate-limited' ? 'Slow down: the server is limiting messages.' : msg.message),
    );
    meeting.on('disconnected', (info) => this.#onDisconnected(info));
    meeting.on('reconnecting', () =>
      setNotice(this.#ui.serverStatus, 'Reconnecting to the server… The call goes on meanwhile.'),
    );
    meeting.on('resumed', () => {
      setNotice(this.#ui.serverStatus, '');
      announce('Reconnected to the server');
    });
    meeting.on('participant-away', (p) => {
      if (p.away) grid.get(p.id)?.setConnection(p.connection.state, `${p.name} is reconnecting…`);
      else this.#showConnection(p, p.connection);
    });
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

    this.#name = name;
    this.#chat.start(meeting.self?.id ?? '');
    for (const entry of meeting.chat) this.#chat.add(entry, (id) => meeting.participants.get(id)?.name ?? 'someone who left', true);
    const self = this.#grid.add('self', `${name} (you)`, true);
    self.setName(`${name} (you)`);
    showView('meeting');
    this.render();
    this.#peopleChanged();
    this.#speaker.resume();
    clearInterval(this.#qualityTimer);
    this.#qualityTimer = setInterval(() => void this.#measure(meeting), QUALITY_EVERY_MS);
  }

  /**
   * measure puts each participant's call quality on their tile, and warns
   * when our own connection is what holds the call back.
   * @param {Meeting} meeting
   */
  async #measure(meeting) {
    // A switch needs the CPU for its new connections: measure again after it.
    if (this.#meeting !== meeting || meeting.switching) return;
    for (const id of meeting.participants.keys()) {
      const q = await meeting.quality(id).catch(() => null);
      if (q) this.#grid.get(id)?.setQuality(q.level, describe(q));
    }
    const up = await meeting.uplink().catch(() => null);
    if (!up || this.#meeting !== meeting) return;
    const ui = this.#ui;
    const struggling = up.limitation === 'bandwidth' || up.level === 'poor';
    setNotice(
      ui.uplink,
      struggling
        ? up.limitation === 'bandwidth'
          ? 'Your connection is slow: others see you in lower quality. Closing other downloads or turning your camera off helps.'
          : 'Your connection is losing data: others may hear you break up.'
        : up.limitation === 'cpu'
          ? 'Your device is busy: others see you in lower quality.'
          : '',
    );
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
    if (this.visible && media.audioTrack !== this.#selfAudio) {
      this.#selfAudio = media.audioTrack;
      this.#speaker.watch('self', media.audioTrack ? new MediaStream([media.audioTrack]) : null, false);
    }
    this.#toggles.render();
    if (!this.#panels.settings.hidden) this.#renderDevices();
    if (this.#meeting) this.#peopleChanged();
    this.#renderShare();
  }

  /** setUpControls wires the toolbar's other buttons, the panels and the keyboard shortcuts. */
  #setUpControls() {
    const grid = this.#grid;
    this.#handButton.addEventListener('click', () => this.#toggleHand());
    this.#layoutButton.addEventListener('click', () => this.#toggleLayout());
    this.#settingsButton.addEventListener('click', () => {
      if (this.#panels.settings.hidden) this.#openPanel('settings');
      else this.#closePanel('settings');
    });
    byId('help-toggle', HTMLButtonElement).addEventListener('click', () => this.#shortcuts.showModal());
    for (const button of document.querySelectorAll('.close-panel')) {
      const name = /** @type {PanelName} */ (button instanceof HTMLElement ? button.dataset.close : '');
      button.addEventListener('click', () => this.#closePanel(name));
    }

    const micSelect = byId('call-mic-select', HTMLSelectElement);
    const camSelect = byId('call-cam-select', HTMLSelectElement);
    const speakerSelect = byId('call-speaker-select', HTMLSelectElement);
    micSelect.addEventListener('change', () => void this.#media.selectDevice('audio', micSelect.value));
    camSelect.addEventListener('change', () => void this.#media.selectDevice('video', camSelect.value));
    speakerSelect.addEventListener('change', () => grid.setSink(speakerSelect.value));
    if (!('setSinkId' in HTMLMediaElement.prototype)) {
      // Firefox before 116, Safari: the system chooses the speaker.
      speakerSelect.hidden = true;
      byId('call-speaker-label', HTMLLabelElement).hidden = true;
    }
    const selfView = byId('self-view', HTMLInputElement);
    selfView.checked = recall(SELF_VIEW_KEY) === 'small';
    grid.setSmallSelf(selfView.checked);
    selfView.addEventListener('change', () => {
      grid.setSmallSelf(selfView.checked);
      remember(SELF_VIEW_KEY, selfView.checked ? 'small' : 'tile');
    });

    document.addEventListener('keydown', (ev) => this.#onKey(ev));
    document.addEventListener('pointerdown', () => this.#speaker.resume());
    this.#speaker.on('speaking', ({ id, speaking }) => {
      grid.get(id)?.setSpeaking(speaking);
      if (speaking && id !== 'self') grid.spoke(id);
    });
    this.#speaker.on('active', () => this.#refocus());
  }

  /**
   * onKey runs the keyboard shortcuts of the call: single letters, not while typing.
   * @param {KeyboardEvent} ev
   */
  #onKey(ev) {
    if (!this.visible || !this.#meeting || ev.repeat || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === 'Escape') {
      for (const name of /** @type {PanelName[]} */ (['chat', 'people', 'settings'])) this.#closePanel(name);
      return;
    }
    if (typing(ev.target) || this.#shortcuts.open) return;
    /** @type {Record<string, () => void>} */
    const keys = {
      m: () => byId('mic', HTMLButtonElement).click(),
      v: () => byId('cam', HTMLButtonElement).click(),
      c: () => (this.#chat.open ? this.#closePanel('chat') : this.#openPanel('chat')),
      h: () => this.#toggleHand(),
      l: () => this.#toggleLayout(),
      '?': () => this.#shortcuts.showModal(),
    };
    const run = keys[ev.key.length === 1 ? ev.key.toLowerCase() : ''];
    if (!run) return;
    ev.preventDefault();
    run();
  }

  /**
   * openPanel shows one side panel (chat, people or settings) and closes the others.
   * @param {PanelName} name
   */
  #openPanel(name) {
    this.#closePanelsExcept(name);
    if (name === 'chat') this.#chat.setOpen(true);
    else if (name === 'people') this.#people.setOpen(true);
    else {
      this.#panels.settings.hidden = false;
      this.#settingsButton.setAttribute('aria-expanded', 'true');
      this.#renderDevices();
      byId('settings-title', HTMLElement).focus();
    }
  }

  /** @param {PanelName} name */
  #closePanel(name) {
    if (name === 'chat') this.#chat.setOpen(false);
    else if (name === 'people') this.#people.setOpen(false);
    else if (!this.#panels.settings.hidden) {
      const panel = this.#panels.settings;
      const hadFocus = document.activeElement && panel.contains(document.activeElement);
      panel.hidden = true;
      this.#settingsButton.setAttribute('aria-expanded', 'false');
      if (hadFocus) this.#settingsButton.focus();
    }
  }

  /** @param {PanelName} keep */
  #closePanelsExcept(keep) {
    for (const name of /** @type {PanelName[]} */ (['chat', 'people', 'settings'])) if (name !== keep) this.#closePanel(name);
  }

  #renderDevices() {
    const media = this.#media;
    fillDevices(byId('call-mic-select', HTMLSelectElement), media.devices, 'audioinput', media.audioDeviceId, 'No microphone');
    fillDevices(byId('call-cam-select', HTMLSelectElement), media.devices, 'videoinput', media.videoDeviceId, 'No camera');
    fillDevices(byId('call-speaker-select', HTMLSelectElement), media.devices, 'audiooutput', this.#grid.sinkId, 'Default speaker');
  }

  #toggleHand() {
    const meeting = this.#meeting;
    if (!meeting) return;
    meeting.setHand(!meeting.hand);
    toast(meeting.hand ? 'You raised your hand' : 'You lowered your hand');
  }

  #toggleLayout() {
    this.#speakerLayout = !this.#speakerLayout;
    this.#layoutButton.setAttribute('aria-pressed', String(this.#speakerLayout));
    this.#grid.el.dataset.layout = this.#speakerLayout ? 'speaker' : 'grid';
    this.#refocus();
  }

  /**
   * pin keeps participant `id`'s tile large, or unpins it if it was.
   * @param {string} id
   */
  #pin(id) {
    const before = this.#pinned;
    this.#pinned = before === id ? '' : id;
    this.#grid.get(before)?.setPinned(false);
    if (this.#pinned) this.#grid.get(this.#pinned)?.setPinned(true);
    this.#refocus();
  }

  /** refocus decides the large tile: a pinned one, else a shared screen, else in the speaker layout the main speaker. */
  #refocus() {
    const grid = this.#grid;
    const meeting = this.#meeting;
    if (this.#pinned && grid.get(this.#pinned)) {
      grid.setFocus(this.#pinned, true);
      return;
    }
    let focus = '';
    if (this.#speakerLayout && meeting) {
      const active = this.#speaker.active;
      focus = active && meeting.participants.has(active) ? active : ([...meeting.participants.keys()][0] ?? '');
    }
    // A shared screen, while someone presents, takes the large tile from the speaker (tiles.js).
    grid.setFocus(focus);
  }

  /** @type {Set<string>} who had a hand up at the last render, to announce only new ones */
  #handUp = new Set();

  /** peopleChanged redraws what depends on who is here and their state: the people panel, hands, "To:", the large tile. */
  #peopleChanged() {
    const meeting = this.#meeting;
    /** @type {Person[]} */
    const people = [];
    const media = this.#media.state;
    const hand = meeting?.hand ?? false;
    people.push({ id: 'self', name: this.#name, self: true, state: { ...media, hand, handAt: hand ? this.#handAt : undefined } });
    for (const p of meeting?.participants.values() ?? []) people.push({ id: p.id, name: p.name, self: false, state: p.state });
    this.#people.render(people);
    const order = handOrder(people);
    this.#handUp = new Set(order);
    for (const p of people) this.#grid.get(p.id)?.setHand(order.indexOf(p.id) + 1);
    this.#handButton.setAttribute('aria-pressed', String(hand));
    this.#handButton.setAttribute('aria-label', hand ? 'Lower hand' : 'Raise hand');
    this.#handButton.title = hand ? 'Lower hand (H)' : 'Raise hand (H)';
    this.#chat.setPeople(people.filter((p) => !p.self));
    this.#refocus();
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
        // The connection failed; the transport is trying again before it gives up. A first
        // attempt that never got anywhere was not lost: it is still being tried.
        tile.setConnection(state, status.reached === false ? `Still trying to reach ${p.name}…` : 'Connection lost — retrying…');
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

  /** forgetPeople drops what the call showed of the others at the end of a stay. */
  #forgetPeople() {
    clearInterval(this.#qualityTimer);
    setNotice(this.#ui.uplink, '');
    for (const id of this.#grid.tiles.keys()) if (id !== 'self') this.#speaker.unwatch(id);
    this.#pinned = '';
    this.#handUp.clear();
    this.#grid.setFocus('');
    this.#peopleChanged();
  }

  /** @param {CloseInfo} info */
  #onDisconnected(info) {
    const ui = this.#ui;
    this.#meeting = null;
    for (const id of [...this.#slowTimers.keys()]) this.#forgetConnection(id);
    this.#forgetPeople();
    this.#grid.removeAllExcept('self');
    setNotice(ui.mediaStatus, '');
    setNotice(ui.serverStatus, '');
    if (info.byClient) return;
    if (info.code === RESUME_FAILED) {
      // The stay is over (away too long, or the server restarted): join afresh at once.
      toast(rejoinText(info));
      this.#rejoin();
      return;
    }
    ui.bannerText.textContent = lostText(info);
    ui.banner.hidden = false;
    ui.rejoin.focus();
  }

  #leave() {
    const ui = this.#ui;
    this.#meeting?.leave();
    this.#meeting = null;
    this.#media.stop();
    this.#forgetPeople();
    this.#speaker.close();
    this.#selfAudio = null;
    this.#grid.removeAllExcept('');
    ui.endedTitle.textContent = 'You left the meeting';
    ui.endedText.textContent = 'Your camera and microphone are off.';
    showView('ended');
    ui.endedRejoin.focus();
  }
}
