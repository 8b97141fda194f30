// Two relays sharing Redis Pub/Sub (CONTRACT.md): messages and presence cross relays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, sleep } from './lib/client.mjs';

const stack = useStack({ relays: 2 });
useClients();
const api = new Api(stack);

test('clients on relay A and relay B chat, 100 messages each way, in order', { timeout: 60000 }, async () => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const a = stomp(stack.relayUrl(0), { token: ua.token, name: 'A@relay0' });
    const b = stomp(stack.relayUrl(1), { token: ub.token, name: 'B@relay1' });
    await Promise.all([a.connect(), b.connect()]);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);

    // one message first, so a slow cross-relay path shows up as this failure
    await a.sendReceipt(room.id, 'first');
    const first = await sb.waitChat('first');
    assert.equal(first.senderId, ua.user.id);
    assert.equal(first.sender, ua.user.name);
    assert.equal(sb.frames.at(-1).headers['content-type'], 'application/json');

    // 100 each way, both at once (the SEND burst is 100 per session; 'first' used one,
    // so use fresh sessions for the bursts)
    const a2 = stomp(stack.relayUrl(0), { token: ua.token, name: 'A2@relay0' });
    const b2 = stomp(stack.relayUrl(1), { token: ub.token, name: 'B2@relay1' });
    await Promise.all([a2.connect(), b2.connect()]);
    const sends = [];
    for (let i = 0; i < 100; i++) {
        sends.push(a2.sendReceipt(room.id, `a-${i}`));
        sends.push(b2.sendReceipt(room.id, `b-${i}`));
    }
    await Promise.all(sends);
    const collect = (sub, user, prefix) => sub.collect((x) => x.type === 'CHAT' && x.senderId === user.user.id && x.message.startsWith(prefix),
        100, 15000, `100 messages ${prefix}* at ${sub.conn.name}`).then((ms) => ms.map((m) => m.message));
    const [atB, atA, atAown, atBown] = await Promise.all([
        collect(sb, ua, 'a-'), collect(sa, ub, 'b-'), collect(sa, ua, 'a-'), collect(sb, ub, 'b-'),
    ]);
    const want = (p) => Array.from({ length: 100 }, (_, i) => `${p}${i}`);
    assert.deepEqual(atB, want('a-'), 'relay 0 → relay 1, in order');
    assert.deepEqual(atA, want('b-'), 'relay 1 → relay 0, in order');
    assert.deepEqual(atAown, want('a-'));
    assert.deepEqual(atBown, want('b-'));
});

test('a message reaches every subscriber on both relays and through lighttpd', { timeout: 30000 }, async () => {
    const { room, users } = await api.roomWith(3);
    const urls = [stack.relayUrl(0), stack.relayUrl(1), stack.wsUrl];
    const conns = users.map((u, i) => stomp(urls[i], { token: u.token, name: `u${i}` }));
    await Promise.all(conns.map((c) => c.connect()));
    const subs = await Promise.all(conns.map((c) => c.subscribeReceipt(`/topic/room/${room.id}`)));
    for (const [i, c] of conns.entries()) {
        await c.sendReceipt(room.id, `from ${i}`);
        for (const s of subs) assert.equal((await s.waitChat(`from ${i}`)).senderId, users[i].user.id);
    }
});

const isP = (type, user) => (m) => m.type === type && m.senderId === user.user.id;

test('two tabs on different relays: one JOIN, LEAVE only when the last goes, seen on both relays', { timeout: 40000 }, async () => {
    const { room, users: [o0, o1, u] } = await api.roomWith(3);
    const dest = `/topic/room/${room.id}`;
    const obs0 = stomp(stack.relayUrl(0), { token: o0.token, name: 'obs@relay0' });
    const obs1 = stomp(stack.relayUrl(1), { token: o1.token, name: 'obs@relay1' });
    await Promise.all([obs0.connect(), obs1.connect()]);
    const subs = await Promise.all([obs0.subscribeReceipt(dest), obs1.subscribeReceipt(dest)]);
    // markers from each relay: what that relay published before has arrived by then
    let n = 0;
    const sync = async () => {
        const tags = [`sync ${n++} r0`, `sync ${n++} r1`];
        await Promise.all([obs0.sendReceipt(room.id, tags[0]), obs1.sendReceipt(room.id, tags[1])]);
        // the two markers may arrive in either order: wait without consuming
        await Promise.all(subs.flatMap((s) => tags.map((tag) => s.collect((m) => m.type === 'CHAT' && m.message === tag, 1))));
    };
    const count = (type) => subs.map((s) => s.count(isP(type, u)));

    const tab0 = stomp(stack.relayUrl(0), { token: u.token, name: 'tab@relay0' });
    const tab1 = stomp(stack.relayUrl(1), { token: u.token, name: 'tab@relay1' });
    await Promise.all([tab0.connect(), tab1.connect()]);

    await tab0.subscribeReceipt(dest);
    await Promise.all(subs.map((s) => s.waitFor(isP('JOIN', u))));
    await tab1.subscribeReceipt(dest);
    await sync();
    await sleep(300); // a late JOIN from relay 1 would have arrived by now
    await sync();
    assert.deepEqual(count('JOIN'), [1, 1], 'exactly one JOIN, on both relays');

    await tab0.close(); // relay 0's tab goes; relay 1's remains
    await sync();
    await sleep(300);
    await sync();
    assert.deepEqual(count('LEAVE'), [0, 0], 'no LEAVE while the tab on relay 1 is subscribed');

    await tab1.close(); // last one: LEAVE, published by relay 1, seen on both
    await Promise.all(subs.map((s) => s.waitFor(isP('LEAVE', u))));
    await sync();
    assert.deepEqual(count('JOIN'), [1, 1]);
    assert.deepEqual(count('LEAVE'), [1, 1]);

    // and the user comes back on relay 1 only: a new JOIN
    const tab2 = stomp(stack.relayUrl(1), { token: u.token, name: 'tab2@relay1' });
    await tab2.connect();
    await tab2.subscribeReceipt(dest);
    await Promise.all(subs.map((s) => s.waitFor(isP('JOIN', u))));
    assert.deepEqual(count('JOIN'), [2, 2]);
});

test('a relay killed and restarted: the other relay keeps going, the restarted one rejoins', { timeout: 40000 }, async () => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const dest = `/topic/room/${room.id}`;
    const a = stomp(stack.relayUrl(0), { token: ua.token, name: 'A@relay0' });
    const b = stomp(stack.relayUrl(1), { token: ub.token, name: 'B@relay1' });
    await Promise.all([a.connect(), b.connect()]);
    const sa = await a.subscribeReceipt(dest);
    await b.subscribeReceipt(dest);

    await stack.relayKill(1);
    await b.waitClosed(); // its relay is gone
    await a.sendReceipt(room.id, 'relay 1 is down');
    await sa.waitChat('relay 1 is down');

    await stack.relayRestart(1);
    const b2 = stomp(stack.relayUrl(1), { token: ub.token, name: 'B2@relay1' });
    await b2.connect();
    const sb2 = await b2.subscribeReceipt(dest);
    await a.sendReceipt(room.id, 'relay 1 is back');
    assert.equal((await sb2.waitChat('relay 1 is back')).senderId, ua.user.id);
    await b2.sendReceipt(room.id, 'hello from the restarted relay');
    assert.equal((await sa.waitChat('hello from the restarted relay')).senderId, ub.user.id);
});

