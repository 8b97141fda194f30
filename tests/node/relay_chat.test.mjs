// Chat through the relay with the real @stomp/stompjs client (docs/STOMP.md, "STOMP over
// WebSocket"): through lighttpd (/ws/websocket) and directly on the relay port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, withTimeout } from './lib/client.mjs';

const stack = useStack();
useClients();
const api = new Api(stack);

// A CHAT body: the contract's fields, and the offset and epoch it was stored under.
const BODY_KEYS = ['epoch', 'id', 'message', 'offset', 'roomId', 'sender', 'senderId', 'ts', 'type'];

function assertChat(m, { room, user, text, t0 }) {
    assert.deepEqual(Object.keys(m).sort(), BODY_KEYS, `body has exactly the contract's fields: ${JSON.stringify(m)}`);
    assert.equal(m.type, 'CHAT');
    assert.ok(Number.isInteger(m.offset) && m.offset >= 1, `offset ${m.offset}`);
    assert.ok(typeof m.epoch === 'string' && m.epoch.length > 0, `epoch ${m.epoch}`);
    assert.equal(typeof m.id, 'string');
    assert.ok(m.id.length > 0, 'id is not empty');
    assert.equal(m.roomId, room.id);
    assert.equal(m.senderId, user.user.id);
    assert.equal(m.sender, user.user.name, 'sender is the stored name');
    assert.equal(m.message, text);
    assert.equal(typeof m.ts, 'number');
    assert.ok(Number.isInteger(m.ts), `ts is integer milliseconds: ${m.ts}`);
    assert.ok(m.ts >= t0 - 2000 && m.ts <= Date.now() + 2000, `ts ${m.ts} near now (${t0}..${Date.now()})`);
}

// Connect a, b (urls), subscribe both to the room (with receipts).
async function pair(urlA, urlB) {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const a = stomp(urlA, { token: ua.token, name: 'A' });
    const b = stomp(urlB, { token: ub.token, name: 'B' });
    await Promise.all([a.connect(), b.connect()]);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);
    return { room, ua, ub, a, b, sa, sb, dest };
}

async function chatBothWays(urlA, urlB) {
    const { room, ua, ub, a, b, sa, sb, dest } = await pair(urlA, urlB);
    assert.equal(a.ws.protocol, 'v12.stomp', 'subprotocol v12.stomp negotiated');
    const t0 = Date.now();
    await a.sendReceipt(room.id, 'hello from A');
    const mb = await sb.waitChat('hello from A');
    assertChat(mb, { room, user: ua, text: 'hello from A', t0 });
    const fb = sb.frames[sb.frames.length - 1];
    assert.equal(fb.headers['content-type'], 'application/json', 'MESSAGE content-type');
    assert.equal(fb.headers.destination, dest, 'MESSAGE destination');
    assert.equal(fb.headers.subscription, sb.id, 'MESSAGE subscription = the SUBSCRIBE id');
    assert.ok(fb.headers['message-id'], 'MESSAGE has a message-id');
    // the sender gets its own message too
    assertChat(await sa.waitChat('hello from A'), { room, user: ua, text: 'hello from A', t0 });

    await b.sendReceipt(room.id, 'hi A, B here — ünïcödé 👋');
    const ma = await sa.waitChat('hi A, B here — ünïcödé 👋');
    assertChat(ma, { room, user: ub, text: 'hi A, B here — ünïcödé 👋', t0 });
    assert.equal(sa.frames[sa.frames.length - 1].headers['content-type'], 'application/json');
    assert.notEqual(ma.id, mb.id, 'message ids differ');
}

test('two users chat through lighttpd (/ws/websocket)', { timeout: 30000 }, async () => {
    await chatBothWays(stack.wsUrl, stack.wsUrl);
});

test('two users chat directly on the relay port, and across lighttpd/relay', { timeout: 30000 }, async () => {
    await chatBothWays(stack.relayUrl(0), stack.relayUrl(0));
    await chatBothWays(stack.wsUrl, stack.relayUrl(0));
});

test('CONNECTED carries version 1.2, heart-beat, session, server, user-name = user id', { timeout: 20000 }, async () => {
    const u = await api.signup();
    for (const url of [stack.wsUrl, stack.relayUrl(0)]) {
        const c = stomp(url, { token: u.token });
        const f = await c.connect();
        assert.equal(f.command, 'CONNECTED');
        assert.equal(f.headers.version, '1.2');
        assert.match(f.headers['heart-beat'] ?? '', /^\d+,\d+$/, 'heart-beat: sx,sy');
        assert.ok(f.headers.session, 'session header');
        assert.ok(f.headers.server, 'server header');
        assert.equal(f.headers['user-name'], u.user.id, 'user-name is the user id');
        await c.close();
    }
    // two sessions get different session ids
    const c1 = stomp(stack.relayUrl(0), { token: u.token });
    const c2 = stomp(stack.relayUrl(0), { token: u.token });
    const [f1, f2] = await Promise.all([c1.connect(), c2.connect()]);
    assert.notEqual(f1.headers.session, f2.headers.session, 'distinct session ids');
});

test('forged type/sender/senderId in the SEND body are ignored; text is trimmed', { timeout: 20000 }, async () => {
    const { room, ua, a, sb } = await pair(stack.relayUrl(0), stack.relayUrl(0));
    const t0 = Date.now();
    await a.sendReceipt(room.id, 'forged?', { type: 'JOIN', sender: 'Mallory', senderId: 'mallory-id' });
    assertChat(await sb.waitFor((m) => m.message === 'forged?'), { room, user: ua, text: 'forged?', t0 });

    await a.sendReceipt(room.id, ' \t  padded text\twith inner  spaces \n  ');
    const m = await sb.waitFor((x) => x.type === 'CHAT');
    assertChat(m, { room, user: ua, text: 'padded text\twith inner  spaces', t0 });
});

test('50 messages sent quickly arrive in order at the other subscriber', { timeout: 30000 }, async () => {
    const { room, a, b, sb } = await pair(stack.wsUrl, stack.relayUrl(0));
    const receipts = [];
    for (let i = 0; i < 50; i++) receipts.push(a.sendReceipt(room.id, `m-${i}`));
    await Promise.all(receipts);
    const got = [];
    for (let i = 0; i < 50; i++) got.push((await sb.waitFor((m) => m.type === 'CHAT')).message);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `m-${i}`));
    assert.ok(b.isOpen, `B still connected; events: ${JSON.stringify(b.log.map((e) => [e.kind, e.frame?.headers ?? e.frame]))} readyState ${b.ws.readyState}`);
});

test('RECEIPT for SUBSCRIBE, SEND and DISCONNECT', { timeout: 20000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const c = stomp(stack.relayUrl(0), { token: u.token });
    await c.connect();
    c.client.subscribe(`/topic/room/${room.id}`, () => {}, { receipt: 'my-sub-receipt' });
    assert.equal((await c.receipt('my-sub-receipt')).headers['receipt-id'], 'my-sub-receipt');
    c.send(room.id, 'with receipt', {}, { receipt: 'my-send-receipt' });
    assert.equal((await c.receipt('my-send-receipt')).headers['receipt-id'], 'my-send-receipt');
    // stompjs sends DISCONNECT with the receipt header from disconnectHeaders and closes
    // the socket when the RECEIPT arrives (onDisconnect gets that RECEIPT).
    c.client.disconnectHeaders = { receipt: 'my-disconnect-receipt' };
    await withTimeout(c.client.deactivate(), 5000, 'deactivate (DISCONNECT receipt)');
    const d = c.log.find((e) => e.kind === 'DISCONNECTED');
    assert.ok(d, `RECEIPT for DISCONNECT seen; events: ${c.log.map((e) => e.kind).join(',')}`);
    assert.equal(d.frame.command, 'RECEIPT');
    assert.equal(d.frame.headers['receipt-id'], 'my-disconnect-receipt');
});

// 1000 code points, many of them multi-byte (2, 3 and 4 bytes in UTF-8; 😀 is two
// UTF-16 units in JS but one code point).
function codePoints(n) {
    const alphabet = ['a', 'é', '€', '😀', 'ß', '中'];
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[i % alphabet.length];
    assert.equal([...s].length, n);
    return s;
}

test('a 1000-code-point message passes; 1001 gets ERROR message:invalid', { timeout: 20000 }, async () => {
    const { room, ua, ub, a, sb } = await pair(stack.relayUrl(0), stack.relayUrl(0));
    const t0 = Date.now();
    const max = codePoints(1000);
    // surrounding whitespace does not count: the trimmed text is checked and delivered
    await a.sendReceipt(room.id, `  ${max}\n`);
    assertChat(await sb.waitFor((m) => m.type === 'CHAT'), { room, user: ua, text: max, t0 });

    const over = codePoints(1001);
    a.send(room.id, over, {}, { receipt: 'too-long-1001' });
    const err = await a.expectError('invalid', { receiptId: 'too-long-1001' });
    assert.equal(err.headers['receipt-id'], 'too-long-1001', 'ERROR carries the receipt-id of the failing SEND');
    assert.ok(err.body.length > 0, 'ERROR has a human-readable body');
    assert.ok(!a.receipts.has('too-long-1001'), 'no RECEIPT for it');

    // the over-long message was not delivered: B's next chat message is B's marker
    const b2 = stomp(stack.relayUrl(0), { token: ub.token, name: 'B2' });
    await b2.connect();
    await b2.sendReceipt(room.id, 'marker after 1001');
    const next = await sb.waitFor((m) => m.type === 'CHAT');
    assert.equal(next.message, 'marker after 1001', 'nothing delivered for the rejected message');
});

test('whitespace-only and empty messages get ERROR message:invalid', { timeout: 20000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    for (const text of [' \t\n  ', '']) {
        const c = stomp(stack.relayUrl(0), { token: u.token });
        await c.connect();
        c.send(room.id, text, {}, { receipt: 'ws-only' });
        const f = await c.expectError('invalid', { receiptId: 'ws-only' });
        assert.ok(f.body.length > 0, 'human-readable body');
        await c.close();
    }
});
