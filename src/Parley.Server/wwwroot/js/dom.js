// @ts-check
// dom.js holds the small DOM helpers the pages share: finding elements,
// remembering choices, switching the meeting page's views, and its toasts.

/**
 * byId returns the element with `id`, or throws: the page and its scripts ship together.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`parley: #${id} missing`);
  return el;
}

/**
 * remember stores a value, ignoring storage that is full or disabled.
 * @param {string} key
 * @param {string} value
 */
export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage disabled: nothing to remember then.
  }
}

/**
 * recall reads a remembered value ('' when none).
 * @param {string} key
 * @returns {string}
 */
export function recall(key) {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

/**
 * setNotice shows `text` in `el`, and hides `el` when there is nothing to say ('').
 * @param {HTMLElement} el
 * @param {string} text
 */
export function setNotice(el, text) {
  el.textContent = text;
  el.hidden = text === '';
}

/**
 * VIEWS are the meeting page's sections, by id; one shows at a time.
 * @typedef {'prejoin' | 'meeting' | 'ended' | 'bad-room'} View
 */
const VIEWS = /** @type {const} */ (['prejoin', 'meeting', 'ended', 'bad-room']);

/**
 * showView shows the section `view` of the meeting page and hides the others.
 * @param {View} view
 */
export function showView(view) {
  for (const id of VIEWS) byId(id, HTMLElement).hidden = id !== view;
}

/** TOAST_MS is how long a toast stays. */
const TOAST_MS = 4000;

let toastTimer = 0;

/**
 * toast says `text` for a moment in the meeting page's #toast, a polite live region.
 * @param {string} text
 */
export function toast(text) {
  const el = byId('toast', HTMLParagraphElement);
  el.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.textContent = '';
  }, TOAST_MS);
}

/**
 * announce says `text` to screen readers only, through the meeting page's
 * #announcer (a polite live region): joins, leaves, hands and messages.
 * @param {string} text
 */
export function announce(text) {
  const el = document.getElementById('announcer');
  if (!el) return;
  // A new node each time, so that the same words twice are said twice.
  const line = document.createElement('p');
  line.textContent = text;
  el.append(line);
  while (el.childElementCount > 5) el.firstElementChild?.remove();
}
