// Prometheus metrics (CONTRACT.md "Operations"): relay GET /metrics on its own port and
// GET /api/metrics through lighttpd. Both pass promtool; counters move exactly as a
// scripted chat says; the API's numbers are the total of every chat-api process, so a
// scrape does not depend on which process answers; X-Forwarded-For changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, until } from './lib/client.mjs';
import { scrape, promtoolCheck } from './lib/metrics.mjs';

const stack = useStack({ relays: 1, apiProcs: 3 });
useClients();
const api = new Api(stack);
const relayMetrics = (h) => scrape(`http://127.0.0.1:${stack.relayPorts[0]}/metrics`, h);
const apiMetrics = (h) => scrape(`${stack.baseUrl}/api/metrics`, h);

test('both endpoints answer the text format that promtool accepts, every family with HELP and TYPE', { timeout: 60000 }, async () => {
    // Some traffic first, so that histograms and labelled series have samples.
    const { room, users: [u] } = await api.roomWith(1);
    const c = stomp(stack.wsUrl, { token: u.token });
    await c.connect();
    await c.subscribeReceipt(`/topic/room/${room.id}`);
    await c.sendReceipt(room.id, 'metrics warm-up');
    for (const m of [await relayMetrics(), await apiMetrics()]) {
        assert.equal(m.status, 200, m.text.slice(0, 300));
        assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
        promtoolCheck(m.text);
        const helps = new Set(), types = new Set(), names = new Set();
        for (const line of m.text.split('\n')) {
            let x;
            if ((x = /^# HELP (\S+) \S/.exec(line))) helps.add(x[1]);
            else if ((x = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line))) types.add(x[1]);
            else if (line && !line.startsWith('#')) names.add(line.split(/[{ ]/)[0].replace(/_(bucket|sum|count)$/, ''));
        }
        for (const n of names) {
            const fam = helps.has(n) ? n : n.replace(/_(bucket|sum|count)$/, '');
            assert.ok(helps.has(fam) && types.has(fam), `${n}: # HELP and # TYPE present`);
        }
    }
});

test('relay counters after a scripted chat: deliveries = messages x subscribers', { timeout: 60000 }, async () => {
    const { room, users } = await api.roomWith(3);
    const dest = `/topic/room/${room.id}`;
    const conns = users.map((u, i) => stomp(stack.wsUrl, { token: u.token, name: `u${i}` }));
    for (const c of conns) await c.connect();
    const subs = [];
    for (const c of conns) subs.push(await c.subscribeReceipt(dest));
    // Everyone has seen the last JOIN: every presence notice has been delivered.
    const last = users[2].user.id;
    for (const s of subs) await s.waitFor((m) => m.type === 'JOIN' && m.senderId === last, 5000, 'last JOIN');
    const before = await relayMetrics();
    assert.equal(before.get('chat_relay_subscriptions') >= 3, true, 'three live subscriptions at least');
    assert.ok(before.get('chat_relay_connections', { transport: 'websocket' }) >= 3, 'three websocket connections open');

    const N = 7;
    for (let i = 0; i < N; i++) await conns[i % 3].sendReceipt(room.id, `m${i}`);
    for (const s of subs) await s.waitChat(`m${N - 1}`);
    const after = await until(async () => {
        const m = await relayMetrics();
        return m.get('chat_relay_deliveries_total') - before.get('chat_relay_deliveries_total') >= N * 3 ? m : null;
    }, 5000, 'deliveries counted');
    const d = (name, labels) => after.get(name, labels) - before.get(name, labels);
    assert.equal(d('chat_relay_deliveries_total'), N * 3, 'deliveries = messages x subscribers');
    assert.equal(d('chat_relay_messages_published_total'), N, 'one publish per SEND');
    assert.equal(d('chat_relay_frames_received_total', { command: 'SEND' }), N, 'SEND frames in');
    assert.equal(d('chat_relay_publish_to_deliver_seconds_count'), N, 'one latency sample per message reaching this relay');
    assert.ok(d('chat_relay_redis_command_duration_seconds_count') >= N, 'at least one Redis command per SEND');
    assert.ok(d('chat_relay_bytes_sent_total') > N * 3 * 100, 'bytes out cover the MESSAGE frames');
    assert.equal(after.sum('chat_relay_errors_total') - before.sum('chat_relay_errors_total'), 0, 'no ERROR frames');
    assert.equal(after.get('chat_relay_redis_up', { conn: 'command' }), 1);
    assert.equal(after.get('chat_relay_redis_up', { conn: 'pubsub' }), 1);

    // A non-member's SUBSCRIBE: ERROR forbidden, counted under its slug.
    const stranger = await api.signup();
    const s = stomp(stack.wsUrl, { token: stranger.token, name: 'stranger' });
    await s.connect();
    const e0 = (await relayMetrics()).get('chat_relay_errors_total', { slug: 'forbidden' });
    await s.subscribeReceipt(dest).catch(() => {});
    await until(async () => (await relayMetrics()).get('chat_relay_errors_total', { slug: 'forbidden' }) === e0 + 1,
        5000, 'forbidden ERROR counted');

    for (const c of conns) await c.close();
    await until(async () => (await relayMetrics()).get('chat_relay_subscriptions') === 0, 5000, 'subscriptions back to 0');
});

test('API metrics are totals over every chat-api process, whichever answers', { timeout: 60000 }, async () => {
    const base = (await apiMetrics()).get('chat_api_requests_total', { route: 'health', status: '200' });
    const N = 60;
    // Concurrent requests, so lighttpd spreads them over its processes.
    await Promise.all(Array.from({ length: N }, () => api.req('GET', '/api/health')));
    const pids = new Set();
    // The API logs to stderr, which lighttpd -D leaves on lighttpd.out.
    const log = readFileSync(join(stack.dir, 'lighttpd.out'), 'utf8');
    for (const m of log.matchAll(/chat-api\[(\d+)\] event=request method="GET" path="\/api\/health"/g)) pids.add(m[1]);
    assert.ok(pids.size >= 2, `health requests were served by ${pids.size} process(es); need 2+ for this test to mean anything`);
    for (let i = 0; i < 12; i++) {
        const m = await apiMetrics();
        assert.equal(m.status, 200);
        assert.equal(m.get('chat_api_processes'), 3, 'three processes counted');
        assert.equal(m.get('chat_api_requests_total', { route: 'health', status: '200' }), base + N,
            'every health request counted once, whichever process answers the scrape');
        assert.equal(m.get('chat_api_request_duration_seconds_count', { route: 'health' }) >= base + N, true);
    }
    // A 404 and a 401 are counted by route and status too.
    await api.req('GET', '/api/nope');
    await api.req('GET', '/api/users/me');
    const m = await apiMetrics();
    assert.ok(m.get('chat_api_requests_total', { route: 'none', status: '404' }) >= 1);
    assert.ok(m.get('chat_api_requests_total', { route: 'users.me', status: '401' }) >= 1);
});

test('X-Forwarded-For from a client changes nothing (loopback here: still 200)', { timeout: 20000 }, async () => {
    for (const xff of ['203.0.113.9', '127.0.0.1', '::1, 10.0.0.1']) {
        assert.equal((await relayMetrics({ 'X-Forwarded-For': xff })).status, 200);
        assert.equal((await apiMetrics({ 'X-Forwarded-For': xff, 'X-Real-IP': xff })).status, 200);
    }
});

test('a chat-api process killed and respawned: the totals keep its counts (never go down)', { timeout: 60000 }, async () => {
    const before = (await apiMetrics()).get('chat_api_requests_total', { route: 'health', status: '200' });
    assert.ok(before > 0, 'health requests were counted earlier');
    const log = () => readFileSync(join(stack.dir, 'lighttpd.out'), 'utf8');
    const pids = [...log().matchAll(/chat-api\[(\d+)\] event=metrics file=\S+ slot=(\d+)/g)].map((m) => Number(m[1]));
    const victim = pids.find((p) => { try { process.kill(p, 0); return true; } catch { return false; } });
    assert.ok(victim, `a live chat-api among ${pids}`);
    process.kill(victim, 'SIGKILL');
    // Whatever lighttpd does next (respawn at once or on the next request; a request
    // that meets the dead socket may get lighttpd's own 503), every scrape that the
    // API answers must still show at least the old total.
    let ok200 = 0, scrapes = 0;
    for (let i = 0; i < 10; i++) {
        const m = await apiMetrics();
        if (m.status === 200) {
            scrapes++;
            assert.ok(m.get('chat_api_requests_total', { route: 'health', status: '200' }) >= before,
                `scrape ${i}: the killed process's requests are still counted`);
        } else {
            // 503 when lighttpd cannot reach the program; a request that was already on
            // its way to the killed process gets lighttpd's 500. Either way the JSON body.
            assert.ok([500, 503].includes(m.status), `lighttpd's answer while it notices the dead process: ${m.status} ${m.text}`);
            assert.match(m.text, /^\{"error":\{"code":"[a-z-]+","message":"/, 'the JSON error body');
        }
        if ((await api.req('GET', '/api/health')).status === 200) ok200++;
    }
    assert.ok(scrapes >= 8 && ok200 >= 8, `answers after the kill: ${scrapes} scrapes, ${ok200} health`);
    await until(async () => {
        const m = await apiMetrics();
        return m.status === 200 && m.get('chat_api_requests_total', { route: 'health', status: '200' }) === before + ok200;
    }, 5000, 'each new 200 health request added to the old total');
});

test('recoveries by outcome: recovered, epoch-changed', { timeout: 60000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const dest = `/topic/room/${room.id}`;
    const ca = stomp(stack.wsUrl, { token: a.token, name: 'rec-a' });
    await ca.connect();
    const sa = await ca.subscribeReceipt(dest);
    for (let i = 0; i < 3; i++) await ca.sendReceipt(room.id, `r${i}`);
    const first = await sa.waitChat('r0');
    await sa.waitChat('r2');
    const before = await relayMetrics();
    const cb = stomp(stack.wsUrl, { token: b.token, name: 'rec-b' });
    await cb.connect();
    const sb = await cb.subscribeReceipt(dest, { 'x-since-offset': String(first.offset), 'x-since-epoch': first.epoch });
    await sb.waitChat('r2'); // replayed
    const cc = stomp(stack.wsUrl, { token: b.token, name: 'rec-c' });
    await cc.connect();
    await cc.subscribeReceipt(dest, { 'x-since-offset': '1', 'x-since-epoch': 'not-this-epoch' });
    const after = await until(async () => {
        const m = await relayMetrics();
        return m.sum('chat_relay_recoveries_total') - before.sum('chat_relay_recoveries_total') >= 2 ? m : null;
    }, 5000, 'two recoveries counted');
    const d = (o) => after.get('chat_relay_recoveries_total', { outcome: o }) - before.get('chat_relay_recoveries_total', { outcome: o });
    assert.equal(d('recovered'), 1);
    assert.equal(d('epoch-changed'), 1);
    assert.equal(d('incomplete') + d('too-large'), 0);
});
