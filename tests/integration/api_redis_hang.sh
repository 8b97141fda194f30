#!/usr/bin/env bash
# api_redis_hang.sh - Redis hung, not stopped (kill -STOP: connections stay open,
# nothing answers): every call that needs it answers the JSON 503 "unavailable" within
# the API's REDIS_TIMEOUT_MS (500 ms by default; 2 s allowed here for a loaded
# machine), health too; after kill -CONT the API recovers by itself, every process of
# it, and answers from the right data (no late reply to a timed-out command is taken
# for the answer to a later one). Redis keeps its data here: the old token still works.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up

signup "Hana" "hana@example.com" "password1"
T=$TOKEN
HANA=$USER_ID
expect_status "health before the hang" 200 GET /api/health
expect_status "a room before the hang" 201 POST /api/rooms '{"name":"before the hang"}' "$T"
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

"$TESTS_ROOT/stack.sh" redis-pause "$STACK_DIR"
if port_open "$REDIS_PORT" && ! timeout 1 redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1; then
    ok "redis is hung: its port accepts, PING gets no answer in 1 s"
else
    not_ok "redis is hung: its port accepts, PING gets no answer in 1 s"
fi
quick_503 "health with Redis hung" GET /api/health
quick_503 "GET /api/rooms with Redis hung" GET /api/rooms "" "$T"
quick_503 "GET /api/users/me with Redis hung" GET /api/users/me "" "$T"
quick_503 "POST /api/rooms with Redis hung" POST /api/rooms '{"name":"during the hang"}' "$T"
quick_503 "login with Redis hung" POST /api/sessions '{"email":"hana@example.com","password":"password1"}'
codes=""
for i in $(seq 1 6); do
    api GET /api/health
    codes="$codes$STATUS "
done
check "repeated calls while hung answer 503, every one ($codes)" test "$codes" = "$(printf '503 %.0s' $(seq 6))"
expect_error "a missing token is still 401, not 503" 401 unauthorized GET /api/rooms

"$TESTS_ROOT/stack.sh" redis-resume "$STACK_DIR"
codes=""
for _ in $(seq 1 50); do
    api GET /api/health
    codes="$codes$STATUS "
    [ "$STATUS" = 200 ] && break
    sleep 0.1
done
check "health recovers by itself after kill -CONT (HTTP $STATUS)" test "$STATUS" = 200
check "while recovering every answer was 503 or 200 ($codes)" bash -c '[[ "$1" =~ ^(503 )*200\ $ ]]' _ "$codes"
# Several API processes, each of which may hold a connection with a late reply in it.
codes=""
wrong=""
for i in $(seq 1 10); do
    api GET /api/users/me "" "$T"
    codes="$codes$STATUS "
    [ "$(echo "$BODY" | jq -r .id 2>/dev/null)" = "$HANA" ] || wrong="$wrong [$STATUS $(echo "$BODY" | head -c 120)]"
done
check "every API process has recovered ($codes)" test "$codes" = "$(printf '200 %.0s' $(seq 10))"
check "and answers with the caller's own record every time${wrong:+:$wrong}" test -z "$wrong"
expect_status "the token from before the hang still works" 200 GET "/api/rooms/$ROOM" "" "$T"
jq_check "GET /api/rooms/{id} answers that room" ".id == \"$ROOM\" and .name == \"before the hang\""
expect_status "POST /api/rooms works again" 201 POST /api/rooms '{"name":"after the hang"}' "$T"
jq_check "... with the new name" '.name == "after the hang"'
login "hana@example.com" "password1"

check_no_secrets
finish
