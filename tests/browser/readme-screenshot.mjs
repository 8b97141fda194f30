// tests/browser/readme-screenshot.mjs - makes docs/screenshot-chat.png: a real chat
// between two users on a private stack, both windows side by side.
//
//   B=build/asan node tests/browser/readme-screenshot.mjs [out.png]
//
// Not a test (the runner only picks up *.test.mjs).
import path from 'node:path';
import { stat } from 'node:fs/promises';
import {
  ROOT, stackUp, stackDown, launch, uniqueEmail, logIn, waitSubscribed, waitNotice, say, waitChat,
} from './lib.mjs';

const out = path.resolve(process.argv[2] || path.join(ROOT, 'docs/screenshot-chat.png'));
const W = 620;
const H = 610;

const st = await stackUp();
const browser = await launch();
try {
  const open = async () => {
    const ctx = await browser.newContext({ viewport: { width: W, height: H }, locale: 'en-US' });
    ctx.setDefaultTimeout(10_000);
    const page = await ctx.newPage();
    await page.goto(st.baseUrl + '/chat.html');
    return page;
  };
  const a = await open();
  const b = await open();
  await logIn(a, { name: 'Alice', email: uniqueEmail('alice'), password: 'correct horse 1' });
  await logIn(b, { name: '민준', email: uniqueEmail('minjun'), password: 'correct horse 2' });

  await a.fill('#create-name', 'Weekend hiking');
  await a.click('#create-submit');
  await a.locator('#created').waitFor();
  const roomId = (await a.textContent('#created-id')).trim();
  await a.click('#enter-created');
  await waitSubscribed(a, roomId);
  await b.fill('#join-id', roomId);
  await b.click('#join-submit');
  await waitSubscribed(b, roomId);
  await waitNotice(a, 'join', '민준');

  const lines = [
    [a, 'Hi Minjun! Are we still on for Saturday?'],
    [b, 'Yes! 토요일 좋아요. Meet at the station at 9?'],
    [a, 'Perfect. I will bring snacks and the trail map.'],
    [b, '좋아요, see you there!\nBring a rain jacket just in case.'],
  ];
  for (const [page, text] of lines) {
    await say(page, text);
    await waitChat(a, text);
    await waitChat(b, text);
  }
  await a.fill('#message-input', 'Great, see you');

  const shots = [];
  for (const page of [a, b]) shots.push((await page.screenshot()).toString('base64'));

  // Put both windows side by side on one canvas page and take that.
  const canvas = await (await browser.newContext({ viewport: { width: 2 * W + 36, height: H + 24 } })).newPage();
  await canvas.setContent(`<!doctype html><body style="margin:0;background:#c9ced6;display:flex;gap:12px;padding:12px">
    ${shots.map((s) => `<img style="display:block;border-radius:6px;box-shadow:0 1px 4px #0003" width="${W}" height="${H}" src="data:image/png;base64,${s}">`).join('')}
    </body>`);
  await canvas.waitForFunction(() => [...document.images].every((i) => i.complete));
  await canvas.screenshot({ path: out });
  console.log(`${out}: ${(await stat(out)).size} bytes`);
} finally {
  await browser.close();
  await stackDown(st);
}
