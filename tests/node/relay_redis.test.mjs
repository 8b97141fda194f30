// Redis outage (CONTRACT.md): connected clients stay connected; a SEND during the outage
// gets ERROR message:unavailable (with receipt-id) and the session is kept; once Redis
// is back, chat resumes on the same sessions without the client doing anything.
//
// Redis is restarted on the same port with its data: the test SAVEs before stopping it
// (stack.sh runs redis with `--save ""`, so without this users, sessions and rooms would
// be gone - a real deployment persists them; conf/redis.conf has `save 60 1`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients, sleep } from './lib/client.mjs';

const stack = useStack();
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
