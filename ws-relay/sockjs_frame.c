/* sockjs_frame.c - SockJS framing codec; the interface is in sockjs_frame.h.
 *
 * The decoder is a small hand-written scanner for exactly one shape of JSON (an array
 * of strings), not a general JSON parser: it runs twice over the body, once to
 * validate and measure (no output, no allocation) and once to decode and call back,
 * both through the same function so the two passes cannot disagree. No recursion, no
 * state kept between calls.
 *
 * Deliberately not here: the SockJS transports, sessions, the /info document, or
 * anything STOMP. */
#include "sockjs_frame.h"
#include "valid.h"
#include "buf.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoder ------------------------------------------------------------------------ */

/* The code points sockjs-node sends as \uXXXX (all in the BMP). */
static int must_escape(uint32_t cp)
{
    return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD ||
           (cp >= 0x600 && cp <= 0x604) || cp == 0x70F || cp == 0x17B4 || cp == 0x17B5 ||
           (cp >= 0x200C && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFF);
}

/* Append s[0..len) as a JSON string: runs that need no escaping are copied in one
 * go; bytes that are not UTF-8 become \ufffd. Nothing is kept. */
void sockjs_quote(struct buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0; /* u[run..i) is appended as is, in one go */

    buf_reserve(out, len + 2);
    buf_putc(out, '"');
    while (i < len) {
        uint32_t cp = u[i];
        size_t n = 1;
        unsigned d = 0;
        if (cp >= 0x80 && (n = valid_utf8_decode(u, len, i, &d)) == 0) {
            cp = 0xFFFD; /* not UTF-8: replace this one byte (escaped, as U+FFFx are) */
            n = 1;
        } else {
            if (cp >= 0x80) cp = d;
            if (cp != '"' && cp != '\\' && !must_escape(cp)) {
                i += n;
                continue;
            }
        }
        buf_append(out, s + run, i - run);
        if (cp == '"') buf_puts(out, "\\\"");
        else if (cp == '\\') buf_puts(out, "\\\\");
        else {
            static const char hex[] = "0123456789abcdef";
            char e[6] = { '\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15],
                          hex[(cp >> 4) & 15], hex[cp & 15] };
            buf_append(out, e, sizeof(e));
        }
        i += n;
        run = i;
    }
    buf_append(out, s + run, i - run);
    buf_putc(out, '"');
}

/* Append a[...] with the n messages; see sockjs_frame.h. */
void sockjs_frame_messages(struct buf *out, const char *const *msgs, const size_t *lens,
                           size_t n)
{
    buf_puts(out, "a[");
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(out, ',');
        sockjs_quote(out, msgs[i], lens[i]);
    }
    buf_putc(out, ']');
}

/* Append c[code,"reason"]; see sockjs_frame.h. */
void sockjs_frame_close(struct buf *out, int code, const char *reason)
{
    if (!reason) reason = "";
    buf_printf(out, "c[%d,", code);
    sockjs_quote(out, reason, strlen(reason));
    buf_putc(out, ']');
}

/* ---- decoder ------------------------------------------------------------------------ */

struct scan {
    const char *s;
    size_t len, i;
    size_t total, max_total; /* decoded bytes so far, and their limit */
    size_t longest;          /* longest decoded string */
    char *tmp;               /* NULL in the validating pass */
};

/* Skip JSON whitespace (space, tab, LF, CR; nothing else). */
static void skip_ws(struct scan *sc)
{
    while (sc->i < sc->len) {
        char c = sc->s[sc->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        sc->i++;
    }
}

/* Four hex digits at s[i..i+4) as a number, or -1. */
static long hex4(const struct scan *sc, size_t i)
{
    long v = 0;
    if (i > sc->len || sc->len - i < 4) return -1;
    for (size_t k = i; k < i + 4; k++) {
        char c = sc->s[k];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decode the escape after the backslash at sc->i (pointing at the letter) into out;
 * sets *n to its UTF-8 length and advances sc->i. Returns 0, or -1 if invalid. */
static int decode_escape(struct scan *sc, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    char c = sc->s[sc->i];
    const char *e = c ? strchr(from, c) : NULL;
    if (e) {
        out[0] = to[e - from];
        *n = 1;
        sc->i++;
        return 0;
    }
    if (c != 'u') return -1;
    long u = hex4(sc, sc->i + 1);
    if (u < 0) return -1;
    sc->i += 5;
    uint32_t cp = (uint32_t)u;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = sc->len - sc->i >= 2 && sc->s[sc->i] == '\\' && sc->s[sc->i + 1] == 'u'
                      ? hex4(sc, sc->i + 2) : -1;
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            sc->i += 6;
        } else {
            cp = 0xFFFD; /* lone high surrogate; what follows is decoded on its own */
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD; /* lone low surrogate */
    }
    *n = valid_utf8_encode(cp, out);
    return 0;
}

/* One JSON string starting at the opening quote at sc->i. Counts (and, in the
 * decoding pass, writes to sc->tmp) its bytes. Returns CHAT_OK with *out_len set,
 * CHAT_EMALFORMED or CHAT_ETOOLARGE. */
static chat_rc scan_string(struct scan *sc, size_t *out_len)
{
    size_t o = 0;
    sc->i++; /* the opening quote */
    for (;;) {
        char piece[4];
        const char *src = piece;
        size_t n = 1;
        if (sc->i >= sc->len) return CHAT_EMALFORMED;
        unsigned char c = (unsigned char)sc->s[sc->i];
        if (c == '"') {
            sc->i++;
            break;
        }
        if (c < 0x20) return CHAT_EMALFORMED; /* JSON forbids raw control characters */
        if (c == '\\') {
            sc->i++;
            if (sc->i >= sc->len || decode_escape(sc, piece, &n) < 0) return CHAT_EMALFORMED;
        } else {
            unsigned cp;
            src = sc->s + sc->i;
            if (c >= 0x80 && (n = valid_utf8_decode((const unsigned char *)sc->s, sc->len, sc->i, &cp)) == 0)
                return CHAT_EMALFORMED;
            sc->i += n;
        }
        if (n > sc->max_total - sc->total) return CHAT_ETOOLARGE;
        sc->total += n;
        if (sc->tmp) memcpy(sc->tmp + o, src, n);
        o += n;
    }
    *out_len = o;
    return CHAT_OK;
}

/* One pass over the whole array; cb is called only when sc->tmp is set. */
static chat_rc scan_array(struct scan *sc, void (*cb)(void *, const char *, size_t),
                          void *ud)
{
    skip_ws(sc);
    if (sc->i >= sc->len || sc->s[sc->i] != '[') return CHAT_EMALFORMED;
    sc->i++;
    skip_ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == ']') {
        sc->i++;
    } else {
        for (;;) {
            size_t n;
            chat_rc rc;
            if (sc->i >= sc->len || sc->s[sc->i] != '"') return CHAT_EMALFORMED;
            if ((rc = scan_string(sc, &n)) != CHAT_OK) return rc;
            if (n > sc->longest) sc->longest = n;
            if (sc->tmp) {
                sc->tmp[n] = '\0';
                cb(ud, sc->tmp, n);
            }
            skip_ws(sc);
            if (sc->i >= sc->len) return CHAT_EMALFORMED;
            if (sc->s[sc->i] == ']') {
                sc->i++;
                break;
            }
            if (sc->s[sc->i] != ',') return CHAT_EMALFORMED;
            sc->i++;
            skip_ws(sc);
        }
    }
    skip_ws(sc);
    return sc->i == sc->len ? CHAT_OK : CHAT_EMALFORMED;
}

/* Validate and measure in a first pass (no callbacks, no allocation), then decode
 * into one buffer of the longest string and call cb per string. See sockjs_frame.h
 * for the contract; the buffer is ours and freed here. */
chat_rc sockjs_decode(const char *body, size_t len, size_t max_total,
                      void (*cb)(void *ud, const char *msg, size_t len), void *ud)
{
    struct scan sc = { .s = body, .len = len, .max_total = max_total };
    chat_rc rc = scan_array(&sc, cb, ud);
    if (rc != CHAT_OK) return rc;

    char *tmp = xmalloc(sc.longest + 1);
    sc = (struct scan){ .s = body, .len = len, .max_total = max_total, .tmp = tmp };
    rc = scan_array(&sc, cb, ud);
    free(tmp);
    return rc;
}
