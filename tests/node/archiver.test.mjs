// chat-archiver (docs/ARCHIVE.md), the same tests on both archive back ends: SQLite
// (a file in the stack's directory) and PostgreSQL 15 (a private cluster from
// tests/pg.sh). Real relay, real Redis, the real archiver; the archive is read back with
// the sqlite3 / psql command-line clients.
//
//   - 10,000 messages sent through the relay are archived exactly once while the archiver
//     is SIGKILLed twice with a batch read but not acknowledged (restarted once under its
//     own name: it re-reads its pending entries; once under another name: it takes the dead
//     consumer's entries over with XAUTOCLAIM), part of them sent while it is down; the
//     archived bodies are byte for byte what Redis history holds
//   - a re-delivered feed entry is not stored twice
//   - retention deletes messages older than ARCHIVE_RETENTION_DAYS, keeps the rest
//   - Redis restarted (and emptied) while the archiver runs: it recreates its group and
//     archives what comes next
//   - (PostgreSQL) the database stopped while messages are sent: nothing acknowledged,
//     everything archived once it is back
//   - GET /metrics from loopback (promtool-clean, counts agree with the archive); 403 JSON
//     over a non-loopback address
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { useStack, ROOT } from './lib/stack.mjs';
import { Api, raw, frame, useClients, until, sleep } from './lib/client.mjs';
import { scrape, promtoolCheck } from './lib/metrics.mjs';

const PSQL = '/usr/lib/postgresql/15/bin/psql';
const FEED = 'chat:archive';

function nonLoopbackV4() {
    for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
    }
    return null;
}
const V4 = nonLoopbackV4();

// RESP integer / bulk replies of stack.redis() -> number / string.
// The first integer of a RESP reply (XPENDING's summary starts with the count).
const respInt = (s) => Number(/:(-?\d+)\r\n/.exec(s)?.[1] ?? NaN);

// One stack for both back ends: the archiver starts on SQLite (a file in the stack's
// directory); the PostgreSQL suite stops it, empties the feed and starts it again on a
// private cluster.
const env = {
    SEND_BURST: '1000000', SEND_RATE: '1000000',
    ARCHIVE_BATCH: '500', ARCHIVE_RETENTION_DAYS: '30', ARCHIVE_EXPIRE_SECONDS: '1',
    ARCHIVE_CLAIM_IDLE_MS: '1000', ARCHIVER_NAME: 'archiver-a',
    METRICS_HOST: V4 ? '0.0.0.0' : '127.0.0.1',
};
const stack = useStack({ relays: 1, apiProcs: 1, archiver: true, env });
useClients();
const api = new Api(stack);
const PG_SH = join(ROOT, 'tests', 'pg.sh');

function suite(backend) {
    describe(backend, () => {
        let pgDir = null;
        let archiveUrl = null;
        before(async () => {
            if (backend === 'sqlite') {
                archiveUrl = stack.archiveUrl;
                return;
            }
            pgDir = mkdtempSync(join(tmpdir(), 'chat-pg-'));
            archiveUrl = execFileSync(PG_SH, ['start', pgDir], { env: { ...process.env, PG_FAST: '1' }, timeout: 60000 })
                .toString().trim().split('\n').pop();
            await stack.archiverStop();
            await stack.redis('DEL', FEED);
            stack.opts.env.ARCHIVER_NAME = 'archiver-a';
            stack.setEnv('ARCHIVE_URL', archiveUrl);
            await stack.archiverStart();
        }, { timeout: 90000 });
        if (backend === 'postgresql') {
            after(async () => {
                await stack.archiverStop(); // before its database goes
                execFileSync(PG_SH, ['stop', pgDir], { timeout: 30000 });
                rmSync(pgDir, { recursive: true, force: true });
            }, { timeout: 40000 });
        }

        // One SQL query against the stack's archive; rows of '|'-separated columns.
        function sql(q) {
            const url = archiveUrl;
            const out = backend === 'sqlite'
                ? execFileSync('sqlite3', ['-cmd', '.timeout 5000', url.replace(/^sqlite:/, ''), q], { timeout: 20000 })
                : execFileSync(PSQL, [url, '-At', '-v', 'ON_ERROR_STOP=1', '-c', q], { timeout: 20000 });
            return out.toString().trim().split('\n').filter(Boolean).map((l) => l.split('|'));
        }
        const count = (where = 'TRUE') => Number(sql(`SELECT count(*) FROM messages WHERE ${where}`)[0][0]);
        const metrics = () => scrape(`http://127.0.0.1:${stack.archiverMetricsPort}/metrics`);
        const pending = async () => respInt(await stack.redis('XPENDING', FEED, 'archiver'));

        // A stored message in the relay's format, for entries written to the feed directly.
        const feedBody = (id, roomId, offset, ts, message = `injected ${id}`) => JSON.stringify({
            type: 'CHAT', id, roomId, senderId: 'u-inj', sender: 'Injected', message, ts, offset, epoch: 'e-inj',
        });

        // n SENDs in one write, a RECEIPT on the last; resolves when it came.
        async function sendBurst(r, roomId, tag, from, n) {
            let out = '';
            for (let k = from; k < from + n; k++) {
                const h = { destination: '/app/chat.sendMessage' };
                if (k === from + n - 1) h.receipt = `${tag}-${k}`;
                out += frame('SEND', h, JSON.stringify({ roomId, message: `${tag} 메시지 ${k} hello` }));
            }
            r.sendRaw(out);
            await r.receipt(`${tag}-${from + n - 1}`, 30000);
        }

        // SIGKILL the archiver while it holds a batch it has read and not acknowledged
        // (it is working through a backlog). Returns the entries pending at its death.
        async function killMidBatch() {
            for (let attempt = 0; attempt < 5; attempt++) {
                const t0 = Date.now();
                while (Date.now() - t0 < 10000) {
                    if (await pending() > 0) {
                        await stack.archiverKill();
                        const p = await pending();
                        if (p > 0) return p;
                        break; // acknowledged just before the kill: once more
                    }
                }
                await stack.archiverStart();
            }
            throw new Error('never caught the archiver in the middle of a batch');
        }

        test('10,000 messages through the relay, archiver SIGKILLed mid-batch twice and down for a while: each archived exactly once', { timeout: 120000 }, async () => {
            const N_ROOMS = 4, PER_ROOM = 2500;
            const { room, users: [u] } = await api.roomWith(1);
            const rooms = [room];
            for (let i = 1; i < N_ROOMS; i++) rooms.push(await api.createRoom(u.token));
            const r = await raw(stack.relayUrl(0), { name: 'sender' });
            await r.connect(u.token);
            const sent = rooms.map(() => 0);
            // Sends `n` more to every room (in bursts of 250).
            const sendMore = async (n) => {
                for (let i = 0; i < N_ROOMS; i++) {
                    for (let left = n; left > 0;) {
                        const k = Math.min(250, left);
                        await sendBurst(r, rooms[i].id, `r${i}`, sent[i] + 1, k);
                        sent[i] += k;
                        left -= k;
                    }
                }
            };
            await sendMore(500); // archived as they come
            // A backlog while it is stopped; then the 1st kill, mid-batch. Restarted under
            // its own name, it re-reads its pending entries.
            await stack.archiverStop();
            await sendMore(1000);
            await stack.archiverStart();
            assert.ok(await killMidBatch() > 0);
            await stack.archiverStart();
            await until(() => count() >= 2000, 30000, 'progress after the restart', 100);
            // 2nd kill, mid-batch again; more messages while it is down; restarted under
            // another name, it takes the dead consumer's entries over (XAUTOCLAIM).
            await stack.archiverStop();
            await sendMore(500);
            await stack.archiverStart();
            assert.ok(await killMidBatch() > 0);
            const left = PER_ROOM - sent[0];
            assert.ok(left > 0, `sent ${sent[0]} per room already`);
            await sendMore(left); // all of these while the archiver is down
            assert.deepEqual(sent, rooms.map(() => PER_ROOM));
            assert.ok(count() < N_ROOMS * PER_ROOM, 'some messages wait for the archiver');
            stack.opts.env.ARCHIVER_NAME = 'archiver-b';
            await stack.archiverStart();
            await until(() => count() >= N_ROOMS * PER_ROOM, 60000, 'all 10,000 archived', 250);
            await until(async () => await pending() === 0, 20000, 'nothing pending', 100);
            await sleep(300);
            assert.equal(count(), N_ROOMS * PER_ROOM, 'no extra rows');
            const ids = sql('SELECT count(DISTINCT id) FROM messages')[0][0];
            assert.equal(Number(ids), N_ROOMS * PER_ROOM);
            for (const rm of rooms) {
                const [[n, distinct, lo, hi]] = sql(`SELECT count(*), count(DISTINCT "offset"), min("offset"), max("offset") FROM messages WHERE room_id = '${rm.id}'`);
                assert.deepEqual([n, distinct, lo, hi].map(Number), [PER_ROOM, PER_ROOM, 1, PER_ROOM], `room ${rm.id}`);
            }
            // The archived body is exactly what Redis history holds (the last HISTORY_SIZE).
            const hist = await stack.redis('XRANGE', `chat:room:${rooms[0].id}:history`, '-', '+', 'COUNT', '20');
            const bodies = hist.split('\r\n').filter((l) => l.startsWith('{'));
            assert.equal(bodies.length, 20);
            for (const b of bodies) {
                const m = JSON.parse(b);
                const [[body, text, ts, sender]] = sql(`SELECT body, text, ts, sender_id FROM messages WHERE id = '${m.id}'`);
                assert.equal(body, b);
                assert.equal(text, m.message);
                assert.equal(Number(ts), m.ts);
                assert.equal(sender, m.senderId);
            }
            // The second consumer really took over: the group knows it.
            const consumers = await stack.redis('XINFO', 'CONSUMERS', FEED, 'archiver');
            assert.match(consumers, /archiver-b/);
            const m = await metrics();
            assert.ok(m.get('chat_archiver_archived_total') > 0);
            // every row came in once; re-deliveries after the kills show as duplicates or not at all
            assert.equal(m.get('chat_archiver_errors_total', { kind: 'malformed' }), 0);
            r.close();
        });

        test('a re-delivered feed entry is not stored twice', { timeout: 30000 }, async () => {
            const before = count();
            const m0 = await metrics();
            const b1 = feedBody('inj-dup-1', 'room-inj', 1, Date.now());
            const b2 = feedBody('inj-dup-2', 'room-inj', 2, Date.now());
            await stack.redis('XADD', FEED, '*', 'm', b1);
            await until(() => count("id = 'inj-dup-1'") === 1, 10000, 'first copy archived', 100);
            await stack.redis('XADD', FEED, '*', 'm', b1); // the same message again
            await stack.redis('XADD', FEED, '*', 'm', b2);
            await until(() => count("id = 'inj-dup-2'") === 1, 10000, 'the next one archived', 100);
            await until(async () => (await metrics()).get('chat_archiver_duplicates_total') >= m0.get('chat_archiver_duplicates_total') + 1,
                10000, 'the duplicate counted', 100);
            assert.equal(count("id = 'inj-dup-1'"), 1);
            assert.equal(count(), before + 2);
            // A malformed entry is acknowledged, counted, and not archived; the feed goes on.
            await stack.redis('XADD', FEED, '*', 'm', '{"type":"CHAT","id":');
            await stack.redis('XADD', FEED, '*', 'm', feedBody('inj-dup-3', 'room-inj', 3, Date.now()));
            await until(() => count("id = 'inj-dup-3'") === 1, 10000, 'archived after a malformed entry', 100);
            await until(async () => (await metrics()).get('chat_archiver_errors_total', { kind: 'malformed' }) === 1, 5000, 'malformed counted', 100);
        });

        test('retention: messages older than ARCHIVE_RETENTION_DAYS are deleted, newer ones kept', { timeout: 30000 }, async () => {
            const day = 86400000, now = Date.now();
            const m0 = await metrics();
            const chat = count("sender_id <> 'u-inj'");
            await stack.redis('XADD', FEED, '*', 'm', feedBody('inj-old', 'room-ret', 1, now - 40 * day));
            await stack.redis('XADD', FEED, '*', 'm', feedBody('inj-29d', 'room-ret', 2, now - 29 * day));
            await stack.redis('XADD', FEED, '*', 'm', feedBody('inj-new', 'room-ret', 3, now));
            await until(() => count("room_id = 'room-ret'") >= 2 && count("id = 'inj-29d'") === 1, 10000, 'archived', 100);
            await until(async () => (await metrics()).get('chat_archiver_expired_total') >= m0.get('chat_archiver_expired_total') + 1,
                10000, 'the old one expired', 100);
            await until(() => count("id = 'inj-old'") === 0, 5000, 'the old one gone', 100);
            assert.equal(count("id = 'inj-29d'"), 1);
            assert.equal(count("id = 'inj-new'"), 1);
            assert.equal(count("sender_id <> 'u-inj'"), chat, 'recent chat untouched');
        });

        test('Redis restarted (and emptied) while the archiver runs: it recreates its group and goes on', { timeout: 60000 }, async () => {
            const m0 = await metrics();
            // the stack's Redis keeps an append-only file (conf/redis.conf): empty it first
            await stack.redis('FLUSHALL');
            await stack.redisStop();
            await sleep(500);
            await stack.redisStart();
            // Redis came back empty: new user, room, messages.
            const { room, users: [u] } = await api.roomWith(1);
            // the relay reconnects to Redis on its own schedule: CONNECT until it answers
            const r = await until(async () => {
                const c = await raw(stack.relayUrl(0), { name: 'after-restart' });
                try { await c.connect(u.token); return c; } catch { c.close(); return null; }
            }, 20000, 'the relay to accept CONNECT again', 250);
            await sendBurst(r, room.id, 'after', 1, 300);
            await until(() => count(`room_id = '${room.id}'`) === 300, 30000, '300 archived after the restart', 200);
            const m = await metrics();
            assert.ok(m.get('chat_archiver_errors_total', { kind: 'redis' }) > m0.get('chat_archiver_errors_total', { kind: 'redis' }),
                'the outage was seen');
            assert.equal(m.get('chat_archiver_redis_up'), 1);
            r.close();
        });

        if (backend === 'postgresql') test('the database down while messages are sent: nothing acknowledged, all archived when it is back', { timeout: 60000 }, async () => {
            const { room, users: [u] } = await api.roomWith(1);
            const r = await raw(stack.relayUrl(0), { name: 'db-outage' });
            await r.connect(u.token);
            execFileSync(PG_SH, ['stop', pgDir], { timeout: 30000 });
            await sendBurst(r, room.id, 'dbdown', 1, 500);
            await until(async () => (await metrics()).get('chat_archiver_archive_up') === 0, 15000, 'the archiver to notice', 200);
            assert.ok(respInt(await stack.redis('XLEN', FEED)) >= 500, 'the messages wait in the feed');
            execFileSync(PG_SH, ['start', pgDir], { env: { ...process.env, PG_FAST: '1' }, timeout: 60000 });
            await until(() => count(`room_id = '${room.id}'`) === 500, 30000, '500 archived after the outage', 200);
            await until(async () => await pending() === 0, 10000, 'nothing pending', 100);
            const m = await metrics();
            assert.equal(m.get('chat_archiver_archive_up'), 1);
            assert.ok(m.get('chat_archiver_errors_total', { kind: 'archive' }) > 0);
            r.close();
        });

        test('GET /metrics: loopback only; promtool-clean; counts agree with the archive', { timeout: 30000 }, async () => {
            await until(async () => (await metrics()).get('chat_archiver_feed_pending') === 0, 10000, 'stats refreshed', 200);
            const m = await metrics();
            assert.equal(m.status, 200);
            assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
            promtoolCheck(m.text);
            for (const n of ['chat_archiver_archived_total', 'chat_archiver_batches_total', 'chat_archiver_feed_lag',
                'chat_archiver_feed_pending', 'chat_archiver_commit_duration_seconds_count']) {
                assert.ok(m.samples.some(([name]) => name === n), n);
            }
            // This archiver process (archiver-b) archived every row it inserted itself.
            assert.ok(m.get('chat_archiver_archived_total') + m.get('chat_archiver_backfilled_total') <= count());
            assert.ok(m.get('chat_archiver_batches_total') > 0);
            const nf = await fetch(`http://127.0.0.1:${stack.archiverMetricsPort}/nope`);
            assert.equal(nf.status, 404);
            assert.equal((await nf.json()).error.code, 'not-found');
            if (V4) {
                const res = await fetch(`http://${V4}:${stack.archiverMetricsPort}/metrics`, { headers: { 'X-Forwarded-For': '127.0.0.1' } });
                assert.equal(res.status, 403);
                assert.match(res.headers.get('content-type'), /^application\/json/);
                assert.equal((await res.json()).error.code, 'forbidden');
            }
        });
    });
}

suite('sqlite');
suite('postgresql');
