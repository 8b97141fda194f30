// Framing and limits (docs/STOMP.md), with raw `ws` for frames stompjs will not produce:
// frame size limit, frames split across / packed into WebSocket messages, header
// escaping, content-length, the SEND rate limit, no permessage-deflate, subprotocols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, raw, rawMember, useClients, frame, sleep } from './lib/client.mjs';

const stack = useStack();
useClients();
const api = new Api(stack);

const SEND_DEST = '/app/chat.sendMessage';
const chat = (roomId, message) => JSON.stringify({ roomId, message });

// A member connected and subscribed (raw): {room, u, r}.
const member = (url = stack.relayUrl(0), wsOptions) => rawMember(api, url, wsOptions);

const isChat = (text) => (f) => f.command === 'MESSAGE' && JSON.parse(f.body).type === 'CHAT' && JSON.parse(f.body).message === text;

test('a frame over 16 KiB: ERROR message:too-large, then close', { timeout: 15000 }, async () => {
    const { room, r } = await member();
    const f = frame('SEND', { destination: SEND_DEST, 'content-type': 'application/json' }, chat(room.id, 'x'.repeat(17 * 1024)));
    assert.ok(Buffer.byteLength(f) > 16384);
    r.sendRaw(f);
    const e = await r.expectError('too-large');
    assert.ok(e.body.trim().length > 0, 'human-readable body');
    await r.waitClosed();
});

test('an unterminated frame growing past 16 KiB over several messages: too-large, then close', { timeout: 15000 }, async () => {
    const { room, r } = await member();
    r.sendRaw(`SEND\ndestination:${SEND_DEST}\n\n{"roomId":"${room.id}","message":"`);
    for (let i = 0; i < 5; i++) r.sendRaw('y'.repeat(4096)); // 20 KiB, no NUL yet
    await r.expectError('too-large');
    await r.waitClosed();
});

test('a header block over 16 KiB: ERROR message:too-large, then close', { timeout: 15000 }, async () => {
    const u = await api.signup();
    const r = await raw(stack.relayUrl(0));
    await r.connect(u.token);
    r.sendRaw(`SUBSCRIBE\nid:1\ndestination:/topic/room/x\nx-pad:${'p'.repeat(17 * 1024)}\n\n\0`);
    await r.expectError('too-large');
    await r.waitClosed();
});

test('a malformed frame (header line without a colon): ERROR message:protocol, then close', { timeout: 15000 }, async () => {
    const u = await api.signup();
    const r = await raw(stack.relayUrl(0));
    await r.connect(u.token);
    r.sendRaw('SUBSCRIBE\nid:1\nthis line has no colon\ndestination:/topic/room/x\n\n\0');
    await r.expectError('protocol');
    await r.waitClosed();
});

// The contract does not name the slug for a frame before CONNECT; either reading is fair.
test('SEND before CONNECT: ERROR (unauthorized or protocol), then close', { timeout: 15000 }, async () => {
    const r = await raw(stack.relayUrl(0));
    r.sendFrame('SEND', { destination: SEND_DEST }, chat('x', 'hello'));
    const f = await r.expectError(undefined);
    assert.ok(['unauthorized', 'protocol'].includes(f.headers.message), `got message:${f.headers.message}`);
    await r.waitClosed();
});

test('a frame just under 16 KiB passes the size limit', { timeout: 15000 }, async () => {
    // 1000 code points written as JSON \u escapes (12 bytes each), padded with
    // insignificant JSON whitespace to ~16000 bytes in all: valid and within the limits
    const { room, r } = await member();
    const head = `SEND\ndestination:${SEND_DEST}\nreceipt:big\n\n`;
    let body = `{"roomId":${JSON.stringify(room.id)},"message":"${'\\ud83d\\ude00'.repeat(1000)}"}`;
    body = body.slice(0, -1) + ' '.repeat(16000 - Buffer.byteLength(head + body) - 1) + '}';
    const f = `${head}${body}\0`;
    assert.equal(Buffer.byteLength(f), 16000);
    r.sendRaw(f);
    await r.receipt('big');
    await r.find(isChat('😀'.repeat(1000)));
});

test('one frame split across several WebSocket messages', { timeout: 15000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(stack.relayUrl(0));
    // CONNECT split mid-command and mid-header
    const connect = frame('CONNECT', { 'accept-version': '1.2', host: 'x', passcode: u.token, 'heart-beat': '0,0' });
    for (const part of [connect.slice(0, 3), connect.slice(3, 20), connect.slice(20, -1), connect.slice(-1)]) r.sendRaw(part);
    assert.equal((await r.next()).command, 'CONNECTED');
    r.sendFrame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' });
    await r.receipt('sub');
    // SEND split at the blank line, inside the body (multi-byte text, split between
    // code points: each WebSocket text message is valid UTF-8) and before the NUL
    const text = 'split — ünïcödé 😀 frame';
    const send = frame('SEND', { destination: SEND_DEST, receipt: 'split' }, chat(room.id, text));
    const blank = send.indexOf('\n\n');
    const mid = send.indexOf('😀');
    const parts = [send.slice(0, blank + 1), send.slice(blank + 1, mid), send.slice(mid, -1), send.slice(-1)];
    for (const p of parts) r.sendRaw(p);
    await r.receipt('split');
    await r.find(isChat(text));
});

test('several frames in one WebSocket message', { timeout: 15000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(stack.relayUrl(0));
    await r.connect(u.token);
    r.sendRaw(
        frame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' }) +
        frame('SEND', { destination: SEND_DEST, receipt: 'm1' }, chat(room.id, 'one')) +
        '\n' + // a heart-beat EOL between frames
        frame('SEND', { destination: SEND_DEST, receipt: 'm2' }, chat(room.id, 'two')) +
        frame('SEND', { destination: SEND_DEST, receipt: 'm3' }, chat(room.id, 'three')));
    for (const id of ['sub', 'm1', 'm2', 'm3']) await r.receipt(id);
    const isMsg = (x) => x.command === 'MESSAGE' && JSON.parse(x.body).type === 'CHAT';
    const got = (await r.frames.waitCount(isMsg, 3)).map((f) => JSON.parse(f.body).message);
    assert.deepEqual(got, ['one', 'two', 'three']);
});

test('CONNECT and SUBSCRIBE in one WebSocket message', { timeout: 15000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(stack.relayUrl(0));
    r.sendRaw(frame('CONNECT', { 'accept-version': '1.2', host: 'x', passcode: u.token, 'heart-beat': '0,0' }) +
        frame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' }));
    assert.equal((await r.next()).command, 'CONNECTED');
    await r.receipt('sub');
});

test('header escaping round trip (\\c, \\n, \\\\ in header values)', { timeout: 15000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(stack.relayUrl(0));
    await r.connect(u.token);
    const subId = 'sub:1\nline two\\back';
    const receipt = 'rcpt:a\nb:c';
    // frame() escapes : as \c, newline as \n, backslash as \\
    const sub = frame('SUBSCRIBE', { id: subId, destination: `/topic/room/${room.id}`, receipt });
    assert.ok(sub.includes('id:sub\\c1\\nline two\\\\back\n'), sub);
    r.sendRaw(sub);
    const rc = await r.receipt(receipt); // parser unescapes what the relay sends
    assert.equal(rc.headers['receipt-id'], receipt);
    r.sendFrame('SEND', { destination: SEND_DEST, receipt: 'x\\cy' }, chat(room.id, 'escaped'));
    await r.receipt('x\\cy');
    const m = await r.find(isChat('escaped'));
    assert.equal(m.headers.subscription, subId, 'MESSAGE subscription header is the (unescaped) id');
});

test('a content-length body (multi-byte, followed by another frame in the same message)', { timeout: 15000 }, async () => {
    const { room, r } = await member();
    const text = 'länge — 長さ 😀';
    const body = chat(room.id, text);
    assert.notEqual(Buffer.byteLength(body), body.length, 'content-length counts bytes, not characters');
    r.sendRaw(frame('SEND', { destination: SEND_DEST, receipt: 'cl', 'content-type': 'application/json' }, body, { contentLength: true }) +
        frame('SEND', { destination: SEND_DEST, receipt: 'cl2' }, chat(room.id, 'after cl')));
    await r.receipt('cl');
    await r.receipt('cl2');
    await r.find(isChat(text));
    await r.find(isChat('after cl'));
});

test('SEND rate limit: 150 SENDs at once get some ERROR rate-limited; the session stays usable', { timeout: 30000 }, async (t) => {
    const { room, r } = await member();
    let batch = '';
    for (let i = 0; i < 150; i++) batch += frame('SEND', { destination: SEND_DEST, receipt: `rl-${i}` }, chat(room.id, `burst ${i}`));
    r.sendRaw(batch);
    const answers = await r.frames.waitCount((x) => (x.command === 'RECEIPT' || x.command === 'ERROR') &&
        (x.headers['receipt-id'] ?? '').startsWith('rl-'), 150, 10000, 'a RECEIPT or ERROR for each of 150 SENDs');
    const outcome = new Map(); // receipt id -> RECEIPT | ERROR frame
    for (const f of answers) {
        const id = f.headers['receipt-id'];
        assert.ok(!outcome.has(id), `one answer per SEND (${id} twice)`);
        outcome.set(id, f);
    }
    const stray = r.frames.seen.filter((x) => x.command === 'ERROR' && !(x.headers['receipt-id'] ?? '').startsWith('rl-'));
    assert.deepEqual(stray, [], 'every ERROR names its SEND by receipt-id');
    const errors = answers.filter((f) => f.command === 'ERROR');
    const receipts = answers.filter((f) => f.command === 'RECEIPT');
    assert.ok(errors.length >= 1, 'some SENDs are rate limited');
    for (const e of errors) assert.equal(e.headers.message, 'rate-limited', `ERROR ${JSON.stringify(e.headers)}`);
    // The bucket is shared with SUBSCRIBE/UNSUBSCRIBE: member() spent one token.
    assert.ok(receipts.length >= 99, `the burst (100, less the SUBSCRIBE) passes: ${receipts.length} accepted`);
    t.diagnostic(`${receipts.length} accepted, ${errors.length} rate-limited`);
    // accepted messages are delivered, in order; rejected ones are not
    const accepted = receipts.map((f) => Number(f.headers['receipt-id'].slice(3))).sort((x, y) => x - y);
    const isBurst = (x) => x.command === 'MESSAGE' && JSON.parse(x.body).type === 'CHAT' && JSON.parse(x.body).message.startsWith('burst ');
    const msgs = await r.frames.waitCount(isBurst, accepted.length, 5000, `delivery of ${accepted.length} accepted messages`);
    assert.deepEqual(msgs.map((m) => Number(JSON.parse(m.body).message.slice(6))), accepted);
    await sleep(100);
    assert.equal(r.frames.count(isBurst), accepted.length, 'no rejected message delivered');
    // the session survives: after a short pause (20/s sustained) a SEND passes again
    assert.ok(r.isOpen, 'still connected after rate-limited SENDs');
    await sleep(200);
    r.sendFrame('SEND', { destination: SEND_DEST, receipt: 'after' }, chat(room.id, 'after the burst'));
    await r.receipt('after');
    await r.find(isChat('after the burst'));
});

test('permessage-deflate is not negotiated when offered; the client works uncompressed', { timeout: 15000 }, async () => {
    // lws 4.1.6's inflater can be made to abort the process (docs/STOMP.md,
    // "Compression"), so the relay accepts no WebSocket extension.
    const { room, r } = await member(stack.relayUrl(0), { perMessageDeflate: true });
    assert.equal(r.ws.extensions, '', `Sec-WebSocket-Extensions: ${JSON.stringify(r.ws.extensions)}`);
    const text = 'compress me '.repeat(80);
    r.sendFrame('SEND', { destination: SEND_DEST, receipt: 'z' }, chat(room.id, text.trim()));
    await r.receipt('z');
    await r.find(isChat(text.trim()));
});

test('subprotocols: v12.stomp, v11.stomp and v10.stomp are accepted', { timeout: 15000 }, async () => {
    const u = await api.signup();
    for (const [proto, version] of [['v12.stomp', '1.2'], ['v11.stomp', '1.1'], ['v10.stomp', '1.0']]) {
        const r = await raw(stack.relayUrl(0), { protocols: [proto], name: proto });
        assert.equal(r.ws.protocol, proto);
        const f = await r.connect(u.token, { 'accept-version': version });
        assert.equal(f.headers.version, version, `CONNECT accept-version:${version}`);
        await r.close();
    }
    // through lighttpd as well
    const r = await raw(stack.wsUrl, { protocols: ['v12.stomp', 'v11.stomp', 'v10.stomp'] });
    assert.equal(r.ws.protocol, 'v12.stomp');
    assert.equal((await r.connect(u.token)).headers.version, '1.2');
});
