#!/usr/bin/env bash
# tests/bench/bench.sh - the full benchmark suite behind `make bench`.
#
#   tests/bench/bench.sh            measure, print markdown, write docs/BENCHMARKS.md
#   BENCH_QUICK=1 tests/bench/bench.sh   a small, short version to try the script
#                                        (writes build/bench/BENCHMARKS.quick.md)
#   BENCH_REPORT_ONLY=1 tests/bench/bench.sh   rewrite the document from the raw
#                                        results of the last run (e.g. after editing
#                                        tests/bench/NOTES.md); measures nothing
#   BENCH_SECTIONS="mix storm" BENCH_OUT=FILE tests/bench/bench.sh   only these sections
#                                        (fanout metrics history rabbit two conns rest
#                                        mix storm archiver); the others' tables stay empty, so
#                                        write to another file than docs/BENCHMARKS.md
#
# Measures, on private stacks (tests/stack.sh) pinned to $SERVER_CPUS while every
# load generator (loadgen, wrk, redis-benchmark) runs on $LOADGEN_CPUS:
#   Redis ceilings   redis-benchmark PUBLISH; a raw subscriber's receive rate
#   fan-out          1 room, 1,000 subscribers, 4 publishers, 100-byte messages, flat out
#   latency          SEND->MESSAGE at 10/50/90 % of the peak just measured; 1 and 2 relays
#   connections      idle subscribed sessions: relay RSS at 1k, 10k, 50k and the most
#                    this machine allows; bytes per session
#   REST             GET /api/rooms, POST /api/rooms/{id}/members vs a static file (wrk)
#   metrics cost     flat-out fan-out on one relay with METRICS=1 and METRICS=0,
#                    alternating run by run (the ratio must stay >= 0.98)
#   history cost     the same with HISTORY_WRITES=1 and 0 (the ratio must stay >= 0.9)
#   many rooms       1,000 rooms x 10 members, every member sending on an open-loop
#                    schedule, stepped up to the ceiling; latency at half of it; the
#                    same mix against RabbitMQ (1,000 topics) right after
#   reconnect storm  1,000 sessions (100 rooms x 10) each missing 100 messages come
#                    back at once with x-since-offset: time until all caught up, relay
#                    and Redis CPU over it
#   archiver         chat-archiver's throughput into SQLite and PostgreSQL from a feed
#                    pre-filled with ARCHIVE_N messages (tests/bench/archiver.sh), next to
#                    the relay's SEND ceiling (1 subscriber, flat out)
#   peer             RabbitMQ 3.10 Web-STOMP with the same load generator (fan-out,
#                    latency, bytes per connection), started here and stopped here
# Each figure is the median of $RUNS independent runs (own connections and users),
# with the min–max spread; a run measures flat out first, then the percentages of
# that run's own peak on the same connections. Profiles (perf) are taken in extra
# runs so they do not disturb the measured ones. Binaries come from $B (default
# build/release, built by `make bench`). Leaves nothing running.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
B=${B:-build/release}
QUICK=${BENCH_QUICK:-0}
RUNS=${BENCH_RUNS:-3}
WORK=$ROOT/build/bench
RAW=$WORK/raw
LOADGEN=$ROOT/$B/tests/bench/loadgen
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
[ "$(nproc)" -ge 2 ] || { SERVER_CPUS=0; LOADGEN_CPUS=0; }
if [ "$QUICK" = 1 ]; then
    OUT=${BENCH_OUT:-$WORK/BENCHMARKS.quick.md}
    SUBS=200 PUBS=4 WARMUP=0.5 DURATION=1 CONN_STEPS=500,1000 CONN_MAX=2000 RABBIT_STEPS=300,600
    WRK_DURATION=1s REDIS_N=200000 RUNS=${BENCH_RUNS:-1}
    MIX_ROOMS=100 STORM_ROOMS=20 STORM_MISSED=50
else
    OUT=${BENCH_OUT:-$ROOT/docs/BENCHMARKS.md}
    SUBS=1000 PUBS=4 WARMUP=1 DURATION=4 CONN_STEPS=1000,10000,50000 CONN_MAX=${BENCH_MAX_CONNS:-200000}
    RABBIT_STEPS=1000,5000 WRK_DURATION=5s REDIS_N=1000000
    MIX_ROOMS=1000 STORM_ROOMS=100 STORM_MISSED=100
fi
# The many-rooms mix: rooms of 10, first step's SEND/s per target, growth per step.
# One run per target by default: setting up 10,000 RabbitMQ sessions takes ~2 minutes.
MIX_RUNS=${BENCH_MIX_RUNS:-1}
MIX_RATE0=${BENCH_MIX_RATE0:-500}
MIX_RABBIT_RATE0=${BENCH_MIX_RABBIT_RATE0:-100}
MIX_FACTOR=1.5
MIX_MAX_P99_MS=250
SECTIONS=${BENCH_SECTIONS:-all}
# want NAME: whether section NAME is to be measured in this run.
want() { [ "$SECTIONS" = all ] || [[ " $SECTIONS " == *" $1 "* ]]; }
# Messages in flight per publisher when flat out. Our relay's peak is flat from 2 to 8;
# RabbitMQ needs 8 to saturate its core (13k MESSAGE/s at 4, 19-20k at 8 to 64).
WINDOW=${BENCH_WINDOW:-4}
RABBIT_WINDOW=${BENCH_RABBIT_WINDOW:-8}
LOADS="0,10%,50%,90%"
# shellcheck source=tests/bench/bench_lib.sh
. "$ROOT/tests/bench/bench_lib.sh"

DOC_TMP=$WORK/doc.md
if [ "${BENCH_REPORT_ONLY:-0}" = 1 ]; then
    [ -f "$WORK/meta.sh" ] || { echo "bench: no earlier run in $WORK" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$WORK/meta.sh"
    # shellcheck source=tests/bench/bench_lib.sh
    . "$ROOT/tests/bench/bench_lib.sh"
    # shellcheck source=tests/bench/bench_report.sh
    . "$ROOT/tests/bench/bench_report.sh"
    : >"$DOC_TMP"
    write_report
    cp "$DOC_TMP" "$OUT"
    echo "bench: rewrote ${OUT#$ROOT/} from $WORK/raw" >&2
    exit 0
fi
rm -rf "$WORK"
mkdir -p "$RAW" "$(dirname "$OUT")"
: >"$DOC_TMP"
MEASURED_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')
MEASURED_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
STACKS=()
STACK_DIR=
RABBIT_DIR=$WORK/rabbit
cleanup() {
    local s
    for s in "${STACKS[@]}"; do "$ROOT/tests/stack.sh" down "$s" >/dev/null 2>&1 || true; done
    [ -f "$RABBIT_DIR/env" ] && "$ROOT/tests/bench/rabbit.sh" down "$RABBIT_DIR" >/dev/null 2>&1
    [ -n "${PERF_PID:-}" ] && kill "$PERF_PID" 2>/dev/null
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Many sockets on both sides: the stacks and the loadgen inherit this limit. Raising
# the hard limit needs CAP_SYS_RESOURCE; without it every process (relay included)
# stays under the hard limit, and the report says so.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
FD_LIMIT=$(ulimit -n)
HAVE_RELAY=0 HAVE_API=0 HAVE_RABBIT=0 HAVE_PERF=0
[ -x "$B/ws-relay/chat-relay" ] && HAVE_RELAY=1
[ -x "$B/fcgi-api/chat-api" ] && HAVE_API=1
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && [ "${BENCH_NO_RABBIT:-0}" != 1 ] && HAVE_RABBIT=1
perf --version >/dev/null 2>&1 && HAVE_PERF=1
[ -x "$LOADGEN" ] || { echo "bench: $LOADGEN not built (run make bench)" >&2; exit 1; }
[ "$HAVE_API" = 1 ] || { echo "bench: $B/fcgi-api/chat-api not built (stack.sh needs it)" >&2; exit 1; }
LG=(taskset -c "$LOADGEN_CPUS" "$LOADGEN")
T0=$(date +%s)

# lg SET ARGS...: one loadgen run, pinned; result lines appended to $RAW/SET.txt.
lg() {
    local set=$1
    shift
    note_cmd "taskset -c $LOADGEN_CPUS loadgen $*"
    timeout 600 "${LG[@]}" "$@" >>"$RAW/$set.txt" 2>>"$RAW/$set.err"
}

# profile_start NAME PIDS SECONDS [SORT [COMM]]: perf record with DWARF call graphs of
# the processes, in the background. profile_report NAME waits, then writes the top
# entries by self time (sorted by SORT, default dso,symbol) to $WORK/NAME.perf.txt
# and by inclusive time (the callers' view, COMM's samples only) to
# $WORK/NAME.children.txt.
profile_start() {
    PERF_PID=
    [ "$HAVE_PERF" = 1 ] || return 0
    PERF_SORT=${4:-dso,symbol}
    PERF_COMM=${5:-}
    note_cmd "perf record -F 499 --call-graph dwarf,16384 -p <pids> -- sleep $3; perf report --no-children --sort $PERF_SORT; perf report --children --sort symbol${PERF_COMM:+ --comm $PERF_COMM}"
    taskset -c "$LOADGEN_CPUS" perf record -q -F 499 --call-graph dwarf,16384 -p "$2" -o "$WORK/$1.perf.data" \
        -- sleep "$3" >/dev/null 2>&1 &
    PERF_PID=$!
}
profile_report() {
    [ -n "${PERF_PID:-}" ] || return 0
    wait "$PERF_PID" 2>/dev/null
    PERF_PID=
    perf report -i "$WORK/$1.perf.data" --stdio --no-children --sort "$PERF_SORT" --percent-limit 1.2 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -25 | sed -e 's/[ -]*$//' >"$WORK/$1.perf.txt"
    perf report -i "$WORK/$1.perf.data" --stdio --children --sort symbol ${PERF_COMM:+--comm "$PERF_COMM"} \
        --percent-limit 4 2>/dev/null | grep -E '^ +[0-9.]+%' | grep -v -e '\] _start' -e '__libc_start' -e '0xffffffff' |
        head -32 | sed -e 's/[ -]*$//' >"$WORK/$1.children.txt"
    rm -f "$WORK/$1.perf.data"
}

# syscalls_per PID SECONDS OUT: count the process's main syscalls for SECONDS.
SYSCALLS="sendto recvfrom read write writev epoll_ctl epoll_wait epoll_pwait"
syscalls_count() {
    [ "$HAVE_PERF" = 1 ] || return 0
    local ev="" c
    for c in $SYSCALLS; do ev="$ev${ev:+,}syscalls:sys_enter_$c"; done
    note_cmd "perf stat -e syscalls:sys_enter_{${SYSCALLS// /,}} -p <pid> -- sleep $2"
    taskset -c "$LOADGEN_CPUS" perf stat -x, -e "$ev" -p "$1" -- sleep "$2" 2>"$3.raw" >/dev/null
    awk -F, '$3 ~ /sys_enter_/ { sub("syscalls:sys_enter_", "", $3); print $3, $1 }' "$3.raw" >"$3"
}

# other_load FILE: each result line gets " other.cpu=X": the share of the server CPU
# that processes other than the watched ones took during the phase (busy time of
# that CPU minus the watched processes' CPU); prints the largest X.
DISTURBED_PCT=${BENCH_DISTURBED_PCT:-10}
other_load() {
    local file=$1
    case $SERVER_CPUS in *[!0-9]*) cat "$file.new" >>"$file"; rm -f "$file.new"; echo 0; return ;; esac
    awk -v c="busy.cpu$SERVER_CPUS" -v out="$file" 'BEGIN { worst = 0 }
        /^result / {
            busy = ""; sum = 0
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == c) busy = kv[2]
                else if (kv[1] ~ /^cpu\./ && kv[1] != "cpu.loadgen" && kv[2] >= 0) sum += kv[2]
            }
            if (busy != "") { o = busy - sum; if (o < 0) o = 0; $0 = $0 sprintf(" other.cpu=%.1f", o); if (o > worst) worst = o }
        }
        { print >>out }
        END { printf "%.0f\n", worst }' "$file.new"
    rm -f "$file.new"
}

# run_series SET LABEL CMD...: RUNS runs of a pub/sub command whose result lines go
# to $RAW/SET.txt. A run during which other processes took more than DISTURBED_PCT %
# of the server CPU (colleagues' tests on a shared machine, say) is kept apart in
# SET.disturbed.txt and repeated, at most twice in all; if runs are still missing
# then, the disturbed ones are used and the report says so.
run_series() {
    local set=$1 label=$2 clean=0 tries=0 max=$((RUNS + 2)) worst
    shift 2
    while [ $clean -lt "$RUNS" ] && [ $tries -lt $max ]; do
        tries=$((tries + 1))
        say "$label run $((clean + 1))/$RUNS$([ $tries -gt $((clean + 1)) ] && echo " (attempt $tries)")"
        "$@" >"$RAW/$set.try.new" 2>>"$RAW/$set.err"
        note_cmd "$(printf '%s ' "$@" | sed "s#$LOADGEN#loadgen#")"
        worst=$(other_load "$RAW/$set.try")
        if [ "$worst" -gt "$DISTURBED_PCT" ] && [ $((max - tries)) -ge $((RUNS - clean)) ]; then
            say "$label: other processes took ${worst} % of CPU $SERVER_CPUS during that run; repeating it"
            cat "$RAW/$set.try" >>"$RAW/$set.disturbed.txt"
        else
            [ "$worst" -gt "$DISTURBED_PCT" ] && grep -c '^result' "$RAW/$set.try" >>"$RAW/$set.disturbed-used.txt"
            cat "$RAW/$set.try" >>"$RAW/$set.txt"
            clean=$((clean + 1))
        fi
        rm -f "$RAW/$set.try"
    done
}

# pubsub_series SET URLS PIDS [ARGS...]: the fan-out/latency series on our relay(s).
pubsub_series() {
    local set=$1 urls=$2 pids=$3
    shift 3
    # shellcheck disable=SC2086
    run_series "$set" "$set" timeout 600 "${LG[@]}" --mode pubsub $urls --redis "$REDIS_URL" --prefix "$KEY_PREFIX" \
        --subs "$SUBS" --pubs "$PUBS" --window "$WINDOW" --warmup "$WARMUP" --duration "$DURATION" --drain 3 $pids "$@"
}

# split SET: per-phase files SET.flat, SET.p10, SET.p50, SET.p90 from SET.txt.
split_phases() {
    local set=$1
    grep ' load=flat-out ' "$RAW/$set.txt" >"$RAW/$set.flat.txt" 2>/dev/null
    grep ' load=10% ' "$RAW/$set.txt" >"$RAW/$set.p10.txt" 2>/dev/null
    grep ' load=50% ' "$RAW/$set.txt" >"$RAW/$set.p50.txt" 2>/dev/null
    grep ' load=90% ' "$RAW/$set.txt" >"$RAW/$set.p90.txt" 2>/dev/null
    grep ' load=fixed ' "$RAW/$set.txt" >"$RAW/$set.fixed.txt" 2>/dev/null
    return 0
}

# ---- 1. one relay: ceilings, fan-out, latency -------------------------------------------
MSG100=$(printf 'x%.0s' $(seq 1 100))
if [ "$HAVE_RELAY" = 1 ] && want fanout && stack_start one-relay; then
    say "Redis ceilings"
    for ((i = 1; i <= RUNS; i++)); do
        note_cmd "taskset -c $LOADGEN_CPUS redis-benchmark -p <port> -n $REDIS_N -c 50 -P 16 -q PUBLISH <chan> <100 bytes>"
        taskset -c "$LOADGEN_CPUS" redis-benchmark -p "$REDIS_PORT" -n "$REDIS_N" -c 50 -P 16 -q PUBLISH lgceil0 "$MSG100" 2>&1 |
            tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | awk '{ print "result ok=1 rps=" $1 }' >>"$RAW/ceil-pub.txt"
        lg ceil-sub --mode redis-sub --redis "$REDIS_URL" --channel lgceil1 --duration 30 &
        sleep 0.5
        taskset -c "$LOADGEN_CPUS" redis-benchmark -p "$REDIS_PORT" -n "$REDIS_N" -c 50 -P 16 -q PUBLISH lgceil1 "$MSG100" 2>&1 |
            tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | awk '{ print "result ok=1 rps=" $1 }' >>"$RAW/ceil-pub1.txt"
        wait
    done
    URL1="--url $(relay_url 0)"
    PIDS1="--pid relay=$(relay_pid 0) --pid redis=$REDIS_PID"
    pubsub_series one "$URL1" "$PIDS1" --rate "$LOADS"
    split_phases one
    say "profile: relay under flat-out fan-out"
    # shellcheck disable=SC2086
    lg profile-one --mode pubsub $URL1 --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --subs "$SUBS" --pubs "$PUBS" \
        --window "$WINDOW" --warmup 0 --duration 8 --drain 3 --rate 0 --pid "relay=$(relay_pid 0)" &
    LGP=$!
    # Profile the relay once the set-up (and its JOIN notices) is over: where the
    # time goes, then how many system calls each delivery costs.
    for ((k = 0; k < 600; k++)); do grep -q 'sessions ready' "$RAW/profile-one.err" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    profile_start relay-fanout "$(relay_pid 0)" 3 dso,symbol chat-relay
    profile_report relay-fanout
    syscalls_count "$(relay_pid 0)" 2 "$WORK/relay-fanout.syscalls"
    wait "$LGP"
    stack_stop
fi

# ---- 1b. the cost of metrics: flat-out fan-out with counting on and off ---------------------
# Fresh stacks, alternating on/off run by run so drift on the machine hits both alike.
if [ "$HAVE_RELAY" = 1 ] && want metrics; then
    for ((i = 1; i <= RUNS; i++)); do
        for m in 1 0; do
            export METRICS=$m
            stack_start "metrics$m" || { unset METRICS; continue; }
            unset METRICS
            say "metrics=$m run $i/$RUNS"
            # shellcheck disable=SC2086
            "${LG[@]}" --mode pubsub --url "$(relay_url 0)" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" \
                --subs "$SUBS" --pubs "$PUBS" --window "$WINDOW" --warmup "$WARMUP" --duration "$DURATION" \
                --drain 3 --rate 0 --pid "relay=$(relay_pid 0)" >>"$RAW/metrics$m.txt" 2>>"$RAW/metrics$m.err"
            note_cmd "METRICS=$m loadgen --mode pubsub ... --rate 0"
            stack_stop
        done
    done
    split_phases metrics1
    split_phases metrics0
fi

# ---- 1c. the cost of history: flat-out fan-out with history writes on and off ---------------
# HISTORY_WRITES=0 is a benchmark-only switch (docs/CONFIG.md): the SEND script skips its
# XADD and nothing else. Alternating like the metrics runs.
if [ "$HAVE_RELAY" = 1 ] && want history; then
    for ((i = 1; i <= RUNS; i++)); do
        for h in 1 0; do
            export HISTORY_WRITES=$h
            stack_start "history$h" || { unset HISTORY_WRITES; continue; }
            unset HISTORY_WRITES
            # One run, repeated (at most twice) when other processes took the server CPU.
            RUNS=1 run_series "history$h" "history writes=$h, pair $i/$RUNS:" timeout 600 "${LG[@]}" --mode pubsub \
                --url "$(relay_url 0)" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --subs "$SUBS" --pubs "$PUBS" \
                --window "$WINDOW" --warmup "$WARMUP" --duration "$DURATION" --drain 3 --rate 0 \
                --pid "relay=$(relay_pid 0)" --pid "redis=$REDIS_PID"
            note_cmd "HISTORY_WRITES=$h loadgen --mode pubsub ... --rate 0"
            # Nothing may have been stored with the writes off, and everything with them on.
            echo "history$h stream_entries=$(redis-cli -p "$REDIS_PORT" --scan --pattern "${KEY_PREFIX}room:*:history" |
                while read -r k; do redis-cli -p "$REDIS_PORT" XLEN "$k"; done | awk '{ s += $1 } END { print s + 0 }')" >>"$RAW/history$h.check"
            stack_stop
        done
    done
    split_phases history1
    split_phases history0
fi

# ---- 2. RabbitMQ Web-STOMP, same load generator -----------------------------------------
if [ "$HAVE_RABBIT" = 1 ] && want rabbit; then
    say "RabbitMQ: starting a private node"
    if taskset -c "$SERVER_CPUS" "$ROOT/tests/bench/rabbit.sh" up "$RABBIT_DIR" "$SERVER_CPUS" >"$WORK/rabbit-up.log" 2>&1; then
        # shellcheck disable=SC1091
        . "$RABBIT_DIR/env"
        run_series rabbit rabbitmq timeout 600 "${LG[@]}" --mode pubsub --peer rabbitmq --url "$WS_URL" --subs "$SUBS" \
            --pubs "$PUBS" --window "$RABBIT_WINDOW" --warmup "$WARMUP" --duration "$DURATION" --drain 10 \
            --pid "rabbit=$RABBIT_PID" --rate 0,50%
        split_phases rabbit
        "$ROOT/tests/bench/rabbit.sh" down "$RABBIT_DIR" >/dev/null 2>&1
        # Connections: a fresh node per run, so freed memory is not reused.
        for ((i = 1; i <= RUNS; i++)); do
            say "rabbitmq connections run $i/$RUNS"
            taskset -c "$SERVER_CPUS" "$ROOT/tests/bench/rabbit.sh" up "$RABBIT_DIR" "$SERVER_CPUS" >>"$WORK/rabbit-up.log" 2>&1 || break
            . "$RABBIT_DIR/env"
            lg rabbit-conns --mode conns --peer rabbitmq --url "$WS_URL" --steps "$RABBIT_STEPS" --room-size 10 \
                --concurrency 64 --settle 2 --pid "rabbit=$RABBIT_PID"
            "$ROOT/tests/bench/rabbit.sh" down "$RABBIT_DIR" >/dev/null 2>&1
        done
        rm -f "$RABBIT_DIR/env"
    else
        say "RabbitMQ did not start: $(tail -3 "$WORK/rabbit-up.log")"
        HAVE_RABBIT=0
    fi
fi

# ---- 3. two relays on one Redis ------------------------------------------------------------
if [ "$HAVE_RELAY" = 1 ] && want two && stack_start two-relays --relays 2; then
    URL2="--url $(relay_url 0) --url $(relay_url 1)"
    PIDS2="--pid relay0=$(relay_pid 0) --pid relay1=$(relay_pid 1) --pid redis=$REDIS_PID"
    pubsub_series two "$URL2" "$PIDS2" --rate "$LOADS"
    split_phases two
    # Same absolute rate as RabbitMQ's half-peak, for a like-for-like latency ratio.
    RABBIT_HALF=$(median rabbit.p50 rate)
    stack_stop
fi
if [ "$HAVE_RELAY" = 1 ] && want two && [ -n "${RABBIT_HALF:-}" ] && stack_start one-relay-b; then
    pubsub_series one-at-rabbit "--url $(relay_url 0)" "--pid relay=$(relay_pid 0)" --rate "$RABBIT_HALF"
    split_phases one-at-rabbit
    stack_stop
fi

# ---- 4. idle connections -------------------------------------------------------------------
if [ "$HAVE_RELAY" = 1 ] && want conns && stack_start conns; then
    for ((i = 1; i <= RUNS; i++)); do
        say "connections run $i/$RUNS"
        # A fresh relay per run; only the first run goes on to the machine's limit.
        [ "$i" -gt 1 ] && { env SEND_RATE=1000000 SEND_BURST=1000000 LOG_LEVEL=warn B="$B" taskset -c "$SERVER_CPUS" \
            "$ROOT/tests/stack.sh" relay-restart "$STACK_DIR" 0 >/dev/null 2>&1; }
        steps=$CONN_STEPS
        [ "$i" = 1 ] && steps=$CONN_STEPS,$CONN_MAX
        lg conns --mode conns --url "$(relay_url 0)" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --steps "$steps" \
            --room-size 10 --concurrency 512 --settle 2 --pid "relay=$(relay_pid 0)"
    done
    stack_stop
fi

# ---- 5. REST through lighttpd ----------------------------------------------------------------
API_PROCS=${BENCH_API_PROCS:-4}
STATIC=/chat.html
if want rest && stack_start rest --api-procs "$API_PROCS"; then
    "$LOADGEN" --mode prep --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --users 20 --rooms 100 --room-size 1 \
        >"$WORK/rest-prep.txt" 2>>"$RAW/rest.err"
    export BENCH_TOKENS BENCH_ROOMS
    BENCH_TOKENS=$(sed -n 's/^user .*token=//p' "$WORK/rest-prep.txt" | tr '\n' ' ')
    BENCH_ROOMS=$(sed -n 's/^room id=//p' "$WORK/rest-prep.txt" | tr '\n' ' ')
    STATIC_BYTES=$(curl -s "$BASE_URL$STATIC" | wc -c)
    ROOMS_BYTES=$(curl -s -H "Authorization: Bearer ${BENCH_TOKENS%% *}" "$BASE_URL/api/rooms" | wc -c)
    WRK=(taskset -c "$LOADGEN_CPUS" wrk -t1 -c32 -d"$WRK_DURATION" -s "$ROOT/tests/bench/wrk_api.lua")
    note_cmd "taskset -c $LOADGEN_CPUS wrk -t1 -c32 -d$WRK_DURATION -s tests/bench/wrk_api.lua <url>  (BENCH_METHOD, BENCH_PATH, BENCH_TOKENS, BENCH_ROOMS)"
    for ((i = 1; i <= RUNS; i++)); do
        say "REST run $i/$RUNS"
        BENCH_METHOD=GET BENCH_PATH=$STATIC BENCH_TOKENS="" "${WRK[@]}" "$BASE_URL$STATIC" | grep '^wrk-result' >>"$RAW/rest-static.txt"
        BENCH_METHOD=GET BENCH_PATH=/api/rooms "${WRK[@]}" "$BASE_URL/api/rooms" | grep '^wrk-result' >>"$RAW/rest-rooms.txt"
        BENCH_METHOD=POST "${WRK[@]}" "$BASE_URL/api/rooms" | grep '^wrk-result' >>"$RAW/rest-join.txt"
    done
    LIGHTTPD_PID=$(cat "$STACK_DIR/lighttpd.pidnum")
    API_PIDS=$(pgrep -d, -P "$LIGHTTPD_PID" || true)
    say "profile: API under GET /api/rooms"
    # Where the time goes per process, and how many Redis commands one GET costs.
    redis-cli -p "$REDIS_PORT" CONFIG RESETSTAT >/dev/null
    profile_start rest-rooms "$LIGHTTPD_PID${API_PIDS:+,$API_PIDS},$REDIS_PID" 4 comm,dso,symbol chat-api
    BENCH_METHOD=GET BENCH_PATH=/api/rooms taskset -c "$LOADGEN_CPUS" wrk -t1 -c32 -d5s -s "$ROOT/tests/bench/wrk_api.lua" \
        "$BASE_URL/api/rooms" | grep '^wrk-result' >"$WORK/rest-profile.txt"
    redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\),usec=\([0-9]*\).*/\1 \2 \3/p' >"$WORK/rest-rooms.redis"
    profile_report rest-rooms
    stack_stop
fi

# ---- 6. many rooms: every member sends, open loop, stepped to the ceiling ---------------------
# mix_run SET CMD...: one mix run; its step and result lines go to $RAW/SET.txt, the result
# line with other.cpu (other processes' share of the server CPU at half the ceiling).
mix_run() {
    local set=$1
    shift
    note_cmd "$(printf '%s ' "$@" | sed "s#$LOADGEN#loadgen#")"
    timeout 900 "$@" >"$RAW/$set.try.new" 2>>"$RAW/$set.err"
    other_load "$RAW/$set.try" >/dev/null
    cat "$RAW/$set.try" >>"$RAW/$set.txt"
    rm -f "$RAW/$set.try"
}
MIX_ARGS=(--mode mix --rooms "$MIX_ROOMS" --room-size 10 --factor "$MIX_FACTOR" --max-steps 14
    --max-p99-ms "$MIX_MAX_P99_MS" --settle 3 --warmup "$WARMUP" --duration "$DURATION" --drain 2 --concurrency 256)
if [ "$HAVE_RELAY" = 1 ] && want mix; then
    for ((i = 1; i <= MIX_RUNS; i++)); do
        stack_start "mix$i" || break
        say "many-rooms mix, chat relay, run $i/$MIX_RUNS"
        mix_run mix "${LG[@]}" "${MIX_ARGS[@]}" --url "$(relay_url 0)" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" \
            --rate "$MIX_RATE0" --pid "relay=$(relay_pid 0)" --pid "redis=$REDIS_PID"
        stack_stop
    done
fi
if [ "$HAVE_RABBIT" = 1 ] && want mix; then
    for ((i = 1; i <= MIX_RUNS; i++)); do
        say "many-rooms mix, RabbitMQ, run $i/$MIX_RUNS (a fresh node; ~2 min to connect 10,000 sessions)"
        taskset -c "$SERVER_CPUS" "$ROOT/tests/bench/rabbit.sh" up "$RABBIT_DIR" "$SERVER_CPUS" >>"$WORK/rabbit-up.log" 2>&1 || break
        # shellcheck disable=SC1091
        . "$RABBIT_DIR/env"
        mix_run rabbit-mix "${LG[@]}" "${MIX_ARGS[@]}" --peer rabbitmq --url "$WS_URL" --rate "$MIX_RABBIT_RATE0" \
            --pid "rabbit=$RABBIT_PID"
        "$ROOT/tests/bench/rabbit.sh" down "$RABBIT_DIR" >/dev/null 2>&1
        rm -f "$RABBIT_DIR/env"
    done
fi

# ---- 7. reconnect storm ---------------------------------------------------------------------
if [ "$HAVE_RELAY" = 1 ] && want storm && stack_start storm; then
    run_series storm "reconnect storm" timeout 300 "${LG[@]}" --mode storm --url "$(relay_url 0)" --redis "$REDIS_URL" \
        --prefix "$KEY_PREFIX" --rooms "$STORM_ROOMS" --room-size 10 --missed "$STORM_MISSED" --concurrency 256 \
        --pid "relay=$(relay_pid 0)" --pid "redis=$REDIS_PID"
    stack_stop
fi

# ---- 8. the archiver: throughput into SQLite and PostgreSQL, next to the relay's SEND ceiling --
ARCHIVE_N=200000
[ "$QUICK" = 1 ] && ARCHIVE_N=20000
if [ -x "$B/archiver/chat-archiver" ] && want archiver; then
    if [ "$HAVE_RELAY" = 1 ] && stack_start send-ceiling; then
        say "relay SEND ceiling (stored messages, 1 subscriber)"
        lg send-ceiling --mode pubsub --url "$(relay_url 0)" --redis "$REDIS_URL" --prefix "$KEY_PREFIX" --subs 1 \
            --pubs "$PUBS" --window "$WINDOW" --warmup "$WARMUP" --duration "$DURATION" --drain 1 --rate 0 --pid "relay=$(relay_pid 0)"
        stack_stop
    fi
    say "archiver throughput, $ARCHIVE_N messages into SQLite, then PostgreSQL"
    note_cmd "taskset -c $SERVER_CPUS tests/bench/archiver.sh DIR $ARCHIVE_N"
    B="$B" taskset -c "$SERVER_CPUS" "$ROOT/tests/bench/archiver.sh" "$WORK/archiver" "$ARCHIVE_N" >>"$RAW/archiver.txt" 2>>"$RAW/archiver.err"
fi

ELAPSED=$(($(date +%s) - T0))
# What the report needs besides the raw results, so that it can be rewritten later.
declare -p ELAPSED RUNS QUICK B SUBS PUBS WARMUP DURATION CONN_STEPS CONN_MAX RABBIT_STEPS WRK_DURATION \
    REDIS_N ARCHIVE_N WINDOW RABBIT_WINDOW MIX_RUNS MIX_ROOMS MIX_RATE0 MIX_RABBIT_RATE0 MIX_FACTOR MIX_MAX_P99_MS STORM_ROOMS \
    STORM_MISSED SECTIONS FD_LIMIT DISTURBED_PCT SERVER_CPUS LOADGEN_CPUS API_PROCS STATIC STATIC_BYTES ROOMS_BYTES MEASURED_COMMIT \
    MEASURED_DATE 2>/dev/null | sed 's/^declare -[-a-z]* //' >"$WORK/meta.sh"
# shellcheck source=tests/bench/bench_report.sh
. "$ROOT/tests/bench/bench_report.sh"
write_report
cp "$DOC_TMP" "$OUT"
say "done in ${ELAPSED}s; wrote ${OUT#$ROOT/}"
