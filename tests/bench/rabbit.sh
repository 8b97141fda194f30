#!/usr/bin/env bash
# tests/bench/rabbit.sh - a private RabbitMQ node with Web-STOMP, for the benchmark's
# peer comparison.
#
#   tests/bench/rabbit.sh up DIR [CPUS]   start it (pinned to CPUS with taskset when
#                                         given); writes DIR/env (RABBIT_PID, WS_URL)
#   tests/bench/rabbit.sh down DIR        stop it and its epmd, by pid
#
# Everything lives under DIR: config, Mnesia data, logs, enabled-plugins file, the
# Erlang cookie (HOME), its own epmd on a free port. Only Web-STOMP listens on the
# fixed port 15674 (ws://127.0.0.1:15674/ws; its WebSocket idle timeout raised from 60 s
# to an hour, since 10,000 sessions take RabbitMQ about two minutes to set up); AMQP, STOMP and Erlang distribution get
# free loopback ports. Nothing in /etc/rabbitmq or /var/lib/rabbitmq is read or
# written, and nothing is left running after `down`. Needs Debian's rabbitmq-server
# (3.10); does not install it (bench.sh does).
set -euo pipefail
# shellcheck source=../../scripts/proc.sh
. "$(dirname "$0")/../../scripts/proc.sh"
WS_PORT=15674

cmd_up() {
    local cpus=${1:-}
    local pin=()
    [ -n "$cpus" ] && pin=(taskset -c "$cpus")
    if port_open $WS_PORT; then
        echo "rabbit: port $WS_PORT is taken; not starting a second broker" >&2
        exit 1
    fi
    rm -rf "$DIR/mnesia" "$DIR/log"
    mkdir -p "$DIR/home" "$DIR/mnesia" "$DIR/log"
    local amqp stomp dist epmd
    amqp=$(free_port); stomp=$(free_port); dist=$(free_port); epmd=$(free_port)
    cat >"$DIR/rabbitmq.conf" <<EOT
listeners.tcp.default = 127.0.0.1:$amqp
stomp.listeners.tcp.1 = 127.0.0.1:$stomp
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = $WS_PORT
web_stomp.ws_opts.idle_timeout = 3600000
loopback_users.guest = true
log.console = false
log.file.level = warning
EOT
    : >"$DIR/rabbitmq-env.conf"
    echo '[].' >"$DIR/advanced.config"
    export HOME=$DIR/home
    export RABBITMQ_NODENAME=lgbench@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT=$amqp RABBITMQ_DIST_PORT=$dist
    export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$epmd
    export RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log
    export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config
    export RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf
    export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins RABBITMQ_PID_FILE=$DIR/rabbit.pid
    # Idle Erlang schedulers spin by default, which would show up as CPU time the
    # broker does not need; turn the spinning off so /proc CPU figures are honest.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"
    /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_web_stomp >"$DIR/plugins.log" 2>&1
    # Our own epmd first, so Erlang does not start a daemon we could not stop.
    "${pin[@]}" epmd -address 127.0.0.1 -port "$epmd" >"$DIR/epmd.log" 2>&1 &
    echo $! >"$DIR/epmd.pidnum"
    ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    "${pin[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >"$DIR/server.out" 2>&1 </dev/null &
    echo $! >"$DIR/server.pidnum"
    local i
    for ((i = 0; i < 600; i++)); do
        port_open $WS_PORT && [ -s "$DIR/rabbit.pid" ] && break
        kill -0 "$(cat "$DIR/server.pidnum")" 2>/dev/null || break
        sleep 0.1
    done
    if ! port_open $WS_PORT; then
        echo "rabbit: Web-STOMP did not come up; see $DIR/server.out and $DIR/log" >&2
        tail -20 "$DIR/server.out" >&2 || true
        cmd_down
        exit 1
    fi
    cat >"$DIR/env" <<EOT
RABBIT_PID=$(cat "$DIR/rabbit.pid")
WS_URL=ws://127.0.0.1:$WS_PORT/ws
RABBIT_VERSION=$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo unknown)
EOT
    cat "$DIR/env"
}

cmd_down() {
    # The wrapper script turns TERM into an orderly broker stop and waits for it.
    [ -f "$DIR/server.pidnum" ] && stop_pid "$(cat "$DIR/server.pidnum")" 30 || true # reported on stderr; go on stopping the rest
    [ -f "$DIR/rabbit.pid" ] && stop_pid "$(cat "$DIR/rabbit.pid")" 5 || true # reported on stderr; go on stopping the rest
    [ -f "$DIR/epmd.pidnum" ] && stop_pid "$(cat "$DIR/epmd.pidnum")" 5 || true # reported on stderr; go on stopping the rest
    rm -f "$DIR/server.pidnum" "$DIR/rabbit.pid" "$DIR/epmd.pidnum"
}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { sed -n '2,15p' "$0"; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
shift 2
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down ;;
*) echo "rabbit: unknown command $cmd" >&2; exit 2 ;;
esac
