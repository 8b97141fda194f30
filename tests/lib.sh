# tests/lib.sh - sourced by tests/integration/*.sh.
#
#   . "$(dirname "$0")/../lib.sh"
#   stack_up [--relays N]      # private stack on free ports; torn down on exit
#   check "name" cmd args...   # runs cmd; prints "ok - name" or "not ok - name"
#   expect_status NAME WANT METHOD PATH [BODY] [TOKEN] [extra curl args...]
#                              # one HTTP call, asserts status; body in $BODY
#   api METHOD PATH [BODY] [TOKEN] [extra curl args...]
#                              # one HTTP call; sets STATUS and BODY
#   rcli ARGS...               # redis-cli on the stack's Redis; fails (and says so)
#                              # when redis-cli fails or Redis answers an error
#   finish                     # prints "N passed, N failed" for this file, exit status
#
# Output is one "ok - ..." / "not ok - ..." line per assertion; tests/run.sh counts
# them. A script that dies early is counted as a failure by the runner.
set -uo pipefail
TESTS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/proc.sh
. "$TESTS_ROOT/../scripts/proc.sh"
T_PASS=0
T_FAIL=0
STACK_DIR=""

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }

check() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}

stack_up() {
    STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chat-test.XXXXXX")
    trap stack_down EXIT
    if ! "$TESTS_ROOT/stack.sh" up "$STACK_DIR" "$@" >/dev/null; then
        echo "Bail out! stack did not start (logs in $STACK_DIR)"
        cat "$STACK_DIR"/*.log 2>/dev/null | tail -20
        exit 1
    fi
    # shellcheck disable=SC1091
    . "$STACK_DIR/env"
    export BASE_URL REDIS_PORT REDIS_URL RELAY_PORTS KEY_PREFIX PORT
    REDIS_CLI="redis-cli -p $REDIS_PORT"
}

stack_down() {
    local rc=$?
    if [ -n "$STACK_DIR" ]; then
        if ! "$TESTS_ROOT/stack.sh" down "$STACK_DIR"; then
            not_ok "the stack stopped cleanly (no sanitizer report, nothing needed SIGKILL)"
            rc=1
        fi
        [ "$rc" = 0 ] && [ "$T_FAIL" = 0 ] && rm -rf "$STACK_DIR"
        [ -d "$STACK_DIR" ] && echo "# logs kept in $STACK_DIR"
        STACK_DIR=""
    fi
    exit "$rc"
}

stack_redis_stop() { "$TESTS_ROOT/stack.sh" redis-stop "$STACK_DIR"; }
stack_redis_start() { "$TESTS_ROOT/stack.sh" redis-start "$STACK_DIR" >/dev/null; }

# api METHOD PATH [BODY] [TOKEN] [curl args...]: sets STATUS, BODY, CTYPE.
api() {
    local method=$1 path=$2 body=${3:-} token=${4:-}
    shift $(($# < 4 ? $# : 4))
    local args=(-s -o "$STACK_DIR/.body" -w '%{http_code} %{content_type}' -X "$method" --max-time 10)
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    local out
    out=$(curl "${args[@]}" "$@" "$BASE_URL$path") || out="000 "
    STATUS=${out%% *}
    CTYPE=${out#* }
    BODY=$(cat "$STACK_DIR/.body" 2>/dev/null || true)
}

# expect_status NAME WANT METHOD PATH [BODY] [TOKEN] [curl args...]
expect_status() {
    local name=$1 want=$2
    shift 2
    api "$@"
    if [ "$STATUS" = "$want" ]; then
        ok "$name (HTTP $want)"
    else
        not_ok "$name: want HTTP $want, got $STATUS: $(echo "$BODY" | head -c 300)"
    fi
}

# expect_error NAME WANT CODE METHOD PATH ...: status plus the JSON error shape.
expect_error() {
    local name=$1 want=$2 code=$3
    shift 3
    api "$@"
    if [ "$STATUS" = "$want" ] && echo "$BODY" | jq -e --arg c "$code" \
        '.error.code == $c and (.error.message | type == "string" and length > 0)' >/dev/null 2>&1 &&
        [[ $CTYPE == application/json* ]]; then
        ok "$name (HTTP $want $code)"
    else
        not_ok "$name: want HTTP $want code $code, got $STATUS [$CTYPE]: $(echo "$BODY" | head -c 300)"
    fi
}

# jq_check NAME FILTER: asserts the jq filter is true on $BODY.
jq_check() {
    if echo "$BODY" | jq -e "$2" >/dev/null 2>&1; then ok "$1"; else not_ok "$1: $2 on $(echo "$BODY" | head -c 300)"; fi
}

# rcli ARGS...: redis-cli against the stack's Redis, printing its answer. Status 1 (and
# the reason on stderr) when redis-cli exits non-zero or the answer is an error, so a
# check that something is absent can tell "not there" from "could not look".
rcli() {
    local out rc
    out=$(redis-cli -p "$REDIS_PORT" "$@" 2>&1)
    rc=$?
    if [ "$rc" != 0 ] || [[ $out == ERR* || $out == WRONGTYPE* || $out == NOAUTH* || $out == "(error)"* ||
        $out == *"Could not connect"* ]]; then
        echo "rcli: redis-cli $* failed (exit $rc): ${out:0:300}" >&2
        return 1
    fi
    [ -z "$out" ] || printf '%s\n' "$out"
}

finish() {
    echo "# $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" = 0 ]
}
