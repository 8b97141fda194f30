// tests/browser/lib.mjs - shared by the browser tests and the README screenshot script:
// a private stack (tests/stack.sh), Debian's Chromium through playwright-core, and
// small page helpers for www/chat.html.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STACK = path.join(ROOT, 'tests/stack.sh');

export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

// Runs tests/stack.sh CMD DIR ARGS...; resolves {code, stdout, stderr}, never rejects.
export function stack(cmd, dir, ...args) {
  return new Promise((resolve) => {
    execFile('bash', [STACK, cmd, dir, ...args], {
      cwd: ROOT,
      env: { ...process.env, B: process.env.B || 'build/asan' },
      timeout: 90_000,
      maxBuffer: 4 << 20,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

// Starts a private stack; returns {dir, env, baseUrl}. Throws with the logs' tail.
export async function stackUp(...args) {
  const dir = await mkdtemp(path.join(process.env.TMPDIR || os.tmpdir(), 'chat-browser-'));
  const r = await stack('up', dir, ...args);
  const env = parseEnv(r.stdout);
  if (r.code !== 0 || !env.BASE_URL) {
    const down = await stack('down', dir);
    throw new Error(`tests/stack.sh up failed (${r.code}): ${r.stderr}${down.stderr}`);
  }
  return { dir, env, baseUrl: env.BASE_URL };
}

// Stops the stack; throws when stack.sh reports sanitizer findings (exit 1).
export async function stackDown(dir) {
  const r = await stack('down', dir);
  if (r.code !== 0) throw new Error(`tests/stack.sh down ${dir} exited ${r.code}:\n${r.stderr}`);
}

export function launch() {
  return chromium.launch(CHROMIUM);
}

export function uniqueEmail(tag) {
  return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

// Fills the login form and presses the one button; waits for the rooms screen.
export async function logIn(page, { name, email, password }) {
  await page.fill('#login-name', name || '');
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#screen-rooms').waitFor({ state: 'visible' });
}

export async function connState(page) {
  return page.locator('#conn').getAttribute('data-state');
}

export async function waitConnected(page, timeout = 15_000) {
  await page.waitForSelector('#conn[data-state="connected"]', { timeout });
}

// Waits until the page's subscription to the room is confirmed by the server.
export async function waitSubscribed(page, roomId, timeout = 15_000) {
  await page.waitForSelector(`#screen-chat[data-subscribed="${roomId}"]`, { timeout });
}

// Types a message and presses Enter.
export async function say(page, text) {
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
}

// Waits for the chat line whose text is exactly `text`; returns what it shows:
// {own, sender, time, datetime, text}.
export async function waitChat(page, text, timeout = 10_000) {
  const handle = await page.waitForFunction((t) => {
    for (const li of [...document.querySelectorAll('#log li.msg')].reverse()) {
      const body = li.querySelector('.text');
      if (body && body.textContent === t) {
        const time = li.querySelector('time');
        return {
          own: li.classList.contains('own'),
          sender: li.querySelector('.sender').textContent,
          time: time ? time.textContent : '',
          datetime: time ? time.dateTime : '',
          text: body.textContent,
        };
      }
    }
    return false;
  }, text, { timeout });
  const info = await handle.jsonValue();
  await handle.dispose();
  return info;
}

// A JOIN/LEAVE notice ("<name> joined the room" / "<name> left the room").
export async function waitNotice(page, kind, name, { after = 0, timeout = 10_000 } = {}) {
  const handle = await page.waitForFunction(([k, n, a]) => {
    const items = [...document.querySelectorAll('#log li')];
    return items.slice(a).some((li) => li.classList.contains('notice') && li.classList.contains(k)
      && li.querySelector('.notice-text').textContent.startsWith(n + ' '));
  }, [kind, name, after], { timeout });
  await handle.dispose();
}

export async function logLength(page) {
  return page.locator('#log li').count();
}

export async function token(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session') || 'null')?.token ?? null);
}

export async function screenshotDir() {
  const dir = path.join(ROOT, 'build/screenshots');
  await mkdir(dir, { recursive: true });
  return dir;
}
