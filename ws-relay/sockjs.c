/* sockjs.c - SockJS sessions: the table, the STOMP transport ops, frame production,
 * heart-beats and timeouts, deferred work; see sockjs.h and sockjs_int.h.
 *
 * One sj_sess per SockJS session wraps one STOMP session. Its receiver (at most one
 * connection at a time) pulls frames with sj_next_frame(); xhr_send bodies are fed
 * through sj_input(). The engine reaches us through sj_ops, which only set flags,
 * request writes, or queue deferred work (the engine must not be called back from
 * inside its own ops): sess_transport_gone and the release of held xhr_send requests
 * run from a zero-delay timer (pend, on_kick). One periodic sweep does heart-beats and the
 * disconnect timeout for all sessions.
 *
 * Deliberately not here: HTTP and WebSocket I/O (sockjs_http.c, sockjs_ws.c), URL
 * parsing (sockjs_path.c), JSON framing (sockjs_frame.c). */
#include "sockjs.h"
#include "sockjs_int.h"
#include "cfg.h"
#include "log.h"
#include "sockjs_frame.h"
#include "strmap.h"
#include "token.h"
#include "util.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_PER_ARRAY 64        /* STOMP frames packed into one a[...] */
#define ARRAY_BYTES (64 * 1024)    /* ... or this many bytes of them */

static sockjs_conf conf;
static strmap table = STRMAP_INIT; /* id -> sj_sess, HTTP sessions */
static sj_sess *all_head;          /* every session */
static sj_sess *pend_head;         /* sessions with deferred work */
static uv_timer_t sweep_timer, kick_timer;
static bool running, timers_open;
static buf take_buf;               /* frames taken from the engine, before encoding */

const sockjs_conf *sj_conf(void) { return &conf; }
bool sj_running(void) { return running; }

/* ---- deferred work ----------------------------------------------------------------------- */

static void on_kick(uv_timer_t *t);

/* Queue sj's deferred work (gone_due, resume_due) for the next loop pass. */
static void pend(sj_sess *sj)
{
    if (sj->pending) return;
    sj->pending = true;
    sj->pend_prev = NULL;
    sj->pend_next = pend_head;
    if (pend_head) pend_head->pend_prev = sj;
    pend_head = sj;
    if (timers_open && !uv_is_active((uv_handle_t *)&kick_timer))
        uv_timer_start(&kick_timer, on_kick, 0, 0);
}

static void unpend(sj_sess *sj)
{
    if (!sj->pending) return;
    if (sj->pend_prev) sj->pend_prev->pend_next = sj->pend_next;
    else pend_head = sj->pend_next;
    if (sj->pend_next) sj->pend_next->pend_prev = sj->pend_prev;
    sj->pend_prev = sj->pend_next = NULL;
    sj->pending = false;
}

/* Tell the engine its transport is gone (LEAVE, etc.). Never from inside an op. */
static void end_stomp(sj_sess *sj, const char *reason)
{
    sj->gone_due = false;
    if (!sj->stomp) return;
    sess *s = sj->stomp;
    sj->stomp = NULL;
    sess_transport_gone(s, reason);
}

static void mark_closed(sj_sess *sj, int code, const char *reason)
{
    if (sj->closed) return;
    sj->closed = true;
    sj->close_code = code;
    sj->close_reason = reason;
}

/* Hand every held xhr_send back to sockjs_http.c: fed and answered while the session
 * takes input, all of them once it is closed or gone. */
static void release_held(sj_sess *sj, bool all)
{
    while (sj->wait_head && (all || sj->closed || !sj->paused)) {
        sj_conn *c = sj->wait_head;
        sj->wait_head = c->next_wait;
        if (!sj->wait_head) sj->wait_tail = NULL;
        c->next_wait = NULL;
        sj_http_release(c);
    }
}

static void on_kick(uv_timer_t *t)
{
    (void)t;
    while (pend_head) {
        sj_sess *sj = pend_head;
        unpend(sj);
        if (sj->gone_due) end_stomp(sj, "closed");
        if (sj->resume_due) {
            sj->resume_due = false;
            release_held(sj, false);
        }
    }
}

/* ---- the STOMP transport ops (t is the sj_sess) ----------------------------------------------- */

void sj_wake(sj_sess *sj)
{
    if (sj->recv) lws_callback_on_writable(sj->recv->wsi);
}

static void op_want_write(void *t) { sj_wake(t); }

static void op_rx_flow(void *t, int enable)
{
    sj_sess *sj = t;
    sj->paused = !enable;
    if (sj->recv && sj->recv->kind == SJK_WS) lws_rx_flow_control(sj->recv->wsi, enable);
    if (enable && sj->wait_head) {
        sj->resume_due = true;
        pend(sj);
    }
}

/* flush: nothing to do but wake the receiver: sess_out_take() says CLOSE after the last
 * frame and sj_next_frame() closes then. Not flush: closed now; the receiver writes
 * the close frame, the engine hears "gone" from on_kick. Either way a receiver that
 * does not read is cut after a few seconds. */
static void op_close(void *t, int flush)
{
    sj_sess *sj = t;
    if (!flush) {
        mark_closed(sj, 3000, "Go away!");
        sj->gone_due = true;
        if (sj->wait_head) sj->resume_due = true;
        pend(sj);
    }
    if (sj->recv) {
        sj_conn_end_soon(sj->recv);
        sj_wake(sj);
    }
}

static const sess_transport_ops sj_ops = {
    .want_write = op_want_write,
    .rx_flow = op_rx_flow,
    .close = op_close,
};

/* ---- sessions ---------------------------------------------------------------------------------- */

sj_sess *sj_find(const char *id, size_t len)
{
    return strmap_get(&table, id, len);
}

sj_sess *sj_create(const char *id, size_t len, const char *peer)
{
    if (id && (len == 0 || len > SOCKJS_SESSION_MAX || table.count >= conf.max_sessions))
        return NULL;
    sj_sess *sj = xcalloc(1, sizeof *sj);
    if (id) {
        memcpy(sj->id, id, len);
        sj->id_len = len;
        sj->in_table = true;
        strmap_put(&table, sj->id, sj->id_len, sj);
    }
    if (id) {
        snprintf(sj->owner, sizeof sj->owner, "%s", peer ? peer : "-");
        token_id(sj->cookie, SJ_COOKIE_LEN);
        sj->cookie[SJ_COOKIE_LEN] = '\0';
    }
    sj->last_tx = sj->detached_since = mono_ms();
    sj->next = all_head;
    if (all_head) all_head->prev = sj;
    all_head = sj;
    sj->stomp = sess_new(&sj_ops, sj, peer);
    return sj;
}

/* Unlink and free sj; its STOMP session must already be ended, its receiver detached.
 * Held xhr_send requests are answered 404. */
static void sj_free(sj_sess *sj)
{
    rm_conn_close(sj->mtransport);
    unpend(sj);
    while (sj->wait_head) {
        sj_conn *c = sj->wait_head;
        sj->wait_head = c->next_wait;
        c->next_wait = NULL;
        c->sj = NULL;
        sj_http_release(c);
    }
    if (sj->in_table) strmap_del(&table, sj->id, sj->id_len);
    if (sj->prev) sj->prev->next = sj->next;
    else all_head = sj->next;
    if (sj->next) sj->next->prev = sj->prev;
    free(sj);
}

bool sj_owner_ok(sj_sess *sj, const char *peer, const char *cookie)
{
    if (strcmp(sj->owner, peer) != 0) return false;
    if (!cookie[0]) return !sj->cookie_seen;
    if (strlen(cookie) != SJ_COOKIE_LEN || sodium_memcmp(cookie, sj->cookie, SJ_COOKIE_LEN) != 0)
        return false;
    sj->cookie_seen = true;
    return true;
}

void sj_attach(sj_sess *sj, sj_conn *conn)
{
    sj->recv = conn;
    conn->sj = sj;
    if (sj->paused && conn->kind == SJK_WS) lws_rx_flow_control(conn->wsi, 0);
    lws_callback_on_writable(conn->wsi);
}

void sj_detach(sj_conn *conn)
{
    sj_sess *sj = conn->sj;
    if (!sj || sj->recv != conn) return;
    sj->recv = NULL;
    sj->detached_since = mono_ms();
    conn->sj = NULL;
}

void sj_ws_gone(sj_sess *sj)
{
    if (sj->recv) sj_detach(sj->recv);
    end_stomp(sj, "socket-closed");
    sj_free(sj);
}

void sj_input(sj_sess *sj, const char *msg, size_t len)
{
    if (sj->stomp && !sj->closed) sess_input(sj->stomp, msg, len);
}

/* Take up to FRAMES_PER_ARRAY frames from the engine into out as one a[...]; true when
 * the engine said CLOSE (after those frames). *n gets the number of frames. */
static bool take_frames(sj_sess *sj, buf *out, size_t *n)
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

enum sj_frame sj_next_frame(sj_sess *sj, buf *out, int64_t now)
{
    if (!sj->opened) {
        sj->opened = true;
        sj->last_tx = now;
        buf_putc(out, 'o');
        return SJF_FRAME;
    }
    if (!sj->closed && sj->stomp) {
        size_t n;
        bool close = take_frames(sj, out, &n);
        if (close) {
            /* We are in an lws write callback, not inside the engine: end it now. */
            mark_closed(sj, 3000, "Go away!");
            end_stomp(sj, "closed");
        }
        if (n) {
            sj->last_tx = now;
            return SJF_FRAME;
        }
    }
    if (sj->closed) {
        sockjs_frame_close(out, sj->close_code, sj->close_reason);
        return SJF_CLOSE;
    }
    if (now - sj->last_tx >= (int64_t)conf.heartbeat_ms) {
        sj->last_tx = now;
        buf_putc(out, 'h');
        return SJF_FRAME;
    }
    return SJF_NONE;
}

/* ---- sweep ------------------------------------------------------------------------------------ */

/* Heart-beats for sessions with a receiver; the disconnect timeout for those without. */
static void on_sweep(uv_timer_t *t)
{
    (void)t;
    int64_t now = mono_ms();
    for (sj_sess *sj = all_head, *next; sj; sj = next) {
        next = sj->next;
        if (sj->recv) {
            if (sj->closed || now - sj->last_tx >= (int64_t)conf.heartbeat_ms) sj_wake(sj);
            continue;
        }
        if (!sj->in_table || now - sj->detached_since < (int64_t)conf.disconnect_ms) continue;
        if (sj->stomp) log_info("sockjs-timeout", "sockjs=%s idle_ms=%lld", log_q(0, sj->id),
                                (long long)(now - sj->detached_since));
        end_stomp(sj, "sockjs-timeout");
        sj_free(sj);
    }
}

/* ---- start and stop ---------------------------------------------------------------------------- */

int sockjs_start(uv_loop_t *loop)
{
    const sess_conf *sc = sess_config();
    conf.heartbeat_ms = (unsigned)cfg_int("SOCKJS_HEARTBEAT_MS", 5000, 50, 3600000);
    conf.disconnect_ms = (unsigned)cfg_int("SOCKJS_DISCONNECT_MS", 5000, 100, 3600000);
    conf.response_limit = (size_t)cfg_int("SOCKJS_RESPONSE_LIMIT", 128 * 1024, 4096, 1L << 30);
    conf.max_sessions = (size_t)cfg_int("SOCKJS_MAX_SESSIONS", 100000, 1, 10000000);
    conf.max_decoded = sc->limits.max_pending;
    conf.max_body = (size_t)cfg_int("SOCKJS_MAX_BODY", (long)(2 * sc->limits.max_pending),
                                    (long)sc->limits.max_frame, 1L << 30);
    if (sj_eof_start(loop) != 0) return -1;
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
    return 0;
}

static void timer_closed(uv_handle_t *h) { (void)h; }

void sockjs_stop(void)
{
    if (!timers_open) return;
    running = false;
    while (all_head) {
        sj_sess *sj = all_head;
        if (sj->recv) {
            sj_conn *c = sj->recv;
            sj_detach(c);
            sj_conn_end_soon(c);
        }
        end_stomp(sj, "shutdown");
        sj_free(sj);
    }
    strmap_free(&table);
    buf_free(&take_buf);
    sj_http_stop();
    sj_eof_stop();
    uv_timer_stop(&sweep_timer);
    uv_timer_stop(&kick_timer);
    uv_close((uv_handle_t *)&sweep_timer, timer_closed);
    uv_close((uv_handle_t *)&kick_timer, timer_closed);
    timers_open = false;
}
