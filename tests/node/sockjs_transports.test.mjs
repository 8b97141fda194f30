// SockJS transports end to end (docs/STOMP.md, "STOMP over WebSocket and SockJS"): the
// real sockjs-client, forced to one transport at a time (websocket, xhr-streaming,
// xhr-polling, eventsource), under @stomp/stompjs, through lighttpd's port at
// BASE_URL/ws. Each test: log in over REST, connect, check the transport actually used
// (no silent fallback), subscribe, see the JOIN, chat both ways with raw-WebSocket
// users in the same room (30 messages each way, in order), close, see the LEAVE.
//
// Twice: one relay, and two relays behind lighttpd, where the raw users sit on relay 0
// and relay 1 (directly), so whichever relay lighttpd routed the SockJS session to,
// one of them is on the other relay (Redis Pub/Sub in between), and every request of
// the session (xhr_send and the receiving requests) must reach the same relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';
import { TRANSPORTS, sockjsStomp, newSession, openStream, connectFrame, messagesOf, useStreams } from './lib/sockjs.mjs';

const N = 30;
const stacks = { 'one relay': useStack({ relays: 1 }), 'two relays': useStack({ relays: 2 }) };
useClients();
useStreams();

async function chatOver(stack, transport) {
    const api = new Api(stack);
    const nraw = stack.relayPorts.length;
    const { room, users } = await api.roomWith(1 + nraw);
    const [ua, ...rawUsers] = users;
    const dest = `/topic/room/${room.id}`;

    // raw users first, one per relay, subscribed
    const raws = rawUsers.map((u, i) => stomp(stack.relayUrl(i), { token: u.token, name: `raw@relay${i}` }));
    await Promise.all(raws.map((r) => r.connect()));
    const rawSubs = await Promise.all(raws.map((r) => r.subscribeReceipt(dest)));

    // the SockJS user
    const a = sockjsStomp(stack.baseUrl, transport, { token: ua.token, name: `sockjs/${transport}` });
    const connected = await a.connect(10000);
    assert.equal(a.ws.transport, transport, `sockjs-client used ${a.ws.transport}, not ${transport}`);
    assert.equal(connected.headers['user-name'], ua.user.id, 'CONNECTED user-name');
    assert.equal(connected.headers.version, '1.2');
    const sa = await a.subscribeReceipt(dest);

    // everyone else sees A join
    for (const s of rawSubs) {
        const j = await s.waitFor((m) => m.type === 'JOIN' && m.senderId === ua.user.id, 5000, 'JOIN of the SockJS user');
        assert.equal(j.roomId, room.id);
    }

    // A -> everyone, N in order (sent back to back, one receipt at the end)
    for (let i = 0; i < N - 1; i++) a.send(room.id, `${transport} a-${i} ✓`);
    await a.sendReceipt(room.id, `${transport} a-${N - 1} ✓`);
    const wantA = Array.from({ length: N }, (_, i) => `${transport} a-${i} ✓`);
    for (const s of [sa, ...rawSubs]) {
        const got = await s.collect((m) => m.type === 'CHAT' && m.senderId === ua.user.id, N, 10000, `${N} from A`);
        assert.deepEqual(got.map((m) => m.message), wantA);
    }

    // each raw user -> A, N in order
    for (const [k, r] of raws.entries()) {
        for (let i = 0; i < N - 1; i++) r.send(room.id, `r${k}-${i}`);
        await r.sendReceipt(room.id, `r${k}-${N - 1}`);
        const got = await sa.collect((m) => m.type === 'CHAT' && m.senderId === rawUsers[k].user.id, N, 10000, `${N} from raw ${k}`);
        assert.deepEqual(got.map((m) => m.message), Array.from({ length: N }, (_, i) => `r${k}-${i}`));
        assert.equal(sa.frames.at(-1).headers['content-type'], 'application/json');
    }

    // A leaves: DISCONNECT with receipt, the socket closes, the others see LEAVE
    await a.close();
    assert.notEqual(a.ws.readyState, 1, 'SockJS closed');
    for (const s of rawSubs) {
        await s.waitFor((m) => m.type === 'LEAVE' && m.senderId === ua.user.id, 5000, 'LEAVE of the SockJS user');
    }
}

for (const [label, stack] of Object.entries(stacks)) {
    for (const transport of TRANSPORTS) {
        test(`SockJS ${transport}, ${label}: JOIN, ${N} messages each way in order, LEAVE`, { timeout: 60000 }, async () => {
            await chatOver(stack, transport);
        });
    }
}

test('two relays: 12 SockJS sessions (every transport) all stay on their relay', { timeout: 60000 }, async () => {
    // Many sessions, so both relays get some whatever the random {server} ids are;
    // each session's xhr_send and receiving requests must meet on one relay, or its
    // CONNECT (an xhr_send) would be answered 404 and the connect would fail.
    const stack = stacks['two relays'];
    const api = new Api(stack);
    const { room, users } = await api.roomWith(12);
    const conns = users.map((u, i) => sockjsStomp(stack.baseUrl, TRANSPORTS[i % TRANSPORTS.length],
        { token: u.token, name: `s${i}/${TRANSPORTS[i % TRANSPORTS.length]}` }));
    await Promise.all(conns.map((c) => c.connect(10000)));
    conns.forEach((c, i) => assert.equal(c.ws.transport, TRANSPORTS[i % TRANSPORTS.length]));
    const subs = await Promise.all(conns.map((c) => c.subscribeReceipt(`/topic/room/${room.id}`)));
    await Promise.all(conns.map((c, i) => c.sendReceipt(room.id, `hello from ${i}`)));
    for (const s of subs) {
        const got = await s.collect((m) => m.type === 'CHAT', 12, 10000, '12 greetings');
        assert.deepEqual(got.map((m) => m.message).sort(), users.map((_, i) => `hello from ${i}`).sort());
    }
});

test('two relays: lighttpd routes a session on its {server} id (last digit odd: relay 1, else relay 0)', { timeout: 60000 }, async () => {
    // The documented routing (conf/lighttpd.conf), checked deterministically: which relay
    // holds a session shows in its STOMP session id, "<relay id>-<n>".
    const stack = stacks['two relays'];
    const api = new Api(stack);
    const u = await api.signup();
    const prefixes = [];
    for (let i = 0; i < 2; i++) {
        const r = stomp(stack.relayUrl(i), { token: u.token, name: `probe@relay${i}` });
        prefixes.push((await r.connect()).headers.session.split('-')[0]);
        await r.close();
    }
    assert.notEqual(prefixes[0], prefixes[1]);
    for (const server of ['000', '001', '002', '123', '456', '789', '990', '7', 'abc', 'x1']) {
        const s = newSession(stack.baseUrl, server);
        const st = openStream(s.url('xhr_streaming'));
        await st.waitFrames((fs) => fs[0] === 'o', 5000, 'o');
        const r = await s.send([connectFrame(u.token)]);
        assert.equal(r.status, 204, `xhr_send for server ${server} reached the session's relay`);
        const fs = await st.waitFrames((x) => x.some((f) => f.startsWith('a[')), 5000, 'CONNECTED');
        const connected = messagesOf(fs.find((f) => f.startsWith('a[')))[0];
        assert.match(connected, /^CONNECTED\n/);
        const relayId = /\nsession:([^-\n]+)-/.exec(connected)[1];
        const want = /[13579]$/.test(server) ? 1 : 0;
        assert.equal(prefixes.indexOf(relayId), want, `server id ${server} on relay ${want}`);
        st.close();
    }
});
