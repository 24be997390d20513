// @ts-check
// people.js draws the call's people panel: everyone in the meeting with what
// they send (microphone, camera, screen) and their raised hand, hands first
// in the order they went up; and the count on the toolbar's People button.

/** @typedef {import('./signaling.js').MediaState} MediaState */

/**
 * @typedef {object} Person
 * @property {string} id participant id ('self' for us)
 * @property {string} name
 * @property {boolean} self
 * @property {MediaState | null} state null before their first `state`
 */

/**
 * handOrder sorts people with a raised hand by when it went up (earliest
 * first; a hand without a time, our own before the server stamped it, last),
 * and returns their ids.
 * @param {Person[]} people
 * @returns {string[]}
 */
export function handOrder(people) {
  return people
    .filter((p) => p.state?.hand)
    .map((p, i) => ({ id: p.id, at: p.state?.handAt ?? Number.MAX_SAFE_INTEGER, i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((h) => h.id);
}

/**
 * flag makes a small state word for a person's row: "muted", "camera off", …
 * @param {string} className
 * @param {string} text
 */
function flag(className, text) {
  const span = document.createElement('span');
  span.className = `person-flag ${className}`;
  span.textContent = text;
  return span;
}

/**
 * @typedef {object} PeopleUi
 * @property {HTMLElement} panel
 * @property {HTMLUListElement} list
 * @property {HTMLElement} title
 * @property {HTMLButtonElement} toggle
 * @property {HTMLElement} count
 */

/** PeoplePanel is the side panel that lists the meeting's participants. */
export class PeoplePanel {
  #ui;
  /** @type {(open: boolean) => void} */
  #onToggle;

  /**
   * @param {PeopleUi} ui
   * @param {(open: boolean) => void} onToggle called when the panel opens or closes
   */
  constructor(ui, onToggle) {
    this.#ui = ui;
    this.#onToggle = onToggle;
    ui.toggle.addEventListener('click', () => this.setOpen(!this.open));
    ui.panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.setOpen(false);
    });
  }

  get open() {
    return !this.#ui.panel.hidden;
  }

  /** @param {boolean} open */
  setOpen(open) {
    const ui = this.#ui;
    if (this.open === open) return;
    ui.panel.hidden = !open;
    ui.toggle.setAttribute('aria-expanded', String(open));
    if (open) ui.title.focus();
    else if (document.activeElement && ui.panel.contains(document.activeElement)) ui.toggle.focus();
    this.#onToggle(open);
  }

  /**
   * render lists `people` (us first, then in the order they joined), raised hands first.
   * @param {Person[]} people
   */
  render(people) {
    const ui = this.#ui;
    const hands = handOrder(people);
    const ordered = [...hands.map((id) => people.find((p) => p.id === id)), ...people.filter((p) => !hands.includes(p.id))];
    const rows = [];
    for (const p of ordered) {
      if (!p) continue;
      const li = document.createElement('li');
      li.className = 'person';
      li.dataset.peer = p.id;
      const name = document.createElement('span');
      name.className = 'person-name';
      name.textContent = p.self ? `${p.name} (you)` : p.name;
      name.title = p.name;
      li.append(name);
      const state = p.state;
      const position = hands.indexOf(p.id);
      if (position >= 0) {
        li.dataset.hand = String(position + 1);
        li.append(flag('hand', `✋ ${position + 1}`));
        li.querySelector('.hand')?.setAttribute('aria-label', `hand raised, ${ordinal(position + 1)}`);
      }
      if (state?.screen) li.append(flag('screen', 'presenting'));
      if (state && !state.audio) li.append(flag('mic-off', 'muted'));
      if (state && !state.video) li.append(flag('cam-off', 'camera off'));
      rows.push(li);
    }
    ui.list.replaceChildren(...rows);
    const n = people.length;
    ui.title.textContent = `People (${n})`;
    ui.count.textContent = String(n);
    ui.toggle.title = `People (${n})`;
  }
}

/**
 * ordinal is 1st, 2nd, 3rd, 4th…
 * @param {number} n
 */
export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
