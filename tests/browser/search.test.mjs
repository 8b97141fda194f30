// tests/browser/search.test.mjs - the search box of www/chat.html in a real Chromium
// against a private stack with chat-archiver (SQLite archive, HISTORY_SIZE 20).
//
// A room with 90 messages, one of them (offset 12, long gone from Redis) holding the
// word searched for: typing a prefix of it shows the result with the match in <mark>
// (and markup in the message shown as text); choosing it with the keyboard opens the
// room at that message, highlighted, with the messages around it; scrolling down
// loads newer pages until the newest (live messages flow again), scrolling up older
// ones to the first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stackUp, stackDown, launch, uniqueEmail, logIn, waitConnected } from './lib.mjs';
import { Api, raw, frame, until } from '../node/lib/client.mjs';

let st, browser, page, api, user, room;
const pageErrors = [];
const TARGET = 12;
const text = (k) => (k === TARGET ? '<b>not bold</b> 우리 채팅방에서 만나요 🎉 target' : `filler message ${k}`);

before(async () => {
  st = await stackUp({ archiver: true, apiProcs: 1, env: { HISTORY_SIZE: '20', SEND_BURST: '100000', SEND_RATE: '100000' } });
  api = new Api(st.baseUrl);
  const email = uniqueEmail('searcher');
  user = { name: 'Searcher', email, password: 'correct horse 1' };
  const u = await api.req('POST', '/api/users', { body: user });
  assert.equal(u.status, 201, u.text);
  const tok = u.body.token;
  room = (await api.req('POST', '/api/rooms', { token: tok, body: { name: 'Search 방' } })).body;
  const r = await raw(st.relayUrl(0));
  await r.connect(tok);
  let out = '';
  for (let k = 1; k <= 90; k++) {
    out += frame('SEND', { destination: '/app/chat.sendMessage', receipt: `s${k}` }, JSON.stringify({ roomId: room.id, message: text(k) }));
  }
  r.sendRaw(out);
  await r.receipt('s90', 15000);
  await r.close();
  await until(async () => {
    const res = await api.req('GET', `/api/search?q=${encodeURIComponent('채팅')}`, { token: tok });
    return res.status === 200 && res.body.results.length === 1;
  }, 15000, 'the target message archived', 100);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => { pageErrors.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(`${st.baseUrl}/chat.html`);
  await logIn(page, user);
  await waitConnected(page);
}, { timeout: 60000 });

after(async () => {
  if (browser) await browser.close();
  if (st) await stackDown(st);
});

test('type a word: the result shows room, sender and the match marked; the keyboard opens the room at it', { timeout: 30000 }, async () => {
  await page.fill('#search-q', '채팅');
  await page.press('#search-q', 'Enter');
  const hit = page.locator('#search-results button.search-hit');
  await hit.first().waitFor({ state: 'visible' });
  assert.equal(await hit.count(), 1);
  assert.equal(await hit.locator('.search-room').textContent(), 'Search 방');
  assert.equal(await hit.locator('.search-sender').textContent(), 'Searcher');
  assert.deepEqual(await hit.locator('mark').allTextContents(), ['채팅']);
  // the message's markup is text: no <b> element, the angle brackets are shown
  assert.equal(await hit.locator('b').count(), 0);
  assert.match(await hit.locator('.search-snippet').textContent(), /^<b>not bold<\/b> 우리 채팅방에서 만나요 🎉 target$/);
  // keyboard: down into the results, Enter opens it
  await page.press('#search-q', 'ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('search-hit')), true);
  await page.keyboard.press('Enter');
  await page.locator('#screen-chat').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#search-panel').isHidden(), true);
  const target = page.locator(`#log li.msg.hit[data-offset="${TARGET}"]`);
  await target.waitFor({ state: 'visible' });
  assert.equal(await target.locator('.text').textContent(), text(TARGET));
  // the messages around it: older down to 1 (fewer than a page exist) and newer after it
  const offs = await page.$$eval('#log li.msg', (els) => els.map((e) => Number(e.dataset.offset)));
  assert.ok(offs[0] <= TARGET - 5 && offs[offs.length - 1] >= TARGET + 20, `around ${TARGET}: ${offs[0]}..${offs[offs.length - 1]}`);
  assert.deepEqual(offs, Array.from({ length: offs.length }, (_, i) => offs[0] + i), 'contiguous');
  assert.ok(offs[offs.length - 1] < 90, 'opened away from the newest');
  assert.equal(await page.getAttribute('#log', 'data-newer'), 'more');
  // it is in view
  const inView = await target.evaluate((li) => {
    const a = li.getBoundingClientRect(), b = document.getElementById('log').getBoundingClientRect();
    return a.top >= b.top && a.bottom <= b.bottom;
  });
  assert.ok(inView, 'the message is scrolled into view');
});

test('scrolling down loads newer pages up to the newest, scrolling up older ones to the first', { timeout: 30000 }, async () => {
  await page.waitForFunction(() => {
    const log = document.getElementById('log');
    log.scrollTop = log.scrollHeight;
    return log.dataset.newer === 'end';
  }, null, { timeout: 15000, polling: 200 });
  let offs = await page.$$eval('#log li.msg', (els) => els.map((e) => Number(e.dataset.offset)));
  assert.equal(offs[offs.length - 1], 90);
  await page.waitForFunction(() => {
    const log = document.getElementById('log');
    log.scrollTop = 0;
    return log.dataset.history === 'start';
  }, null, { timeout: 15000, polling: 200 });
  offs = await page.$$eval('#log li.msg', (els) => els.map((e) => Number(e.dataset.offset)));
  assert.deepEqual(offs, Array.from({ length: 90 }, (_, i) => i + 1), 'every message once, in order');
  // live again: a new message shows up at the bottom
  const tok = await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.session')).token);
  const r = await raw(st.relayUrl(0));
  await r.connect(tok);
  r.sendFrame('SEND', { destination: '/app/chat.sendMessage', receipt: 'live' }, JSON.stringify({ roomId: room.id, message: 'live after search' }));
  await r.receipt('live');
  await r.close();
  await page.locator('#log li.msg[data-offset="91"]').waitFor({ state: 'attached', timeout: 10000 });
  assert.deepEqual(pageErrors, []);
});
