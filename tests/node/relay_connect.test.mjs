// CONNECT on the relay (docs/STOMP.md "Connecting"), with raw frames:
// the connect timeout, a second CONNECT, `STOMP` as a synonym of CONNECT, version
// negotiation and an unsupported accept-version. The stack runs with a short
// CONNECT_TIMEOUT_MS so the timeout test takes a moment, not ten seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, raw, useClients, sleep } from './lib/client.mjs';

const CONNECT_TIMEOUT = 700; // CONNECT_TIMEOUT_MS
const stack = useStack({ env: { CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT) } });
useClients();
const api = new Api(stack);

const connectHeaders = (token, extra = {}) => ({ 'accept-version': '1.2', host: '127.0.0.1', passcode: token, 'heart-beat': '0,0', ...extra });

test('no CONNECT within CONNECT_TIMEOUT_MS: ERROR message:protocol, then close', { timeout: 15000 }, async () => {
    for (const url of [stack.relayUrl(0), stack.wsUrl]) {
        const r = await raw(url, { name: `silent ${url === stack.wsUrl ? 'via lighttpd' : 'direct'}` });
        const t0 = Date.now();
        const f = await r.expectError('protocol', CONNECT_TIMEOUT + 5000);
        const after = Date.now() - t0;
        // (the relay's clock starts at the upgrade, a little before our "open")
        assert.ok(after >= CONNECT_TIMEOUT / 2, `ERROR only after the timeout (${after} ms)`);
        assert.ok(f.body.trim().length > 0, 'human-readable body');
        await r.waitClosed(3000);
        assert.equal(r.frames.seen.filter((x) => x.command !== 'ERROR').length, 0, 'nothing but the ERROR');
    }
});

test('a connection that sends CONNECT in time is not cut by the connect timeout', { timeout: 15000 }, async () => {
    const u = await api.signup();
    const r = await raw(stack.relayUrl(0));
    await sleep(CONNECT_TIMEOUT / 3);
    await r.connect(u.token);
    await sleep(CONNECT_TIMEOUT * 2);
    assert.ok(r.isOpen, 'still open well after CONNECT_TIMEOUT_MS');
    r.sendFrame('DISCONNECT', { receipt: 'bye' });
    await r.receipt('bye');
    assert.equal(r.frames.seen.filter((x) => x.command === 'ERROR').length, 0, 'no ERROR');
});

test('a second CONNECT: ERROR message:protocol (with its receipt-id), then close', { timeout: 15000 }, async () => {
    const u = await api.signup();
    for (const cmd of ['CONNECT', 'STOMP']) {
        const r = await raw(stack.relayUrl(0), { name: `second ${cmd}` });
        await r.connect(u.token);
        r.sendFrame(cmd, connectHeaders(u.token, { receipt: 'again' }));
        const f = await r.expectError('protocol');
        assert.equal(f.headers['receipt-id'], 'again');
        assert.ok(f.body.trim().length > 0, 'human-readable body');
        await r.waitClosed();
        assert.equal(r.frames.seen.filter((x) => x.command === 'CONNECTED').length, 1, 'one CONNECTED only');
    }
});

test('STOMP is a synonym of CONNECT', { timeout: 15000 }, async () => {
    const { room, users: [u] } = await api.roomWith(1);
    const r = await raw(stack.relayUrl(0));
    r.sendFrame('STOMP', connectHeaders(u.token, { 'accept-version': '1.2,1.1' }));
    const c = await r.next();
    assert.equal(c.command, 'CONNECTED', `got ${c.command} ${JSON.stringify(c.headers)}`);
    assert.equal(c.headers.version, '1.2');
    assert.equal(c.headers['user-name'], u.user.id);
    assert.match(c.headers.session, /\S/);
    // and the session works like any other
    r.sendFrame('SUBSCRIBE', { id: 's', destination: `/topic/room/${room.id}`, receipt: 'sub' });
    await r.receipt('sub');
    r.sendFrame('SEND', { destination: '/app/chat.sendMessage', receipt: 'm' }, JSON.stringify({ roomId: room.id, message: 'via STOMP' }));
    await r.receipt('m');
    await r.find((x) => x.command === 'MESSAGE' && JSON.parse(x.body).message === 'via STOMP');
});

test('accept-version: the highest supported one; none of them: ERROR message:protocol, then close', { timeout: 20000 }, async () => {
    const u = await api.signup();
    for (const [accept, want] of [['1.0,1.1,1.2', '1.2'], ['1.1', '1.1'], ['1.0', '1.0'], ['1.1,2.0', '1.1'], [undefined, '1.0']]) {
        const r = await raw(stack.relayUrl(0), { name: `accept-version ${accept}` });
        const h = connectHeaders(u.token);
        if (accept === undefined) delete h['accept-version']; else h['accept-version'] = accept;
        r.sendFrame('CONNECT', h);
        const c = await r.next();
        assert.equal(c.command, 'CONNECTED', `accept-version ${accept}: got ${c.command} ${JSON.stringify(c.headers)}`);
        assert.equal(c.headers.version, want, `accept-version ${accept}`);
        await r.close();
    }
    for (const accept of ['2.0', '0.9,3', 'banana']) {
        const r = await raw(stack.relayUrl(0), { name: `accept-version ${accept}` });
        r.sendFrame('CONNECT', connectHeaders(u.token, { 'accept-version': accept }));
        const f = await r.expectError('protocol');
        assert.ok(f.body.trim().length > 0, 'human-readable body');
        await r.waitClosed();
        assert.equal(r.frames.seen.filter((x) => x.command === 'CONNECTED').length, 0, `no CONNECTED for accept-version:${accept}`);
    }
});
