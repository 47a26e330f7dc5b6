// A minimal Chrome DevTools Protocol client over Chromium's --remote-debugging-pipe (no
// WebSocket, no npm package): enough to open a page, drive real mouse and keyboard input and
// read the page back. Used by the browser tests of the HTML packs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function open(url) {
  const profile = mkdtempSync(join(tmpdir(), 'cspi-chromium-'));
  const browser = spawn(process.env.CSPI_CHROMIUM || 'chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
    '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--window-size=1280,1000',
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  const [, , , toBrowser, fromBrowser] = browser.stdio;
  let id = 0;
  const pending = new Map();
  const listeners = [];
  let buffer = '';
  fromBrowser.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (message.id && pending.has(message.id)) {
        const { resolve, reject } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result);
      } else if (message.method) {
        listeners.forEach((l) => l(message));
      }
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    id += 1;
    pending.set(id, { resolve, reject });
    toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const errors = [];
  listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === 'Runtime.exceptionThrown') {
      errors.push(m.params.exceptionDetails.exception?.description || m.params.exceptionDetails.text);
    } else if (m.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(m.params.type)) {
      errors.push(m.params.args.map((a) => a.value ?? a.description).join(' '));
    } else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') {
      errors.push(m.params.entry.text);
    }
  });
  await page('Page.enable');
  await page('Runtime.enable');
  await page('Log.enable');
  const loaded = new Promise((resolve) => listeners.push((m) => {
    if (m.sessionId === sessionId && m.method === 'Page.loadEventFired') resolve();
  }));
  await page('Page.navigate', { url });
  await loaded;

  /** The value of a JavaScript expression in the page (awaited, returned by value). */
  async function evaluate(expression) {
    const r = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    return r.result.value;
  }
  /** The centre of the first element matching `selector`, scrolled into view. */
  async function centre(selector) {
    const box = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
      if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}; })()`);
    if (!box) throw new Error(`no element ${selector}`);
    if (box.w === 0 || box.h === 0) throw new Error(`${selector} is not visible`);
    return box;
  }
  /** A real mouse click (press and release) on the element's centre. */
  async function click(selector) {
    const { x, y } = await centre(selector);
    await page('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    await page('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await page('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }
  /** Moves the mouse over the element. */
  async function hover(selector) {
    const { x, y } = await centre(selector);
    await page('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
  }
  const KEYS = {
    ArrowDown: 40, ArrowUp: 38, ArrowLeft: 37, ArrowRight: 39, Home: 36, End: 35, Escape: 27,
    Tab: 9, Enter: 13,
  };
  /** A key pressed and released on the focused element. */
  async function press(key) {
    const code = KEYS[key];
    await page('Input.dispatchKeyEvent', { type: 'rawKeyDown', key, code: key, windowsVirtualKeyCode: code });
    await page('Input.dispatchKeyEvent', { type: 'keyUp', key, code: key, windowsVirtualKeyCode: code });
  }
  /** Text typed into the focused element, as a keyboard would (input events fire). */
  async function type(text) {
    await page('Input.insertText', { text });
  }
  /** Picks the option with this text in a <select> with the keyboard (focus, then arrows). */
  async function choose(selector, text) {
    await evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
    const options = await evaluate(`Array.from(document.querySelector(${JSON.stringify(selector)}).options).map(o => o.textContent)`);
    const want = options.indexOf(text);
    if (want < 0) throw new Error(`${selector} has no option "${text}": ${options}`);
    for (let tries = 0; tries < options.length + 1; tries++) {
      const at = await evaluate(`document.querySelector(${JSON.stringify(selector)}).selectedIndex`);
      if (at === want) return;
      await press(at < want ? 'ArrowDown' : 'ArrowUp');
    }
    throw new Error(`could not choose "${text}" in ${selector}`);
  }
  async function close() {
    const exited = new Promise((resolve) => browser.once('exit', resolve));
    try { await send('Browser.close'); } catch (e) { /* already gone */ }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    browser.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  return { evaluate, click, hover, press, type, choose, close, errors, call: page };
}

/** Fails the test with a message (the Rust test prints the script's output). */
export function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
  console.log(`ok: ${message}`);
}
