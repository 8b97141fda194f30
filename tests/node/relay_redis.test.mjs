// Redis outage (docs/STOMP.md): connected clients stay connected; a SEND during the outage
// gets ERROR message:unavailable (with receipt-id) and the session is kept; once Redis
// is back, chat resumes on the same sessions without the client doing anything.
//
// A hung Redis (kill -STOP: its connections stay open, nothing answers) is another
// failure: a command not answered within REDIS_TIMEOUT_MS (1 s here) gets ERROR
// message:unavailable, SEND and SUBSCRIBE keep the session, CONNECT closes it; after
// kill -CONT chat resumes on the same sessions.
//
// Redis is restarted on the same port with its data (stack.sh runs it with
// conf/redis.conf: an append-only file; the test also SAVEs before stopping it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, sleep } from './lib/client.mjs';

const REDIS_TIMEOUT = 1000; // REDIS_TIMEOUT_MS
const stack = useStack({ env: { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT) } });
useClients();
const api = new Api(stack);

test('Redis stopped and restarted mid-chat', { timeout: 60000 }, async (t) => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    // keep: these two live across the subtests; closed at the end
    const a = stomp(stack.relayUrl(0), { token: ua.token, name: 'A', keep: true });
    const b = stomp(stack.wsUrl, { token: ub.token, name: 'B', keep: true });
    t.after(() => Promise.all([a.close(), b.close()]));
    await Promise.all([a.connect(), b.connect()]);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);
    await a.sendReceipt(room.id, 'before the outage');
    await sb.waitChat('before the outage');

    await stack.redis('SAVE');
    await stack.redisStop();
    const down = Date.now();
    try {
        await t.test('a SEND with receipt during the outage: ERROR message:unavailable with receipt-id', async () => {
            a.send(room.id, 'during the outage', {}, { receipt: 'outage-1' });
            const f = await a.expectError('unavailable', { receiptId: 'outage-1', timeout: 5000 });
            assert.ok(f.body.trim().length > 0, 'human-readable body');
        });
        await t.test('connected clients stay connected during the outage', async () => {
            // let the relay notice the outage and try to reconnect for a while
            await sleep(Math.max(0, 1500 - (Date.now() - down)));
            assert.ok(a.isOpen, `A still connected; events: ${a.log.map((e) => e.kind).join(',')}`);
            assert.ok(b.isOpen, `B still connected; events: ${b.log.map((e) => e.kind).join(',')}`);
            // a second SEND is refused the same way, and still does not end the session
            a.send(room.id, 'during the outage 2', {}, { receipt: 'outage-2' });
            await a.expectError('unavailable', { receiptId: 'outage-2' });
            await sleep(200);
            assert.ok(a.isOpen, 'A still connected after ERROR unavailable');
            assert.ok(!a.log.some((e) => e.kind === 'CLOSE'), 'A was never closed');
        });
    } finally {
        await stack.redisStart();
    }

    await t.test('after the restart chat resumes on the same sessions within a few seconds', async () => {
        const up = Date.now();
        // retry until the relay accepts a SEND again (unavailable until it has reconnected)
        let accepted = null;
        for (let i = 0; Date.now() - up < 10000; i++) {
            try {
                await a.sendReceipt(room.id, `after the outage ${i}`, {}, 3000);
                accepted = `after the outage ${i}`;
                break;
            } catch (e) {
                assert.equal(e.frame?.headers.message, 'unavailable', `while reconnecting: ${e.message}`);
                await sleep(250);
            }
        }
        assert.ok(accepted, 'a SEND accepted within 10 s of Redis coming back');
        t.diagnostic(`first SEND accepted ${Date.now() - up} ms after redis-start`);
        // what the relay accepted is delivered to both subscribers, whose subscriptions
        // were re-established by the relay
        await sb.waitChat(accepted, 5000);
        await sa.waitChat(accepted, 5000);
        await b.sendReceipt(room.id, 'B after the outage');
        await sa.waitChat('B after the outage');
        await sb.waitChat('B after the outage');
        assert.ok(!a.log.some((e) => e.kind === 'CLOSE') && !b.log.some((e) => e.kind === 'CLOSE'),
            'neither client was disconnected');
        assert.equal(a.log.filter((e) => e.kind === 'CONNECTED').length, 1, 'A never reconnected');
        assert.equal(b.log.filter((e) => e.kind === 'CONNECTED').length, 1, 'B never reconnected');
    });

    await t.test('new connections and subscriptions work after the restart', async () => {
        const c = stomp(stack.relayUrl(0), { token: ub.token, name: 'B2' });
        await c.connect();
        const s = await c.subscribeReceipt(dest);
        await a.sendReceipt(room.id, 'to the new session');
        await s.waitChat('to the new session');
    });
});

test('Redis hung (kill -STOP) mid-chat: unavailable within REDIS_TIMEOUT_MS, sessions kept, back after kill -CONT', { timeout: 60000 }, async (t) => {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const a = stomp(stack.relayUrl(0), { token: ua.token, name: 'A', keep: true });
    const b = stomp(stack.wsUrl, { token: ub.token, name: 'B', keep: true });
    t.after(() => Promise.all([a.close(), b.close()]));
    await Promise.all([a.connect(), b.connect()]);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);
    await a.sendReceipt(room.id, 'before the hang');
    await sb.waitChat('before the hang');

    // the relay's sweep runs every HEARTBEAT_MS/4 (at most 1 s): the ERROR comes between
    // the timeout and about a second after it; 2.5 s more for a loaded machine
    const bound = REDIS_TIMEOUT + 1000 + 2500;
    await stack.redisPause();
    try {
        await t.test('SEND while Redis hangs: ERROR unavailable with its receipt-id, session kept', async () => {
            const t0 = Date.now();
            a.send(room.id, 'during the hang', {}, { receipt: 'hang-send' });
            const f = await a.expectError('unavailable', { receiptId: 'hang-send', timeout: bound });
            const took = Date.now() - t0;
            t.diagnostic(`ERROR unavailable ${took} ms after the SEND`);
            assert.ok(took >= REDIS_TIMEOUT - 50, `not before REDIS_TIMEOUT_MS (${took} ms)`);
            assert.ok(f.body.trim().length > 0, 'human-readable body');
        });
        await t.test('SUBSCRIBE while Redis hangs: ERROR unavailable with its receipt-id, session kept', async () => {
            b.subscribe(dest, { receipt: 'hang-sub' });
            await b.expectError('unavailable', { receiptId: 'hang-sub', timeout: bound });
        });
        await t.test('CONNECT while Redis hangs: ERROR unavailable, then close', async () => {
            const c = stomp(stack.relayUrl(0), { token: ub.token, name: 'C' });
            await assert.rejects(c.connect(bound), (e) => e.frame?.headers.message === 'unavailable');
            await c.waitClosed();
        });
        await sleep(200);
        assert.ok(a.isOpen && b.isOpen, `A and B still connected; A: ${a.log.map((e) => e.kind)}; B: ${b.log.map((e) => e.kind)}`);
    } finally {
        await stack.redisResume();
    }

    await t.test('after kill -CONT chat resumes on the same sessions', async () => {
        const up = Date.now();
        let accepted = null;
        for (let i = 0; Date.now() - up < 10000; i++) {
            try {
                await a.sendReceipt(room.id, `after the hang ${i}`, {}, bound);
                accepted = `after the hang ${i}`;
                break;
            } catch (e) {
                assert.equal(e.frame?.headers.message, 'unavailable', `while recovering: ${e.message}`);
                await sleep(250);
            }
        }
        assert.ok(accepted, 'a SEND accepted within 10 s of kill -CONT');
        t.diagnostic(`first SEND accepted ${Date.now() - up} ms after kill -CONT`);
        await sb.waitChat(accepted, 5000);
        await sa.waitChat(accepted, 5000);
        await b.sendReceipt(room.id, 'B after the hang');
        await sa.waitChat('B after the hang');
        assert.ok(!a.log.some((e) => e.kind === 'CLOSE') && !b.log.some((e) => e.kind === 'CLOSE'), 'neither client was disconnected');
        assert.equal(a.log.filter((e) => e.kind === 'CONNECTED').length, 1, 'A never reconnected');
        assert.equal(b.log.filter((e) => e.kind === 'CONNECTED').length, 1, 'B never reconnected');
    });

    // docs/STOMP.md: unavailable means "nothing was done". With a hung (not stopped)
    // Redis the relay has already written the SEND's EVALSHA when it gives up waiting;
    // Redis runs it on kill -CONT and the message is published after all. Both
    // subscribers have seen the later 'B after the hang' by now, so a late copy of
    // 'during the hang' would have arrived before it.
    await t.test('a SEND answered unavailable (timeout) is not delivered later', () => {
        const late = [sa, sb].map((s) => s.queue.seen.filter((m) => m.type === 'CHAT' && m.message === 'during the hang').length);
        assert.deepEqual(late, [0, 0], `copies of the refused message delivered to A and B: ${late}`);
    });
});
