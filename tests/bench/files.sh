#!/usr/bin/env bash
# tests/bench/files.sh - the files section of `make bench` (bench.sh runs it; it also
# runs alone): on a private stack (tests/stack.sh, one chat-api process, pinned to
# $SERVER_CPUS; wrk and curl on $LOADGEN_CPUS):
#   download   a 10 MiB file through the API (GET /api/files/{id}: token and membership
#              checked, then X-Sendfile) vs the same bytes as a static file from
#              lighttpd, wrk -c4, alternating run by run; the ratio of requests/s must
#              be >= 0.9
#   upload     POST of 1 MiB and of 25 MiB files: time per upload, and the chat-api
#              process's peak RSS (VmHWM) after the 1 MiB uploads and again after the
#              25 MiB ones (it must not grow with the file: the body is copied in
#              64 KiB chunks)
#
#   tests/bench/files.sh [OUT_DIR]    raw results in OUT_DIR/files.txt, the report
#                                     section in OUT_DIR/files.md (default build/bench)
# Environment: B (build/release), RUNS (3), WRK_DURATION (5s), SERVER_CPUS (0),
# LOADGEN_CPUS (1). Leaves nothing running.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
B=${B:-build/release}
RUNS=${RUNS:-3}
WRK_DURATION=${WRK_DURATION:-5s}
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
[ "$(nproc)" -ge 2 ] || { SERVER_CPUS=0; LOADGEN_CPUS=0; }
OUT_DIR=${1:-$ROOT/build/bench}
mkdir -p "$OUT_DIR"
RAWF=$OUT_DIR/files.txt
MD=$OUT_DIR/files.md
DIR=$OUT_DIR/files-stack
rm -rf "$DIR"
mkdir -p "$DIR/static/bench-static"
: >"$RAWF"
say() { echo "bench-files: $*" >&2; }
cleanup() { "$ROOT/tests/stack.sh" down "$DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x "$B/fcgi-api/chat-api" ] || { say "$B/fcgi-api/chat-api not built"; exit 1; }
command -v wrk >/dev/null || { say "wrk is not installed (DEPS_BENCH=1 scripts/deps.sh)"; exit 1; }

# The static copy is served from its own document root, so www/ stays untouched.
export STACK_LIGHTTPD_EXTRA="\$HTTP[\"url\"] =~ \"^/bench-static/\" { server.document-root = \"$DIR/static\" }"
if ! env LOG_LEVEL=warn B="$B" taskset -c "$SERVER_CPUS" "$ROOT/tests/stack.sh" up "$DIR" --api-procs 1 >"$DIR/up.log" 2>&1; then
    say "the stack did not start: $(tail -3 "$DIR/up.log")"
    exit 1
fi
# shellcheck disable=SC1091
. "$DIR/env"
API_PID=$(pgrep -P "$(cat "$DIR/lighttpd.pidnum")" | head -1)

T=$(curl -s -X POST "$BASE_URL/api/users" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"email\":\"bench-$$@example.test\",\"password\":\"password 123\"}" | jq -r .token)
R=$(curl -s -X POST "$BASE_URL/api/rooms" -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
    -d '{"name":"bench files"}' | jq -r .id)
[ -n "$T" ] && [ "$R" != null ] || { say "could not make a user and a room"; exit 1; }
upload() { # FILE NAME -> "status seconds"
    taskset -c "$LOADGEN_CPUS" curl -s -o "$DIR/up.json" -w '%{http_code} %{time_total}' -X POST \
        "$BASE_URL/api/rooms/$R/files?name=$2" -H "Authorization: Bearer $T" --data-binary "@$1"
}
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$API_PID/status"; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$API_PID/status"; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- download: API (X-Sendfile) vs static -------------------------------------------------
head -c $((10 * 1048576)) /dev/urandom >"$DIR/static/bench-static/blob.bin"
read -r st _ < <(upload "$DIR/static/bench-static/blob.bin" blob.bin)
[ "$st" = 201 ] || { say "upload of the 10 MiB file failed ($st)"; exit 1; }
FID=$(jq -r .id "$DIR/up.json")
cmp -s <(curl -s -H "Authorization: Bearer $T" "$BASE_URL/api/files/$FID") "$DIR/static/bench-static/blob.bin" ||
    { say "the API does not serve the same bytes"; exit 1; }
WRK=(taskset -c "$LOADGEN_CPUS" wrk -t1 -c4 -d"$WRK_DURATION")
rps() { sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\)/\1/p'; }
for ((i = 1; i <= RUNS; i++)); do
    say "download run $i/$RUNS"
    s=$("${WRK[@]}" "$BASE_URL/bench-static/blob.bin" | rps)
    a=$("${WRK[@]}" -H "Authorization: Bearer $T" "$BASE_URL/api/files/$FID" | rps)
    echo "download run=$i static_rps=$s api_rps=$a" >>"$RAWF"
done

# ---- upload: time and the API process's peak RSS ------------------------------------------
head -c 1048576 /dev/urandom >"$DIR/one.bin"
head -c $((25 * 1048576)) /dev/urandom >"$DIR/max.bin"
RSS0=$(rss)
HWM0=$(hwm)
for ((i = 1; i <= RUNS; i++)); do
    printf 'x%d' "$i" >>"$DIR/one.bin" # new bytes each time: a new blob, not a duplicate
    read -r st secs < <(upload "$DIR/one.bin" one.bin)
    echo "upload size=1MiB run=$i status=$st seconds=$secs" >>"$RAWF"
done
HWM1=$(hwm)
for ((i = 1; i <= RUNS; i++)); do
    printf 'x%d' "$i" >>"$DIR/max.bin"
    truncate -s $((25 * 1048576)) "$DIR/max.bin"
    dd if=/dev/urandom of="$DIR/max.bin" bs=64 count=1 conv=notrunc status=none
    read -r st secs < <(upload "$DIR/max.bin" max.bin)
    echo "upload size=25MiB run=$i status=$st seconds=$secs" >>"$RAWF"
done
HWM25=$(hwm)
echo "rss api_before_uploads_kb=$RSS0 api_hwm_before_uploads_kb=$HWM0 api_hwm_after_1MiB_kb=$HWM1 api_hwm_after_25MiB_kb=$HWM25" >>"$RAWF"

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----------------------------------------------------------------------------------
med() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
col() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <(grep "^$1 " "$RAWF") | grep -v '^$'; }
range() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s–%s", lo, hi }'; }
S_MED=$(col download static_rps | med)
S_RANGE=$(col download static_rps | range)
A_RANGE=$(col download api_rps | range)
RATIOS=$(paste -d' ' <(col download api_rps) <(col download static_rps) | awk '$2 > 0 { printf "%s%.2f", (NR > 1 ? ", " : ""), $1 / $2 }')
A_MED=$(col download api_rps | med)
RATIO=$(awk -v a="$A_MED" -v s="$S_MED" 'BEGIN { if (s > 0) printf "%.2f", a / s }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.9 ? "met" : "**missed**") }')
U1=$(grep 'size=1MiB' "$RAWF" | sed -n 's/.*seconds=//p' | med)
U25=$(grep 'size=25MiB' "$RAWF" | sed -n 's/.*seconds=//p' | med)
BAD=$(grep -c '^upload .*status=[^2]' "$RAWF")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
{
    echo "## Files"
    echo
    echo "\`tests/bench/files.sh\`: one chat-api process, $RUNS runs, medians. A 10 MiB file of random bytes,"
    echo "downloaded by wrk (1 thread, 4 connections, $WRK_DURATION per run, static and API runs alternating):"
    echo
    echo "| download (10 MiB) | requests/s | spread | MiB/s |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| static file from lighttpd | $S_MED | $S_RANGE | $(awk -v r="$S_MED" 'BEGIN { printf "%.0f", r * 10 }') |"
    echo "| \`GET /api/files/{id}\` (token + membership in chat-api, bytes by lighttpd via X-Sendfile) | $A_MED | $A_RANGE | $(awk -v r="$A_MED" 'BEGIN { printf "%.0f", r * 10 }') |"
    echo "| ratio API / static, of the medians (target ≥ 0.9) | **$RATIO** | run by run: $RATIOS | $VERDICT |"
    echo
    echo "| upload (curl, one at a time) | seconds (median) | chat-api peak RSS (VmHWM) after them |"
    echo "| --- | ---: | ---: |"
    echo "| 1 MiB × $RUNS | $U1 | $(mib "$HWM1") MiB |"
    echo "| 25 MiB × $RUNS | $U25 | $(mib "$HWM25") MiB |"
    echo
    echo "Before these uploads (after the downloads above) the API process held $(mib "$RSS0") MiB, peak"
    echo "$(mib "$HWM0") MiB; its peak grew by"
    echo "$(awk -v a="$HWM1" -v b="$HWM25" 'BEGIN { printf "%d", b - a }') KiB from the 1 MiB uploads to the 25 MiB ones: the body goes from lighttpd's"
    echo "temporary file through FastCGI into FILES_DIR 64 KiB at a time, so the file's size does not"
    echo "reach the process's memory. An upload's time is lighttpd taking the whole body first, then"
    echo "chat-api copying and hashing it (SHA-256), fsync and rename.${BAD:+ Failed uploads: $BAD.}"
    echo
    echo "Load average of the machine (1, 5, 15 min) at the start of this section: $LOAD_START; at its end: $LOAD_END."
} >"$MD"
[ "$BAD" = 0 ] && sed -i 's/ Failed uploads: 0\.//' "$MD"
cat "$MD"
