// Presence (docs/STOMP.md): JOIN when a user's first session subscribes to a room, LEAVE
// when that user's last subscription to it ends - by UNSUBSCRIBE, DISCONNECT, a closed
// socket or missed heart-beats.
//
// The stack runs with HEARTBEAT_MS=1000 (a configuration key, see conf/chat.conf) so
// that the missed-heart-beat case is decided in seconds rather than the default 10 s;
// the deadline below is still computed from the heart-beat the relay negotiates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, raw, useClients } from './lib/client.mjs';

const stack = useStack({ env: { HEARTBEAT_MS: '1000' } });
useClients();
const api = new Api(stack);

const BODY_KEYS = ['id', 'message', 'roomId', 'sender', 'senderId', 'ts', 'type'];

function assertPresence(m, type, room, user) {
    assert.deepEqual(Object.keys(m).sort(), BODY_KEYS, `body has exactly the contract's fields: ${JSON.stringify(m)}`);
    assert.equal(m.type, type);
    assert.equal(m.roomId, room.id);
    assert.equal(m.senderId, user.user.id);
    assert.equal(m.sender, user.user.name);
    assert.equal(typeof m.message, 'string');
    assert.ok(m.message.length > 0, `${type} has a human-readable notice`);
    assert.equal(typeof m.id, 'string');
    assert.equal(typeof m.ts, 'number');
    assert.ok(Math.abs(m.ts - Date.now()) < 10000, `ts ${m.ts} near now`);
}

const isP = (type, user) => (m) => m.type === type && m.senderId === user.user.id;

// An observer (user 0) subscribed to a fresh room with users[1..n-1] as members.
async function observed(n = 2, url = stack.relayUrl(0)) {
    const { room, users } = await api.roomWith(n);
    const obs = stomp(url, { token: users[0].token, name: 'observer' });
    await obs.connect();
    const sub = await obs.subscribeReceipt(`/topic/room/${room.id}`);
    // A marker the observer sends and sees: everything the relay published before it
    // (on this relay) has arrived by then.
    const sync = async (tag) => {
        await obs.sendReceipt(room.id, tag);
        await sub.collect((m) => m.type === 'CHAT' && m.message === tag, 1); // non-consuming
    };
    return { room, users, obs, sub, sync, dest: `/topic/room/${room.id}` };
}

test('JOIN when a user subscribes, LEAVE on UNSUBSCRIBE', { timeout: 20000 }, async () => {
    const { room, users: [, u], sub, dest, sync } = await observed();
    const c = stomp(stack.relayUrl(0), { token: u.token, name: 'B' });
    await c.connect();
    const s = await c.subscribeReceipt(dest);
    assertPresence(await sub.waitFor(isP('JOIN', u)), 'JOIN', room, u);
    await s.unsubscribeReceipt();
    assertPresence(await sub.waitFor(isP('LEAVE', u)), 'LEAVE', room, u);
    assert.ok(c.isOpen, 'UNSUBSCRIBE leaves the session open');
    await sync('end');
    assert.equal(sub.count(isP('JOIN', u)), 1);
    assert.equal(sub.count(isP('LEAVE', u)), 1);
});

test('LEAVE on DISCONNECT', { timeout: 20000 }, async () => {
    const { room, users: [, u], sub, dest } = await observed();
    const c = stomp(stack.relayUrl(0), { token: u.token, name: 'B' });
    await c.connect();
    await c.subscribeReceipt(dest);
    await sub.waitFor(isP('JOIN', u));
    await c.close(); // DISCONNECT with receipt
    assert.ok(c.log.some((e) => e.kind === 'DISCONNECTED'), 'DISCONNECT got its RECEIPT');
    assertPresence(await sub.waitFor(isP('LEAVE', u)), 'LEAVE', room, u);
});

test('LEAVE when the socket is killed without DISCONNECT', { timeout: 20000 }, async () => {
    const { room, users: [, u], sub, dest } = await observed();
    const c = stomp(stack.relayUrl(0), { token: u.token, name: 'B' });
    await c.connect();
    await c.subscribeReceipt(dest);
    await sub.waitFor(isP('JOIN', u));
    await c.kill(); // ws.terminate(): TCP connection destroyed, no DISCONNECT, no close frame
    assertPresence(await sub.waitFor(isP('LEAVE', u), 5000), 'LEAVE', room, u);
});

test('LEAVE when the client stops heart-beating (socket open, client silent)', { timeout: 30000 }, async () => {
    const { room, users: [, u], sub, dest } = await observed();
    // raw client: asks for heart-beats both ways every second, then never sends
    // anything again and does not even answer WebSocket pings (autoPong: false)
    const r = await raw(stack.relayUrl(0), { wsOptions: { autoPong: false }, name: 'silent' });
    const connected = await r.connect(u.token, { 'heart-beat': '1000,1000' });
    const [, sy] = (connected.headers['heart-beat'] ?? '0,0').split(',').map(Number);
    assert.ok(sy > 0, `the relay wants heart-beats from the client (CONNECTED heart-beat:${connected.headers['heart-beat']})`);
    r.sendFrame('SUBSCRIBE', { id: 'p', destination: dest, receipt: 'sub' });
    await r.receipt('sub');
    const joinAt = Date.now();
    await sub.waitFor(isP('JOIN', u));
    // the client promised a heart-beat every max(1000, sy) ms; allow the usual grace
    const interval = Math.max(1000, sy);
    const deadline = interval * 3 + 2000;
    const leave = await sub.waitFor(isP('LEAVE', u), deadline, `LEAVE within ${deadline} ms of silence`);
    assertPresence(leave, 'LEAVE', room, u);
    const took = Date.now() - joinAt;
    assert.ok(took >= interval, `LEAVE not before one heart-beat interval (${took} ms < ${interval} ms)`);
});

test('a client that does heart-beat stays (no LEAVE while it keeps beating)', { timeout: 30000 }, async () => {
    const { users: [, u], sub, dest, sync } = await observed();
    const r = await raw(stack.relayUrl(0), { name: 'beating' });
    const connected = await r.connect(u.token, { 'heart-beat': '1000,1000' });
    const [sx, sy] = (connected.headers['heart-beat'] ?? '0,0').split(',').map(Number);
    assert.ok(sx > 0 && sy > 0, `heart-beating both ways (CONNECTED heart-beat:${connected.headers['heart-beat']})`);
    const interval = Math.max(1000, sy);
    const beat = setInterval(() => { if (r.isOpen) r.sendRaw('\n'); }, Math.floor(interval / 2));
    try {
        r.sendFrame('SUBSCRIBE', { id: 'p', destination: dest, receipt: 'sub' });
        await r.receipt('sub');
        await sub.waitFor(isP('JOIN', u));
        // stay connected for 3 intervals, idle apart from heart-beats
        await new Promise((res) => setTimeout(res, interval * 3 + 500));
        assert.ok(r.isOpen, 'heart-beating client still connected');
        await sync('still there');
        assert.equal(sub.count(isP('LEAVE', u)), 0, 'no LEAVE for a heart-beating client');
        if (Math.max(sx, 1000) <= interval * 3) {
            assert.ok(r.heartbeats > 0, `the relay heart-beats to the client too (every ${Math.max(sx, 1000)} ms)`);
        }
    } finally {
        clearInterval(beat);
    }
});

test('two tabs: one JOIN for the first, none for the second, LEAVE only when the last goes', { timeout: 30000 }, async () => {
    const { room, users: [, u], sub, dest, sync } = await observed();
    const tab1 = stomp(stack.relayUrl(0), { token: u.token, name: 'tab1' });
    const tab2 = stomp(stack.wsUrl, { token: u.token, name: 'tab2' });
    await Promise.all([tab1.connect(), tab2.connect()]);

    await tab1.subscribeReceipt(dest);
    assertPresence(await sub.waitFor(isP('JOIN', u)), 'JOIN', room, u);
    await tab2.subscribeReceipt(dest);
    await sync('after tab2 subscribed');
    // a JOIN for tab2 could only be published by a relay after tab1's; give it a moment
    await new Promise((r) => setTimeout(r, 300));
    await sync('after tab2 subscribed (2)');
    assert.equal(sub.count(isP('JOIN', u)), 1, 'exactly one JOIN for two tabs');

    await tab1.close(); // first tab goes: no LEAVE
    await sync('after tab1 left');
    await new Promise((r) => setTimeout(r, 300));
    await sync('after tab1 left (2)');
    assert.equal(sub.count(isP('LEAVE', u)), 0, 'no LEAVE while the second tab is subscribed');

    await tab2.kill(); // last tab goes: LEAVE
    assertPresence(await sub.waitFor(isP('LEAVE', u)), 'LEAVE', room, u);
    await sync('end');
    assert.equal(sub.count(isP('JOIN', u)), 1);
    assert.equal(sub.count(isP('LEAVE', u)), 1);
});

test('two subscriptions to the room in one session count as one', { timeout: 20000 }, async () => {
    const { users: [, u], sub, dest, sync } = await observed();
    const c = stomp(stack.relayUrl(0), { token: u.token, name: 'B' });
    await c.connect();
    const s1 = await c.subscribeReceipt(dest);
    await sub.waitFor(isP('JOIN', u));
    const s2 = await c.subscribeReceipt(dest);
    await s1.unsubscribeReceipt();
    await sync('one left');
    await new Promise((r) => setTimeout(r, 300));
    await sync('one left (2)');
    assert.equal(sub.count(isP('JOIN', u)), 1, 'one JOIN');
    assert.equal(sub.count(isP('LEAVE', u)), 0, 'no LEAVE while a subscription remains');
    await s2.unsubscribeReceipt();
    await sub.waitFor(isP('LEAVE', u));
});
