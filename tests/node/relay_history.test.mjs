// History and recovery (docs/STOMP.md "History and recovery", docs/API.md
// "GET /api/rooms/{id}/messages"), with two real relays, real Redis and the real
// @stomp/stompjs: offsets and epochs, history paging, recovery after a relay is killed,
// recovery refused past RECOVER_MAX or after the history was lost (the gap is filled
// over REST), and one order for four senders on two relays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, raw, stomp, useClients, frame, sleep, until } from './lib/client.mjs';

// Room for bursts (the rate limit is tested elsewhere); a small RECOVER_MAX.
const stack = useStack({ relays: 2, env: { SEND_BURST: '100000', SEND_RATE: '100000', RECOVER_MAX: '150' } });
useClients();
const api = new Api(stack);

const SEND_DEST = '/app/chat.sendMessage';
const chat = (roomId, message) => JSON.stringify({ roomId, message });
const body = (f) => JSON.parse(f.body);
const isChat = (f) => f.command === 'MESSAGE' && body(f).type === 'CHAT';
const history = (token, roomId, query = '') => api.req('GET', `/api/rooms/${roomId}/messages${query}`, { token });

// A raw client of u on relay i: connected.
async function rawOn(i, u, name) {
    const r = await raw(stack.relayUrl(i), { name });
    await r.connect(u.token);
    return r;
}

// Send n messages "tag k" (k = 1..n) from r, each acknowledged.
async function sendN(r, roomId, tag, n) {
    let out = '';
    for (let k = 1; k <= n; k++) out += frame('SEND', { destination: SEND_DEST, receipt: `${tag}-${k}` }, chat(roomId, `${tag} ${k}`));
    r.sendRaw(out);
    await r.receipt(`${tag}-${n}`, 15000);
}

test('stored messages carry offset and epoch; the SUBSCRIBE RECEIPT names them', { timeout: 20000 }, async () => {
    const { room, users: [a] } = await api.roomWith(1);
    const r = await rawOn(0, a);
    r.sendFrame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' });
    const rc = await r.receipt('sub');
    assert.equal(rc.headers['x-offset'], '0');
    assert.equal(rc.headers['x-recovered'], undefined, 'only when asked');
    await sendN(r, room.id, 'm', 3);
    const msgs = await r.frames.waitCount(isChat, 3, 5000, '3 CHAT');
    assert.deepEqual(msgs.map((f) => body(f).offset), [1, 2, 3]);
    const epoch = body(msgs[0]).epoch;
    assert.match(epoch, /^[A-Za-z0-9_-]{8,}$/);
    assert.ok(msgs.every((f) => body(f).epoch === epoch));
    const joins = r.frames.seen.filter((f) => f.command === 'MESSAGE' && body(f).type === 'JOIN');
    assert.ok(joins.length >= 1 && joins.every((f) => body(f).offset === undefined), 'JOIN is not stored');
    r.sendFrame('SUBSCRIBE', { id: 't', destination: `/topic/room/${room.id}`, receipt: 'sub2' });
    const rc2 = await r.receipt('sub2');
    assert.equal(rc2.headers['x-offset'], '3');
    assert.equal(rc2.headers['x-epoch'], epoch);
});

test('GET /api/rooms/{id}/messages pages backwards and forwards; members only', { timeout: 30000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const outsider = await api.signup();
    const r = await rawOn(1, a);
    await sendN(r, room.id, 'h', 120);
    let res = await history(b.token, room.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.offset, 120);
    assert.deepEqual(res.body.messages.map((m) => m.offset), Array.from({ length: 50 }, (_, i) => 71 + i), 'newest 50, ascending');
    assert.ok(res.body.messages.every((m) => m.type === 'CHAT' && m.roomId === room.id && m.senderId === a.user.id && m.epoch === res.body.epoch));
    // backwards from the oldest seen, to the start
    const seen = [...res.body.messages];
    while (seen[0].offset > 1) {
        res = await history(b.token, room.id, `?before=${seen[0].offset}&limit=40`);
        assert.equal(res.status, 200);
        assert.ok(res.body.messages.length > 0 && res.body.messages.length <= 40);
        seen.unshift(...res.body.messages);
    }
    assert.deepEqual(seen.map((m) => m.offset), Array.from({ length: 120 }, (_, i) => i + 1), 'no gap, no duplicate');
    assert.deepEqual(seen.map((m) => m.message), Array.from({ length: 120 }, (_, i) => `h ${i + 1}`));
    // forwards
    res = await history(b.token, room.id, '?after=100&limit=100');
    assert.deepEqual(res.body.messages.map((m) => m.offset), Array.from({ length: 20 }, (_, i) => 101 + i));
    res = await history(b.token, room.id, '?after=120');
    assert.deepEqual(res.body.messages, []);
    res = await history(b.token, room.id, '?before=1');
    assert.deepEqual(res.body.messages, []);
    // errors
    assert.equal((await history(outsider.token, room.id)).status, 403);
    assert.equal((await history(b.token, 'noSuchRoom123')).status, 404);
    assert.equal((await history(undefined, room.id)).status, 401);
    for (const q of ['?limit=0', '?limit=101', '?before=x', '?after=-1', '?before=3&after=1']) {
        const e = await history(b.token, room.id, q);
        assert.equal(e.status, 422, `${q}: ${e.text}`);
        assert.equal(e.body.error.code, 'invalid');
    }
    // a member who left is no longer one
    await api.leaveRoom(b.token, room.id);
    assert.equal((await history(b.token, room.id)).status, 403);
});

test('a client on a killed relay reconnects to the other with the since headers and gets exactly what it missed', { timeout: 60000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const r1 = await rawOn(0, b, 'b-on-relay0');
    r1.sendFrame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' });
    await r1.receipt('sub');
    const s = await rawOn(1, a, 'sender');
    await sendN(s, room.id, 'before', 5);
    const seen = await r1.frames.waitCount(isChat, 5, 5000, '5 before the kill');
    const last = body(seen[4]);
    await stack.relayKill(0);
    await r1.waitClosed(5000).catch(() => {});
    await sendN(s, room.id, 'missed', 100);
    const r2 = await rawOn(1, b, 'b-back-on-relay1');
    r2.sendFrame('SUBSCRIBE', {
        id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub',
        'x-since-offset': String(last.offset), 'x-since-epoch': last.epoch,
    });
    const rc = await r2.receipt('sub');
    assert.equal(rc.headers['x-recovered'], 'true');
    assert.equal(rc.headers['x-offset'], String(last.offset + 100));
    await sendN(s, room.id, 'live', 3);
    const got = await r2.frames.waitCount(isChat, 103, 10000, '100 recovered + 3 live');
    await sleep(200);
    const all = r2.frames.seen.filter(isChat).map(body);
    assert.equal(all.length, 103, 'no duplicate');
    assert.deepEqual(all.map((m) => m.offset), Array.from({ length: 103 }, (_, i) => last.offset + 1 + i), 'in order, no gap');
    assert.deepEqual(got.slice(0, 100).map((f) => body(f).message), Array.from({ length: 100 }, (_, i) => `missed ${i + 1}`));
    const firstMsg = r2.frames.seen.findIndex(isChat);
    const receiptAt = r2.frames.seen.findIndex((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'sub');
    assert.ok(receiptAt < firstMsg, 'the RECEIPT comes before the replay');
    await stack.relayRestart(0);
});

test('more than RECOVER_MAX missed: x-recovered:false, live only, and REST fills the gap', { timeout: 60000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const s = await rawOn(0, a);
    await sendN(s, room.id, 'old', 2);
    const epoch = (await history(b.token, room.id)).body.epoch;
    await sendN(s, room.id, 'gap', 200); // RECOVER_MAX is 150
    const r = await rawOn(1, b);
    r.sendFrame('SUBSCRIBE', {
        id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub', 'x-since-offset': '2', 'x-since-epoch': epoch,
    });
    const rc = await r.receipt('sub');
    assert.equal(rc.headers['x-recovered'], 'false');
    await sendN(s, room.id, 'live', 1);
    const live = await r.frames.waitCount(isChat, 1, 5000, 'the live one');
    assert.equal(body(live[0]).offset, 203);
    // the page fills the gap the way chat.html does: ?after=last until caught up
    let after = 2;
    const filled = [];
    while (after < 202) {
        const page = await history(b.token, room.id, `?after=${after}&limit=100`);
        filled.push(...page.body.messages);
        after = filled[filled.length - 1].offset;
    }
    assert.deepEqual(filled.map((m) => m.offset), Array.from({ length: 200 }, (_, i) => 3 + i));
    assert.equal(r.frames.seen.filter(isChat).length, 1, 'nothing recovered over STOMP');
});

test('history keys deleted: a new epoch starts at offset 1 and recovery says false', { timeout: 30000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const s = await rawOn(0, a);
    await sendN(s, room.id, 'e1', 3);
    const before = (await history(b.token, room.id)).body;
    const p = stack.env.KEY_PREFIX;
    await stack.redis('DEL', `${p}room:${room.id}:history`, `${p}room:${room.id}:seq`, `${p}room:${room.id}:epoch`);
    await sendN(s, room.id, 'e2', 1);
    const after = (await history(b.token, room.id)).body;
    assert.notEqual(after.epoch, before.epoch);
    assert.equal(after.offset, 1);
    assert.deepEqual(after.messages.map((m) => [m.offset, m.message]), [[1, 'e2 1']]);
    const r = await rawOn(1, b);
    r.sendFrame('SUBSCRIBE', {
        id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub', 'x-since-offset': '3', 'x-since-epoch': before.epoch,
    });
    const rc = await r.receipt('sub');
    assert.equal(rc.headers['x-recovered'], 'false');
    assert.equal(rc.headers['x-epoch'], after.epoch);
});

test('two relays, four stompjs senders in one room: every subscriber sees offsets 1..N once, in order', { timeout: 60000 }, async () => {
    const { room, users } = await api.roomWith(4);
    const subs = [];
    for (let i = 0; i < 4; i++) {
        const c = stomp(stack.relayUrl(i % 2), { token: users[i].token, name: `c${i}` });
        await c.connect();
        subs.push({ c, sub: await c.subscribeReceipt(`/topic/room/${room.id}`) });
    }
    const PER = 40;
    await Promise.all(subs.map(async ({ c }, i) => {
        for (let k = 0; k < PER; k++) c.send(room.id, `s${i} ${k}`);
        await c.sendReceipt(room.id, `s${i} done`);
    }));
    const N = 4 * (PER + 1);
    for (const { sub } of subs) {
        const msgs = await sub.collect((m) => m.type === 'CHAT', N, 15000, `${N} CHAT`);
        assert.deepEqual(msgs.map((m) => m.offset), Array.from({ length: N }, (_, i) => i + 1));
        assert.equal(new Set(msgs.map((m) => m.id)).size, N, 'one id per message');
    }
    // and history holds the same N, with the same ids
    const page = await history(users[0].token, room.id, '?limit=100');
    const ids = (await subs[0].sub.collect((m) => m.type === 'CHAT', N, 1000)).slice(-100).map((m) => m.id);
    assert.deepEqual(page.body.messages.map((m) => m.id), ids);
});

test('recovery works the same over every SockJS transport (through lighttpd)', { timeout: 90000 }, async (t) => {
    const { TRANSPORTS, sockjsStomp } = await import('./lib/sockjs.mjs');
    const { room, users: [a, b] } = await api.roomWith(2);
    const s = await rawOn(0, a);
    for (const transport of TRANSPORTS) {
        await sendN(s, room.id, `${transport}-seen`, 1);
        const seen = (await history(b.token, room.id, '?limit=1')).body;
        await sendN(s, room.id, `${transport}-missed`, 7);
        const c = sockjsStomp(stack.baseUrl, transport, { token: b.token, name: `b-${transport}` });
        await c.connect();
        assert.equal(c.ws.transport, transport);
        const sub = await c.subscribeReceipt(`/topic/room/${room.id}`, {
            'x-since-offset': String(seen.offset), 'x-since-epoch': seen.epoch,
        });
        const rc = [...c.receipts.values()].pop();
        assert.equal(rc.headers['x-recovered'], 'true', `${transport}: ${JSON.stringify(rc.headers)}`);
        const got = await sub.collect((m) => m.type === 'CHAT', 7, 10000, `${transport}: 7 recovered`);
        assert.deepEqual(got.map((m) => m.offset), Array.from({ length: 7 }, (_, i) => seen.offset + 1 + i), transport);
        assert.deepEqual(got.map((m) => m.message), Array.from({ length: 7 }, (_, i) => `${transport}-missed ${i + 1}`));
        await c.close();
        t.diagnostic(`${transport}: 7 recovered`);
    }
});
