// SockJS directly on the relay's own port (CONTRACT.md: "The relay is also usable
// directly on its own port"), with the real sockjs-client under @stomp/stompjs. Through
// lighttpd, SockJS is covered by sockjs_transports.test.mjs / sockjs_protocol.test.mjs.
//
// Note: sockjs-client in Node sends its xhr_send bodies with Transfer-Encoding: chunked
// (Node's http client does when no Content-Length is set) - valid HTTP/1.1 that lighttpd
// de-chunks before proxying, but the relay sees as is on its own port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SockJS from 'sockjs-client';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';

const stack = useStack();
useClients();
const api = new Api(stack);

async function chatOver(transport, base) {
    const { room, users: [ua, ub] } = await api.roomWith(2);
    const sock = () => new SockJS(`${base}/ws`, null, { transports: [transport] });
    const a = stomp(null, { token: ua.token, name: `A/${transport}`, socketFactory: sock });
    const b = stomp(stack.relayUrl(0), { token: ub.token, name: 'B/raw websocket' });
    const [fa] = await Promise.all([a.connect(), b.connect()]);
    assert.equal(a.ws.transport, transport, `SockJS used ${transport}`);
    assert.equal(fa.headers['user-name'], ua.user.id);
    const dest = `/topic/room/${room.id}`;
    const [sa, sb] = await Promise.all([a.subscribeReceipt(dest), b.subscribeReceipt(dest)]);
    const text = `over ${transport} — ünïcödé 😀`;
    await a.sendReceipt(room.id, text);
    const m = await sb.waitChat(text);
    assert.equal(m.senderId, ua.user.id);
    // a burst of 20 in order, the other way
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.sendReceipt(room.id, `s-${i}`)));
    const got = await sa.collect((x) => x.type === 'CHAT' && x.message.startsWith('s-'), 20);
    assert.deepEqual(got.map((x) => x.message), Array.from({ length: 20 }, (_, i) => `s-${i}`));
    assert.equal(sa.frames.at(-1).headers['content-type'], 'application/json');
}

for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling']) {
    test(`SockJS ${transport} directly on the relay port`, { timeout: 30000 }, async () => {
        await chatOver(transport, `http://127.0.0.1:${stack.relayPorts[0]}`);
    });
}
