/* sockjs_eof.c - notice a SockJS receiver's client hanging up.
 *
 * lws 4.1 keeps an HTTP request whose response is still being written in
 * LRS_DOING_TRANSACTION, a state in which it does not read the socket
 * (roles/h1/ops-h1.c, lws_h1_server_socket_service): a client that goes away in the
 * middle of a streaming response is not noticed until a write fails, and meanwhile
 * libuv's level-triggered poll reports the readable (EOF) socket on every loop pass,
 * a busy loop. (Turning rx flow control on does not help: lws then skips its POLLOUT
 * handling for the connection as well.) So every receiver's socket is also put in a
 * private edge-triggered epoll set, watched for EPOLLRDHUP through one uv_poll on
 * that set; when a client hangs up, its connection is detached from its session (whose
 * disconnect timer starts) and closed at its next WRITEABLE, which comes at once.
 *
 * Linux-only, like the deployment. Deliberately not here: anything else about the
 * connection (sockjs_http.c). */
#include "sockjs_int.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int eof_ep = -1;          /* epoll set of receiver sockets */
static uv_poll_t eof_poll;
static sj_conn **eof_conns;      /* by socket fd: the watched receiver, or NULL */
static size_t eof_cap;

/* Stop watching c (idempotent). */
void sj_eof_unwatch(sj_conn *c)
{
    if (c->eof_fd < 0) return;
    /* The fd may already be closed (ENOENT/EBADF): the kernel dropped it then. */
    epoll_ctl(eof_ep, EPOLL_CTL_DEL, c->eof_fd, NULL);
    if ((size_t)c->eof_fd < eof_cap && eof_conns[c->eof_fd] == c) eof_conns[c->eof_fd] = NULL;
    c->eof_fd = -1;
}

/* Watch c's socket; on failure c is simply not watched (a failed write ends it). */
void sj_eof_watch(sj_conn *c)
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
            sj_conn *c = (size_t)fd < eof_cap ? eof_conns[fd] : NULL;
            if (!c) continue;
            sj_eof_unwatch(c);
            c->peer_gone = true;
            sj_detach(c);
            lws_callback_on_writable(c->wsi);
        }
        if (n < 64) break;
    }
}

int sj_eof_start(uv_loop_t *loop)
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

void sj_eof_stop(void)
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
