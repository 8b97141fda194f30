// tests/chaos/chaos.test.mjs - one scripted run of the whole chat while its parts die
// (docs/OPERATIONS.md, "What a kill -9 of each part means").
//
// Two relays behind lighttpd, chat-archiver (SQLite archive), 50 clients in 5 rooms
// (@stomp/stompjs over `ws`, and over sockjs-client with its websocket and
// xhr-streaming transports, all through lighttpd), each sending at a steady rate with
// a receipt and recovering the way the page does (www/js/timeline.js): SUBSCRIBE with
// x-since-offset/x-since-epoch after a reconnect, gaps filled from
// GET /api/rooms/{id}/messages?after=. Meanwhile: SIGKILL and restart of relay 0,
// SIGTERM and restart of relay 1, SIGKILL and restart of the archiver, SIGKILL and
// restart of Redis, and one client per room away for a while (more than RECOVER_MAX
// behind: it fills from the API), another for a moment (recovered). At the end every
// client must hold every stored message of its room exactly once and in offset order,
// every acknowledged message must be stored, the archive must hold every stored
// message exactly once, the online flags must match the clients still connected, and
// no process may be left behind. It prints the numbers and fails with the missing
// offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import SockJS from 'sockjs-client';
import { Client } from '@stomp/stompjs';
import { useStack } from '../node/lib/stack.mjs';
import { Api } from '../node/lib/client.mjs';

const ROOMS = 5;
const PER_ROOM = 10;
const SEND_MS = 36000;          // how long the clients send
const SEND_EVERY = 1500;        // ms between one client's messages (about 33/s in all)
const SETTLE_MS = 20000;        // after the last send: time to catch up
const KINDS = ['ws', 'ws', 'sockjs-websocket', 'sockjs-xhr-streaming', 'ws'];

const stack = useStack({
    relays: 2,
    archiver: true,
    // RECOVER_MAX small: a client away for a few seconds misses more than that, and
    // fills from the API instead of being recovered
    env: { PRESENCE_TTL: '3', HEARTBEAT_MS: '2000', SEND_RATE: '20', RECOVER_MAX: '20' },
});
const api = new Api(stack);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log('#', ...a);

// One client: a user in a room, connected through lighttpd, recovering like the page.
class ChaosClient {
    constructor(idx, user, room, kind) {
        Object.assign(this, { idx, user, room, kind });
        this.name = `c${idx}/${kind}`;
        this.epoch = null;
        this.last = 0;             // every stored message up to here is held
        this.offsets = [];         // offsets held, in the order they were taken
        this.ids = new Map();      // offset -> message id
        this.pending = new Map();  // offset -> body: arrived beyond a gap
        this.recoverUpTo = 0;      // messages up to this offset are being recovered
        this.filling = false;
        this.fillAgain = false;
        this.stats = { live: 0, recovered: 0, filled: 0, dup: 0, connects: 0, closes: [] };
        this.problems = [];
        this.acked = new Set();    // texts the server acknowledged (RECEIPT)
        this.refused = 0;          // SENDs answered with an ERROR
        this.sent = 0;
        this.seq = 0;
        this.stopped = false;
    }

    socket() {
        const base = stack.baseUrl;
        if (this.kind === 'ws') return new WebSocket(stack.wsUrl, ['v12.stomp']);
        const transport = this.kind.replace('sockjs-', '');
        return new SockJS(`${base}/ws`, null, { transports: [transport], timeout: 5000 });
    }

    start() {
        this.client = new Client({
            webSocketFactory: () => this.socket(),
            connectHeaders: { passcode: this.user.token },
            reconnectDelay: 250 + Math.floor(Math.random() * 500),
            connectionTimeout: 5000,
            heartbeatIncoming: 4000,
            heartbeatOutgoing: 4000,
            debug: () => {},
            onConnect: () => { this.stats.connects++; this.subscribe(); },
            onWebSocketClose: (e) => { if (!this.stopped) this.stats.closes.push(e?.code); },
            onStompError: (f) => {
                if (f.headers['receipt-id']?.startsWith('s-')) this.refused++;
                else this.problems.push(`ERROR ${f.headers.message}: ${f.body}`);
            },
        });
        this.client.activate();
    }

    get connected() { return !!this.client?.connected; }

    subscribe() {
        const receipt = `sub-${this.idx}-${this.stats.connects}`;
        const headers = { receipt };
        if (this.epoch !== null) {
            headers['x-since-offset'] = String(this.last);
            headers['x-since-epoch'] = this.epoch;
        }
        this.client.watchForReceipt(receipt, (f) => this.onSubscribed(f));
        this.client.subscribe(`/topic/room/${this.room.id}`, (f) => this.onMessage(f), headers);
    }

    onSubscribed(f) {
        const epoch = f.headers['x-epoch'];
        const newest = Number(f.headers['x-offset'] || 0);
        if (this.epoch !== null && epoch && epoch !== this.epoch) {
            this.problems.push(`epoch changed ${this.epoch} -> ${epoch}: the room's history was lost`);
        }
        if (this.epoch === null && epoch) this.epoch = epoch;
        this.recoverUpTo = f.headers['x-recovered'] === 'true' ? newest : 0;
        // not recovered (too many, or nothing known yet): what came meanwhile is filled
        if (newest > this.last && f.headers['x-recovered'] !== 'true') this.fill();
    }

    onMessage(frame) {
        const m = JSON.parse(frame.body);
        if (m.type !== 'CHAT') return;
        if (this.epoch === null) this.epoch = m.epoch;
        if (m.epoch !== this.epoch) {
            this.problems.push(`message ${m.offset} of epoch ${m.epoch}, held epoch ${this.epoch}`);
            return;
        }
        const src = m.offset <= this.recoverUpTo ? 'recovered' : 'live';
        if (m.offset <= this.last) { this.stats.dup++; return; } // (a replay overlapping a fill)
        if (m.offset === this.last + 1 && !this.filling) {
            this.take(m, src);
            this.drain();
        } else {
            this.pending.set(m.offset, { m, src });
            this.fill();
        }
    }

    take(m, src) {
        if (this.ids.has(m.offset)) { this.problems.push(`offset ${m.offset} taken twice`); return; }
        this.offsets.push(m.offset);
        this.ids.set(m.offset, m.id);
        this.last = m.offset;
        this.stats[src]++;
    }

    drain() {
        for (;;) {
            const p = this.pending.get(this.last + 1);
            if (!p) break;
            this.pending.delete(this.last + 1);
            this.take(p.m, p.src);
        }
        for (const k of this.pending.keys()) if (k <= this.last) { this.pending.delete(k); this.stats.dup++; }
    }

    // GET ?after=last until caught up with everything pending (retrying while the API
    // cannot answer: Redis may be down).
    async fill() {
        if (this.filling) { this.fillAgain = true; return; }
        this.filling = true;
        try {
            for (;;) {
                this.fillAgain = false;
                let r;
                try {
                    r = await api.req('GET', `/api/rooms/${this.room.id}/messages?after=${this.last}&limit=100`,
                        { token: this.user.token });
                } catch { r = { status: 0 }; }
                if (r.status !== 200) { await sleep(300); continue; }
                if (this.epoch === null) this.epoch = r.body.epoch;
                for (const m of r.body.messages) {
                    if (m.offset === this.last + 1) {
                        this.pending.delete(m.offset);
                        this.take(m, 'filled');
                    }
                }
                this.drain();
                const more = r.body.messages.length === 100 || this.pending.size > 0;
                if (!more && !this.fillAgain) break;
            }
        } finally {
            this.filling = false;
        }
    }

    sendOne() {
        if (!this.connected) return;
        const text = `${this.name} #${++this.seq}`;
        const receipt = `s-${this.idx}-${this.seq}`;
        this.client.watchForReceipt(receipt, () => this.acked.add(text));
        try {
            this.client.publish({
                destination: '/app/chat.sendMessage',
                body: JSON.stringify({ roomId: this.room.id, message: text }),
                headers: { receipt },
            });
            this.sent++;
        } catch { /* the socket went away meanwhile: not sent */ }
    }

    async stop() {
        this.stopped = true;
        await this.client.deactivate();
    }
}

// Every stored message of a room, from the API (oldest first).
async function history(room, token) {
    const out = [];
    let after = 0;
    for (;;) {
        const r = await api.req('GET', `/api/rooms/${room.id}/messages?after=${after}&limit=100`, { token });
        assert.equal(r.status, 200, r.text);
        out.push(...r.body.messages);
        if (r.body.messages.length < 100) return { messages: out, epoch: r.body.epoch, newest: r.body.offset };
        after = out[out.length - 1].offset;
    }
}

// Pids of every process of the stack (lighttpd's chat-api children included).
function stackPids(dir) {
    const pids = new Set();
    for (const f of readdirSync(dir)) {
        if (!/\.(pid|pidnum)$/.test(f)) continue;
        const p = Number(readFileSync(join(dir, f), 'utf8').trim());
        if (p > 0) pids.add(p);
    }
    for (const p of [...pids]) {
        try {
            for (const k of execFileSync('pgrep', ['-P', String(p)]).toString().split(/\s+/).filter(Boolean)) pids.add(Number(k));
        } catch { /* no children */ }
    }
    return pids;
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('chaos: relays, Redis killed and restarted under 50 clients; nothing lost, nothing twice', { timeout: 115000 }, async (t) => {
    // 50 users, 10 per room
    const rooms = [], clients = [];
    for (let r = 0; r < ROOMS; r++) {
        const owner = await api.signup(`chaos owner ${r}`);
        const room = await api.createRoom(owner.token, `chaos ${r}`);
        rooms.push(room);
        for (let i = 0; i < PER_ROOM; i++) {
            const u = i === 0 ? owner : await api.signup(`chaos ${r}.${i}`);
            if (i) await api.joinRoom(u.token, room.id);
            clients.push(new ChaosClient(clients.length, u, room, KINDS[i % KINDS.length]));
        }
    }
    for (const c of clients) c.start();
    const t0 = Date.now();
    while (clients.some((c) => !c.connected || c.epoch === null && c.stats.connects === 0)) {
        if (Date.now() - t0 > 20000) assert.fail(`clients not connected: ${clients.filter((c) => !c.connected).map((c) => c.name)}`);
        await sleep(100);
    }
    await sleep(500); // every SUBSCRIBE in place before the first message
    log(`50 clients connected in ${Date.now() - t0} ms`);

    // steady sending, each client on its own phase
    const start = Date.now();
    const timers = clients.map((c, i) => setTimeout(function tick() {
        if (Date.now() - start > SEND_MS) return;
        c.sendOne();
        timers[i] = setTimeout(tick, SEND_EVERY);
    }, (i * SEND_EVERY) / clients.length));

    const at = async (ms) => { const w = start + ms - Date.now(); if (w > 0) await sleep(w); };
    const step = async (ms, what, fn) => {
        await at(ms);
        const s = Date.now();
        await fn();
        log(`t=${((s - start) / 1000).toFixed(1)}s ${what} (${Date.now() - s} ms)`);
    };
    await step(4000, 'SIGKILL relay 0', () => stack.relayKill(0));
    await step(7000, 'restart relay 0', () => stack.relayRestart(0));
    await step(13000, 'SIGTERM relay 1, restart it', () => stack.relayRestart(1));
    await step(17000, 'SIGKILL the archiver', () => stack.archiverKill());
    await step(19000, 'restart the archiver', () => stack.archiverStart());
    await step(22000, 'SIGKILL Redis', () => stack.redisKill());
    await step(23500, 'restart Redis', () => stack.redisStart());
    const away = (k) => clients.filter((c) => c.idx % PER_ROOM === k);
    await step(26000, 'one client per room away for 6 s, another for 1 s', async () => {
        await Promise.all([...away(5), ...away(6)].map((c) => c.client.deactivate()));
    });
    await step(27000, 'the short absence ends', () => away(6).forEach((c) => c.client.activate()));
    await step(32000, 'the long absence ends', () => away(5).forEach((c) => c.client.activate()));
    await at(SEND_MS + 200);
    timers.forEach(clearTimeout);

    // one last message per room, from a connected client: every client learns the
    // newest offset from it (a gap at the very end is seen no other way)
    await sleep(1500);
    for (const room of rooms) {
        const c = clients.find((x) => x.room === room && x.connected);
        c?.sendOne();
    }

    // settle: every client caught up with its room's newest stored message
    const truth = new Map();
    const settleStart = Date.now();
    for (;;) {
        for (const room of rooms) truth.set(room.id, await history(room, clients.find((c) => c.room === room).user.token));
        const behind = clients.filter((c) => c.last < truth.get(c.room.id).newest || !c.connected);
        if (!behind.length || Date.now() - settleStart > SETTLE_MS) break;
        await sleep(500);
    }

    // ---- the numbers ----
    const sum = (f) => clients.reduce((a, c) => a + f(c), 0);
    const stored = [...truth.values()].reduce((a, h) => a + h.messages.length, 0);
    const lost = [];
    for (const c of clients) {
        const h = truth.get(c.room.id);
        const missing = h.messages.map((m) => m.offset).filter((o) => !c.ids.has(o));
        if (missing.length) lost.push(`${c.name} (room ${c.room.name}, last ${c.last}, connected ${c.connected}): missing offsets ${missing.slice(0, 30).join(',')}${missing.length > 30 ? ` ... (${missing.length})` : ''}`);
    }
    log(`sent ${sum((c) => c.sent)}, acknowledged ${sum((c) => c.acked.size)}, refused ${sum((c) => c.refused)}, stored ${stored}`);
    log(`held by clients: delivered live ${sum((c) => c.stats.live)}, recovered ${sum((c) => c.stats.recovered)}, filled from REST ${sum((c) => c.stats.filled)}, duplicates dropped ${sum((c) => c.stats.dup)}, lost ${lost.length ? 'SOME' : 0}`);
    log(`reconnects ${sum((c) => c.stats.connects - 1)}; close codes ${JSON.stringify(clients.flatMap((c) => c.stats.closes).reduce((a, k) => ({ ...a, [k]: (a[k] || 0) + 1 }), {}))}`);

    // ---- the checks ----
    const problems = clients.flatMap((c) => c.problems.map((p) => `${c.name}: ${p}`));
    assert.deepEqual(problems, [], 'no client saw a lost history or a duplicate offset');
    assert.deepEqual(lost, [], 'every client holds every stored message of its room');
    for (const c of clients) {
        const h = truth.get(c.room.id);
        assert.deepEqual(c.offsets, h.messages.map((m) => m.offset), `${c.name}: each stored message once, in offset order`);
        for (const m of h.messages) assert.equal(c.ids.get(m.offset), m.id, `${c.name}: offset ${m.offset} is the stored message`);
    }
    for (const h of truth.values()) {
        assert.deepEqual(h.messages.map((m) => m.offset), h.messages.map((_, i) => i + 1), 'history offsets 1..N, no gap');
        assert.equal(new Set(h.messages.map((m) => m.id)).size, h.messages.length, 'no message stored twice');
    }
    const storedTexts = new Set([...truth.values()].flatMap((h) => h.messages.map((m) => m.message)));
    const ackedLost = clients.flatMap((c) => [...c.acked].filter((x) => !storedTexts.has(x)));
    assert.deepEqual(ackedLost, [], 'every acknowledged message is stored');
    assert.ok(sum((c) => c.stats.connects - 1) > 0, 'the kills made clients reconnect');

    // ---- the archive: every stored message exactly once (the archiver catches up) ----
    const dbFile = stack.archiveUrl.replace(/^sqlite:/, '');
    const sql = (q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', '-separator', '|', dbFile, q], { timeout: 20000 })
        .toString().trim().split('\n').filter(Boolean).map((l) => l.split('|'));
    const archiveUntil = Date.now() + 15000;
    let archived;
    for (;;) {
        archived = Number(sql('SELECT count(*) FROM messages')[0][0]);
        if (archived >= stored || Date.now() > archiveUntil) break;
        await sleep(250);
    }
    log(`archived ${archived} of ${stored}`);
    for (const room of rooms) {
        const h = truth.get(room.id);
        const rows = sql(`SELECT "offset", id, epoch FROM messages WHERE room_id = '${room.id}' ORDER BY "offset"`);
        const have = new Set(rows.map((r) => Number(r[0])));
        const missing = h.messages.filter((m) => !have.has(m.offset)).map((m) => m.offset);
        assert.deepEqual(missing, [], `archive of room ${room.name}: missing offsets`);
        assert.deepEqual(rows.map((r) => [Number(r[0]), r[1], r[2]]), h.messages.map((m) => [m.offset, m.id, m.epoch]),
            `archive of room ${room.name}: each stored message once, the same id`);
    }
    assert.equal(archived, stored, 'the archive holds nothing else');

    // ---- presence: one client per room goes away; flags match who is connected ----
    const leaving = rooms.map((room) => clients.find((c) => c.room === room && c.idx % PER_ROOM === 3));
    await Promise.all(leaving.map((c) => c.stop()));
    const want = (c) => !leaving.includes(c);
    const until = Date.now() + 8000;
    let wrong;
    for (;;) {
        wrong = [];
        for (const room of rooms) {
            const r = await api.req('GET', `/api/rooms/${room.id}`, { token: clients.find((c) => c.room === room && want(c)).user.token });
            assert.equal(r.status, 200, r.text);
            for (const m of r.body.members) {
                const c = clients.find((x) => x.user.user.id === m.id);
                if (m.online !== (want(c) && c.connected)) wrong.push(`${c.name}: online ${m.online}, connected ${c.connected}`);
            }
        }
        if (!wrong.length || Date.now() > until) break;
        await sleep(250);
    }
    assert.deepEqual(wrong, [], 'online flags match the clients still connected');

    // ---- nothing left behind ----
    await Promise.all(clients.map((c) => c.stop()));
    const pids = stackPids(stack.dir);
    await stack.down();
    const left = [...pids].filter(alive);
    assert.deepEqual(left, [], 'no process of the stack is left');
    t.diagnostic(`chaos run took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
