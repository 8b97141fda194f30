// SockJS (CONTRACT.md: "SockJS endpoint base /ws ... so new SockJS("/ws") works") with
// the real sockjs-client under @stomp/stompjs, one test per transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SockJS from 'sockjs-client';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';

const stack = useStack();
useClients();
const api = new Api(stack);

test('GET /ws/info answers the SockJS info JSON', { timeout: 15000 }, async () => {
    for (const base of [stack.baseUrl, `http://127.0.0.1:${stack.relayPorts[0]}`]) {
        const res = await fetch(`${base}/ws/info`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 200, `${base}/ws/info`);
        const info = JSON.parse(await res.text());
        assert.equal(typeof info.websocket, 'boolean');
        assert.equal(typeof info.cookie_needed, 'boolean');
        assert.ok(Array.isArray(info.origins), 'origins array');
        assert.equal(typeof info.entropy, 'number');
    }
});

async function chatOver(transport, base) {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const sock = () => new SockJS(`${base}/ws`, null, { transports: [transport] });
    const a = stomp(null, { token: ua.token, name: `A/${transport}`, socketFactory: sock });
    const b = stomp(null, { token: ub.token, name: `B/${transport}`, socketFactory: sock });
    const [fa] = await Promise.all([a.connect(), b.connect()]);
    assert.equal(a.ws.transport, transport, `SockJS used ${transport}`);
    assert.equal(fa.headers['user-name'], ua.user.id);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);
    const text = `over ${transport} — ünïcödé 😀`;
    await a.sendReceipt(room.id, text);
    const m = await sb.waitChat(text);
    assert.equal(m.senderId, ua.user.id);
    assert.equal(sb.frames.at(-1).headers['content-type'], 'application/json');
    // a burst of 20 in order, the other way
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.sendReceipt(room.id, `s-${i}`)));
    const got = await sa.collect((x) => x.type === 'CHAT' && x.message.startsWith('s-'), 20);
    assert.deepEqual(got.map((x) => x.message), Array.from({ length: 20 }, (_, i) => `s-${i}`));
}

for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling']) {
    test(`SockJS ${transport} through lighttpd`, { timeout: 30000 }, async () => {
        await chatOver(transport, stack.baseUrl);
    });
}

test('SockJS xhr-streaming directly on the relay port', { timeout: 30000 }, async () => {
    await chatOver('xhr-streaming', `http://127.0.0.1:${stack.relayPorts[0]}`);
});
