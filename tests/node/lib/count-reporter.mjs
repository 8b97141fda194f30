// tests/node/lib/count-reporter.mjs - a node:test reporter that makes the counts exact
// for tests/run.sh (used next to the TAP reporter, which keeps the details).
//
//   node --test --test-reporter=tap --test-reporter-destination=LOG \
//        --test-reporter=tests/node/lib/count-reporter.mjs --test-reporter-destination=COUNTS FILE
//
// Every test (and subtest) is counted once when it is created (test:enqueue), and once
// more when it ends (test:pass / test:fail). It prints one line per finished test and
// ends with
//
//   # planned N / # pass N / # fail N / # skipped N / # todo N / # not-run N
//
// A timed-out or cancelled test is a failure (node's own summary keeps those apart as
// "cancelled", outside "fail"). A test that was created but never reported - the file
// called process.exit(), or died, before reaching it - is "not-run", and tests/run.sh
// counts it as a failure. The per-file pseudo-test node adds is not a test: it is
// counted only when it fails (a failing before/after hook, a file that exits non-zero).
import { basename } from 'node:path';

const key = (d) => `${d.file ?? ''}\0${d.nesting}\0${d.name}`;

export default async function* countReporter(source) {
    const open = new Map(); // key -> tests created and not yet reported
    const files = new Set();
    const n = { planned: 0, pass: 0, fail: 0, skipped: 0, todo: 0 };
    // the file's pseudo-test: named after the file (its `file` may be a hook's module)
    const isFile = (d) => d.nesting === 0 && (files.has(d.name) || d.name === d.file);
    for await (const ev of source) {
        const d = ev.data ?? {};
        if (ev.type === 'test:enqueue') {
            if (d.nesting === 0 && d.name === d.file) { files.add(d.file); continue; }
            n.planned++;
            open.set(key(d), (open.get(key(d)) ?? 0) + 1);
        } else if (ev.type === 'test:pass' || ev.type === 'test:fail') {
            const k = key(d);
            if (!isFile(d)) {
                const left = (open.get(k) ?? 0) - 1;
                if (left > 0) open.set(k, left); else open.delete(k);
            }
            let what;
            if (d.todo !== undefined) { n.todo++; what = `todo (${ev.type === 'test:pass' ? 'passes' : 'fails'}): ${d.todo}`; }
            else if (d.skip !== undefined) { n.skipped++; what = `skipped: ${d.skip}`; }
            else if (ev.type === 'test:pass') { if (isFile(d)) continue; n.pass++; what = 'ok'; }
            else {
                n.fail++;
                const err = d.details?.error;
                const type = err?.failureType ? ` [${err.failureType}]` : '';
                what = `not ok${type}: ${String(err?.cause?.message ?? err?.message ?? '').split('\n')[0].slice(0, 300)}`;
            }
            yield `${'  '.repeat(d.nesting ?? 0)}${what} - ${isFile(d) ? basename(d.name) : d.name}\n`;
        }
    }
    let notRun = 0;
    for (const [k, c] of open) {
        notRun += c;
        const [, nesting, name] = k.split('\0');
        yield `not run - ${name}${Number(nesting) ? ` (subtest, level ${nesting})` : ''}\n`;
    }
    yield `# files ${files.size}\n# planned ${n.planned}\n# pass ${n.pass}\n# fail ${n.fail}\n` +
        `# skipped ${n.skipped}\n# todo ${n.todo}\n# not-run ${notRun}\n`;
}
