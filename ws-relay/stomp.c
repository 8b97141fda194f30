/* stomp.c - STOMP 1.2 frame parser and writer; the interface is in stomp.h.
 *
 * The parser is a resumable state machine in the nginx/hiredis style: bytes are
 * appended with stomp_feed(), frames are pulled with stomp_next(), and the machine
 * remembers its state and how far it has looked (p->scan) so a large frame arriving in
 * many small pieces is scanned once, not from its start on every call. All positions
 * are kept relative to the start of the current frame, so compacting the input buffer
 * (done in stomp_feed, never while a returned frame may still be in use) is a memmove.
 * Every limit is checked as soon as it can be known, before more bytes are buffered.
 *
 * Deliberately not here: any I/O, WebSocket/SockJS framing, STOMP session semantics
 * (which frames are allowed when, receipts, heart-beat negotiation). The parser only
 * says "this is a well-formed frame"; the relay decides what it means. */
#include "stomp.h"
#include "buf.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    sw_start = 0, /* between frames: skip heart-beat EOLs */
    sw_command,   /* in the command line */
    sw_headers,   /* in a header line, or the blank line */
    sw_body_len,  /* waiting for content-length body bytes and their NUL */
    sw_body_nul   /* body without content-length: up to the first NUL */
};

/* Release the input buffer when it drains and has grown past this, so idle sessions
 * do not each hold a frame-sized allocation. */
#define STOMP_IDLE_KEEP 8192

static const char *const cmd_names[] = {
    [STOMP_CMD_NONE] = "NONE",
    [STOMP_CONNECT] = "CONNECT",         [STOMP_STOMP] = "STOMP",
    [STOMP_SEND] = "SEND",               [STOMP_SUBSCRIBE] = "SUBSCRIBE",
    [STOMP_UNSUBSCRIBE] = "UNSUBSCRIBE", [STOMP_ACK] = "ACK",
    [STOMP_NACK] = "NACK",               [STOMP_BEGIN] = "BEGIN",
    [STOMP_COMMIT] = "COMMIT",           [STOMP_ABORT] = "ABORT",
    [STOMP_DISCONNECT] = "DISCONNECT",   [STOMP_CONNECTED] = "CONNECTED",
    [STOMP_MESSAGE] = "MESSAGE",         [STOMP_RECEIPT] = "RECEIPT",
    [STOMP_ERROR] = "ERROR",             [STOMP_CMD_UNKNOWN] = "UNKNOWN",
};

/* ---- commands ------------------------------------------------------------------ */

/* The known command for the word s[0..len), or STOMP_CMD_UNKNOWN. Case-sensitive. */
stomp_cmd stomp_cmd_parse(const char *s, size_t len)
{
    for (int c = STOMP_CONNECT; c < STOMP_CMD_UNKNOWN; c++) {
        if (strlen(cmd_names[c]) == len && memcmp(cmd_names[c], s, len) == 0)
            return (stomp_cmd)c;
    }
    return STOMP_CMD_UNKNOWN;
}

/* Static name of c; "NONE" / "UNKNOWN" for those two and for out-of-range values.
 * Never NULL. */
const char *stomp_cmd_name(stomp_cmd c)
{
    if ((unsigned)c >= ARRAY_LEN(cmd_names)) return "UNKNOWN";
    return cmd_names[c];
}

/* CONNECT and CONNECTED are never escaped (STOMP 1.2, "Value Encoding"), for 1.0
 * compatibility. STOMP is the 1.1+ spelling of CONNECT and carries the same headers
 * (login, passcode), so it gets the same treatment: a passcode must not change
 * meaning with the command word the client happened to use. */
static int cmd_is_raw(stomp_cmd c)
{
    return c == STOMP_CONNECT || c == STOMP_STOMP || c == STOMP_CONNECTED;
}

/* ---- parser: set-up and input --------------------------------------------------- */

/* Set up p with lim (NULL or zero fields: the defaults). p owns nothing yet; release
 * it with stomp_parser_free(). */
void stomp_parser_set_raw_headers(stomp_parser *p, int on)
{
    p->raw_headers = on != 0;
}

void stomp_parser_init(stomp_parser *p, const stomp_limits *lim)
{
    static const stomp_limits def = STOMP_LIMITS_DEFAULT;
    memset(p, 0, sizeof(*p));
    p->lim = lim ? *lim : def;
    /* A zero limit means "the default", so callers can override just one field. */
    if (!p->lim.max_headers) p->lim.max_headers = def.max_headers;
    if (!p->lim.max_header_line) p->lim.max_header_line = def.max_header_line;
    if (!p->lim.max_frame) p->lim.max_frame = def.max_frame;
    if (!p->lim.max_pending) p->lim.max_pending = def.max_pending;
    p->clen = SIZE_MAX;
}

/* Free what p owns (input, headers, scratch); frames it returned become invalid. Safe
 * on NULL, on a zeroed parser and twice. */
void stomp_parser_free(stomp_parser *p)
{
    if (!p) return;
    free(p->in);
    free(p->hdrs);
    free(p->scratch);
    p->in = p->scratch = NULL;
    p->hdrs = NULL;
    p->in_len = p->in_cap = p->in_off = p->hdrs_cap = p->scratch_cap = 0;
}

/* Record the first error and make it sticky. Returns rc for tail calls. */
static chat_rc fail(stomp_parser *p, chat_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static chat_rc fail(stomp_parser *p, chat_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->err_rc = rc;
    return rc;
}

/* Append len bytes (copied). Returns CHAT_OK, CHAT_ETOOLARGE when the bytes not yet
 * parsed would exceed max_pending (nothing is buffered then, and the error is sticky
 * like any other), or the sticky error of an earlier failure. Invalidates the frame
 * last returned by stomp_next(). */
chat_rc stomp_feed(stomp_parser *p, const char *data, size_t len)
{
    if (p->err_rc != CHAT_OK) return p->err_rc;
    size_t pending = p->in_len - p->in_off;
    if (len > p->lim.max_pending || pending > p->lim.max_pending - len)
        return fail(p, CHAT_ETOOLARGE, "pending input exceeds %zu bytes", p->lim.max_pending);

    /* Compact: drop what earlier frames used. Parser positions are relative to in_off,
     * so nothing else needs adjusting. */
    if (p->in_off) {
        if (pending) memmove(p->in, p->in + p->in_off, pending);
        p->in_len = pending;
        p->in_off = 0;
    }
    if (pending == 0 && p->in_cap > STOMP_IDLE_KEEP && len <= STOMP_IDLE_KEEP) {
        free(p->in);
        p->in = NULL;
        p->in_cap = 0;
    }
    if (len == 0) return CHAT_OK;
    if (p->in_cap - p->in_len < len) {
        size_t cap = p->in_cap ? p->in_cap : 256;
        while (cap - p->in_len < len) cap *= 2;
        p->in = xrealloc(p->in, cap);
        p->in_cap = cap;
    }
    memcpy(p->in + p->in_len, data, len);
    p->in_len += len;
    return CHAT_OK;
}

/* ---- parser: header lines -------------------------------------------------------- */

/* Parse a content-length value: digits only, no sign, no spaces. Returns 0 and sets
 * *out, or -1 when it is empty, has a non-digit or overflows size_t. */
static int parse_clen(const char *s, size_t len, size_t *out)
{
    size_t v = 0;
    if (len == 0) return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        size_t d = (size_t)(s[i] - '0');
        if (v > (SIZE_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Check one complete header line s[0..len) (EOL stripped) of the current frame:
 * a colon, a non-empty name, valid escapes (unless the command is raw), and the
 * first content-length. Returns CHAT_OK or a recorded error. */
static chat_rc check_header(stomp_parser *p, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon) return fail(p, CHAT_EMALFORMED, "header line without a colon");
    if (colon == s) return fail(p, CHAT_EMALFORMED, "empty header name");
    if (!p->raw_headers && !cmd_is_raw(p->cmd)) {
        for (size_t i = 0; i < len; i++) {
            if (s[i] != '\\') continue;
            char e = i + 1 < len ? s[i + 1] : '\0';
            if (e != '\\' && e != 'n' && e != 'r' && e != 'c')
                return fail(p, CHAT_EMALFORMED, "invalid escape in header");
            i++;
        }
    }
    /* Only the first content-length counts (repeated headers: the first wins). The
     * name cannot be spelled with escapes: every escape yields \ : CR or LF. */
    size_t nlen = (size_t)(colon - s);
    if (p->clen == SIZE_MAX && nlen == 14 && memcmp(s, "content-length", 14) == 0) {
        size_t v;
        if (parse_clen(colon + 1, len - nlen - 1, &v) < 0 || v == SIZE_MAX)
            return fail(p, CHAT_EMALFORMED, "invalid content-length");
        if (v > p->lim.max_frame)
            return fail(p, CHAT_ETOOLARGE, "frame exceeds %zu bytes", p->lim.max_frame);
        p->clen = v;
    }
    return CHAT_OK;
}

/* A command word: ASCII letters, digits, '_' and '-'. Anything else on the command
 * line (spaces, colons, control bytes, UTF-8) is not a command at all. */
static int valid_command(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return len > 0;
}

/* Scan the line starting at p->line from p->scan on. Returns CHAT_OK with *len the
 * line length without its EOL and *next the offset after the LF; CHAT_AGAIN (with
 * p->scan advanced) when the line is incomplete; or a recorded error.
 *
 * Every check is made at the byte that breaks it, in a fixed order, so the error a
 * stream gets does not depend on how it was split into feeds (the fuzzer relies on
 * this). A CR only counts toward the line length once it turns out not to be part of
 * a CRLF, and then it is a "bare CR" error anyway. */
static chat_rc take_line(stomp_parser *p, size_t *len, size_t *next)
{
    const char *base = p->in + p->in_off;
    size_t avail = p->in_len - p->in_off, i;
    for (i = p->scan; i < avail; i++) {
        char c = base[i];
        if (i >= p->lim.max_frame)
            return fail(p, CHAT_ETOOLARGE, "frame exceeds %zu bytes", p->lim.max_frame);
        if (c == '\n') break;
        if (c == '\0') return fail(p, CHAT_EMALFORMED, "NUL byte in frame header");
        if (i > p->line && base[i - 1] == '\r')
            return fail(p, CHAT_EMALFORMED, "bare CR in frame header");
        if (c != '\r' && i - p->line >= p->lim.max_header_line)
            return fail(p, CHAT_ETOOLARGE, "header line exceeds %zu bytes",
                        p->lim.max_header_line);
    }
    if (i == avail) {
        p->scan = avail;
        return CHAT_AGAIN;
    }
    size_t end = i > p->line && base[i - 1] == '\r' ? i - 1 : i;
    *len = end - p->line;
    *next = i + 1;
    return CHAT_OK;
}

/* ---- parser: building the frame --------------------------------------------------- */

/* Unescape s[0..len) (already validated) into dst; returns the bytes written. */
static size_t unescape(char *dst, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            dst[o++] = s[i];
            continue;
        }
        char e = s[++i];
        dst[o++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'c' ? ':' : '\\';
    }
    return o;
}

/* Point name/value at s[0..len), or at an unescaped copy in *scratch (advanced). */
static void set_part(const char **ptr, size_t *plen, const char *s, size_t len, int raw,
                     char **scratch)
{
    if (raw || !memchr(s, '\\', len)) {
        *ptr = s;
        *plen = len;
        return;
    }
    *ptr = *scratch;
    *plen = unescape(*scratch, s, len);
    *scratch += *plen;
}

/* Fill *out with the frame that ends (NUL included) at offset end; the header lines
 * were validated as they arrived, so this pass only splits and unescapes them. The
 * frame points into p->in and p->scratch (owned by the parser). Consumes the frame. */
static chat_rc emit(stomp_parser *p, stomp_frame *out, size_t body_len, size_t end)
{
    const char *base = p->in + p->in_off;
    size_t head_bytes = p->body - p->hstart;
    int raw = p->raw_headers || cmd_is_raw(p->cmd);

    if (p->nhdrs > p->hdrs_cap) {
        p->hdrs = xrealloc(p->hdrs, p->nhdrs * sizeof(*p->hdrs));
        p->hdrs_cap = p->nhdrs;
    }
    if (!raw && head_bytes > p->scratch_cap) {
        p->scratch = xrealloc(p->scratch, head_bytes); /* unescaping only shrinks */
        p->scratch_cap = head_bytes;
    }
    char *scratch = p->scratch;
    size_t pos = p->hstart;
    for (size_t i = 0; i < p->nhdrs; i++) {
        const char *line = base + pos;
        const char *lf = memchr(line, '\n', p->body - pos);
        size_t len = (size_t)(lf - line);
        if (len && line[len - 1] == '\r') len--;
        const char *colon = memchr(line, ':', len);
        size_t nlen = (size_t)(colon - line);
        stomp_header *h = &p->hdrs[i];
        set_part(&h->name, &h->name_len, line, nlen, raw, &scratch);
        set_part(&h->value, &h->value_len, colon + 1, len - nlen - 1, raw, &scratch);
        pos += (size_t)(lf - line) + 1;
    }

    out->cmd = p->cmd;
    out->command = base;
    out->command_len = p->cmd_len;
    static stomp_header no_headers[1]; /* never NULL, even for a frame without headers */
    out->headers = p->hdrs ? p->hdrs : no_headers;
    out->nheaders = p->nhdrs;
    out->body = base + p->body;
    out->body_len = body_len;

    p->in_off += end;
    p->state = sw_start;
    return CHAT_OK;
}

/* ---- parser: the state machine ------------------------------------------------------ */

/* Pull the next frame. Returns CHAT_OK with *out filled (valid until the next
 * stomp_next/stomp_feed/stomp_parser_free), CHAT_AGAIN when more bytes are needed, or
 * a sticky error with p->err set. */
chat_rc stomp_next(stomp_parser *p, stomp_frame *out)
{
    if (p->err_rc != CHAT_OK) return p->err_rc;
    if (!p->in) return CHAT_AGAIN; /* nothing buffered, so necessarily between frames */
    for (;;) {
        const char *base = p->in + p->in_off;
        size_t avail = p->in_len - p->in_off, len, next;
        chat_rc rc;

        switch (p->state) {
        case sw_start:
            if (avail == 0) return CHAT_AGAIN;
            if (base[0] == '\n' || base[0] == '\r') {
                size_t eol = base[0] == '\n' ? 1 : 2;
                if (avail < eol) return CHAT_AGAIN;
                if (eol == 2 && base[1] != '\n')
                    return fail(p, CHAT_EMALFORMED, "bare CR between frames");
                p->heartbeats++;
                p->in_off += eol;
                break;
            }
            p->state = sw_command;
            p->line = p->scan = 0;
            p->nhdrs = 0;
            p->clen = SIZE_MAX;
            break;

        case sw_command:
            if ((rc = take_line(p, &len, &next)) != CHAT_OK) return rc;
            if (!valid_command(base, len))
                return fail(p, CHAT_EMALFORMED, "invalid command line");
            p->cmd = stomp_cmd_parse(base, len);
            p->cmd_len = len;
            p->hstart = p->line = p->scan = next;
            p->state = sw_headers;
            break;

        case sw_headers:
            if ((rc = take_line(p, &len, &next)) != CHAT_OK) return rc;
            if (len == 0) { /* the blank line */
                p->body = p->scan = next;
                if (p->clen == SIZE_MAX) {
                    p->state = sw_body_nul;
                    break;
                }
                if (p->clen > p->lim.max_frame - p->body)
                    return fail(p, CHAT_ETOOLARGE, "frame exceeds %zu bytes", p->lim.max_frame);
                p->state = sw_body_len;
                break;
            }
            if (++p->nhdrs > p->lim.max_headers)
                return fail(p, CHAT_ETOOLARGE, "more than %zu headers", p->lim.max_headers);
            if ((rc = check_header(p, base + p->line, len)) != CHAT_OK) return rc;
            p->line = p->scan = next;
            break;

        case sw_body_len:
            if (avail - p->body <= p->clen) return CHAT_AGAIN;
            if (base[p->body + p->clen] != '\0')
                return fail(p, CHAT_EMALFORMED, "no NUL after content-length bytes");
            return emit(p, out, p->clen, p->body + p->clen + 1);

        case sw_body_nul: {
            const char *nul = memchr(base + p->scan, '\0', avail - p->scan);
            size_t at = nul ? (size_t)(nul - base) : avail;
            if (at > p->lim.max_frame)
                return fail(p, CHAT_ETOOLARGE, "frame exceeds %zu bytes", p->lim.max_frame);
            if (!nul) {
                p->scan = avail;
                return CHAT_AGAIN;
            }
            return emit(p, out, at - p->body, at + 1);
        }

        default:
            return fail(p, CHAT_EINTERNAL, "parser in an impossible state");
        }
    }
}

/* First header called name (case-sensitive, as STOMP is), or NULL. *len (if given)
 * gets its length, 0 when absent. Points into the frame. */
const char *stomp_header_get(const stomp_frame *f, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < f->nheaders; i++) {
        const stomp_header *h = &f->headers[i];
        if (h->name_len == nlen && memcmp(h->name, name, nlen) == 0) {
            if (len) *len = h->value_len;
            return h->value;
        }
    }
    if (len) *len = 0;
    return NULL;
}

/* ---- writer ------------------------------------------------------------------------- */

/* Append s[0..len) to out with the four STOMP 1.2 escapes (\\ \n \r \c). */
void stomp_escape(struct buf *out, const char *s, size_t len)
{
    size_t run = 0; /* bytes of s[run..i) that need no escaping, appended in one go */
    for (size_t i = 0; i < len; i++) {
        const char *esc;
        switch (s[i]) {
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case ':': esc = "\\c"; break;
        default: continue;
        }
        buf_append(out, s + run, i - run);
        buf_append(out, esc, 2);
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
}

/* Append one frame to out. Header names and values are NUL-terminated strings,
 * escaped unless cmd is CONNECT, STOMP or CONNECTED (then the caller must not pass
 * CR, LF, or a colon in a name: they cannot be represented). A content-length header
 * is added after the caller's headers when body_len > 0 and none was given. body may
 * be NULL when body_len is 0. Nothing is kept. */
void stomp_write(struct buf *out, stomp_cmd cmd, const stomp_kv *headers, size_t n,
                 const char *body, size_t body_len)
{
    int raw = cmd_is_raw(cmd), have_clen = 0;
    buf_puts(out, stomp_cmd_name(cmd));
    buf_putc(out, '\n');
    for (size_t i = 0; i < n; i++) {
        const char *name = headers[i].name, *value = headers[i].value;
        if (strcmp(name, "content-length") == 0) have_clen = 1;
        if (raw) {
            buf_puts(out, name);
            buf_putc(out, ':');
            buf_puts(out, value);
        } else {
            stomp_escape(out, name, strlen(name));
            buf_putc(out, ':');
            stomp_escape(out, value, strlen(value));
        }
        buf_putc(out, '\n');
    }
    if (body_len > 0 && !have_clen) buf_printf(out, "content-length:%zu\n", body_len);
    buf_putc(out, '\n');
    if (body_len) buf_append(out, body, body_len);
    buf_putc(out, '\0');
}
