// @ts-check
// views.js watches how large each remote tile is shown, and whether it is
// shown at all, and says which picture it needs: through the media server a
// thumbnail gets the small simulcast layer, a large tile the full one, and a
// tile out of sight (scrolled away, hidden, or the page in the background)
// none at all, so no bandwidth or decoding goes to what nobody sees.

/** @typedef {import('./transport.js').VideoLevel} VideoLevel */

/**
 * HIGH_FROM_PX is the tile width in device pixels from which the full
 * picture (640 wide from a usual camera) is worth it; narrower tiles get the
 * half-size layer.
 */
export const HIGH_FROM_PX = 400;

/** ViewWatcher reports each watched tile's VideoLevel when it changes. */
export class ViewWatcher {
  /** @type {Map<Element, {id: string, width: number, visible: boolean, level: VideoLevel | ''}>} */
  #tiles = new Map();
  #onChange;
  #resize;
  #intersect;

  /** @param {(id: string, level: VideoLevel) => void} onChange */
  constructor(onChange) {
    this.#onChange = onChange;
    this.#resize = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const tile = this.#tiles.get(entry.target);
        if (tile) tile.width = entry.contentRect.width;
      }
      this.#update();
    });
    this.#intersect = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const tile = this.#tiles.get(entry.target);
        if (tile) tile.visible = entry.isIntersecting;
      }
      this.#update();
    });
    document.addEventListener('visibilitychange', () => this.#update());
  }

  /**
   * watch starts watching the tile element of participant `id`.
   * @param {string} id
   * @param {Element} element
   */
  watch(id, element) {
    this.#tiles.set(element, { id, width: element.getBoundingClientRect().width, visible: true, level: '' });
    this.#resize.observe(element);
    this.#intersect.observe(element);
    this.#update();
  }

  /** @param {Element} element */
  unwatch(element) {
    this.#tiles.delete(element);
    this.#resize.unobserve(element);
    this.#intersect.unobserve(element);
  }

  /** again reports every tile's level anew (e.g. to a new transport). */
  again() {
    for (const tile of this.#tiles.values()) tile.level = '';
    this.#update();
  }

  #update() {
    const pageHidden = document.visibilityState === 'hidden';
    for (const tile of this.#tiles.values()) {
      /** @type {VideoLevel} */
      const level =
        pageHidden || !tile.visible || tile.width === 0 ? 'off' : tile.width * devicePixelRatio >= HIGH_FROM_PX ? 'high' : 'low';
      if (level === tile.level) continue;
      tile.level = level;
      this.#onChange(tile.id, level);
    }
  }
}
