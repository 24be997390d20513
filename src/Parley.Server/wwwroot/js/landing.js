// @ts-check
// landing.js runs the start page: "New meeting" and joining by id or link.

import { byId } from './dom.js';
import { newRoomId, parseRoomInput } from './room-id.js';

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
