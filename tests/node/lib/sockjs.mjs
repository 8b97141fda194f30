// tests/node/lib/sockjs.mjs - SockJS helpers for the node tests: a stompjs client over
// the real sockjs-client with one forced transport, and protocol-level tools (plain
// requests, streaming responses with arrival times, SockJS frame parsing) for talking
// to /ws/{server}/{session}/{transport} by hand.
//
//   const c = sockjsStomp(stack.baseUrl, 'xhr-streaming', { token });  // a StompConn
//   await c.connect(); c.ws.transport === 'xhr-streaming'
//
//   const s = newSession(stack.baseUrl);               // random {server}/{session}
//   const st = openStream(s.url('xhr_streaming'));     // POST, streaming
//   await st.waitFrames((fs) => fs.length >= 1);       // ['o']
//   await s.send([connectFrame(token)]);               // xhr_send -> 204
//
// Every stream is registered and destroyed by closeStreams() (useStreams() runs it
// after each test), so no socket outlives its test.
import http from 'node:http';
import { afterEach } from 'node:test';
import { randomBytes } from 'node:crypto';
import SockJS from 'sockjs-client';
import { stomp, frame, T, withTimeout } from './client.mjs';

// sockjs-client's names for the transports we serve, and their URL segments.
export const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];

// A StompConn (client.mjs) whose socket is a SockJS limited to one transport. After
// connect(), conn.ws.transport names the transport sockjs-client actually used.
export function sockjsStomp(baseUrl, transport, opts = {}) {
    return stomp(null, {
        ...opts,
        socketFactory: () => new SockJS(`${baseUrl}/ws`, null, { transports: [transport], timeout: 10000 }),
    });
}

// One plain request; resolves {status, headers, text}. body: string or Buffer.
// localAddress: the source address (another loopback address plays another client).
export function request(url, { method = 'GET', headers = {}, body, timeout = 10000, localAddress } = {}) {
    return new Promise((resolve, reject) => {
        const h = { ...headers };
        if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
        const req = http.request(url, { method, headers: h, agent: false, localAddress }, (res) => {
            const parts = [];
            res.on('data', (d) => parts.push(d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
            res.on('error', reject);
        });
        req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeout} ms`)));
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

const streams = new Set();

export function closeStreams() {
    for (const s of streams) s.close();
    streams.clear();
}

export function useStreams() {
    afterEach(closeStreams);
}

// Kind of framing from the URL's last segment.
function kindOf(url) {
    const t = new URL(url).pathname.split('/').pop();
    return t === 'eventsource' ? 'eventsource' : t === 'xhr' ? 'xhr' : 'xhr_streaming';
}

// A receiving request (POST for xhr*, GET for eventsource) whose body is recorded as it
// arrives: st.chunks [{t, data}], st.text, st.frames() (SockJS frames, prelude removed),
// st.frameTimes() (arrival ms of each frame), st.ended (resolves at the end).
export class Stream {
    constructor(url, { headers = {}, localAddress } = {}) {
        this.url = url;
        this.kind = kindOf(url);
        this.chunks = [];
        this.text = '';
        this.res = null;
        this.waiters = new Set();
        this.t0 = Date.now();
        const method = this.kind === 'eventsource' ? 'GET' : 'POST';
        const h = { ...headers };
        if (method === 'POST') h['Content-Length'] = 0;
        this.req = http.request(url, { method, headers: h, agent: false, localAddress });
        this.headers = new Promise((resolve, reject) => {
            this.req.on('response', (res) => {
                this.res = res;
                // Decode as a stream: a UTF-8 character split between two TCP chunks
                // must not turn into replacement characters.
                res.setEncoding('utf8');
                res.on('data', (d) => {
                    this.chunks.push({ t: Date.now(), data: d });
                    this.text += d;
                    for (const w of [...this.waiters]) w();
                });
                resolve(res);
            });
            this.req.on('error', reject);
        });
        this.ended = new Promise((resolve) => {
            this.req.on('response', (res) => res.on('end', () => { this.done = true; resolve(this.text); for (const w of [...this.waiters]) w(); }));
            this.req.on('error', () => { this.done = true; resolve(this.text); });
            this.req.on('close', () => { this.done = true; resolve(this.text); });
        });
        this.req.end();
        streams.add(this);
    }

    // [{frame, t}] after the prelude: xhr* frames end in "\n"; eventsource events are
    // "data: <frame>\r\n\r\n". t is when the chunk that completed the frame arrived.
    timedFrames() {
        const out = [];
        let buf = '';
        let started = this.kind === 'xhr';
        for (const c of this.chunks) {
            buf += c.data;
            if (!started) {
                const pre = this.kind === 'eventsource' ? '\r\n' : `${'h'.repeat(2048)}\n`;
                if (buf.length < pre.length) continue;
                buf = buf.slice(pre.length);
                started = true;
            }
            for (;;) {
                if (this.kind === 'eventsource') {
                    const i = buf.indexOf('\r\n\r\n');
                    if (i < 0) break;
                    const ev = buf.slice(0, i);
                    buf = buf.slice(i + 4);
                    out.push({ frame: ev.startsWith('data: ') ? ev.slice(6) : `?${ev}`, t: c.t });
                } else {
                    const i = buf.indexOf('\n');
                    if (i < 0) break;
                    out.push({ frame: buf.slice(0, i), t: c.t });
                    buf = buf.slice(i + 1);
                }
            }
        }
        return out;
    }

    frames() { return this.timedFrames().map((f) => f.frame); }

    // Resolves frames() once pred(frames()) holds; rejects on timeout or when the
    // response ended without it.
    waitFrames(pred, timeout = T, what = 'frames') {
        return withTimeout(new Promise((resolve, reject) => {
            const check = () => {
                const fs = this.frames();
                if (pred(fs)) { this.waiters.delete(check); resolve(fs); return; }
                if (this.done) { this.waiters.delete(check); reject(new Error(`${this.url}: ended without ${what}; got ${JSON.stringify(fs).slice(0, 500)}`)); }
            };
            this.waiters.add(check);
            check();
        }), timeout, `${this.url}: ${what}; got ${JSON.stringify(this.frames()).slice(0, 500)}`);
    }

    close() {
        streams.delete(this);
        this.req.destroy();
    }
}

export function openStream(url, opts) { return new Stream(url, opts); }

// Random SockJS ids like sockjs-client's: a 3-digit server, an 8-character session.
export function newSession(baseUrl, server) {
    const srv = server ?? String(Math.floor(Math.random() * 1000)).padStart(3, '0');
    const id = randomBytes(6).toString('base64url').replace(/[^a-zA-Z0-9]/g, 'x').slice(0, 8);
    return {
        server: srv,
        id,
        url: (transport) => `${baseUrl}/ws/${srv}/${id}/${transport}`,
        // xhr_send: resolves the response; body: array of strings (JSON-encoded here)
        // or a raw string
        send(messages, headers = {}, { localAddress } = {}) {
            const body = typeof messages === 'string' ? messages : JSON.stringify(messages);
            return request(this.url('xhr_send'), { method: 'POST', body, headers: { 'Content-Type': 'text/plain', ...headers }, localAddress });
        },
    };
}

// The STOMP frames inside an a[...] SockJS frame (each a string), or null.
export function messagesOf(sockjsFrame) {
    if (!sockjsFrame.startsWith('a[')) return null;
    return JSON.parse(sockjsFrame.slice(1));
}

export function connectFrame(token, headers = {}) {
    return frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0', passcode: token, ...headers });
}
