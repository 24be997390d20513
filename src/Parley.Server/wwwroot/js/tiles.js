// @ts-check
// tiles.js draws the grid of participant tiles. Every participant-supplied
// text goes in with textContent; nothing here parses HTML.
//
// A shared screen is a tile of its own (class `screen`, data-peer
// `screen:<participant id>`, `screen:self` for ours). While anyone shares,
// the grid carries data-presenting (the id of the latest share, 'self' for
// ours), that share's tile is `presenting` (the large one) and the rest form
// a strip; the stylesheet does the layout.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** SWAP_TIMEOUT_MS bounds the wait for a new stream's first frame before it takes over anyway. */
const SWAP_TIMEOUT_MS = 2_000;

/**
 * icon makes an <svg><use href="#id"></svg> for a symbol defined in the page.
 * @param {string} id symbol id
 * @param {string} className
 * @param {string} label accessible label, '' for decorative icons
 * @returns {SVGSVGElement}
 */
function icon(id, className, label) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', className);
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#${id}`);
  svg.append(use);
  return svg;
}

/**
 * initial is the first character of a name, for the camera-off avatar.
 * @param {string} name
 * @returns {string}
 */
export function initial(name) {
  const first = Array.from(name.trim())[0];
  return first ? first.toLocaleUpperCase() : '?';
}

/** SCREEN_PREFIX starts the tile id (and data-peer) of a shared screen: `screen:<participant id>`. */
export const SCREEN_PREFIX = 'screen:';

/**
 * Tile is one participant's video with their name and status.
 * Its element carries data-peer, data-video (on/off), data-audio (on/off)
 * and data-connection attributes; the stylesheet reacts to them.
 */
export class Tile {
  /**
   * @param {string} id participant id, or 'self'
   * @param {string} name display name (text)
   * @param {boolean} self whether this is our own, mirrored and muted, view
   * @param {() => void} onAutoplayBlocked called when the browser refuses to play sound
   * @param {boolean} [screen] whether this shows a shared screen: whole (contained), never mirrored, silent
   */
  constructor(id, name, self, onAutoplayBlocked, screen = false) {
    this.id = id;
    this.screen = screen;
    this.#onAutoplayBlocked = onAutoplayBlocked;
    this.el = document.createElement('div');
    this.el.className = ['tile', self ? 'self' : '', screen ? 'screen' : ''].filter(Boolean).join(' ');
    this.el.setAttribute('role', 'listitem');
    this.el.dataset.peer = id;
    this.el.dataset.video = 'off';
    this.el.dataset.audio = 'on';

    this.video = document.createElement('video');
    this.video.className = 'tile-video';
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = self || screen; // never play our own microphone back; a screen has no sound
    this.video.setAttribute('aria-hidden', 'true');

    const avatar = document.createElement('div');
    avatar.className = 'tile-avatar';
    avatar.setAttribute('aria-hidden', 'true');
    this.avatarText = document.createElement('span');
    avatar.append(this.avatarText);

    const label = document.createElement('div');
    label.className = 'tile-label';
    this.nameEl = document.createElement('span');
    this.nameEl.className = 'tile-name';
    label.append(
      this.nameEl,
      icon('i-mic-off', 'tile-flag mic-off', 'microphone off'),
      icon('i-cam-off', 'tile-flag cam-off', 'camera off'),
    );

    this.statusEl = document.createElement('p');
    this.statusEl.className = 'tile-status';
    this.statusEl.setAttribute('role', 'status');

    this.handEl = document.createElement('span');
    this.handEl.className = 'tile-hand';
    this.handEl.hidden = true;

    this.el.append(this.video, avatar, label, this.statusEl, this.handEl);
    this.setName(name);
  }

  /**
   * addActions puts the tile's own buttons on it: pin (the tile stays large)
   * and full screen.
   * @param {(id: string) => void} onPin
   */
  addActions(onPin) {
    const bar = document.createElement('div');
    bar.className = 'tile-actions';
    this.pinButton = document.createElement('button');
    this.pinButton.type = 'button';
    this.pinButton.className = 'tile-action pin';
    this.pinButton.setAttribute('aria-pressed', 'false');
    this.pinButton.append(icon('i-pin', 'icon', ''));
    this.pinButton.addEventListener('click', () => onPin(this.id));
    const full = document.createElement('button');
    full.type = 'button';
    full.className = 'tile-action fullscreen';
    full.append(icon('i-fullscreen', 'icon', ''));
    full.addEventListener('click', () => this.toggleFullscreen());
    this.fullButton = full;
    bar.append(this.pinButton, full);
    this.el.append(bar);
    this.#labelActions();
  }

  /**
   * setQuality shows the connection quality of this participant's media as
   * signal bars, with the measures in a disclosure the user can open.
   * @param {import('./quality.js').QualityLevel} level
   * @param {string[]} lines the measures, in words
   */
  setQuality(level, lines) {
    if (!this.qualityEl) {
      const details = document.createElement('details');
      details.className = 'tile-quality';
      const summary = document.createElement('summary');
      const bars = document.createElement('span');
      bars.className = 'bars';
      bars.setAttribute('aria-hidden', 'true');
      bars.append(document.createElement('i'), document.createElement('i'), document.createElement('i'));
      summary.append(bars);
      const list = document.createElement('ul');
      list.className = 'quality-lines';
      details.append(summary, list);
      this.el.append(details);
      this.qualityEl = details;
    }
    this.el.dataset.quality = level;
    const summary = /** @type {HTMLElement} */ (this.qualityEl.querySelector('summary'));
    summary.setAttribute('aria-label', `Connection quality: ${level === 'unknown' ? 'measuring' : level}`);
    summary.title = summary.getAttribute('aria-label') ?? '';
    const list = /** @type {HTMLElement} */ (this.qualityEl.querySelector('ul'));
    list.replaceChildren(
      ...lines.map((line) => {
        const li = document.createElement('li');
        li.textContent = line;
        return li;
      }),
    );
  }

  /** toggleFullscreen shows this tile alone on the whole screen, or leaves full screen. */
  toggleFullscreen() {
    if (document.fullscreenElement === this.el) {
      document.exitFullscreen().catch(() => {});
    } else {
      this.el.requestFullscreen?.().catch(() => {});
    }
  }

  /** @param {boolean} pinned */
  setPinned(pinned) {
    this.el.dataset.pinned = String(pinned);
    this.pinButton?.setAttribute('aria-pressed', String(pinned));
    this.#labelActions();
  }

  /**
   * setHand shows a raised hand and its place in the queue (0: hand down).
   * @param {number} position
   */
  setHand(position) {
    this.el.dataset.hand = position > 0 ? 'on' : 'off';
    this.handEl.hidden = position === 0;
    this.handEl.textContent = position > 0 ? `✋ ${position}` : '';
    this.handEl.setAttribute('aria-label', position > 0 ? `hand raised (${position})` : '');
    this.handEl.setAttribute('role', 'img');
  }

  /**
   * setSink plays this tile's sound on the audio output `deviceId`, where the browser can.
   * @param {string} deviceId
   */
  setSink(deviceId) {
    this.#sinkId = deviceId;
    const video = /** @type {HTMLVideoElement & {setSinkId?: (id: string) => Promise<void>}} */ (this.video);
    video.setSinkId?.(deviceId).catch((err) => console.warn('parley: setSinkId failed', err));
  }

  /** @param {boolean} speaking */
  setSpeaking(speaking) {
    this.el.dataset.speaking = String(speaking);
  }

  #labelActions() {
    const name = this.nameEl.textContent ?? '';
    if (this.pinButton) {
      const pinned = this.el.dataset.pinned === 'true';
      this.pinButton.setAttribute('aria-label', pinned ? `Unpin ${name}` : `Pin ${name}`);
      this.pinButton.title = pinned ? 'Unpin' : 'Pin (keep large)';
    }
    if (this.fullButton) {
      this.fullButton.setAttribute('aria-label', `Full screen: ${name}`);
      this.fullButton.title = 'Full screen';
    }
  }

  /** @type {() => void} */
  #onAutoplayBlocked;
  #sinkId = '';
  /** @type {HTMLDetailsElement | undefined} */
  qualityEl;
  /** @type {HTMLButtonElement | undefined} */
  pinButton;
  /** @type {HTMLButtonElement | undefined} */
  fullButton;
  #trackKey = '';
  /** @type {HTMLVideoElement | null} the element of a stream being made ready to take over */
  #incoming = null;

  /**
   * setName shows `name` as text; long names end in an ellipsis (CSS), the
   * full name stays in the tooltip.
   * @param {string} name
   */
  setName(name) {
    this.nameEl.textContent = name;
    this.nameEl.title = name;
    this.avatarText.textContent = initial(name);
    this.el.setAttribute('aria-label', name);
    this.#labelActions();
  }

  /**
   * setStream plays `stream` (null: nothing). Setting the same stream again
   * after it gained tracks makes the element pick them up. A different
   * stream with video, while one plays, is made before it breaks: it plays
   * muted in a second, hidden element, which takes the place of the first at
   * its first decoded frame (or after SWAP_TIMEOUT_MS), so a switch of path
   * shows no black frame and the sound moves over at once.
   * @param {MediaStream | null} stream
   */
  setStream(stream) {
    const key = stream ? stream.getTracks().map((t) => t.id).join(',') : '';
    if (key === this.#trackKey && this.video.srcObject === stream) return;
    this.#trackKey = key;
    const playing = this.video.srcObject instanceof MediaStream && this.video.srcObject !== stream;
    const hasVideo = stream?.getVideoTracks().some((t) => t.readyState === 'live') ?? false;
    if (!stream || !playing || !hasVideo || typeof this.video.requestVideoFrameCallback !== 'function') {
      this.#cancelIncoming();
      this.video.srcObject = stream;
      if (stream) this.#play(this.video);
      return;
    }
    this.#cancelIncoming();
    const next = /** @type {HTMLVideoElement} */ (this.video.cloneNode(false));
    next.classList.add('incoming');
    next.muted = true;
    next.srcObject = stream;
    this.#incoming = next;
    this.video.after(next);
    let done = false;
    const asked = performance.now();
    const swap = (/** @type {unknown} */ how) => {
      if (done || this.#incoming !== next) return;
      done = true;
      console.debug(`parley: tile swap after ${Math.round(performance.now() - asked)} ms (${how === 'timeout' ? 'timeout' : 'first frame'})`);
      clearTimeout(timer);
      const old = this.video;
      next.muted = old.muted;
      next.classList.remove('incoming');
      this.video = next;
      if (this.#sinkId) this.setSink(this.#sinkId);
      this.#incoming = null;
      old.srcObject = null;
      old.remove();
      if (!next.muted) this.#play(next);
    };
    const timer = setTimeout(swap, SWAP_TIMEOUT_MS, 'timeout');
    next.requestVideoFrameCallback(swap);
    next.play().catch(() => {});
  }

  #cancelIncoming() {
    const incoming = this.#incoming;
    this.#incoming = null;
    if (!incoming) return;
    incoming.srcObject = null;
    incoming.remove();
  }

  /** @param {boolean} on */
  setVideo(on) {
    this.el.dataset.video = on ? 'on' : 'off';
  }

  /** @param {boolean} on */
  setAudio(on) {
    this.el.dataset.audio = on ? 'on' : 'off';
  }

  /**
   * setConnection shows the state of the media from this participant and a sentence about it.
   * @param {import('./transport.js').ConnectionState} state
   * @param {string} text '' for nothing to say
   */
  setConnection(state, text) {
    this.el.dataset.connection = state;
    this.statusEl.textContent = text;
  }

  /** unmute plays the sound after the browser blocked autoplay with sound. */
  unmute() {
    if (this.el.classList.contains('self') || this.screen) return;
    this.video.muted = false;
    this.video.play().catch(() => {});
  }

  /** @param {HTMLVideoElement} video */
  #play(video) {
    video.play().catch((err) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !video.muted) {
        // Autoplay with sound refused: show the picture muted and ask for a click.
        video.muted = true;
        video.play().catch(() => {});
        this.#onAutoplayBlocked();
      }
    });
  }
}

/**
 * maxTiles is how many tiles fit on this screen: more would be too small to
 * tell faces apart, so the rest wait in the people panel.
 * @returns {number}
 */
function maxTiles() {
  return matchMedia('(max-width: 640px), (max-height: 480px)').matches ? 4 : 9;
}

/**
 * TileGrid is the responsive grid of tiles; it keeps data-count for the CSS
 * layout. In the speaker layout, or with a tile pinned, one tile (the focus)
 * is large and the others are in a strip. When more tiles than fit are in the
 * meeting, those who spoke most recently stay in sight and a "+N" tile says
 * how many more there are.
 */
export class TileGrid {
  /** @type {Map<string, Tile>} */
  tiles = new Map();
  /** @type {Map<string, number>} when each participant last spoke */
  #spoke = new Map();
  /** @type {string[]} the participants sharing a screen (ids, 'self' for us), the latest last */
  #presenters = [];
  #focus = '';
  #focusPinned = false;
  #smallSelf = false;
  /** the audio output every tile plays on ('' for the default) */
  sinkId = '';
  #more;
  #moreButton;

  /**
   * @param {HTMLElement} el the grid container
   * @param {() => void} onAutoplayBlocked
   * @param {() => void} [onMore] called when the "+N more" tile is clicked
   */
  constructor(el, onAutoplayBlocked, onMore = () => {}) {
    this.el = el;
    this.onAutoplayBlocked = onAutoplayBlocked;
    this.#more = document.createElement('div');
    this.#more.className = 'grid-more';
    this.#more.setAttribute('role', 'listitem');
    this.#more.hidden = true;
    this.#moreButton = document.createElement('button');
    this.#moreButton.type = 'button';
    this.#moreButton.className = 'more-button';
    this.#moreButton.addEventListener('click', onMore);
    this.#more.append(this.#moreButton);
    this.el.append(this.#more);
    matchMedia('(max-width: 640px), (max-height: 480px)').addEventListener('change', () => this.#layout());
  }

  /**
   * add creates the tile of a participant (or returns the existing one).
   * @param {string} id
   * @param {string} name
   * @param {boolean} [self]
   * @returns {Tile}
   */
  add(id, name, self = false) {
    let tile = this.tiles.get(id);
    if (tile) return tile;
    tile = new Tile(id, name, self, this.onAutoplayBlocked);
    this.tiles.set(id, tile);
    if (this.sinkId) tile.setSink(this.sinkId);
    if (self) this.el.prepend(tile.el);
    else this.#more.before(tile.el);
    this.#layout();
    return tile;
  }

  /**
   * @param {string} id
   * @returns {Tile | undefined}
   */
  get(id) {
    return this.tiles.get(id);
  }

  /**
   * showScreen shows participant `owner`'s shared screen (`owner` 'self':
   * ours) in a tile of its own, made the large one when it is new: the
   * latest share is the one presented. `stream` null removes it.
   * @param {string} owner participant id, or 'self'
   * @param {string} name the participant's name ('' for ours)
   * @param {MediaStream | null} stream
   * @returns {Tile | undefined} the screen's tile, while there is one
   */
  showScreen(owner, name, stream) {
    const id = SCREEN_PREFIX + owner;
    if (!stream) {
      this.remove(id);
      return undefined;
    }
    let tile = this.tiles.get(id);
    if (!tile) {
      const self = owner === 'self';
      tile = new Tile(id, self ? 'Your screen' : `${name}'s screen`, self, this.onAutoplayBlocked, true);
      tile.setVideo(true);
      tile.setAudio(true);
      this.tiles.set(id, tile);
      this.#more.before(tile.el);
      this.#presenters = [...this.#presenters.filter((p) => p !== owner), owner];
      this.#layout();
    }
    tile.setStream(stream);
    return tile;
  }

  /** @param {string} id */
  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.tiles.delete(id);
    this.#spoke.delete(id);
    if (this.#focus === id) this.#focus = '';
    tile.video.srcObject = null;
    tile.el.remove();
    if (tile.screen) this.#presenters = this.#presenters.filter((p) => SCREEN_PREFIX + p !== id);
    this.#layout();
  }

  /** removeAllExcept removes every tile but `keep`. @param {string} keep */
  removeAllExcept(keep) {
    for (const id of [...this.tiles.keys()]) if (id !== keep) this.remove(id);
  }

  /** unmuteAll plays sound on every remote tile. */
  unmuteAll() {
    for (const tile of this.tiles.values()) tile.unmute();
  }

  /**
   * setFocus makes tile `id` the large one ('' for none): a pinned tile
   * stays large whatever happens; another (the speaker layout's) gives way
   * to a shared screen while someone presents.
   * @param {string} id
   * @param {boolean} [pinned]
   */
  setFocus(id, pinned = false) {
    const focus = this.tiles.has(id) ? id : '';
    if (focus === this.#focus && pinned === this.#focusPinned) return;
    this.#focus = focus;
    this.#focusPinned = pinned && focus !== '';
    this.#layout();
  }

  /** focus is the id of the large tile, '' for none. */
  get focus() {
    return this.el.dataset.focus ?? '';
  }

  /**
   * spoke notes that participant `id` is speaking: they stay in sight when not everyone fits.
   * @param {string} id
   */
  spoke(id) {
    this.#spoke.set(id, performance.now());
    if (this.tiles.size > maxTiles()) this.#layout();
  }

  /**
   * setSmallSelf shows our own picture small in a corner instead of as a tile of the grid.
   * @param {boolean} small
   */
  setSmallSelf(small) {
    this.#smallSelf = small;
    this.#layout();
  }

  /**
   * setSink plays every tile's sound on the audio output `deviceId` ('' for the default).
   * @param {string} deviceId
   */
  setSink(deviceId) {
    this.sinkId = deviceId;
    for (const tile of this.tiles.values()) tile.setSink(deviceId);
  }

  /** hiddenCount is how many tiles are out of sight because not all fit. */
  get hiddenCount() {
    let n = 0;
    for (const tile of this.tiles.values()) if (tile.el.hidden) n++;
    return n;
  }

  #layout() {
    const limit = maxTiles();
    // The large tile: a pinned one, else the latest shared screen, else the speaker layout's.
    const presenting = this.#presenters.at(-1);
    const screen = presenting === undefined ? '' : SCREEN_PREFIX + presenting;
    const large = this.#focusPinned && this.#focus ? this.#focus : screen && this.tiles.has(screen) ? screen : this.#focus;
    // Who stays in sight: us, the large tile and the screens, then those who spoke last, then those who came first.
    const order = [...this.tiles.keys()];
    const rank = (/** @type {string} */ id) =>
      id === 'self' || id === large || id.startsWith(SCREEN_PREFIX) ? Infinity : (this.#spoke.get(id) ?? -(order.indexOf(id) + 1));
    const shown = new Set(order.length > limit ? [...order].sort((a, b) => rank(b) - rank(a)).slice(0, limit - 1) : order);
    for (const [id, tile] of this.tiles) {
      tile.el.hidden = !shown.has(id);
      tile.el.classList.toggle('focus', id === large);
      tile.el.classList.toggle('presenting', id === screen);
    }
    const hidden = order.length - shown.size;
    this.#more.hidden = hidden === 0;
    this.#moreButton.textContent = `+${hidden}`;
    this.#moreButton.setAttribute('aria-label', `${hidden} more ${hidden === 1 ? 'participant' : 'participants'}: show everyone`);
    const smallSelf = this.#smallSelf && this.tiles.has('self') && this.tiles.size > 1;
    if (smallSelf) this.el.dataset.selfView = 'small';
    else delete this.el.dataset.selfView;
    const n = shown.size + (hidden ? 1 : 0) - (smallSelf ? 1 : 0);
    this.el.dataset.count = n > 9 ? 'many' : String(Math.max(n, 1));
    if (large) this.el.dataset.focus = large;
    else delete this.el.dataset.focus;
    if (presenting === undefined) delete this.el.dataset.presenting;
    else this.el.dataset.presenting = presenting;
    // --strip is how many tiles the strip beside (or below) the large one holds.
    this.el.style.setProperty('--strip', String(Math.max(n - 1, 1)));
  }
}
