// tests/browser/lib.mjs - shared by the browser tests and the README screenshot script:
// a private stack (tests/stack.sh), Debian's Chromium through playwright-core, and
// small page helpers for www/chat.html.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Stack } from '../node/lib/stack.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

// Private stacks come from the node tests' launcher (tests/node/lib/stack.mjs): one
// implementation of start, stop by pid, sanitizer check and exit-time clean-up.
// Starts a stack; resolves the Stack (dir, env, baseUrl). Throws with the logs' tail.
export function stackUp(opts = {}) {
  return new Stack(opts).start();
}

// Stops it; throws when stack.sh reports sanitizer findings (exit 1).
export function stackDown(st) {
  return st.down();
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
