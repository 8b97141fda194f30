#!/usr/bin/env bash
# api_files.sh - file upload and download through lighttpd + chat-api + redis
# (docs/API.md "Files"): every image type with its thumbnail (at most 400x400, no
# EXIF), a PDF and a text file, the type from the content whatever the name, FILE_MAX
# exactly and one byte over (the default 25 MiB, so lighttpd's own limit is proven to
# sit above it) and far over (lighttpd's 413, also JSON), empty, members only, no
# token, Range and ETag from lighttpd (X-Sendfile), HTML/SVG as attachments with
# nosniff, hostile names, the same bytes from two users (one blob), a decompression
# bomb and a corrupt image (stored without a thumbnail, the API still answers).
# shellcheck disable=SC1091
. "$(dirname "$0")/api_lib.sh"
stack_up
P=$KEY_PREFIX
W=$STACK_DIR/w
mkdir -p "$W"

signup "Alice" "alice@example.com" "password1"
A=$TOKEN AID=$USER_ID
signup "Bob" "bob@example.com" "password1"
BT=$TOKEN
signup "Eve" "eve@example.com" "password1"
ET=$TOKEN
api POST /api/rooms "$(body_json name files)" "$A"
R=$(echo "$BODY" | jq -r .id)
api POST "/api/rooms/$R/members" "" "$BT" -H 'Content-Length: 0'
api POST /api/rooms "$(body_json name other)" "$ET"
OTHER=$(echo "$BODY" | jq -r .id)

uri() { jq -rn --arg s "$1" '$s|@uri'; }
# The system's python3 (a version manager's shim on PATH costs half a second a call).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# up FILE NAME TOKEN [ROOM]: upload; sets STATUS, BODY (raw), FID
up() {
    raw POST "/api/rooms/${4:-$R}/files?name=$(uri "$2")" -H "Authorization: Bearer $3" --data-binary "@$1"
    FID=$(echo "$BODY" | jq -r '.id // empty' 2>/dev/null)
}
# get PATH TOKEN [curl args]: download into $W/got; sets STATUS, HEADERS
get() {
    local p=$1 t=$2
    shift 2
    STATUS=$(curl -s -o "$W/got" -D "$STACK_DIR/.headers" -w '%{http_code}' --max-time 10 \
        -H "Authorization: Bearer $t" "$@" "$BASE_URL$p")
    HEADERS=$(tr -d '\r' <"$STACK_DIR/.headers")
    BODY=$(head -c 2000 "$W/got" | tr -d '\0')
}
FILE_KEYS='["createdAt","id","name","roomId","size","type","uploaderId","url"]'
IMG_KEYS='["createdAt","height","id","name","roomId","size","thumbUrl","type","uploaderId","url","width"]'

# ---- images: every type, inline, thumbnail <= 400x400 --------------------------------------------
vips black "$W/base.v" 800 500 --bands 3
vips linear "$W/base.v" "$W/grey.v" 1 90
for t in png jpg gif webp; do vips copy "$W/grey.v" "$W/img.$t"; done
for t in png:image/png jpg:image/jpeg gif:image/gif webp:image/webp; do
    ext=${t%%:*} mime=${t#*:}
    up "$W/img.$ext" "photo.$ext" "$A"
    check "$ext: 201 with a File ($STATUS)" test "$STATUS" = 201
    jq_check "$ext: type $mime, 800x500, thumbUrl and url" \
        "(keys == $IMG_KEYS) and .type == \"$mime\" and .width == 800 and .height == 500 and .size == $(stat -c %s "$W/img.$ext")
         and .url == \"/api/files/\" + .id and .thumbUrl == \"/api/files/\" + .id + \"/thumb\" and .roomId == \"$R\" and .uploaderId == \"$AID\""
    get "/api/files/$FID" "$BT"
    check "$ext: the other member downloads the same bytes" cmp -s "$W/got" "$W/img.$ext"
    check "$ext: Content-Type $mime, inline, nosniff" test "$(header content-type)|$(header content-disposition | cut -d';' -f1)|$(header x-content-type-options)" = "$mime|inline|nosniff"
    get "/api/files/$FID/thumb" "$BT"
    dims=$(vipsheader "$W/got" 2>/dev/null | sed -n 's/^[^:]*: \([0-9]*x[0-9]*\) .*/\1/p')
    # GIF decodes with an alpha channel: its thumbnail is a PNG, the others' a JPEG
    want=image/jpeg
    [ "$ext" = gif ] && want=image/png
    check "$ext: thumbnail 400x250 ($dims), $want" test "$dims|$(header content-type)" = "400x250|$want"
done

# transparency keeps a PNG thumbnail; a small image is not enlarged
vips black "$W/a.v" 120 90 --bands 4
vips copy "$W/a.v" "$W/alpha.png"
up "$W/alpha.png" "alpha.png" "$A"
get "/api/files/$FID/thumb" "$A"
check "an image with alpha: PNG thumbnail, not enlarged (120x90)" \
    test "$(header content-type)|$(vipsheader "$W/got" | sed -n 's/^[^:]*: \([0-9]*x[0-9]*\) .*/\1/p')" = "image/png|120x90"

# EXIF (here a description standing in for GPS data) never reaches the thumbnail
"$PY" - "$W/img.jpg" "$W/exif.jpg" <<'EOF'
import struct, sys
jpg = open(sys.argv[1], 'rb').read()
desc = b'GPS-SECRET-MARKER-48.8584N\0'
tiff = b'II*\x00' + struct.pack('<I', 8) + struct.pack('<H', 1) + struct.pack('<HHII', 0x010E, 2, len(desc), 26) + struct.pack('<I', 0) + desc
app1 = b'Exif\x00\x00' + tiff
open(sys.argv[2], 'wb').write(jpg[:2] + b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1 + jpg[2:])
EOF
check "the EXIF test image carries the marker" grep -q GPS-SECRET-MARKER "$W/exif.jpg"
up "$W/exif.jpg" "exif.jpg" "$A"
jq_check "a JPEG with EXIF: an image with a thumbnail" '.type == "image/jpeg" and (.thumbUrl | type == "string")'
get "/api/files/$FID/thumb" "$A"
check "its thumbnail has no EXIF" bash -c "test -s '$W/got' && ! grep -q GPS-SECRET-MARKER '$W/got' && ! vipsheader -a '$W/got' | grep -qi exif"

# ---- a PDF and a text file: attachments with their type -----------------------------------------
printf '%%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' >"$W/doc.pdf"
up "$W/doc.pdf" "report.pdf" "$A"
jq_check "PDF: type application/pdf, no thumbnail" "(keys == $FILE_KEYS) and .type == \"application/pdf\""
get "/api/files/$FID" "$BT"
check "PDF: same bytes, application/pdf, attachment with the name" \
    test "$(cmp -s "$W/got" "$W/doc.pdf" && echo same)|$(header content-type)|$(header content-disposition)" = \
    "same|application/pdf|attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
get "/api/files/$FID/thumb" "$A"
check "a PDF has no thumbnail (404)" test "$STATUS" = 404
printf 'plain words\nsecond line\n' >"$W/notes.txt"
up "$W/notes.txt" "notes.txt" "$A"
jq_check "text: type text/plain" '.type == "text/plain" and .size == 24'
TXT=$FID
get "/api/files/$TXT" "$A"
check "text: text/plain, attachment, nosniff" test "$(header content-type)|$(header content-disposition | cut -d';' -f1)|$(header x-content-type-options)" = "text/plain|attachment|nosniff"

# ---- Range and ETag: lighttpd serves the bytes (X-Sendfile) ------------------------------------
head -c 5000 /dev/urandom >"$W/rand.bin"
up "$W/rand.bin" "rand.bin" "$A"
RAND=$FID
get "/api/files/$RAND" "$A" -H 'Range: bytes=0-99'
check "Range: bytes=0-99 -> 206, 100 bytes, Content-Range 0-99/5000" \
    test "$STATUS|$(stat -c %s "$W/got")|$(header content-range)" = "206|100|bytes 0-99/5000"
check "the range is the file's first 100 bytes" cmp -s "$W/got" <(head -c 100 "$W/rand.bin")
get "/api/files/$RAND" "$A"
ETAG=$(header etag)
check "a download has an ETag, the full length and no token-bearing URL" test -n "$ETAG" -a "$(header content-length)" = 5000
get "/api/files/$RAND" "$A" -H "If-None-Match: $ETAG"
check "If-None-Match with that ETag -> 304" test "$STATUS" = 304
check "the answer carries no X-Sendfile header" bash -c "! grep -qi '^x-sendfile' <<<'$HEADERS'"

# ---- content decides the type, never the name ---------------------------------------------------
up "$W/img.png" "setup.exe" "$A"
EXE=$FID
jq_check "a PNG named setup.exe is an image with a thumbnail" '.type == "image/png" and (.thumbUrl | type == "string")'
get "/api/files/$EXE" "$A"
check "... and served as image/png inline" test "$(header content-type)|$(header content-disposition | cut -d';' -f1)" = "image/png|inline"
printf '<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n' >"$W/page.html"
up "$W/page.html" "cute-cat.png" "$A"
jq_check "HTML named cute-cat.png is not an image" '.type == "text/html" and (has("thumbUrl") | not)'
get "/api/files/$FID" "$A"
check "... served as application/octet-stream, attachment, nosniff" \
    test "$(header content-type)|$(header content-disposition | cut -d';' -f1)|$(header x-content-type-options)" = "application/octet-stream|attachment|nosniff"
up "$W/page.html" "page.html" "$A"
get "/api/files/$FID" "$BT"
check "an HTML file: octet-stream, attachment, nosniff" \
    test "$(header content-type)|$(header content-disposition | cut -d';' -f1)|$(header x-content-type-options)" = "application/octet-stream|attachment|nosniff"
printf '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>\n' >"$W/x.svg"
up "$W/x.svg" "logo.svg" "$A"
jq_check "an SVG: type image/svg+xml, no thumbnail" '.type == "image/svg+xml" and (has("thumbUrl") | not)'
get "/api/files/$FID" "$BT"
check "an SVG: octet-stream, attachment, nosniff" \
    test "$(header content-type)|$(header content-disposition | cut -d';' -f1)|$(header x-content-type-options)" = "application/octet-stream|attachment|nosniff"
printf '<?xml version="1.0"?>\n<note><to>x</to></note>\n' >"$W/x.xml"
up "$W/x.xml" "note.xml" "$A"
get "/api/files/$FID" "$A"
check "XML: octet-stream attachment" test "$(header content-type)|$(header content-disposition | cut -d';' -f1)" = "application/octet-stream|attachment"
raw POST "/api/rooms/$R/files?name=x.png" -H "Authorization: Bearer $A" -H 'Content-Type: text/html' --data-binary "@$W/page.html"
jq_check "the client's Content-Type is ignored" '.type == "text/html"'

# ---- names ---------------------------------------------------------------------------------------
# name_ok NAME: upload with that name, then the download's Content-Disposition
# carries it (filename* decodes to it; the fallback has no quote, backslash or control).
name_ok() {
    up "$W/notes.txt" "$1" "$A"
    if [ "$STATUS" != 201 ] || [ "$(echo "$BODY" | jq -r .name)" != "$1" ]; then
        not_ok "name '$1': want 201 with the name kept, got $STATUS $BODY"
        return
    fi
    get "/api/files/$FID" "$BT"
    local cd star fallback
    cd=$(header content-disposition)
    star=${cd#*filename\*=UTF-8\'\'}
    [[ $star =~ ^[A-Za-z0-9%!#\$\&+.^_\`\|~-]*$ ]] || star="(not only attr-chars: $star)"
    star=$(printf '%b' "${star//%/\\x}")
    fallback=$(echo "$cd" | sed -n 's/^attachment; filename="\(.*\)"; filename\*=.*/\1/p')
    if [ "$star" = "$1" ] && [ -n "$fallback" ] && [[ $fallback != *[\"\\]* ]] && [[ $(echo "$cd" | wc -l) = 1 ]] &&
        [[ $fallback =~ ^[\ -~]+$ ]]; then
        ok "name '$1': kept, and filename* decodes to it (fallback \"$fallback\")"
    else
        not_ok "name '$1': Content-Disposition $cd (decoded '$star', fallback '$fallback')"
    fi
}
name_ok "보고서 최종.pdf"
name_ok "party 🎉😀.jpg"
name_ok 'he said "hi" \ back.txt'
name_ok "100% done;filename=evil.txt"
name_ok "$(rep 가 251).txt"
# name_invalid NAME QUERY [STATUS CODE]: refused with 422 invalid (or STATUS CODE).
name_invalid() {
    raw POST "/api/rooms/$R/files?$2" -H "Authorization: Bearer $A" --data-binary "@$W/notes.txt"
    if [ "$STATUS" = "${3:-422}" ] && is_error_body "${4:-invalid}"; then ok "$1 ($STATUS ${4:-invalid})"; else not_ok "$1: want ${3:-422}, got $STATUS $BODY"; fi
}
# lighttpd itself refuses a URL with a percent-encoded C0 control or DEL, or one that
# is not UTF-8, before the API sees it (url-ctrls-reject, tests/integration/
# lighttpd_errors.sh): 400 malformed, JSON. The API's own check (422) covers what gets
# through: C1 controls here, everything in tests/unit/test_api_fileinfo.c.
name_invalid "a name with CR/LF" "name=$(uri $'a\r\nX-Evil: 1.txt')" 400 malformed
name_invalid "a name with a tab" "name=$(uri $'a\tb.txt')" 400 malformed
name_invalid "a name with DEL" "name=a%7Fb" 400 malformed
name_invalid "a name with a C1 control (U+0085)" "name=a%C2%85b"
name_invalid "a name with a C1 control (U+009B)" "name=a%C2%9Bb"
name_invalid "a name ../etc/passwd" "name=$(uri ../etc/passwd)"
name_invalid "a name with /" "name=a%2Fb.txt"
name_invalid "the name .." "name=.."
name_invalid "256 code points" "name=$(uri "$(rep 가 252).txt")"
name_invalid "no name" ""
name_invalid "an empty name" "name="
name_invalid "a NUL in the name" "name=a%00b" 400 malformed
name_invalid "not UTF-8" "name=a%FFb" 400 malformed
name_invalid "a bad percent escape" "name=a%zz"

# ---- sizes ----------------------------------------------------------------------------------------
: >"$W/empty"
up "$W/empty" "empty.txt" "$A"
check "an empty file: 422 invalid" bash -c "[ '$STATUS' = 422 ] && jq -e '.error.code == \"invalid\"' <<<'$BODY'"
head -c $((25 * 1048576)) /dev/zero | tr '\0' 'a' >"$W/max"
up "$W/max" "max.txt" "$A"
check "exactly FILE_MAX (25 MiB): 201 ($STATUS)" test "$STATUS" = 201
jq_check "... its size is 26214400" '.size == 26214400'
MAXID=$FID
printf b >>"$W/max"
expect_raw_error "FILE_MAX + 1 byte: 413 JSON from the API" 413 too-large POST "/api/rooms/$R/files?name=big.txt" \
    -H "Authorization: Bearer $A" --data-binary "@$W/max"
check "... naming FILE_MAX" bash -c "jq -e '.error.message | contains(\"FILE_MAX\")' <<<'$BODY'"
head -c 200000 /dev/zero >>"$W/max"
expect_raw_error "far over FILE_MAX (lighttpd's own limit): 413 JSON" 413 too-large POST "/api/rooms/$R/files?name=big.txt" \
    -H "Authorization: Bearer $A" --data-binary "@$W/max"
get "/api/files/$MAXID" "$BT" -r 26214300-
check "the 25 MiB file downloads (its tail)" test "$STATUS|$(stat -c %s "$W/got")" = "206|100"
head -c 300000 /dev/urandom >"$W/chunked.bin"
raw POST "/api/rooms/$R/files?name=chunked.bin" -H "Authorization: Bearer $A" -H 'Transfer-Encoding: chunked' --data-binary "@$W/chunked.bin"
check "a chunked upload (no Content-Length): 201, size 300000" bash -c "[ '$STATUS' = 201 ] && jq -e '.size == 300000' <<<'$BODY'"
check "no temporary file is left behind" test -z "$(ls -A "$FILES_DIR/tmp")"

# ---- who may ---------------------------------------------------------------------------------------
expect_raw_error "upload without a token: 401" 401 unauthorized POST "/api/rooms/$R/files?name=a.txt" --data-binary "@$W/notes.txt"
expect_raw_error "upload with a bad token: 401" 401 unauthorized POST "/api/rooms/$R/files?name=a.txt" -H "Authorization: Bearer nope" --data-binary "@$W/notes.txt"
expect_raw_error "upload by a non-member: 403" 403 forbidden POST "/api/rooms/$R/files?name=a.txt" -H "Authorization: Bearer $ET" --data-binary "@$W/notes.txt"
head -c $((5 * 1048576)) /dev/zero >"$W/five"
expect_raw_error "upload of 5 MiB by a non-member: 403 (the body is read and dropped)" 403 forbidden POST "/api/rooms/$R/files?name=a.txt" -H "Authorization: Bearer $ET" --data-binary "@$W/five"
api GET /api/health
check "... and the API process answers the next request" test "$STATUS" = 200
expect_raw_error "upload to an unknown room: 404" 404 not-found POST "/api/rooms/NoSuchRoom/files?name=a.txt" -H "Authorization: Bearer $A" --data-binary "@$W/notes.txt"
expect_raw_error "download without a token: 401" 401 unauthorized GET "/api/files/$TXT"
expect_raw_error "download by a non-member: 403" 403 forbidden GET "/api/files/$TXT" -H "Authorization: Bearer $ET"
expect_raw_error "thumbnail by a non-member: 403" 403 forbidden GET "/api/files/$EXE/thumb" -H "Authorization: Bearer $ET"
expect_raw_error "thumbnail without a token: 401" 401 unauthorized GET "/api/files/$EXE/thumb"
expect_raw_error "an unknown file: 404" 404 not-found GET "/api/files/NoSuchFile" -H "Authorization: Bearer $A"
expect_raw_error "DELETE on a file: 405" 405 method-not-allowed DELETE "/api/files/$TXT" -H "Authorization: Bearer $A"
api DELETE "/api/rooms/$R/members/me" "" "$BT"
expect_raw_error "after leaving the room: 403" 403 forbidden GET "/api/files/$TXT" -H "Authorization: Bearer $BT"

# ---- the same bytes from two users: two files, one blob ---------------------------------------------
head -c 70000 /dev/urandom >"$W/same.bin"
SHA=$(sha256sum "$W/same.bin" | cut -d' ' -f1)
up "$W/same.bin" "mine.bin" "$A"
F1=$FID
up "$W/same.bin" "theirs.bin" "$ET" "$OTHER"
F2=$FID
check "two uploads of the same bytes: two file ids" test -n "$F1" -a -n "$F2" -a "$F1" != "$F2"
check "one blob on disk" test "$(find "$FILES_DIR" -name "$SHA" -type f | wc -l)" = 1
check "the blob's reference set holds both files" test "$(rcli SMEMBERS "${P}blob:$SHA" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$F1" "$F2" | sort | tr '\n' ' ')"
get "/api/files/$F2" "$ET"
check "each downloads the bytes" bash -c "cmp -s '$W/got' '$W/same.bin' && [ \"\$(echo '$HEADERS' | grep -i '^content-disposition' )\" != '' ]"
check "... under its own name" bash -c "grep -q 'theirs.bin' <<<'$HEADERS'"
expect_raw_error "each only for its own room's members" 403 forbidden GET "/api/files/$F2" -H "Authorization: Bearer $A"

# ---- a decompression bomb and a corrupt image ---------------------------------------------------------
"$PY" - "$W/bomb.png" <<'EOF'
import struct, sys, zlib
w = h = 30000
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
row = b'\x00' * (1 + (w + 7) // 8)
c = zlib.compressobj(1)
data = b''.join(c.compress(row) for _ in range(h)) + c.flush()
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0)) + chunk(b'IDAT', data) + chunk(b'IEND', b''))
EOF
check "the bomb is small on disk ($(stat -c %s "$W/bomb.png") bytes) and 30000x30000" \
    test "$(stat -c %s "$W/bomb.png")" -lt 2000000 -a "$(vipsheader -f width "$W/bomb.png")" = 30000
up "$W/bomb.png" "bomb.png" "$A"
check "a decompression bomb is stored ($STATUS)" test "$STATUS" = 201
jq_check "... as image/png without a thumbnail" '.type == "image/png" and (has("thumbUrl") or has("width") | not)'
check "the API logged why: too many pixels" grep -q 'event=thumbnail result=none why="too many pixels"' "$STACK_DIR/lighttpd.out"
"$PY" - "$W/img.png" "$W/corrupt.png" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
for i in range(60, len(b) - 20): b[i] ^= 0x5a
open(sys.argv[2], 'wb').write(b)
EOF
up "$W/corrupt.png" "corrupt.png" "$A"
jq_check "a corrupt PNG: stored, no thumbnail" '.type == "image/png" and (has("thumbUrl") | not)'
api GET /api/health
check "the API still answers" test "$STATUS" = 200

# ---- the record in Redis ---------------------------------------------------------------------------------
check "the file record is a hash with its File document" bash -c \
    "rcli HGET '${P}file:$TXT' json | jq -e '.id == \"$TXT\" and .name == \"notes.txt\"' >/dev/null"

check_no_secrets
finish
