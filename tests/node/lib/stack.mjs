// tests/node/lib/stack.mjs - one private chat stack per test file (tests/stack.sh).
//
//   import { useStack } from './lib/stack.mjs';
//   const stack = useStack({ relays: 2, env: { HEARTBEAT_MS: '1000' } });
//   useStack({ archiver: true }) also starts chat-archiver (stack.archiverMetricsPort,
//   stack.archiveUrl; archiverKill/Stop/Start()).
//   test('...', async () => { stack.baseUrl; stack.wsUrl; stack.relayUrl(1); ... });
//
// useStack() registers node:test hooks: before() runs `stack.sh up` in a fresh temporary
// directory and fills the returned object; after() runs `stack.sh down` - always, pass or
// fail - and fails the file when down reports sanitizer output or a process that had to
// be SIGKILLed (exit 1). A file may start several stacks: each one's teardown runs to
// the end and is checked. Only once every stack of the file is down does a safety valve
// arm (a leaked socket or timer must not hang the runner: exit 3 s later, saying so).
// A process exit/signal handler brings down any stack still up, so nothing is left
// running (that path cannot report: it is for interrupted runs).
// Binaries come from $B (default build/asan in stack.sh); the environment is passed
// through unchanged. The temporary directory (logs) is removed only when every test of
// the file passed and down was clean; set KEEP_STACK=1 to keep it anyway.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { before, after, afterEach } from 'node:test';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..', '..');
export const STACK_SH = join(ROOT, 'tests', 'stack.sh');

const live = new Set(); // dirs of stacks that are up
const todo = new Set(); // names of `todo` tests: their failure is expected (todoTest)
let registered = 0;     // stacks useStack() set up hooks for in this file
let settled = 0;        // ... whose teardown has finished (pass or fail)

function downSync(dir) {
    try {
        execFileSync(STACK_SH, ['down', dir], { stdio: 'ignore', timeout: 30000 });
    } catch { /* best effort on exit */ }
}

let handlersInstalled = false;
function installExitHandlers() {
    if (handlersInstalled) return;
    handlersInstalled = true;
    process.on('exit', () => {
        for (const dir of live) downSync(dir);
        live.clear();
    });
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
        process.on(sig, () => {
            for (const dir of live) downSync(dir);
            live.clear();
            process.exit(code);
        });
    }
}

// run stack.sh CMD DIR ARGS...; resolves {code, stdout, stderr}, never rejects.
export function stackSh(cmd, dir, args = [], { env = {}, timeout = 60000 } = {}) {
    return new Promise((resolve) => {
        execFile(STACK_SH, [cmd, dir, ...args], {
            env: { ...process.env, ...env },
            timeout,
            maxBuffer: 4 << 20,
        }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr), err });
        });
    });
}

// Parse the KEY=value lines stack.sh prints (shell syntax, values maybe "quoted").
export function parseEnv(text) {
    const out = {};
    for (const line of text.split('\n')) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
        if (!m) continue;
        let v = m[2];
        if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
            v = v.slice(1, -1);
        }
        out[m[1]] = v;
    }
    return out;
}

function tailLogs(dir, n = 30) {
    let out = '';
    try {
        for (const f of readdirSync(dir)) {
            if (!/\.(log|out)$/.test(f)) continue;
            const lines = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n');
            out += `--- ${f} (last ${Math.min(n, lines.length)} lines)\n${lines.slice(-n).join('\n')}\n`;
        }
    } catch { /* dir gone */ }
    return out;
}

export class Stack {
    constructor({ relays = 1, apiProcs, env = {}, archiver = false } = {}) {
        this.opts = { relays, apiProcs, env, archiver };
        this.dir = null;
        this.env = null;
        this.up = false;
        this.failed = false;
    }

    async start() {
        installExitHandlers();
        this.dir = mkdtempSync(join(tmpdir(), 'chat-node-'));
        const args = [];
        if (this.opts.relays !== undefined) args.push('--relays', String(this.opts.relays));
        if (this.opts.apiProcs !== undefined) args.push('--api-procs', String(this.opts.apiProcs));
        if (this.opts.archiver) args.push('--archiver');
        live.add(this.dir);
        const r = await stackSh('up', this.dir, args, { env: this.opts.env, timeout: 90000 });
        if (r.code !== 0) {
            this.failed = true;
            await this.down().catch(() => {});
            throw new Error(`stack.sh up failed (exit ${r.code}):\n${r.stderr}\n${tailLogs(this.dir)}`);
        }
        this.env = parseEnv(r.stdout);
        this.up = true;
        this.port = Number(this.env.PORT);
        this.baseUrl = this.env.BASE_URL;
        this.redisPort = Number(this.env.REDIS_PORT);
        this.relayPorts = (this.env.RELAY_PORTS || '').split(/\s+/).filter(Boolean).map(Number);
        this.wsUrl = `ws://127.0.0.1:${this.port}/ws/websocket`; // through lighttpd
        this.archiveUrl = this.env.ARCHIVE_URL;
        this.archiverMetricsPort = Number(this.env.ARCHIVER_METRICS_PORT);
        return this;
    }

    // WebSocket URL of relay i on its own port.
    relayUrl(i = 0) {
        if (this.relayPorts[i] === undefined) {
            throw new Error(`relay ${i} is not running (RELAY_PORTS="${this.env.RELAY_PORTS}"; is ${this.env.B}/ws-relay/chat-relay built?)`);
        }
        return `ws://127.0.0.1:${this.relayPorts[i]}/ws/websocket`;
    }

    // stack.sh down; throws when it reports sanitizer output. Idempotent.
    async down() {
        if (!this.dir || !live.has(this.dir)) return;
        live.delete(this.dir);
        this.up = false;
        const r = await stackSh('down', this.dir, [], { timeout: 60000 });
        if (r.code !== 0) {
            this.failed = true;
            throw new Error(`stack.sh down reported problems (exit ${r.code}; logs kept in ${this.dir}):\n${r.stderr}`);
        }
        if (!this.failed && !process.env.KEEP_STACK) {
            rmSync(this.dir, { recursive: true, force: true });
        } else {
            console.error(`# stack logs kept in ${this.dir}`);
        }
    }

    async #cmd(cmd, args = []) {
        // The stack's own environment again: a restarted relay keeps its settings.
        const r = await stackSh(cmd, this.dir, args.map(String), { env: this.opts.env, timeout: 60000 });
        if (r.code !== 0) throw new Error(`stack.sh ${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
        return r;
    }
    redisStop() { return this.#cmd('redis-stop'); }
    redisStart() { return this.#cmd('redis-start'); }
    redisKill() { return this.#cmd('redis-kill'); }     // SIGKILL: no shutdown save
    redisPause() { return this.#cmd('redis-pause'); }   // kill -STOP: Redis hangs
    redisResume() { return this.#cmd('redis-resume'); } // kill -CONT
    relayKill(i = 0) { return this.#cmd('relay-kill', [i]); }
    // SIGTERM relay i and wait; rejects when it needed SIGKILL or logged no clean exit.
    relayStop(i = 0) { return this.#cmd('relay-stop', [i]); }
    relayRestart(i = 0) { return this.#cmd('relay-restart', [i]); }
    // Replace KEY's line in DIR/env (what archiver-start and relay-restart read), e.g.
    // ARCHIVE_URL to move the archiver to another archive.
    setEnv(key, value) {
        const file = join(this.dir, 'env');
        const lines = readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith(`${key}=`));
        lines.splice(lines.length - (lines.at(-1) === '' ? 1 : 0), 0, `${key}=${value}`);
        writeFileSync(file, lines.join('\n'));
        this.env[key] = value;
    }
    archiverKill() { return this.#cmd('archiver-kill'); }   // SIGKILL
    // SIGTERM and wait; rejects when it needed SIGKILL or logged no clean exit.
    archiverStop() { return this.#cmd('archiver-stop'); }
    async archiverStart() {
        const r = await this.#cmd('archiver-start');
        // the metrics port may have been re-picked
        const env = parseEnv(readFileSync(join(this.dir, 'env'), 'utf8'));
        this.archiverMetricsPort = Number(env.ARCHIVER_METRICS_PORT);
        return r;
    }

    // One Redis command over RESP (no redis-cli needed); resolves the raw reply text.
    redis(...argv) {
        return new Promise((resolve, reject) => {
            const sock = net.connect(this.redisPort, '127.0.0.1');
            let buf = '';
            const timer = setTimeout(() => { sock.destroy(); reject(new Error(`redis ${argv[0]}: timeout`)); }, 10000);
            sock.on('error', (e) => { clearTimeout(timer); reject(e); });
            sock.on('data', (d) => {
                buf += d.toString('utf8');
                if (buf.endsWith('\r\n')) {
                    clearTimeout(timer);
                    sock.end();
                    if (buf.startsWith('-')) reject(new Error(`redis ${argv[0]}: ${buf.trim()}`));
                    else resolve(buf);
                }
            });
            let cmd = `*${argv.length}\r\n`;
            for (const a of argv) cmd += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
            sock.write(cmd);
        });
    }

    logs(n = 30) { return tailLogs(this.dir, n); }
}

// Name a test declared with { todo }: its expected failure does not keep the stack's
// logs (node's TestContext does not say whether a test is a todo). Returns name.
export function todoTest(name) { todo.add(name); return name; }

// Register before/after hooks for a stack shared by the tests of this file.
export function useStack(opts = {}) {
    const stack = new Stack(opts);
    registered++;
    before(async () => { await stack.start(); }, { timeout: 120000 });
    afterEach((t) => { if (t.passed === false && !todo.has(t.name)) stack.failed = true; });
    after(async () => {
        try {
            await stack.down();
        } finally {
            // Safety valve, armed by the last stack to come down (never while another
            // stack of the file is still stopping: its report must be read): tests must
            // never hang the runner, so if some handle (socket, timer) leaked, say so and
            // exit once the results are out.
            settled++;
            if (settled === registered) {
                setTimeout(() => {
                    console.error('# open handles left after the tests; forcing exit');
                    process.exit();
                }, 3000).unref();
            }
        }
    }, { timeout: 90000 });
    return stack;
}
