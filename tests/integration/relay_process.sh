#!/usr/bin/env bash
# relay_process.sh - the relay as a process: it listens on RELAY_HOST only (lws 4.1
# with IPv6 on would take every address), it exits 1 when its port is taken instead
# of running without a listener, and it answers SIGTERM with a clean exit 0.
. "$(dirname "$0")/../lib.sh"
stack_up
RELAY=$B/ws-relay/chat-relay
port=${RELAY_PORTS%% *}

listen=$(ss -tlnH "sport = :$port" 2>/dev/null)
if echo "$listen" | grep -q "127.0.0.1:$port" && ! echo "$listen" | grep -qE "(\*|0\.0\.0\.0|\[::\]):$port"; then
    ok "relay listens on 127.0.0.1:$port only"
else
    not_ok "relay listens on 127.0.0.1:$port only: ss says: $listen"
fi

# A second relay on the same port must give up with status 1, quickly.
RELAY_PORT=$port timeout 10 "$RELAY" >"$STACK_DIR/busy.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'event=listen.*problem=' "$STACK_DIR/busy.log"; then
    ok "relay on a taken port exits 1 and says why"
else
    not_ok "relay on a taken port: exit $rc, log: $(tail -2 "$STACK_DIR/busy.log")"
fi

# Another host value is honoured (0.0.0.0 = every IPv4 address).
p2=$(free_port)
RELAY_HOST=0.0.0.0 RELAY_PORT=$p2 "$RELAY" >"$STACK_DIR/any.log" 2>&1 &
pid=$!
wait_port "$p2" 5 "$pid"
check "RELAY_HOST=0.0.0.0 listens on 0.0.0.0:$p2" bash -c "ss -tlnH 'sport = :$p2' | grep -q '0.0.0.0:$p2'"
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 0 ] && grep -q 'event=exit status=0' "$STACK_DIR/any.log"; then
    ok "relay exits 0 on SIGTERM"
else
    not_ok "relay exits 0 on SIGTERM: exit $rc"
fi
finish
