#!/usr/bin/env bash
# tests/bench/search_bench.sh - search over a 1,000,000-message archive on both back
# ends (bench.sh runs it as one section; it also runs on its own).
#
#   tests/bench/search_bench.sh [OUT.md]
#       SEARCH_N (1000000) messages, SEARCH_Q (100) queries of each size, $B (default
#       build/release) for the binaries; writes the markdown section to OUT.md
#       (default build/bench/search.md) and prints it
#
# The corpus (search_bench gen: Korean and English words, Zipf-distributed, 200
# rooms, a fixed seed, so both back ends hold the same messages) is kept in
# build/bench-search/ between runs and made again only when SEARCH_N or the
# generator changes: making it is most of the time. SQLite is a file there;
# PostgreSQL a private cluster there (tests/pg.sh, fsync on), started for the
# queries and stopped at the end. The queries (search_bench query: one member of 20
# of the 200 rooms, limit 21 like the API's default page plus one, a snippet per
# result) run on one back end at a time, pinned to one CPU, the other side idle.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
B=${B:-build/release}
N=${SEARCH_N:-1000000}
Q=${SEARCH_Q:-100}
OUT=${1:-$ROOT/build/bench/search.md}
CACHE=$ROOT/build/bench-search
TOOL=$ROOT/$B/tests/bench/search_bench
CPU=${SERVER_CPUS:-0}
[ -x "$TOOL" ] || { echo "search bench: $TOOL not built (make bench)" >&2; exit 1; }
say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
mkdir -p "$CACHE" "$(dirname "$OUT")"

# The corpus version: N and the checksum of the generator and of the schemas.
VERSION="$N $(cat "$ROOT/tests/bench/search/search_bench.c" "$ROOT/archive/archive_sqlite.c" "$ROOT/archive/archive_pg.c" | sha256sum | cut -c1-16)"
if [ "$(cat "$CACHE/version" 2>/dev/null)" != "$VERSION" ]; then
    say "search: new corpus of $N messages (kept in ${CACHE#$ROOT/} for later runs)"
    [ -f "$CACHE/pg/postgres.pid" ] && "$ROOT/tests/pg.sh" stop "$CACHE/pg" >/dev/null 2>&1
    rm -rf "$CACHE/sqlite.db" "$CACHE/sqlite.db-wal" "$CACHE/sqlite.db-shm" "$CACHE/pg" "$CACHE/version" "$CACHE"/gen-*.txt
    PG_URL=$("$ROOT/tests/pg.sh" start "$CACHE/pg") || exit 1
    # the two back ends load at once (one CPU each when there are two)
    "$TOOL" gen "sqlite:$CACHE/sqlite.db" "$N" >"$CACHE/gen-sqlite.txt" &
    sq=$!
    "$TOOL" gen "$PG_URL" "$N" >"$CACHE/gen-pg.txt"
    rc=$?
    wait "$sq" || rc=1
    [ "$rc" = 0 ] || { echo "search bench: generating the corpus failed" >&2; "$ROOT/tests/pg.sh" stop "$CACHE/pg"; exit 1; }
    echo "$VERSION" >"$CACHE/version"
else
    say "search: corpus of $N messages from an earlier run"
    PG_URL=$("$ROOT/tests/pg.sh" start "$CACHE/pg") || exit 1
fi
trap '"$ROOT/tests/pg.sh" stop "$CACHE/pg" >/dev/null 2>&1' EXIT

say "search: $Q queries of 1, 2 and 3 words on SQLite"
taskset -c "$CPU" "$TOOL" query "sqlite:$CACHE/sqlite.db" "$Q" >"$CACHE/query-sqlite.txt" || exit 1
say "search: $Q queries of 1, 2 and 3 words on PostgreSQL"
taskset -c "$CPU" "$TOOL" query "$PG_URL" "$Q" >"$CACHE/query-pg.txt" || exit 1

# pages in use (a fresh bulk load has no free pages; this also holds after edits)
SQ_BYTES=$(sqlite3 "$CACHE/sqlite.db" "SELECT (p.page_count - f.freelist_count) * s.page_size FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s")
PG_BYTES=$(psql "$PG_URL" -Atc "SELECT pg_total_relation_size('messages')")
PG_DB_BYTES=$(psql "$PG_URL" -Atc "SELECT pg_database_size(current_database())")
PG_VERSION=$(psql "$PG_URL" -Atc "SHOW server_version" | cut -d' ' -f1)

f() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<" $2"; }
ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
row() { # LABEL FILE WORDS
    local l
    l=$(grep "^result words=$3 " "$2")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$3" "$(ms "$(f p50_us "$l")")" "$(ms "$(f p90_us "$l")")" \
        "$(ms "$(f p99_us "$l")")" "$(ms "$(f max_us "$l")")" "$(f mean_rows "$l")"
}
per() { awk -v b="$1" -v n="$N" 'BEGIN { printf "%.0f", b / n }'; }
{
    echo "## Search over the archive"
    echo
    echo "$N generated messages (4–19 words each, Korean-led or English-led, words drawn"
    echo "Zipf-style from 3,000 Korean nouns with particles and 3,000 English words; 200 rooms)"
    echo "in each back end; $Q queries of each size as one member of 20 rooms (a tenth of the"
    echo "messages), words taken from generated messages (Korean without their particles, English"
    echo "sometimes cut short), so every search is a prefix search. Each figure is one query's"
    echo "time in one process as chat-api spends it: splitting the query, archive_search for a"
    echo "page of 21, a snippet per result (\`tests/bench/search_bench.sh\`, pinned to CPU $CPU)."
    echo "Of the matches, the newest 1,000 in the caller's rooms are ranked (docs/ARCHIVE.md)."
    echo
    echo "| back end | words | p50 ms | p90 ms | p99 ms | max ms | results per page |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for w in 1 2 3; do row "SQLite $(sqlite3 --version | cut -d' ' -f1) FTS5" "$CACHE/query-sqlite.txt" $w; done
    for w in 1 2 3; do row "PostgreSQL $PG_VERSION GIN" "$CACHE/query-pg.txt" $w; done
    echo
    echo "Size on disk: SQLite $(per "$SQ_BYTES") bytes per message (the file's pages in use, with the FTS5 index,"
    echo "$((SQ_BYTES / 1048576)) MiB); PostgreSQL $(per "$PG_BYTES") bytes per message (table, TOAST and"
    echo "indexes: \`pg_total_relation_size\`, $((PG_BYTES / 1048576)) MiB; the whole database"
    echo "$((PG_DB_BYTES / 1048576)) MiB). A stored message is its text plus the Message JSON"
    echo "(about $(awk -v b="$(sqlite3 "$CACHE/sqlite.db" 'SELECT avg(length(CAST(body AS BLOB))) FROM messages')" 'BEGIN { printf "%.0f", b }') bytes here) and the ids."
    if [ -s "$CACHE/gen-sqlite.txt" ]; then
        echo
        echo "Loading the corpus (bulk paths of the benchmark, not the archiver's):" \
            "SQLite $(f s "$(cat "$CACHE/gen-sqlite.txt")") s, PostgreSQL $(f s "$(cat "$CACHE/gen-pg.txt")") s, side by side."
    fi
} >"$OUT"
cat "$OUT"
