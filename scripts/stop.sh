#!/usr/bin/env bash
# scripts/stop.sh - `make stop`: stop exactly the processes `make run` recorded in
# var/run.pids (lighttpd first, which also stops its FastCGI children).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIDS=$ROOT/var/run.pids
[ -f "$PIDS" ] || { echo "stop: nothing recorded in var/run.pids"; exit 0; }
tac "$PIDS" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        echo "stop: stopped $name (pid $pid)"
    fi
done
rm -f "$PIDS"
