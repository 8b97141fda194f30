#!/usr/bin/env bash
# api_ratelimit.sh - failed logins are limited per email and client address (default 10 a minute, then
# 429 with Retry-After), checked before the password, counted for unknown emails the
# same way, without touching other emails; the window ends and a success resets it.
# Ordinary use is not limited.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up
P=$KEY_PREFIX

signup "Rita" "rita@example.com" "right password"
signup "Sam" "sam@example.com" "right password"
wrong() { api POST /api/sessions "$(body_json email "$1" password "wrong password")"; }

# ---- ten failures are 401, the eleventh attempt is 429 ------------------------------------
codes=""
for i in $(seq 1 10); do
    wrong rita@example.com
    codes="$codes$STATUS "
done
check "10 wrong passwords are each 401 (got $codes)" test "$codes" = "$(printf '401 %.0s' $(seq 10))"
check "the failures are counted in ${P}login-fail:rita@example.com:127.0.0.1" test "$($REDIS_CLI GET "${P}login-fail:rita@example.com:127.0.0.1")" = 10
ttl=$($REDIS_CLI TTL "${P}login-fail:rita@example.com:127.0.0.1")
check "the counter lives for the 60 s window (ttl $ttl)" test "$ttl" -gt 0 -a "$ttl" -le 60
expect_raw_error "the 11th wrong password is 429" 429 rate-limited POST /api/sessions -H 'Content-Type: application/json' \
    --data-binary "$(body_json email rita@example.com password "wrong password")"
ra=$(header Retry-After)
check "429 says when to retry (Retry-After: $ra)" test -n "$ra" -a "$ra" -gt 0 -a "$ra" -le 60 2>/dev/null
expect_error "even the right password is 429 now: the limit comes first" 429 rate-limited POST /api/sessions \
    "$(body_json email rita@example.com password "right password")"
expect_error "the limit follows the email in any case" 429 rate-limited POST /api/sessions \
    "$(body_json email RITA@Example.com password "right password")"
check "429s do not count as more failures" test "$($REDIS_CLI GET "${P}login-fail:rita@example.com:127.0.0.1")" = 10

login sam@example.com "right password" && ok "another email is not limited"
expect_status "a token of the limited user still works" 200 GET /api/users/me "" "$TOKEN"

# ---- unknown emails are limited the same way (429 does not reveal who exists) ----------------
codes=""
for i in $(seq 1 10); do
    wrong ghost@example.com
    codes="$codes$STATUS "
done
check "10 logins for an unknown email are each 401" test "$codes" = "$(printf '401 %.0s' $(seq 10))"
expect_error "the 11th for an unknown email is 429 too" 429 rate-limited POST /api/sessions "$(body_json email ghost@example.com password x)"

# ---- the window ends ----------------------------------------------------------------------------
$REDIS_CLI EXPIRE "${P}login-fail:rita@example.com:127.0.0.1" 1 >/dev/null
sleep 1.5
login rita@example.com "right password" && ok "after the window the right password works again"
check "a successful login resets the counter" test "$($REDIS_CLI EXISTS "${P}login-fail:rita@example.com:127.0.0.1")" = 0

# ---- a success in between resets: 9 failures, success, 10 more failures are all 401 -----------
for i in $(seq 1 9); do wrong sam@example.com; done
login sam@example.com "right password" && ok "9 failures then the right password: 200"
codes=""
for i in $(seq 1 10); do
    wrong sam@example.com
    codes="$codes$STATUS "
done
check "after that success 10 more failures are allowed (got $codes)" test "$codes" = "$(printf '401 %.0s' $(seq 10))"

# ---- ordinary use is never limited ------------------------------------------------------------------
login rita@example.com "right password"
T=$TOKEN
codes=""
for i in $(seq 1 60); do
    api GET /api/rooms "" "$T"
    [ "$STATUS" = 200 ] || codes="$codes$STATUS "
done
check "60 quick authenticated calls are never limited (${codes:-all 200})" test -z "$codes"
codes=""
for i in $(seq 1 15); do
    api POST /api/sessions "$(body_json email rita@example.com password "right password")"
    [ "$STATUS" = 200 ] || codes="$codes$STATUS "
done
check "15 successful logins in a row are never limited (${codes:-all 200})" test -z "$codes"

check_no_secrets
finish
