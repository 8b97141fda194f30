// Faults (docs/STOMP.md "Presence" and "Shutdown"; docs/OPERATIONS.md): a relay killed
// with SIGKILL, a relay stopped with SIGTERM, Redis killed with SIGKILL.
//
// Three relays with PRESENCE_TTL=3 (s): a dead relay's users must get their LEAVE from
// one of the survivors within PRESENCE_TTL (+2 s of slack for the test), once each,
// and GET /api/rooms/{id} must say online:false for them. The stack's Redis runs with
// conf/redis.conf (append-only file, fsync every second) as `make run` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';
import { sockjsStomp } from './lib/sockjs.mjs';

const TTL_S = 3;
const stack = useStack({ relays: 3, env: { PRESENCE_TTL: String(TTL_S), HEARTBEAT_MS: '1000' } });
useClients();
const api = new Api(stack);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isP = (type, user) => (m) => m.type === type && m.senderId === user.user.id;
const dest = (room) => `/topic/room/${room.id}`;
// Wait for a message without consuming it (several waits on one subscription may run
// at once, in any order).
const seen = (s, pred, ms, what) => s.collect(pred, 1, ms, what);

async function onlineFlags(token, room) {
    const r = await api.req('GET', `/api/rooms/${room.id}`, { token });
    assert.equal(r.status, 200, r.text);
    return Object.fromEntries(r.body.members.map((m) => [m.id, m.online]));
}

// Poll GET /api/rooms/{id} until want(flags) holds (or fail after ms).
async function waitFlags(token, room, want, ms, what) {
    const until = Date.now() + ms;
    let flags;
    for (;;) {
        flags = await onlineFlags(token, room);
        if (want(flags)) return flags;
        if (Date.now() > until) assert.fail(`${what}: flags ${JSON.stringify(flags)}`);
        await sleep(100);
    }
}

test('kill -9 of a relay: its users LEAVE within PRESENCE_TTL, once, from one survivor; a user with another session stays', { timeout: 40000 }, async (t) => {
    // room A: observers o1 (relay 0) and o2 (relay 1); u1 and u2 only on relay 2; v on
    // relay 2 and relay 0. Room B: u1 on relay 2 too, observed from relay 1.
    const { room: ra, users: [o1, o2, u1, u2, v] } = await api.roomWith(5);
    const rb = await api.createRoom(o2.token);
    await api.joinRoom(u1.token, rb.id);
    const c = (i, u, name) => stomp(stack.relayUrl(i), { token: u.token, name });
    const obs1 = c(0, o1, 'o1@0'), obs2 = c(1, o2, 'o2@1');
    const cu1 = c(2, u1, 'u1@2'), cu2 = c(2, u2, 'u2@2'), cv2 = c(2, v, 'v@2'), cv0 = c(0, v, 'v@0');
    await Promise.all([obs1, obs2, cu1, cu2, cv2, cv0].map((x) => x.connect()));
    const [sa1, sa2, sb2] = [await obs1.subscribeReceipt(dest(ra)), await obs2.subscribeReceipt(dest(ra)),
        await obs2.subscribeReceipt(dest(rb))];
    for (const x of [cu1, cu2, cv2, cv0]) await x.subscribeReceipt(dest(ra));
    await cu1.subscribeReceipt(dest(rb));
    for (const u of [u1, u2, v]) await seen(sa1, isP('JOIN', u), 5000, `JOIN of ${u.user.name}`);
    await sb2.waitFor(isP('JOIN', u1), 5000, 'JOIN of u1 in room B');
    const before = await onlineFlags(o1.token, ra);
    for (const u of [o1, o2, u1, u2, v]) assert.equal(before[u.user.id], true, `${u.user.name} online before`);

    const t0 = Date.now();
    await stack.relayKill(2);
    const deadline = TTL_S * 1000 + 2000;
    await Promise.all([
        ...[sa1, sa2].flatMap((s) => [u1, u2].map((u) => seen(s, isP('LEAVE', u), deadline, `LEAVE of ${u.user.name}`))),
        seen(sb2, isP('LEAVE', u1), deadline, 'LEAVE of u1 in room B'),
    ]);
    t.diagnostic(`LEAVEs after ${Date.now() - t0} ms (PRESENCE_TTL ${TTL_S} s)`);
    const flags = await waitFlags(o1.token, ra, (f) => f[u1.user.id] === false && f[u2.user.id] === false, 1000,
        'u1 and u2 offline once their LEAVE is out');
    assert.equal(flags[v.user.id], true, 'v still online: a session on relay 0');
    assert.equal(flags[o1.user.id], true);
    assert.equal(flags[o2.user.id], true);
    assert.equal((await onlineFlags(o2.token, rb))[u1.user.id], false, 'u1 offline in room B');

    // Another sweep period and more: still exactly one LEAVE each, none for v.
    await sleep(TTL_S * 1000);
    await obs1.sendReceipt(ra.id, 'sync');
    await Promise.all([sa1.waitChat('sync'), sa2.waitChat('sync')]);
    for (const s of [sa1, sa2]) {
        assert.equal(s.count(isP('LEAVE', u1)), 1, 'one LEAVE of u1 per observer (three relays, one killed)');
        assert.equal(s.count(isP('LEAVE', u2)), 1, 'one LEAVE of u2 per observer');
        assert.equal(s.count(isP('LEAVE', v)), 0, 'no LEAVE for v: still subscribed on relay 0');
    }
    assert.equal(sb2.count(isP('LEAVE', u1)), 1);
    // The registry is empty of the dead relay: only the three... two survivors remain.
    const relays = await stack.redis('ZCARD', `${stack.env.KEY_PREFIX}relays`);
    assert.equal(relays.trim(), ':2', 'the dead relay was removed from the registry');

    // v's last session ends: LEAVE as usual (its count was 1 after the sweep, not 2).
    await cv0.close();
    await sa2.waitFor(isP('LEAVE', v), 5000, 'LEAVE of v once its other session ends');

    await stack.relayRestart(2);
    const again = c(2, u1, 'u1-again@2');
    await again.connect();
    await again.subscribeReceipt(dest(ra));
    await sa1.collect(isP('JOIN', u1), 2, 5000, 'a second JOIN of u1, on the restarted relay');
    assert.equal((await onlineFlags(o1.token, ra))[u1.user.id], true);
});

test('SIGTERM of a relay: close 1001 (WebSocket) and c[1001] (SockJS), LEAVE at once, exit within 5 s', { timeout: 40000 }, async (t) => {
    const { room, users: [o, u, w] } = await api.roomWith(3);
    const obs = stomp(stack.relayUrl(0), { token: o.token, name: 'observer@0' });
    const raw = stomp(stack.relayUrl(1), { token: u.token, name: 'ws@1' });
    const sj = sockjsStomp(`http://127.0.0.1:${stack.relayPorts[1]}`, 'websocket', { token: w.token, name: 'sockjs@1' });
    await Promise.all([obs.connect(), raw.connect(), sj.connect()]);
    const s = await obs.subscribeReceipt(dest(room));
    await raw.subscribeReceipt(dest(room));
    await sj.subscribeReceipt(dest(room));
    await Promise.all([seen(s, isP('JOIN', u), 5000, 'JOIN of u'), seen(s, isP('JOIN', w), 5000, 'JOIN of w')]);

    const t0 = Date.now();
    await stack.relayStop(1); // rejects when the relay needed SIGKILL or logged no clean exit
    const took = Date.now() - t0;
    t.diagnostic(`relay 1 exited ${took} ms after SIGTERM`);
    assert.ok(took < 5000, `exited within 5 s (${took} ms)`);
    const [cr, cs] = await Promise.all([raw.waitClosed(3000), sj.waitClosed(3000)]);
    assert.equal(cr.code, 1001, `WebSocket close code: ${JSON.stringify(cr)}`);
    assert.equal(cs.code, 1001, `SockJS close frame: ${JSON.stringify(cs)}`);
    // LEAVE published before exit (no grace, no PRESENCE_TTL wait)
    await Promise.all([seen(s, isP('LEAVE', u), 1000, 'LEAVE of u'), seen(s, isP('LEAVE', w), 1000, 'LEAVE of w')]);
    const flags = await onlineFlags(o.token, room);
    assert.equal(flags[u.user.id], false);
    assert.equal(flags[w.user.id], false);
    const relays = await stack.redis('ZRANGE', `${stack.env.KEY_PREFIX}relays`, '0', '-1');
    const holds = await stack.redis('KEYS', `${stack.env.KEY_PREFIX}relay:*:holds`);
    t.diagnostic(`registry after the stop: ${JSON.stringify(relays)} holds ${JSON.stringify(holds)}`);

    await stack.relayRestart(1);
    // the client reconnects (here: to the restarted relay) and is counted again
    const back = stomp(stack.relayUrl(1), { token: u.token, name: 'ws-again@1' });
    await back.connect();
    await back.subscribeReceipt(dest(room));
    await s.collect(isP('JOIN', u), 2, 5000, 'a second JOIN of u, after reconnecting');
});

test('Redis kill -9: a sign-up, a room and 10 messages acknowledged a second earlier survive; presence is re-counted', { timeout: 40000 }, async (t) => {
    const a = await api.signup('Kill Nine');
    const b = await api.signup();
    const room = await api.createRoom(a.token, 'survives kill -9');
    await api.joinRoom(b.token, room.id);
    const ca = stomp(stack.relayUrl(0), { token: a.token, name: 'a@0' });
    const cb = stomp(stack.relayUrl(1), { token: b.token, name: 'b@1' });
    await Promise.all([ca.connect(), cb.connect()]);
    const sb = await cb.subscribeReceipt(dest(room));
    await ca.subscribeReceipt(dest(room));
    for (let i = 1; i <= 10; i++) await ca.sendReceipt(room.id, `durable ${i}`);
    await sleep(1200); // appendfsync everysec: acknowledged more than a second ago
    await stack.redisKill();
    await stack.redisStart();

    // The account: a new login works (password hash and email index survived) and the
    // old token too (its session key).
    const l = await api.login(a.email, a.password);
    assert.equal(l.user.id, a.user.id);
    const me = await api.req('GET', '/api/users/me', { token: a.token });
    assert.equal(me.status, 200, 'the token from before the kill still works');
    const r = await api.req('GET', `/api/rooms/${room.id}`, { token: b.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'survives kill -9');
    const h = await api.req('GET', `/api/rooms/${room.id}/messages?limit=100`, { token: b.token });
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(h.body.messages.map((m) => m.message), Array.from({ length: 10 }, (_, i) => `durable ${i + 1}`));
    assert.deepEqual(h.body.messages.map((m) => m.offset), Array.from({ length: 10 }, (_, i) => i + 1));

    // The relays ride it out: both users still count as online (the registry and the
    // counts survived, or were re-counted), and chat goes on with the next offset.
    const flags = await waitFlags(b.token, room, (f) => f[a.user.id] === true && f[b.user.id] === true, 10000,
        'both subscribers online after the Redis restart');
    t.diagnostic(`online after restart: ${JSON.stringify(flags)}`);
    const up = Date.now();
    let sent = false;
    while (!sent && Date.now() - up < 10000) {
        try {
            await ca.sendReceipt(room.id, 'after kill -9', {}, 3000);
            sent = true;
        } catch { await sleep(250); }
    }
    assert.ok(sent, 'SEND accepted again within 10 s');
    // (live delivery on the other relay resumes once it has resubscribed; what it
    // missed meanwhile is what clients fill from ?after=, as the chaos test does)
    const after = await api.req('GET', `/api/rooms/${room.id}/messages?after=10`, { token: b.token });
    assert.equal(after.status, 200, after.text);
    const m = after.body.messages.find((x) => x.message === 'after kill -9');
    assert.ok(m, `stored after the restart: ${after.text}`);
    assert.equal(m.offset, 11, 'the history continues: offset 11, same epoch');
    assert.equal(m.epoch, h.body.epoch);
    assert.ok(sb.count(() => true) >= 10, 'b saw the ten live');
});

// (Logins are lost too when Redis loses everything, and the relays then close every
// session whose token is gone; so this drops only the presence keys, then restarts.)
test('Redis restarted without its presence data: each relay counts its users again, so one relay\'s LEAVE is not taken for the last', { timeout: 40000 }, async (t) => {
    const { room, users: [o, u] } = await api.roomWith(2);
    const obs = stomp(stack.relayUrl(2), { token: o.token, name: 'observer@2' });
    const u0 = stomp(stack.relayUrl(0), { token: u.token, name: 'u@0' });
    const u1 = stomp(stack.relayUrl(1), { token: u.token, name: 'u@1' });
    await Promise.all([obs.connect(), u0.connect(), u1.connect()]);
    const s = await obs.subscribeReceipt(dest(room));
    await u0.subscribeReceipt(dest(room));
    await u1.subscribeReceipt(dest(room));
    await seen(s, isP('JOIN', u), 5000, 'JOIN of u');
    const online = `${stack.env.KEY_PREFIX}room:${room.id}:online`;
    assert.equal((await stack.redis('HGET', online, u.user.id)).split('\r\n')[1], '2', 'u counted by two relays');

    const P = stack.env.KEY_PREFIX;
    const holds = (await stack.redis('KEYS', `${P}relay:*:holds`)).split('\r\n').filter((l) => l.startsWith(P));
    await stack.redis('DEL', online, `${P}relays`, ...holds);
    await stack.redisStop();
    await stack.redisStart();
    // both relays notice, register again and re-count what they hold
    const until = Date.now() + 10000;
    let n;
    while ((n = (await stack.redis('HGET', online, u.user.id).catch(() => '')).split('\r\n')[1]) !== '2' && Date.now() < until) await sleep(200);
    assert.equal(n, '2', 'u counted by both relays again after the empty restart');
    // each relay's subscribers: the observer's relay subscribes the room's channel
    // again; wait until a LEAVE could reach it (its count of the room is re-asserted too)
    while ((await stack.redis('HGET', online, o.user.id).catch(() => '')).split('\r\n')[1] !== '1' && Date.now() < until) await sleep(200);
    await sleep(500);
    const before = s.count(isP('LEAVE', u));
    await u0.close();
    await sleep(1500 + 500); // PRESENCE_GRACE_MS and a sweep
    assert.equal((await stack.redis('HGET', online, u.user.id)).split('\r\n')[1], '1', 'one relay still holds u');
    assert.equal(s.count(isP('LEAVE', u)), before, 'no LEAVE while u is subscribed on relay 1');
    await u1.close();
    await s.collect(isP('LEAVE', u), before + 1, 5000, 'LEAVE once u\'s last subscription ends');
    t.diagnostic(`JOINs re-published after the empty restart: ${s.count(isP('JOIN', u)) - 1}`);
});
