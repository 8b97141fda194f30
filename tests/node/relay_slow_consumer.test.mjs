// Slow consumer (docs/STOMP.md: "a client that does not read is dropped, never grows the
// relay"; docs/STOMP.md, Errors): a client that stops reading while its room is busy
// gets ERROR message:unavailable once more than MAX_QUEUE_BYTES wait for it, and is
// closed; the room's other members go on receiving every message, promptly - among
// them a client with the same subscriptions that does read, and is never dropped.
//
// The stack runs with MAX_QUEUE_BYTES at 256 KiB and no SEND rate limit. The slow and
// the control client each subscribe to the room SUBS times, so every message costs
// them SUBS MESSAGE frames (~12 KB); messages are sent in small batches, each once the
// previous one is acknowledged, until the slow client has filled the loopback socket
// buffers and then its queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useStack } from './lib/stack.mjs';
import { Api, raw, stomp, useClients, frame, until } from './lib/client.mjs';

const MAX_QUEUE = 256 * 1024;
const SUBS = 10;      // subscriptions to the one room of the slow and the control client
const BATCH = 10;     // SENDs per WebSocket message (~120 KB for each of them)
const MAX_N = 4000;   // give up: the slow client was never dropped
const stack = useStack({ env: {
    MAX_QUEUE_BYTES: String(MAX_QUEUE), SEND_BURST: '100000', SEND_RATE: '100000',
} });
useClients();
const api = new Api(stack);

const isChat = (x) => x.command === 'MESSAGE' && JSON.parse(x.body).type === 'CHAT';

test('a client that stops reading: ERROR unavailable past MAX_QUEUE_BYTES, then close; the others keep up', { timeout: 120000 }, async (t) => {
    const { room, users: [us, uf, uw, ur] } = await api.roomWith(4);
    const dest = `/topic/room/${room.id}`;
    const text = (i) => `load ${i} ${'x'.repeat(980)}`;

    // F: an ordinary member (stompjs), subscribed once; arrival times recorded
    const f = stomp(stack.relayUrl(0), { token: uf.token, name: 'F' });
    await f.connect();
    const sf = await f.subscribeReceipt(dest);
    const arrived = new Map();
    sf.queue.onItem((m) => { if (m.type === 'CHAT' && !arrived.has(m.message)) arrived.set(m.message, Date.now()); });

    // W (slow) and R (control, reads): raw, subscribed SUBS times each
    const subscribeAll = async (c, tag) => {
        for (let i = 0; i < SUBS; i++) c.sendFrame('SUBSCRIBE', { id: `${tag}${i}`, destination: dest, ...(i === SUBS - 1 ? { receipt: `${tag}-subs` } : {}) });
        await c.receipt(`${tag}-subs`);
    };
    const w = await raw(stack.relayUrl(0), { name: 'W' });
    const wSession = (await w.connect(uw.token)).headers.session;
    await subscribeAll(w, 'w');
    const r = await raw(stack.relayUrl(0), { name: 'R' });
    await r.connect(ur.token);
    await subscribeAll(r, 'r');
    w.ws.pause(); // W stops reading its socket

    // S sends batches until the relay has dropped W (seen in its log, so that W can
    // start reading again at once: a closing session that does not read is cut after
    // about 2 s, and then its ERROR is lost with the socket)
    const s = await raw(stack.relayUrl(0), { name: 'S' });
    await s.connect(us.token);
    const sentAt = new Map(); // message index -> when its RECEIPT came
    s.frames.onItem((x) => { if (x.command === 'RECEIPT') sentAt.set(Number(x.headers['receipt-id'].slice(2)), Date.now()); });
    const logFile = join(stack.dir, 'relay0.log');
    const droppedRe = new RegExp(`event=error session=${wSession} .*message=unavailable closes=yes`);
    const isDropped = () => droppedRe.test(readFileSync(logFile, 'utf8'));
    const t0 = Date.now();
    let n = 0;
    let dropped = false;
    while (!dropped && n < MAX_N) {
        let batch = '';
        for (let k = n; k < n + BATCH; k++) {
            batch += frame('SEND', { destination: '/app/chat.sendMessage', receipt: `s-${k}` }, JSON.stringify({ roomId: room.id, message: text(k) }));
        }
        s.sendRaw(batch);
        n += BATCH;
        await s.receipt(`s-${n - 1}`, 10000);
        dropped = isDropped();
    }
    if (!dropped) await until(isDropped, 3000, `the relay to drop W (session ${wSession}) as a slow consumer after ${n} messages`, 20);
    t.diagnostic(`W dropped after ${n} messages, ${Date.now() - t0} ms after the first SEND`);
    w.ws.resume();

    const err = await w.expectError('unavailable', 10000);
    assert.match(err.body, /slow consumer/, 'the ERROR says why');
    await w.waitClosed(10000);
    const afterErr = w.frames.seen.slice(w.frames.seen.indexOf(err) + 1);
    assert.deepEqual(afterErr.map((x) => x.command), [], 'nothing after the ERROR');
    const wChats = w.frames.seen.filter(isChat).length;
    t.diagnostic(`W got ${wChats} of ${n * SUBS} MESSAGE frames before the ERROR`);
    assert.ok(wChats < n * SUBS, 'W did not get everything: its queue was discarded');

    // F got every message, in order, each soon after the relay accepted it
    const got = await sf.collect((m) => m.type === 'CHAT' && m.message.startsWith('load '), n, 30000, `${n} messages at F`);
    assert.deepEqual(got.map((m) => m.message), Array.from({ length: n }, (_, i) => text(i)), 'F: every message once, in order');
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, arrived.get(text(i)) - sentAt.get(i));
    t.diagnostic(`F: worst delay RECEIPT at the sender -> MESSAGE at F: ${worst} ms`);
    assert.ok(worst < 5000, `F kept up while W was stuck (worst ${worst} ms, bound 5 s)`);
    // R, with W's subscriptions but reading, got all of it and was never dropped
    await r.frames.waitCount(isChat, n * SUBS, 30000, `${n * SUBS} MESSAGE frames at R`);
    assert.equal(r.frames.seen.filter((x) => x.command === 'ERROR').length, 0, 'R (reading) got no ERROR');
    assert.ok(r.isOpen, 'R is still connected');
    assert.equal(s.frames.seen.filter((x) => x.command === 'ERROR').length, 0, 'the sender got no ERROR');

    // and the room goes on as usual, W's user included
    const w2 = stomp(stack.relayUrl(0), { token: uw.token, name: 'W again' });
    await w2.connect();
    const sw2 = await w2.subscribeReceipt(dest);
    await f.sendReceipt(room.id, 'after the drop');
    await Promise.all([sf.waitChat('after the drop'), sw2.waitChat('after the drop')]);
});
