/* sockjs_sess.c - the SockJS session core: the table, the STOMP transport ops, frame
 * production, heart-beats and timeouts, deferred work, the owner check; see
 * sockjs_sess.h.
 *
 * One sockjs_sess per SockJS session wraps one STOMP session. Its receiver (at most
 * one connection at a time) pulls frames with sockjs_next_frame(); xhr_send bodies are
 * fed through sockjs_sess_input(). The engine reaches us through stomp_ops, which only
 * set flags, request writes, or queue deferred work (the engine must not be called
 * back from inside its own ops): sess_transport_gone and the release of held xhr_send
 * requests run from a zero-delay timer (pend, on_kick). One periodic sweep does
 * heart-beats and the disconnect timeout for all sessions.
 *
 * Deliberately not here: lws and every connection (reached only through the
 * sockjs_link_ops given to sockjs_sess_start), HTTP and WebSocket I/O, URL parsing
 * (sockjs_path.c), JSON framing (sockjs_frame.c). */
#include "sockjs_sess.h"
#include "cfg.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "sockjs_frame.h"
#include "sockjs_path.h"
#include "strmap.h"
#include "token.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_PER_ARRAY 64        /* STOMP frames packed into one a[...] */
#define ARRAY_BYTES (64 * 1024)    /* ... or this many bytes of them */

struct sockjs_sess {
    list_node all;               /* every live session (sweeps, shutdown) */
    list_node pend;              /* linked while it has deferred work (pend) */
    sess *stomp;                 /* the STOMP engine; NULL once told it is gone */
    sockjs_link *recv;           /* the receiving connection, or NULL */
    list_node held;              /* xhr_send requests held while input is paused */
    bool in_table;               /* HTTP session (keyed by id) vs websocket transport */
    bool opened;                 /* "o" sent */
    bool closed;                 /* no more STOMP: every receiver gets the close frame */
    bool gone_due;               /* sess_transport_gone to be called (deferred) */
    bool paused;                 /* the engine asked us to stop feeding input */
    bool resume_due;             /* held xhr_send bodies to be fed (deferred) */
    int close_code;
    int mtransport;              /* enum rm_transport, for the connection gauges */
    const char *close_reason;    /* static string */
    int64_t last_tx;             /* mono ms of the last frame sent (heart-beat) */
    int64_t detached_since;      /* mono ms the last receiver went away */
    char id[SOCKJS_SESSION_MAX + 1];
    size_t id_len;
    /* Who the session belongs to (HTTP sessions; sockjs_owner_ok): the address of the
     * client that opened it and the binding cookie it was given. */
    bool cookie_seen;            /* the owner has sent the cookie back: now required */
    char owner[48];
    char cookie[SOCKJS_COOKIE_LEN + 1];
};

static sockjs_conf conf;
static sockjs_link_ops ops;
static strmap table = STRMAP_INIT;       /* id -> sockjs_sess, HTTP sessions */
static list_node all = LIST_INIT(all);   /* every session */
static list_node pending = LIST_INIT(pending); /* sessions with deferred work */
static uv_timer_t sweep_timer, kick_timer;
static bool running, timers_open;
static buf take_buf;                     /* frames taken from the engine, before encoding */

const sockjs_conf *sockjs_config(void) { return &conf; }
bool sockjs_running(void) { return running; }

/* ---- deferred work ----------------------------------------------------------------------- */

static void on_kick(uv_timer_t *t);

/* Queue sj's deferred work (gone_due, resume_due) for the next loop pass. */
static void pend(sockjs_sess *sj)
{
    if (list_linked(&sj->pend)) return;
    list_add(&pending, &sj->pend);
    if (timers_open && !uv_is_active((uv_handle_t *)&kick_timer))
        uv_timer_start(&kick_timer, on_kick, 0, 0);
}

/* Tell the engine its transport is gone (LEAVE, etc.). Never from inside an op. */
static void end_stomp(sockjs_sess *sj, const char *reason)
{
    sj->gone_due = false;
    if (!sj->stomp) return;
    sess *s = sj->stomp;
    sj->stomp = NULL;
    sess_transport_gone(s, reason);
}

static void mark_closed(sockjs_sess *sj, int code, const char *reason)
{
    if (sj->closed) return;
    sj->closed = true;
    sj->close_code = code;
    sj->close_reason = reason;
}

/* The engine ended the session: SockJS' usual 3000 "Go away!", or 1001 when the
 * relay is shutting down (the client should reconnect, to another relay). */
static void go_away(sockjs_sess *sj)
{
    if (sess_going_away()) mark_closed(sj, 1001, "Server shutting down");
    else mark_closed(sj, 3000, "Go away!");
}

/* Take the first held xhr_send off sj's queue; its link no longer names sj. */
static sockjs_link *unhold_first(sockjs_sess *sj)
{
    sockjs_link *l = list_first(&sj->held, sockjs_link, held);
    list_del(&l->held);
    l->sj = NULL;
    return l;
}

/* Release held xhr_send requests in order (fed and answered) while the session takes
 * input, all of them once it is closed. Feeding one may pause it again. */
static void release_held(sockjs_sess *sj)
{
    while (!list_empty(&sj->held) && (sj->closed || !sj->paused))
        ops.release(unhold_first(sj), sj);
}

static void on_kick(uv_timer_t *t)
{
    (void)t;
    while (!list_empty(&pending)) {
        sockjs_sess *sj = list_first(&pending, sockjs_sess, pend);
        list_del(&sj->pend);
        if (sj->gone_due) end_stomp(sj, "closed");
        if (sj->resume_due) {
            sj->resume_due = false;
            release_held(sj);
        }
    }
}

/* ---- the STOMP transport ops (t is the sockjs_sess) --------------------------------------- */

/* Ask the receiver (if any) to write soon. */
static void wake(sockjs_sess *sj)
{
    if (sj->recv) ops.want_write(sj->recv);
}

static void op_want_write(void *t) { wake(t); }

static void op_rx_flow(void *t, int enable)
{
    sockjs_sess *sj = t;
    sj->paused = !enable;
    if (sj->recv) ops.rx_flow(sj->recv, enable);
    if (enable && !list_empty(&sj->held)) {
        sj->resume_due = true;
        pend(sj);
    }
}

/* flush: nothing to do but wake the receiver: sess_out_take() says CLOSE after the last
 * frame and sockjs_next_frame() closes then. Not flush: closed now; the receiver writes
 * the close frame, the engine hears "gone" from on_kick. Either way a receiver that
 * does not read is cut after a few seconds. */
static void op_close(void *t, int flush)
{
    sockjs_sess *sj = t;
    if (!flush) {
        go_away(sj);
        sj->gone_due = true;
        if (!list_empty(&sj->held)) sj->resume_due = true;
        pend(sj);
    }
    if (sj->recv) {
        ops.end_soon(sj->recv);
        wake(sj);
    }
}

static const sess_transport_ops stomp_ops = {
    .want_write = op_want_write,
    .rx_flow = op_rx_flow,
    .close = op_close,
};

/* ---- sessions ---------------------------------------------------------------------------------- */

sockjs_sess *sockjs_sess_find(const char *id, size_t len)
{
    return strmap_get(&table, id, len);
}

sockjs_sess *sockjs_sess_create(const char *id, size_t len, const char *peer)
{
    if (id && (len == 0 || len > SOCKJS_SESSION_MAX || table.count >= conf.max_sessions))
        return NULL;
    sockjs_sess *sj = xcalloc(1, sizeof *sj);
    sj->mtransport = -1; /* none until sockjs_sess_set_transport */
    list_init(&sj->held);
    if (id) {
        memcpy(sj->id, id, len);
        sj->id_len = len;
        sj->in_table = true;
        strmap_put(&table, sj->id, sj->id_len, sj);
        snprintf(sj->owner, sizeof sj->owner, "%s", peer ? peer : "-");
        token_id(sj->cookie, SOCKJS_COOKIE_LEN);
        sj->cookie[SOCKJS_COOKIE_LEN] = '\0';
    }
    sj->last_tx = sj->detached_since = mono_ms();
    list_add(&all, &sj->all);
    sj->stomp = sess_new(&stomp_ops, sj, peer);
    return sj;
}

/* Unlink and free sj; its STOMP session must already be ended, its receiver detached.
 * Held xhr_send requests are answered 404. */
static void sess_free(sockjs_sess *sj)
{
    if (sj->mtransport >= 0) rm_conn_close((enum rm_transport)sj->mtransport);
    list_del(&sj->pend);
    while (!list_empty(&sj->held)) ops.release(unhold_first(sj), NULL);
    if (sj->in_table) strmap_del(&table, sj->id, sj->id_len);
    list_del(&sj->all);
    free(sj);
}

void sockjs_sess_set_transport(sockjs_sess *sj, int rm_transport)
{
    sj->mtransport = rm_transport;
    rm_conn_open((enum rm_transport)rm_transport);
}

const char *sockjs_sess_cookie(const sockjs_sess *sj) { return sj->cookie; }

bool sockjs_owner_ok(sockjs_sess *sj, const char *peer, const char *cookie)
{
    if (strcmp(sj->owner, peer) != 0) return false;
    if (!cookie[0]) return !sj->cookie_seen;
    if (strlen(cookie) != SOCKJS_COOKIE_LEN ||
        sodium_memcmp(cookie, sj->cookie, SOCKJS_COOKIE_LEN) != 0)
        return false;
    sj->cookie_seen = true;
    return true;
}

int sockjs_sess_attach(sockjs_sess *sj, sockjs_link *l, const char **reason)
{
    if (sj->closed) {
        *reason = sj->close_reason;
        return sj->close_code;
    }
    if (sj->recv) {
        *reason = "Another connection still open";
        return 2010;
    }
    sj->recv = l;
    l->sj = sj;
    if (sj->paused) ops.rx_flow(l, 0);
    ops.want_write(l);
    return 0;
}

void sockjs_sess_detach(sockjs_link *l)
{
    sockjs_sess *sj = l->sj;
    if (!sj || sj->recv != l) return;
    sj->recv = NULL;
    sj->detached_since = mono_ms();
    l->sj = NULL;
}

void sockjs_sess_unlink(sockjs_link *l)
{
    if (list_linked(&l->held)) {
        list_del(&l->held);
        l->sj = NULL;
        return;
    }
    sockjs_sess_detach(l);
}

bool sockjs_sess_hold(sockjs_sess *sj, sockjs_link *l)
{
    if (sj->closed || (!sj->paused && list_empty(&sj->held))) return false;
    /* Keep the order of bodies and let the engine finish its Redis call first. */
    l->sj = sj;
    list_add_tail(&sj->held, &l->held);
    return true;
}

void sockjs_sess_ws_gone(sockjs_sess *sj)
{
    if (sj->recv) sockjs_sess_detach(sj->recv);
    end_stomp(sj, "socket-closed");
    sess_free(sj);
}

void sockjs_sess_input(sockjs_sess *sj, const char *msg, size_t len)
{
    if (sj->stomp && !sj->closed) sess_input(sj->stomp, msg, len);
}

/* ---- frames ------------------------------------------------------------------------------------ */

/* Take up to FRAMES_PER_ARRAY frames from the engine into out as one a[...]; true when
 * the engine said CLOSE (after those frames). *n gets the number of frames. */
static bool take_frames(sockjs_sess *sj, buf *out, size_t *n)
{
    size_t offs[FRAMES_PER_ARRAY + 1], cnt = 0;
    bool close = false;
    buf_reset(&take_buf);
    offs[0] = 0;
    while (cnt < FRAMES_PER_ARRAY && take_buf.len < ARRAY_BYTES) {
        enum sess_out r = sess_out_take(sj->stomp, &take_buf);
        if (r == SESS_OUT_NONE) break;
        if (r == SESS_OUT_CLOSE) {
            close = true;
            break;
        }
        offs[++cnt] = take_buf.len;
    }
    if (cnt) {
        const char *msgs[FRAMES_PER_ARRAY];
        size_t lens[FRAMES_PER_ARRAY];
        for (size_t i = 0; i < cnt; i++) {
            msgs[i] = buf_data(&take_buf) + offs[i];
            lens[i] = offs[i + 1] - offs[i];
        }
        sockjs_frame_messages(out, msgs, lens, cnt);
    }
    *n = cnt;
    return close;
}

enum sockjs_next sockjs_next_frame(sockjs_sess *sj, buf *out, int64_t now)
{
    if (!sj->opened) {
        sj->opened = true;
        sj->last_tx = now;
        buf_putc(out, 'o');
        return SOCKJS_NEXT_FRAME;
    }
    if (!sj->closed && sj->stomp) {
        size_t n;
        bool close = take_frames(sj, out, &n);
        if (close) {
            /* We are in an lws write callback, not inside the engine: end it now. */
            go_away(sj);
            end_stomp(sj, "closed");
        }
        if (n) {
            sj->last_tx = now;
            return SOCKJS_NEXT_FRAME;
        }
    }
    if (sj->closed) {
        sockjs_frame_close(out, sj->close_code, sj->close_reason);
        return SOCKJS_NEXT_CLOSE;
    }
    if (now - sj->last_tx >= (int64_t)conf.heartbeat_ms) {
        sj->last_tx = now;
        buf_putc(out, 'h');
        return SOCKJS_NEXT_FRAME;
    }
    return SOCKJS_NEXT_NONE;
}

/* ---- sweep ------------------------------------------------------------------------------------ */

/* Heart-beats for sessions with a receiver; the disconnect timeout for those without. */
static void on_sweep(uv_timer_t *t)
{
    (void)t;
    int64_t now = mono_ms();
    list_for_each_safe(n, &all) {
        sockjs_sess *sj = list_entry(n, sockjs_sess, all);
        if (sj->recv) {
            if (sj->closed || now - sj->last_tx >= (int64_t)conf.heartbeat_ms) wake(sj);
            continue;
        }
        if (!sj->in_table || now - sj->detached_since < (int64_t)conf.disconnect_ms) continue;
        if (sj->stomp) log_info("sockjs-timeout", "sockjs=%s idle_ms=%lld", log_q(0, sj->id),
                                (long long)(now - sj->detached_since));
        end_stomp(sj, "sockjs-timeout");
        sess_free(sj);
    }
}

/* ---- start and stop ---------------------------------------------------------------------------- */

void sockjs_sess_configure(void)
{
    const sess_conf *sc = sess_config();
    conf.heartbeat_ms = (unsigned)cfg_int("SOCKJS_HEARTBEAT_MS", 5000, 50, 3600000);
    conf.disconnect_ms = (unsigned)cfg_int("SOCKJS_DISCONNECT_MS", 5000, 100, 3600000);
    conf.response_limit = (size_t)cfg_int("SOCKJS_RESPONSE_LIMIT", 128 * 1024, 4096, 1L << 30);
    conf.max_sessions = (size_t)cfg_int("SOCKJS_MAX_SESSIONS", 100000, 1, 10000000);
    conf.max_decoded = sc->limits.max_pending;
    conf.max_body = (size_t)cfg_int("SOCKJS_MAX_BODY", (long)(2 * sc->limits.max_pending),
                                    (long)sc->limits.max_frame, 1L << 30);
}

void sockjs_sess_start(uv_loop_t *loop, const sockjs_link_ops *link_ops)
{
    ops = *link_ops;
    buf_init(&take_buf, 0);
    uv_timer_init(loop, &sweep_timer);
    uv_timer_init(loop, &kick_timer);
    unsigned period = (conf.heartbeat_ms < conf.disconnect_ms ? conf.heartbeat_ms
                                                               : conf.disconnect_ms) / 8;
    period = period < 20 ? 20 : period > 500 ? 500 : period;
    uv_timer_start(&sweep_timer, on_sweep, period, period);
    timers_open = running = true;
    log_info("sockjs", "heartbeat_ms=%u disconnect_ms=%u response_limit=%zu max_body=%zu",
             conf.heartbeat_ms, conf.disconnect_ms, conf.response_limit, conf.max_body);
}

static void timer_closed(uv_handle_t *h) { (void)h; }

void sockjs_sess_stop(void)
{
    if (!timers_open) return;
    running = false;
    while (!list_empty(&all)) {
        sockjs_sess *sj = list_first(&all, sockjs_sess, all);
        if (sj->recv) {
            sockjs_link *l = sj->recv;
            sockjs_sess_detach(l);
            ops.end_soon(l);
        }
        end_stomp(sj, "shutdown");
        sess_free(sj);
    }
    strmap_free(&table);
    buf_free(&take_buf);
    uv_timer_stop(&sweep_timer);
    uv_timer_stop(&kick_timer);
    uv_close((uv_handle_t *)&sweep_timer, timer_closed);
    uv_close((uv_handle_t *)&kick_timer, timer_closed);
    timers_open = false;
}
