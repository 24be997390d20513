// @ts-check
// landing.js runs the start page: "New meeting" and joining by id or link.

import { newRoomId, parseRoomInput } from './room-id.js';

/**
 * byId returns the element with `id`, or throws: the page and this script ship together.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`landing.js: #${id} missing`);
  return el;
}

const newMeeting = byId('new-meeting', HTMLButtonElement);
const form = byId('join-form', HTMLFormElement);
const input = byId('room-input', HTMLInputElement);
const error = byId('room-error', HTMLParagraphElement);

/** @param {string} room */
function go(room) {
  location.assign(`/r/${encodeURIComponent(room)}`);
}

newMeeting.addEventListener('click', () => go(newRoomId()));

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value;
  const room = parseRoomInput(text);
  if (!room) {
    error.textContent = text.trim() === ''
      ? 'Enter a meeting id or paste an invite link.'
      : 'That is not a valid meeting id. Ids use lowercase letters, digits and dashes, like calm-otter-k7mq-x2np-vd4h.';
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  go(room);
});

input.addEventListener('input', () => {
  error.hidden = true;
  input.removeAttribute('aria-invalid');
});
