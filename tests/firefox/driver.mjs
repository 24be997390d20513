// driver.mjs drives Firefox ESR for Parley's browser tests over WebDriver BiDi, with
// puppeteer-core (Playwright's Firefox needs its own patched build; stock Firefox speaks BiDi).
// The tests (Parley.Testing's Firefox class) run it and talk to it in JSON lines:
//   stdin:  {"id": 1, "cmd": "open", "url": "...", "scripts": ["..."]}  → {"id": 1, "ok": true, "value": "page-1"}
//           {"id": 2, "cmd": "eval", "page": "page-1", "expression": "..."} → the expression's value (JSON)
//           {"id": 3, "cmd": "close", "page": "page-1"}
//   stdout: one answer per request, {"id", "ok", "value"} or {"id", "ok": false, "error"};
//           and {"event": "console", "page", "text"} for the pages' console, and {"event": "ready"} once.
// Each page gets a browser context of its own (its own storage, like a person of their own).
// The prefs are the ones ../shared/TESTING.md found to make calls work in a loopback-only
// network namespace: fake devices without a prompt, loopback ICE candidates, and the default
// camera and microphone permissions without which Firefox gathers no candidate at all.
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const prefs = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  // No first-run pages, updates or telemetry: nothing may leave the machine.
  'app.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
};

// Firefox shows one page of a window at a time: every other one reports
// document.visibilityState 'hidden', and Parley (rightly) stops receiving video
// for a page in the background. Each test page stands for a person at their own
// screen, so each is made to say it is in sight.
const IN_SIGHT = `
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => 'visible' });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => false });
`;

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.PARLEY_FIREFOX ?? '/usr/bin/firefox-esr',
  headless: true,
  extraPrefsFirefox: prefs,
});

/** @type {Map<string, {page: import('puppeteer-core').Page, context: import('puppeteer-core').BrowserContext}>} */
const pages = new Map();
let nextPage = 1;

const write = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

async function run(msg) {
  switch (msg.cmd) {
    case 'open': {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const key = `page-${nextPage++}`;
      page.on('console', (m) => write({ event: 'console', page: key, text: `${m.type()}: ${m.text()}` }));
      page.on('pageerror', (err) => write({ event: 'console', page: key, text: `pageerror: ${err.message}` }));
      await page.evaluateOnNewDocument(IN_SIGHT);
      for (const script of msg.scripts ?? []) await page.evaluateOnNewDocument(script);
      pages.set(key, { page, context });
      await page.goto(msg.url, { waitUntil: 'load' });
      return key;
    }
    case 'eval': {
      const { page } = pageOf(msg.page);
      return await page.evaluate(msg.expression);
    }
    case 'close': {
      const { context } = pageOf(msg.page);
      pages.delete(msg.page);
      await context.close();
      return null;
    }
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

function pageOf(key) {
  const entry = pages.get(key);
  if (!entry) throw new Error(`no page ${key}`);
  return entry;
}

write({ event: 'ready', version: await browser.version() });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    write({ ok: false, error: `not JSON: ${line}` });
    continue;
  }
  // Requests run concurrently (one page's wait must not hold another's); each answers by id.
  run(msg).then(
    (value) => write({ id: msg.id, ok: true, value: value ?? null }),
    (err) => write({ id: msg.id, ok: false, error: String(err && err.stack ? err.stack : err) }),
  );
}
await browser.close();
