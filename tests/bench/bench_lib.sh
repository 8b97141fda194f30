# tests/bench/bench_lib.sh - helpers for tests/bench/bench.sh (sourced, not run).
# shellcheck shell=bash
#
# Statistics over the `key=value` lines the load generator prints (median and
# min–max spread of one key over a run set), number formatting for the markdown
# tables, pinned start/stop of private stacks, and the machine/version summary.
# Nothing here runs a benchmark by itself.

# field KEY LINE: the value of KEY=... in a result line (empty when absent).
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2" | head -1; }

# values SET KEY [PREFIX]: one value per line of KEY over the PREFIX lines (default
# "result") of run set SET ($RAW/SET.txt).
values() {
    local set=$1 key=$2 prefix=${3:-result} line
    [ -f "$RAW/$set.txt" ] || return 0
    grep "^$prefix " "$RAW/$set.txt" | while IFS= read -r line; do
        field "$key" "$line"
    done | grep -E '^-?[0-9.]+$'
}

# median SET KEY [PREFIX] / spread SET KEY [PREFIX] / count SET [PREFIX]
median() {
    values "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print ""; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
spread() {
    values "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s–%s", lo, hi }'
}
count() {
    local pat="^${2:-result} "
    [ "${2:-result}" = result ] && pat="^result .*ok=1"
    if [ -f "$RAW/$1.txt" ]; then grep -c "$pat" "$RAW/$1.txt" || true; else echo 0; fi
}

# Formatting: int (thousands separators), fix DIGITS, empty values print as "–".
int() {
    [ -n "${1:-}" ] || { echo "–"; return; }
    awk -v v="$1" 'BEGIN { v = sprintf("%.0f", v); s = ""; neg = v < 0; if (neg) v = -v
        while (length(v) > 3) { s = "," substr(v, length(v) - 2) s; v = substr(v, 1, length(v) - 3) }
        printf "%s%s%s", neg ? "-" : "", v, s }'
}
fix() { [ -n "${2:-}" ] && awk -v v="$2" -v d="$1" 'BEGIN { printf "%.*f", d, v }' || echo "–"; }
# spread_int SET KEY [PREFIX]: "lo–hi" with thousands separators.
spread_int() {
    local s
    s=$(spread "$@")
    [ -n "$s" ] || { echo "–"; return; }
    echo "$(int "${s%%–*}")–$(int "${s##*–}")"
}
# ms_from_us VALUE: microseconds shown as milliseconds with 2 decimals.
ms() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }' || echo "–"; }
spread_ms() {
    local s
    s=$(spread "$@")
    [ -n "$s" ] || { echo "–"; return; }
    echo "$(ms "${s%%–*}")–$(ms "${s##*–}")"
}
# ratio A B [DIGITS]: A / B, or "–" when either is missing or B is 0.
ratio() {
    awk -v a="${1:-}" -v b="${2:-}" -v d="${3:-1}" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) { printf "–"; exit }
        printf "%.*f", d, a / b }'
}
# ge A B: exit status of A >= B (numbers; false when either is missing).
ge() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { exit !(a != "" && b != "" && a + 0 >= b + 0) }'; }

# ---- output ------------------------------------------------------------------------

# md LINE...: append to the document being built and echo to the terminal.
md() { printf '%s\n' "$@" | tee -a "$DOC_TMP"; }

# note_cmd TEXT: remember a command line for the "Commands" section (once each).
note_cmd() { grep -qxF -- "$*" "$WORK/commands.txt" 2>/dev/null || printf '%s\n' "$*" >>"$WORK/commands.txt"; }

# say TEXT: progress on stderr.
say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- processes -----------------------------------------------------------------------

# stack_start NAME [stack.sh options...]: private stack pinned to $SERVER_CPUS; sets
# STACK_DIR and sources its env. The relay and API run with bench settings.
stack_start() {
    local name=$1
    shift
    STACK_DIR=$WORK/$name
    rm -rf "$STACK_DIR"
    mkdir -p "$STACK_DIR"
    if ! env SEND_RATE=1000000 SEND_BURST=1000000 LOG_LEVEL=warn B="$B" \
        taskset -c "$SERVER_CPUS" "$ROOT/tests/stack.sh" up "$STACK_DIR" "$@" >"$STACK_DIR/up.log" 2>&1; then
        say "stack $name did not start: $(tail -3 "$STACK_DIR/up.log")"
        "$ROOT/tests/stack.sh" down "$STACK_DIR" >/dev/null 2>&1
        return 1
    fi
    STACKS+=("$STACK_DIR")
    local keep_b=$B
    # shellcheck disable=SC1091
    . "$STACK_DIR/env"
    B=$keep_b # the env file holds the absolute path
    # shellcheck disable=SC2034 # used by bench.sh
    REDIS_PID=$(cat "$STACK_DIR/redis.pidnum")
}

stack_stop() {
    [ -n "${STACK_DIR:-}" ] && [ -d "$STACK_DIR" ] || return 0
    "$ROOT/tests/stack.sh" down "$STACK_DIR" >"$STACK_DIR/down.log" 2>&1 || true
    local keep=() s
    for s in "${STACKS[@]}"; do [ "$s" = "$STACK_DIR" ] || keep+=("$s"); done
    STACKS=("${keep[@]}")
    STACK_DIR=
}

relay_pid() { cat "$STACK_DIR/relay${1:-0}.pid"; }
relay_url() { echo "ws://127.0.0.1:$(echo "$RELAY_PORTS" | cut -d' ' -f$((${1:-0} + 1)))/ws/websocket"; }

# ---- the machine ---------------------------------------------------------------------

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

machine_table() {
    local cpu mem virt
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
    virt=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -1)
    mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    md "| | |" "| --- | --- |"
    md "| CPU | ${cpu:-unknown}, $(nproc) logical CPUs${virt:+ (virtual machine, $virt)} |"
    md "| memory | $mem |"
    md "| OS | Debian $(cat /etc/debian_version 2>/dev/null), Linux $(uname -r) |"
    md "| compiler | $(${CC:-cc} --version | head -1) |"
    md "| build | \`$B\`: -O2, no sanitizers |"
    md "| libwebsockets / hiredis / libuv | $(pkg-config --modversion libwebsockets) / $(pkg-config --modversion hiredis) / $(pkg-config --modversion libuv) |"
    md "| redis-server | $(redis-server --version | sed 's/Redis server //; s/ sha=.*//') |"
    md "| lighttpd | $(lighttpd -v 2>&1 | head -1 | sed 's/ - .*//') |"
    md "| wrk | $(pkgver wrk) |"
    md "| RabbitMQ | rabbitmq-server $(pkgver rabbitmq-server) on Erlang $(pkgver erlang-base) |"
    md "| perf | $(perf --version 2>/dev/null || echo none) |"
    md "| commit measured | $MEASURED_COMMIT |"
    md "| date | $MEASURED_DATE |"
}
