#!/usr/bin/env bash
# tests/bench/smoke.sh - keep the benchmark tool working: a few seconds of the load
# generator against a private stack (tests/stack.sh), run by `make test` (suite
# "bench"). Prints one "ok - ..." / "not ok - ..." line per check.
#
# Checks only that the tool measures sanely at a low load: messages arrive, none is
# lost, gapped or reordered, latencies and relay CPU/RSS are read. It asserts no
# performance figure (those belong to `make bench`, never to a timed test), and it
# never starts RabbitMQ. Binaries come from $B (default build/asan). The stack is
# always stopped, and its sanitizer reports fail the run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
B=${B:-build/asan}
LOADGEN=$ROOT/$B/tests/bench/loadgen
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# field KEY LINE: the value of KEY=... in a loadgen result line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2" | head -1; }

if [ ! -x "$LOADGEN" ]; then
    not_ok "loadgen is built ($LOADGEN)"
    exit 1
fi
ok "loadgen is built"
if "$LOADGEN" --help | grep -q -- '--mode'; then ok "loadgen --help"; else not_ok "loadgen --help"; fi
if [ ! -x "$ROOT/$B/ws-relay/chat-relay" ] || [ ! -x "$ROOT/$B/fcgi-api/chat-api" ]; then
    ok "# SKIP relay or API not built yet: nothing to drive"
    exit 0
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench-smoke.XXXXXX")
finish() {
    local rc=$?
    if B=$B tests/stack.sh down "$DIR" >"$DIR/down.log" 2>&1; then
        ok "stack stopped cleanly (no sanitizer report, nothing needed SIGKILL)"
    else
        not_ok "stack stopped cleanly (no sanitizer report, nothing needed SIGKILL): $(head -c 2000 "$DIR/down.log")"
    fi
    echo "# $PASS passed, $FAIL failed"
    [ "$FAIL" = 0 ] && rm -rf "$DIR"
    [ -d "$DIR" ] && echo "# logs kept in $DIR"
    [ "$FAIL" = 0 ] && [ "$rc" = 0 ]
    exit $?
}
trap finish EXIT

# The relay's per-session SEND limit would otherwise cap the flat-out check.
export SEND_RATE=100000 SEND_BURST=100000 LOG_LEVEL=${LOG_LEVEL:-warn}
if ! B=$B tests/stack.sh up "$DIR" >"$DIR/up.log" 2>&1; then
    not_ok "stack starts: $(tail -5 "$DIR/up.log")"
    exit 1
fi
# shellcheck disable=SC1091
. "$DIR/env"
RELAY_PORT=${RELAY_PORTS%% *}
RELAY_PID=$(cat "$DIR/relay0.pid")
URL=ws://127.0.0.1:$RELAY_PORT/ws/websocket
COMMON=(--url "$URL" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --pid "relay=$RELAY_PID")

# 1. Fixed low rate: 50 subscribers, 2 publishers, 20 messages/s for ~2 s.
out=$(timeout 60 "$LOADGEN" --mode pubsub "${COMMON[@]}" --subs 50 --pubs 2 --rate 20 --warmup 0.5 \
    --duration 2 --drain 3 2>"$DIR/loadgen1.err")
rc=$?
echo "# $out"
line=$(grep '^result ' <<<"$out" | tail -1)
if [ $rc = 0 ] && [ "$(field ok "$line")" = 1 ]; then ok "fixed-rate run completes"; else not_ok "fixed-rate run completes (rc $rc): $(tail -3 "$DIR/loadgen1.err")"; fi
[ "$(field ready "$line")" = 52 ] && ok "52 sessions ready" || not_ok "52 sessions ready (got $(field ready "$line"))"
delivered=$(field delivered "$line")
[ "${delivered:-0}" -gt 0 ] 2>/dev/null && ok "messages delivered ($delivered)" || not_ok "messages delivered (${delivered:-none})"
[ "$(field lost "$line")" = 0 ] && ok "no message lost" || not_ok "no message lost (lost=$(field lost "$line"))"
[ "$(field gaps "$line")" = 0 ] && [ "$(field reordered "$line")" = 0 ] && ok "per-publisher order kept" ||
    not_ok "per-publisher order kept (gaps=$(field gaps "$line") reordered=$(field reordered "$line"))"
samples=$(field samples "$line")
p99=$(field p99_us "$line")
if [ "${samples:-0}" -gt 0 ] 2>/dev/null && awk -v p="$p99" 'BEGIN { exit !(p > 0) }'; then
    ok "latency recorded ($samples samples, p99 ${p99} us)"
else
    not_ok "latency recorded (samples=${samples:-none} p99=${p99:-none})"
fi
cpu=$(field cpu.relay "$line")
awk -v c="$cpu" 'BEGIN { exit !(c >= 0 && c != "") }' && ok "relay CPU read (${cpu} %)" || not_ok "relay CPU read (${cpu:-none})"

# 2. Flat out under a small window for ~1 s: the closed loop must not lose anything.
out=$(timeout 60 "$LOADGEN" --mode pubsub "${COMMON[@]}" --subs 50 --pubs 2 --rate 0 --window 8 --warmup 0.3 \
    --duration 1 --drain 3 2>"$DIR/loadgen2.err")
rc=$?
echo "# $out"
line=$(grep '^result ' <<<"$out" | tail -1)
delivered=$(field delivered "$line")
if [ $rc = 0 ] && [ "${delivered:-0}" -gt 0 ] 2>/dev/null && [ "$(field lost "$line")" = 0 ]; then
    ok "flat-out run delivers without loss ($(field delivered_per_s "$line") MESSAGE/s)"
else
    not_ok "flat-out run delivers without loss (rc $rc): $line $(tail -3 "$DIR/loadgen2.err")"
fi

# 3. Idle connections: 200 sessions, relay RSS read.
out=$(timeout 60 "$LOADGEN" --mode conns "${COMMON[@]}" --steps 100,200 --room-size 10 --settle 0.3 2>"$DIR/loadgen3.err")
rc=$?
echo "# ${out//$'\n'/ | }"
line=$(grep '^step ' <<<"$out" | tail -1)
if [ $rc = 0 ] && [ "$(field ready "$line")" = 200 ] && [ "$(field failed "$line")" = 0 ]; then
    ok "200 idle sessions open"
else
    not_ok "200 idle sessions open (rc $rc): $line $(tail -3 "$DIR/loadgen3.err")"
fi
rss=$(field rss_kib.relay "$line")
[ "${rss:-0}" -gt 0 ] 2>/dev/null && ok "relay RSS read (${rss} KiB)" || not_ok "relay RSS read (${rss:-none})"

# sum KEY TEXT: the sum of KEY=... over the "step"/"result" lines of TEXT.
sum() { grep -E '^(step|result) ' <<<"$2" | sed -n "s/.* $1=\([0-9]*\).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'; }

# 4. The many-rooms mix, tiny: 20 rooms of 3, two open-loop steps and the half step.
# Speed cannot fail it (every step "holds"); wrong counts, order or offsets do.
out=$(timeout 60 "$LOADGEN" --mode mix "${COMMON[@]}" --pid "redis=$(cat "$DIR/redis.pidnum")" --rooms 20 --room-size 3 \
    --rate 60 --max-steps 2 --settle 0 --min-delivered 0 --max-p99-ms 1000000 --warmup 0.2 --duration 0.6 --drain 3 2>"$DIR/loadgen4.err")
rc=$?
echo "# ${out//$'\n'/ | }"
line=$(grep '^result ' <<<"$out" | tail -1)
steps=$(grep -c '^step ' <<<"$out")
if [ $rc = 0 ] && [ "$(field ok "$line")" = 1 ] && [ "$(field ready "$line")" = 60 ] && [ "$steps" = 2 ]; then
    ok "mix: 60 sessions in 20 rooms, 2 steps and the half step measured (ceiling $(field ceiling_send_per_s "$line") SEND/s)"
else
    not_ok "mix: 60 sessions, 2 steps and the half step (rc $rc, $steps steps): $line $(tail -3 "$DIR/loadgen4.err")"
fi
exp=$(sum expected "$out")
got=$(sum delivered "$out")
if [ "$exp" -gt 0 ] && [ "$exp" = "$got" ] && [ "$(sum lost "$out")" = 0 ]; then
    ok "mix: every message reached all 3 members of its room ($got deliveries)"
else
    not_ok "mix: every message reached all 3 members of its room (expected $exp, delivered $got, lost $(sum lost "$out"))"
fi
if [ "$(field integrity "$line")" = 0 ] && [ "$(sum integrity "$out")" = 0 ] && [ "$(field samples "$line")" -gt 0 ] 2>/dev/null; then
    ok "mix: right rooms, per-sender order, room offsets +1 each; latency recorded"
else
    not_ok "mix: right rooms, order and offsets (gaps=$(field gaps "$line") reordered=$(field reordered "$line") offset_gaps=$(field offset_gaps "$line") offset_back=$(field offset_back "$line") foreign=$(field foreign "$line") samples=$(field samples "$line"))"
fi

# 5. The reconnect storm, tiny: 50 sessions in 10 rooms each miss 20 messages.
storm() {
    timeout 60 "$LOADGEN" --mode storm "${COMMON[@]}" --rooms 10 --room-size 5 --missed 20 "$@" 2>>"$DIR/loadgen5.err"
}
out=$(storm --timeout 10)
rc=$?
echo "# $out"
line=$(grep '^result ' <<<"$out" | tail -1)
if [ $rc = 0 ] && [ "$(field ok "$line")" = 1 ] && [ "$(field recovered "$line")" = 50 ] && [ "$(field complete "$line")" = 50 ] &&
    [ "$(field messages "$line")" = 1000 ] && [ "$(field bad_order "$line")" = 0 ] && [ "$(field extra "$line")" = 0 ]; then
    ok "storm: 50 sessions recovered exactly their 20 missed messages each, in order ($(field catchup_s "$line") s)"
else
    not_ok "storm: 50 sessions recovered their 20 missed messages each: $line $(tail -3 "$DIR/loadgen5.err")"
fi
cpu=$(field cpu_s.relay "$line")
awk -v c="$cpu" 'BEGIN { exit !(c != "" && c >= 0) }' && ok "storm: relay CPU read (${cpu} s)" || not_ok "storm: relay CPU read (${cpu:-none})"

# 6. HISTORY_WRITES=0 (the history on/off benchmark's switch) stores nothing, so the same
# storm must fail there: no session recovers. Also shows the storm's checks can fail.
entries() {
    redis-cli -p "$REDIS_PORT" --scan --pattern "${KEY_PREFIX}room:*:history" | while read -r k; do
        redis-cli -p "$REDIS_PORT" XLEN "$k"; done | awk '{ s += $1 } END { print s + 0 }'
}
before=$(entries)
if HISTORY_WRITES=0 B=$B tests/stack.sh relay-restart "$DIR" 0 >"$DIR/restart.log" 2>&1; then
    out=$(storm --timeout 1.5) # the catch-up never completes: do not wait long for it
    echo "# $out"
    line=$(grep '^result ' <<<"$out" | tail -1)
    after=$(entries)
    if [ "$(field ok "$line")" = 0 ] && [ "$(field recovered "$line")" = 0 ] && [ "$(field not_recovered "$line")" = 50 ]; then
        ok "HISTORY_WRITES=0: nothing recovered, and the storm reports it (ok=0)"
    else
        not_ok "HISTORY_WRITES=0: nothing recovered, and the storm reports it: $line"
    fi
    [ "$before" -ge 210 ] && [ "$after" = "$before" ] && ok "HISTORY_WRITES=0: no new history entry (still $before)" ||
        not_ok "HISTORY_WRITES=0: no new history entry (before $before, after $after)"
else
    not_ok "relay restarts with HISTORY_WRITES=0: $(tail -3 "$DIR/restart.log")"
fi
