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

    this.el.append(this.video, avatar, label, this.statusEl);
    this.setName(name);
  }

  /** @type {() => void} */
  #onAutoplayBlocked;
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

/** TileGrid is the responsive grid of tiles; it keeps data-count and data-presenting for the CSS layout. */
export class TileGrid {
  /** @type {Map<string, Tile>} */
  tiles = new Map();
  /** @type {string[]} the participants sharing a screen (ids, 'self' for us), the latest last */
  #presenters = [];

  /**
   * @param {HTMLElement} el the grid container
   * @param {() => void} onAutoplayBlocked
   */
  constructor(el, onAutoplayBlocked) {
    this.el = el;
    this.onAutoplayBlocked = onAutoplayBlocked;
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
    if (self) this.el.prepend(tile.el);
    else this.el.append(tile.el);
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
      this.el.append(tile.el);
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

  #layout() {
    const n = this.tiles.size;
    this.el.dataset.count = n > 9 ? 'many' : String(Math.max(n, 1));
    const presenting = this.#presenters.at(-1);
    const large = presenting === undefined ? undefined : this.tiles.get(SCREEN_PREFIX + presenting);
    for (const tile of this.tiles.values()) tile.el.classList.toggle('presenting', tile === large);
    if (presenting === undefined) {
      delete this.el.dataset.presenting;
      this.el.style.removeProperty('--strip');
    } else {
      this.el.dataset.presenting = presenting;
      // --strip is how many tiles the strip beside (or below) the large one holds.
      this.el.style.setProperty('--strip', String(Math.max(n - 1, 1)));
    }
  }
}
