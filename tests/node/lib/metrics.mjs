// tests/node/lib/metrics.mjs - read a Prometheus text exposition and check it with the
// real promtool (Debian package prometheus).
//
//   const m = await scrape(url);      // {status, text, headers, get(name, labels)}
//   promtoolCheck(m.text);            // throws with promtool's output when it objects
import { spawnSync } from 'node:child_process';

// "name{a="x",b="y"} 12" -> ["name", {a:'x', b:'y'}, 12]
function parseLine(line) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = re.exec(m[3] ?? '')) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    return [m[1], labels, Number(m[4])];
}

export function parse(text) {
    const samples = [];
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        samples.push(parseLine(line));
    }
    // The value of the one sample named name whose labels include labels (0 if none;
    // throws if several match).
    const get = (name, labels = {}) => {
        const hits = samples.filter(([n, ls]) => n === name && Object.entries(labels).every(([k, v]) => ls[k] === v));
        if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${hits.length} samples match`);
        return hits.length ? hits[0][2] : 0;
    };
    // Sum of every sample named name whose labels include labels.
    const sum = (name, labels = {}) => samples
        .filter(([n, ls]) => n === name && Object.entries(labels).every(([k, v]) => ls[k] === v))
        .reduce((a, [, , v]) => a + v, 0);
    return { samples, get, sum };
}

export async function scrape(url, headers = {}) {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10000) });
    const text = await res.text();
    const out = { status: res.status, text, headers: res.headers };
    if (res.status === 200) Object.assign(out, parse(text));
    return out;
}

export function promtoolCheck(text) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30000 });
    if (r.error) throw new Error(`promtool: ${r.error.message} (is the Debian package prometheus installed? make deps)`);
    if (r.status !== 0) throw new Error(`promtool check metrics failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
}
