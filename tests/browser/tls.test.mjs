// tests/browser/tls.test.mjs - www/chat.html over https (`make run TLS=1`): the page
// works unchanged on TLS_PORT, its STOMP connection goes over wss (or SockJS over
// https) to the same port, and two users chat. The certificate is the self-signed one
// scripts/tls.sh makes; the browser contexts are told to accept it, as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ROOT, stackUp, stackDown, launch, uniqueEmail, logIn, waitConnected, waitSubscribed, say, waitChat,
} from './lib.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

let st, browser, certDir, tlsPort;
const pageErrors = [];

before(async () => {
  tlsPort = await freePort();
  certDir = mkdtempSync(path.join(tmpdir(), 'chat-tls-browser-'));
  const extra = execFileSync(path.join(ROOT, 'scripts', 'tls.sh'), ['conf', certDir, String(tlsPort)],
    { encoding: 'utf8', env: { ...process.env, TLS_CERT: '', TLS_KEY: '' } });
  st = await stackUp({ env: { STACK_LIGHTTPD_EXTRA: extra } });
  browser = await launch();
}, { timeout: 120_000 });

after(async () => {
  if (browser) await browser.close();
  try { if (st) await stackDown(st); } finally { rmSync(certDir, { recursive: true, force: true }); }
}, { timeout: 60_000 });

async function open(label) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 760 } });
  ctx.setDefaultTimeout(15_000);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  const res = await page.goto(`https://localhost:${tlsPort}/chat.html`);
  assert.equal(res.status(), 200);
  return page;
}

test('two users sign up and chat through https/wss on TLS_PORT', { timeout: 90_000 }, async () => {
  const pa = await open('A');
  const pb = await open('B');
  const wsUrls = [];
  for (const p of [pa, pb]) p.on('websocket', (ws) => wsUrls.push(ws.url()));
  await logIn(pa, { name: 'Tia', email: uniqueEmail('tia'), password: 'correct horse 1' });
  await logIn(pb, { name: 'Lou', email: uniqueEmail('lou'), password: 'correct horse 1' });
  await pa.fill('#create-name', 'Over TLS');
  await pa.click('#create-submit');
  await pa.locator('#created').waitFor({ state: 'visible' });
  const roomId = (await pa.textContent('#created-id')).trim();
  await pa.click('#enter-created');
  await waitConnected(pa);
  await waitSubscribed(pa, roomId);
  await pb.fill('#join-id', roomId);
  await pb.click('#join-submit');
  await waitConnected(pb);
  await waitSubscribed(pb, roomId);

  await say(pa, 'hello over https');
  assert.equal((await waitChat(pb, 'hello over https')).sender, 'Tia');
  await say(pb, 'and back over wss');
  assert.equal((await waitChat(pa, 'and back over wss')).sender, 'Lou');

  // The page's own connection went to the TLS port, never to the plain one.
  const pageUrl = new URL(pa.url());
  assert.equal(pageUrl.protocol, 'https:');
  assert.ok(wsUrls.length >= 2, `each page opened a WebSocket: ${wsUrls}`);
  for (const u of wsUrls) assert.ok(u.startsWith(`wss://localhost:${tlsPort}/`), `websocket ${u}`);
  assert.deepEqual(pageErrors, []);
});
