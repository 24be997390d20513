// @ts-check
// names.js bounds and cleans display names before they are sent. Names from
// others are always rendered with textContent, never parsed as HTML.

/** NAME_MAX_LENGTH bounds display names, as the server does. */
export const NAME_MAX_LENGTH = 64;

/**
 * UNWANTED matches what the server refuses in a name: control characters,
 * line and paragraph separators, and bidirectional controls (which could make
 * a name display as another).
 */
// eslint-disable-next-line no-control-regex
const UNWANTED = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

/**
 * cleanName trims a display name, drops what the server would refuse, and
 * bounds it to NAME_MAX_LENGTH UTF-16 code units (so at most as many
 * characters) without splitting a surrogate pair.
 * @param {string} raw
 * @returns {string}
 */
export function cleanName(raw) {
  let name = raw.replace(UNWANTED, ' ').replace(/\s+/g, ' ').trim();
  if (name.length > NAME_MAX_LENGTH) {
    let end = NAME_MAX_LENGTH;
    const last = name.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate would be cut from its pair
    name = name.slice(0, end).trim();
  }
  return name;
}
