/* redis.c - Redis URL parsing and the API's synchronous, self-healing connection.
 *
 * The API serves one request at a time per process, so a blocking hiredis context
 * with short timeouts is the simplest correct thing. When a command fails at the
 * transport level the context is freed; the next command reconnects. A command is
 * retried once on a fresh connection only when the old one failed before anything
 * was sent for it (stale connection after a Redis restart), never after a partial
 * exchange, so nothing is applied twice. */
#include "redis.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* s[0..n) percent-decoded into out[cap] (NUL-terminated). -1 on a bad escape, a
 * decoded NUL or no room. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (j + 1 >= cap) return -1;
        out[j++] = c;
    }
    out[j] = '\0';
    return 0;
}

int redis_url_parse(const char *url, redis_url *out)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7;
        const char *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || n >= sizeof out->host) return -1;
        memcpy(out->host, p, n);
        out->is_unix = 1;
        if (q) {
            long db;
            if (strncmp(q, "?db=", 4) != 0 || parse_long(q + 4, 0, 1000, &db)) return -1;
            out->db = (int)db;
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) return -1;
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        if (colon && pct_decode(p, (size_t)(colon - p), out->user, sizeof out->user) != 0) return -1;
        if (pct_decode(pw, (size_t)(at - pw), out->password, sizeof out->password) != 0) return -1;
        if (out->user[0] && !out->password[0]) return -1;
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hp = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hp);
    size_t hn = colon ? (size_t)(colon - p) : hp;
    if (hn == 0 || hn >= sizeof out->host) return -1;
    memcpy(out->host, p, hn);
    if (colon) {
        char port[8];
        size_t pn = hp - hn - 1;
        long v;
        if (pn == 0 || pn >= sizeof port) return -1;
        memcpy(port, colon + 1, pn);
        port[pn] = '\0';
        if (parse_long(port, 1, 65535, &v)) return -1;
        out->port = (int)v;
    }
    if (slash && slash[1]) {
        long db;
        if (parse_long(slash + 1, 0, 1000, &db)) return -1;
        out->db = (int)db;
    }
    return 0;
}

struct rconn {
    redis_url url;
    int timeout_ms;
    redisContext *ctx;
    int64_t down_until; /* mono ms: after a failed connect, fail fast until then */
};

rconn *rconn_new(const redis_url *url, int timeout_ms)
{
    rconn *c = xcalloc(1, sizeof *c);
    c->url = *url;
    c->timeout_ms = timeout_ms;
    return c;
}

static void drop(rconn *c)
{
    if (c->ctx) redisFree(c->ctx);
    c->ctx = NULL;
}

void rconn_free(rconn *c)
{
    if (!c) return;
    drop(c);
    free(c);
}

/* Make sure c->ctx is a live, authenticated, db-selected connection. 0 or -1. */
static int ensure(rconn *c)
{
    if (c->ctx) return 0;
    int64_t now = mono_ms();
    if (now < c->down_until) return -1;
    struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
    c->ctx = c->url.is_unix ? redisConnectUnixWithTimeout(c->url.host, tv)
                            : redisConnectWithTimeout(c->url.host, c->url.port, tv);
    if (!c->ctx || c->ctx->err) {
        log_warn("redis", "state=down host=%s port=%d err=%s", c->url.host, c->url.port,
                 log_q(0, c->ctx ? c->ctx->errstr : "alloc"));
        drop(c);
        c->down_until = now + 200; /* spare a dead Redis a connect per request burst */
        return -1;
    }
    redisSetTimeout(c->ctx, tv);
    redisEnableKeepAlive(c->ctx);
    int sent;
    redisReply *r = redis_auth(c->ctx, &c->url, &sent);
    if (sent) {
        if (!r || r->type == REDIS_REPLY_ERROR) goto fail;
        freeReplyObject(r);
    }
    if (c->url.db) {
        r = redisCommand(c->ctx, "SELECT %d", c->url.db);
        if (!r || r->type == REDIS_REPLY_ERROR) goto fail;
        freeReplyObject(r);
    }
    return 0;
fail:
    log_warn("redis", "state=setup-failed err=%s", log_q(0, r ? r->str : c->ctx->errstr));
    if (r) freeReplyObject(r);
    drop(c);
    return -1;
}

/* After a transport failure: was the connection simply stale (EOF/reset before any
 * reply)? Then one retry on a fresh connection is safe. */
static int stale(const redisContext *ctx)
{
    return ctx->err == REDIS_ERR_EOF || (ctx->err == REDIS_ERR_IO && strstr(ctx->errstr, "reset"));
}

redisReply *rconn_cmd(rconn *c, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ensure(c) != 0) return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(c->ctx, fmt, ap);
        va_end(ap);
        if (r) return r;
        int retry = stale(c->ctx) && attempt == 0;
        log_warn("redis", "state=lost err=%s", log_q(0, c->ctx->errstr));
        drop(c);
        if (!retry) return NULL;
    }
    return NULL;
}

redisReply *rconn_cmdargv(rconn *c, int argc, const char **argv, const size_t *lens)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ensure(c) != 0) return NULL;
        redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
        if (r) return r;
        int retry = stale(c->ctx) && attempt == 0;
        log_warn("redis", "state=lost err=%s", log_q(0, c->ctx->errstr));
        drop(c);
        if (!retry) return NULL;
    }
    return NULL;
}

int rconn_append(rconn *c, const char *fmt, ...)
{
    if (ensure(c) != 0) return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(c->ctx, fmt, ap);
    va_end(ap);
    return rc == REDIS_OK ? 0 : -1;
}

redisReply *rconn_get_reply(rconn *c)
{
    void *r = NULL;
    if (!c->ctx) return NULL;
    if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        log_warn("redis", "state=lost err=%s", log_q(0, c->ctx->errstr));
        drop(c);
        return NULL;
    }
    return r;
}

redisReply *redis_auth(redisContext *c, const redis_url *url, int *sent)
{
    *sent = url->password[0] != '\0';
    if (!*sent) return NULL;
    if (url->user[0]) return redisCommand(c, "AUTH %s %s", url->user, url->password);
    return redisCommand(c, "AUTH %s", url->password);
}

int redis_check(const redis_url *url, int timeout_ms, char *err, size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = url->is_unix ? redisConnectUnixWithTimeout(url->host, tv)
                                   : redisConnectWithTimeout(url->host, url->port, tv);
    int rc = 0, sent;
    redisReply *r = NULL;
    if (!c || c->err) {
        snprintf(err, errlen, "cannot reach redis: %s", c ? c->errstr : "out of memory");
        rc = -1;
        goto out;
    }
    redisSetTimeout(c, tv);
    r = redis_auth(c, url, &sent);
    if (sent && (!r || r->type == REDIS_REPLY_ERROR)) {
        snprintf(err, errlen, "redis refused AUTH%s%s: %s", url->user[0] ? " as user " : "",
                 url->user, r ? r->str : c->errstr);
        rc = r ? -2 : -1;
        goto out;
    }
    if (r) freeReplyObject(r);
    r = url->db ? redisCommand(c, "SELECT %d", url->db) : redisCommand(c, "PING");
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis refused %s: %s", url->db ? "SELECT" : "PING", r ? r->str : c->errstr);
        rc = r ? -2 : -1;
    }
out:
    if (r) freeReplyObject(r);
    if (c) redisFree(c);
    return rc;
}

chat_rc redis_reply_rc(const redisReply *r, const char *what)
{
    static const char *const transient[] = {"LOADING", "BUSY", "MASTERDOWN", "MISCONF", "OOM",
                                            "READONLY", "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN"};
    if (!r) return CHAT_EUNAVAIL;
    if (r->type != REDIS_REPLY_ERROR) return CHAT_OK;
    for (size_t i = 0; i < ARRAY_LEN(transient); i++) {
        size_t n = strlen(transient[i]);
        if (strncmp(r->str, transient[i], n) == 0 && (r->str[n] == ' ' || r->str[n] == '\0')) {
            log_warn("redis", "op=%s state=unavailable err=%s", what, log_q(0, r->str));
            return CHAT_EUNAVAIL;
        }
    }
    log_error("redis", "op=%s err=%s", what, log_q(0, r->str));
    return CHAT_EINTERNAL;
}
