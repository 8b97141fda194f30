#!/usr/bin/env bash
# run.sh SECONDS BIN_DIR NAME... - run the libFuzzer targets BIN_DIR/fuzz_NAME for
# SECONDS each on BIN_DIR/corpus/NAME (seeded from tests/fuzz/corpus/NAME, keeping
# what earlier runs found). Prints "fuzz-ok NAME ..." per clean target; on a crash
# prints "fuzz-FAIL NAME ...", the end of the log and the reproducer, and exits 1 after
# all targets (tests/run.sh counts those two line prefixes). A target that exits 0
# having run fewer than FUZZ_MIN_RUNS inputs (default 1000: a 5 s smoke run does tens
# of thousands) beyond its starting corpus is a "fuzz-FAIL" too: a fuzzer that did
# not fuzz proves nothing.
# Does not build anything (the Makefile does).
set -u
cd "$(dirname "$0")/../.."
secs=$1 dir=$2
shift 2
min_runs=${FUZZ_MIN_RUNS:-1000}
failed=0
for name in "$@"; do
    bin=$dir/fuzz_$name work=$dir/corpus/$name art=$dir/artifacts/$name/ log=$dir/fuzz_$name.log
    mkdir -p "$work" "$art"
    cp -n tests/fuzz/corpus/"$name"/* "$work"/
    corpus0=$(ls "$work" | wc -l)
    printf '  FUZZ    %s (%ss)\n' "$name" "$secs"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art" "$work" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ "$rc" -eq 0 ] && ! [ "${runs:-0}" -ge $((corpus0 + min_runs)) ] 2>/dev/null; then
        printf 'fuzz-FAIL %s: only %s runs on a corpus of %s (at least %s more expected); log %s\n' \
            "$name" "${runs:-no}" "$corpus0" "$min_runs" "$log"
        tail -n 20 "$log"
        failed=1
    elif [ "$rc" -eq 0 ]; then
        printf 'fuzz-ok   %s: %s runs, %s, corpus %s files\n' "$name" "${runs:-?}" \
            "${cov:-cov: ?}" "$(ls "$work" | wc -l)"
    else
        printf 'fuzz-FAIL %s: crashed (exit %d); log %s\n' "$name" "$rc" "$log"
        tail -n 40 "$log"
        printf 'reproduce: %s %s\n' "$bin" "$(ls -t "$art" | head -1 | sed "s|^|$art|")"
        failed=1
    fi
done
exit $failed
