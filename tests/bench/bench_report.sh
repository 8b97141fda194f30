# tests/bench/bench_report.sh - turns bench.sh's raw results into docs/BENCHMARKS.md
# shellcheck shell=bash
# (sourced by bench.sh after the measurements; not run on its own).
#
# Reads $RAW/*.txt (loadgen/wrk result lines), $WORK/*.perf.txt (top symbols) and
# tests/bench/NOTES.md (the hand-written reading of the committed run, included as
# is), and writes markdown through md(). Checks the performance targets and says by how
# much each is met or missed. Measures nothing.

# verdict HAVE NEED DIR: "met" / "missed by X %" for a measured value against a
# target; DIR is ge (higher is better) or le.
verdict() {
    local have=$1 need=$2 dir=$3
    [ -n "$have" ] || { echo "not measured"; return; }
    awk -v h="$have" -v n="$need" -v d="$dir" 'BEGIN {
        ok = (d == "ge") ? (h >= n) : (h <= n)
        if (ok) { printf "**met** (%.2f× the target)", (d == "ge") ? h / n : n / h; exit }
        if (d == "ge") printf "**missed** by %.0f %% (%.2f× the target)", 100 * (n - h) / n, h / n
        else printf "**missed** by %.0f %% (%.2f× the target)", 100 * (h - n) / n, h / n }'
}

# per-step files of the connection runs: SET.sN.txt with the "step" lines for N.
split_steps() {
    local set=$1 n
    [ -f "$RAW/$set.txt" ] || return 0
    for n in $(grep '^step ' "$RAW/$set.txt" | sed 's/^step conns=\([0-9]*\).*/\1/' | sort -un); do
        grep "^step conns=$n " "$RAW/$set.txt" >"$RAW/$set.s$n.txt"
    done
}

# steps_of SET: the step sizes of a connection run set, ascending.
steps_of() {
    [ -f "$RAW/$1.txt" ] || return 0
    grep '^step ' "$RAW/$1.txt" | sed 's/^step conns=\([0-9]*\).*/\1/' | sort -un
}

latency_row() { # LABEL SET
    local label=$1 set=$2
    [ -s "$RAW/$set.txt" ] || return 0
    md "| $label | $(int "$(median "$set" publish_per_s)") | $(int "$(median "$set" delivered_per_s)") | $(ms "$(median "$set" p50_us)") | $(ms "$(median "$set" p99_us)") ($(spread_ms "$set" p99_us)) | $(ms "$(median "$set" p999_us)") | $(ms "$(median "$set" max_us)") | $(int "$(median "$set" lost)") | $(count "$set") |"
}

fanout_row() { # LABEL SET CPULABELS
    local label=$1 set=$2 cpus="" l
    [ -s "$RAW/$set.txt" ] || return 0
    for l in $3; do cpus="$cpus${cpus:+ / }$(fix 0 "$(median "$set" "cpu.$l")")"; done
    md "| $label | **$(int "$(median "$set" delivered_per_s)")** | $(spread_int "$set" delivered_per_s) | $(int "$(median "$set" publish_per_s)") | $(int "$(median "$set" lost)") | $cpus | $(fix 0 "$(median "$set" other.cpu)") | $(fix 0 "$(median "$set" cpu.loadgen)") | $(count "$set") |"
}

# mix_steps_row LABEL SET: the steps of the first run of a many-rooms set, one cell.
mix_steps() {
    [ -s "$RAW/$1.txt" ] || { echo "–"; return; }
    awk '/^result /{ exit } /^step / { r = ""; h = ""; p = ""
            for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "rate") r = kv[2]; if (kv[1] == "held") h = kv[2]; if (kv[1] == "p99_us") p = kv[2] }
            printf "%s%s%s (%.0f ms)", n++ ? ", " : "", r, h == 1 ? "" : " ✗", p / 1000 }' "$RAW/$1.txt"
}

mix_row() { # LABEL SET CPULABELS
    local label=$1 set=$2 cpus="" l
    [ -s "$RAW/$set.txt" ] || return 0
    for l in $3; do cpus="$cpus${cpus:+ / }$(fix 0 "$(median "$set" "cpu.$l")")"; done
    md "| $label | **$(int "$(median "$set" ceiling_send_per_s)")** | $(int "$(median "$set" ceiling_message_per_s)") | $(int "$(median "$set" rate)") | $(ms "$(median "$set" p50_us)") | **$(ms "$(median "$set" p99_us)")** | $(ms "$(median "$set" p999_us)") | $(int "$(median "$set" lost)") | $(int "$(median "$set" integrity)") | $(int "$(median "$set" failed)") | $cpus | $(fix 0 "$(median "$set" other.cpu)") | $(fix 0 "$(median "$set" cpu.loadgen)") | $(count "$set") |"
}

# The three history benchmarks: fan-out with history writes on and off, the many-rooms
# mix (ours and RabbitMQ's), the reconnect storm.
history_sections() {
    local h_on h_off
    h_on=$(median history1.flat delivered_per_s)
    h_off=$(median history0.flat delivered_per_s)
    if [ -s "$RAW/history1.txt" ] || [ -s "$RAW/history0.txt" ]; then
        md "## History: fan-out with history writes on and off" "" \
            "The fan-out run above (1 room, $(int "$SUBS") subscribers, $PUBS publishers, flat out) on fresh one-relay stacks," \
            "alternating run by run: the default relay, which stores every message in the room's Redis stream in the" \
            "same script that publishes it, and the same binary with \`HISTORY_WRITES=0\` (a benchmark-only switch: the" \
            "script without its \`XADD\`; offsets, epochs and bodies are the same)." ""
        md "| relay | delivered MESSAGE/s | spread | messages published/s | lost | relay / redis CPU % | other processes on the server CPU % | runs |" \
            "| --- | --- | --- | --- | --- | --- | --- | --- |"
        local h
        for h in 1 0; do
            [ -s "$RAW/history$h.flat.txt" ] || continue
            md "| history writes $([ $h = 1 ] && echo on || echo off) | **$(int "$(median "history$h.flat" delivered_per_s)")** | $(spread_int "history$h.flat" delivered_per_s) | $(int "$(median "history$h.flat" publish_per_s)") | $(int "$(median "history$h.flat" lost)") | $(fix 0 "$(median "history$h.flat" cpu.relay)") / $(fix 0 "$(median "history$h.flat" cpu.redis)") | $(fix 0 "$(median "history$h.flat" other.cpu)") | $(count "history$h.flat") |"
        done
        md "" "On / off: **$(ratio "$h_on" "$h_off" 3)** (target ≥ 0.9). Stream entries left in Redis after each run (a check that" \
            "the switch does what it says): on $(sed -n 's/^history1 stream_entries=//p' "$RAW/history1.check" 2>/dev/null | paste -sd/ -)," \
            "off $(sed -n 's/^history0 stream_entries=//p' "$RAW/history0.check" 2>/dev/null | paste -sd/ -)." ""
    fi
    if [ -s "$RAW/mix.txt" ] || [ -s "$RAW/rabbit-mix.txt" ]; then
        local our their
        our=$(median mix ceiling_send_per_s)
        their=$(median rabbit-mix ceiling_send_per_s)
        md "## Many rooms" "" \
            "$(int "$MIX_ROOMS") rooms × 10 members ($(int "$((MIX_ROOMS * 10))") sessions), every member subscribed to its room and sending" \
            "100-byte texts to it on a fixed **open-loop** schedule (message j due at j / rate, round-robin over the rooms;" \
            "latency counted from the *scheduled* send time, so a server or loadgen that falls behind shows as latency" \
            "rather than as a lower send rate). Each step runs ${WARMUP} s + ${DURATION} s and multiplies the rate by $MIX_FACTOR" \
            "(ours from $(int "$MIX_RATE0") SEND/s, RabbitMQ from $(int "$MIX_RABBIT_RATE0"); divides it when the first step does not hold)" \
            "until a step does not hold: MESSAGE/s in the window" \
            "below 95 % of the offered, a message lost, or p99 above $MIX_MAX_P99_MS ms; one more step between the last two" \
            "refines the ceiling. The latency row is a separate step at half the ceiling. Every delivery is checked (from" \
            "the receiver's room, per-sender order, and for ours room offsets exactly +1): \"check errors\" must be 0." \
            "RabbitMQ: 1,000 topics (\`/topic/<room>\`), 10 subscribers each, the same senders. $MIX_RUNS run(s) per target" \
            "(10,000 RabbitMQ sessions take about two minutes to set up)." ""
        md "| target | ceiling SEND/s | MESSAGE/s at the ceiling | SEND/s at half | p50 ms at half | p99 ms at half | p99.9 ms | lost | check errors | failed sessions | server CPU % at half | other processes % | loadgen CPU % | runs |" \
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        mix_row "chat relay, 1 relay (relay / redis)" mix "relay redis"
        mix_row "RabbitMQ $(pkgver rabbitmq-server) Web-STOMP" rabbit-mix "rabbit"
        md "" "Ours / RabbitMQ: **$(ratio "$our" "$their" 1)×** the ceiling; p99 at half the ceiling ours / theirs:" \
            "**$(ratio "$(median mix p99_us)" "$(median rabbit-mix p99_us)" 2)** (each at its own half ceiling)." "" \
            "Steps of the first run, SEND/s (p99; ✗ = did not hold): ours $(mix_steps mix); RabbitMQ $(mix_steps rabbit-mix)." ""
    fi
    if [ -s "$RAW/storm.txt" ]; then
        md "## Reconnect storm" "" \
            "$(int "$STORM_ROOMS") rooms × 10 members: the $(int "$((STORM_ROOMS * 10))") member sessions subscribe (noting the room's epoch and offset from" \
            "the RECEIPT) and disconnect; one sender per room sends $STORM_MISSED messages and sees each stored; then all" \
            "$(int "$((STORM_ROOMS * 10))") sessions reconnect at once (one connect burst) and SUBSCRIBE with \`x-since-offset\`/\`x-since-epoch\`." \
            "Catch-up is the time from the first reconnect until the last session has all $STORM_MISSED recovered messages; every" \
            "session must get \`x-recovered:true\`, exactly the missed offsets in order and nothing more. CPU is utime + stime" \
            "from /proc over that interval." ""
        md "| sessions | recovered (x-recovered:true) | complete | messages | order / duplicate / receipt errors | catch-up s (spread) | per session p50 / p99 ms | relay CPU s | Redis CPU s | relay / Redis CPU % | other processes % | runs |" \
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        md "| $(int "$(median storm sessions)") | $(int "$(median storm recovered)") | $(int "$(median storm complete)") | $(int "$(median storm messages)") | $(int "$(median storm bad_order)") / $(int "$(median storm extra)") / $(int "$(median storm receipt_mismatch)") | **$(fix 2 "$(median storm catchup_s)")** ($(spread storm catchup_s)) | $(fix 0 "$(median storm p50_ms)") / $(fix 0 "$(median storm p99_ms)") | $(fix 2 "$(median storm cpu_s.relay)") | $(fix 2 "$(median storm cpu_s.redis)") | $(fix 0 "$(median storm cpu.relay)") / $(fix 0 "$(median storm cpu.redis)") | $(fix 0 "$(median storm other.cpu)") | $(count storm) |"
        md ""
    fi
}

write_report() {
    split_steps conns
    split_steps rabbit-conns
    local our_peak their_peak our_p99 their_p99 two_p99 our_bpc their_bpc max_ready rooms_rps static_rps bpc_at fdnote=""
    our_peak=$(median one.flat delivered_per_s)
    their_peak=$(median rabbit.flat delivered_per_s)
    two_p99=$(median two.p50 p99_us)
    our_p99=$(median one.p50 p99_us)
    their_p99=$(median rabbit.p50 p99_us)
    # Bytes per session at 50,000, or at the most sessions every run reached.
    bpc_at=50000
    [ -f "$RAW/conns.s50000.txt" ] || bpc_at=$(steps_of conns | tail -1)
    our_bpc=$(median "conns.s$bpc_at" bytes_per_conn.relay step)
    their_bpc=$(median rabbit-conns.s${RABBIT_STEPS##*,} bytes_per_conn.rabbit step)
    max_ready=$(values conns ready step | sort -n | tail -1)
    rooms_rps=$(median rest-rooms rps wrk-result)
    static_rps=$(median rest-static rps wrk-result)

    md "# Benchmarks" ""
    md "Generated by \`make bench\` (\`tests/bench/bench.sh\`, $((ELAPSED / 60)) min $((ELAPSED % 60)) s for this run)." \
        "Every figure is the **median of $RUNS runs** with the min–max spread; each run has its own users," \
        "connections and set-up. Servers run on CPU $SERVER_CPUS, every load generator on CPU $LOADGEN_CPUS" \
        "(\`taskset\`): on this $(nproc)-CPU machine the relay, Redis and the other servers share one core," \
        "and the load generator's CPU use is printed next to each figure so a saturated generator can be told" \
        "from a saturated server." ""
    [ "$QUICK" = 1 ] && md "**Quick mode (BENCH_QUICK=1): small loads, short runs; not comparable with a full run.**" ""

    md "## Targets" "" "| target | required | measured | result |" "| --- | --- | --- | --- |"
    md "| fan-out, 1 relay, $(int "$SUBS") subscribers, 100-byte messages | ≥ 500,000 MESSAGE/s | $(int "$our_peak") | $(verdict "$our_peak" 500000 ge) |"
    md "| fan-out vs RabbitMQ Web-STOMP | ≥ 5× | $(ratio "$our_peak" "$their_peak" 1)× | $(verdict "$(ratio "$our_peak" "$their_peak" 3)" 5 ge) |"
    md "| p99 SEND→MESSAGE at half the peak, 2 relays | ≤ 2 ms | $(ms "$two_p99") ms | $(verdict "$(ms "$two_p99")" 2 le) |"
    if grep -q 'reason=loadgen-fd-limit' "$RAW/conns.txt" 2>/dev/null; then
        fdnote=" — not a relay limit: this machine caps every process at $(int "${FD_LIMIT:-0}") file descriptors (hard limit; raising it needs CAP_SYS_RESOURCE, which this sandbox lacks), so neither the relay nor one load generator can hold 50,000 sockets here"
    fi
    md "| concurrent sessions on one relay | ≥ 50,000 | $(int "$max_ready") | $(verdict "$max_ready" 50000 ge)$fdnote |"
    md "| RSS per idle session at 50,000 | ≤ 4 KiB (4,096 B) | $(int "$our_bpc") B at $(int "$bpc_at") sessions | $(verdict "$our_bpc" 4096 le) |"
    local m_on m_off
    m_on=$(median metrics1.flat delivered_per_s)
    m_off=$(median metrics0.flat delivered_per_s)
    md "| fan-out with metrics on / off (METRICS=1 vs 0) | ≥ 0.98 | $(ratio "$m_on" "$m_off" 3) ($(int "$m_on") / $(int "$m_off") MESSAGE/s) | $(verdict "$(ratio "$m_on" "$m_off" 4)" 0.98 ge) |"
    local h_on h_off
    h_on=$(median history1.flat delivered_per_s)
    h_off=$(median history0.flat delivered_per_s)
    md "| fan-out with history writes on / off (HISTORY_WRITES=1 vs 0) | ≥ 0.9 | $(ratio "$h_on" "$h_off" 3) ($(int "$h_on") / $(int "$h_off") MESSAGE/s) | $(verdict "$(ratio "$h_on" "$h_off" 4)" 0.9 ge) |"
    md "| GET /api/rooms vs lighttpd static file | ≥ 20 % | $(ratio "$rooms_rps" "$(awk -v s="${static_rps:-0}" 'BEGIN { print s / 100 }')" 1) % | $(verdict "$(ratio "$rooms_rps" "$static_rps" 4)" 0.2 ge) |"
    local f_static f_api
    f_static=$(median files static_rps download)
    f_api=$(median files api_rps download)
    [ -n "$f_api" ] && md "| 10 MiB download through the API (X-Sendfile) vs the same file static | ≥ 0.9 | $(ratio "$f_api" "$f_static" 2) | $(verdict "$(ratio "$f_api" "$f_static" 4)" 0.9 ge) |"
    md "" "What stands in the way of each missed target, from the profiles below, is in [Reading](#reading-of-the-committed-run)." ""

    md "## Fan-out" "" "One room, $(int "$SUBS") subscribers, $PUBS publishers, 100-byte message texts, flat out: each publisher" \
        "keeps at most $WINDOW messages ($RABBIT_WINDOW for RabbitMQ, which needs that many to keep its core busy) that" \
        "some subscriber has not yet received, so \"flat out\" is the highest rate the target sustains without its queues" \
        "growing. ${DURATION} s measured after ${WARMUP} s of warm-up." ""
    md "| target | delivered MESSAGE/s | spread | messages published/s | lost | server CPU % | other processes on the server CPU % | loadgen CPU % | runs |" \
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    fanout_row "chat relay, 1 relay (relay / redis)" one.flat "relay redis"
    fanout_row "chat relay, 2 relays (relay0 / relay1 / redis)" two.flat "relay0 relay1 redis"
    fanout_row "RabbitMQ $(pkgver rabbitmq-server) Web-STOMP" rabbit.flat "rabbit"
    md "" "Ours / RabbitMQ: **$(ratio "$our_peak" "$their_peak" 1)×** delivered MESSAGE/s." ""
    local rep="" set n
    for set in one two rabbit one-at-rabbit history1 history0 storm; do
        n=$(grep -c ' phase=0 ' "$RAW/$set.disturbed.txt" 2>/dev/null)
        [ "${n:-0}" -gt 0 ] && rep="$rep${rep:+, }$set: $n"
        n=0
        [ -f "$RAW/$set.disturbed-used.txt" ] && n=$(wc -l <"$RAW/$set.disturbed-used.txt")
        [ "${n:-0}" -gt 0 ] && rep="$rep${rep:+, }$set: $n disturbed run(s) kept for want of clean ones"
    done
    md "\"Other processes\" is the server CPU's busy time not spent in the watched server processes (this machine is" \
        "shared with other work). A run in which it passed ${DISTURBED_PCT:-10} % in any phase was set aside and repeated" \
        "(at most twice per series): ${rep:-none were}. Set-aside results stay in \`build/bench/raw/*.disturbed.txt\`." ""

    md "## Latency" "" "SEND→MESSAGE, measured by the publishing loadgen's clock against the subscribing one's (same" \
        "process, CLOCK_MONOTONIC), over every subscriber: the last subscriber of a fan-out counts as much as the" \
        "first. Rates are percentages of each run's own flat-out peak. Histogram buckets are log-linear (≤ 1.6 % wide)." ""
    md "| setup, load | messages/s | MESSAGE/s | p50 ms | p99 ms (spread) | p99.9 ms | max ms | lost | runs |" \
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    latency_row "1 relay, flat out" one.flat
    latency_row "1 relay, 10 %" one.p10
    latency_row "1 relay, 50 %" one.p50
    latency_row "1 relay, 90 %" one.p90
    latency_row "2 relays, flat out" two.flat
    latency_row "2 relays, 10 %" two.p10
    latency_row "2 relays, 50 %" two.p50
    latency_row "2 relays, 90 %" two.p90
    latency_row "RabbitMQ, flat out" rabbit.flat
    latency_row "RabbitMQ, 50 % of its peak" rabbit.p50
    latency_row "1 relay at RabbitMQ's 50 % rate" one-at-rabbit.fixed
    md "" "p99 ours / RabbitMQ's, each at half its own peak: **$(ratio "$our_p99" "$their_p99" 3)** (below 1 is better for us);" \
        "at the same rate (RabbitMQ's half peak): **$(ratio "$(median one-at-rabbit.fixed p99_us)" "$their_p99" 3)**." ""

    md "## Connections" "" "Idle sessions: WebSocket + STOMP CONNECT + SUBSCRIBE (with receipt) to a room of 10, no traffic" \
        "after set-up. RSS is VmRSS of the server process; \"per session\" is (RSS − RSS before any session) / sessions," \
        "\"marginal\" is the growth since the previous step divided by the sessions added. Client sockets are bound to" \
        "127.0.0.2 and up to pass the 28k ephemeral ports per source address." ""
    md "| target | sessions | ready | RSS MiB | bytes per session (spread) | marginal bytes | connects/s | runs |" \
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    local n
    for n in $(steps_of conns); do
        md "| chat relay | $(int "$n") | $(int "$(median "conns.s$n" ready step)") | $(fix 1 "$(awk -v k="$(median "conns.s$n" rss_kib.relay step)" 'BEGIN { print k / 1024 }')") | $(int "$(median "conns.s$n" bytes_per_conn.relay step)") ($(spread_int "conns.s$n" bytes_per_conn.relay step)) | $(int "$(median "conns.s$n" marginal_bytes.relay step)") | $(int "$(median "conns.s$n" connect_per_s step)") | $(count "conns.s$n" step) |"
    done
    for n in $(steps_of rabbit-conns); do
        md "| RabbitMQ | $(int "$n") | $(int "$(median "rabbit-conns.s$n" ready step)") | $(fix 1 "$(awk -v k="$(median "rabbit-conns.s$n" rss_kib.rabbit step)" 'BEGIN { print k / 1024 }')") | $(int "$(median "rabbit-conns.s$n" bytes_per_conn.rabbit step)") ($(spread_int "rabbit-conns.s$n" bytes_per_conn.rabbit step)) | $(int "$(median "rabbit-conns.s$n" marginal_bytes.rabbit step)") | $(int "$(median "rabbit-conns.s$n" connect_per_s step)") | $(count "rabbit-conns.s$n" step) |"
    done
    local limit
    limit=$(grep -h '^limit' "$RAW/conns.txt" 2>/dev/null | head -1 | sed 's/^limit //')
    md "" "Most sessions held on one relay: **$(int "$max_ready")** (the first run goes on to $(int "$CONN_MAX")${limit:+; it stopped early: $limit})." \
        "File descriptor limit of every process here: $(int "${FD_LIMIT:-}")." \
        "Bytes per session, RabbitMQ / ours: **$(ratio "$their_bpc" "$our_bpc" 1)×** (at $(int "${RABBIT_STEPS##*,}") sessions for RabbitMQ, $(int "$bpc_at") for ours)." ""
    md "## REST through lighttpd" "" "\`wrk -t1 -c32 -d$WRK_DURATION\`; lighttpd with $API_PROCS chat-api FastCGI processes." \
        "GET /api/rooms returns the first page (${ROOMS_BYTES:-?} bytes) of 100 rooms; POST joins rooms in turn (after the" \
        "first pass every join is a repeat); the static file is \`$STATIC\` (${STATIC_BYTES:-?} bytes)." ""
    md "| request | requests/s | spread | p50 ms | p99 ms | errors | vs static |" "| --- | --- | --- | --- | --- | --- | --- |"
    local set label
    for set in rest-static rest-rooms rest-join; do
        case $set in rest-static) label="GET $STATIC (lighttpd, static)" ;; rest-rooms) label="GET /api/rooms" ;; *) label="POST /api/rooms/{id}/members" ;; esac
        [ -s "$RAW/$set.txt" ] || continue
        md "| $label | **$(int "$(median "$set" rps wrk-result)")** | $(spread_int "$set" rps wrk-result) | $(ms "$(median "$set" p50_us wrk-result)") | $(ms "$(median "$set" p99_us wrk-result)") | $(int "$(median "$set" errors wrk-result)") | $(ratio "$(median "$set" rps wrk-result)" "$(awk -v s="${static_rps:-0}" 'BEGIN { print s / 100 }')" 1) % |"
    done
    md ""

    if [ -s "$RAW/archiver.txt" ]; then
        local ceil b label
        ceil=$(median send-ceiling publish_per_s)
        md "## Archiver" "" "chat-archiver ($B) from a Redis feed pre-filled with $(int "${ARCHIVE_N:-}") stored messages in the relay's" \
            "format (100 rooms, ~60 characters of mixed Korean and English each), default settings (ARCHIVE_BATCH 500;" \
            "SQLite WAL with synchronous=FULL; PostgreSQL 15 private cluster with fsync on), timed from start until every entry" \
            "is committed and acknowledged; archiver, Redis and PostgreSQL pinned to CPU $SERVER_CPUS. The relay's SEND ceiling:" \
            "one relay, $PUBS publishers flat out, 1 subscriber (each SEND stored in history and appended to the feed)." ""
        md "| measurement | messages/s | seconds | archive bytes per message | vs SEND ceiling |" "| --- | --- | --- | --- | --- |"
        [ -z "$ceil" ] || md "| relay SEND ceiling (stored messages) | **$(int "$ceil")** | – | – | 100 % |"
        for b in sqlite postgresql; do
            case $b in sqlite) label="chat-archiver → SQLite" ;; *) label="chat-archiver → PostgreSQL" ;; esac
            grep -q "backend=$b " "$RAW/archiver.txt" || continue
            if grep -q "ok=1 backend=$b " "$RAW/archiver.txt"; then
                local line
                line=$(grep "ok=1 backend=$b " "$RAW/archiver.txt" | tail -1)
                md "| $label | **$(int "$(field per_s "$line")")** | $(field seconds "$line") | $(int "$(field bytes_per_msg "$line")") | $(ratio "$(field per_s "$line")" "$(awk -v c="${ceil:-0}" 'BEGIN { print c / 100 }')" 1) % |"
            else
                md "| $label | failed: $(grep "backend=$b " "$RAW/archiver.txt" | tail -1) | | | |"
            fi
        done
        md "" "Below 100 %, a sustained flat-out SEND load grows the feed (bounded by ARCHIVE_BACKLOG_MAX, docs/ARCHIVE.md);" \
            "bursts are absorbed and archived afterwards." ""
    fi
    # Files (tests/bench/files.sh writes its own section).
    [ -s "$RAW/files.md" ] && md "$(cat "$RAW/files.md")" ""

    history_sections
    md "## Redis ceilings" "" "The same private redis-server the relays use (pinned with them); \`redis-benchmark\` on the" \
        "load generator's CPU, 50 clients, pipeline 16, 100-byte payloads." ""
    md "| measurement | per second | spread |" "| --- | --- | --- |"
    md "| PUBLISH, no subscriber | $(int "$(median ceil-pub rps)") | $(spread_int ceil-pub rps) |"
    md "| PUBLISH, one raw subscriber attached | $(int "$(median ceil-pub1 rps)") | $(spread_int ceil-pub1 rps) |"
    md "| raw subscriber (hiredis, loadgen --mode redis-sub) receive rate | $(int "$(median ceil-sub received_per_s)") | $(spread_int ceil-sub received_per_s) |"
    md "" "The relay receives each chat message from Redis once per relay (one subscription per room), so these bound" \
        "the messages per second into a room, not the deliveries: at 1,000 subscribers the fan-out multiplies by 1,000." ""

    md "## Profiles" ""
    if [ -s "$WORK/relay-fanout.perf.txt" ]; then
        md "Relay during flat-out fan-out (\`perf record --call-graph dwarf\`, 3 s), self time by library and symbol:" "" '```text'
        md "$(cat "$WORK/relay-fanout.perf.txt")" '```' ""
    fi
    if [ -s "$WORK/relay-fanout.children.txt" ]; then
        md "The same samples by inclusive time (children, self), i.e. which calls the time is spent under:" "" '```text'
        md "$(cat "$WORK/relay-fanout.children.txt")" '```' ""
    fi
    if [ -s "$WORK/relay-fanout.syscalls" ]; then
        local dps
        dps=$(median profile-one delivered_per_s)
        md "System calls of the relay in 2 s of the same run ($(int "$dps") MESSAGE/s), per delivered MESSAGE:" ""
        md "| call | count | per MESSAGE |" "| --- | --- | --- |"
        while read -r name n; do
            [ "${n:-0}" -gt 0 ] 2>/dev/null || continue
            md "| $name | $(int "$n") | $(ratio "$n" "$(awk -v d="${dps:-0}" 'BEGIN { print d * 2 }')" 2) |"
        done <"$WORK/relay-fanout.syscalls"
        md ""
    fi
    if [ -s "$WORK/rest-rooms.perf.txt" ]; then
        md "lighttpd + chat-api + redis during GET /api/rooms, self time by process, library and symbol:" "" '```text'
        md "$(cat "$WORK/rest-rooms.perf.txt")" '```' ""
    fi
    if [ -s "$WORK/rest-rooms.children.txt" ]; then
        md "chat-api's samples only, by inclusive time (children, self; percentages of all samples of the three processes):" "" '```text'
        md "$(cat "$WORK/rest-rooms.children.txt")" '```' ""
    fi
    if [ -s "$WORK/rest-rooms.redis" ] && [ -s "$WORK/rest-profile.txt" ]; then
        local reqs
        reqs=$(field requests "$(cat "$WORK/rest-profile.txt")")
        md "Redis commands per GET /api/rooms ($(int "$reqs") requests, from INFO commandstats):" ""
        md "| command | per request | Redis µs per request |" "| --- | --- | --- |"
        while read -r name n us; do
            md "| $name | $(ratio "$n" "$reqs" 2) | $(ratio "$us" "$reqs" 1) |"
        done <"$WORK/rest-rooms.redis"
        md ""
    fi
    [ -s "$WORK/relay-fanout.perf.txt" ] || [ -s "$WORK/rest-rooms.perf.txt" ] || md "(perf was not available.)" ""

    # Search over the archive: the section tests/bench/search_bench.sh wrote.
    if [ -s "$RAW/search.md" ]; then
        md "$(cat "$RAW/search.md")" ""
    fi

    md "## Reading of the committed run" ""
    if [ -f "$ROOT/tests/bench/NOTES.md" ]; then
        md "$(cat "$ROOT/tests/bench/NOTES.md")" ""
    else
        md "(none yet)" ""
    fi

    md "## Machine" ""
    machine_table
    md "" "## Method" "" \
        "- Load generator: \`$B/tests/bench/loadgen\` (tests/bench/loadgen.c and lg_*.c): one process, one thread," \
        "  raw epoll, its own WebSocket client framing (masked text frames, no permessage-deflate) and STOMP client." \
        "- Users, sessions and rooms for our relay are written **directly into Redis** (common/keys.h names," \
        "  token SHA-256 from common/token.h), not through the REST API; each run uses fresh ones." \
        "- Relays run with \`SEND_RATE=SEND_BURST=1000000\` (the default per-session limit of 20/s would cap a" \
        "  publisher) and \`LOG_LEVEL=warn\`; everything else is the default configuration." \
        "- RabbitMQ: a private node (tests/bench/rabbit.sh) with only \`rabbitmq_web_stomp\` enabled, loopback only," \
        "  Erlang scheduler busy-waiting off (\`+sbwt none\`, so its CPU figure is work, not spinning), guest/guest," \
        "  \`/topic/<room>\`, raw-text SEND bodies, WebSocket idle timeout raised from 60 s to an hour (the many-rooms" \
        "  mix needs minutes to connect its sessions); stopped after use." \
        "- \`HISTORY_WRITES=0\` (history on/off only) is a benchmark-only relay setting: the SEND script without its" \
        "  \`XADD\`. Everything else runs the default configuration with history on." \
        "- Lost = messages sent × subscribers live at the start − MESSAGE frames received, after up to 3 s (RabbitMQ 10 s) of drain." ""
    md "## Commands" "" '```sh' "make bench    # = DEPS_BENCH=1 scripts/deps.sh; make SANITIZE= B=build/release all; tests/bench/bench.sh"
    md "taskset -c $SERVER_CPUS tests/stack.sh up DIR [--relays 2] [--api-procs $API_PROCS]   # SEND_RATE=SEND_BURST=1000000 LOG_LEVEL=warn"
    md "taskset -c $SERVER_CPUS tests/bench/rabbit.sh up DIR $SERVER_CPUS"
    sed -e "s#$ROOT/##g" -e 's#redis://127.0.0.1:[0-9]*/0#$REDIS_URL#g' -e 's#ws://127.0.0.1:[0-9]*/ws/websocket#ws://127.0.0.1:$RELAY_PORT/ws/websocket#g' \
        -e 's#=[0-9][0-9]*\( \|$\)#=<pid>\1#g' "$WORK/commands.txt" | sort -u | while IFS= read -r l; do md "$l"; done
    md '```'
}
