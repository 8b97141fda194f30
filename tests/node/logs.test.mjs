// Logs (issue 14): the API writes one line per request with method, route, status,
// microseconds and user id; after a scripted session - sign-up, log-in (also with a
// wrong password), rooms, STOMP with passcode and with a Bearer header, a bad token,
// log-out - no log line of any program holds a token, a password or a password hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, uniq } from './lib/client.mjs';

const stack = useStack({ env: { LOG_LEVEL: 'debug' } });
useClients();
const api = new Api(stack);

function allLogs() {
    let text = '';
    for (const f of readdirSync(stack.dir)) {
        if (/\.(log|out)$/.test(f)) text += readFileSync(join(stack.dir, f), 'utf8');
    }
    return text;
}

test('a scripted session leaves no token, password or hash in any log', { timeout: 60000 }, async () => {
    const secrets = [];
    const users = [];
    for (let i = 0; i < 2; i++) {
        const email = `${uniq('log')}@example.test`;
        const password = `Pw-${uniq('secret')}-${i}`;
        const r = await api.req('POST', '/api/users', { body: { name: `Logger ${i}`, email, password } });
        assert.equal(r.status, 201, r.text);
        users.push({ email, password, token: r.body.token, user: r.body.user });
        secrets.push(password, r.body.token);
    }
    const wrong = `Wrong-${uniq('pw')}`;
    secrets.push(wrong);
    assert.equal((await api.req('POST', '/api/sessions', { body: { email: users[0].email, password: wrong } })).status, 401);
    const login = await api.req('POST', '/api/sessions', { body: { email: users[0].email, password: users[0].password } });
    assert.equal(login.status, 200);
    secrets.push(login.body.token);
    const room = await api.createRoom(users[0].token, 'log room');
    await api.joinRoom(users[1].token, room.id);
    await api.req('GET', '/api/users/me', { token: login.body.token });

    const a = stomp(stack.wsUrl, { token: users[0].token, name: 'a' });
    const b = stomp(stack.relayUrl(0), { token: users[1].token, auth: 'bearer', name: 'b' });
    await Promise.all([a.connect(), b.connect()]);
    const sb = await b.subscribeReceipt(`/topic/room/${room.id}`);
    await a.sendReceipt(room.id, 'no secrets here');
    await sb.waitChat('no secrets here');
    const badToken = `bad-${uniq('tok')}-0123456789abcdef`;
    secrets.push(badToken);
    const bad = stomp(stack.wsUrl, { token: badToken, name: 'bad' });
    await assert.rejects(bad.connect());
    assert.equal((await api.req('GET', '/api/users/me', { token: badToken })).status, 401);
    assert.equal((await api.logout(login.body.token)).status, 204);
    await a.close();
    await b.close();

    await new Promise((r) => setTimeout(r, 300)); // let the last log lines land
    const logs = allLogs();
    assert.ok(logs.includes('event=request'), 'the API logged requests');
    for (const s of secrets) assert.ok(!logs.includes(s), `a secret appears in the logs: ${s.slice(0, 8)}...`);
    assert.ok(!/argon2/i.test(logs), 'no password hash in the logs');
    assert.ok(!/password=/i.test(logs), 'no password= field in the logs');
});

test('one API log line per request: method, route, status, microseconds, user id', { timeout: 30000 }, async () => {
    const u = await api.signup();
    const marker = uniq('probe');
    const seen = new Set(allLogs().split('\n'));
    assert.equal((await api.req('GET', `/api/rooms/${marker}`, { token: u.token })).status, 404);
    assert.equal((await api.req('GET', '/api/users/me', { token: u.token })).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    const lines = allLogs().split('\n').filter((l) => !seen.has(l) && l.includes('chat-api[') && l.includes('event=request'));
    const probe = lines.filter((l) => l.includes(marker));
    assert.equal(probe.length, 1, `exactly one line for the request: ${probe.join('\n')}`);
    assert.match(probe[0], /method="GET" path="\/api\/rooms\/[^"]+" status=404 user=\S+ (peer="[^"]*" )?route=rooms\.get error=not-found us=\d+$/);
    assert.ok(probe[0].includes(`user=${u.user.id}`), 'the user id');
    const me = lines.filter((l) => l.includes('path="/api/users/me"'));
    assert.equal(me.length, 1);
    assert.match(me[0], new RegExp(`status=200 user=${u.user.id} (peer="[^"]*" )?route=users\\.me error=- us=\\d+$`));
});
