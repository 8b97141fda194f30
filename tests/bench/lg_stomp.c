/* lg_stomp.c - client-side STOMP frame builders and a server-frame splitter; see
 * lg_stomp.h. The splitter honours content-length when present (bodies may then hold
 * NULs) and otherwise ends a body at the first NUL, as STOMP 1.2 says. */
#include "lg_stomp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int command_of(const char *p, size_t n)
{
    if (n && p[n - 1] == '\r') n--;
#define IS(s) (n == sizeof(s) - 1 && memcmp(p, s, n) == 0)
    if (IS("MESSAGE")) return LG_STOMP_MESSAGE;
    if (IS("RECEIPT")) return LG_STOMP_RECEIPT;
    if (IS("CONNECTED")) return LG_STOMP_CONNECTED;
    if (IS("ERROR")) return LG_STOMP_ERROR;
#undef IS
    return LG_STOMP_OTHER;
}

long lg_stomp_next(const char *p, size_t n, lg_stomp_frame *f)
{
    size_t i = 0;
    while (i < n && (p[i] == '\n' || p[i] == '\r')) i++;
    if (i > 0) {
        f->cmd = LG_STOMP_HEARTBEAT;
        f->hdr = f->body = p;
        f->hdr_len = f->body_len = 0;
        return (long)i;
    }
    const char *nl = memchr(p, '\n', n);
    if (!nl) return n > 64 ? -1 : 0;
    f->cmd = command_of(p, (size_t)(nl - p));
    size_t pos = (size_t)(nl - p) + 1;
    f->hdr = p + pos;
    long clen = -1;
    for (;;) {
        const char *e = memchr(p + pos, '\n', n - pos);
        if (!e) return 0;
        size_t llen = (size_t)(e - (p + pos));
        if (llen == 0 || (llen == 1 && p[pos] == '\r')) {
            f->hdr_len = (size_t)(p + pos - f->hdr);
            pos += llen + 1;
            break;
        }
        if (clen < 0 && llen > 15 && memcmp(p + pos, "content-length:", 15) == 0) {
            clen = 0;
            for (size_t k = pos + 15; k < pos + llen && p[k] >= '0' && p[k] <= '9'; k++) {
                clen = clen * 10 + (p[k] - '0');
                if (clen > 1 << 30) return -1;
            }
        }
        pos += llen + 1;
    }
    f->body = p + pos;
    if (clen >= 0) {
        if (n - pos < (size_t)clen + 1) return 0;
        if (p[pos + (size_t)clen] != '\0') return -1;
        f->body_len = (size_t)clen;
        return (long)(pos + (size_t)clen + 1);
    }
    const char *z = memchr(p + pos, '\0', n - pos);
    if (!z) return 0;
    f->body_len = (size_t)(z - (p + pos));
    return (long)(z - p) + 1;
}

const char *lg_stomp_header(const lg_stomp_frame *f, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = f->hdr, *end = f->hdr + f->hdr_len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = (size_t)(e - v);
            if (vl && v[vl - 1] == '\r') vl--;
            *len = vl;
            return v;
        }
        p = e + 1;
    }
    return NULL;
}

/* snprintf wrapper that counts the terminating NUL as part of the frame. */
static size_t frame_len(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n + 1;
}

size_t lg_stomp_connect(char *out, size_t cap, const char *host, const char *login,
                        const char *passcode)
{
    int n = snprintf(out, cap, "CONNECT\naccept-version:1.2,1.1\nhost:%s\n%s%s%spasscode:%s\nheart-beat:0,0\n\n",
                     host, login ? "login:" : "", login ? login : "", login ? "\n" : "", passcode);
    return frame_len(n, cap);
}

size_t lg_stomp_subscribe(char *out, size_t cap, const char *id, const char *dest,
                          const char *receipt)
{
    int n = snprintf(out, cap, "SUBSCRIBE\nid:%s\ndestination:%s\nack:auto\nreceipt:%s\n\n",
                     id, dest, receipt);
    return frame_len(n, cap);
}

size_t lg_stomp_subscribe_since(char *out, size_t cap, const char *id, const char *dest,
                                const char *receipt, long long since_offset,
                                const char *since_epoch)
{
    int n = snprintf(out, cap,
                     "SUBSCRIBE\nid:%s\ndestination:%s\nack:auto\nreceipt:%s\nx-since-offset:%lld\n"
                     "x-since-epoch:%s\n\n",
                     id, dest, receipt, since_offset, since_epoch);
    return frame_len(n, cap);
}

size_t lg_stomp_send(char *out, size_t cap, const char *dest, const char *ctype,
                     const char *body, size_t body_len)
{
    int n = snprintf(out, cap, "SEND\ndestination:%s\n%s%s%scontent-length:%zu\n\n", dest,
                     ctype ? "content-type:" : "", ctype ? ctype : "", ctype ? "\n" : "", body_len);
    if (n < 0 || (size_t)n + body_len + 1 > cap) return 0;
    memcpy(out + n, body, body_len);
    out[(size_t)n + body_len] = '\0';
    return (size_t)n + body_len + 1;
}
