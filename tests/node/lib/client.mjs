// tests/node/lib/client.mjs - REST helpers (fetch), a STOMP client around the real
// @stomp/stompjs Client over `ws`, and a raw STOMP-over-`ws` client for frames stompjs
// will not produce.
//
// Every wait has a timeout (default 5 s) and fails with what was seen so far. Every
// client created here is registered and closed by closeAll(); useClients() runs it
// after each test, so no socket outlives its test.
import { afterEach } from 'node:test';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Client } from '@stomp/stompjs';

export const T = 5000; // default wait

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------
// REST
let userSeq = 0;
export function uniq(tag = 'x') {
    return `${tag}-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export class Api {
    // base: a base URL, or an object whose baseUrl is read at each call (a Stack, which
    // gets its URL only once its before() hook has run)
    constructor(base) { this.base = base; }

    get baseUrl() { return typeof this.base === 'string' ? this.base : this.base.baseUrl; }

    async req(method, path, { token, body, headers = {} } = {}) {
        const h = { ...headers };
        if (token) h.Authorization = `Bearer ${token}`;
        let payload;
        if (body !== undefined) {
            h['Content-Type'] = 'application/json';
            payload = typeof body === 'string' ? body : JSON.stringify(body);
        }
        const res = await fetch(this.baseUrl + path, {
            method, headers: h, body: payload, signal: AbortSignal.timeout(10000),
        });
        const text = await res.text();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        return { status: res.status, body: json, text, headers: res.headers };
    }

    async #expect(want, method, path, opts) {
        const r = await this.req(method, path, opts);
        if (r.status !== want) {
            throw new Error(`${method} ${path}: want HTTP ${want}, got ${r.status} ${r.text.slice(0, 300)}`);
        }
        return r.body;
    }

    // A fresh user: {user, token, email, password}.
    async signup(name) {
        userSeq += 1;
        const email = `${uniq('u')}-${userSeq}@example.test`.toLowerCase();
        const password = 'correct horse 42';
        name = name ?? `Ålice ✓ ${userSeq}`;
        const b = await this.#expect(201, 'POST', '/api/users', { body: { name, email, password } });
        if (!b || !b.user || typeof b.token !== 'string') throw new Error(`POST /api/users: bad body ${JSON.stringify(b)}`);
        return { user: b.user, token: b.token, email, password };
    }

    async login(email, password) {
        return this.#expect(200, 'POST', '/api/sessions', { body: { email, password } });
    }

    logout(token) { return this.req('DELETE', '/api/sessions/current', { token }); }

    createRoom(token, name) {
        return this.#expect(201, 'POST', '/api/rooms', { token, body: { name: name ?? `room ${uniq('r')}` } });
    }

    joinRoom(token, roomId) {
        return this.#expect(200, 'POST', `/api/rooms/${encodeURIComponent(roomId)}/members`, { token });
    }

    leaveRoom(token, roomId) {
        return this.#expect(204, 'DELETE', `/api/rooms/${encodeURIComponent(roomId)}/members/me`, { token });
    }

    // n users, a room created by the first, joined by the others: {room, users}.
    async roomWith(n) {
        const users = [];
        for (let i = 0; i < n; i++) users.push(await this.signup());
        const room = await this.createRoom(users[0].token);
        for (const u of users.slice(1)) await this.joinRoom(u.token, room.id);
        return { room, users };
    }
}

// ---------------------------------------------------------------------------------
// AsyncQueue: push() items; next()/waitFor() consume them in order, with a timeout.
export class AsyncQueue {
    constructor(name = 'queue') {
        this.name = name;
        this.items = [];   // not yet consumed
        this.seen = [];    // everything ever pushed
        this.waiters = [];
        this.watchers = new Map(); // check function -> timer
        this.observers = [];       // onItem() callbacks
    }

    // Call fn(item) for every item pushed from now on (timestamps, say).
    onItem(fn) { this.observers.push(fn); }

    push(x) {
        this.items.push(x);
        this.seen.push(x);
        for (const fn of this.observers) fn(x);
        this.#pump();
        for (const w of [...this.watchers.keys()]) w();
    }

    // Without consuming anything: wait until n items seen in all satisfy pred; resolves
    // with the first n of them, in order.
    waitCount(pred, n, timeout = T, what = `${n} matching items`) {
        const check = () => {
            const hits = this.seen.filter(pred);
            return hits.length >= n ? hits.slice(0, n) : null;
        };
        const now = check();
        if (now) return Promise.resolve(now);
        return new Promise((resolve, reject) => {
            const watcher = () => {
                const hits = check();
                if (!hits) return;
                this.watchers.delete(watcher);
                clearTimeout(timer);
                resolve(hits);
            };
            const timer = setTimeout(() => {
                this.watchers.delete(watcher);
                reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; ` +
                    `${this.seen.filter(pred).length} of ${n} matching, ${this.seen.length} seen, last: ` +
                    `${this.seen.slice(-5).map(short).join(' | ') || '(none)'}`));
            }, timeout);
            this.watchers.set(watcher, timer);
        });
    }

    #pump() {
        for (let w = 0; w < this.waiters.length;) {
            const waiter = this.waiters[w];
            const idx = this.items.findIndex(waiter.pred);
            if (idx >= 0) {
                const [item] = this.items.splice(0, idx + 1).slice(-1);
                this.waiters.splice(w, 1);
                clearTimeout(waiter.timer);
                waiter.resolve(item);
            } else {
                w++;
            }
        }
    }

    // First item (skipping and consuming earlier ones) for which pred holds.
    waitFor(pred, timeout = T, what = 'a matching item') {
        return new Promise((resolve, reject) => {
            const waiter = { pred, resolve };
            waiter.timer = setTimeout(() => {
                const i = this.waiters.indexOf(waiter);
                if (i >= 0) this.waiters.splice(i, 1);
                const recent = this.seen.slice(-8).map(short);
                reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; ` +
                    `${this.seen.length} seen, last: ${recent.join(' | ') || '(none)'}`));
            }, timeout);
            this.waiters.push(waiter);
            this.#pump();
        });
    }

    next(timeout = T) { return this.waitFor(() => true, timeout, 'the next item'); }

    // Take and return everything not yet consumed.
    drain() { return this.items.splice(0); }

    count(pred = () => true) { return this.seen.filter(pred).length; }

    cancel() {
        for (const w of this.waiters.splice(0)) clearTimeout(w.timer);
        for (const timer of this.watchers.values()) clearTimeout(timer);
        this.watchers.clear();
    }
}

function short(x) {
    const s = typeof x === 'string' ? x : JSON.stringify(x, (k, v) => (k === 'binaryBody' || k === '_binaryBody' ? undefined : v));
    return s && s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function frameSummary(f) {
    if (!f) return String(f);
    return `${f.command} ${JSON.stringify(f.headers)} ${JSON.stringify((f.body || '').slice(0, 200))}`;
}

// ---------------------------------------------------------------------------------
// Registry of open clients.
const open = new Set();

export async function closeAll() {
    const all = [...open];
    open.clear();
    await Promise.all(all.map((c) => c.close().catch(() => {})));
}

// Close every client after each test - and after each subtest, so a test with subtests
// creates its clients with { keep: true } and closes them itself. (Not in an after()
// hook: node 20 runs the top-level before/after hooks of a file concurrently.)
export function useClients() {
    afterEach(closeAll, { timeout: 15000 });
}

// ---------------------------------------------------------------------------------
// STOMP with @stomp/stompjs.
//
//   const c = stomp(url, { token });         // auth: 'passcode' (default) | 'bearer' | 'none'
//   const connected = await c.connect();      // CONNECTED frame; rejects on ERROR or close
//   const sub = await c.subscribeReceipt(`/topic/room/${id}`);
//   await c.sendReceipt(roomId, 'hello');
//   const msg = await sub.next();             // parsed MESSAGE body
//   await c.close();
export function stomp(url, opts = {}) { return new StompConn(url, opts); }

export function chatBody(roomId, message, extra = {}) {
    return JSON.stringify({ roomId, message, ...extra });
}

let receiptSeq = 0;
export const nextReceipt = (tag = 'r') => `${tag}-${++receiptSeq}`;

export class StompConn {
    constructor(url, { token, auth = 'passcode', connectHeaders = {}, heartbeat = [10000, 10000],
        protocols = ['v12.stomp'], wsOptions = {}, name = 'stomp', keep = false, socketFactory } = {}) {
        this.url = url;
        this.name = name;
        this.log = [];              // every event: {kind, frame}; helpers look, never consume
        this.listeners = new Set();
        this.errors = [];
        this.receipts = new Map();
        this.closeEvent = null;
        this.connectedFrame = null;
        this.subs = [];
        const headers = { ...connectHeaders };
        if (token !== undefined && auth === 'passcode') headers.passcode = token;
        if (token !== undefined && auth === 'bearer') headers.Authorization = `Bearer ${token}`;
        this.client = new Client({
            // socketFactory: something WebSocket-like instead of `ws` (e.g. a SockJS)
            webSocketFactory: () => {
                this.ws = socketFactory ? socketFactory() : new WebSocket(url, protocols, wsOptions);
                return this.ws;
            },
            connectHeaders: headers,
            reconnectDelay: 0,
            connectionTimeout: 0,
            heartbeatOutgoing: heartbeat[0],
            heartbeatIncoming: heartbeat[1],
            debug: () => {},
            onConnect: (frame) => { this.connectedFrame = frame; this.#event('CONNECTED', frame); },
            onDisconnect: (frame) => { this.#event('DISCONNECTED', frame); },
            onStompError: (frame) => { this.errors.push(frame); this.#event('ERROR', frame); },
            onUnhandledReceipt: (frame) => { this.receipts.set(frame.headers['receipt-id'], frame); this.#event('RECEIPT', frame); },
            onUnhandledMessage: (frame) => { this.#event('MESSAGE?', frame); },
            onUnhandledFrame: (frame) => { this.#event('FRAME?', frame); },
            onWebSocketClose: (evt) => { this.closeEvent = { code: evt?.code, reason: String(evt?.reason ?? '') }; this.#event('CLOSE', this.closeEvent); },
            onWebSocketError: () => {},
        });
        // keep: not closed by closeAll() (for a test with subtests: node runs afterEach
        // hooks after subtests too); the test closes it itself.
        if (!keep) open.add(this);
    }

    #event(kind, frame) {
        const e = { kind, frame };
        this.log.push(e);
        for (const l of [...this.listeners]) l(e);
    }

    get isOpen() { return !!this.ws && this.ws.readyState === WebSocket.OPEN && !this.closeEvent; }

    #describeLog() {
        return this.log.map((e) => `${e.kind}${e.kind === 'CLOSE' ? JSON.stringify(e.frame)
            : e.frame?.headers ? JSON.stringify(e.frame.headers) : ''}`).join(', ') || '(none)';
    }

    // Wait for an event {kind: CONNECTED|ERROR|RECEIPT|DISCONNECTED|CLOSE|MESSAGE?|FRAME?, frame}
    // (looking at everything seen so far, consuming nothing).
    waitEvent(pred, timeout, what) {
        const hit = this.log.find(pred);
        if (hit) return Promise.resolve(hit);
        return new Promise((resolve, reject) => {
            const listener = (e) => {
                if (!pred(e)) return;
                clearTimeout(timer);
                this.listeners.delete(listener);
                resolve(e);
            };
            const timer = setTimeout(() => {
                this.listeners.delete(listener);
                reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; events: ${this.#describeLog()}`));
            }, timeout);
            this.listeners.add(listener);
        });
    }

    // Activate and wait for CONNECTED. Rejects (err.frame = the ERROR) on ERROR or close.
    async connect(timeout = T) {
        this.client.activate();
        const e = await this.waitEvent((x) => ['CONNECTED', 'ERROR', 'CLOSE'].includes(x.kind), timeout, 'CONNECTED');
        if (e.kind === 'CONNECTED') return e.frame;
        const err = new Error(`${this.name}: CONNECT failed: ${e.kind === 'ERROR' ? frameSummary(e.frame) : `socket closed ${JSON.stringify(e.frame)}`}`);
        err.frame = e.kind === 'ERROR' ? e.frame : null;
        err.close = e.kind === 'CLOSE' ? e.frame : null;
        throw err;
    }

    // The next ERROR frame not yet returned by expectError (seen so far or to come);
    // fails unless its `message` header is `message` and, when receiptId is given, its
    // `receipt-id` is exactly receiptId (an ERROR for another frame, or one without the
    // receipt-id, fails at once); fails too if the socket closes without an ERROR.
    async expectError(message, { timeout = T, receiptId } = {}) {
        const what = `ERROR message:${message}${receiptId ? ` receipt-id:${receiptId}` : ''}`;
        const e = await this.waitEvent((x) => x.kind === 'ERROR' && !this.#claimed.has(x.frame) || x.kind === 'CLOSE',
            timeout, what);
        if (e.kind === 'CLOSE') {
            throw new Error(`${this.name}: socket closed ${JSON.stringify(e.frame)} without the ${what}; events: ${this.#describeLog()}`);
        }
        this.#claimed.add(e.frame);
        if (message !== undefined && e.frame.headers.message !== message) {
            throw new Error(`${this.name}: wanted ${what}, got ${frameSummary(e.frame)}`);
        }
        if (receiptId !== undefined && e.frame.headers['receipt-id'] !== receiptId) {
            throw new Error(`${this.name}: wanted ${what}, got an ERROR with receipt-id ` +
                `${JSON.stringify(e.frame.headers['receipt-id'])}: ${frameSummary(e.frame)}`);
        }
        return e.frame;
    }

    #claimed = new Set(); // ERROR frames expectError() has returned

    async waitClosed(timeout = T) {
        const e = await this.waitEvent((x) => x.kind === 'CLOSE', timeout, 'the socket to close');
        return e.frame;
    }

    // RECEIPT with receipt-id id; rejects (err.frame) on an ERROR carrying that receipt-id,
    // or on close.
    async receipt(id, timeout = T) {
        const e = await this.waitEvent((x) => (x.kind === 'RECEIPT' || x.kind === 'ERROR') && x.frame.headers['receipt-id'] === id ||
            x.kind === 'CLOSE', timeout, `RECEIPT receipt-id:${id}`);
        if (e.kind === 'RECEIPT') return e.frame;
        const err = new Error(`${this.name}: wanted RECEIPT ${id}, got ${e.kind === 'CLOSE' ? `close ${JSON.stringify(e.frame)}; errors: ${this.errors.map(frameSummary).join(' | ')}` : frameSummary(e.frame)}`);
        err.frame = e.kind === 'ERROR' ? e.frame : null;
        throw err;
    }

    subscribe(dest, headers = {}) {
        const sub = new Sub(this, dest);
        sub.handle = this.client.subscribe(dest, (frame) => sub.onMessage(frame), headers);
        sub.id = sub.handle.id;
        this.subs.push(sub);
        return sub;
    }

    // SUBSCRIBE with a receipt, resolved once the RECEIPT arrives.
    async subscribeReceipt(dest, headers = {}, timeout = T) {
        const receipt = nextReceipt('sub');
        const sub = this.subscribe(dest, { ...headers, receipt });
        await this.receipt(receipt, timeout);
        return sub;
    }

    publish(destination, body, headers = {}) {
        this.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
    }

    send(roomId, message, extra = {}, headers = {}) {
        this.publish('/app/chat.sendMessage', chatBody(roomId, message, extra), headers);
    }

    // SEND with a receipt; resolves the RECEIPT, rejects (err.frame) on ERROR.
    async sendReceipt(roomId, message, extra = {}, timeout = T) {
        const receipt = nextReceipt('send');
        this.send(roomId, message, extra, { receipt });
        return this.receipt(receipt, timeout);
    }

    // Graceful: DISCONNECT (stompjs waits for its RECEIPT), forced after 2 s.
    async close() {
        open.delete(this);
        for (const s of this.subs) s.queue.cancel();
        let timer;
        try {
            await Promise.race([
                this.client.deactivate(),
                new Promise((r) => { timer = setTimeout(r, 2000); }),
            ]);
        } finally {
            clearTimeout(timer);
        }
        if (this.ws && this.ws.readyState !== WebSocket.CLOSED) {
            await Promise.race([this.client.deactivate({ force: true }), sleep(1000)]);
            try { this.ws.terminate(); } catch { /* already gone */ }
        }
    }

    // Drop the TCP connection without DISCONNECT or close handshake (a killed tab).
    kill() {
        open.delete(this);
        for (const s of this.subs) s.queue.cancel();
        this.ws.terminate();
        return this.client.deactivate({ force: true }).catch(() => {});
    }
}

export class Sub {
    constructor(conn, dest) {
        this.conn = conn;
        this.dest = dest;
        this.frames = [];
        this.queue = new AsyncQueue(`${conn.name} ${dest}`);
    }

    onMessage(frame) {
        this.frames.push(frame);
        let body;
        try { body = JSON.parse(frame.body); } catch { body = { unparsable: frame.body }; }
        this.queue.push(body);
    }

    next(timeout = T) { return this.queue.next(timeout); }
    waitFor(pred, timeout = T, what) { return this.queue.waitFor(pred, timeout, what); }
    // A chat message with this exact text.
    waitChat(text, timeout = T) {
        return this.queue.waitFor((m) => m.type === 'CHAT' && m.message === text, timeout, `CHAT ${JSON.stringify(text)}`);
    }
    count(pred) { return this.queue.count(pred); }
    // Non-consuming: the first n messages for which pred holds (waiting for them).
    collect(pred, n, timeout = T, what) { return this.queue.waitCount(pred, n, timeout, what); }

    unsubscribe(headers = {}) { this.handle.unsubscribe(headers); }

    async unsubscribeReceipt(timeout = T) {
        const receipt = nextReceipt('unsub');
        this.handle.unsubscribe({ receipt });
        return this.conn.receipt(receipt, timeout);
    }
}

// ---------------------------------------------------------------------------------
// Raw STOMP over `ws`.

function escapeHeader(s) {
    return String(s).replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/:/g, '\\c');
}

function unescapeHeader(s) {
    return s.replace(/\\(.)/g, (m, c) => ({ '\\': '\\', r: '\r', n: '\n', c: ':' })[c] ?? m);
}

// A frame as a string. headers: object or array of [name, value]. escape: STOMP 1.2
// header escaping (never for CONNECT). contentLength: add a content-length header.
export function frame(command, headers = {}, body = '', { escape = command !== 'CONNECT' && command !== 'STOMP', contentLength = false } = {}) {
    const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
    let out = `${command}\n`;
    for (const [k, v] of pairs) out += `${escape ? escapeHeader(k) : k}:${escape ? escapeHeader(v) : v}\n`;
    if (contentLength) out += `content-length:${Buffer.byteLength(body)}\n`;
    return `${out}\n${body}\0`;
}

// Incremental parser of server frames (heart-beat EOLs counted, not returned).
export class FrameParser {
    constructor(onFrame, onHeartbeat = () => {}) {
        this.buf = Buffer.alloc(0);
        this.onFrame = onFrame;
        this.onHeartbeat = onHeartbeat;
    }

    push(data) {
        this.buf = Buffer.concat([this.buf, Buffer.isBuffer(data) ? data : Buffer.from(data)]);
        for (;;) {
            while (this.buf.length && (this.buf[0] === 0x0a || (this.buf[0] === 0x0d && this.buf[1] === 0x0a))) {
                this.buf = this.buf.subarray(this.buf[0] === 0x0d ? 2 : 1);
                this.onHeartbeat();
            }
            if (!this.buf.length) return;
            const headEnd = this.#headEnd();
            if (headEnd < 0) return;
            const head = this.buf.subarray(0, headEnd.start).toString('utf8').split(/\r?\n/);
            const command = head.shift();
            const headers = {};
            const raw = [];
            for (const line of head) {
                const i = line.indexOf(':');
                const k = unescapeHeader(line.slice(0, i));
                const v = unescapeHeader(line.slice(i + 1));
                raw.push([k, v]);
                if (!(k in headers)) headers[k] = v; // first occurrence wins
            }
            const bodyStart = headEnd.end;
            let bodyEnd;
            if (headers['content-length'] !== undefined) {
                bodyEnd = bodyStart + Number(headers['content-length']);
                if (this.buf.length < bodyEnd + 1) return;
            } else {
                bodyEnd = this.buf.indexOf(0, bodyStart);
                if (bodyEnd < 0) return;
            }
            const body = this.buf.subarray(bodyStart, bodyEnd).toString('utf8');
            this.buf = this.buf.subarray(bodyEnd + 1);
            this.onFrame({ command, headers, rawHeaders: raw, body });
        }
    }

    #headEnd() {
        const a = this.buf.indexOf('\n\n');
        const b = this.buf.indexOf('\r\n\r\n');
        if (a < 0 && b < 0) return -1;
        if (b >= 0 && (a < 0 || b < a)) return { start: b, end: b + 4 };
        return { start: a, end: a + 2 };
    }
}

// Open a raw WebSocket; resolves once open (rejects on error/timeout).
export async function raw(url, { protocols = ['v12.stomp'], wsOptions = {}, name = 'raw', timeout = T } = {}) {
    const r = new RawStomp(url, protocols, wsOptions, name);
    await r.opened(timeout);
    return r;
}

// A fresh user in a fresh room, connected raw at url and subscribed to the room (with
// its RECEIPT): {room, u, r}.
export async function rawMember(api, url, wsOptions = {}) {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(url, { wsOptions });
    await r.connect(u.token);
    r.sendFrame('SUBSCRIBE', { id: 's0', destination: `/topic/room/${room.id}`, receipt: 'sub-0' });
    await r.receipt('sub-0');
    return { room, u, r };
}

export class RawStomp {
    constructor(url, protocols, wsOptions, name) {
        this.name = name;
        this.frames = new AsyncQueue(`${name} frames`);
        this.heartbeats = 0;
        this.closeEvent = null;
        this.parser = new FrameParser((f) => this.frames.push(f), () => { this.heartbeats++; });
        this.ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...wsOptions });
        this.ws.on('message', (data) => this.parser.push(data));
        this.ws.on('error', (e) => { this.error = e; });
        this.closed = new Promise((resolve) => {
            this.ws.on('close', (code, reason) => {
                this.closeEvent = { code, reason: reason.toString() };
                resolve(this.closeEvent);
            });
        });
        open.add(this);
    }

    opened(timeout = T) {
        if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
        return withTimeout(new Promise((resolve, reject) => {
            this.ws.once('open', resolve);
            this.ws.once('close', () => reject(new Error(`${this.name}: WebSocket closed before open: ${this.error?.message ?? ''}`)));
        }), timeout, `${this.name}: WebSocket open`);
    }

    get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

    sendRaw(data) { this.ws.send(data); }
    sendFrame(command, headers = {}, body = '', opts = {}) { this.ws.send(frame(command, headers, body, opts)); }

    async connect(token, headers = {}, timeout = T) {
        const h = { 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0', ...headers };
        if (token !== undefined) h.passcode = token;
        this.sendFrame('CONNECT', h);
        const f = await this.next(timeout);
        if (f.command !== 'CONNECTED') throw new Error(`${this.name}: wanted CONNECTED, got ${frameSummary(f)}`);
        this.connected = f;
        return f;
    }

    // Consuming, in order: the next frame / the first frame for which pred holds (earlier
    // ones are dropped).
    next(timeout = T) { return this.frames.next(timeout); }
    waitFor(pred, timeout = T, what) { return this.frames.waitFor(pred, timeout, what); }
    // Non-consuming: the first frame ever received for which pred holds.
    find(pred, timeout = T, what = 'a matching frame') {
        return this.frames.waitCount(pred, 1, timeout, what).then((a) => a[0]);
    }

    // The first ERROR frame (non-consuming); asserts its message header.
    async expectError(message, timeout = T) {
        const f = await Promise.race([
            this.find((x) => x.command === 'ERROR', timeout, `ERROR message:${message}`),
            this.closed.then((c) => this.frames.seen.find((x) => x.command === 'ERROR') ??
                Promise.reject(new Error(`${this.name}: socket closed ${JSON.stringify(c)} without an ERROR (wanted message:${message})`))),
        ]);
        if (message !== undefined && f.headers.message !== message) {
            throw new Error(`${this.name}: wanted ERROR message:${message}, got ${frameSummary(f)}`);
        }
        return f;
    }

    // RECEIPT with receipt-id id (non-consuming); fails on an ERROR with that receipt-id.
    async receipt(id, timeout = T) {
        const f = await this.find((x) => (x.command === 'RECEIPT' || x.command === 'ERROR') && x.headers['receipt-id'] === id,
            timeout, `RECEIPT ${id}`);
        if (f.command !== 'RECEIPT') throw new Error(`${this.name}: wanted RECEIPT ${id}, got ${frameSummary(f)}`);
        return f;
    }

    waitClosed(timeout = T) { return withTimeout(this.closed, timeout, `${this.name}: server to close the socket`); }

    close() {
        open.delete(this);
        this.frames.cancel();
        try { this.ws.terminate(); } catch { /* gone */ }
        return Promise.resolve();
    }
}

export function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
    ]).finally(() => clearTimeout(timer));
}

// Poll cond() (sync or async) every `every` ms until truthy; rejects after timeout.
export async function until(cond, timeout = T, what = 'condition', every = 50) {
    const end = Date.now() + timeout;
    for (;;) {
        const v = await cond();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await sleep(every);
    }
}
