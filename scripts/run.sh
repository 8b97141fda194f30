#!/usr/bin/env bash
# scripts/run.sh - `make run`: start redis (unless one answers at REDIS_URL), RELAYS
# relays (default 1), chat-archiver and lighttpd with the API on PORT (default 8080), in
# the foreground. Ctrl-C or `make stop` stops what this started, and nothing else.
# TLS=1 also serves https and wss on TLS_PORT (default 8443; see scripts/tls.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=proc.sh
. "$ROOT/scripts/proc.sh"
export CHAT_CONF=${CHAT_CONF:-$ROOT/conf/chat.conf}
conf() { # KEY DEFAULT: environment, then conf/chat.conf, then default
    local v=${!1:-}
    [ -n "$v" ] || v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CHAT_CONF" | tail -1)
    echo "${v:-$2}"
}
B=${B:-build/release}
STATE=$ROOT/var
mkdir -p "$STATE"
export PORT=$(conf PORT 8080)
export REDIS_URL=$(conf REDIS_URL redis://127.0.0.1:6379/0)
export KEY_PREFIX=$(conf KEY_PREFIX chat:)
RELAY_PORT=$(conf RELAY_PORT 8081)
RELAYS=${RELAYS:-1}
TLS=${TLS:-0}
TLS_PORT=$(conf TLS_PORT 8443)
export TLS_CERT=$(conf TLS_CERT "") TLS_KEY=$(conf TLS_KEY "")

if [ -f "$STATE/run.pids" ]; then
    echo "run: found $STATE/run.pids from an earlier run; stopping it first"
    "$ROOT/scripts/stop.sh" || true
fi
: >"$STATE/run.pids"
cleanup() {
    trap - INT TERM EXIT
    echo
    "$ROOT/scripts/stop.sh"
}
trap cleanup INT TERM EXIT

# Redis: reuse one that answers at REDIS_URL, else start a private one under var/.
hostport=${REDIS_URL#redis://}
hostport=${hostport##*@}
hostport=${hostport%%/*}
rhost=${hostport%%:*}
rport=${hostport##*:}
[ "$rport" != "$hostport" ] || rport=6379
# "Answers" = accepts a connection: a Redis that wants a password does not PONG.
if (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null; then
    echo "run: using the Redis already answering at $(echo "$REDIS_URL" | sed -E 's#//[^@/]*@#//***@#')"
else
    redis-server "$ROOT/conf/redis.conf" --port "$rport" --dir "$STATE" \
        --logfile "$STATE/redis.log" >/dev/null 2>&1 &
    echo "$! redis" >>"$STATE/run.pids"
    wait_port "$rport" 10 "$!"
    echo "run: started redis-server on $rhost:$rport (data and log in var/)"
fi

relay_ports=""
if [ -x "$B/ws-relay/chat-relay" ]; then
    for ((i = 0; i < RELAYS; i++)); do
        p=$((RELAY_PORT + i))
        RELAY_PORT=$p "$B/ws-relay/chat-relay" >>"$STATE/relay$i.log" 2>&1 &
        echo "$! relay$i" >>"$STATE/run.pids"
        wait_port "$p" 10 "$!" || { echo "run: relay $i did not start:" >&2; tail -n 1 "$STATE/relay$i.log" >&2; exit 1; }
        relay_ports="$relay_ports $p"
        echo "run: started relay $i on 127.0.0.1:$p (log var/relay$i.log)"
    done
fi

# The archiver; ARCHIVE_URL made absolute (a relative SQLite path is under the repository)
# so chat-api, started by lighttpd in another directory, opens the same file.
export ARCHIVE_URL=$(conf ARCHIVE_URL sqlite:var/archive.db)
case $ARCHIVE_URL in postgres*://* | /* | sqlite:/*) ;; sqlite:*) ARCHIVE_URL=sqlite:$ROOT/${ARCHIVE_URL#sqlite:} ;; *) ARCHIVE_URL=$ROOT/$ARCHIVE_URL ;; esac
if [ -x "$B/archiver/chat-archiver" ]; then
    "$B/archiver/chat-archiver" >>"$STATE/archiver.log" 2>&1 &
    echo "$! archiver" >>"$STATE/run.pids"
    echo "run: started chat-archiver (log var/archiver.log, metrics on 127.0.0.1:$(conf METRICS_PORT 8091))"
fi

# Refused Redis credentials: stop here with chat-api's one line, rather than let
# lighttpd respawn a chat-api that exits at once.
"$ROOT/$B/fcgi-api/chat-api" --check-redis || { echo "run: chat-api cannot use REDIS_URL (see above)" >&2; exit 1; }
"$ROOT/scripts/lighttpd-conf.sh" "$STATE" "$PORT" "$relay_ports" "${API_PROCS:-4}" "$ROOT/$B/fcgi-api/chat-api"
if [ "$TLS" = 1 ]; then
    "$ROOT/scripts/tls.sh" conf "$STATE" "$TLS_PORT" >>"$STATE/lighttpd.conf"
fi
lighttpd -D -f "$STATE/lighttpd.conf" >>"$STATE/lighttpd.out" 2>&1 &
echo "$! lighttpd" >>"$STATE/run.pids"
wait_port "$PORT" 10 "$!"
[ "$TLS" != 1 ] || wait_port "$TLS_PORT" 10 "$!"
echo
echo "  Chat is running: http://localhost:$PORT/chat.html"
[ "$TLS" != 1 ] || echo "  Over TLS:        https://localhost:$TLS_PORT/chat.html (certificate: ${TLS_CERT:-var/tls/cert.pem})"
echo "  API:             http://localhost:$PORT/api/health"
echo "  STOMP:           ws://localhost:$PORT/ws/websocket, SockJS: http://localhost:$PORT/ws"
echo "  Logs in var/. Ctrl-C (or 'make stop' in another shell) stops everything."
echo
# Stay in the foreground until a child dies or we are told to stop.
wait -n || true
echo "run: a process exited; stopping the rest"
