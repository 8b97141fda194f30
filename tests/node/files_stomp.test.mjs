// FILE messages (docs/STOMP.md "Files"): a SEND with a fileId becomes a MESSAGE with
// "type":"FILE" and the File document, over a raw WebSocket through lighttpd and over
// SockJS (xhr-streaming) through lighttpd; it is stored in history (offset, epoch) and
// recovered like CHAT. A fileId the sender may not use - another room's, another
// user's, unknown, malformed - is an ERROR and nothing is published.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, raw, frame, useClients, sleep } from './lib/client.mjs';
import { sockjsStomp, useStreams } from './lib/sockjs.mjs';

const stack = useStack();
useClients();
useStreams();
const api = new Api(stack);
const SEND_DEST = '/app/chat.sendMessage';
const body = (f) => JSON.parse(f.body);
const isType = (t) => (f) => f.command === 'MESSAGE' && body(f).type === t;

async function upload(token, roomId, name, bytes) {
    const res = await fetch(`${stack.baseUrl}/api/rooms/${roomId}/files?name=${encodeURIComponent(name)}`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: bytes, signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return JSON.parse(text);
}

const text = (s) => Buffer.from(s, 'utf8');

async function member(u, room, name) {
    const r = await raw(stack.wsUrl, { name });
    await r.connect(u.token);
    r.sendFrame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' });
    await r.receipt('sub');
    return r;
}

test('a SEND with fileId: FILE message with the File to every member, stored in history', { timeout: 20000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const file = await upload(a.token, room.id, 'notes 메모 😀.txt', text('hello file\n'));
    const ra = await member(a, room, 'a');
    const rb = await member(b, room, 'b');
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'f1' }, JSON.stringify({ roomId: room.id, fileId: file.id, message: '  here it is  ', type: 'CHAT' }));
    await ra.receipt('f1');
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'f2' }, JSON.stringify({ roomId: room.id, fileId: file.id, message: '' }));
    await ra.receipt('f2');
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'f3' }, JSON.stringify({ roomId: room.id, fileId: file.id }));
    await ra.receipt('f3');
    const got = await rb.frames.waitCount(isType('FILE'), 3, 5000, '3 FILE');
    const msgs = got.map(body);
    assert.deepEqual(msgs.map((m) => m.message), ['here it is', '', '']);
    assert.deepEqual(msgs.map((m) => m.offset), [1, 2, 3]);
    for (const m of msgs) {
        assert.equal(m.senderId, a.user.id);
        assert.equal(m.roomId, room.id);
        assert.deepEqual(m.file, file, 'the File document exactly as the upload answered it');
    }
    const h = await api.req('GET', `/api/rooms/${room.id}/messages`, { token: b.token });
    assert.equal(h.status, 200);
    assert.deepEqual(h.body.messages, msgs, 'history holds exactly what was delivered');
    // 1001 code points with a file: invalid, like CHAT
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'long' }, JSON.stringify({ roomId: room.id, fileId: file.id, message: 'x'.repeat(1001) }));
    await ra.expectError('invalid');
});

test('a FILE message is recovered after a reconnect like CHAT', { timeout: 20000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const rb = await member(b, room, 'b');
    const ra = await member(a, room, 'a');
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'c1' }, JSON.stringify({ roomId: room.id, message: 'before' }));
    const first = body(await rb.frames.waitFor(isType('CHAT'), 5000, 'CHAT'));
    rb.close();
    await rb.waitClosed();
    const file = await upload(a.token, room.id, 'a.txt', text('while away'));
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'f1' }, JSON.stringify({ roomId: room.id, fileId: file.id, message: 'missed' }));
    await ra.receipt('f1');
    const rb2 = await raw(stack.wsUrl, { name: 'b2' });
    await rb2.connect(b.token);
    rb2.sendFrame('SUBSCRIBE', {
        id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub',
        'x-since-offset': String(first.offset), 'x-since-epoch': first.epoch,
    });
    const rc = await rb2.receipt('sub');
    assert.equal(rc.headers['x-recovered'], 'true');
    const m = body(await rb2.frames.waitFor(isType('FILE'), 5000, 'recovered FILE'));
    assert.equal(m.offset, first.offset + 1);
    assert.equal(m.message, 'missed');
    assert.deepEqual(m.file, file);
});

test('FILE over SockJS (xhr-streaming through lighttpd)', { timeout: 20000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const file = await upload(a.token, room.id, 'pic.bin', text('sockjs bytes'));
    const cb = sockjsStomp(stack.baseUrl, 'xhr-streaming', { token: b.token });
    await cb.connect();
    const sub = await cb.subscribeReceipt(`/topic/room/${room.id}`);
    const ca = sockjsStomp(stack.baseUrl, 'xhr-polling', { token: a.token });
    await ca.connect();
    await ca.sendReceipt(room.id, 'over sockjs', { fileId: file.id });
    const m = await sub.waitFor((x) => x.type === 'FILE', 5000, 'FILE');
    assert.equal(m.message, 'over sockjs');
    assert.deepEqual(m.file, file);
});

test('a fileId of another room, of another user, unknown or malformed: ERROR, nothing published', { timeout: 30000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const other = await api.createRoom(a.token);
    const fileOther = await upload(a.token, other.id, 'other-room.txt', text('x'));
    const fileB = await upload(b.token, room.id, 'bs.txt', text('y'));
    const watcher = await member(b, room, 'watch');
    const cases = [
        ['another room\'s file', fileOther.id, 'forbidden'],
        ['another user\'s file', fileB.id, 'forbidden'],
        ['an unknown file', 'NoSuchFile123456', 'not-found'],
        ['a malformed id', '../etc/passwd', 'invalid'],
        ['a number', 42, 'invalid'],
    ];
    for (const [what, fileId, slug] of cases) {
        const r = await raw(stack.wsUrl, { name: what });
        await r.connect(a.token);
        r.sendFrame('SEND', { destination: SEND_DEST, receipt: 'x' }, JSON.stringify({ roomId: room.id, fileId, message: what }));
        const e = await r.expectError(slug);
        assert.equal(e.headers['receipt-id'], 'x', what);
        await r.waitClosed();
    }
    // the owner can still send it: the file check, not a broken room, refused the above
    const ra = await raw(stack.wsUrl, { name: 'a' });
    await ra.connect(b.token);
    ra.sendFrame('SEND', { destination: SEND_DEST, receipt: 'ok' }, JSON.stringify({ roomId: room.id, fileId: fileB.id, message: 'mine' }));
    await ra.receipt('ok');
    const m = body(await watcher.frames.waitFor(isType('FILE'), 5000, 'FILE'));
    assert.equal(m.message, 'mine');
    await sleep(200);
    assert.equal(watcher.frames.count(isType('FILE')), 1, 'none of the refused SENDs was published');
    assert.equal(m.offset, 1, 'and none was stored');
});

test('a file of a room its uploader has left cannot be sent there', { timeout: 15000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const file = await upload(b.token, room.id, 'b.txt', text('z'));
    await api.leaveRoom(b.token, room.id);
    const r = await raw(stack.wsUrl, { name: 'b' });
    await r.connect(b.token);
    r.sendFrame('SEND', { destination: SEND_DEST, receipt: 'x' }, JSON.stringify({ roomId: room.id, fileId: file.id, message: 'm' }));
    await r.expectError('forbidden');
    void a;
    void frame;
});
