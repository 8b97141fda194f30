#!/usr/bin/env bash
# tests/stack.sh - start and stop a private chat stack on free loopback ports.
#
#   tests/stack.sh up DIR [--relays N] [--api-procs N] [--archiver]
#       starts redis-server, N relays (default 1, if built) and lighttpd (with the
#       FastCGI API) and writes DIR/env (shell syntax: BASE_URL, PORT, REDIS_PORT,
#       REDIS_URL, RELAY_PORTS, KEY_PREFIX, ARCHIVE_URL, ...). Prints DIR/env on success.
#       ARCHIVE_URL (what chat-api and the archiver use) comes from the environment,
#       default an SQLite file DIR/archive.db. --archiver also starts chat-archiver
#       (log DIR/archiver.log, GET /metrics on ARCHIVER_METRICS_PORT in DIR/env).
#   tests/stack.sh down DIR         stop everything it started (by pid), then print
#                                   any sanitizer report found in the logs (exit 1);
#                                   a process that had to be SIGKILLed, still running
#                                   STOP_SECONDS (10) after SIGTERM, is reported and
#                                   fails it too (exit 1)
#   tests/stack.sh redis-stop DIR   stop only redis (outage tests)
#   tests/stack.sh redis-start DIR  start redis again on the same port
#   tests/stack.sh redis-kill DIR   SIGKILL redis (restart it with redis-start: it
#                                   reloads its append-only file)
#   tests/stack.sh redis-pause DIR  kill -STOP redis: it hangs, connections stay open
#   tests/stack.sh redis-resume DIR kill -CONT redis
#   tests/stack.sh relay-restart DIR [I]  stop relay I (default 0) and start it again
#   tests/stack.sh relay-stop DIR [I]     SIGTERM relay I and wait for it to exit; exit 1
#                                         when it needed SIGKILL or did not log a clean exit
#   tests/stack.sh relay-kill DIR [I]     SIGKILL relay I (relay-restart starts it again)
#   tests/stack.sh archiver-start DIR     start chat-archiver (again)
#   tests/stack.sh archiver-stop DIR      SIGTERM it and wait; exit 1 when it needed
#                                         SIGKILL or did not log a clean exit
#   tests/stack.sh archiver-kill DIR      SIGKILL it
#
# Binaries come from $B (default build/asan). Everything lives under DIR: config,
# logs, pids, sockets. Nothing here depends on a fixed port being free.
# STACK_LIGHTTPD_EXTRA, when set, is appended to lighttpd's configuration.
# STACK_REDIS_PASSWORD: Redis requires this password (requirepass); with
# STACK_REDIS_USER too, only that ACL user (with the password) may log in. REDIS_URL
# then carries them, percent-encoded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/asan}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
# shellcheck source=../scripts/proc.sh
. "$ROOT/scripts/proc.sh"

# set_env KEY VALUE: replace KEY's line in DIR/env (a port re-picked after a race).
set_env() {
    sed -i "s|^$1=.*|$1=$2|" "$DIR/env"
}

sanitizer_env() {
    export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1:log_path=$DIR/asan}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$DIR/ubsan}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
}

# The ports come from free_port(), which cannot hold them: another process may bind
# one before our server does. Each start below notices its server exit and retries
# on a fresh port (a few times), updating DIR/env.
# The REDIS_URL for port $1, with the credentials of STACK_REDIS_USER/PASSWORD.
redis_url() {
    local cred=""
    if [ -n "${STACK_REDIS_PASSWORD:-}" ]; then
        cred="$(jq -rn --arg u "${STACK_REDIS_USER:-}" '$u|@uri'):$(jq -rn --arg p "$STACK_REDIS_PASSWORD" '$p|@uri')@"
    fi
    echo "redis://${cred}127.0.0.1:$1/0"
}

# redis_loaded PORT: until Redis has loaded its data (append-only file, snapshot) and
# answers PING with PONG rather than -LOADING (up to 15 s).
redis_loaded() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(redis-cli -u "$(redis_url "$1")" --no-auth-warning ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "stack: redis-server on port $1 still loading its data after 15 s" >&2
    return 1
}

start_redis() {
    local try auth=()
    if [ -n "${STACK_REDIS_USER:-}" ]; then
        # The least-privilege user docs/OPERATIONS.md recommends.
        auth=(--user default off --user "$STACK_REDIS_USER" on ">$STACK_REDIS_PASSWORD" "~${KEY_PREFIX:-chat:}*"
            "&${KEY_PREFIX:-chat:}*" +@read +@write +@pubsub +@scripting +@connection +ping +select +time -@dangerous)
    elif [ -n "${STACK_REDIS_PASSWORD:-}" ]; then
        auth=(--requirepass "$STACK_REDIS_PASSWORD")
    fi
    for try in 1 2 3; do
        # shellcheck disable=SC1091
        . "$DIR/env"
        # conf/redis.conf as `make run` uses it (append-only file, fsync every second):
        # kill -9 tests exercise the real persistence settings.
        redis-server "$ROOT/conf/redis.conf" --port "$REDIS_PORT" --dir "$DIR" \
            --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid" "${auth[@]}" >/dev/null 2>&1 &
        echo $! >"$DIR/redis.pidnum"
        wait_port "$REDIS_PORT" 15 "$!" && redis_loaded "$REDIS_PORT" && return 0
        [ -n "${REDIS_FIXED:-}" ] && break # a restart must keep its port
        REDIS_PORT=$(free_port)
        set_env REDIS_PORT "$REDIS_PORT"
        set_env REDIS_URL "$(redis_url "$REDIS_PORT")"
    done
    echo "stack: redis-server did not start (see $DIR/redis.log)" >&2
    return 1
}

start_relay() { # index
    local i=$1 port try ports
    for try in 1 2 3; do
        # shellcheck disable=SC1091
        . "$DIR/env"
        port=$(echo "$RELAY_PORTS" | cut -d' ' -f$((i + 1)))
        RELAY_PORT=$port "$B/ws-relay/chat-relay" >>"$DIR/relay$i.log" 2>&1 &
        echo $! >"$DIR/relay$i.pid"
        wait_port "$port" 15 "$!" && return 0
        [ -n "${RELAY_FIXED:-}" ] && break # a restart must keep its port
        ports=($RELAY_PORTS)
        ports[i]=$(free_port)
        set_env RELAY_PORTS "\"${ports[*]}\""
    done
    echo "stack: relay $i did not start (see $DIR/relay$i.log)" >&2
    return 1
}

# start_archiver: chat-archiver on ARCHIVER_METRICS_PORT (re-picked when lost).
start_archiver() {
    local try
    [ -x "$B/archiver/chat-archiver" ] || { echo "stack: $B/archiver/chat-archiver not built" >&2; return 1; }
    for try in 1 2 3; do
        # shellcheck disable=SC1091
        . "$DIR/env"
        REDIS_URL=$REDIS_URL KEY_PREFIX=$KEY_PREFIX ARCHIVE_URL=$ARCHIVE_URL METRICS_PORT=$ARCHIVER_METRICS_PORT \
            ARCHIVER_NAME=${ARCHIVER_NAME:-stack-archiver} "$B/archiver/chat-archiver" >>"$DIR/archiver.log" 2>&1 &
        echo $! >"$DIR/archiver.pid"
        wait_port "$ARCHIVER_METRICS_PORT" 15 "$!" && return 0
        set_env ARCHIVER_METRICS_PORT "$(free_port)"
    done
    echo "stack: chat-archiver did not start (see $DIR/archiver.log)" >&2
    return 1
}

# stop_logged WHAT NAME: SIGTERM the process of DIR/NAME.pid and wait; 1 when it had to
# be killed or, having logged its start, did not log "exit status=0" as its last word.
# Both programs log their exit status at level info (not with LOG_LEVEL=warn: then
# their start line is missing too).
stop_logged() {
    local what=$1 name=$2 rc=0
    [ -f "$DIR/$name.pid" ] || return 0
    stop_pidfile "$DIR/$name.pid" TERM "$STOP_SECONDS" || rc=1
    if grep -q 'event=start' "$DIR/$name.log" 2>/dev/null &&
        ! tail -n 5 "$DIR/$name.log" | grep -q 'event=exit status=0'; then
        echo "stack: $what did not log a clean exit (event=exit status=0); last lines:" >&2
        tail -n 5 "$DIR/$name.log" >&2 2>/dev/null
        rc=1
    fi
    return $rc
}

# stop_archiver: stop_logged for chat-archiver.
stop_archiver() { stop_logged chat-archiver archiver; }

cmd_up() {
    local relays=1 procs=2 archiver=0
    while [ $# -gt 0 ]; do
        case $1 in
        --relays) relays=$2; shift 2 ;;
        --api-procs) procs=$2; shift 2 ;;
        --archiver) archiver=1; shift ;;
        *) echo "stack: unknown option $1" >&2; exit 2 ;;
        esac
    done
    mkdir -p "$DIR"
    sanitizer_env
    [ -x "$B/fcgi-api/chat-api" ] || { echo "stack: $B/fcgi-api/chat-api not built" >&2; exit 1; }
    [ -x "$B/ws-relay/chat-relay" ] || relays=0
    local port redis_port relay_ports="" i
    port=$(free_port)
    redis_port=$(free_port)
    for ((i = 0; i < relays; i++)); do relay_ports="$relay_ports $(free_port)"; done
    relay_ports=${relay_ports# }
    local prefix=${KEY_PREFIX:-chat:}
    cat >"$DIR/env" <<EOT
DIR=$DIR
PORT=$port
BASE_URL=http://127.0.0.1:$port
REDIS_PORT=$redis_port
REDIS_URL=$(redis_url "$redis_port")
RELAY_PORTS="$relay_ports"
RELAYS=$relays
KEY_PREFIX=$prefix
FILES_DIR=${FILES_DIR:-$DIR/files}
B=$B
ARCHIVE_URL=${ARCHIVE_URL:-sqlite:$DIR/archive.db}
ARCHIVER_METRICS_PORT=$(free_port)
EOT
    # Everything the stack starts reads its configuration from here.
    REDIS_URL=$(redis_url "$redis_port")
    export REDIS_URL KEY_PREFIX=$prefix PORT=$port
    export CHAT_CONF=${CHAT_CONF:-$ROOT/conf/chat.conf}
    export LOG_LEVEL=${LOG_LEVEL:-info}
    # Uploaded files stay inside the stack's directory.
    export FILES_DIR=${FILES_DIR:-$DIR/files}
    # Tests use the cheapest password hashing libsodium allows.
    export PWHASH_OPSLIMIT=${PWHASH_OPSLIMIT:-1} PWHASH_MEMLIMIT=${PWHASH_MEMLIMIT:-8192}
    start_redis
    # shellcheck disable=SC1091
    . "$DIR/env"
    # chat-api (through lighttpd's environment) reads the same archive.
    export REDIS_URL ARCHIVE_URL
    for ((i = 0; i < relays; i++)); do start_relay "$i"; done
    [ "$archiver" = 0 ] || start_archiver
    # shellcheck disable=SC1091
    . "$DIR/env"
    local try
    for try in 1 2 3; do
        "$ROOT/scripts/lighttpd-conf.sh" "$DIR" "$port" "$RELAY_PORTS" "$procs" "$B/fcgi-api/chat-api"
        # Tests may add lighttpd configuration (extra listeners, TLS).
        [ -z "${STACK_LIGHTTPD_EXTRA:-}" ] || printf '%s\n' "$STACK_LIGHTTPD_EXTRA" >>"$DIR/lighttpd.conf"
        lighttpd -D -f "$DIR/lighttpd.conf" >>"$DIR/lighttpd.out" 2>&1 &
        echo $! >"$DIR/lighttpd.pidnum"
        wait_port "$port" 15 "$!" && break
        [ "$try" = 3 ] && { echo "stack: lighttpd did not start (see $DIR/lighttpd.out)" >&2; return 1; }
        port=$(free_port)
        set_env PORT "$port"
        set_env BASE_URL "http://127.0.0.1:$port"
        export PORT=$port
    done
    cat "$DIR/env"
}

STOP_SECONDS=${STOP_SECONDS:-10}

# stop_relay I: stop_logged for relay I.
stop_relay() { stop_logged "relay $1" "relay$1"; }

cmd_down() {
    local i rc=0 kid
    # lighttpd stops its FastCGI children itself; note their pids first so one that
    # outlives it (say, busy in the sanitizer's exit-time leak check) is stopped too.
    if [ -f "$DIR/lighttpd.pidnum" ]; then
        for kid in $(pgrep -P "$(cat "$DIR/lighttpd.pidnum")" 2>/dev/null); do echo "$kid" >"$DIR/api-$kid.pid"; done
    fi
    stop_pidfile "$DIR/lighttpd.pidnum" TERM "$STOP_SECONDS" || rc=1
    for i in "$DIR"/api-*.pid; do [ -f "$i" ] && { stop_pidfile "$i" TERM "$STOP_SECONDS" || rc=1; }; done
    for i in 0 1 2 3 4 5 6 7; do stop_relay "$i" || rc=1; done
    stop_archiver || rc=1
    stop_pidfile "$DIR/redis.pidnum" TERM "$STOP_SECONDS" || rc=1
    [ "$rc" = 0 ] || echo "stack: a process of the stack did not stop cleanly on SIGTERM (above)" >&2
    # Sanitizer reports from any process of the stack fail the test that used it.
    if compgen -G "$DIR/asan*" >/dev/null || compgen -G "$DIR/ubsan*" >/dev/null; then
        echo "stack: sanitizer reports in $DIR:" >&2
        cat "$DIR"/asan* "$DIR"/ubsan* 2>/dev/null | head -60 >&2
        rc=1
    fi
    if grep -l 'runtime error:\|AddressSanitizer' "$DIR"/*.log >/dev/null 2>&1; then
        echo "stack: sanitizer output in logs:" >&2
        grep -h -A20 'runtime error:\|AddressSanitizer' "$DIR"/*.log | head -60 >&2
        rc=1
    fi
    return $rc
}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { sed -n '2,35p' "$0"; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
shift 2
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down ;;
redis-stop) stop_pidfile "$DIR/redis.pidnum" ;;
redis-start) sanitizer_env; REDIS_FIXED=1 start_redis ;;
redis-kill) stop_pidfile "$DIR/redis.pidnum" KILL ;;
redis-pause) kill -STOP "$(cat "$DIR/redis.pidnum")" ;;
redis-resume) kill -CONT "$(cat "$DIR/redis.pidnum")" ;;
relay-kill) stop_pidfile "$DIR/relay${1:-0}.pid" KILL ;;
relay-stop) stop_relay "${1:-0}" ;;
relay-restart) sanitizer_env; export CHAT_CONF=${CHAT_CONF:-$ROOT/conf/chat.conf}
    . "$DIR/env"; export REDIS_URL KEY_PREFIX
    stop_relay "${1:-0}"; RELAY_FIXED=1 start_relay "${1:-0}" ;;
archiver-start) sanitizer_env; export CHAT_CONF=${CHAT_CONF:-$ROOT/conf/chat.conf} LOG_LEVEL=${LOG_LEVEL:-info}
    start_archiver ;;
archiver-stop) stop_archiver ;;
archiver-kill) stop_pidfile "$DIR/archiver.pid" KILL ;;
*) echo "stack: unknown command $cmd" >&2; exit 2 ;;
esac
