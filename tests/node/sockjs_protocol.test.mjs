// SockJS at the protocol level (docs/STOMP.md, "STOMP over WebSocket and SockJS"; the
// SockJS 0.3 protocol as sockjs-client 1.x speaks it), with plain node http requests
// and `ws`, through lighttpd's port: /info, OPTIONS and CORS, the framing of each
// transport (o, a[...], h, c[...]), heart-beats at the configured interval, the
// xhr_streaming prelude and response limit, one receiver at a time (2010), closed
// sessions (3000), the session timeout, malformed xhr_send bodies and websocket
// messages. The stack runs with short SockJS timers (env below); the stack's
// sanitizer check on `down` must pass after all of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, sleep, FrameParser, frame, withTimeout } from './lib/client.mjs';
import { request, openStream, newSession, messagesOf, connectFrame, useStreams } from './lib/sockjs.mjs';

const HB = 300;           // SOCKJS_HEARTBEAT_MS
const DISCONNECT = 1000;  // SOCKJS_DISCONNECT_MS
const LIMIT = 8192;       // SOCKJS_RESPONSE_LIMIT
const stack = useStack({ env: {
    SOCKJS_HEARTBEAT_MS: String(HB), SOCKJS_DISCONNECT_MS: String(DISCONNECT),
    SOCKJS_RESPONSE_LIMIT: String(LIMIT),
} });
useClients();
useStreams();
const api = new Api(stack);
const ws = (p) => `${stack.baseUrl}${p}`;
const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
// The relay says application/javascript like sockjs-node; lighttpd 1.4.69 passes it on
// as text/javascript (RFC 9239's name).
const JS_TYPE = /^(application|text)\/javascript; charset=UTF-8$/;

// The chat texts of the CHAT MESSAGEs among STOMP frames (JOIN/LEAVE left out).
function chats(frames) {
    return frames.filter((f) => f.command === 'MESSAGE').map((f) => JSON.parse(f.body))
        .filter((m) => m.type === 'CHAT').map((m) => m.message);
}

// STOMP frames carried by the a[...] frames among fs.
function stompFrames(fs) {
    const out = [];
    const p = new FrameParser((f) => out.push(f));
    for (const f of fs) for (const m of messagesOf(f) ?? []) p.push(m);
    return out;
}

// A connected SockJS session over xhr_streaming: {s, st, user}.
async function connectedSession(user) {
    const u = user ?? await api.signup();
    const s = newSession(stack.baseUrl);
    const st = openStream(s.url('xhr_streaming'));
    await st.waitFrames((fs) => fs[0] === 'o', 5000, 'o');
    assert.equal((await s.send([connectFrame(u.token)])).status, 204);
    await st.waitFrames((fs) => stompFrames(fs).some((f) => f.command === 'CONNECTED'), 5000, 'CONNECTED');
    return { s, st, user: u };
}

test('GET /ws/info: shape, no-cache and CORS headers, random entropy', { timeout: 15000 }, async () => {
    const a = await request(ws('/ws/info'));
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'application/json; charset=UTF-8');
    assert.equal(a.headers['cache-control'], NO_CACHE);
    assert.equal(a.headers['access-control-allow-origin'], '*', 'no Origin: *');
    const info = JSON.parse(a.text);
    assert.deepEqual(Object.keys(info).sort(), ['cookie_needed', 'entropy', 'origins', 'websocket']);
    assert.equal(info.websocket, true);
    assert.equal(info.cookie_needed, false);
    assert.deepEqual(info.origins, ['*:*']);
    assert.ok(Number.isInteger(info.entropy) && info.entropy >= 0 && info.entropy < 2 ** 32, `entropy ${info.entropy}`);
    const b = await request(ws('/ws/info'), { headers: { Origin: 'http://chat.example' } });
    assert.equal(b.headers['access-control-allow-origin'], 'http://chat.example', 'Origin echoed');
    assert.equal(b.headers['access-control-allow-credentials'], 'true');
    assert.notEqual(JSON.parse(b.text).entropy, info.entropy, 'entropy differs between calls');
    const c = await request(ws('/ws/info'), { headers: { Origin: 'null' } });
    assert.equal(c.headers['access-control-allow-origin'], '*', 'Origin null: *');
});

test('OPTIONS on info and the transports: 204, CORS, methods, a year of caching', { timeout: 15000 }, async () => {
    const s = newSession(stack.baseUrl);
    for (const [url, methods] of [[ws('/ws/info'), 'OPTIONS, GET'], [s.url('xhr'), 'OPTIONS, POST'],
        [s.url('xhr_streaming'), 'OPTIONS, POST'], [s.url('xhr_send'), 'OPTIONS, POST'],
        [s.url('eventsource'), 'OPTIONS, GET']]) {
        const r = await request(url, { method: 'OPTIONS', headers: {
            Origin: 'http://chat.example', 'Access-Control-Request-Headers': 'content-type, x-custom' } });
        assert.equal(r.status, 204, url);
        assert.equal(r.text, '');
        assert.equal(r.headers['access-control-allow-origin'], 'http://chat.example', url);
        assert.equal(r.headers['access-control-allow-credentials'], 'true', url);
        assert.equal(r.headers['access-control-allow-methods'], methods, url);
        assert.equal(r.headers['access-control-allow-headers'], 'content-type, x-custom', url);
        assert.equal(r.headers['access-control-max-age'], '31536000', url);
        assert.equal(r.headers['cache-control'], 'public, max-age=31536000', url);
        const exp = Date.parse(r.headers.expires);
        assert.ok(exp > Date.now() + 364 * 86400e3 && exp < Date.now() + 366 * 86400e3, `Expires ${r.headers.expires}`);
    }
    // OPTIONS must not create a session
    assert.equal((await s.send(['x'])).status, 404);
});

test('greeting, 404 for what is not served, 405 for a wrong method, 400 for a non-upgrade', { timeout: 15000 }, async () => {
    const g = await request(ws('/ws'));
    assert.equal(g.status, 200);
    assert.equal(g.text, 'Welcome to SockJS!\n');
    assert.equal((await request(ws('/ws/'))).text, 'Welcome to SockJS!\n');
    const s = newSession(stack.baseUrl);
    for (const p of ['/ws/iframe.html', '/ws/iframe-1.6.1.html', '/ws/nope', '/ws/1/2/nope', '/ws/1/a.b/xhr',
        '/ws/1//xhr', `/ws/1/${'x'.repeat(65)}/xhr`]) {
        assert.equal((await request(ws(p), { method: 'POST', body: '' })).status, 404, p);
    }
    for (const t of ['htmlfile', 'jsonp']) assert.equal((await request(s.url(t))).status, 404, t);
    assert.equal((await request(s.url('jsonp_send'), { method: 'POST', body: 'd=%5B%22x%22%5D' })).status, 404);
    const r405 = await request(s.url('xhr_streaming'));
    assert.equal(r405.status, 405);
    assert.equal(r405.headers.allow, 'OPTIONS, POST');
    assert.equal((await request(s.url('eventsource'), { method: 'POST', body: '' })).status, 405);
    assert.equal((await request(s.url('xhr_send'))).status, 405);
    const r400 = await request(s.url('websocket'));
    assert.equal(r400.status, 400);
    assert.equal(r400.text, 'Can "Upgrade" only to "WebSocket".');
    // none of that created a session
    assert.equal((await s.send(['x'])).status, 404);
});

test('xhr_streaming: 2049-byte prelude, o, a[...] with STOMP frames, h every SOCKJS_HEARTBEAT_MS', { timeout: 20000 }, async () => {
    const u = await api.signup();
    const s = newSession(stack.baseUrl);
    const st = openStream(s.url('xhr_streaming'), { headers: { Origin: 'http://chat.example' } });
    const res = await st.headers;
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'], JS_TYPE);
    assert.equal(res.headers['access-control-allow-origin'], 'http://chat.example');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['cache-control'], NO_CACHE);
    await st.waitFrames((fs) => fs.length >= 1, 5000, 'o');
    assert.equal(st.text.slice(0, 2049), `${'h'.repeat(2048)}\n`, 'prelude: 2048 h and a newline');
    assert.equal(st.text.slice(2049, 2051), 'o\n', 'then the open frame');

    // STOMP over it: CONNECT (xhr_send) -> CONNECTED in an a[...] frame
    const r = await s.send([connectFrame(u.token)]);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const fs = await st.waitFrames((x) => x.some((f) => f.startsWith('a[')), 5000, 'a[...]');
    const [c] = stompFrames(fs);
    assert.equal(c.command, 'CONNECTED');
    assert.equal(c.headers['user-name'], u.user.id);

    // heart-beats: an "h" after each SOCKJS_HEARTBEAT_MS without other frames
    const t0 = Date.now();
    await st.waitFrames((x) => x.filter((f) => f === 'h').length >= 4, 5000, '4 heart-beats');
    const hs = st.timedFrames().filter((f) => f.frame === 'h').map((f) => f.t);
    for (let i = 1; i < hs.length; i++) {
        const gap = hs[i] - hs[i - 1];
        assert.ok(gap >= HB - 50 && gap <= HB + 250, `heart-beat gap ${gap} ms (want ~${HB})`);
    }
    assert.ok(hs[0] - t0 <= HB + 250, 'first heart-beat in time');
    assert.ok(st.frames().every((f) => f === 'o' || f === 'h' || f.startsWith('a[')), `frames: ${st.frames()}`);
});

test('xhr polling: one frame per response; an empty poll waits for a frame or the heart-beat', { timeout: 20000 }, async () => {
    const u = await api.signup();
    const s = newSession(stack.baseUrl);
    const p1 = await request(s.url('xhr'), { method: 'POST', body: '' });
    assert.equal(p1.status, 200);
    assert.match(p1.headers['content-type'], JS_TYPE);
    assert.equal(p1.text, 'o\n');
    const direct = await request(`http://127.0.0.1:${stack.relayPorts[0]}/ws/1/${s.id}x/xhr`, { method: 'POST', body: '' });
    assert.equal(direct.headers['content-type'], 'application/javascript; charset=UTF-8', 'on the relay itself');
    assert.equal(direct.text, 'o\n');
    let t = Date.now();
    const p2 = await request(s.url('xhr'), { method: 'POST', body: '' });
    const waited = Date.now() - t;
    assert.equal(p2.text, 'h\n');
    assert.ok(waited >= HB - 100 && waited <= HB + 400, `empty poll answered h after ${waited} ms`);
    // a poll waiting when the CONNECTED comes gets it at once
    const p3 = request(s.url('xhr'), { method: 'POST', body: '' });
    await sleep(50);
    t = Date.now();
    assert.equal((await s.send([connectFrame(u.token)])).status, 204);
    const r3 = await p3;
    assert.ok(Date.now() - t < HB, 'the waiting poll answered before the heart-beat');
    assert.match(r3.text, /^a\[.*\]\n$/);
    assert.equal(stompFrames([r3.text.trim()])[0].command, 'CONNECTED');
});

test('eventsource: \\r\\n prelude, data: <frame> events, heart-beats', { timeout: 20000 }, async () => {
    const u = await api.signup();
    const s = newSession(stack.baseUrl);
    const st = openStream(s.url('eventsource'));
    const res = await st.headers;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=UTF-8');
    await st.waitFrames((fs) => fs[0] === 'o', 5000, 'o');
    assert.equal(st.text.slice(0, 13), '\r\ndata: o\r\n\r\n');
    assert.equal((await s.send([connectFrame(u.token)])).status, 204);
    const fs = await st.waitFrames((x) => x.some((f) => f.startsWith('a[')) && x.filter((f) => f === 'h').length >= 2, 5000, 'CONNECTED and 2 h');
    assert.equal(stompFrames(fs)[0].command, 'CONNECTED');
    assert.match(st.text, /\r\n\r\ndata: h\r\n\r\n/);
});

test('websocket transport: o, a[...], h; a malformed message closes it with 1002', { timeout: 20000 }, async () => {
    const u = await api.signup();
    const s = newSession(stack.baseUrl);
    const url = s.url('websocket').replace(/^http/, 'ws');
    const sock = new WebSocket(url); // no subprotocol, like sockjs-client
    const msgs = [];
    const closed = new Promise((resolve) => sock.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    sock.on('message', (d) => msgs.push({ t: Date.now(), m: String(d) }));
    await withTimeout(new Promise((resolve, reject) => { sock.on('open', resolve); sock.on('error', reject); }), 5000, 'ws open');
    const until = async (pred, what) => {
        const end = Date.now() + 5000;
        while (!pred()) { if (Date.now() > end) throw new Error(`timed out: ${what}; got ${JSON.stringify(msgs.map((x) => x.m))}`); await sleep(20); }
    };
    await until(() => msgs.length >= 1, 'o');
    assert.equal(msgs[0].m, 'o');
    sock.send(JSON.stringify([connectFrame(u.token)]));
    await until(() => msgs.some((x) => x.m.startsWith('a[')), 'a[...]');
    assert.equal(stompFrames(msgs.map((x) => x.m))[0].command, 'CONNECTED');
    await until(() => msgs.filter((x) => x.m === 'h').length >= 2, 'two h');
    sock.send('this is not JSON');
    const c = await withTimeout(closed, 5000, 'close after a malformed message');
    assert.equal(c.code, 1002);
    assert.equal(c.reason, 'Broken framing.');
    // the relay serves on
    assert.equal((await request(ws('/ws/info'))).status, 200);
});

test('a second receiving request gets c[2010] and ends; the first stays intact', { timeout: 20000 }, async () => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const { s, st } = await connectedSession(ua);
    for (const t of ['xhr_streaming', 'xhr', 'eventsource']) {
        const second = openStream(s.url(t));
        await second.ended;
        assert.deepEqual(second.frames(), ['c[2010,"Another connection still open"]'], t);
    }
    // the first still streams: heart-beats, and a message from another user
    const before = st.frames().length;
    await st.waitFrames((fs) => fs.length >= before + 2, 5000, 'more frames on the first');
    assert.equal(st.done, undefined, 'first response still open');
    const sub = frame('SUBSCRIBE', { id: 's1', destination: `/topic/room/${room.id}`, receipt: 'r1' });
    assert.equal((await s.send([sub])).status, 204);
    await st.waitFrames((fs) => stompFrames(fs).some((f) => f.command === 'RECEIPT'), 5000, 'RECEIPT');
    const b = stomp(stack.wsUrl, { token: ub.token });
    await b.connect();
    await b.sendReceipt(room.id, 'to the first receiver');
    await st.waitFrames((fs) => stompFrames(fs).some((f) => f.command === 'MESSAGE' && f.body.includes('to the first receiver')), 5000, 'MESSAGE');
});

test('the STOMP session ends (ERROR): frames, then c[3000,"Go away!"]; later receivers get c[3000] too', { timeout: 20000 }, async () => {
    const s = newSession(stack.baseUrl);
    const st = openStream(s.url('xhr_streaming'));
    await st.waitFrames((fs) => fs[0] === 'o', 5000, 'o');
    assert.equal((await s.send([connectFrame('not-a-valid-token')])).status, 204);
    await st.ended;
    const fs = st.frames();
    assert.equal(fs.at(-1), 'c[3000,"Go away!"]', `last frame: ${fs.at(-1)}`);
    const errors = stompFrames(fs).filter((f) => f.command === 'ERROR');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].headers.message, 'unauthorized');
    for (const t of ['xhr_streaming', 'xhr', 'eventsource']) {
        const again = openStream(s.url(t));
        await again.ended;
        assert.deepEqual(again.frames(), ['c[3000,"Go away!"]'], t);
    }
    // a send to the closed session is accepted and dropped, like sockjs-node
    assert.equal((await s.send(['\n'])).status, 204);
});

test('session timeout: SOCKJS_DISCONNECT_MS after its receiver went away the session is gone (LEAVE, 404)', { timeout: 20000 }, async () => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const b = stomp(stack.wsUrl, { token: ub.token, name: 'watcher' });
    await b.connect();
    const sb = await b.subscribeReceipt(`/topic/room/${room.id}`);
    const { s, st } = await connectedSession(ua);
    assert.equal((await s.send([frame('SUBSCRIBE', { id: 's1', destination: `/topic/room/${room.id}`, receipt: 'r1' })])).status, 204);
    await st.waitFrames((fs) => stompFrames(fs).some((f) => f.command === 'RECEIPT'), 5000, 'RECEIPT');
    await sb.waitFor((m) => m.type === 'JOIN' && m.senderId === ua.user.id, 5000, 'JOIN');

    // the receiver goes away; a short gap is fine (polling clients have them all the time)
    st.close();
    const gone = Date.now();
    await sleep(DISCONNECT / 3);
    assert.equal((await s.send(['\n'])).status, 204, 'session still there shortly after');
    const leave = await sb.waitFor((m) => m.type === 'LEAVE' && m.senderId === ua.user.id, DISCONNECT + 3000, 'LEAVE');
    const after = Date.now() - gone;
    assert.ok(after >= DISCONNECT - 100, `LEAVE only after the timeout (${after} ms)`);
    assert.equal(leave.roomId, room.id);
    assert.equal((await s.send(['\n'])).status, 404, 'xhr_send after the timeout');
    // the id is free again: a new receiver opens a new session
    const again = openStream(s.url('xhr'));
    assert.deepEqual(await again.ended.then(() => again.frames()), ['o']);
});

test('xhr_streaming ends after SOCKJS_RESPONSE_LIMIT bytes; the next request carries on', { timeout: 20000 }, async () => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const { s, st } = await connectedSession(ua);
    assert.equal((await s.send([frame('SUBSCRIBE', { id: 's1', destination: `/topic/room/${room.id}` })])).status, 204);
    const b = stomp(stack.wsUrl, { token: ub.token });
    await b.connect();
    for (let i = 0; i < 40; i++) b.send(room.id, `fill ${i} ${'x'.repeat(200)}`);
    await b.sendReceipt(room.id, 'fill done');
    await withTimeout(st.ended, 5000, 'the streaming response to end at the limit');
    // frames sent in bulk: the write that crosses the limit may carry up to 32 KiB
    // (STREAM_CHUNK in sockjs_http.c); the exact end is checked by the next test
    assert.ok(st.text.length >= LIMIT && st.text.length < LIMIT + 32 * 1024, `ended after ${st.text.length} bytes`);
    // reconnect like sockjs-client: no 2010, the rest of the messages arrive
    const st2 = openStream(s.url('xhr_streaming'));
    await st2.waitFrames(() => stompFrames([...st.frames(), ...st2.frames()]).some((f) => f.body?.includes('fill done')), 5000, 'the rest');
    const bodies = chats(stompFrames([...st.frames(), ...st2.frames()]));
    assert.deepEqual(bodies, [...Array.from({ length: 40 }, (_, i) => `fill ${i} ${'x'.repeat(200)}`), 'fill done'], 'every message once, in order');
    assert.ok(!st2.frames().some((f) => f.startsWith('c[')), 'no close frame on the new receiver');
});

// One message at a time, each once the previous has arrived, so each write of the
// receiver carries one frame: the response must end with the frame that reaches
// SOCKJS_RESPONSE_LIMIT (bytes written, prelude and framing included), not later.
for (const transport of ['xhr_streaming', 'eventsource']) {
    test(`${transport} ends with the frame that reaches SOCKJS_RESPONSE_LIMIT; the next request carries on`, { timeout: 30000 }, async (t) => {
        const { room, users: [ua, ub] } = await api.roomWith(2);
        const s = newSession(stack.baseUrl);
        const st = openStream(s.url(transport));
        await st.waitFrames((fs) => fs[0] === 'o', 5000, 'o');
        const dest = `/topic/room/${room.id}`;
        assert.equal((await s.send([connectFrame(ua.token), frame('SUBSCRIBE', { id: 's1', destination: dest, receipt: 'sub' })])).status, 204);
        await st.waitFrames((fs) => stompFrames(fs).some((f) => f.command === 'RECEIPT'), 5000, 'RECEIPT sub');
        const b = stomp(stack.wsUrl, { token: ub.token });
        await b.connect();
        const bytes = () => Buffer.byteLength(st.text);
        let i = 0;
        while (!st.done && i < 200) {
            const msg = `step ${i} ${'y'.repeat(250)}`;
            await b.sendReceipt(room.id, msg);
            await st.waitFrames((fs) => chats(stompFrames(fs)).includes(msg), 5000, msg).catch((e) => {
                if (!st.done) throw e; // the response ended: the message waits for the next one
            });
            i++;
        }
        await withTimeout(st.ended, 5000, 'the response to end');
        const fs = st.frames();
        const last = fs.at(-1);
        const lastBytes = Buffer.byteLength(transport === 'eventsource' ? `data: ${last}\r\n\r\n` : `${last}\n`);
        t.diagnostic(`${transport}: ended after ${bytes()} bytes (limit ${LIMIT}), last frame ${lastBytes} bytes, ${i} messages`);
        assert.ok(bytes() >= LIMIT, `not before the limit (${bytes()} bytes)`);
        // what came before the last frame was under the limit (give or take an "h" frame
        // written with it)
        assert.ok(bytes() - lastBytes < LIMIT + 8, `ended ${bytes() - lastBytes - LIMIT} bytes past the limit before its last frame`);
        assert.ok(!fs.some((f) => f.startsWith('c[')), 'no close frame: the session goes on');
        // the next receiving request: no 2010, the session carries on
        const st2 = openStream(s.url(transport));
        await b.sendReceipt(room.id, 'after the limit');
        await st2.waitFrames((x) => chats(stompFrames(x)).includes('after the limit'), 5000, 'the next message');
        assert.ok(!st2.frames().some((f) => f.startsWith('c[')), 'no close frame on the new receiver');
        const all = chats(stompFrames([...fs, ...st2.frames()]));
        assert.deepEqual(all, [...Array.from({ length: i }, (_, k) => `step ${k} ${'y'.repeat(250)}`), 'after the limit'], 'every message once, in order');
    });
}

test('malformed xhr_send bodies get the protocol\'s answers; the session and the relay go on', { timeout: 30000 }, async () => {
    const { s, st, user } = await connectedSession();
    const cases = [
        ['', 500, 'Payload expected.'],
        ['not json', 500, 'Broken JSON encoding.'],
        ['["unterminated', 500, 'Broken JSON encoding.'],
        ['["a"] trailing', 500, 'Broken JSON encoding.'],
        ['{"a":1}', 500, 'Payload expected.'],
        ['[1,2]', 500, 'Payload expected.'],
        ['"a string"', 500, 'Payload expected.'],
        ['["ok", null]', 500, 'Payload expected.'],
        ['["\\ud800 lone surrogate is fine, \\x is not"]', 500, 'Broken JSON encoding.'],
        [JSON.stringify(['x'.repeat(200 * 1024)]), 413, null],        // raw body over SOCKJS_MAX_BODY
        [`[${Array(9).fill(JSON.stringify('y'.repeat(8 * 1024))).join(',')}]`, 413, null], // decoded over MAX_PENDING
    ];
    for (const [body, status, text] of cases) {
        const r = await request(s.url('xhr_send'), { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
        assert.equal(r.status, status, `body ${JSON.stringify(body.slice(0, 40))}`);
        if (text) assert.equal(r.text, text, `body ${JSON.stringify(body.slice(0, 40))}`);
    }
    // an unknown session
    assert.equal((await newSession(stack.baseUrl).send(['x'])).status, 404);
    // none of it reached STOMP: the session is still open and works
    assert.ok(!stompFrames(st.frames()).some((f) => f.command === 'ERROR'), 'no ERROR frame');
    assert.equal((await s.send([frame('SEND', { destination: '/nowhere', receipt: 'r-after' }, 'x')])).status, 204);
    const fs = await st.waitFrames((x) => stompFrames(x).some((f) => f.command === 'ERROR'), 5000, 'an answer from STOMP');
    assert.equal(stompFrames(fs).find((f) => f.command === 'ERROR').headers.message, 'not-found');
    // and others are served
    const c = stomp(stack.wsUrl, { token: user.token });
    await c.connect();
    assert.equal((await request(ws('/ws/info'))).status, 200);
});

test('one xhr_send body may carry several frames, and one frame may span bodies', { timeout: 20000 }, async () => {
    const { room, users: [ua] } = await api.roomWith(1);
    const { s, st } = await connectedSession(ua);
    const dest = `/topic/room/${room.id}`;
    const send = (m, r) => frame('SEND', { destination: '/app/chat.sendMessage', receipt: r }, JSON.stringify({ roomId: room.id, message: m }));
    const sub = frame('SUBSCRIBE', { id: 's1', destination: dest, receipt: 'sub' });
    assert.equal((await s.send([sub, send('one', 'r1'), send('two', 'r2')])).status, 204);
    const three = send('three', 'r3');
    assert.equal((await s.send([three.slice(0, 10)])).status, 204);
    assert.equal((await s.send([three.slice(10, 30), three.slice(30)])).status, 204);
    const fs = await st.waitFrames((x) => chats(stompFrames(x)).length >= 3, 5000, '3 chat MESSAGEs');
    assert.deepEqual(chats(stompFrames(fs)), ['one', 'two', 'three']);
    assert.deepEqual(stompFrames(fs).filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id']), ['sub', 'r1', 'r2', 'r3']);
});

test('concurrent xhr_send bodies are held while STOMP waits on Redis: input stays under MAX_PENDING', { timeout: 30000 }, async () => {
    // 12 bodies of 6 SENDs (~1 KB each) while Redis is paused: ~72 KB, over MAX_PENDING
    // (64 KB) if they were all fed to the STOMP parser at once (ERROR too-large); held
    // and fed one after the other once Redis answers, every SEND gets its RECEIPT.
    const { room, users: [ua] } = await api.roomWith(1);
    const { s, st } = await connectedSession(ua);
    const text = 'z'.repeat(950);
    const bodies = Array.from({ length: 12 }, (_, b) => Array.from({ length: 6 }, (_, k) =>
        frame('SEND', { destination: '/app/chat.sendMessage', receipt: `h-${b}-${k}` },
            JSON.stringify({ roomId: room.id, message: `${b}.${k} ${text}` }))));
    // Redis stalls for a second: the first SEND waits, the other bodies arrive meanwhile.
    await stack.redis('CLIENT', 'PAUSE', '1000', 'ALL');
    const answers = await Promise.all(bodies.map((b) => s.send(b)));
    assert.deepEqual(answers.map((r) => r.status), Array(12).fill(204));
    const fs = await st.waitFrames((x) => stompFrames(x).filter((f) => f.command === 'RECEIPT' || f.command === 'ERROR').length >= 72 ||
        stompFrames(x).some((f) => f.command === 'ERROR'), 15000, '72 RECEIPTs');
    const got = stompFrames(fs);
    assert.deepEqual(got.filter((f) => f.command === 'ERROR').map((f) => f.headers.message), [], 'no ERROR');
    const ids = got.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id']);
    assert.equal(ids.length, 72);
    for (let b = 0; b < 12; b++) {
        const mine = ids.filter((id) => id.startsWith(`h-${b}-`));
        assert.deepEqual(mine, Array.from({ length: 6 }, (_, k) => `h-${b}-${k}`), `body ${b} in order`);
    }
});
