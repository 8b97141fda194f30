#!/usr/bin/env bash
# lighttpd_errors.sh - errors lighttpd makes itself under /api answer the API's JSON
# error body with the right status (CONTRACT.md "Operations"; conf/api-errors.lua):
# a POST without Content-Length (411), a malformed request line and %00 in the query
# (400), a body over server.max-request-size (413), the FastCGI program unreachable
# (503). Pages outside /api keep lighttpd's own error pages.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
# A second fastcgi.server for one path, pointing at a socket nobody listens on: what
# lighttpd answers when the FastCGI program cannot be reached.
export STACK_LIGHTTPD_EXTRA='$HTTP["url"] =~ "^/api/unreachable" {
  fastcgi.server = ( "/api" => (( "socket" => var.state + "/nobody.sock", "check-local" => "disable" )) )
}'
stack_up

# raw_request TEXT: send TEXT as is over a fresh connection; sets STATUS, CTYPE, BODY.
raw_request() {
    local out
    out=$(printf '%b' "$1" | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; cat <&3" | tr -d '\r')
    STATUS=$(printf '%s\n' "$out" | head -1 | awk '{print $2}')
    CTYPE=$(printf '%s\n' "$out" | awk -F': ' 'tolower($1) == "content-type" { print $2; exit }')
    BODY=$(printf '%s\n' "$out" | awk 'body { print } /^$/ { body = 1 }')
}

expect_json_error() { # NAME STATUS CODE
    if [ "$STATUS" = "$2" ] && is_error_body "$3" && [ "$CTYPE" = "application/json; charset=utf-8" ]; then
        ok "$1 (HTTP $2 $3, JSON)"
    else
        not_ok "$1: want HTTP $2 $3 JSON, got $STATUS [$CTYPE]: $(echo "$BODY" | head -c 300)"
    fi
}

signup "Erin" "erin@example.com" "password1"
api POST "/api/rooms" '{"name":"errors"}' "$TOKEN"
ROOM=$(echo "$BODY" | jq -r .id)

# 411: curl -X POST with no body sends no Content-Length.
raw POST "/api/rooms/$ROOM/members" -H "Authorization: Bearer $TOKEN"
if [ "$STATUS" = 200 ]; then
    ok "POST .../members without a body: 200 (lighttpd let it through)"
else
    expect_json_error "POST .../members without Content-Length" 411 length-required
fi
raw_request "POST /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
expect_json_error "POST /api/rooms without Content-Length" 411 length-required

raw_request "GARBAGE\r\n\r\n"
expect_json_error "a malformed request line" 400 malformed
raw_request "GET /api/health HTTP/1.1 extra\r\nHost: x\r\nConnection: close\r\n\r\n"
expect_json_error "a request line with four parts" 400 malformed
raw GET "/api/rooms?x=%00"
expect_json_error "%00 in the query" 400 malformed
raw GET "/api/health%00"
expect_json_error "%00 in the path" 400 malformed
raw_request "GET /api/health HTTP/1.1\r\nHost: x\r\nBad header line\r\nConnection: close\r\n\r\n"
expect_json_error "a malformed header line" 400 malformed

head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' 'a' >"$STACK_DIR/big"
raw POST /api/rooms -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary @"$STACK_DIR/big"
expect_json_error "a body over lighttpd's 1 MiB limit" 413 too-large
# Under the limit but over the API's 16 KiB: the API's own 413, also JSON.
head -c 20000 /dev/zero | tr '\0' 'a' >"$STACK_DIR/mid"
raw POST /api/rooms -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary @"$STACK_DIR/mid"
expect_json_error "a body over the API's 16 KiB" 413 too-large

raw GET /api/unreachable
expect_json_error "the FastCGI program unreachable" 503 unavailable

# The API's own errors are left alone, and so are lighttpd's pages outside /api.
raw GET /api/nope
expect_json_error "the API's own 404" 404 not-found
raw GET /no-such-page
check "a static 404 outside /api stays lighttpd's page" test "$STATUS:$CTYPE" = "404:text/html"
raw GET "/chat.html?x=%00"
check "a %00 outside /api stays lighttpd's page" test "$STATUS:$CTYPE" = "400:text/html"
raw GET /chat.html
check "chat.html is still text/html" test "$STATUS:$CTYPE" = "200:text/html; charset=utf-8"

finish
