// docs/openapi.yaml (issue 14): a valid OpenAPI 3.1 document (checked by
// @seriousme/openapi-schema-validator), naming every route chat-api serves, and
// describing the real answers: a scripted session's every response - successes and
// errors, lighttpd's own 411 and 413 included - has a status the document lists for
// that operation and a body that validates (ajv, JSON Schema 2020-12) against the
// schema it gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { useStack, ROOT } from './lib/stack.mjs';
import { stomp, useClients } from './lib/client.mjs';

const SPEC_FILE = join(ROOT, 'docs', 'openapi.yaml');
const spec = YAML.parse(readFileSync(SPEC_FILE, 'utf8'));
const stack = useStack();
useClients();

test('docs/openapi.yaml is a valid OpenAPI 3.1 document', async () => {
    const v = new Validator();
    const res = await v.validate(spec);
    assert.equal(v.version, '3.1', 'OpenAPI 3.1');
    assert.ok(res.valid, JSON.stringify(res.errors, null, 1)?.slice(0, 3000));
});

test('every route chat-api serves is in the document, and nothing else', () => {
    const help = execFileSync(join(stack.env.B, 'fcgi-api', 'chat-api'), ['--help'], { encoding: 'utf8' });
    const routes = [...help.matchAll(/^ {2}(GET|POST|DELETE|PUT|PATCH) +(\/api\S*)/gm)]
        .map(([, m, p]) => `${m} ${p}`).sort();
    assert.ok(routes.length >= 12, `routes from --help: ${routes}`);
    const documented = Object.entries(spec.paths)
        .flatMap(([p, ops]) => Object.keys(ops).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`)).sort();
    assert.deepEqual(documented, routes);
});

// ---- answers against the schemas ----------------------------------------------------

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('password', true);
ajv.addSchema(spec, 'openapi');
const ptr = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const deref = (o) => {
    while (o && o.$ref) o = o.$ref.slice(2).split('/').reduce((a, k) => a[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
    return o;
};

// Check one real answer against the document: (template, method) names the operation.
function checkAnswer(template, method, res) {
    const op = spec.paths[template]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${template} is documented`);
    const resp = deref(op.responses[String(res.status)]);
    assert.ok(resp, `${method} ${template}: status ${res.status} is documented (body ${res.text.slice(0, 200)})`);
    const ctype = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (!resp.content) {
        assert.equal(res.text, '', `${method} ${template} ${res.status}: no body documented, none sent`);
        return;
    }
    const key = Object.keys(resp.content).find((k) => k.split(';')[0].trim() === ctype)
        ?? Object.keys(resp.content).find((k) => k === '*/*');
    assert.ok(key, `${method} ${template} ${res.status}: content type ${ctype} is documented`);
    if (ctype !== 'application/json') return;
    let ref;
    if (op.responses[String(res.status)].$ref) {
        ref = `openapi#/components/responses/${op.responses[String(res.status)].$ref.split('/').pop()}/content/${ptr(key)}/schema`;
    } else {
        ref = `openapi#/paths/${ptr(template)}/${method.toLowerCase()}/responses/${res.status}/content/${ptr(key)}/schema`;
    }
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    const body = JSON.parse(res.text);
    assert.ok(validate(body), `${method} ${template} ${res.status}: ${JSON.stringify(validate.errors)} for ${res.text.slice(0, 300)}`);
}

let seen = 0;
async function call(template, method, path, { token, body, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (body !== undefined && !raw) h['Content-Type'] = 'application/json';
    const res = await fetch(stack.baseUrl + path, {
        method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
        signal: AbortSignal.timeout(10000),
    });
    const out = { status: res.status, headers: res.headers, text: await res.text() };
    checkAnswer(template, method, out);
    seen++;
    out.json = out.text && out.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(out.text) : null;
    return out;
}

test('a scripted session: every answer matches the document', { timeout: 60000 }, async () => {
    const email = `oa-${Date.now()}@example.test`;
    const su = await call('/api/users', 'POST', '/api/users', { body: { name: 'Open Api', email, password: 'password 123' } });
    assert.equal(su.status, 201);
    const T = su.json.token;
    assert.equal((await call('/api/users', 'POST', '/api/users', { body: { name: 'Dup', email, password: 'password 123' } })).status, 409);
    assert.equal((await call('/api/users', 'POST', '/api/users', { body: { name: '', email: 'x', password: 'short' } })).status, 422);
    assert.equal((await call('/api/users', 'POST', '/api/users', { raw: '{"name":', headers: { 'Content-Type': 'application/json' } })).status, 400);
    assert.equal((await call('/api/users', 'POST', '/api/users', { raw: 'name=x', headers: { 'Content-Type': 'text/plain' } })).status, 415);
    assert.equal((await call('/api/users', 'POST', '/api/users', { raw: `{"name":"${'x'.repeat(20000)}"}`, headers: { 'Content-Type': 'application/json' } })).status, 413);
    assert.equal((await call('/api/sessions', 'POST', '/api/sessions', { body: { email, password: 'password 123' } })).status, 200);
    assert.equal((await call('/api/sessions', 'POST', '/api/sessions', { body: { email, password: 'wrong password' } })).status, 401);
    assert.equal((await call('/api/sessions', 'POST', '/api/sessions', { body: { email } })).status, 422);
    assert.equal((await call('/api/users/me', 'GET', '/api/users/me', { token: T })).status, 200);
    assert.equal((await call('/api/users/me', 'GET', '/api/users/me', { token: 'nope' })).status, 401);
    const room = await call('/api/rooms', 'POST', '/api/rooms', { token: T, body: { name: 'spec room' } });
    assert.equal(room.status, 201);
    await call('/api/rooms', 'POST', '/api/rooms', { token: T, body: { name: 'second spec room' } });
    const page = await call('/api/rooms', 'GET', '/api/rooms?limit=1', { token: T });
    assert.equal(page.status, 200);
    assert.equal(typeof page.json.next, 'string');
    assert.equal((await call('/api/rooms', 'GET', `/api/rooms?limit=1&cursor=${encodeURIComponent(page.json.next)}`, { token: T })).status, 200);
    assert.equal((await call('/api/rooms', 'GET', '/api/rooms?limit=0', { token: T })).status, 422);
    const id = room.json.id;
    const other = await call('/api/users', 'POST', '/api/users', { body: { name: 'Other', email: `o-${email}`, password: 'password 123' } });
    const T2 = other.json.token;
    assert.equal((await call('/api/rooms/{id}/members', 'POST', `/api/rooms/${id}/members`, { token: T2, raw: '' })).status, 200);
    assert.equal((await call('/api/rooms/{id}/members', 'POST', '/api/rooms/nosuchroom/members', { token: T2, raw: '' })).status, 404);
    assert.equal((await call('/api/rooms/{id}', 'GET', `/api/rooms/${id}`, { token: T2 })).status, 200);
    assert.equal((await call('/api/rooms/{id}', 'GET', '/api/rooms/nosuchroom', { token: T2 })).status, 404);
    assert.equal((await call('/api/users/me/rooms', 'GET', '/api/users/me/rooms', { token: T2 })).status, 200);
    // History: a real stored message through STOMP, then the REST answers about it.
    const c = stomp(stack.wsUrl, { token: T2, name: 'spec' });
    await c.connect();
    await c.sendReceipt(id, 'a stored message');
    await c.close();
    const hist = await call('/api/rooms/{id}/messages', 'GET', `/api/rooms/${id}/messages?limit=10`, { token: T2 });
    assert.equal(hist.status, 200);
    assert.ok(hist.json.messages.some((m) => m.message === 'a stored message'), 'the message is in the history');
    assert.equal((await call('/api/rooms/{id}/messages', 'GET', `/api/rooms/${id}/messages?after=0&limit=1`, { token: T2 })).status, 200);
    assert.equal((await call('/api/rooms/{id}/messages', 'GET', `/api/rooms/${id}/messages?limit=0`, { token: T2 })).status, 422);
    assert.equal((await call('/api/rooms/{id}/messages', 'GET', '/api/rooms/nosuchroom/messages', { token: T2 })).status, 404);
    const stranger = await call('/api/users', 'POST', '/api/users', { body: { name: 'Stranger', email: `s-${email}`, password: 'password 123' } });
    assert.equal((await call('/api/rooms/{id}/messages', 'GET', `/api/rooms/${id}/messages`, { token: stranger.json.token })).status, 403);
    // Search (nothing archived in this stack: the answers' shapes are what is checked here;
    // tests/node/search.test.mjs checks what they find).
    assert.equal((await call('/api/search', 'GET', `/api/search?q=stored&roomId=${id}&limit=5`, { token: T2 })).status, 200);
    assert.equal((await call('/api/search', 'GET', '/api/search', { token: T2 })).status, 422);
    assert.equal((await call('/api/search', 'GET', '/api/search?q=x&roomId=nosuchroom', { token: T2 })).status, 404);
    assert.equal((await call('/api/search', 'GET', `/api/search?q=x&roomId=${id}`, { token: stranger.json.token })).status, 403);
    assert.equal((await call('/api/search', 'GET', '/api/search?q=x')).status, 401);
    assert.equal((await call('/api/rooms/{id}/members/me', 'DELETE', `/api/rooms/${id}/members/me`, { token: T2 })).status, 204);
    assert.equal((await call('/api/rooms/{id}/members/me', 'DELETE', `/api/rooms/${id}/members/me`, { token: T2 })).status, 404);
    assert.equal((await call('/api/health', 'GET', '/api/health')).status, 200);
    assert.equal((await call('/api/metrics', 'GET', '/api/metrics')).status, 200);
    assert.equal((await call('/api/sessions/current', 'DELETE', '/api/sessions/current', { token: T2 })).status, 204);
    assert.equal((await call('/api/sessions/current', 'DELETE', '/api/sessions/current', { token: T2 })).status, 401);
    assert.ok(seen >= 28, `${seen} answers checked`);
});

test("lighttpd's own answers match too: 411 without Content-Length, 413 over 1 MiB", { timeout: 30000 }, async () => {
    const su = await call('/api/users', 'POST', '/api/users', { body: { name: 'Big', email: `big-${Date.now()}@example.test`, password: 'password 123' } });
    const curl = (args) => {
        const out = execFileSync('curl', ['-s', '-D', '-', '--max-time', '10', ...args], { encoding: 'utf8' });
        const [head, ...rest] = out.split('\r\n\r\n');
        const headers = new Headers();
        for (const l of head.split('\r\n').slice(1)) { const i = l.indexOf(':'); headers.set(l.slice(0, i), l.slice(i + 1).trim()); }
        return { status: Number(head.split(' ')[1]), headers, text: rest.join('\r\n\r\n') };
    };
    const r411 = curl(['-X', 'POST', '-H', `Authorization: Bearer ${su.json.token}`, `${stack.baseUrl}/api/rooms`]);
    assert.equal(r411.status, 411);
    checkAnswer('/api/rooms', 'POST', r411);
    const r413 = await fetch(`${stack.baseUrl}/api/rooms`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${su.json.token}` },
        body: 'x'.repeat(1100000), signal: AbortSignal.timeout(10000) }).catch((e) => e);
    if (r413 instanceof Error) throw r413;
    const o = { status: r413.status, headers: r413.headers, text: await r413.text() };
    assert.equal(o.status, 413);
    checkAnswer('/api/rooms', 'POST', o);
});

test('files: upload, download, thumbnail and their errors match the document', { timeout: 30000 }, async () => {
    const su = await call('/api/users', 'POST', '/api/users', { body: { name: 'Files', email: `files-${Date.now()}@example.test`, password: 'password 123' } });
    const T = su.json.token;
    const room = await call('/api/rooms', 'POST', '/api/rooms', { token: T, body: { name: 'files' } });
    const up = (name, raw, token = T, rid = room.json.id) => call('/api/rooms/{id}/files', 'POST',
        `/api/rooms/${rid}/files?name=${encodeURIComponent(name)}`, { token, raw, headers: { 'Content-Type': 'application/octet-stream' } });
    const pngPath = join(tmpdir(), `openapi-${process.pid}.png`);
    execFileSync('vips', ['black', pngPath, '64', '48']);
    const img = await up('p.png', readFileSync(pngPath));
    unlinkSync(pngPath);
    assert.equal(img.status, 201);
    assert.equal(typeof img.json.thumbUrl, 'string');
    assert.equal((await call('/api/files/{id}/thumb', 'GET', img.json.thumbUrl, { token: T })).status, 200);
    const txt = await up('a.txt', 'some text\n');
    assert.equal(txt.status, 201);
    assert.equal((await call('/api/files/{id}', 'GET', `/api/files/${txt.json.id}`, { token: T })).status, 200);
    assert.equal((await call('/api/files/{id}', 'GET', `/api/files/${txt.json.id}`, { token: T, headers: { Range: 'bytes=0-3' } })).status, 206);
    assert.equal((await call('/api/files/{id}/thumb', 'GET', `/api/files/${txt.json.id}/thumb`, { token: T })).status, 404);
    assert.equal((await call('/api/files/{id}', 'GET', '/api/files/nosuchfile', { token: T })).status, 404);
    assert.equal((await call('/api/files/{id}', 'GET', `/api/files/${txt.json.id}`)).status, 401);
    assert.equal((await up('', 'x')).status, 422);
    assert.equal((await up('empty.txt', '')).status, 422);
    assert.equal((await up('a.txt', 'x', 'nope')).status, 401);
    assert.equal((await up('a.txt', 'x', T, 'nosuchroom')).status, 404);
    const other = await call('/api/users', 'POST', '/api/users', { body: { name: 'Other', email: `files-o-${Date.now()}@example.test`, password: 'password 123' } });
    assert.equal((await up('a.txt', 'x', other.json.token)).status, 403);
    assert.equal((await call('/api/files/{id}', 'GET', `/api/files/${txt.json.id}`, { token: other.json.token })).status, 403);
});
