#!/usr/bin/env bash
# tests/bench/archiver_fill.sh PORT N [KEY_PREFIX] - append N stored messages in the
# relay's format (CHAT bodies with id, roomId, offset, epoch, ts; 100 rooms; mixed Korean
# and English text of about 60 characters) to the archive feed of the Redis on
# 127.0.0.1:PORT, through `redis-cli --pipe`. For the archiver benchmark (bench.sh).
set -euo pipefail
port=$1 n=$2 prefix=${3:-chat:}
awk -v n="$n" -v key="${prefix}archive" -v ts="$(date +%s%3N)" 'BEGIN {
    split("채팅방에서 회의를 시작합니다|the deploy finished without errors|오늘 저녁 메뉴는 뭐예요|let us meet at the station tomorrow|서버 로그를 확인해 주세요|shipping the new search box today", t, "|")
    for (i = 1; i <= n; i++) {
        room = i % 100; off = int((i - 1) / 100) + 1
        body = sprintf("{\"type\":\"CHAT\",\"id\":\"bench-%d\",\"roomId\":\"bench-room-%d\",\"senderId\":\"u-bench-%d\",\"sender\":\"Bench %d\",\"message\":\"%s %d %s\",\"ts\":%.0f,\"offset\":%d,\"epoch\":\"ebench\"}",
                       i, room, i % 37, i % 37, t[i % 6 + 1], i, t[(i * 7) % 6 + 1], ts + i, off)
        printf "*5\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$1\r\nm\r\n$%d\r\n%s\r\n", length(key), key, length(body), body
    }
}' LC_ALL=C | redis-cli -p "$port" --pipe >/dev/null
