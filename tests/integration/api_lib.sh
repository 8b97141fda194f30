# tests/integration/api_lib.sh - helpers for the api_*.sh scripts, on top of
# tests/lib.sh (which it sources). Not a test itself: run directly it does nothing.
#
#   . "$(dirname "$0")/api_lib.sh"
#   raw METHOD PATH [curl args...]   one call with no headers added; sets STATUS,
#                                    BODY, CTYPE, HEADERS
#   expect_raw_error NAME WANT CODE METHOD PATH [curl args...]
#                                    like lib.sh's expect_error, for raw calls
#   header NAME                      value of a response header of the last raw call
#   expect_invalid NAME FIELD METHOD PATH BODY [TOKEN]
#                                    422 "invalid" whose message names FIELD
#   rep STRING N                     STRING repeated N times
#   signup NAME EMAIL PASSWORD       POST /api/users, asserts 201; sets TOKEN USER_ID
#   login EMAIL PASSWORD             POST /api/sessions, asserts 200; sets TOKEN
#   body_json k v [k v...]           a compact JSON object of string fields (jq)
#   check_no_secrets                 no response body seen so far held a password
#                                    hash, and the server logs hold no token
#
# Every response body seen through api/expect_*/raw is appended to
# $STACK_DIR/.bodies for check_no_secrets.
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0

# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# lib.sh (as of 7bede5a) sets TESTS_ROOT to the repository root, not tests/, so its
# stack.sh calls miss; point it at tests/ unless that is already right.
[ -x "$TESTS_ROOT/stack.sh" ] || TESTS_ROOT=$TESTS_ROOT/tests

API_TOKENS=() # every token handed out, for the log check

record_body() { printf '%s\n' "$BODY" >>"$STACK_DIR/.bodies"; }

# Wrap lib.sh's api() (used by expect_status / expect_error) to record bodies.
eval "lib_api() $(declare -f api | tail -n +2)"
api() {
    lib_api "$@"
    record_body
}

raw() {
    local method=$1 path=$2 out
    shift 2
    out=$(curl -s -o "$STACK_DIR/.body" -D "$STACK_DIR/.headers" -w '%{http_code} %{content_type}' \
        -X "$method" --max-time 10 "$@" "$BASE_URL$path") || out="000 "
    STATUS=${out%% *}
    CTYPE=${out#* }
    BODY=$(cat "$STACK_DIR/.body" 2>/dev/null || true)
    HEADERS=$(tr -d '\r' <"$STACK_DIR/.headers" 2>/dev/null || true)
    record_body
}

header() {
    printf '%s\n' "$HEADERS" | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" -F': ' \
        'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }'
}

# is_error_body CODE: $BODY is exactly {"error":{"code":CODE,"message":"non-empty"}}.
is_error_body() {
    echo "$BODY" | jq -e --arg c "$1" '(keys == ["error"]) and (.error | keys == ["code", "message"])
        and .error.code == $c and (.error.message | type == "string" and length > 0)' >/dev/null 2>&1
}

expect_raw_error() {
    local name=$1 want=$2 code=$3
    shift 3
    raw "$@"
    if [ "$STATUS" = "$want" ] && is_error_body "$code" && [[ $CTYPE == "application/json; charset=utf-8" ]]; then
        ok "$name (HTTP $want $code)"
    else
        not_ok "$name: want HTTP $want $code, got $STATUS [$CTYPE]: $(echo "$BODY" | head -c 300)"
    fi
}

expect_invalid() {
    local name=$1 field=$2
    shift 2
    api "$@"
    if [ "$STATUS" = 422 ] && is_error_body invalid && [[ $CTYPE == "application/json; charset=utf-8" ]] &&
        echo "$BODY" | jq -e --arg f "$field" '.error.message | startswith($f + " ")' >/dev/null 2>&1; then
        ok "$name (HTTP 422 naming $field)"
    else
        not_ok "$name: want HTTP 422 naming $field, got $STATUS: $(echo "$BODY" | head -c 300)"
    fi
}

rep() {
    local out="" i
    for ((i = 0; i < $2; i++)); do out+=$1; done
    printf '%s' "$out"
}

body_json() {
    local args=() expr="{" sep=""
    while [ $# -ge 2 ]; do
        args+=(--arg "$1" "$2")
        expr="$expr$sep\"$1\": \$$1"
        sep=", "
        shift 2
    done
    jq -nc "${args[@]}" "$expr}"
}

signup() {
    api POST /api/users "$(body_json name "$1" email "$2" password "$3")"
    TOKEN=$(echo "$BODY" | jq -r '.token // empty' 2>/dev/null)
    USER_ID=$(echo "$BODY" | jq -r '.user.id // empty' 2>/dev/null)
    if [ "$STATUS" = 201 ] && [ -n "$TOKEN" ] && [ -n "$USER_ID" ]; then
        API_TOKENS+=("$TOKEN")
        return 0
    fi
    not_ok "sign-up of $2: HTTP $STATUS $(echo "$BODY" | head -c 200)"
    return 1
}

login() {
    api POST /api/sessions "$(body_json email "$1" password "$2")"
    TOKEN=$(echo "$BODY" | jq -r '.token // empty' 2>/dev/null)
    if [ "$STATUS" = 200 ] && [ -n "$TOKEN" ]; then
        API_TOKENS+=("$TOKEN")
        return 0
    fi
    not_ok "login of $1: HTTP $STATUS $(echo "$BODY" | head -c 200)"
    return 1
}

# sha256 hex of a token, as stored in Redis and published on logout.
token_sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

check_no_secrets() {
    local n
    n=$(wc -l <"$STACK_DIR/.bodies" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ] && ! grep -q 'argon2' "$STACK_DIR/.bodies"; then
        ok "no response of $n contains a password hash"
    else
        not_ok "a response contains a password hash (or none recorded: $n)"
    fi
    local t leaked=0
    for t in "${API_TOKENS[@]}"; do
        if grep -rqF -- "$t" "$STACK_DIR"/*.log "$STACK_DIR"/*.out 2>/dev/null; then leaked=1; fi
    done
    if [ "$leaked" = 0 ] && ! grep -qi 'argon2\|password=' "$STACK_DIR"/lighttpd.out; then
        ok "server logs hold no token (${#API_TOKENS[@]} checked), hash or password"
    else
        not_ok "a token, hash or password appears in the server logs"
    fi
}
