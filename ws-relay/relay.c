/* relay.c - lws context/vhost, protocols, the WebSocket callback and the raw
 * WebSocket transport for sessions; see relay.h.
 *
 * One protocol entry per STOMP subprotocol name (lws matches the client's
 * Sec-WebSocket-Protocol list against the names), all sharing relay_cb; the first
 * entry also serves plain HTTP and WebSocket upgrades that name no subprotocol. Each
 * connection's user data is one pointer to its session. Output goes out in batches:
 * every frame a session has queued (up to WRITE_BATCH bytes) becomes ONE WebSocket
 * message and one lws_write (the contract allows several STOMP frames per message),
 * from a single process-wide buffer with LWS_PRE headroom (lws copies or sends before
 * returning, so one buffer serves every connection and idle sessions own no write
 * buffer). A session that gets something to send is not put through a POLLOUT round
 * trip: it goes on a pending list that a libuv check handle flushes at the end of the
 * loop turn, writing directly when the socket is not choked (see flush_pending). Only
 * a choked socket, a batch that did not take everything, or a close waits for
 * SERVER_WRITEABLE. Both cut the per-delivery cost of a fan-out: with libuv every
 * POLLOUT arm/disarm is an uv_poll_start (a scan of pending events plus epoll_ctl
 * DEL/ADD), which cost more than the send itself.
 *
 * SockJS (sockjs.h) plugs in through relay_ws_route(), relay_http(), on_established()
 * and the pss.sockjs slot: a connection whose slot is set gets all its events there.
 *
 * Deliberately not here: STOMP semantics (session.c), SockJS (sockjs*.c). */
#include "relay.h"
#include "buf.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "session.h"
#include "sockjs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Per connection: lws allocates this as the wsi's user data. */
typedef struct pss pss;
struct pss {
    sess *s;
    void *sockjs; /* SockJS state (sockjs.h) for its requests and websockets, else NULL */
    struct lws *wsi;
    list_node pending;  /* on the pending list (lws zeroes the struct: unlinked) */
};

/* Frames taken into one WebSocket message. Big enough that a fan-out burst leaves in
 * few sends; small enough that one slow session does not hold the loop for long. */
#define WRITE_BATCH (64 * 1024)

enum relay_ws_route { ROUTE_REJECT = 0, ROUTE_STOMP, ROUTE_SOCKJS };

static struct lws_context *ctx;
static buf wbuf;           /* the write buffer, LWS_PRE bytes of headroom */
static int ctx_created;
static list_node pending = LIST_INIT(pending); /* output to flush at the end of this loop turn */
static uv_check_t flush_check;
static bool flush_started;
static bool quiescing;      /* shutting down: refuse new connections */

static int relay_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len);

#define PROTO(name, id) {name, relay_cb, sizeof(pss), 0, id, NULL, 0}
static struct lws_protocols protocols[] = {
    PROTO("http", 0), /* first: HTTP, and WebSocket without a subprotocol */
    PROTO("v12.stomp", 12),
    PROTO("v11.stomp", 11),
    PROTO("v10.stomp", 10),
    {NULL, NULL, 0, 0, 0, NULL, 0}
};

/* No WebSocket extensions: permessage-deflate is not negotiated. lws 4.1.6 (Debian 12's,
 * the newest packaged) asserts in its inflater (extension-permessage-deflate.c:351,
 * priv->rx.avail_out) and corrupts input ("inflate -3") when a client pipelines large
 * compressed messages; no option of that version avoids it, and one client could abort
 * the process. docs/STOMP.md, "Compression". */

/* ---- the WebSocket transport ------------------------------------------------------------ */

/* Put p on the pending list (once) / take it off. */
static void pending_add(pss *p)
{
    if (!list_linked(&p->pending)) list_add(&pending, &p->pending);
}

static void pending_del(pss *p) { list_del(&p->pending); }

/* Cheap to call once per delivery: a session already pending, or already waiting for
 * WRITEABLE, costs nothing more (no uv_poll_start). */
static void ws_want_write(void *t)
{
    struct lws *wsi = t;
    pss *p = lws_wsi_user(wsi);
    if (p) pending_add(p);
}

static void ws_rx_flow(void *t, int enable)
{
    struct lws *wsi = t;
    lws_rx_flow_control(wsi, enable);
    /* Resuming happens from a Redis reply, outside lws: frames lws read meanwhile wait
     * in its buffer for a "forced service" pass, which on libuv only its idle handler
     * runs. Wake it. */
    if (enable) lws_cancel_service(lws_get_context(wsi));
}

static void ws_close(void *t, int flush)
{
    struct lws *wsi = t;
    if (flush) {
        /* WRITEABLE writes what is left, then sess_out_take says CLOSE; this timeout
         * only cuts a client that does not read. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 1);
        lws_callback_on_writable(wsi);
    } else {
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    /* We may be outside any lws callback (a Redis reply, the sweep timer): lws 4.1
     * on libuv re-arms its timer only in its own idle pass, so wake it up, or the
     * timeout would wait for unrelated traffic. */
    lws_cancel_service(lws_get_context(wsi));
}

static const sess_transport_ops ws_ops = {
    .want_write = ws_want_write,
    .rx_flow = ws_rx_flow,
    .close = ws_close,
};

/* ---- routing: the raw STOMP endpoint, SockJS, or nothing -------------------------------- */

/* Which WebSocket endpoint the upgrade to path is for. */
static enum relay_ws_route relay_ws_route(const char *path)
{
    if (strcmp(path, "/ws/websocket") == 0 || strcmp(path, "/websocket") == 0) return ROUTE_STOMP;
    if (sockjs_is_ws_path(path)) return ROUTE_SOCKJS;
    return ROUTE_REJECT;
}

/* A plain HTTP request for path. Returns what the lws callback returns. SockJS URLs
 * (/ws, /ws/info, /ws/{server}/{session}/{transport}) go to sockjs.c; others get 404. */
static int relay_http(struct lws *wsi, pss *p, const char *path, size_t len)
{
    int r = rm_http(wsi, path);
    if (r != 1) return r;
    r = sockjs_http(wsi, p ? &p->sockjs : NULL, path, len);
    if (r != 1) return r;
    if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "Not Found")) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the callback ------------------------------------------------------------------------- */

static void on_established(struct lws *wsi, pss *p)
{
    char peer[64] = "";
    peer_name(wsi, peer, sizeof peer);
    /* lws sized SO_SNDBUF to the (small) rx buffer; give fan-out bursts more room in
     * the kernel before they queue in the session. */
    int sndbuf = 65536;
    setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (sockjs_ws_established(wsi, &p->sockjs, peer)) return; /* a SockJS websocket */
    p->wsi = wsi;
    p->s = sess_new(&ws_ops, wsi, peer);
    rm_conn_open(RM_T_WEBSOCKET);
}

/* Take up to WRITE_BATCH bytes of frames from the session and send them as one
 * WebSocket message. Returns -1 when the connection must be dropped, 1 when the
 * session says CLOSE and nothing was taken (the caller closes, from WRITEABLE), else
 * 0. Asks for WRITEABLE when more remains (a full batch, a close after these frames);
 * frame order is the queue's. */
static int write_batch(struct lws *wsi, pss *p)
{
    buf_reset(&wbuf);
    enum sess_out r = SESS_OUT_NONE;
    while (wbuf.len < WRITE_BATCH && (r = sess_out_take(p->s, &wbuf)) == SESS_OUT_FRAME) {}
    if (wbuf.len == 0) return r == SESS_OUT_CLOSE ? 1 : 0;
    int n = lws_write(wsi, (unsigned char *)buf_data(&wbuf), wbuf.len, LWS_WRITE_TEXT);
    if (n < (int)wbuf.len) return -1;
    if (sess_out_ready(p->s)) lws_callback_on_writable(wsi);
    return 0;
}

static int on_writeable(struct lws *wsi, pss *p)
{
    if (!p->s) return -1;
    pending_del(p); /* written here; a later want_write queues it again */
    int r = write_batch(wsi, p);
    if (r == 1) {
        /* Returning -1 (or a timeout) makes lws drop the socket without a close frame
         * (1006 at the client). Asking for a close with a status takes lws' polite
         * path instead: it only marks the connection, sends the close frame from its
         * own POLLOUT handling and waits briefly for the client's; nothing is freed
         * here (and with libuv the final free is deferred to a uv close callback). */
        if (sess_going_away()) lws_close_free_wsi(wsi, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
        else lws_close_free_wsi(wsi, LWS_CLOSE_STATUS_NORMAL, "stomp session ended");
        return 0;
    }
    return r;
}

/* The check handle, after every loop turn's I/O: write what each pending session has
 * straight away instead of arming POLLOUT and waiting a loop turn for WRITEABLE.
 * lws_send_pipe_choked() says no when lws still holds unsent bytes or the socket
 * buffer is full: those wait for WRITEABLE as before,
 * and lws_write() appends behind any partial send anyway. Closing is left to
 * WRITEABLE, where lws_close_free_wsi() belongs. */
static void flush_pending(uv_check_t *h)
{
    (void)h;
    pss *p;
    while ((p = list_first(&pending, pss, pending))) {
        pending_del(p);
        struct lws *wsi = p->wsi;
        if (!p->s || !wsi) continue;
        if (lws_send_pipe_choked(wsi)) {
            lws_callback_on_writable(wsi);
            continue;
        }
        int r = write_batch(wsi, p);
        if (r == 1) lws_callback_on_writable(wsi);
        else if (r < 0) {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            lws_cancel_service(lws_get_context(wsi));
        }
    }
}

static int relay_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
    pss *p = user;
    char path[256];

    /* Shutting down: no new connection or request (established ones drain). */
    if (quiescing && reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) return 1;
    if (p && p->sockjs) return sockjs_callback(wsi, reason, user, &p->sockjs, in, len);

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return relay_http(wsi, p, in ? (const char *)in : "", len);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0) return 1;
        return relay_ws_route(path) == ROUTE_REJECT;

    case LWS_CALLBACK_ESTABLISHED:
        on_established(wsi, p);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        if (p->s) sess_input(p->s, in, len);
        /* lws 4.1 with libuv runs one "forced service" pass per socket event; the rest
         * of a large message that lws already holds in its buffers would wait for the
         * next event. A cancel-service wake-up gets the next pass now. */
        if (!lws_is_final_fragment(wsi)) lws_cancel_service(lws_get_context(wsi));
        return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, p);

    case LWS_CALLBACK_CLOSED:
        pending_del(p);
        if (p->s) rm_conn_close(RM_T_WEBSOCKET);
        if (p->s) sess_transport_gone(p->s, "socket-closed");
        p->s = NULL;
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- context ------------------------------------------------------------------------------ */

/* lws' own log lines, one per line through log.h. */
static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    char msg[256];
    snprintf(msg, sizeof msg, "%.*s", (int)n, line);
    if (level & LLL_ERR) log_error("lws", "msg=%s", log_q(0, msg));
    else log_warn("lws", "msg=%s", log_q(0, msg));
}

/* Can host:port be bound right now? 0 if so; otherwise logs why and returns -1.
 * Checked before lws gets the port because lws 4.1 cannot fail cleanly there. */
static int port_free(const relay_conf *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1) return 0; /* a name: let lws resolve it */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;
    if (fd < 0) return 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        log_error("listen", "host=%s port=%d problem=%s", c->host, c->port, log_q(0, strerror(errno)));
        rc = -1;
    }
    close(fd);
    return rc;
}

/* No lws validity timers (keep-alive PINGs and idle hang-ups). lws 4.1 otherwise gives
 * every connection one (ping after 300 s) in its sorted timer list; each new
 * connection's timer is the latest and its insert walks the whole list, so accepting
 * N connections cost O(N^2). STOMP heart-beats (sess_sweep) already find dead
 * clients; secs_since_valid_hangup = 0 is what lws checks to arm nothing. */
static const lws_retry_bo_t no_validity = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* File descriptors kept out of lws' reach: Redis connections, the libuv loop's own
 * (epoll, signal pipe, async), SockJS, logs, stdio. */
#define FD_RESERVE 32

/* Give lws all file descriptors but FD_RESERVE, without turning on its slow path.
 * lws 4.1 sizes its fd -> wsi table from the soft RLIMIT_NOFILE at context creation;
 * info.fd_limit_per_thread below that limit would switch every lookup (each accept,
 * each adopt) to a linear scan of the table (wsi_from_fd: connects got quadratic).
 * So: lower the soft limit to hard - FD_RESERVE while lws creates its context, and
 * raise it to hard afterwards. lws then stops polling its listener when its table is
 * full (new connections wait in the kernel backlog), while the process still has
 * FD_RESERVE descriptors for Redis, the loop and logs, so accept() never meets the
 * EMFILE that lws 4.1 would log and retry in a tight loop. Returns the hard limit
 * to pass to fd_limit_restore(), or 0 when the limits cannot be read. */
static rlim_t fd_limit_for_lws(unsigned *lws_fds)
{
    struct rlimit rl;
    *lws_fds = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    rlim_t hard = rl.rlim_max;
    if (hard == RLIM_INFINITY || hard > (rlim_t)1 << 20) hard = (rlim_t)1 << 20; /* nr_open's usual cap */
    if (hard < 4 * FD_RESERVE) return 0; /* tiny limits: leave them as they are */
    struct rlimit want = {hard - FD_RESERVE, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) return 0;
    *lws_fds = (unsigned)(hard - FD_RESERVE);
    return hard;
}

static void fd_limit_restore(rlim_t hard)
{
    struct rlimit rl;
    if (!hard || getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rl.rlim_cur = hard;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int relay_start(uv_loop_t *loop, const relay_conf *c)
{
    struct lws_context_creation_info info;
    void *loops[1] = {loop};

    if (port_free(c) != 0) return -1;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    buf_init(&wbuf, LWS_PRE);
    for (size_t i = 0; protocols[i].name; i++) {
        protocols[i].rx_buffer_size = c->rx_buffer;
        protocols[i].tx_packet_size = 0x10000; /* whole frames per send(); lws buffers the rest */
    }
    memset(&info, 0, sizeof info);
    info.port = c->port;
    info.iface = c->host;
    info.protocols = protocols;
    /* DISABLE_IPV6: with IPv6 on, lws 4.1 does not apply an IPv4 iface such as
     * "127.0.0.1" and listens on every address (*:port); the relay must stay on
     * RELAY_HOST (loopback by default: lighttpd is the public face). */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.pcontext = &ctx;
    info.server_string = "chat-relay";
    info.gid = -1;
    info.uid = -1;
    info.retry_and_idle_policy = &no_validity;
    unsigned lws_fds;
    rlim_t hard = fd_limit_for_lws(&lws_fds);
    log_info("listen", "host=%s port=%d fd_limit=%u", c->host, c->port, lws_fds);
    ctx = lws_create_context(&info);
    fd_limit_restore(hard);
    if (!ctx) {
        log_error("listen", "host=%s port=%d problem=\"cannot create the listener (port busy?)\"",
                  c->host, c->port);
        buf_free(&wbuf);
        return -1;
    }
    ctx_created = 1;
    /* With a foreign libuv loop, lws 4.1 hands back a context even when the default
     * vhost could not bind (FAIL_UPON_UNABLE_TO_BIND notwithstanding), and that
     * half-made context cannot be taken down: its libuv handles call into the evlib
     * plugin it already unloaded. port_free() above makes this a narrow race; if it
     * is lost anyway, leave at once rather than run without a listener. */
    if (!lws_get_vhost_by_name(ctx, "default")) {
        log_error("listen", "host=%s port=%d problem=\"cannot listen (port taken meanwhile?)\"",
                  c->host, c->port);
        _exit(1);
    }
    uv_check_init(loop, &flush_check);
    uv_check_start(&flush_check, flush_pending);
    flush_started = true;
    return sockjs_start(loop);
}

static void flush_closed(uv_handle_t *h) { (void)h; }

void relay_quiesce(void)
{
    quiescing = true;
}

void relay_stop(void)
{
    sockjs_stop();
    if (flush_started) {
        uv_close((uv_handle_t *)&flush_check, flush_closed);
        flush_started = false;
    }
    list_for_each_safe(n, &pending) list_del(n); /* CLOSED may still unlink */
    if (ctx) lws_context_destroy(ctx);
}

void relay_finish(void)
{
    if (ctx) lws_context_destroy(ctx);
    ctx = NULL;
    if (ctx_created) buf_free(&wbuf);
    ctx_created = 0;
}
