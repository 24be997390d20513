// @ts-check
// names.js bounds and cleans display names before they are sent. Names from
// others are always rendered with textContent, never parsed as HTML.

/** NAME_MAX_LENGTH bounds display names, as the server does. */
export const NAME_MAX_LENGTH = 64;

/**
 * cleanName trims a display name, drops control characters, and bounds it to
 * NAME_MAX_LENGTH UTF-16 code units without splitting a surrogate pair.
 * @param {string} raw
 * @returns {string}
 */
export function cleanName(raw) {
  // eslint-disable-next-line no-control-regex
  let name = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  if (name.length > NAME_MAX_LENGTH) {
    let end = NAME_MAX_LENGTH;
    const last = name.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate would be cut from its pair
    name = name.slice(0, end).trim();
  }
  return name;
}
