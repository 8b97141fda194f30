// tests/browser/files.test.mjs - files in www/chat.html, in a real Chromium against a
// private stack: A attaches a PNG (the attach button) and both pages show its thumbnail,
// a click shows the full image; A drops a PDF on the chat and B downloads it, getting
// the same bytes; a pasted image is sent too. A's page talks SockJS, B's the raw
// WebSocket (its SockJS bundle is blocked). No request URL ever carries the token:
// images and downloads are fetched with the Authorization header into blob: URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  stackUp, stackDown, launch, uniqueEmail, logIn, waitConnected, waitSubscribed, token,
} from './lib.mjs';

const PASSWORD = 'correct horse 1';
let st, browser, ctxA, ctxB, pageA, pageB, roomId, work;
const urls = [];        // every request URL either page made
const pageErrors = [];
let png, pdf;

async function newPage(ctx, label) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(st.baseUrl + '/chat.html');
  return page;
}

// Rows of the log holding a file, as {offset, kind, name}.
const fileRows = (page) => page.$$eval('#log li.msg', (els) => els.filter((e) => e.querySelector('.file-image, .file-card'))
  .map((e) => ({ offset: Number(e.dataset.offset), kind: e.querySelector('.file-image') ? 'image' : 'card',
    name: (e.querySelector('.file-name') || e.querySelector('img')).textContent || e.querySelector('img')?.alt })));

// Waits for the image row number n (1-based) to show a loaded thumbnail; its size.
async function waitThumb(page, n) {
  const h = await page.waitForFunction((k) => {
    const imgs = [...document.querySelectorAll('#log li.msg .file-image[data-loaded="true"] img')];
    const img = imgs[k - 1];
    return img && img.complete && img.naturalWidth > 0 ? { w: img.naturalWidth, h: img.naturalHeight, src: img.src } : null;
  }, n, { timeout: 15_000, polling: 100 });
  return h.jsonValue();
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'chat-files-'));
  execFileSync('vips', ['black', path.join(work, 'b.v'), '800', '500', '--bands', '3']);
  execFileSync('vips', ['linear', path.join(work, 'b.v'), path.join(work, 'pic.png'), '1', '120']);
  png = readFileSync(path.join(work, 'pic.png'));
  pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n' + 'x'.repeat(3000) + '\n');
  st = await stackUp();
  browser = await launch();
  ctxA = await browser.newContext({ viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  ctxB = await browser.newContext({ viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  await ctxB.route('**/vendor/sockjs.min.js', (r) => r.abort());
  for (const c of [ctxA, ctxB]) c.setDefaultTimeout(15_000);
  pageA = await newPage(ctxA, 'A');
  pageB = await newPage(ctxB, 'B');
  await logIn(pageA, { name: 'Alice', email: uniqueEmail('alice'), password: PASSWORD });
  await logIn(pageB, { name: 'Bob', email: uniqueEmail('bob'), password: PASSWORD });
  const res = await fetch(st.baseUrl + '/api/rooms', {
    method: 'POST', headers: { Authorization: `Bearer ${await token(pageA)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'files' }),
  });
  roomId = (await res.json()).id;
  for (const page of [pageA, pageB]) {
    await waitConnected(page);
    await page.fill('#join-id', roomId);
    await page.click('#join-submit');
    await waitSubscribed(page, roomId);
  }
  assert.equal(await pageA.locator('#conn').getAttribute('data-transport'), 'sockjs');
  assert.equal(await pageB.locator('#conn').getAttribute('data-transport'), 'websocket');
}, { timeout: 60_000 });

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
    if (st) await stackDown(st);
  }
}, { timeout: 60_000 });

test('A attaches a PNG: both pages show its thumbnail; a click shows it full size', { timeout: 30_000 }, async () => {
  await pageA.setInputFiles('#file-input', { name: 'sunset 🌅.png', mimeType: 'image/png', buffer: png });
  const [ta, tb] = await Promise.all([waitThumb(pageA, 1), waitThumb(pageB, 1)]);
  for (const t of [ta, tb]) {
    assert.deepEqual([t.w, t.h], [400, 250], 'the thumbnail, not the 800x500 original');
    assert.match(t.src, /^blob:/, 'loaded into an object URL');
  }
  assert.equal(await pageA.locator('#upload').getAttribute('data-state'), 'done');
  assert.equal(await pageB.locator('#log li.msg .file-image img').getAttribute('alt'), 'sunset 🌅.png');
  await pageB.click('#log li.msg .file-image');
  await pageB.waitForSelector('#viewer[data-loaded="true"]');
  const full = await pageB.$eval('#viewer img', (i) => [i.naturalWidth, i.naturalHeight]);
  assert.deepEqual(full, [800, 500], 'the full image');
  await pageB.keyboard.press('Escape');
  await pageB.waitForSelector('#viewer', { state: 'detached' });
});

test('A drops a PDF on the chat; B downloads it and gets the same bytes', { timeout: 30_000 }, async () => {
  await pageA.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], '보고서 "final".pdf', { type: 'application/pdf' }));
    const zone = document.getElementById('screen-chat');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [...pdf]);
  const card = pageB.locator('#log li.msg .file-card');
  await card.waitFor();
  assert.equal(await card.locator('.file-name').textContent(), '보고서 "final".pdf');
  assert.match(await card.locator('.file-size').textContent(), /^3\.\d KB$/);
  const [dl] = await Promise.all([pageB.waitForEvent('download'), card.locator('.file-download').click()]);
  // Chromium replaces the quotes in a saved file's name with '_'.
  assert.match(dl.suggestedFilename(), /^보고서 ["_]final["_]\.pdf$/);
  const got = readFileSync(await dl.path());
  assert.ok(got.equals(pdf), 'the downloaded bytes are the uploaded bytes');
});

test('a pasted image is sent as a file', { timeout: 30_000 }, async () => {
  await pageB.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
    document.getElementById('message-input').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, [...png]);
  await Promise.all([waitThumb(pageA, 2), waitThumb(pageB, 2)]);
  const alt = await pageA.locator('#log li.msg .file-image img').nth(1).getAttribute('alt');
  assert.match(alt, /^pasted-.*\.png$/);
});

test('files stay after a reload (history); no URL carried the token; no page error', { timeout: 30_000 }, async () => {
  await pageB.reload();
  await waitSubscribed(pageB, roomId);
  await waitThumb(pageB, 2);
  const rows = await fileRows(pageB);
  assert.deepEqual(rows.map((r) => r.kind), ['image', 'card', 'image']);
  const toks = [await token(pageA), await token(pageB)];
  const leaked = urls.filter((u) => toks.some((t) => t && u.includes(t)));
  assert.deepEqual(leaked, [], 'no request URL holds a token');
  assert.ok(urls.some((u) => /\/api\/files\/[^/]+\/thumb$/.test(u)), 'thumbnails came from the API');
  assert.deepEqual(pageErrors, []);
});
