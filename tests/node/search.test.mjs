// Search and history past Redis (docs/API.md "GET /api/search", "GET
// /api/rooms/{id}/messages"; docs/ARCHIVE.md "Search"), on both archive back ends:
// the same tests run against a stack whose archive is SQLite and against one whose
// archive is a private PostgreSQL cluster (tests/pg.sh). Real relay, real Redis, real
// chat-archiver; messages are sent over STOMP and found once archived.
//
// Covered: Korean prefixes (채팅 finds 채팅방에서), English, mixed, all words required,
// case, a room the caller left (not found, and neither `next` nor anything else shows
// it), roomId (403/404/422), cursor pages without duplicates, hostile query strings
// (never 500, never database text), snippet ranges in code points, and history walked
// back and forth across the Redis/archive boundary (HISTORY_SIZE 20, 60 messages). On
// PostgreSQL also: the archive stopped -> 503 JSON for what needs it, Redis history
// still served; and tests/unit/test_archive_search runs against that cluster first.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useStack, ROOT } from './lib/stack.mjs';
import { Api, raw, frame, until } from './lib/client.mjs';
import Ajv2020 from 'ajv/dist/2020.js';
import YAML from 'yaml';

const SEND_DEST = '/app/chat.sendMessage';
// The 200 answer's schema in docs/openapi.yaml (the openapi test checks only empty pages).
const spec = YAML.parse(readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(spec, 'openapi');
const validPage = ajv.compile({ $ref: 'openapi#/paths/~1api~1search/get/responses/200/content/application~1json/schema' });

const DB_WORDS = /sqlite|fts5|postgres|tsquery|tsvector|syntax|SQLSTATE|relation|column|messages_fts/i;

// Code-point slice (snippet ranges count code points, not UTF-16 units).
const cpSlice = (s, a, b) => Array.from(s).slice(a, b).join('');

function backend(name) {
    // one test at a time inside a back end (the parent runs the two back ends side by side)
    describe(`search on ${name}`, { concurrency: 1 }, () => {
        const env = { HISTORY_SIZE: '20', SEND_BURST: '100000', SEND_RATE: '100000', ARCHIVE_BATCH: '50' };
        let pgDir = null;
        if (name === 'postgresql') {
            before(() => {
                pgDir = mkdtempSync(join(tmpdir(), 'chat-pg-'));
                env.ARCHIVE_URL = execFileSync(join(ROOT, 'tests', 'pg.sh'), ['start', pgDir], {
                    env: { ...process.env, PG_FAST: '1' }, encoding: 'utf8', timeout: 60000,
                }).trim();
                // archive_search's own tests (tests/unit/test_archive_search.c) on this
                // cluster too, before the stack uses it (they empty the table)
                execFileSync(resolve(ROOT, process.env.B || 'build/asan', 'tests', 'unit', 'test_archive_search'), [], {
                    env: { ...process.env, ARCHIVE_TEST_URL: env.ARCHIVE_URL }, stdio: 'pipe', timeout: 30000,
                });
            }, { timeout: 70000 });
        }
        const stack = useStack({ archiver: true, apiProcs: 1, env });
        if (name === 'postgresql') {
            after(() => {
                if (!pgDir) return;
                try { execFileSync(join(ROOT, 'tests', 'pg.sh'), ['stop', pgDir], { stdio: 'ignore', timeout: 30000 }); } catch { /* reported by the tests */ }
                rmSync(pgDir, { recursive: true, force: true });
            }, { timeout: 40000 });
        }
        const api = new Api(stack);
        const search = (token, params) => api.req('GET', `/api/search?${params}`, { token });
        const q = (token, text, more = '') => search(token, `q=${encodeURIComponent(text)}${more}`);

        // Send texts into roomId as u (one connection, every SEND acknowledged).
        async function sendAll(u, roomId, texts) {
            const r = await raw(stack.relayUrl(0));
            try {
                await r.connect(u.token);
                let out = '';
                texts.forEach((t, k) => { out += frame('SEND', { destination: SEND_DEST, receipt: `s-${k}` }, JSON.stringify({ roomId, message: t })); });
                r.sendRaw(out);
                await r.receipt(`s-${texts.length - 1}`, 15000);
            } finally {
                await r.close();
            }
        }

        // Wait until a search for word by u finds n results (the archiver's lag).
        const archived = (u, word, n, extra = '') => until(async () => {
            const res = await q(u.token, word, `&limit=50${extra}`);
            return res.status === 200 && res.body.results.length >= n ? res : null;
        }, 15000, `${n} archived results for ${word}`, 100);

        let a, b, r1, r2, gone, tagPage;
        before(async () => {
            a = await api.signup();
            b = await api.signup();
            r1 = await api.createRoom(a.token, 'Search room one');
            r2 = await api.createRoom(a.token, 'Search room two');
            gone = await api.createRoom(a.token, 'Left behind');
            await api.joinRoom(b.token, r1.id);
            tagPage = `pageword${Date.now().toString(36)}`;
            await sendAll(a, r1.id, [
                '우리 채팅방에서 만나요',
                '채팅 서버를 만들었다',
                'Hello World from the chat server',
                'HELLO again, worldwide friends',
                '오늘 Meeting은 채팅room에서',
                'quote"s and back\\slash OR NEAR(x) it\'s -minus *star 100%',
                'shared zebrafish note',
                ...Array.from({ length: 7 }, (_, k) => `${tagPage} number ${k + 1}`),
                'e\u0301clair 👍🏽 채팅 👨‍👩‍👧 après',
            ]);
            await sendAll(a, r2.id, ['second room 채팅 hello']);
            await sendAll(a, gone.id, ['zebrafish only here', 'zebrafish twice here', 'zebrafish three', 'uniqueleftword']);
            await archived(a, 'uniqueleftword', 1);
            await archived(a, tagPage, 7);
            await api.leaveRoom(a.token, gone.id);
        }, { timeout: 40000 });

        test('Korean: 채팅 finds 채팅방에서 (a prefix), with the snippet and ranges in code points', async () => {
            const res = await q(b.token, '채팅');
            assert.equal(res.status, 200, res.text);
            assert.ok(validPage(res.body), `docs/openapi.yaml: ${JSON.stringify(validPage.errors)}`);
            const texts = res.body.results.map((x) => x.message.message);
            assert.ok(texts.includes('우리 채팅방에서 만나요'), texts.join(' | '));
            assert.ok(texts.includes('오늘 Meeting은 채팅room에서'));
            assert.ok(!texts.includes('second room 채팅 hello'), 'b is not in room two');
            for (const x of res.body.results) {
                assert.equal(x.message.roomId, r1.id);
                assert.equal(x.message.type, 'CHAT');
                assert.equal(typeof x.message.offset, 'number');
                assert.ok(x.ranges.length >= 1, JSON.stringify(x));
                for (const [s, e] of x.ranges) assert.equal(cpSlice(x.snippet, s, s + 2), '채팅', JSON.stringify(x));
            }
            const one = res.body.results.find((x) => x.message.message === '우리 채팅방에서 만나요');
            assert.equal(one.snippet, '우리 채팅방에서 만나요');
            assert.deepEqual(one.ranges, [[3, 5]]);
            // emoji and combining marks before the match are counted as code points
            const emo = res.body.results.find((x) => x.message.message.startsWith('e\u0301clair'));
            assert.ok(emo, 'the emoji message is found');
            assert.deepEqual(emo.ranges, [[11, 13]], emo.snippet);
            assert.equal(res.body.next, null);
        });

        test('English, case-insensitive, every word required, mixed Korean and English', async () => {
            let res = await q(b.token, 'HeLLo');
            assert.equal(res.status, 200);
            assert.deepEqual(res.body.results.map((x) => x.message.message).sort(),
                ['HELLO again, worldwide friends', 'Hello World from the chat server']);
            res = await q(b.token, 'hello worldw');
            assert.deepEqual(res.body.results.map((x) => x.message.message), ['HELLO again, worldwide friends']);
            const r = res.body.results[0];
            // a range is what matched: the typed prefix, not the rest of the word
            assert.deepEqual(r.ranges.map(([s, e]) => cpSlice(r.snippet, s, e)), ['HELLO', 'worldw']);
            res = await q(b.token, 'hello nosuchword');
            assert.deepEqual(res.body, { results: [], next: null });
            res = await q(b.token, 'meeting 채팅');
            assert.deepEqual(res.body.results.map((x) => x.message.message), ['오늘 Meeting은 채팅room에서']);
            res = await q(b.token, 'orld');
            assert.deepEqual(res.body.results, [], 'a word matches from its start only');
        });

        test('a room the caller left: its messages are not found, and nothing counts them', async () => {
            let res = await q(a.token, 'uniqueleftword');
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, { results: [], next: null });
            // one match in r1, three in the left room: limit 1 gives one page, no next
            res = await q(a.token, 'zebrafish', '&limit=1');
            assert.equal(res.body.results.length, 1);
            assert.equal(res.body.results[0].message.roomId, r1.id);
            assert.equal(res.body.next, null);
            res = await search(a.token, `q=zebrafish&roomId=${gone.id}`);
            assert.equal(res.status, 403, res.text);
            assert.equal(res.body.error.code, 'forbidden');
        });

        test('roomId: only that room; 404 unknown, 422 malformed', async () => {
            let res = await search(a.token, `q=${encodeURIComponent('채팅')}&roomId=${r2.id}`);
            assert.equal(res.status, 200);
            assert.deepEqual(res.body.results.map((x) => x.message.message), ['second room 채팅 hello']);
            res = await search(a.token, `q=${encodeURIComponent('채팅')}`);
            assert.ok(res.body.results.some((x) => x.message.roomId === r2.id) && res.body.results.some((x) => x.message.roomId === r1.id));
            res = await search(a.token, 'q=x&roomId=nosuchroomatall');
            assert.equal(res.status, 404);
            res = await search(a.token, 'q=x&roomId=a%2Fb');
            assert.equal(res.status, 422);
            res = await search(b.token, `q=second&roomId=${r2.id}`);
            assert.equal(res.status, 403);
        });

        test('cursor pages: every result once, then next null; a malformed cursor is 422', async () => {
            const seen = [];
            let cursor = null, pages = 0;
            do {
                const res = await q(b.token, tagPage, `&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
                assert.equal(res.status, 200, res.text);
                assert.ok(res.body.results.length <= 3);
                seen.push(...res.body.results.map((x) => x.message.id));
                cursor = res.body.next;
                assert.ok(cursor === null || /^[A-Za-z0-9_-]+$/.test(cursor), cursor);
                pages++;
            } while (cursor && pages < 10);
            assert.equal(pages, 3);
            assert.equal(seen.length, 7);
            assert.equal(new Set(seen).size, 7, 'no duplicate across pages');
            for (const bad of ['x', 'czEw', '!!!', 'cy4w', 'cy4wMQ', 'cy4xMDAx', 'A'.repeat(200)]) {
                const res = await q(b.token, tagPage, `&cursor=${encodeURIComponent(bad)}`);
                assert.equal(res.status, 422, `cursor ${bad}: ${res.text}`);
                assert.equal(res.body.error.code, 'invalid');
            }
            for (const lim of ['0', '51', '-1', 'x', '1.5']) {
                const res = await q(b.token, tagPage, `&limit=${lim}`);
                assert.equal(res.status, 422, `limit ${lim}`);
            }
            const res = await q(b.token, tagPage, '&limit=50');
            assert.equal(res.body.results.length, 7);
        });

        test('hostile queries: results or 422, never 500, never database text', async () => {
            const hostile = [
                '"', '""', '"unterminated', '*', 'a*', '**', 'OR', 'a OR b', 'NEAR(', 'NEAR(a b)', '-x', 'NOT x', 'x AND',
                "'", "'; DROP TABLE messages; --", '\\', '\\\\', 'a\\', '(', ')', 'col:x', 'text:hello', '^hello', '{a b}',
                '!x', 'a & b', 'a | b', 'a <-> b', 'x:*', "'a':*", '%', '_', '채팅" OR "1"="1',
                '\u202e', '👍', '👍🏽 ❤️', 'ｈｅｌｌｏ', 'a'.repeat(200), '채'.repeat(200), 'ab '.repeat(66) + 'a',
            ];
            for (const h of hostile) {
                const res = await q(b.token, h);
                assert.ok(res.status === 200 || res.status === 422, `${JSON.stringify(h)}: ${res.status} ${res.text}`);
                if (res.status === 422) {
                    assert.equal(res.body.error.code, 'invalid');
                    assert.ok(!DB_WORDS.test(res.body.error.message), res.text);
                }
            }
            // quotes, star, OR and backslash are text: they find the message that has the words
            let res = await q(b.token, '"back\\slash" OR -minus*');
            assert.equal(res.status, 200);
            assert.equal(res.body.results.length, 1, res.text);
            assert.match(res.body.results[0].message.message, /^quote/);
            // a bad escape, nothing to search
            for (const p of ['q=%E', 'q=%', 'q=', 'limit=5', 'q=%20%20', 'q=+']) {
                res = await search(b.token, p);
                assert.equal(res.status, 422, `${p}: ${res.text}`);
                assert.equal(res.body.error.code, 'invalid');
            }
            // invalid UTF-8, a lone surrogate, a NUL: lighttpd refuses such a URL itself
            // (400 JSON); the API would say 422 (tests/unit/test_query.c)
            for (const p of ['q=%FF', 'q=%C0%AF', 'q=%ED%A0%80', 'q=a%00b', 'q=hello%00']) {
                res = await search(b.token, p);
                assert.ok(res.status === 400 || res.status === 422, `${p}: ${res.text}`);
                assert.ok(['malformed', 'invalid'].includes(res.body.error.code));
            }
            res = await q(b.token, 'a'.repeat(201));
            assert.equal(res.status, 422);
            res = await q(b.token, '채'.repeat(201));
            assert.equal(res.status, 422);
            res = await q(b.token, '채'.repeat(200));
            assert.equal(res.status, 200);
            res = await api.req('GET', '/api/search?q=hello');
            assert.equal(res.status, 401);
            // the archive still answers normally afterwards
            res = await q(b.token, 'hello');
            assert.equal(res.body.results.length, 2);
        });

        test('history walks back and forth across the Redis/archive boundary: every offset once, in order', async () => {
            const room = await api.createRoom(a.token, 'History room');
            const texts = Array.from({ length: 60 }, (_, k) => `hist ${k + 1}`);
            await sendAll(a, room.id, texts);
            const hist = (p) => api.req('GET', `/api/rooms/${room.id}/messages${p}`, { token: a.token });
            // wait until offsets 1..40 (trimmed from Redis) are archived
            await until(async () => {
                const r = await hist('?after=0&limit=100');
                return r.status === 200 && r.body.messages.length === 60;
            }, 15000, 'the archive holds the older messages', 100);
            let res = await hist('?limit=30');
            assert.equal(res.status, 200);
            assert.equal(res.body.offset, 60);
            assert.deepEqual(res.body.messages.map((m) => m.offset), Array.from({ length: 30 }, (_, i) => 31 + i));
            // backwards from the newest, 7 at a time (pages straddle offset 40/41)
            const back = [];
            let before = 61;
            while (before > 1) {
                res = await hist(`?before=${before}&limit=7`);
                assert.equal(res.status, 200, res.text);
                const offs = res.body.messages.map((m) => m.offset);
                assert.ok(offs.length > 0 && offs.length <= 7, `before=${before}: ${offs}`);
                assert.deepEqual(offs, Array.from({ length: offs.length }, (_, i) => before - offs.length + i), `before=${before}`);
                back.unshift(...res.body.messages);
                before = offs[0];
            }
            assert.deepEqual(back.map((m) => m.offset), Array.from({ length: 60 }, (_, i) => i + 1));
            assert.deepEqual(back.map((m) => m.message), texts);
            assert.ok(back.every((m) => m.epoch === res.body.epoch && m.roomId === room.id));
            // forwards from 0, 9 at a time
            const fwd = [];
            let afterOff = 0;
            for (;;) {
                res = await hist(`?after=${afterOff}&limit=9`);
                const offs = res.body.messages.map((m) => m.offset);
                if (offs.length === 0) break;
                assert.deepEqual(offs, Array.from({ length: offs.length }, (_, i) => afterOff + 1 + i), `after=${afterOff}`);
                fwd.push(...res.body.messages);
                afterOff = offs[offs.length - 1];
            }
            assert.deepEqual(fwd.map((m) => m.offset), Array.from({ length: 60 }, (_, i) => i + 1));
            // bodies from the archive and from Redis are the same documents
            assert.deepEqual(fwd, back);
            res = await hist('?before=1');
            assert.deepEqual(res.body.messages, []);
            res = await hist('?before=25&limit=100');
            assert.deepEqual(res.body.messages.map((m) => m.offset), Array.from({ length: 24 }, (_, i) => i + 1));
        });

        if (name === 'postgresql') {
            test('archive down: 503 JSON without database text where it is needed; Redis history still served', async () => {
                const room = await api.createRoom(a.token, 'Outage room');
                await sendAll(a, room.id, Array.from({ length: 30 }, (_, k) => `outage ${k + 1}`));
                const hist = (p) => api.req('GET', `/api/rooms/${room.id}/messages${p}`, { token: a.token });
                await until(async () => (await hist('?after=0&limit=100')).body?.messages?.length === 30, 15000, 'archived', 100);
                execFileSync(join(ROOT, 'tests', 'pg.sh'), ['stop', pgDir], { stdio: 'ignore', timeout: 30000 });
                for (let i = 0; i < 2; i++) { // the failure, then the reopen attempts (one chat-api process)
                    let res = await q(a.token, 'outage');
                    assert.equal(res.status, 503, res.text);
                    assert.equal(res.body.error.code, 'unavailable');
                    assert.ok(!DB_WORDS.test(res.text), res.text);
                    res = await hist('?limit=10');
                    assert.equal(res.status, 200, 'the newest page is in Redis');
                    assert.deepEqual(res.body.messages.map((m) => m.offset), Array.from({ length: 10 }, (_, k) => 21 + k));
                    res = await hist('?before=5');
                    assert.equal(res.status, 503, res.text);
                    assert.ok(!DB_WORDS.test(res.text), res.text);
                }
            });
        }
    });
}

// The two back ends side by side (each has its own stack; the clients here are closed
// by the code that opens them, so nothing is shared between the two).
describe('search', { concurrency: 2 }, () => {
    backend('sqlite');
    backend('postgresql');
});
