#!/usr/bin/env bash
# scripts/lighttpd-conf.sh STATE_DIR PORT "RELAY_PORTS" API_PROCS API_BIN
#
# Writes STATE_DIR/lighttpd.conf: the variables conf/lighttpd.conf expects (ports,
# paths, the relay list), then conf/lighttpd.conf itself, then the SockJS session
# routing for the relays. Used by `make run` (scripts/run.sh) and the tests
# (tests/stack.sh), so both run lighttpd exactly alike.
# FILES_DIR and FILE_MAX come from the environment, else $CHAT_CONF (conf/chat.conf),
# else the defaults (var/files, 25 MiB); a relative FILES_DIR is taken relative to
# the repository root. lighttpd hands both to chat-api (bin-environment), so the API
# and lighttpd's x-sendfile-docroot and upload limit always agree.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 5 ] || { sed -n '2,13p' "$0"; exit 2; }
state=$1 port=$2 relay_ports=$3 procs=$4 api_bin=$5
conf() { # KEY DEFAULT: environment, then the configuration file, then default
    local v=${!1:-}
    [ -n "$v" ] || [ ! -f "${CHAT_CONF:-$ROOT/conf/chat.conf}" ] ||
        v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "${CHAT_CONF:-$ROOT/conf/chat.conf}" | tail -1)
    echo "${v:-$2}"
}
files_dir=$(conf FILES_DIR var/files)
case $files_dir in /*) ;; *) files_dir=$ROOT/$files_dir ;; esac
file_max=$(conf FILE_MAX 26214400)
[[ $file_max =~ ^[0-9]+$ ]] && [ "$file_max" -ge 1 ] || { echo "lighttpd-conf: FILE_MAX must be a number of bytes" >&2; exit 2; }
mkdir -p "$files_dir" "$state/upload"
files_dir=$(cd "$files_dir" && pwd)

# The SockJS session routing (see the comment in conf/lighttpd.conf): relay 0 takes
# every /ws/{server}/{session}/ path first; then relay i (i > 0) takes those whose
# {server} ends in a digit d with d % N == i, so one session always meets one relay.
sockjs_routes() {
    local ports=($1) n i d digits re
    n=${#ports[@]}
    for ((i = 0; i < n; i++)); do
        if [ "$i" -eq 0 ]; then
            re='^/ws/[^/]+/[^/]+/'
        else
            digits=""
            for ((d = i; d < 10; d += n)); do digits="$digits$d"; done
            [ -n "$digits" ] || continue
            re="^/ws/[^/]*[$digits]/[^/]+/"
        fi
        echo "\$HTTP[\"url\"] =~ \"$re\" { proxy.server = ( \"\" => ( ( \"host\" => \"127.0.0.1\", \"port\" => ${ports[i]} ) ) ) }"
    done
}

backends=""
for p in $relay_ports; do backends="$backends ( \"host\" => \"127.0.0.1\", \"port\" => $p ),"; done
# With no relay built, point /ws at a closed port so it answers 503.
[ -n "$backends" ] || backends=' ( "host" => "127.0.0.1", "port" => 9 ),'
{
    echo "var.port = $port"
    echo "var.www = \"$ROOT/www\""
    echo "var.conf = \"$ROOT/conf\""
    echo "var.state = \"$state\""
    echo "var.api_bin = \"$api_bin\""
    echo "var.api_procs = $procs"
    echo "var.relays = (${backends%,} )"
    echo "var.files = \"$files_dir\""
    echo "var.file_max = \"$file_max\""
    echo "var.upload_kb = $((file_max / 1024 + 64))"
    cat "$ROOT/conf/lighttpd.conf"
    sockjs_routes "$relay_ports"
} >"$state/lighttpd.conf"
