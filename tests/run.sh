#!/usr/bin/env bash
# tests/run.sh - run every test suite and end with "N passed, N failed".
#
#   tests/run.sh [suite...]    suites: unit integration node browser chaos fuzz bench
#                              (default: all of them)
#   TEST_FILTER=WORD tests/run.sh node    only the unit, integration, node and browser
#                              files whose name contains WORD (while iterating)
#
# Counting, exact: every test that was planned counts once, as passed, failed or skipped.
#   unit         each cmocka test; planned = the "Running N test(s)" lines, so a test
#                binary that stops early fails the tests it did not run
#   integration  each "ok"/"not ok" line; the script must end with lib.sh's
#                "# N passed, N failed" line, agreeing with them
#   node/browser/chaos  each node:test test and subtest (tests/node/lib/count-reporter.mjs):
#                timed-out and cancelled tests fail, and so does every test the file
#                created but never finished (an early process.exit())
#   fuzz         each target; one that ran fewer than FUZZ_MIN_RUNS inputs fails
#   bench        each "ok"/"not ok" line of tests/bench/smoke.sh
# "ok ... # SKIP" lines and skipped or todo node tests are reported as skipped, never
# as passed. A suite program that exits non-zero without reporting a failure counts as
# one failure, and so does one that reports no test at all.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export B=${B:-build/asan}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(unit fuzz integration node browser chaos bench)
PASS=0
FAIL=0
SKIP=0
FAILED=()
SKIPPED=()
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"

# count NAME LOGFILE RC PASSED FAILED [SKIPPED [NOTE]]
count() {
    local name=$1 log=$2 rc=$3 p=$4 f=$5 s=${6:-0} note=${7:-}
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="${note:+$note; }exit status $rc"; fi
    if [ "$p" = 0 ] && [ "$f" = 0 ] && [ "$s" = 0 ]; then f=1; note="${note:+$note; }no test ran"; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    SKIP=$((SKIP + s))
    [ "$s" = 0 ] || SKIPPED+=("$name")
    local skipped=""
    [ "$s" = 0 ] || skipped=$(printf ' %4d skipped/todo' "$s")
    if [ "$f" != 0 ]; then
        FAILED+=("$name")
        printf '%-44s %4d passed %4d FAILED%s  (log: %s)\n' "$name" "$p" "$f" "$skipped" "${log#$ROOT/}"
        [ -z "$note" ] || echo "    $note"
        grep -E '^not ok|^ *not ok|^not run|\[  FAILED  \]|\[  ERROR   \]|^fuzz-FAIL|Error|error:' "$log" | head -20 | sed 's/^/    /'
    else
        printf '%-44s %4d passed%s\n' "$name" "$p" "$skipped"
    fi
}

picked() { [ -z "${TEST_FILTER:-}" ] || [[ $(basename "$1") == *"$TEST_FILTER"* ]]; }

run_unit() {
    local t log rc counts p f s planned
    for t in "$B"/tests/unit/test_*; do
        [ -x "$t" ] || continue
        picked "$t" || continue
        log=$LOGDIR/unit-$(basename "$t").log
        CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 "$t" >"$log" 2>&1
        rc=$?
        # one result per test: the OK/FAILED/SKIPPED line right after its RUN line (the
        # closing summary lists failed tests again; those are not counted twice)
        counts=$(awk '
            /^\[==========\] Running [0-9]+ test/ { planned += $3 }
            /^\[ RUN      \] / { cur = $4; next }
            /^\[       OK \] / { if ($4 == cur) { p++; cur = "" } next }
            /^\[  FAILED  \] / { if ($4 == cur) { f++; cur = "" } next }
            /^\[  SKIPPED \] / { if ($4 == cur) { s++; cur = "" } next }
            END { print planned + 0, p + 0, f + 0, s + 0 }' "$log")
        read -r planned p f s <<<"$counts"
        local note=""
        if [ $((p + f + s)) -lt "$planned" ]; then
            note="$((planned - p - f - s)) of $planned planned tests did not run"
            f=$((f + planned - p - f - s))
        fi
        count "unit/$(basename "$t")" "$log" $rc "$p" "$f" "$s" "$note"
    done
}

run_integration() {
    local t log rc p f s note
    for t in tests/integration/*.sh; do
        [ -f "$t" ] || continue
        case $t in *_lib.sh) continue ;; esac # sourced helpers, not tests
        picked "$t" || continue
        log=$LOGDIR/integration-$(basename "$t" .sh).log
        timeout 600 bash "$t" >"$log" 2>&1
        rc=$?
        p=$(grep -Ec '^ok( |$)' "$log")
        s=$(grep -Ec '^ok .*# SKIP' "$log")
        p=$((p - s))
        f=$(grep -Ec '^not ok( |$)' "$log")
        note=""
        # lib.sh's finish() line: the script got to the end and counted the passes we
        # counted (a failure may follow it: the stack's sanitizer check on exit)
        local fin
        fin=$(grep -E '^# [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
        if [ "$fin" = "" ] || [ "$(echo "$fin" | cut -d' ' -f2)" != $((p + s)) ] ||
            [ "$(echo "$fin" | cut -d' ' -f4)" -gt "$f" ]; then
            note="no closing \"# $((p + s)) passed, N failed\" line (got \"$fin\"): the script did not finish"
            f=$((f + 1))
        fi
        count "integration/$(basename "$t")" "$log" $rc "$p" "$f" "$s" "$note"
    done
}

# node:test files: TAP (details) in the log, exact counts from count-reporter.mjs.
run_node_dir() { # dir suite [seconds: the bound on each file, default 900]
    local dir=$1 suite=$2 limit=${3:-900} t log counts rc p f s notrun note
    [ -d tests/node_modules ] || { echo "$suite: tests/node_modules missing (run make deps)"; FAIL=$((FAIL + 1)); FAILED+=("$suite"); return; }
    for t in "$dir"/*.test.mjs; do
        [ -f "$t" ] || continue
        picked "$t" || continue
        log=$LOGDIR/$suite-$(basename "$t" .test.mjs).log
        counts=$log.counts
        rm -f "$counts"
        timeout "$limit" node --test --test-concurrency=1 \
            --test-reporter=tap --test-reporter-destination=stdout \
            --test-reporter="$ROOT/tests/node/lib/count-reporter.mjs" --test-reporter-destination="$counts" \
            "$t" >"$log" 2>&1
        rc=$?
        p=$(sed -n 's/^# pass //p' "$counts" 2>/dev/null)
        f=$(sed -n 's/^# fail //p' "$counts" 2>/dev/null)
        notrun=$(sed -n 's/^# not-run //p' "$counts" 2>/dev/null)
        s=$(($(sed -n 's/^# skipped //p' "$counts" 2>/dev/null || true) + 0 + $(sed -n 's/^# todo //p' "$counts" 2>/dev/null || true) + 0))
        note=""
        if [ -z "$p" ] || [ -z "$f" ]; then
            p=0 f=1 s=0 note="no counts from the reporter (node did not get to the end)"
        elif [ "${notrun:-0}" != 0 ]; then
            note="$notrun planned tests did not run: $(grep '^not run - ' "$counts" | head -5 | sed 's/^not run - //' | paste -sd'|')"
            f=$((f + notrun))
        fi
        { echo "# ---- counts (tests/node/lib/count-reporter.mjs)"; cat "$counts" 2>/dev/null; } >>"$log"
        count "$suite/$(basename "$t")" "$log" $rc "$p" "$f" "$s" "$note"
    done
}

run_fuzz() {
    local log=$LOGDIR/fuzz-smoke.log rc p f planned note=""
    if ! grep -q '^fuzz-smoke:' tests/fuzz/build.mk 2>/dev/null; then return; fi
    make --no-print-directory fuzz-smoke >"$log" 2>&1
    rc=$?
    planned=$(grep -c '^  FUZZ ' "$log")
    p=$(grep -c '^fuzz-ok' "$log")
    f=$(grep -c '^fuzz-FAIL' "$log")
    if [ $((p + f)) -lt "$planned" ]; then
        note="$((planned - p - f)) of $planned targets did not report"
        f=$((planned - p))
    fi
    count "fuzz/smoke" "$log" $rc "$p" "$f" 0 "$note"
}

run_bench() {
    local log=$LOGDIR/bench-smoke.log rc p f s
    [ -x tests/bench/smoke.sh ] || return 0
    timeout 300 tests/bench/smoke.sh >"$log" 2>&1
    rc=$?
    p=$(grep -Ec '^ok( |$)' "$log")
    s=$(grep -Ec '^ok .*# SKIP' "$log")
    p=$((p - s))
    f=$(grep -Ec '^not ok( |$)' "$log")
    count "bench/smoke" "$log" $rc "$p" "$f" "$s"
}

for s in "${SUITES[@]}"; do
    before=$((PASS + FAIL + SKIP))
    case $s in
    unit) run_unit ;;
    integration) run_integration ;;
    node) [ -d tests/node ] && ls tests/node/*.test.mjs >/dev/null 2>&1 && run_node_dir tests/node node ;;
    browser) [ -d tests/browser ] && ls tests/browser/*.test.mjs >/dev/null 2>&1 && run_node_dir tests/browser browser ;;
    # chaos: one scripted run, hard-bounded at 2 minutes
    chaos) [ -d tests/chaos ] && run_node_dir tests/chaos chaos 120 ;;
    fuzz) run_fuzz ;;
    bench) run_bench ;;
    *) echo "unknown suite $s" >&2; exit 2 ;;
    esac
    # a suite that found nothing to run (nothing built, no files) fails, unless a
    # TEST_FILTER picked other files
    if [ $((PASS + FAIL + SKIP)) = "$before" ] && [ -z "${TEST_FILTER:-}" ]; then
        count "$s" /dev/null 0 0 0 0 "suite $s found nothing to run"
    fi
done

echo
if [ ${#SKIPPED[@]} -gt 0 ]; then echo "$SKIP skipped or todo (not counted as passed): ${SKIPPED[*]}"; fi
if [ ${#FAILED[@]} -gt 0 ]; then echo "failed: ${FAILED[*]}"; fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
