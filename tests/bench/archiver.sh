#!/usr/bin/env bash
# tests/bench/archiver.sh DIR [N] - chat-archiver throughput, SQLite and PostgreSQL.
#
# For each back end: a private redis-server, N (default 200,000) stored messages in the
# relay's format written into the archive feed first (tests/bench/archiver_fill.sh),
# then chat-archiver ($B, default build/release) started with default settings
# (ARCHIVE_BATCH 500, SQLite synchronous=FULL, PostgreSQL with fsync on) and timed
# until the group has read every entry and none is pending (all committed and
# acknowledged). PostgreSQL runs in a private cluster (tests/pg.sh) in DIR/pg.
# Prints one line per back end:
#   result ok=1 backend=sqlite messages=N seconds=S per_s=R bytes_per_msg=B
# Run it pinned (taskset) as you like; it leaves nothing running.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build/release}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
# shellcheck source=../../scripts/proc.sh
. "$ROOT/scripts/proc.sh"
DIR=${1:?usage: archiver.sh DIR [N]}
N=${2:-200000}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
RPID= APID=
cleanup() {
    [ -z "$APID" ] || stop_pid "$APID" 10
    [ -z "$RPID" ] || stop_pid "$RPID" 10
    [ ! -f "$DIR/pg/postgres.pid" ] || "$ROOT/tests/pg.sh" stop "$DIR/pg" >/dev/null 2>&1
}
trap cleanup EXIT

# group_field NAME: a field of the archiver group (XINFO GROUPS).
group_field() {
    redis-cli -p "$RPORT" XINFO GROUPS "chat:archive" 2>/dev/null | awk -v k="$1" 'p { print; exit } $0 == k { p = 1 }'
}

run_one() { # BACKEND URL
    local backend=$1 url=$2 t0 t1 bytes
    RPORT=$(free_port)
    redis-server --port "$RPORT" --save "" --appendonly no --dir "$DIR" --logfile "$DIR/redis-$backend.log" >/dev/null 2>&1 &
    RPID=$!
    wait_port "$RPORT" 10 "$RPID" || { echo "result ok=0 backend=$backend error=redis"; return; }
    "$ROOT/tests/bench/archiver_fill.sh" "$RPORT" "$N"
    t0=$(date +%s%N)
    REDIS_URL=redis://127.0.0.1:$RPORT/0 ARCHIVE_URL=$url METRICS_PORT=0 LOG_LEVEL=warn ARCHIVER_NAME=bench \
        "$B/archiver/chat-archiver" >>"$DIR/archiver-$backend.log" 2>&1 &
    APID=$!
    local read=0 pend=1 i
    for ((i = 0; i < 6000; i++)); do
        read=$(group_field entries-read)
        pend=$(group_field pending)
        [ "${read:-0}" = "$N" ] && [ "${pend:-1}" = 0 ] && break
        kill -0 "$APID" 2>/dev/null || break
        sleep 0.05
    done
    t1=$(date +%s%N)
    stop_pid "$APID" 10
    APID=
    stop_pid "$RPID" 10
    RPID=
    if [ "${read:-0}" != "$N" ] || [ "${pend:-1}" != 0 ]; then
        echo "result ok=0 backend=$backend error=incomplete read=$read pending=$pend"
        return
    fi
    if [ "$backend" = sqlite ]; then
        bytes=$(du -cb "${url#sqlite:}"* | tail -1 | cut -f1)
    else
        bytes=$(/usr/lib/postgresql/15/bin/psql "$url" -At -c "SELECT pg_total_relation_size('messages')")
    fi
    awk -v b="$backend" -v n="$N" -v ns=$((t1 - t0)) -v by="$bytes" 'BEGIN {
        s = ns / 1e9; printf "result ok=1 backend=%s messages=%d seconds=%.2f per_s=%.0f bytes_per_msg=%.0f\n", b, n, s, n / s, by / n }'
}

rm -f "$DIR"/archive.db*
run_one sqlite "sqlite:$DIR/archive.db"
if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    rm -rf "$DIR/pg"
    if url=$("$ROOT/tests/pg.sh" start "$DIR/pg" 2>"$DIR/pg-start.err" | tail -1) && [ -n "$url" ]; then
        run_one postgresql "$url"
        "$ROOT/tests/pg.sh" stop "$DIR/pg" >/dev/null 2>&1
    else
        echo "result ok=0 backend=postgresql error=pg-start"
    fi
fi
