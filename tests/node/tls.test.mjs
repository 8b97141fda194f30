// TLS (CONTRACT.md "Operations", `make run TLS=1`): lighttpd serves https and wss on
// TLS_PORT with the self-signed certificate scripts/tls.sh makes on first use. curl
// with --cacert and a stompjs client over wss chat through that port; the page and
// SockJS's info are served there unchanged; no HSTS for localhost, HSTS for a real
// host name. The same configuration text run.sh appends is used here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { useStack, ROOT } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

const TLS_PORT = await freePort();
const certDir = mkdtempSync(join(tmpdir(), 'chat-tls-'));
const extra = execFileSync(join(ROOT, 'scripts', 'tls.sh'), ['conf', certDir, String(TLS_PORT)],
    { encoding: 'utf8', env: { ...process.env, TLS_CERT: '', TLS_KEY: '' } });
const CERT = join(certDir, 'tls', 'cert.pem');
const ca = readFileSync(CERT);
const stack = useStack({ env: { STACK_LIGHTTPD_EXTRA: extra } });
useClients();
const api = new Api(stack);
after(() => rmSync(certDir, { recursive: true, force: true }));

// curl over https, verifying against our certificate only.
function curl(path, args = [], host = 'localhost') {
    const out = execFileSync('curl', ['-s', '-D', '-', '--max-time', '10', '--cacert', CERT,
        '--resolve', `${host}:${TLS_PORT}:127.0.0.1`, ...args, `https://${host}:${TLS_PORT}${path}`], { encoding: 'utf8' });
    const [head, ...rest] = out.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), body: rest.join('\r\n\r\n') };
}

test('curl --cacert: the API, the page and SockJS info over https; no HSTS for localhost', { timeout: 30000 }, () => {
    const h = curl('/api/health');
    assert.equal(h.status, 200);
    assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
    assert.ok(!h.head.includes('strict-transport-security'), 'no HSTS for localhost');
    const page = curl('/chat.html');
    assert.equal(page.status, 200);
    assert.match(page.head, /content-type: text\/html/);
    assert.equal(curl('/ws/info').status, 200);
    // Errors are the same JSON over TLS.
    const e = curl('/api/users/me');
    assert.equal(e.status, 401);
    assert.equal(JSON.parse(e.body).error.code, 'unauthorized');
    // The certificate is checked: without --cacert curl refuses it.
    assert.throws(() => execFileSync('curl', ['-sf', '--max-time', '10', `https://localhost:${TLS_PORT}/api/health`]));
});

test('a real host name gets Strict-Transport-Security', { timeout: 20000 }, () => {
    const h = curl('/api/health', ['-k'], 'chat.example.test');
    assert.equal(h.status, 200);
    assert.match(h.head, /strict-transport-security: max-age=\d+/);
});

test('sign-up over https and chat with stompjs over wss through TLS_PORT', { timeout: 30000 }, () => (async () => {
    const signup = (name) => {
        const r = curl('/api/users', ['-X', 'POST', '-H', 'Content-Type: application/json', '--data',
            JSON.stringify({ name, email: `${name}-${Date.now()}@example.test`, password: 'password over tls' })]);
        assert.equal(r.status, 201, r.body);
        return JSON.parse(r.body);
    };
    const a = signup('tlsa'), b = signup('tlsb');
    const room = await api.createRoom(a.token, 'tls room');
    await api.joinRoom(b.token, room.id);
    const url = `wss://localhost:${TLS_PORT}/ws/websocket`;
    const ca1 = stomp(url, { token: a.token, name: 'a', wsOptions: { ca } });
    const cb = stomp(url, { token: b.token, name: 'b', wsOptions: { ca } });
    await Promise.all([ca1.connect(), cb.connect()]);
    const sb = await cb.subscribeReceipt(`/topic/room/${room.id}`);
    const sa = await ca1.subscribeReceipt(`/topic/room/${room.id}`);
    await ca1.sendReceipt(room.id, 'hello over wss');
    assert.equal((await sb.waitChat('hello over wss')).senderId, a.user.id);
    await cb.sendReceipt(room.id, 'and back');
    assert.equal((await sa.waitChat('and back')).senderId, b.user.id);
})());
