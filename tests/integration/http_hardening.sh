#!/usr/bin/env bash
# http_hardening.sh - one hostile HTTP client must not take the service down or lock
# anyone out (each block reproduces an attack that worked before):
#   - partial request bodies never hold a FastCGI process (lighttpd reads bodies whole);
#   - thousands of half-sent request lines from one address are cut by the header
#     read timeout, so /api/health answers other clients;
#   - failed logins are counted per email AND client address;
#   - names made of invisible or bidirectional format characters are refused;
#   - a client's X-Forwarded-For is not logged as its address.
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up
P=$KEY_PREFIX

# health_within SECONDS: /api/health answers 200 within that many seconds (prints the time).
health_within() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time "$1" "$BASE_URL/api/health" 2>/dev/null
}

# ---- partial bodies do not hold API processes -------------------------------------------------
# 100 clients each send headers with Content-Length: 1000, 9 body bytes, then nothing.
python3 - "$PORT" 100 "$STACK_DIR/partial.pid" <<'EOF' &
import os, socket, sys, time
port, n, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n{\"email\":")
    socks.append(s)
open(pidfile, "w").write(str(os.getpid()))
time.sleep(30)
EOF
partial=$!
for _ in $(seq 50); do [ -s "$STACK_DIR/partial.pid" ] && break; sleep 0.1; done
out=$(health_within 3)
check "with 100 partial POST bodies pending, /api/health answers at once ($out)" test "${out%% *}" = 200
expect_status "and a sign-up works meanwhile" 201 POST /api/users "$(body_json name Pat email pat@example.com password "right password")"
kill "$partial" 2>/dev/null; wait "$partial" 2>/dev/null

# ---- slowloris from one address ----------------------------------------------------------------
# 4,200 connections from 127.0.0.2 (more than server.max-connections) each send part of a
# request line and then nothing; /api/health from 127.0.0.1 must still be answered.
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
python3 - "$PORT" 4200 "$STACK_DIR/slow.out" <<'EOF' &
import selectors, socket, sys, time
port, n, outf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    try:
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        break
time.sleep(1)
sent = 0
for s in socks:
    try:
        s.send(b"GET /api/hea")
        sent += 1
    except OSError:
        pass
with open(outf, "w") as f:
    f.write(f"opened {len(socks)} sent {sent}\n")
# Count how many the server closes within 20 s (EOF or reset on our side).
sel = selectors.DefaultSelector()
for s in socks:
    sel.register(s, selectors.EVENT_READ)
closed, deadline = 0, time.time() + 20
while closed < len(socks) and time.time() < deadline:
    for key, _ in sel.select(0.5):
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b""
        if data == b"":
            sel.unregister(key.fileobj)
            key.fileobj.close()
            closed += 1
with open(outf, "a") as f:
    f.write(f"closed_by_server {closed} of {len(socks)}\n")
EOF
slow=$!
sleep 3
grep -q 'sockets disabled, connection limit reached' "$STACK_DIR/lighttpd-error.log" &&
    echo "# lighttpd reached server.max-connections"
out=$(health_within 15)
check "4,200 stalled request lines from 127.0.0.2: /api/health from 127.0.0.1 still answers ($out s)" test "${out%% *}" = 200
wait "$slow"
cat "$STACK_DIR/slow.out" | sed 's/^/# /'
closed=$(awk '/closed_by_server/ {print $2}' "$STACK_DIR/slow.out")
total=$(awk '/closed_by_server/ {print $4}' "$STACK_DIR/slow.out")
check "lighttpd cut the stalled connections itself (${closed:-0} of ${total:-?} within 20 s)" \
    test "${total:-0}" = 4200 -a "${closed:-0}" -ge 3780

# ---- failed logins are counted per email and address ---------------------------------------
signup "Olive" "olive@example.com" "right password"
for i in $(seq 1 10); do
    raw POST /api/sessions --interface 127.0.0.2 -H 'Content-Type: application/json' \
        --data-binary "$(body_json email olive@example.com password wrong)"
done
check "ten wrong passwords from 127.0.0.2 are counted for that address" \
    test "$($REDIS_CLI GET "${P}login-fail:olive@example.com:127.0.0.2")" = 10
expect_raw_error "the 11th try from 127.0.0.2 is 429" 429 rate-limited POST /api/sessions --interface 127.0.0.2 \
    -H 'Content-Type: application/json' --data-binary "$(body_json email olive@example.com password "right password")"
login olive@example.com "right password" && ok "the owner logs in from 127.0.0.1 meanwhile"
check "127.0.0.1 has no failures counted" test "$($REDIS_CLI EXISTS "${P}login-fail:olive@example.com:127.0.0.1")" = 0

# ---- names: invisible and bidirectional format characters --------------------------------------
zwsp=$'\u200b'
rlo=$'\u202e'
expect_invalid "a name of U+200B only is refused" name POST /api/users \
    "$(body_json name "$zwsp$zwsp" email zw@example.com password "right password")"
expect_invalid "a name holding U+202E is refused" name POST /api/users \
    "$(body_json name "abc${rlo}gpj.exe" email rlo@example.com password "right password")"
expect_invalid "a name of combining marks only is refused" name POST /api/users \
    "$(body_json name $'\u0301\u0301' email cm@example.com password "right password")"
expect_status "a name with an emoji joined by U+200D is fine" 201 POST /api/users \
    "$(body_json name $'Dad \U0001F468\u200D\U0001F467' email zwj@example.com password "right password")"
T=$(echo "$BODY" | jq -r .token)
expect_invalid "a room name of U+200B only is refused" name POST /api/rooms "$(body_json name "$zwsp")" "$T"
expect_invalid "a room name holding U+202E is refused" name POST /api/rooms "$(body_json name "x${rlo}y")" "$T"
expect_status "a Korean room name is fine" 201 POST /api/rooms "$(body_json name "채팅방")" "$T"

# ---- the API logs the address lighttpd saw -----------------------------------------------------------
raw GET /api/health -H 'X-Forwarded-For: 6.6.6.6 forged=1'
sleep 0.3
line=$(grep -h 'path="/api/health"' "$STACK_DIR"/lighttpd.out 2>/dev/null | tail -1)
check "the request line names the real peer ($line)" grep -q 'peer="127.0.0.1"' <<<"$line"
check "and nothing the client put in X-Forwarded-For" bash -c '! grep -q "6.6.6.6\|forged=" <<<"$1"' _ "$line"

check_no_secrets
finish
