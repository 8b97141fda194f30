#!/usr/bin/env bash
# tests/pg.sh - a private PostgreSQL 15 cluster for tests and benchmarks.
#
#   tests/pg.sh start DIR   initdb into DIR/data (when not there yet), start the server
#                           listening only on 127.0.0.1:<free port> and on a unix
#                           socket in DIR/sock, create the database "chat" and print
#                           its ARCHIVE_URL (also written to DIR/url)
#                           (started again on DIR, it keeps its data, port and URL)
#   tests/pg.sh stop DIR    stop that server (fast shutdown, by the pid in
#                           DIR/postgres.pid; SIGKILL after 15 s)
#
# Never touches a system cluster: everything (data, socket, log, pid) is under DIR.
# initdb refuses to run as root; as root (CI), the server runs as the `postgres` system
# user that Debian's postgresql package creates, and DIR is given to that user.
# Authentication: the socket trusts the local user; TCP wants the password of the
# cluster's superuser "chat", generated here and carried in the URL.
# PG_FAST=1 turns fsync off (tests: nothing here must survive a power loss); benchmarks
# leave it on. PG_BIN overrides the binaries' directory (/usr/lib/postgresql/15/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/proc.sh
. "$ROOT/scripts/proc.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { sed -n '2,19p' "$0"; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

# as_pg CMD...: run CMD as the cluster's owner (postgres when we are root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# as_pg_exec CMD...: the same, with the process becoming CMD (no parent left between).
as_pg_exec() {
    if [ "$(id -u)" = 0 ]; then
        exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        exec "$@"
    fi
}

cmd_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "pg: $PG_BIN/initdb not found (apt-get install postgresql)" >&2; exit 1; }
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "pg: running as root needs the postgres user" >&2; exit 1; }
        chown postgres: "$DIR"
        chmod 700 "$DIR"
        as_pg test -w "$DIR" || { echo "pg: user postgres cannot write $DIR (a parent directory is closed?)" >&2; exit 1; }
    fi
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
        local pw
        pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
        printf '%s\n' "$pw" >"$DIR/pw"
        [ "$(id -u)" != 0 ] || chown postgres: "$DIR/pw"
        as_pg "$PG_BIN/initdb" -D "$DIR/data" -U chat --pwfile="$DIR/pw" -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
            { echo "pg: initdb failed:" >&2; tail -5 "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_pg mkdir -p "$DIR/sock"
    local opts="" port try
    [ "${PG_FAST:-}" != 1 ] || opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    for try in 1 2 3; do
        # A restart keeps its port (the URL clients hold); only a first start picks one.
        if [ -f "$DIR/port" ]; then port=$(cat "$DIR/port"); else port=$(free_port); fi
        # postgres itself, not pg_ctl, and exec'd (setpriv, not runuser, when root): $! is
        # the server's pid (stop by pid).
        (as_pg_exec "$PG_BIN/postgres" -D "$DIR/data" -k "$DIR/sock" -h 127.0.0.1 -p "$port" \
            -c max_connections=50 -c shared_buffers=128MB $opts >>"$DIR/postgres.log" 2>&1) &
        echo $! >"$DIR/postgres.pid"
        if wait_port "$port" 30 "$!"; then break; fi
        [ "$try" = 3 ] && { echo "pg: postgres did not start (see $DIR/postgres.log)" >&2; exit 1; }
        sleep 1
    done
    local i
    for ((i = 0; i < 100; i++)); do
        as_pg "$PG_BIN/pg_isready" -q -h "$DIR/sock" -p "$port" && break
        sleep 0.1
    done
    as_pg "$PG_BIN/psql" -q -h "$DIR/sock" -p "$port" -U chat -d postgres -c "CREATE DATABASE chat" >/dev/null 2>&1 ||
        as_pg "$PG_BIN/psql" -q -h "$DIR/sock" -p "$port" -U chat -d chat -c "SELECT 1" >/dev/null ||
        { echo "pg: cannot create the database (see $DIR/postgres.log)" >&2; exit 1; }
    local url="postgresql://chat:$(cat "$DIR/pw")@127.0.0.1:$port/chat"
    echo "$port" >"$DIR/port"
    echo "$url" >"$DIR/url"
    echo "$url"
}

cmd_stop() {
    # SIGINT is PostgreSQL's fast shutdown; as root we may signal the postgres user's process.
    stop_pidfile "$DIR/postgres.pid" INT 15
}

case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
*) echo "pg: unknown command $cmd" >&2; exit 2 ;;
esac
