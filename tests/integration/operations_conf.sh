#!/usr/bin/env bash
# operations_conf.sh - what docs/OPERATIONS.md hands an operator is accepted by the
# tools that will read it: the Prometheus scrape configuration and alert rules by
# promtool (check config, check rules, and the alert unit tests), every metric the
# rules use by a real scrape of this build (relay, API, archiver), the systemd units by systemd-analyze verify, the deployment
# lighttpd configuration by lighttpd -t; and the copies shown in OPERATIONS.md are
# the files themselves.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=$ROOT/conf/prometheus
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chat-ops.XXXXXX")

check "promtool check config conf/prometheus/prometheus.yml" promtool check config "$P/prometheus.yml"
check "promtool check rules conf/prometheus/chat-alerts.yml" promtool check rules "$P/chat-alerts.yml"
if out=$(cd "$P" && promtool test rules chat-alerts.test.yml 2>&1); then
    ok "promtool test rules: every alert fires on its series and not on healthy ones"
else
    not_ok "promtool test rules: $out"
fi
for a in ChatRelayDown ChatApiDown ChatRedisErrors ChatSlowConsumerDrops ChatArchiverLag; do
    check "alert $a is defined" grep -q "alert: $a\$" "$P/chat-alerts.yml"
done

# The metric names the rules use exist in a real scrape of the relay, the API and the archiver.
stack_up --archiver
relay_port=${RELAY_PORTS%% *}
curl -s "http://127.0.0.1:$relay_port/metrics" >"$WORK/scrape.txt"
curl -s "$BASE_URL/api/metrics" >>"$WORK/scrape.txt"
curl -s "http://127.0.0.1:$ARCHIVER_METRICS_PORT/metrics" >>"$WORK/scrape.txt"
names=$(grep -o 'chat_[a-z_]*' "$P/chat-alerts.yml" | sort -u)
[ -n "$names" ] || not_ok "no chat_* metric found in the rules"
for n in $names; do
    check "metric $n used by the rules exists in a real scrape" grep -q "^# TYPE $n " "$WORK/scrape.txt"
done

# systemd units, with the binaries of this build in place of /usr/local/bin.
case $B in /*) bin=$B ;; *) bin=$ROOT/$B ;; esac
for u in "$ROOT"/conf/systemd/*.service; do
    sed -e "s#/usr/local/bin/chat-relay#$bin/ws-relay/chat-relay#" \
        -e "s#/usr/local/bin/chat-api#$bin/fcgi-api/chat-api#" \
        -e "s#/usr/local/bin/chat-archiver#$bin/archiver/chat-archiver#" "$u" >"$WORK/$(basename "$u")"
done
if out=$(systemd-analyze verify "$WORK"/*.service 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify accepts conf/systemd/*.service"
else
    not_ok "systemd-analyze verify: $out"
fi
check "lighttpd -t accepts conf/lighttpd-deploy.conf" lighttpd -t -f "$ROOT/conf/lighttpd-deploy.conf"

# OPERATIONS.md shows each file verbatim after a line "<!-- file: PATH -->".
doc=$ROOT/docs/OPERATIONS.md
files=$(sed -n 's/^<!-- file: \(.*\) -->$/\1/p' "$doc")
[ -n "$files" ] || not_ok "OPERATIONS.md shows no file"
for f in $files; do
    awk -v f="$f" '$0 == "<!-- file: " f " -->" { on = 1; next } on && /^```/ { if (in_block) exit; in_block = 1; next } in_block { print }' \
        "$doc" >"$WORK/shown"
    if cmp -s "$WORK/shown" "$ROOT/$f"; then ok "OPERATIONS.md shows $f as it is"; else not_ok "OPERATIONS.md's copy of $f differs from the file"; fi
done
rm -rf "$WORK"
finish
