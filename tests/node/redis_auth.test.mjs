// REDIS_URL with an ACL user and a password (CONTRACT.md "Operations"): against a Redis
// whose default user is off and whose only user is chatapp, sign-up, chat and metrics
// work for every program; a wrong password (or user) stops chat-api and chat-relay at
// start-up with one clear log line and a non-zero exit, quickly, instead of hanging.
// A Redis with only requirepass works with redis://:password@ too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack, ROOT } from './lib/stack.mjs';
import { Api, stomp, useClients, until } from './lib/client.mjs';
import { scrape } from './lib/metrics.mjs';

const USER = 'chatapp';
const PASSWORD = 'pa:ss@w/rd 42';
const stack = useStack({ env: { STACK_REDIS_USER: USER, STACK_REDIS_PASSWORD: PASSWORD } });
useClients();
const api = new Api(stack);

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

// Run a program until it exits (or timeoutMs passes: then kill it and say so).
function runToExit(bin, args, env, timeoutMs = 15000) {
    return new Promise((resolve) => {
        const p = spawn(bin, args, { env: { ...process.env, CHAT_CONF: join(ROOT, 'conf', 'chat.conf'), ...env } });
        let out = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { out += d; });
        const t0 = Date.now();
        const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
        p.on('exit', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, out, ms: Date.now() - t0 });
        });
    });
}

const url = (user, pw) => `redis://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@127.0.0.1:${stack.redisPort}/0`;

test('the stack really needs the ACL user', { timeout: 10000 }, async () => {
    assert.match(stack.env.REDIS_URL, /^redis:\/\/chatapp:[^@]+@127\.0\.0\.1:\d+\/0$/);
    // The default user is off: a client without AUTH is refused.
    await assert.rejects(stack.redis('PING'), /NOAUTH|NOPERM|WRONGPASS|ERR/);
});

test('sign-up, chat and metrics work with AUTH user password', { timeout: 30000 }, async () => {
    const { room, users: [a, b] } = await api.roomWith(2);
    const ca = stomp(stack.wsUrl, { token: a.token, name: 'a' });
    const cb = stomp(stack.wsUrl, { token: b.token, name: 'b' });
    await Promise.all([ca.connect(), cb.connect()]);
    const sb = await cb.subscribeReceipt(`/topic/room/${room.id}`);
    await ca.sendReceipt(room.id, 'hello through an ACL user');
    await sb.waitChat('hello through an ACL user');
    assert.equal((await api.req('GET', '/api/health')).status, 200);
    const rm = await scrape(`http://127.0.0.1:${stack.relayPorts[0]}/metrics`);
    assert.equal(rm.get('chat_relay_redis_up', { conn: 'command' }), 1);
    assert.equal(rm.get('chat_relay_redis_up', { conn: 'pubsub' }), 1);
    assert.ok(rm.get('chat_relay_messages_published_total') >= 1);
    const am = await scrape(`${stack.baseUrl}/api/metrics`);
    assert.ok(am.get('chat_api_requests_total', { route: 'users.signup', status: '201' }) >= 2);
});

for (const [what, user, pw] of [
    ['a wrong password', USER, 'not the password'],
    ['an unknown user', 'nobody', PASSWORD],
    ['no user (the default user is off)', '', PASSWORD],
]) {
    test(`chat-relay with ${what}: exit != 0 with one log line, quickly`, { timeout: 30000 }, async () => {
        const r = await runToExit(join(stack.env.B, 'ws-relay', 'chat-relay'), [],
            { REDIS_URL: url(user, pw), RELAY_PORT: String(await freePort()) });
        assert.ok(r.signal === null && r.code !== 0, `exit code ${r.code} signal ${r.signal}: ${r.out}`);
        const lines = r.out.trim().split('\n');
        assert.equal(lines.length, 1, `one log line: ${r.out}`);
        assert.match(lines[0], / error chat-relay\[\d+\] event=start problem=".*(WRONGPASS|NOAUTH|invalid username-password|AUTH)/);
        assert.ok(!r.out.includes(pw), 'the password is not logged');
        assert.ok(r.ms < 10000, `took ${r.ms} ms`);
    });

    test(`chat-api with ${what}: exit != 0 with one log line, quickly`, { timeout: 30000 }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'chat-auth-'));
        try {
            const r = await runToExit(join(stack.env.B, 'fcgi-api', 'chat-api'), ['--socket', join(dir, 'api.sock')],
                { REDIS_URL: url(user, pw) });
            assert.ok(r.signal === null && r.code !== 0, `exit code ${r.code} signal ${r.signal}: ${r.out}`);
            const lines = r.out.trim().split('\n');
            assert.equal(lines.length, 1, `one log line: ${r.out}`);
            assert.match(lines[0], / error chat-api\[\d+\] event=start problem=".*(WRONGPASS|NOAUTH|invalid username-password|AUTH)/);
            assert.ok(!r.out.includes(pw), 'the password is not logged');
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
}

test('a Redis with only requirepass: redis://:password@ works for the relay', { timeout: 30000 }, async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'chat-reqpass-'));
    const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--dir', dir,
        '--requirepass', 'only-a-password'], { stdio: 'ignore' });
    const relayPort = await freePort();
    let relay;
    try {
        await until(() => new Promise((res) => {
            const s = net.connect(port, '127.0.0.1', () => { s.end(); res(true); });
            s.on('error', () => res(false));
        }), 10000, 'redis up');
        relay = spawn(join(stack.env.B, 'ws-relay', 'chat-relay'), [], {
            env: { ...process.env, CHAT_CONF: join(ROOT, 'conf', 'chat.conf'), RELAY_PORT: String(relayPort),
                REDIS_URL: `redis://:only-a-password@127.0.0.1:${port}/0`, ASAN_OPTIONS: 'detect_leaks=0' },
            stdio: 'ignore',
        });
        await until(async () => {
            try {
                const m = await scrape(`http://127.0.0.1:${relayPort}/metrics`);
                return m.status === 200 && m.get('chat_relay_redis_up', { conn: 'pubsub' }) === 1;
            } catch { return false; }
        }, 15000, 'relay connected to the requirepass Redis');
    } finally {
        for (const p of [relay, redis]) {
            if (!p || p.exitCode !== null) continue;
            p.kill('SIGTERM');
            await new Promise((r) => p.once('exit', r));
        }
        rmSync(dir, { recursive: true, force: true });
    }
});

test('chat-api --check-redis (what make run does first): 1 with one line when refused, 0 when accepted', { timeout: 30000 }, async () => {
    const bin = join(stack.env.B, 'fcgi-api', 'chat-api');
    const bad = await runToExit(bin, ['--check-redis'], { REDIS_URL: url(USER, 'wrong password') });
    assert.equal(bad.code, 1, bad.out);
    assert.equal(bad.out.trim().split('\n').length, 1, bad.out);
    assert.match(bad.out, /event=start problem="redis refused AUTH as user chatapp: WRONGPASS/);
    const good = await runToExit(bin, ['--check-redis'], { REDIS_URL: url(USER, PASSWORD) });
    assert.equal(good.code, 0, good.out);
    assert.equal(good.out.trim(), '', 'nothing to say when all is well');
});
