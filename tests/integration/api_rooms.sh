#!/usr/bin/env bash
# api_rooms.sh - rooms through lighttpd + chat-api + redis: cursor pagination (order,
# no duplicates, no gaps, stable while rooms are created, ties within a millisecond),
# create / get with members / join / leave, my rooms, 404s, the "left" channel, and
# that the four Redis structures of a room never disagree.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up
P=$KEY_PREFIX
ROOM_KEYS='["createdAt","createdBy","id","memberCount","name"]'
# Joins carry no body but say so (Content-Length: 0, as browsers do): lighttpd
# answers a POST without Content-Length with its own 411 before the API sees it.

signup "Alice" "alice@example.com" "password1"
A=$TOKEN AID=$USER_ID
signup "Bob" "bob@example.com" "password1"
BT=$TOKEN BID=$USER_ID

# walk LIMIT: page through GET /api/rooms; sets WALK_IDS (one per line), WALK_SIZES,
# WALK_OK (1 when every page was a 200 and the last said next: null).
walk() {
    local cursor="" ids="" sizes="" pages=0 q
    WALK_OK=0
    while :; do
        q="/api/rooms?limit=$1"
        [ -n "$cursor" ] && q="$q&cursor=$cursor"
        api GET "$q" "" "$A"
        [ "$STATUS" = 200 ] || return
        ids+=$(echo "$BODY" | jq -r '.rooms[].id')$'\n'
        sizes+="$(echo "$BODY" | jq '.rooms | length') "
        cursor=$(echo "$BODY" | jq -r 'if .next == null then "" else .next end')
        [ -z "$cursor" ] && break
        pages=$((pages + 1))
        [ "$pages" -gt 500 ] && return
    done
    WALK_IDS=$(printf '%s' "$ids" | sed '/^$/d')
    WALK_SIZES=${sizes% }
    WALK_OK=1
}
zset_ids() { $REDIS_CLI ZREVRANGE "${P}rooms" 0 -1; }
# list_all JQ: GET /api/rooms (the cached first page) 8 times, so that every API
# process answers at least once with a warm page cache, and hold JQ true each time.
list_all() {
    local i
    for i in $(seq 8); do
        api GET /api/rooms "" "$A"
        [ "$STATUS" = 200 ] && echo "$BODY" | jq -e "$1" >/dev/null || return 1
    done
}

# ---- pagination over 25 rooms ---------------------------------------------------------------
CREATED=()
for i in $(seq -w 1 25); do
    api POST /api/rooms "$(body_json name "room $i")" "$A"
    [ "$STATUS" = 201 ] && CREATED+=("$(echo "$BODY" | jq -r .id)")
done
check "25 rooms created" test "${#CREATED[@]}" = 25
walk 10
check "paging with limit=10 ends with next: null" test "$WALK_OK" = 1
check "pages hold 10, 10, 5 rooms (got $WALK_SIZES)" test "$WALK_SIZES" = "10 10 5"
check "no duplicates across pages" test "$(echo "$WALK_IDS" | sort -u | wc -l)" = 25
check "no gaps: every created room is listed" test "$(echo "$WALK_IDS" | sort)" = "$(printf '%s\n' "${CREATED[@]}" | sort)"
check "newest first: the reverse of creation order" test "$WALK_IDS" = "$(printf '%s\n' "${CREATED[@]}" | tac)"
api GET /api/rooms "" "$A"
jq_check "default limit is 20, with a next cursor" '(.rooms | length) == 20 and (.next | type) == "string"'
jq_check "list entries are Rooms" "all(.rooms[]; keys == $ROOM_KEYS)"
jq_check "createdAt never increases down the list" '[.rooms[].createdAt] | . == (sort | reverse)'
api GET "/api/rooms?limit=100" "" "$A"
jq_check "limit=100 returns all 25 and next: null" '(.rooms | length) == 25 and .next == null'
api GET "/api/rooms?limit=25" "" "$A"
jq_check "a page that ends exactly at the last room has next: null" '(.rooms | length) == 25 and .next == null'
api GET "/api/rooms?limit=24" "" "$A"
jq_check "limit=24 leaves a next cursor" '(.rooms | length) == 24 and (.next | type) == "string"'
api GET "/api/rooms?limit=24&cursor=$(echo "$BODY" | jq -r .next)" "" "$A"
jq_check "and the last page has the oldest room only" ".rooms | length == 1 and .[0].id == \"${CREATED[0]}\""
jq_check "and next: null" '.next == null'
walk 1
check "limit=1 walks all 25 one by one" test "$WALK_OK" = 1 -a "$(echo "$WALK_IDS" | wc -l)" = 25

# Stable while rooms are created between pages.
api GET "/api/rooms?limit=10" "" "$A"
PAGE1=$(echo "$BODY" | jq -r '.rooms[].id')
NEXT=$(echo "$BODY" | jq -r .next)
for i in 1 2 3; do api POST /api/rooms "$(body_json name "late $i")" "$A"; done
api GET "/api/rooms?limit=10&cursor=$NEXT" "" "$A"
PAGE2=$(echo "$BODY" | jq -r '.rooms[].id')
check "page 2 after new rooms continues exactly where page 1 ended" \
    test "$PAGE2" = "$(printf '%s\n' "${CREATED[@]}" | tac | sed -n '11,20p')"
check "no room of page 1 repeats on page 2" test -z "$(comm -12 <(echo "$PAGE1" | sort) <(echo "$PAGE2" | sort))"

# Rooms created in the same millisecond: ties are broken by id, in byte order
# (ids of mixed case and '_' tell byte order from a locale's collation).
TS=1500000000000
for id in tieA tieb tieC tied tie_ tieZ9; do
    $REDIS_CLI HSET "${P}room:$id" id "$id" name "tie $id" createdBy "$AID" createdAt "$TS" >/dev/null
    $REDIS_CLI ZADD "${P}rooms" "$TS" "$id" >/dev/null
    $REDIS_CLI SADD "${P}room:$id:members" "$AID" >/dev/null
    $REDIS_CLI SADD "${P}user:$AID:rooms" "$id" >/dev/null
done
# Writers behind the API's back drop the rooms version so page caches notice.
$REDIS_CLI DEL "${P}rooms-version" >/dev/null
for l in 1 2 4; do
    walk "$l"
    check "limit=$l through same-millisecond rooms matches the sorted set, no duplicates" \
        test "$WALK_OK" = 1 -a "$WALK_IDS" = "$(zset_ids)" -a "$(echo "$WALK_IDS" | sort -u | wc -l)" = "$(zset_ids | wc -l)"
done

# limit and cursor validation.
for bad in 0 101 -1 abc 1.5 "" "+5" "%205" 99999999999; do
    expect_invalid "limit='$bad' is refused" limit GET "/api/rooms?limit=$bad" "" "$A"
done
expect_status "limit=%31%30 is 10" 200 GET "/api/rooms?limit=%31%30" "" "$A"
jq_check "... and returns 10" '.rooms | length == 10'
for bad in garbage "$(printf 'abc' | base64)" "MTIzLmFiYw==" "$(printf '12a.abc' | base64 | tr -d '=')" ""; do
    expect_invalid "cursor='$bad' is refused" cursor GET "/api/rooms?cursor=$bad" "" "$A"
done
OLD_CURSOR=$(printf '1.zzzz' | base64 | tr '+/' '-_' | tr -d '=')
expect_status "a cursor older than every room" 200 GET "/api/rooms?cursor=$OLD_CURSOR" "" "$A"
jq_check "... gives an empty last page" '.rooms == [] and .next == null'

# ---- create / get -------------------------------------------------------------------------------
check "the first page is served (and cached) before the create" list_all '.rooms | length == 20'
expect_status "create a room" 201 POST /api/rooms '{"name":"  General  "}' "$A"
R1=$(echo "$BODY" | jq -r .id)
jq_check "a Room, exactly" "keys == $ROOM_KEYS"
jq_check "created by the caller, one member, trimmed name" ".createdBy == \"$AID\" and .memberCount == 1 and .name == \"General\""
jq_check "room id is 12-20 URL-safe characters" '.id | test("^[A-Za-z0-9_-]{12,20}$")'
CREATED_AT=$(echo "$BODY" | jq .createdAt)
check "rooms sorted set scores it by createdAt" test "$($REDIS_CLI ZSCORE "${P}rooms" "$R1")" = "$CREATED_AT"
check "room hash holds the name" test "$($REDIS_CLI HGET "${P}room:$R1" name)" = "General"
check "the creator is in the members set" test "$($REDIS_CLI SISMEMBER "${P}room:$R1:members" "$AID")" = 1
check "the room is in the creator's rooms set" test "$($REDIS_CLI SISMEMBER "${P}user:$AID:rooms" "$R1")" = 1
check "the new room heads the first page at once, on every API process" \
    list_all ".rooms[0].id == \"$R1\" and .rooms[0].memberCount == 1"
expect_status "anyone signed in can see a room" 200 GET "/api/rooms/$R1" "" "$BT"
# (online: no STOMP subscription to the room; docs/STOMP.md, Presence)
jq_check "GET a room adds members" "(keys == ($ROOM_KEYS + [\"members\"] | sort)) and .members == [{\"id\":\"$AID\",\"name\":\"Alice\",\"online\":false}]"
expect_error "unknown room is 404" 404 not-found GET /api/rooms/NoSuchRoom123 "" "$A"
expect_error "GET a room needs a token" 401 unauthorized GET "/api/rooms/$R1"

# ---- join ----------------------------------------------------------------------------------------
expect_status "Bob joins" 200 POST "/api/rooms/$R1/members" "" "$BT" -H "Content-Length: 0"
jq_check "join answers the Room with two members" "keys == $ROOM_KEYS and .id == \"$R1\" and .memberCount == 2"
expect_status "joining twice is harmless" 200 POST "/api/rooms/$R1/members" "" "$BT" -H "Content-Length: 0"
jq_check "... the count stays 2" '.memberCount == 2'
check "the first page shows the join at once (memberCount 2)" list_all ".rooms[0].id == \"$R1\" and .rooms[0].memberCount == 2"
check "members set has 2" test "$($REDIS_CLI SCARD "${P}room:$R1:members")" = 2
expect_status "GET the room" 200 GET "/api/rooms/$R1" "" "$A"
jq_check "members are Alice and Bob, by name" "[.members[].name] == [\"Alice\",\"Bob\"] and .memberCount == 2"
expect_status "Bob's rooms" 200 GET /api/users/me/rooms "" "$BT"
jq_check "Bob is in exactly that room" "[.rooms[].id] == [\"$R1\"] and all(.rooms[]; keys == $ROOM_KEYS)"
expect_error "joining an unknown room is 404" 404 not-found POST /api/rooms/NoSuchRoom123/members "" "$BT" -H "Content-Length: 0"
check "a failed join creates no members set" test "$($REDIS_CLI EXISTS "${P}room:NoSuchRoom123:members" "${P}room:NoSuchRoom123")" = 0
check "a failed join adds nothing to the user's rooms" test "$($REDIS_CLI SISMEMBER "${P}user:$BID:rooms" NoSuchRoom123)" = 0
expect_error "joining needs a token" 401 unauthorized POST "/api/rooms/$R1/members" "" "" -H "Content-Length: 0"

# ---- leave ------------------------------------------------------------------------------------------
SUB_OUT=$STACK_DIR/left.out
redis-cli -p "$REDIS_PORT" SUBSCRIBE "${P}left" >"$SUB_OUT" 2>&1 &
SUB_PID=$!
for _ in $(seq 50); do grep -q "${P}left" "$SUB_OUT" 2>/dev/null && break; sleep 0.05; done
raw DELETE "/api/rooms/$R1/members/me" -H "Authorization: Bearer $BT"
check "Bob leaves: 204 (got $STATUS) without a body" test "$STATUS" = 204 -a -z "$BODY"
for _ in $(seq 40); do grep -q "$R1 $BID" "$SUB_OUT" && break; sleep 0.05; done
check "the leave was published on ${P}left as 'roomId userId'" grep -qx "$R1 $BID" "$SUB_OUT"
check "the first page shows the leave at once (memberCount 1)" list_all ".rooms[0].id == \"$R1\" and .rooms[0].memberCount == 1"
expect_error "leaving again is 404" 404 not-found DELETE "/api/rooms/$R1/members/me" "" "$BT"
sleep 0.2
check "a refused leave publishes nothing" test "$(grep -c "$R1 $BID" "$SUB_OUT")" = 1
kill "$SUB_PID" 2>/dev/null
wait "$SUB_PID" 2>/dev/null
expect_error "leaving an unknown room is 404" 404 not-found DELETE /api/rooms/NoSuchRoom123/members/me "" "$BT"
check "Bob left both sets" test "$($REDIS_CLI SISMEMBER "${P}room:$R1:members" "$BID")$($REDIS_CLI SISMEMBER "${P}user:$BID:rooms" "$R1")" = 00
expect_status "Bob's rooms after leaving" 200 GET /api/users/me/rooms "" "$BT"
jq_check "... are empty" '.rooms == []'
expect_status "the room after Bob left" 200 GET "/api/rooms/$R1" "" "$A"
jq_check "... has one member again" '.memberCount == 1 and (.members | length) == 1'
expect_status "the creator may leave too" 204 DELETE "/api/rooms/$R1/members/me" "" "$A"
expect_status "an empty room still exists" 200 GET "/api/rooms/$R1" "" "$A"
jq_check "... with no members" '.memberCount == 0 and .members == []'
expect_status "and can be joined again" 200 POST "/api/rooms/$R1/members" "" "$A" -H "Content-Length: 0"
jq_check "... by one" '.memberCount == 1'
expect_error "leaving needs a token" 401 unauthorized DELETE "/api/rooms/$R1/members/me"

# ---- my rooms ---------------------------------------------------------------------------------------
signup "Carol" "carol@example.com" "password1"
CT=$TOKEN
api POST /api/rooms '{"name":"c1"}' "$CT"
C1=$(echo "$BODY" | jq -r .id)
api POST /api/rooms '{"name":"c2"}' "$CT"
C2=$(echo "$BODY" | jq -r .id)
expect_status "Carol joins Alice's room" 200 POST "/api/rooms/$R1/members" "" "$CT" -H "Content-Length: 0"
expect_status "Carol's rooms" 200 GET /api/users/me/rooms "" "$CT"
jq_check "are exactly her two rooms and the joined one, newest first" "[.rooms[].id] == [\"$C2\", \"$C1\", \"$R1\"]"
jq_check "with member counts" "[.rooms[].memberCount] == [1, 1, 2]"
expect_error "my rooms needs a token" 401 unauthorized GET /api/users/me/rooms

# ---- concurrent joins ----------------------------------------------------------------------------------
api POST /api/rooms '{"name":"busy"}' "$A"
BUSY=$(echo "$BODY" | jq -r .id)
TOKS=()
for i in $(seq 1 12); do signup "J$i" "j$i@example.com" "password1" && TOKS+=("$TOKEN"); done
PIDS=()
for t in "${TOKS[@]}"; do
    for _ in 1 2; do
        curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Content-Length: 0" -H "Authorization: Bearer $t" "$BASE_URL/api/rooms/$BUSY/members" \
            >>"$STACK_DIR/joins.out" &
        PIDS+=($!)
    done
done
wait "${PIDS[@]}"
check "24 concurrent joins (12 users, twice each) all answered 200" test "$(grep -c '^200$' "$STACK_DIR/joins.out")" = 24
expect_status "the busy room" 200 GET "/api/rooms/$BUSY" "" "$A"
jq_check "... has 13 members, listed once each" '.memberCount == 13 and (.members | length) == 13 and ([.members[].id] | unique | length) == 13'

# ---- the four structures agree -------------------------------------------------------------------------
# Every list is read with rcli and must not be empty (there are rooms, members and
# users by now): a redis-cli that fails must not look like "nothing inconsistent".
consistent() {
    local r u k list members keys
    list=$(rcli ZRANGE "${P}rooms" 0 -1) && [ -n "$list" ] || { echo "could not read ${P}rooms"; return 1; }
    for r in $list; do
        [ "$(rcli EXISTS "${P}room:$r")" = 1 ] || { echo "room $r in zset without hash"; return 1; }
        members=$(rcli SMEMBERS "${P}room:$r:members") || { echo "could not read the members of $r"; return 1; }
        for u in $members; do
            [ "$(rcli SISMEMBER "${P}user:$u:rooms" "$r")" = 1 ] || { echo "$u in $r but not vice versa"; return 1; }
        done
    done
    keys=$(rcli --scan --pattern "${P}user:*:rooms") && [ -n "$keys" ] || { echo "could not list user rooms sets"; return 1; }
    for k in $keys; do
        u=${k#"${P}user:"}
        u=${u%:rooms}
        list=$(rcli SMEMBERS "$k") || { echo "could not read $k"; return 1; }
        for r in $list; do
            [ "$(rcli EXISTS "${P}room:$r")" = 1 ] || { echo "$u in missing room $r"; return 1; }
            [ "$(rcli SISMEMBER "${P}room:$r:members" "$u")" = 1 ] || { echo "$r lists no $u"; return 1; }
        done
    done
    keys=$(rcli --scan --pattern "${P}room:*:members") && [ -n "$keys" ] || { echo "could not list members sets"; return 1; }
    for k in $keys; do
        r=${k#"${P}room:"}
        r=${r%:members}
        [ "$(rcli EXISTS "${P}room:$r")" = 1 ] || { echo "members of missing room $r"; return 1; }
    done
}
if out=$(consistent); then ok "room hash, rooms zset, members sets and user rooms sets agree"; else not_ok "inconsistent: $out"; fi

check_no_secrets
finish
