// @ts-check

/**
 * Emitter is a minimal typed event emitter. `Events` maps each event name to
 * the type of its payload. Listeners run synchronously, in the order they were
 * added; one listener throwing does not stop the others.
 *
 * @template {Record<string, unknown>} Events
 */
export class Emitter {
  /** @type {Map<keyof Events, Set<(payload: any) => void>>} */
  #listeners = new Map();

  /**
   * on adds a listener and returns a function that removes it.
   * @template {keyof Events} K
   * @param {K} type
   * @param {(payload: Events[K]) => void} listener
   * @returns {() => void}
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * emit calls every listener of `type` with `payload`.
   * @template {keyof Events} K
   * @param {K} type
   * @param {Events[K]} payload
   */
  emit(type, payload) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (err) {
        console.error(`parley: listener for "${String(type)}" failed`, err);
      }
    }
  }

  /** clearListeners removes every listener. */
  clearListeners() {
    this.#listeners.clear();
  }
}
