// SockJS directly on the relay's own port (docs/STOMP.md: "The relay is also usable
// directly on its own port"), with the real sockjs-client under @stomp/stompjs. Through
// lighttpd, SockJS is covered by sockjs_transports.test.mjs / sockjs_protocol.test.mjs.
//
// sockjs-client's Node driver writes xhr_send bodies with req.write() + req.end(), so
// Node's http client sends them with Transfer-Encoding: chunked. A browser's XHR always
// sends a Content-Length, and HTTP/1.1 lets a server refuse a body without one (411,
// RFC 9112 6.3 / RFC 7230 3.3.3) - which the relay does on its own port (docs/STOMP.md;
// lighttpd in front de-chunks). So in this file Node's http.request is wrapped to send
// each request body in one piece with a Content-Length, as a browser would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import SockJS from 'sockjs-client';
import { useStack } from './lib/stack.mjs';
import { Api, stomp, useClients } from './lib/client.mjs';

const origRequest = http.request;
http.request = function (...args) {
    const req = origRequest.apply(this, args);
    const chunks = [];
    const origEnd = req.end.bind(req);
    req.write = (chunk, ...rest) => {
        chunks.push(Buffer.from(chunk));
        const cb = rest.find((x) => typeof x === 'function');
        if (cb) cb();
        return true;
    };
    req.end = (chunk, ...rest) => {
        if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
        if (chunks.length) return origEnd(Buffer.concat(chunks), ...rest.filter((x) => typeof x === 'function'));
        return origEnd(...(typeof chunk === 'function' ? [chunk] : []));
    };
    return req;
};

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
