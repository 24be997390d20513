// @ts-check
// room-id.js makes and checks room ids. A new id reads like
// `calm-otter-k7mq-x2np-vd4h`: two words (6 bits each) and three groups of
// four characters from a 32-character alphabet (5 bits each), 72 random bits
// in all, drawn from crypto.getRandomValues. It never touches the DOM.

/** ROOM_ID_PATTERN is the server's rule: 1–64 of a-z 0-9 -, not starting with -. */
export const ROOM_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** ADJECTIVES has exactly 64 entries: one byte & 63 picks one without bias. */
const ADJECTIVES = [
  'amber', 'bold', 'brave', 'bright', 'brisk', 'calm', 'clever', 'cosy',
  'crisp', 'curly', 'daring', 'deep', 'eager', 'early', 'fair', 'fancy',
  'fast', 'fresh', 'gentle', 'glad', 'golden', 'grand', 'green', 'happy',
  'honest', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'merry', 'mighty',
  'misty', 'modest', 'neat', 'nimble', 'noble', 'plain', 'polite', 'proud',
  'quick', 'quiet', 'rapid', 'ready', 'rosy', 'royal', 'rustic', 'shiny',
  'silent', 'silver', 'simple', 'smart', 'snowy', 'solid', 'sunny', 'swift',
  'tidy', 'upbeat', 'vivid', 'warm', 'wild', 'wise', 'witty', 'young',
];

/** ANIMALS has exactly 64 entries. */
const ANIMALS = [
  'badger', 'bear', 'beaver', 'bison', 'camel', 'cat', 'cobra', 'crane',
  'crow', 'deer', 'dingo', 'dolphin', 'dove', 'duck', 'eagle', 'eel',
  'falcon', 'ferret', 'finch', 'fox', 'frog', 'gecko', 'goat', 'goose',
  'hare', 'hawk', 'heron', 'horse', 'ibex', 'koala', 'lark', 'lemur',
  'lion', 'llama', 'lynx', 'magpie', 'marten', 'mole', 'moose', 'mouse',
  'newt', 'otter', 'owl', 'panda', 'parrot', 'pelican', 'puffin', 'quail',
  'rabbit', 'raven', 'robin', 'salmon', 'seal', 'shark', 'sloth', 'stork',
  'swan', 'tiger', 'toad', 'trout', 'turtle', 'walrus', 'whale', 'wren',
];

/**
 * ALPHABET has 32 characters: digits and lowercase letters without i, l, o
 * and u (Crockford's base 32), so one byte & 31 picks one without bias.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * newRoomId returns a fresh, unguessable, readable room id.
 * @param {(bytes: Uint8Array<ArrayBuffer>) => Uint8Array} [random] source of random bytes (for tests)
 * @returns {string}
 */
export function newRoomId(random = (b) => crypto.getRandomValues(b)) {
  const bytes = random(new Uint8Array(14));
  const groups = [0, 1, 2].map((g) =>
    Array.from(bytes.subarray(2 + g * 4, 6 + g * 4), (b) => ALPHABET[b & 31]).join(''),
  );
  return [ADJECTIVES[bytes[0] & 63], ANIMALS[bytes[1] & 63], ...groups].join('-');
}

/**
 * parseRoomInput turns what a user typed or pasted (a room id or an invite
 * link) into a room id: trimmed, lowercased, and for a link the last segment
 * of its path. It returns null when the result is not a valid room id.
 * @param {string} input
 * @returns {string | null}
 */
export function parseRoomInput(input) {
  let text = input.trim();
  if (text.includes('/')) {
    let path = text;
    try {
      path = new URL(text, 'http://x.invalid/').pathname;
    } catch {
      // Not a URL: fall back to the text as a path.
    }
    const segments = path.split('/').filter((s) => s !== '');
    text = segments.length > 0 ? segments[segments.length - 1] : '';
    try {
      text = decodeURIComponent(text);
    } catch {
      return null;
    }
  } else {
    text = text.replace(/[?#].*$/, '');
  }
  text = text.trim().toLowerCase();
  return ROOM_ID_PATTERN.test(text) ? text : null;
}

/**
 * roomFromPath reads the room id from a meeting page path `/r/{room}`.
 * @param {string} pathname
 * @returns {string | null}
 */
export function roomFromPath(pathname) {
  const match = /^\/r\/([^/]+)\/?$/.exec(pathname);
  if (!match) return null;
  let room;
  try {
    room = decodeURIComponent(match[1]).toLowerCase();
  } catch {
    return null;
  }
  return ROOM_ID_PATTERN.test(room) ? room : null;
}
