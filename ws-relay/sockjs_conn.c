/* sockjs_conn.c - SockJS connections: their state (new, free, ending one soon), the
 * receiver half of the session core's sockjs_link_ops, and the EOF watch that notices
 * a receiving client hanging up; see sockjs_conn.h.
 *
 * The EOF watch: lws 4.1 keeps an HTTP request whose response is still being written
 * in LRS_DOING_TRANSACTION, a state in which it does not read the socket
 * (roles/h1/ops-h1.c, lws_h1_server_socket_service): a client that goes away in the
 * middle of a streaming response is not noticed until a write fails, and meanwhile
 * libuv's level-triggered poll reports the readable (EOF) socket on every loop pass,
 * a busy loop. (Turning rx flow control on does not help: lws then skips its POLLOUT
 * handling for the connection as well.) So every receiver's socket is also put in a
 * private edge-triggered epoll set, watched for EPOLLRDHUP through one uv_poll on
 * that set; when a client hangs up, its connection is detached from its session (whose
 * disconnect timer starts) and closed at its next WRITEABLE, which comes at once.
 * Linux-only, like the deployment.
 *
 * Deliberately not here: what the transports write and read (sockjs_http.c,
 * sockjs_ws.c), sessions and frames (sockjs_sess.c). */
#include "sockjs_conn.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int eof_ep = -1;          /* epoll set of receiver sockets */
static uv_poll_t eof_poll;
static sockjs_conn **eof_conns;  /* by socket fd: the watched receiver, or NULL */
static size_t eof_cap;

/* ---- connections --------------------------------------------------------------------------- */

static void eof_unwatch(sockjs_conn *c);

sockjs_conn *sockjs_conn_new(struct lws *wsi, enum sockjs_kind kind)
{
    sockjs_conn *c = xcalloc(1, sizeof *c);
    c->wsi = wsi;
    c->kind = (uint8_t)kind;
    c->eof_fd = -1;
    buf_init(&c->in, 0);
    buf_init(&c->out, 0);
    return c;
}

void sockjs_conn_free(sockjs_conn *c)
{
    if (!c) return;
    eof_unwatch(c);
    sockjs_sess_unlink(&c->link);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

sockjs_conn *sockjs_conn_of(sockjs_link *l)
{
    return list_entry(l, sockjs_conn, link);
}

void sockjs_conn_want_write(sockjs_link *l)
{
    lws_callback_on_writable(sockjs_conn_of(l)->wsi);
}

void sockjs_conn_rx_flow(sockjs_link *l, int enable)
{
    sockjs_conn *c = sockjs_conn_of(l);
    if (c->kind == SOCKJS_K_WS) lws_rx_flow_control(c->wsi, enable);
}

void sockjs_conn_end_soon(sockjs_link *l)
{
    struct lws *wsi = sockjs_conn_of(l)->wsi;
    /* The close frame is written at the next WRITEABLE; a peer that stops reading
     * is cut. We may be outside any lws callback: wake lws so the timeout is armed. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 3);
    lws_cancel_service(lws_get_context(wsi));
}

/* ---- the EOF watch ---------------------------------------------------------------------------- */

/* Stop watching c (idempotent). */
static void eof_unwatch(sockjs_conn *c)
{
    if (c->eof_fd < 0) return;
    /* The fd may already be closed (ENOENT/EBADF): the kernel dropped it then. */
    epoll_ctl(eof_ep, EPOLL_CTL_DEL, c->eof_fd, NULL);
    if ((size_t)c->eof_fd < eof_cap && eof_conns[c->eof_fd] == c) eof_conns[c->eof_fd] = NULL;
    c->eof_fd = -1;
}

/* Watch c's socket; on failure c is simply not watched (a failed write ends it). */
void sockjs_eof_watch(sockjs_conn *c)
{
    int fd = lws_get_socket_fd(c->wsi);
    if (eof_ep < 0 || fd < 0) return;
    if ((size_t)fd >= eof_cap) {
        size_t cap = eof_cap ? eof_cap : 256;
        while (cap <= (size_t)fd) cap *= 2;
        eof_conns = xrealloc(eof_conns, cap * sizeof *eof_conns);
        memset(eof_conns + eof_cap, 0, (cap - eof_cap) * sizeof *eof_conns);
        eof_cap = cap;
    }
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(eof_ep, EPOLL_CTL_ADD, fd, &ev) != 0) return; /* then a failed write ends it */
    eof_conns[fd] = c;
    c->eof_fd = fd;
}

/* Peers that hung up: their receivers are closed at their next WRITEABLE (now). */
static void on_eof(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)status;
    (void)events;
    struct epoll_event evs[64];
    int n;
    while ((n = epoll_wait(eof_ep, evs, 64, 0)) > 0) {
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            sockjs_conn *c = (size_t)fd < eof_cap ? eof_conns[fd] : NULL;
            if (!c) continue;
            eof_unwatch(c);
            c->peer_gone = true;
            sockjs_sess_detach(&c->link);
            lws_callback_on_writable(c->wsi);
        }
        if (n < 64) break;
    }
}

int sockjs_eof_start(uv_loop_t *loop)
{
    eof_ep = epoll_create1(EPOLL_CLOEXEC);
    if (eof_ep < 0 || uv_poll_init(loop, &eof_poll, eof_ep) != 0 ||
        uv_poll_start(&eof_poll, UV_READABLE, on_eof) != 0) {
        log_error("sockjs", "problem=\"cannot watch sockets (epoll: %s)\"", strerror(errno));
        if (eof_ep >= 0) close(eof_ep);
        eof_ep = -1;
        return -1;
    }
    return 0;
}

static void eof_closed(uv_handle_t *h)
{
    (void)h;
}

void sockjs_eof_stop(void)
{
    if (eof_ep < 0) return;
    uv_poll_stop(&eof_poll);
    uv_close((uv_handle_t *)&eof_poll, eof_closed);
    for (size_t i = 0; i < eof_cap; i++)
        if (eof_conns[i]) eof_conns[i]->eof_fd = -1;
    free(eof_conns);
    eof_conns = NULL;
    eof_cap = 0;
    close(eof_ep);
    eof_ep = -1;
}
