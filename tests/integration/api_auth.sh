#!/usr/bin/env bash
# api_auth.sh - sign-up, login, logout and bearer tokens through lighttpd + chat-api
# + redis: status codes, response shapes, what lands in Redis (and what does not),
# revocation published for the relays, and 401 for every kind of bad token.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up
P=$KEY_PREFIX

# ---- sign-up -------------------------------------------------------------------------
signup "  Ann Example " "Ann@Example.COM" "correct horse" && ok "sign-up answers 201 with a token"
ANN_TOKEN=$TOKEN ANN_ID=$USER_ID
jq_check "sign-up returns exactly User and token" '(keys == ["token","user"]) and (.user | keys == ["createdAt","email","id","name"])'
jq_check "name is stored trimmed, email lower-cased" '.user.name == "Ann Example" and .user.email == "ann@example.com"'
jq_check "token has the documented shape" '.token | test("^[A-Za-z0-9_-]{43}$")'
jq_check "id is 12-20 URL-safe characters" '.user.id | test("^[A-Za-z0-9_-]{12,20}$")'
jq_check "createdAt is Unix milliseconds" '.user.createdAt > 1600000000000 and .user.createdAt < 4102444800000'

pwhash=$($REDIS_CLI HGET "${P}user:$ANN_ID" pwhash)
check "user hash holds an argon2id hash" test "${pwhash:0:10}" = '$argon2id$'
fields=$(rcli HGETALL "${P}user:$ANN_ID")
check "user hash never holds the password itself ($(echo "$fields" | grep -c .) lines read)" \
    bash -c '[ -n "$1" ] && ! grep -qx "correct horse" <<<"$1"' _ "$fields"
check "user-email key maps the lower-cased email to the id" \
    test "$($REDIS_CLI GET "${P}user-email:ann@example.com")" = "$ANN_ID"
check "the sign-up token is a session stored by its SHA-256" \
    test "$($REDIS_CLI GET "${P}session:$(token_sha "$ANN_TOKEN")")" = "$ANN_ID"
ttl=$($REDIS_CLI TTL "${P}session:$(token_sha "$ANN_TOKEN")")
check "session TTL is the default 7 days (got $ttl)" test "$ttl" -gt 604000 -a "$ttl" -le 604800
keys=$(rcli --scan)
check "no key holds the plain token ($(echo "$keys" | grep -c .) keys read)" \
    bash -c '[ -n "$1" ] && ! grep -qF -- "$2" <<<"$1"' _ "$keys" "$ANN_TOKEN"

expect_error "same email again is a conflict" 409 conflict POST /api/users "$(body_json name Other email ann@example.com password "another pass")"
expect_error "same email in other case is a conflict" 409 conflict POST /api/users "$(body_json name Other email ANN@EXAMPLE.com password "another pass")"
check "a refused duplicate left the first user alone" test "$($REDIS_CLI GET "${P}user-email:ann@example.com")" = "$ANN_ID"
expect_status "unknown fields in a body are ignored" 201 POST /api/users '{"name":"Zed","email":"zed@example.com","password":"password1","admin":true,"id":"mine"}'
jq_check "an id in the body is not taken" '.user.id != "mine"'

# ---- /me -------------------------------------------------------------------------------
expect_status "GET /api/users/me with the token" 200 GET /api/users/me "" "$ANN_TOKEN"
jq_check "me is exactly the User" "(keys == [\"createdAt\",\"email\",\"id\",\"name\"]) and .id == \"$ANN_ID\" and .email == \"ann@example.com\""
expect_status "GET /api/users/me/rooms for a new user" 200 GET /api/users/me/rooms "" "$ANN_TOKEN"
jq_check "a new user is in no rooms" '.rooms == []'

# ---- login -------------------------------------------------------------------------------
login "ann@example.com" "correct horse" && ok "login answers 200 with a token"
LOGIN1=$TOKEN
jq_check "login returns exactly User and token" '(keys == ["token","user"]) and (.user | keys == ["createdAt","email","id","name"])'
jq_check "login returns the same user" ".user.id == \"$ANN_ID\" and .user.name == \"Ann Example\""
login "ANN@example.com" "correct horse" && ok "login email is case-insensitive"
LOGIN2=$TOKEN
check "each login gets its own token" test "$LOGIN1" != "$LOGIN2" -a "$LOGIN1" != "$ANN_TOKEN"
expect_error "wrong password is 401" 401 unauthorized POST /api/sessions "$(body_json email ann@example.com password "wrong horse")"
WRONG_MSG=$(echo "$BODY" | jq -r .error.message)
expect_error "unknown email is 401" 401 unauthorized POST /api/sessions "$(body_json email nobody@example.com password "correct horse")"
check "unknown email and wrong password answer the same message" test "$(echo "$BODY" | jq -r .error.message)" = "$WRONG_MSG"
expect_error "an address that cannot exist is 401 too" 401 unauthorized POST /api/sessions "$(body_json email not-an-email password "correct horse")"
expect_error "password is case-sensitive" 401 unauthorized POST /api/sessions "$(body_json email ann@example.com password "Correct horse")"
expect_error "login without password is 422" 422 invalid POST /api/sessions '{"email":"ann@example.com"}'
expect_error "login without email is 422" 422 invalid POST /api/sessions '{"password":"correct horse"}'
expect_error "login with a non-string password is 422" 422 invalid POST /api/sessions '{"email":"ann@example.com","password":12345678}'

# ---- bad tokens ---------------------------------------------------------------------------
expect_error "no token on /me is 401" 401 unauthorized GET /api/users/me
expect_error "no token on GET /api/rooms is 401" 401 unauthorized GET /api/rooms
expect_error "no token on POST /api/rooms is 401" 401 unauthorized POST /api/rooms '{"name":"x"}'
expect_error "no token on logout is 401" 401 unauthorized DELETE /api/sessions/current
FORGED=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
expect_error "forged well-formed token is 401" 401 unauthorized GET /api/users/me "" "$FORGED"
expect_error "malformed token is 401" 401 unauthorized GET /api/users/me "" "abc"
expect_error "token with a stray character is 401" 401 unauthorized GET /api/users/me "" "${ANN_TOKEN:0:42}!"
expect_error "the token's SHA-256 is not a token" 401 unauthorized GET /api/users/me "" "$(token_sha "$ANN_TOKEN")"
expect_raw_error "Basic scheme is 401" 401 unauthorized GET /api/users/me -H "Authorization: Basic $ANN_TOKEN"
check "401 carries a Bearer challenge" test "$(header WWW-Authenticate)" = "Bearer"
raw GET /api/users/me -H "authorization: bearer   $ANN_TOKEN"
check "scheme is case-insensitive and extra spaces are fine (HTTP $STATUS)" test "$STATUS" = 200

# ---- logout ----------------------------------------------------------------------------------
SUB_OUT=$STACK_DIR/revoked.out
redis-cli -p "$REDIS_PORT" SUBSCRIBE "${P}revoked" >"$SUB_OUT" 2>&1 &
SUB_PID=$!
for _ in $(seq 50); do grep -q "${P}revoked" "$SUB_OUT" 2>/dev/null && break; sleep 0.05; done
raw DELETE /api/sessions/current -H "Authorization: Bearer $LOGIN1"
check "logout answers 204 (got $STATUS)" test "$STATUS" = 204
check "204 has no body" test -z "$BODY"
expect_error "the logged-out token is refused on /me" 401 unauthorized GET /api/users/me "" "$LOGIN1"
expect_error "the logged-out token is refused on /api/rooms" 401 unauthorized GET /api/rooms "" "$LOGIN1"
expect_error "logging out twice is 401" 401 unauthorized DELETE /api/sessions/current "" "$LOGIN1"
check "the session key is gone" test "$($REDIS_CLI EXISTS "${P}session:$(token_sha "$LOGIN1")")" = 0
expect_status "other tokens of the same user still work" 200 GET /api/users/me "" "$LOGIN2"
expect_status "the sign-up token still works" 200 GET /api/users/me "" "$ANN_TOKEN"
for _ in $(seq 40); do grep -q "$(token_sha "$LOGIN1")" "$SUB_OUT" && break; sleep 0.05; done
check "logout published the token's SHA-256 on ${P}revoked" grep -qx "$(token_sha "$LOGIN1")" "$SUB_OUT"
check "the token itself was not published" bash -c "! grep -qF -- '$LOGIN1' '$SUB_OUT'"
kill "$SUB_PID" 2>/dev/null
wait "$SUB_PID" 2>/dev/null

# ---- health ---------------------------------------------------------------------------------
expect_status "health needs no token" 200 GET /api/health
jq_check "health body" '. == {"status":"ok"}'
check "health is JSON" test "$CTYPE" = "application/json; charset=utf-8"

check_no_secrets
finish
