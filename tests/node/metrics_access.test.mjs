// Metrics answer loopback clients only, judged by the peer address the server sees
// (CONTRACT.md "Operations"): reached over this machine's non-loopback addresses, the
// relay's /metrics and lighttpd's /api/metrics answer 403 with the JSON error body,
// whatever X-Forwarded-For says. Needs a non-loopback IPv4 (and, for the IPv6 case, a
// global IPv6) address on this machine; without one those tests are skipped and say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { useStack, ROOT } from './lib/stack.mjs';
import { until } from './lib/client.mjs';

function address(family) {
    for (const list of Object.values(os.networkInterfaces())) {
        for (const a of list ?? []) {
            if (a.internal || a.family !== family) continue;
            if (family === 'IPv6' && (a.address.startsWith('fe80') || a.scopeid)) continue;
            return a.address;
        }
    }
    return null;
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

const V4 = address('IPv4');
const V6 = address('IPv6');
const ports = { v4: await freePort(), v6: await freePort() };
let extra = '';
if (V4) extra += `$SERVER["socket"] == "${V4}:${ports.v4}" { }\n`;
if (V6) extra += `$SERVER["socket"] == "[${V6}]:${ports.v6}" { }\n`;
const stack = useStack({ env: { STACK_LIGHTTPD_EXTRA: extra } });

function url(host, port, path) {
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

async function get(u, headers = {}) {
    const res = await fetch(u, { headers, signal: AbortSignal.timeout(10000) });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

function assertForbidden(r, what) {
    assert.equal(r.status, 403, `${what}: ${r.text.slice(0, 200)}`);
    assert.match(r.type ?? '', /^application\/json/, `${what}: JSON`);
    assert.equal(JSON.parse(r.text).error.code, 'forbidden', what);
}

test('API /api/metrics over a non-loopback IPv4 address: 403 JSON; X-Forwarded-For: 127.0.0.1 changes nothing', { timeout: 20000, skip: V4 ? false : 'no non-loopback IPv4 address here' }, async () => {
    for (const h of [{}, { 'X-Forwarded-For': '127.0.0.1' }, { 'X-Real-IP': '127.0.0.1', Forwarded: 'for=127.0.0.1' }]) {
        assertForbidden(await get(url(V4, ports.v4, '/api/metrics'), h), `IPv4 ${JSON.stringify(h)}`);
    }
    // The same listener serves other API calls (the 403 is the check, not the listener).
    assert.equal((await get(url(V4, ports.v4, '/api/health'))).status, 200);
    // And loopback still works.
    assert.equal((await get(`${stack.baseUrl}/api/metrics`)).status, 200);
});

test('API /api/metrics over a non-loopback IPv6 address: 403 JSON', { timeout: 20000, skip: V6 ? false : 'no global IPv6 address here' }, async () => {
    assertForbidden(await get(url(V6, ports.v6, '/api/metrics'), { 'X-Forwarded-For': '::1' }), 'IPv6');
    assert.equal((await get(url(V6, ports.v6, '/api/health'))).status, 200);
});

test('relay /metrics on a non-loopback IPv4 address: 403 JSON; X-Forwarded-For: 127.0.0.1 changes nothing', { timeout: 30000, skip: V4 ? false : 'no non-loopback IPv4 address here' }, async () => {
    const port = await freePort();
    const relay = spawn(join(stack.env.B, 'ws-relay', 'chat-relay'), [], {
        env: { ...process.env, RELAY_HOST: V4, RELAY_PORT: String(port), REDIS_URL: stack.env.REDIS_URL,
            CHAT_CONF: join(ROOT, 'conf', 'chat.conf'), ASAN_OPTIONS: 'detect_leaks=0' },
        stdio: 'ignore',
    });
    try {
        await until(async () => {
            try { return (await get(url(V4, port, '/ws/info'))).status === 200; } catch { return false; }
        }, 15000, 'relay on the non-loopback address');
        for (const h of [{}, { 'X-Forwarded-For': '127.0.0.1' }]) {
            assertForbidden(await get(url(V4, port, '/metrics'), h), `relay ${JSON.stringify(h)}`);
        }
    } finally {
        relay.kill('SIGTERM');
        await new Promise((r) => (relay.exitCode !== null ? r() : relay.once('exit', r)));
    }
});
