/* lg_conn.c - the load generator's sockets and epoll loop; see lg.h.
 *
 * Each connection walks CONNECTING -> UPGRADING -> STOMP -> (SUBSCRIBING ->) READY,
 * or ends DEAD at the first error, which is counted, never retried. Reads go into one
 * shared buffer; only the tail of an incomplete WebSocket or STOMP frame is copied
 * into the connection, so tens of thousands of idle connections cost a few dozen
 * bytes each here. Writes go straight to the socket and are queued only when the
 * kernel does not take them. Level-triggered epoll, one read per readiness. Not here:
 * reconnecting, TLS, permessage-deflate, anything a benchmark does with messages. */
#include "lg.h"

#include "lg_stomp.h"
#include "lg_ws.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_READ (256 * 1024)     /* bytes read per readiness */
#define FRAME_MAX (1024 * 1024)  /* largest WebSocket frame or STOMP frame accepted */
#define EVENTS 1024
#define ERRORS_SHOWN 5           /* connection errors printed per run */

uint64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lg_ctx_init(lg_ctx *ctx, size_t cap)
{
    ctx->ep = epoll_create1(EPOLL_CLOEXEC);
    if (ctx->ep < 0) {
        perror("loadgen: epoll_create1");
        return -1;
    }
    ctx->cap = cap;
    ctx->conns = xcalloc(cap ? cap : 1, sizeof *ctx->conns);
    ctx->rx = xmalloc(RX_READ + FRAME_MAX);
    ctx->now = lg_now_ns();
    return 0;
}

static void conn_release(lg_conn *c)
{
    free(c->in);
    free(c->msg);
    free(c->out);
    c->in = c->msg = c->out = NULL;
    c->in_len = c->msg_len = c->out_len = c->out_off = c->out_cap = 0;
}

void lg_ctx_free(lg_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nconns; i++) {
        if (ctx->conns[i].fd > 0) close(ctx->conns[i].fd);
        conn_release(&ctx->conns[i]);
    }
    free(ctx->conns);
    free(ctx->rx);
    if (ctx->ep >= 0) close(ctx->ep);
    ctx->conns = NULL;
    ctx->rx = NULL;
}

int lg_target_parse(const char *url, lg_target *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "ws://", 5) != 0) return -1;
    const char *hp = url + 5, *slash = strchr(hp, '/');
    size_t hplen = slash ? (size_t)(slash - hp) : strlen(hp);
    if (hplen == 0 || hplen >= sizeof t->hostport) return -1;
    memcpy(t->hostport, hp, hplen);
    snprintf(t->path, sizeof t->path, "%s", slash ? slash : "/");
    char host[64];
    snprintf(host, sizeof host, "%s", t->hostport);
    char *colon = strrchr(host, ':');
    long port = 80;
    if (colon) {
        *colon = '\0';
        if (parse_long(colon + 1, 1, 65535, &port) != 0) return -1;
    }
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    t->addr.sin_family = AF_INET;
    t->addr.sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &t->addr.sin_addr) == 1 ? 0 : -1;
}

/* ---- life and death --------------------------------------------------------------- */

static void conn_fail(lg_ctx *ctx, lg_conn *c, const char *why, const char *detail, size_t dlen)
{
    if (c->state == LG_ST_DEAD) return;
    if (ctx->errors_shown < ERRORS_SHOWN) {
        ctx->errors_shown++;
        fprintf(stderr, "loadgen: connection %ld (%s, state %d): %s %.*s\n", (long)(c - ctx->conns),
                c->role == LG_PUB ? "publisher" : "subscriber", c->state, why, (int)dlen, detail ? detail : "");
    }
    if (c->state == LG_ST_READY) ctx->ready--;
    else ctx->pending--;
    ctx->failed++;
    c->state = LG_ST_DEAD;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    conn_release(c);
}

void lg_close(lg_ctx *ctx, lg_conn *c)
{
    if (c->state == LG_ST_DEAD || c->state == LG_ST_FREE) return;
    if (c->state == LG_ST_READY) ctx->ready--;
    else ctx->pending--;
    c->state = LG_ST_DEAD;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    conn_release(c);
}

static void set_ready(lg_ctx *ctx, lg_conn *c)
{
    c->state = LG_ST_READY;
    ctx->pending--;
    ctx->ready++;
}

long lg_open(lg_ctx *ctx, int role, uint32_t user, uint32_t room, uint32_t idx, uint16_t target)
{
    if (ctx->nconns >= ctx->cap) return -1;
    size_t slot = ctx->nconns++;
    lg_conn *c = &ctx->conns[slot];
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->role = (uint8_t)role;
    c->user = user;
    c->room = room;
    c->idx = idx;
    c->target = target;
    c->state = LG_ST_CONNECTING;
    ctx->pending++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        conn_fail(ctx, c, "socket:", strerror(errno), strlen(strerror(errno)));
        return -1;
    }
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ctx->nsources > 0) {
        /* Spread over 127.0.0.2.. so each source address has its own ephemeral
         * ports; IP_BIND_ADDRESS_NO_PORT defers the port choice to connect(). */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(slot % ctx->nsources));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            conn_fail(ctx, c, "bind:", strerror(errno), strlen(strerror(errno)));
            return -1;
        }
    }
    const lg_target *t = &ctx->targets[target];
    if (connect(fd, (const struct sockaddr *)&t->addr, sizeof t->addr) != 0 && errno != EINPROGRESS) {
        conn_fail(ctx, c, "connect:", strerror(errno), strlen(strerror(errno)));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)slot};
    c->out_armed = 1;
    if (epoll_ctl(ctx->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_fail(ctx, c, "epoll_ctl:", strerror(errno), strlen(strerror(errno)));
        return -1;
    }
    return (long)slot;
}

/* ---- writing ---------------------------------------------------------------------- */

static void arm_out(lg_ctx *ctx, lg_conn *c, int on)
{
    if (c->out_armed == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - ctx->conns)};
    epoll_ctl(ctx->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->out_armed = (uint8_t)on;
}

static void queue_bytes(lg_conn *c, const char *p, size_t n)
{
    if (c->out_off && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) { /* compact before growing */
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap ? c->out_cap : 512;
        while (cap < c->out_len + n) cap *= 2;
        c->out = xrealloc(c->out, cap);
        c->out_cap = (uint32_t)cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += (uint32_t)n;
}

/* Write as much of the queue as the socket takes. 0, or -1 when the connection died. */
static int flush_out(lg_ctx *ctx, lg_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            conn_fail(ctx, c, "send:", strerror(errno), strlen(strerror(errno)));
            return -1;
        }
        c->out_off += (uint32_t)w;
    }
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    arm_out(ctx, c, c->out_len > 0);
    return 0;
}

static void send_raw(lg_ctx *ctx, lg_conn *c, const char *p, size_t n)
{
    if (c->state == LG_ST_DEAD) return;
    if (c->out_len == 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            conn_fail(ctx, c, "send:", strerror(errno), strlen(strerror(errno)));
            return;
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
        if (n == 0) return;
    }
    queue_bytes(c, p, n);
    arm_out(ctx, c, 1);
}

static void send_ws(lg_ctx *ctx, lg_conn *c, enum lg_ws_op op, const char *payload, size_t len)
{
    uint8_t stackbuf[2048], *buf = stackbuf;
    if (len + LG_WS_HDR_MAX > sizeof stackbuf) buf = xmalloc(len + LG_WS_HDR_MAX);
    /* Encode with the header right in front of the masked payload copy. */
    uint8_t hdr[LG_WS_HDR_MAX];
    memcpy(buf + LG_WS_HDR_MAX, payload, len);
    uint32_t mask = (uint32_t)(ctx->now ^ (ctx->now >> 29)) | 0x01010101u;
    size_t h = lg_ws_encode(hdr, op, buf + LG_WS_HDR_MAX, len, mask);
    memcpy(buf + LG_WS_HDR_MAX - h, hdr, h);
    send_raw(ctx, c, (const char *)buf + LG_WS_HDR_MAX - h, h + len);
    if (buf != stackbuf) free(buf);
}

void lg_send_stomp(lg_ctx *ctx, lg_conn *c, const char *frame, size_t len)
{
    send_ws(ctx, c, LG_WS_TEXT, frame, len);
}

/* ---- the handshake ------------------------------------------------------------------ */

static void send_upgrade(lg_ctx *ctx, lg_conn *c)
{
    char req[512];
    const lg_target *t = &ctx->targets[c->target];
    size_t n = lg_ws_request(req, sizeof req, t->hostport, t->path, "v12.stomp, v11.stomp, v10.stomp");
    c->state = LG_ST_UPGRADING;
    send_raw(ctx, c, req, n);
}

static void send_connect(lg_ctx *ctx, lg_conn *c)
{
    char f[512];
    size_t n;
    if (ctx->peer == LG_PEER_RABBIT)
        n = lg_stomp_connect(f, sizeof f, "/", ctx->login, ctx->passcode);
    else
        n = lg_stomp_connect(f, sizeof f, "127.0.0.1", NULL, ctx->users.token[c->user]);
    c->state = LG_ST_STOMP;
    lg_send_stomp(ctx, c, f, n);
}

static void send_subscribe(lg_ctx *ctx, lg_conn *c)
{
    char f[512], dest[160];
    if (ctx->peer == LG_PEER_RABBIT)
        snprintf(dest, sizeof dest, "%s%s", ctx->dest_prefix, ctx->users.room[c->room]);
    else
        snprintf(dest, sizeof dest, "/topic/room/%s", ctx->users.room[c->room]);
    size_t n = ctx->hooks.subscribe_frame ? ctx->hooks.subscribe_frame(ctx, c, f, sizeof f)
                                          : lg_stomp_subscribe(f, sizeof f, "0", dest, "sub-0");
    c->state = LG_ST_SUBSCRIBING;
    lg_send_stomp(ctx, c, f, n);
}

/* ---- reading -------------------------------------------------------------------------- */

static void on_stomp_frame(lg_ctx *ctx, lg_conn *c, const lg_stomp_frame *f)
{
    switch (f->cmd) {
    case LG_STOMP_MESSAGE:
        if (ctx->hooks.on_message) ctx->hooks.on_message(ctx, c, f);
        else lg_bench_on_message(ctx, c, f->body, f->body_len);
        break;
    case LG_STOMP_CONNECTED:
        if (c->state != LG_ST_STOMP) break;
        if (c->role == LG_SUB) send_subscribe(ctx, c);
        else set_ready(ctx, c);
        break;
    case LG_STOMP_RECEIPT:
        if (c->state != LG_ST_SUBSCRIBING) break;
        if (ctx->hooks.on_subscribed) ctx->hooks.on_subscribed(ctx, c, f);
        set_ready(ctx, c);
        break;
    case LG_STOMP_ERROR: {
        size_t ml = 0;
        const char *m = lg_stomp_header(f, "message", &ml);
        conn_fail(ctx, c, "STOMP ERROR", m, m ? ml : 0);
        break;
    }
    default:
        break;
    }
}

/* Feed WebSocket payload bytes to the STOMP splitter. STOMP frames delimit
 * themselves, so message boundaries do not matter: an incomplete frame's bytes wait
 * in c->msg for the next payload. */
static void stomp_feed(lg_ctx *ctx, lg_conn *c, const char *p, size_t n)
{
    char *joined = NULL;
    if (c->msg_len) {
        if (c->msg_len + n > FRAME_MAX) {
            conn_fail(ctx, c, "STOMP frame too large", NULL, 0);
            return;
        }
        joined = xrealloc(c->msg, c->msg_len + n);
        memcpy(joined + c->msg_len, p, n);
        n += c->msg_len;
        p = joined;
        c->msg = NULL;
        c->msg_len = 0;
    }
    size_t off = 0;
    while (off < n && c->state != LG_ST_DEAD) {
        lg_stomp_frame f;
        long used = lg_stomp_next(p + off, n - off, &f);
        if (used < 0) {
            conn_fail(ctx, c, "malformed STOMP frame", p + off, n - off < 40 ? n - off : 40);
            break;
        }
        if (used == 0) break;
        off += (size_t)used;
        on_stomp_frame(ctx, c, &f);
    }
    if (c->state != LG_ST_DEAD && off < n) {
        c->msg = xmalloc(n - off);
        memcpy(c->msg, p + off, n - off);
        c->msg_len = (uint32_t)(n - off);
    }
    free(joined);
}

/* Handle p[0..n) read from c; returns the bytes used (the rest is an incomplete frame). */
static size_t ws_feed(lg_ctx *ctx, lg_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    if (c->state == LG_ST_UPGRADING) {
        long used = lg_ws_response((const char *)p, n);
        if (used < 0) {
            const char *eol = memchr(p, '\r', n);
            conn_fail(ctx, c, "upgrade refused:", (const char *)p, eol ? (size_t)(eol - (const char *)p) : 0);
            return n;
        }
        if (used == 0) return 0;
        off = (size_t)used;
        send_connect(ctx, c);
    }
    while (off < n && c->state != LG_ST_DEAD) {
        lg_ws_frame f;
        long used = lg_ws_decode(p + off, n - off, FRAME_MAX, &f);
        if (used < 0) {
            conn_fail(ctx, c, "malformed WebSocket frame", NULL, 0);
            return n;
        }
        if (used == 0) break;
        off += (size_t)used;
        switch (f.op) {
        case LG_WS_TEXT:
        case LG_WS_BINARY:
        case LG_WS_CONT:
            stomp_feed(ctx, c, (const char *)f.payload, f.len);
            break;
        case LG_WS_PING:
            send_ws(ctx, c, LG_WS_PONG, (const char *)f.payload, f.len);
            break;
        case LG_WS_CLOSE:
            if (!c->closing) send_ws(ctx, c, LG_WS_CLOSE, (const char *)f.payload, f.len < 2 ? f.len : 2);
            conn_fail(ctx, c, "closed by server", f.len > 2 ? (const char *)f.payload + 2 : NULL, f.len > 2 ? f.len - 2 : 0);
            return n;
        default:
            break;
        }
    }
    return off;
}

static void on_readable(lg_ctx *ctx, lg_conn *c)
{
    uint8_t *buf = (uint8_t *)ctx->rx;
    size_t have = c->in_len;
    if (have) memcpy(buf, c->in, have);
    ssize_t r = recv(c->fd, buf + have, RX_READ, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        conn_fail(ctx, c, "recv:", strerror(errno), strlen(strerror(errno)));
        return;
    }
    if (r == 0) {
        conn_fail(ctx, c, "connection closed by peer", NULL, 0);
        return;
    }
    size_t n = have + (size_t)r;
    size_t used = ws_feed(ctx, c, buf, n);
    if (c->state == LG_ST_DEAD) return;
    size_t left = n - used;
    if (left > FRAME_MAX) {
        conn_fail(ctx, c, "frame too large", NULL, 0);
        return;
    }
    if (left != c->in_len) {
        free(c->in);
        c->in = left ? xmalloc(left) : NULL;
    }
    if (left) memcpy(c->in, buf + used, left);
    c->in_len = (uint32_t)left;
}

static void on_writable(lg_ctx *ctx, lg_conn *c)
{
    if (c->state == LG_ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_fail(ctx, c, "connect:", strerror(err), strlen(strerror(err)));
            return;
        }
        arm_out(ctx, c, 0);
        send_upgrade(ctx, c);
        return;
    }
    flush_out(ctx, c);
}

int lg_poll(lg_ctx *ctx, uint64_t timeout_ns)
{
    struct epoll_event ev[EVENTS];
    struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
    int n = epoll_pwait2(ctx->ep, ev, EVENTS, &ts, NULL);
    ctx->now = lg_now_ns();
    if (n < 0) {
        if (errno == EINTR) return 0;
        perror("loadgen: epoll_pwait2");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        lg_conn *c = &ctx->conns[ev[i].data.u32];
        if (c->state == LG_ST_DEAD) continue;
        if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(ctx, c);
        if (c->state != LG_ST_DEAD && c->state != LG_ST_CONNECTING && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(ctx, c);
    }
    return n;
}
