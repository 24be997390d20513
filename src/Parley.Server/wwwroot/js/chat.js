// @ts-check
// chat.js draws the call's chat panel: the messages of the room (and the
// direct ones to or from us), the box to write one, and whom it goes to.
// Everything a participant wrote goes in as text; a web address becomes a
// link that opens in a new tab, and nothing is ever fetched or previewed.

import { announce } from './dom.js';

/** @typedef {import('./signaling.js').ChatEntry} ChatEntry */

/** MAX_CHARS is the server's limit on a message (docs/protocol.md). */
export const MAX_CHARS = 2000;

/** URL_PATTERN finds http(s) addresses in text; trailing punctuation is left out below. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

/** TRAILING is punctuation that ends a sentence rather than an address. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/**
 * linkify appends `text` to `parent` as text nodes, with http(s) addresses as
 * links (rel noopener noreferrer, a new tab). Nothing is parsed as HTML.
 * @param {HTMLElement} parent
 * @param {string} text
 */
export function linkify(parent, text) {
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    const raw = match[0];
    const href = raw.replace(TRAILING, '');
    /** @type {URL | null} */
    let url = null;
    try {
      url = new URL(href);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    if (start > at) parent.append(document.createTextNode(text.slice(at, start)));
    const a = document.createElement('a');
    a.href = url.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.referrerPolicy = 'no-referrer';
    a.textContent = href;
    parent.append(a);
    at = start + href.length;
  }
  if (at < text.length) parent.append(document.createTextNode(text.slice(at)));
}

/**
 * clock is a message's time as the reader's clock shows it (hours and minutes).
 * @param {number} ts Unix ms
 */
function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * @typedef {object} ChatUi
 * @property {HTMLElement} panel
 * @property {HTMLOListElement} log
 * @property {HTMLFormElement} form
 * @property {HTMLTextAreaElement} input
 * @property {HTMLSelectElement} to
 * @property {HTMLButtonElement} toggle
 * @property {HTMLElement} unread
 */

/** ChatPanel is the side panel of the chat, with the unread count on its toolbar button. */
export class ChatPanel {
  #ui;
  #unread = 0;
  #selfId = '';
  /** @type {(text: string, to: string) => void} */
  #send;
  /** @type {(open: boolean) => void} */
  #onToggle;

  /**
   * @param {ChatUi} ui
   * @param {(text: string, to: string) => void} send sends a message ('' to the room, or a participant id)
   * @param {(open: boolean) => void} onToggle called when the panel opens or closes
   */
  constructor(ui, send, onToggle) {
    this.#ui = ui;
    this.#send = send;
    this.#onToggle = onToggle;
    ui.input.maxLength = MAX_CHARS;
    ui.toggle.addEventListener('click', () => this.setOpen(!this.open));
    ui.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#submit();
    });
    ui.input.addEventListener('keydown', (ev) => {
      // Enter sends; Shift+Enter is a new line.
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.#submit();
      } else if (ev.key === 'Escape') {
        this.setOpen(false);
      }
    });
    this.#renderUnread();
  }

  get open() {
    return !this.#ui.panel.hidden;
  }

  /**
   * setOpen shows or hides the panel; opening it reads every message and puts the cursor in the box.
   * @param {boolean} open
   */
  setOpen(open) {
    const ui = this.#ui;
    if (this.open === open) {
      if (open) ui.input.focus();
      return;
    }
    ui.panel.hidden = !open;
    ui.toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      this.#unread = 0;
      this.#renderUnread();
      ui.log.lastElementChild?.scrollIntoView({ block: 'end' });
      ui.input.focus();
    } else if (document.activeElement && ui.panel.contains(document.activeElement)) {
      ui.toggle.focus();
    }
    this.#onToggle(open);
  }

  /**
   * start begins a stay as participant `selfId`: the log of an earlier stay goes.
   * @param {string} selfId
   */
  start(selfId) {
    this.#selfId = selfId;
    this.#ui.log.replaceChildren();
    this.#unread = 0;
    this.#renderUnread();
  }

  /**
   * setPeople fills "To:" with everyone one can write to directly; a recipient who left falls back to everyone.
   * @param {{id: string, name: string}[]} people
   */
  setPeople(people) {
    const select = this.#ui.to;
    const chosen = select.value;
    const everyone = document.createElement('option');
    everyone.value = '';
    everyone.textContent = 'Everyone';
    const options = [everyone];
    for (const p of people) {
      const o = document.createElement('option');
      o.value = p.id;
      o.textContent = `${p.name} (direct)`;
      options.push(o);
    }
    select.replaceChildren(...options);
    select.value = people.some((p) => p.id === chosen) ? chosen : '';
  }

  /**
   * add shows a message; `names` gives the current name of a recipient.
   * @param {ChatEntry} entry
   * @param {(id: string) => string} names
   * @param {boolean} [earlier] a message from before we joined: neither unread nor announced
   */
  add(entry, names, earlier = false) {
    const ui = this.#ui;
    const mine = entry.from === this.#selfId;
    const li = document.createElement('li');
    li.className = mine ? 'chat-message mine' : 'chat-message';
    if (entry.to) li.classList.add('direct');
    const head = document.createElement('p');
    head.className = 'chat-head';
    const who = document.createElement('span');
    who.className = 'chat-name';
    who.textContent = mine ? 'You' : entry.name;
    head.append(who);
    if (entry.to) {
      const to = document.createElement('span');
      to.className = 'chat-to';
      to.textContent = mine ? ` to ${names(entry.to)} (direct)` : ' to you (direct)';
      head.append(to);
    }
    const time = document.createElement('time');
    time.className = 'chat-time';
    time.dateTime = new Date(entry.ts).toISOString();
    time.textContent = clock(entry.ts);
    head.append(' ', time);
    const body = document.createElement('p');
    body.className = 'chat-text';
    linkify(body, entry.text);
    li.append(head, body);
    const atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    ui.log.append(li);
    if (atBottom || mine) li.scrollIntoView({ block: 'end' });
    if (mine || earlier) return;
    if (!this.open) {
      this.#unread++;
      this.#renderUnread();
    }
    const said = entry.text.length > 200 ? `${entry.text.slice(0, 200)}…` : entry.text;
    announce(`${entry.to ? 'Direct message from' : 'Message from'} ${entry.name}: ${said}`);
  }

  /**
   * restore puts a refused message back in the box, unless something new is being written there.
   * @param {string} text
   */
  restore(text) {
    const input = this.#ui.input;
    if (input.value.trim() === '') input.value = text;
  }

  #submit() {
    const ui = this.#ui;
    const text = ui.input.value;
    if (text.trim() === '') return;
    this.#send(text, ui.to.value);
    ui.input.value = '';
    ui.input.focus();
  }

  #renderUnread() {
    const ui = this.#ui;
    ui.unread.textContent = this.#unread > 99 ? '99+' : String(this.#unread);
    ui.unread.hidden = this.#unread === 0;
    ui.toggle.title = this.#unread ? `Chat (${this.#unread} unread)` : 'Chat';
  }
}
