#!/usr/bin/env bash
# scripts/stop.sh - `make stop`: stop exactly the processes `make run` recorded in
# var/run.pids (lighttpd first, which also stops its FastCGI children). The pid file
# is claimed with one rename, so `make stop` and run.sh's own Ctrl-C clean-up never
# both work through it.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=proc.sh
. "$ROOT/scripts/proc.sh"
PIDS=$ROOT/var/run.pids
CLAIMED=$PIDS.stopping.$$
mv "$PIDS" "$CLAIMED" 2>/dev/null || { echo "stop: nothing recorded in var/run.pids"; exit 0; }
tac "$CLAIMED" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
        stop_pid "$pid" 5
        echo "stop: stopped $name (pid $pid)"
    fi
done
rm -f "$CLAIMED"
