#!/usr/bin/env bash
# api_validation.sh - every input limit of the REST API at its boundary (names,
# room names, emails, passwords, counted in code points), and the request-level
# errors: malformed JSON 400, wrong media type 415, bodies over 16 KiB 413, wrong
# method 405 with Allow, unknown paths 404. Every error is checked for the JSON shape.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up

N=0
# fresh_email: a new unique address each call, in $EMAIL.
fresh_email() { N=$((N + 1)); EMAIL="user$N@example.com"; }
# try_name NAME: sign up with this name (fresh email, good password).
try_name() { fresh_email; api POST /api/users "$(body_json name "$1" email "$EMAIL" password password1)"; }
name_ok() { # test-name NAME WANT-STORED
    try_name "$2"
    if [ "$STATUS" = 201 ] && echo "$BODY" | jq -e --arg n "$3" '.user.name == $n' >/dev/null; then ok "$1"; else
        not_ok "$1: HTTP $STATUS $(echo "$BODY" | head -c 200)"; fi
}
name_bad() { fresh_email; expect_invalid "$1" name POST /api/users "$(body_json name "$2" email "$EMAIL" password password1)"; }

E_ACUTE=$'\xc3\xa9'      # é, 2 bytes
HANGUL=$'\xed\x95\x9c'   # 한, 3 bytes
EMOJI=$'\xf0\x9f\x98\x80' # 😀, 4 bytes

# ---- user name: 1..50 code points, trimmed, no control characters ----------------------
name_ok "name of 50 ASCII characters" "$(rep x 50)" "$(rep x 50)"
name_bad "name of 51 ASCII characters" "$(rep x 51)"
name_ok "name of 50 two-byte characters" "$(rep "$E_ACUTE" 50)" "$(rep "$E_ACUTE" 50)"
name_bad "name of 51 two-byte characters" "$(rep "$E_ACUTE" 51)"
name_ok "name of 50 three-byte characters" "$(rep "$HANGUL" 50)" "$(rep "$HANGUL" 50)"
name_bad "name of 51 three-byte characters" "$(rep "$HANGUL" 51)"
name_ok "name of 50 emoji (4 bytes each)" "$(rep "$EMOJI" 50)" "$(rep "$EMOJI" 50)"
name_bad "name of 51 emoji" "$(rep "$EMOJI" 51)"
name_ok "name of 1 character" "a" "a"
name_ok "50 characters plus surrounding spaces are trimmed to 50" "   $(rep y 50)  " "$(rep y 50)"
name_ok "Unicode spaces are trimmed" $'\xe3\x80\x80Bob\xc2\xa0' "Bob"
name_ok "inner spaces are kept" "Ann  Lee" "Ann  Lee"
name_bad "empty name" ""
name_bad "name of only spaces" "     "
name_bad "name with BEL" $'a\x07b'
name_bad "name with a tab inside" $'a\tb'
name_bad "name with a newline inside" $'a\nb'
name_bad "name with DEL" $'a\x7fb'
name_bad "name with a C1 control (U+0085) inside" $'a\xc2\x85b'
fresh_email
expect_invalid "name with NUL" name POST /api/users "{\"name\":\"a\\u0000b\",\"email\":\"$EMAIL\",\"password\":\"password1\"}"
fresh_email
expect_invalid "name missing" name POST /api/users "{\"email\":\"$EMAIL\",\"password\":\"password1\"}"
fresh_email
expect_invalid "name is a number" name POST /api/users "{\"name\":42,\"email\":\"$EMAIL\",\"password\":\"password1\"}"
fresh_email
expect_invalid "name is null" name POST /api/users "{\"name\":null,\"email\":\"$EMAIL\",\"password\":\"password1\"}"

# ---- email: usual forms, at most 254 ------------------------------------------------------
email_ok() { # test-name EMAIL STORED
    api POST /api/users "$(body_json name E email "$2" password password1)"
    if [ "$STATUS" = 201 ] && echo "$BODY" | jq -e --arg e "$3" '.user.email == $e' >/dev/null; then ok "$1"; else
        not_ok "$1: HTTP $STATUS $(echo "$BODY" | head -c 200)"; fi
}
email_bad() { expect_invalid "$1" email POST /api/users "$(body_json name E email "$2" password password1)"; }
LOCAL64=$(rep a 64)
DOM189="$(rep b 63).$(rep c 63).$(rep d 61)" # 189 characters
E254="$LOCAL64@$DOM189"
E255="$LOCAL64@$(rep b 63).$(rep c 63).$(rep d 62)"
check "the 254-character address really is 254 (${#E254}) and the other 255 (${#E255})" test "${#E254}" = 254 -a "${#E255}" = 255
email_ok "email of 254 characters" "$E254" "$E254"
email_bad "email of 255 characters" "$E255"
email_ok "short email" "a@b.co" "a@b.co"
email_ok "dots, plus and subdomains" "first.last+tag@sub.example.org" "first.last+tag@sub.example.org"
email_ok "upper case is stored lower-cased" "MiXeD@Example.COM" "mixed@example.com"
for bad in "plain" "@example.com" "a@" "a@b" "a@@b.com" "a b@c.com" "a@-b.com" "a@b-.com" "a@b..com" \
    ".a@b.com" "a.@b.com" "a@b.com." "a@b_c.com" "${E_ACUTE}@b.com" "a@${E_ACUTE}.com" "" " a@b.com"; do
    email_bad "email '$bad' is refused" "$bad"
done
expect_invalid "email missing" email POST /api/users '{"name":"E","password":"password1"}'
expect_invalid "email is a number" email POST /api/users '{"name":"E","email":7,"password":"password1"}'

# ---- password: 8..128 code points, not trimmed ------------------------------------------------
pw_ok() { fresh_email; expect_status "$1" 201 POST /api/users "$(body_json name P email "$EMAIL" password "$2")"; }
pw_bad() { fresh_email; expect_invalid "$1" password POST /api/users "$(body_json name P email "$EMAIL" password "$2")"; }
pw_bad "password of 7 characters" "$(rep p 7)"
pw_ok "password of 8 characters" "$(rep p 8)"
pw_ok "password of 128 characters" "$(rep p 128)"
pw_bad "password of 129 characters" "$(rep p 129)"
pw_bad "password of 7 two-byte characters (14 bytes)" "$(rep "$E_ACUTE" 7)"
pw_ok "password of 8 two-byte characters" "$(rep "$E_ACUTE" 8)"
pw_ok "password of 128 emoji (512 bytes)" "$(rep "$EMOJI" 128)"
pw_bad "password of 129 two-byte characters" "$(rep "$E_ACUTE" 129)"
pw_ok "spaces count and are kept" "       x"
login "$EMAIL" "       x" && ok "a password with leading spaces logs in as given"
expect_error "the same password trimmed does not" 401 unauthorized POST /api/sessions "$(body_json email "$EMAIL" password "x")"
fresh_email
pw_ok "password of 128 emoji again" "$(rep "$EMOJI" 128)"
login "$EMAIL" "$(rep "$EMOJI" 128)" && ok "a multi-byte password logs in"
fresh_email
expect_invalid "password missing" password POST /api/users "$(body_json name P email "$EMAIL")"
expect_invalid "password is a number" password POST /api/users "{\"name\":\"P\",\"email\":\"$EMAIL\",\"password\":12345678}"

# ---- room name: 1..100 code points -------------------------------------------------------------
signup "Roomer" "roomer@example.com" "password1"
T=$TOKEN
room_ok() {
    api POST /api/rooms "$(body_json name "$2")" "$T"
    if [ "$STATUS" = 201 ] && echo "$BODY" | jq -e --arg n "$3" '.name == $n' >/dev/null; then ok "$1"; else
        not_ok "$1: HTTP $STATUS $(echo "$BODY" | head -c 200)"; fi
}
room_bad() { expect_invalid "$1" name POST /api/rooms "$(body_json name "$2")" "$T"; }
room_ok "room name of 100 characters" "$(rep r 100)" "$(rep r 100)"
room_bad "room name of 101 characters" "$(rep r 101)"
room_ok "room name of 100 two-byte characters" "$(rep "$E_ACUTE" 100)" "$(rep "$E_ACUTE" 100)"
room_bad "room name of 101 two-byte characters" "$(rep "$E_ACUTE" 101)"
room_ok "room name of 100 emoji" "$(rep "$EMOJI" 100)" "$(rep "$EMOJI" 100)"
room_bad "room name of 101 emoji" "$(rep "$EMOJI" 101)"
room_ok "room name is trimmed" "  $(rep s 100)   " "$(rep s 100)"
room_ok "room name of 1 character" "z" "z"
room_bad "empty room name" ""
room_bad "room name of spaces" "   "
room_bad "room name with a control character" $'a\x01b'
expect_invalid "room name missing" name POST /api/rooms '{}' "$T"
expect_invalid "room name is an array" name POST /api/rooms '{"name":["x"]}' "$T"

# ---- malformed bodies: 400 --------------------------------------------------------------------
for bad in '{"name":' '{"name":"a",}' "{'name':'a'}" '{}x' '{"a":1}{"b":2}' '[]' '"just a string"' '42' 'null' \
    "$(rep '[' 40)"; do
    expect_error "body '${bad:0:20}' is malformed" 400 malformed POST /api/users "$bad"
done
expect_raw_error "empty body is malformed" 400 malformed POST /api/users -H 'Content-Type: application/json' --data-binary ''
expect_raw_error "body with invalid UTF-8 is malformed" 400 malformed POST /api/users -H 'Content-Type: application/json' \
    --data-binary $'{"name":"\xff\xfe","email":"u8@example.com","password":"password1"}'
expect_raw_error "body with a NUL byte is malformed" 400 malformed POST /api/users -H 'Content-Type: application/json' \
    --data-binary @<(printf '{"name":"a\0","email":"nul@example.com","password":"password1"}')
expect_error "malformed body on POST /api/rooms" 400 malformed POST /api/rooms '{"name"' "$T"
expect_error "malformed body on POST /api/sessions" 400 malformed POST /api/sessions '{"email":}'

# ---- media type: 415 ------------------------------------------------------------------------------
GOOD='{"name":"M","email":"media@example.com","password":"password1"}'
expect_raw_error "text/plain is 415" 415 unsupported-media-type POST /api/users -H 'Content-Type: text/plain' --data-binary "$GOOD"
expect_raw_error "form encoding is 415" 415 unsupported-media-type POST /api/users --data-binary "$GOOD"
expect_raw_error "no Content-Type is 415" 415 unsupported-media-type POST /api/users -H 'Content-Type:' --data-binary "$GOOD"
expect_raw_error "another charset is 415" 415 unsupported-media-type POST /api/users -H 'Content-Type: application/json; charset=latin1' --data-binary "$GOOD"
expect_raw_error "a JSON-ish subtype is 415" 415 unsupported-media-type POST /api/users -H 'Content-Type: application/json-patch+json' --data-binary "$GOOD"
expect_raw_error "415 on POST /api/rooms" 415 unsupported-media-type POST /api/rooms -H "Authorization: Bearer $T" -H 'Content-Type: text/plain' --data-binary '{"name":"x"}'
expect_raw_error "415 on POST /api/sessions" 415 unsupported-media-type POST /api/sessions -H 'Content-Type: text/plain' --data-binary '{"email":"a@b.co","password":"password1"}'
raw POST /api/users -H 'Content-Type: Application/JSON; Charset=UTF-8' --data-binary "$GOOD"
check "application/json with a charset, any case, is accepted (HTTP $STATUS)" test "$STATUS" = 201

# ---- size: 16 KiB ------------------------------------------------------------------------------------
# pad_body N: a valid sign-up body of exactly N bytes (whitespace padding).
pad_body() {
    fresh_email
    local core="{\"name\":\"Pad\",\"email\":\"$EMAIL\",\"password\":\"password1\""
    printf '%s%s}' "$core" "$(rep ' ' $(($1 - ${#core} - 1)))" >"$STACK_DIR/pad.json"
}
pad_body 16384
check "the 16384-byte body file is 16384 bytes" test "$(stat -c %s "$STACK_DIR/pad.json")" = 16384
raw POST /api/users -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/pad.json"
check "a body of exactly 16 KiB is accepted (HTTP $STATUS)" test "$STATUS" = 201
pad_body 16385
expect_raw_error "a body of 16 KiB + 1 is 413" 413 too-large POST /api/users -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/pad.json"
head -c 17408 /dev/zero | tr '\0' 'a' >"$STACK_DIR/17k"
expect_raw_error "a 17 KiB body is 413 with a JSON error" 413 too-large POST /api/users -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/17k"
expect_raw_error "a 17 KiB chunked body is 413" 413 too-large POST /api/users -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$STACK_DIR/17k"
expect_raw_error "size is checked before the media type" 413 too-large POST /api/users -H 'Content-Type: text/plain' --data-binary @"$STACK_DIR/17k"
expect_raw_error "a 17 KiB body is 413 on POST /api/rooms" 413 too-large POST /api/rooms -H "Authorization: Bearer $T" -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/17k"
head -c 900000 /dev/zero | tr '\0' 'a' >"$STACK_DIR/900k"
expect_raw_error "a 900 KB body is the API's JSON 413 too" 413 too-large POST /api/sessions -H 'Content-Type: application/json' --data-binary @"$STACK_DIR/900k"
expect_status "the API still answers after big bodies" 200 GET /api/health

# ---- method and path ---------------------------------------------------------------------------------
allow_is() { # test-name WANT
    local got
    got=$(header Allow | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ',')
    check "$1 (Allow: $(header Allow))" test "$got" = "$(echo "$2" | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ',')"
}
expect_raw_error "PUT /api/rooms is 405" 405 method-not-allowed PUT /api/rooms -H "Authorization: Bearer $T"
allow_is "405 on /api/rooms lists GET and POST" "GET,POST"
expect_raw_error "GET /api/users is 405" 405 method-not-allowed GET /api/users
allow_is "405 on /api/users lists POST" "POST"
expect_raw_error "POST /api/health is 405" 405 method-not-allowed POST /api/health -H 'Content-Type: application/json' --data-binary '{}'
allow_is "405 on /api/health lists GET" "GET"
expect_raw_error "GET /api/sessions/current is 405" 405 method-not-allowed GET /api/sessions/current -H "Authorization: Bearer $T"
allow_is "405 on /api/sessions/current lists DELETE" "DELETE"
expect_raw_error "PATCH /api/rooms/x is 405" 405 method-not-allowed PATCH /api/rooms/someroom -H "Authorization: Bearer $T"
allow_is "405 on /api/rooms/{id} lists GET" "GET"
expect_raw_error "GET /api/rooms/x/members is 405" 405 method-not-allowed GET /api/rooms/someroom/members -H "Authorization: Bearer $T"
allow_is "405 on /api/rooms/{id}/members lists POST" "POST"
expect_raw_error "405 comes before authentication" 405 method-not-allowed PUT /api/rooms

expect_error "unknown API path is 404" 404 not-found GET /api/nope
expect_error "/api itself is 404" 404 not-found GET /api
expect_error "a path below a room is 404" 404 not-found GET /api/rooms/abc/def "" "$T"
expect_error "a percent-encoded id is 404" 404 not-found GET "/api/rooms/abc%2Fdef" "" "$T"
expect_error "a 65-character id is 404" 404 not-found GET "/api/rooms/$(rep a 65)" "" "$T"
expect_error "a dotted id is 404" 404 not-found GET "/api/rooms/a.b" "" "$T"
expect_error "a valid but unknown room id is 404" 404 not-found GET "/api/rooms/$(rep a 16)" "" "$T"
expect_status "one trailing slash is forgiven" 200 GET /api/health/
expect_status "query strings do not change the route" 200 GET "/api/health?verbose=1"

check_no_secrets
finish
