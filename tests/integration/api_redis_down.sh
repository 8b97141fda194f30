#!/usr/bin/env bash
# api_redis_down.sh - Redis stopped in the middle: every call that needs it answers
# a quick JSON 503 "unavailable" (health too), calls that do not need it still work,
# and once Redis is back the API recovers by itself, Lua scripts included (a
# restarted Redis has forgotten them).
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up

signup "Dana" "dana@example.com" "password1"
T=$TOKEN
expect_status "health before the outage" 200 GET /api/health
expect_status "a room before the outage" 201 POST /api/rooms '{"name":"before"}' "$T"
ROOM=$(echo "$BODY" | jq -r .id)

# quick_503 NAME METHOD PATH [BODY] [TOKEN] [curl args]: a JSON 503 within 2 s.
quick_503() {
    local name=$1 t0 t1
    shift
    t0=$(date +%s%N)
    expect_error "$name" 503 unavailable "$@"
    t1=$(date +%s%N)
    check "$name answers in under 2 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 2000
}

stack_redis_stop
if port_open "$REDIS_PORT"; then not_ok "redis is really down (something accepts on $REDIS_PORT)"; else ok "redis is really down"; fi
quick_503 "health with Redis down" GET /api/health
quick_503 "GET /api/rooms with Redis down" GET /api/rooms "" "$T"
quick_503 "GET /api/rooms/{id} with Redis down" GET "/api/rooms/$ROOM" "" "$T"
quick_503 "POST /api/rooms with Redis down" POST /api/rooms '{"name":"during"}' "$T"
quick_503 "join with Redis down" POST "/api/rooms/$ROOM/members" "" "$T" -H "Content-Length: 0"
quick_503 "leave with Redis down" DELETE "/api/rooms/$ROOM/members/me" "" "$T"
quick_503 "GET /api/users/me with Redis down" GET /api/users/me "" "$T"
quick_503 "sign-up with Redis down" POST /api/users '{"name":"E","email":"e@example.com","password":"password1"}'
quick_503 "login with Redis down" POST /api/sessions '{"email":"dana@example.com","password":"password1"}'
quick_503 "logout with Redis down" DELETE /api/sessions/current "" "$T"
expect_error "a missing token is still 401, not 503" 401 unauthorized GET /api/rooms
expect_error "an unknown path is still 404" 404 not-found GET /api/nope
expect_error "validation that needs no Redis still answers 400" 400 malformed POST /api/users '{"x":'
codes=""
for i in $(seq 1 20); do
    api GET /api/health
    codes="$codes$STATUS "
done
check "repeated calls during the outage keep answering 503, every one ($codes)" test "$codes" = "$(printf '503 %.0s' $(seq 20))"

stack_redis_start
# The API retries a dead Redis at most every 200 ms; give it a moment.
codes=""
for _ in $(seq 1 50); do
    api GET /api/health
    codes="$codes$STATUS "
    [ "$STATUS" = 200 ] && break
    sleep 0.1
done
check "health recovers by itself after Redis is back (HTTP $STATUS)" test "$STATUS" = 200
check "while recovering every answer was 503 or 200 ($codes)" bash -c '[[ "$1" =~ ^(503 )*200\ $ ]]' _ "$codes"
# Several API processes: each must recover, so ask a few times.
codes=""
for i in $(seq 1 10); do
    api GET /api/health
    codes="$codes$STATUS "
done
check "every API process has recovered ($codes)" test "$codes" = "$(printf '200 %.0s' $(seq 10))"
# Redis keeps its data across a restart (conf/redis.conf: append-only file): the old
# session and the room are still there.
expect_status "the old token still works after the restart" 200 GET "/api/rooms/$ROOM" "" "$T"
signup "Erin" "erin@example.com" "password1" && ok "sign-up works again (its Lua script is loaded anew)"
T=$TOKEN
expect_status "GET /api/rooms works again" 200 GET /api/rooms "" "$T"
expect_status "POST /api/rooms works again" 201 POST /api/rooms '{"name":"after"}' "$T"
ROOM=$(echo "$BODY" | jq -r .id)
expect_status "leave works again" 204 DELETE "/api/rooms/$ROOM/members/me" "" "$T"
expect_status "join works again" 200 POST "/api/rooms/$ROOM/members" "" "$T" -H "Content-Length: 0"
expect_status "paging works again" 200 GET "/api/rooms?limit=1" "" "$T"
expect_status "logout works again" 204 DELETE /api/sessions/current "" "$T"

check_no_secrets
finish
