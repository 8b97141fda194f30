#!/usr/bin/env bash
# tests/run.sh - run every test suite and end with "N passed, N failed".
#
#   tests/run.sh [suite...]    suites: unit integration node browser fuzz bench
#                              (default: all of them)
#
# Counting: each cmocka test, each "ok"/"not ok" line of an integration script, each
# node:test test, each fuzz target counts once. A suite program that exits non-zero
# without reporting a failure counts as one failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export B=${B:-build/asan}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(unit fuzz integration node browser bench)
PASS=0
FAIL=0
FAILED=()
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"

# count NAME LOGFILE RC PASSED FAILED
count() {
    local name=$1 log=$2 rc=$3 p=$4 f=$5
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    if [ "$f" != 0 ]; then
        FAILED+=("$name")
        printf '%-44s %4d passed %4d FAILED  (log: %s)\n' "$name" "$p" "$f" "${log#$ROOT/}"
        grep -E '^not ok|\[  FAILED  \]|^# Subtest|Error|error:' "$log" | head -20 | sed 's/^/    /'
    else
        printf '%-44s %4d passed\n' "$name" "$p"
    fi
}

run_unit() {
    local t log rc p f
    for t in "$B"/tests/unit/test_*; do
        [ -x "$t" ] || continue
        log=$LOGDIR/unit-$(basename "$t").log
        CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 "$t" >"$log" 2>&1
        rc=$?
        p=$(grep -c '^\[       OK \]' "$log")
        f=$(grep -c '^\[  FAILED  \] [a-z_0-9]' "$log")
        count "unit/$(basename "$t")" "$log" $rc "$p" "$f"
    done
}

run_integration() {
    local t log rc p f
    for t in tests/integration/*.sh; do
        [ -f "$t" ] || continue
        case $t in *_lib.sh) continue ;; esac # sourced helpers, not tests
        log=$LOGDIR/integration-$(basename "$t" .sh).log
        timeout 600 bash "$t" >"$log" 2>&1
        rc=$?
        p=$(grep -c '^ok' "$log")
        f=$(grep -c '^not ok' "$log")
        count "integration/$(basename "$t")" "$log" $rc "$p" "$f"
    done
}

# node:test files, TAP output: "# pass N" / "# fail N".
run_node_dir() { # dir suite
    local dir=$1 suite=$2 t log rc p f
    [ -d tests/node_modules ] || { echo "$suite: tests/node_modules missing (run make deps)"; FAIL=$((FAIL + 1)); FAILED+=("$suite"); return; }
    for t in "$dir"/*.test.mjs; do
        [ -f "$t" ] || continue
        log=$LOGDIR/$suite-$(basename "$t" .test.mjs).log
        timeout 900 node --test --test-reporter=tap --test-concurrency=1 "$t" >"$log" 2>&1
        rc=$?
        p=$(grep -E '^# pass ' "$log" | awk '{s+=$3} END {print s+0}')
        f=$(grep -E '^# fail ' "$log" | awk '{s+=$3} END {print s+0}')
        count "$suite/$(basename "$t")" "$log" $rc "$p" "$f"
    done
}

run_fuzz() {
    local log=$LOGDIR/fuzz-smoke.log rc p f
    if ! grep -q '^fuzz-smoke:' tests/fuzz/build.mk 2>/dev/null; then return; fi
    make --no-print-directory fuzz-smoke >"$log" 2>&1
    rc=$?
    p=$(grep -c '^fuzz-ok' "$log")
    f=$(grep -c '^fuzz-FAIL' "$log")
    count "fuzz/smoke" "$log" $rc "$p" "$f"
}

run_bench() {
    local log=$LOGDIR/bench-smoke.log rc
    [ -x tests/bench/smoke.sh ] || return 0
    timeout 300 tests/bench/smoke.sh >"$log" 2>&1
    rc=$?
    p=$(grep -c '^ok' "$log")
    f=$(grep -c '^not ok' "$log")
    count "bench/smoke" "$log" $rc "$p" "$f"
}

for s in "${SUITES[@]}"; do
    case $s in
    unit) run_unit ;;
    integration) run_integration ;;
    node) [ -d tests/node ] && ls tests/node/*.test.mjs >/dev/null 2>&1 && run_node_dir tests/node node ;;
    browser) [ -d tests/browser ] && ls tests/browser/*.test.mjs >/dev/null 2>&1 && run_node_dir tests/browser browser ;;
    fuzz) run_fuzz ;;
    bench) run_bench ;;
    *) echo "unknown suite $s" >&2; exit 2 ;;
    esac
done

echo
if [ ${#FAILED[@]} -gt 0 ]; then echo "failed: ${FAILED[*]}"; fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
