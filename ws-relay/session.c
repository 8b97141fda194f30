/* session.c - the STOMP session life cycle: input pump, outgoing queue, heart-beats,
 * errors and closing, revocation and the periodic sweep; see session.h.
 *
 * What each command does is in command.c; this file decides when frames are read
 * (never while a command waits on Redis, so replies keep the order of requests), what
 * is written next, and when the session ends. Idle sessions are kept small: the frame
 * parser exists only while input is pending, and heart-beats, timeouts and dead
 * clients are handled by one sweep over all sessions instead of per-session timers.
 *
 * Deliberately not here: sockets and framing (the transport), Redis connections
 * (rds.c), rooms (rooms.c). */
#include "session_int.h"
#include "metrics.h"
#include "buf.h"
#include "list.h"
#include "log.h"
#include "msg.h"
#include "recover.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE_GRACE_MS 2000 /* a flushing close that takes longer is cut */

static sess_conf conf;
static const relay_store *store;
static sess_dispatch_fn dispatch;
static list_node all = LIST_INIT(all); /* every session not yet GONE */
static size_t all_count;

static void sess_deliver(sub *su, msg_shared *m);
static void sess_end_sub(sub *su);

void sess_init(const sess_conf *c, const relay_store *st, sess_dispatch_fn d)
{
    conf = *c;
    store = st;
    dispatch = d;
    msg_ids_init(conf.relay_id);
    rooms_hooks h = {.deliver = sess_deliver, .end = sess_end_sub};
    rooms_init(&h, conf.presence_grace_ms, st);
}

const sess_conf *sess_config(void) { return &conf; }
const relay_store *sess_store(void) { return store; }
size_t sess_count(void) { return all_count; }

/* ---- life cycle ----------------------------------------------------------------------- */

sess *sess_new(const sess_transport_ops *ops, void *t, const char *peer)
{
    sess *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->t = t;
    s->refs = 1; /* the transport's */
    s->state = SS_NEW;
    s->created = s->last_rx = s->last_tx = mono_ms();
    msg_next_id(s->id);
    snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "-");
    list_add(&all, &s->all);
    all_count++;
    log_debug("open", "session=%s peer=%s", s->id, s->peer);
    return s;
}

void sess_hold(sess *s) { s->refs++; }

void sess_release(sess *s)
{
    if (--s->refs) return;
    free(s->user_id);
    free(s->user_name);
    free(s->wait_receipt);
    free(s);
}

static void unlink_all(sess *s)
{
    list_del(&s->all);
    all_count--;
}

static void parser_drop(sess *s)
{
    if (!s->parser) return;
    stomp_parser_free(s->parser);
    free(s->parser);
    s->parser = NULL;
}

/* End every subscription (LEAVE as needed). */
static void subs_drop(sess *s)
{
    while (s->subs) sess_sub_free(s, s->subs);
}

void sess_transport_gone(sess *s, const char *reason)
{
    if (s->state == SS_GONE) return;
    log_info("disconnect", "session=%s user=%s reason=%s errors_not_logged=%u", s->id,
             s->user_id ? s->user_id : "-", s->close_reason ? s->close_reason : reason,
             s->err_repeats);
    s->state = SS_GONE;
    s->t = NULL;
    unlink_all(s);
    subs_drop(s);
    outq_clear(&s->q);
    if (!s->pumping) parser_drop(s); /* else pump() drops it */
    sess_release(s);
}

/* ---- subscriptions ------------------------------------------------------------------------ */

sub *sess_sub_find(sess *s, const char *id, size_t len)
{
    for (sub *su = s->subs; su; su = su->snext)
        if (su->id_len == len && memcmp(su->id, id, len) == 0) return su;
    return NULL;
}

void sess_sub_free(sess *s, sub *su)
{
    for (sub **pp = &s->subs; *pp; pp = &(*pp)->snext) {
        if (*pp == su) {
            *pp = su->snext;
            s->nsubs--;
            break;
        }
    }
    rooms_detach(su);
    s->held_bytes -= su->held.bytes;
    outq_clear(&su->held);
    free(su);
}

typedef struct held_ctx {
    bool recovered;
    int64_t newest;
} held_ctx;

static bool keep_held(const msg_shared *m, void *ctx)
{
    const held_ctx *h = ctx;
    return recover_keep_held(m->offset, h->recovered, h->newest);
}

void sess_sub_release_held(sess *s, sub *su, bool recovered, int64_t newest)
{
    if (outq_empty(&su->held)) return;
    bool was_empty = outq_empty(&s->q);
    s->held_bytes -= su->held.bytes;
    held_ctx ctx = {recovered, newest};
    outq_move_if(&s->q, &su->held, keep_held, &ctx);
    if (was_empty && !outq_empty(&s->q) && s->t) s->ops->want_write(s->t);
}

void sess_sub_deliver(sess *s, sub *su, msg_shared *m)
{
    (void)s;
    sess_deliver(su, m);
}

/* rooms hook: the user left the room over REST. */
static void sess_end_sub(sub *su)
{
    sess *s = su->sess;
    log_info("unsubscribe", "session=%s user=%s sub=%s reason=left-room", s->id,
             s->user_id ? s->user_id : "-", log_q(0, su->id));
    sess_sub_free(s, su);
}

static void begin_close(sess *s, const char *reason);

/* Whether n more bytes fit in s's outgoing queue. Every frame the relay queues for a
 * client counts (MESSAGE, RECEIPT, ERROR): a client that does not read while it keeps
 * asking for receipts or errors is as slow a consumer as one that does not read its
 * messages. Past the limit: slow_consumer(). */
static bool queue_fits(const sess *s, size_t n)
{
    return s->q.bytes + s->held_bytes + n <= conf.max_queue_bytes;
}

/* Drop what is queued, queue the one ERROR that says why and close. The ERROR is
 * pushed directly (sess_queue would check the bound again). */
static void slow_consumer(sess *s)
{
    if (s->state >= SS_CLOSING) return;
    RM_ADD(slow_dropped, 1);
    RM_ADD(errors[CHAT_EUNAVAIL], 1);
    outq_clear(&s->q);
    for (sub *su = s->subs; su; su = su->snext) outq_clear(&su->held);
    s->held_bytes = 0;
    if (!s->close_reason) s->close_reason = "slow-consumer";
    log_info("error", "session=%s user=%s message=%s closes=yes reason=\"slow consumer\"", s->id,
             s->user_id ? s->user_id : "-", msg_error_slug(CHAT_EUNAVAIL));
    buf b;
    buf_init(&b, 0);
    msg_error_frame(&b, CHAT_EUNAVAIL, NULL, 0, "slow consumer: too many undelivered frames");
    outq_push(&s->q, buf_data(&b), b.len);
    buf_free(&b);
    begin_close(s, "slow-consumer");
}

/* rooms hook: queue a MESSAGE; past MAX_QUEUE_BYTES the client is a slow consumer. */
static void sess_deliver(sub *su, msg_shared *m)
{
    sess *s = su->sess;
    if (s->state != SS_OPEN) return;
    if (!queue_fits(s, su->prefix_len + m->len)) {
        slow_consumer(s);
        return;
    }
    RM_ADD(deliveries, 1);
    if (su->pending) { /* sent after its RECEIPT (sess_sub_release_held) */
        outq_push_shared(&su->held, su->prefix, su->prefix_len, m);
        s->held_bytes += su->prefix_len + m->len;
        return;
    }
    bool was_empty = outq_empty(&s->q);
    outq_push_shared(&s->q, su->prefix, su->prefix_len, m);
    if (was_empty && s->t) s->ops->want_write(s->t);
}

/* ---- output --------------------------------------------------------------------------- */

void sess_queue(sess *s, const buf *frame)
{
    if (s->state >= SS_CLOSING) return;
    if (!queue_fits(s, frame->len)) {
        slow_consumer(s);
        return;
    }
    bool was_empty = outq_empty(&s->q);
    outq_push(&s->q, buf_data(frame), frame->len);
    if (was_empty && s->t) s->ops->want_write(s->t);
}

void sess_receipt(sess *s, const char *receipt, size_t len)
{
    buf b;
    buf_init(&b, 0);
    char *rid = xstrndup(receipt, len);
    stomp_kv h[1] = {{"receipt-id", rid}};
    stomp_write(&b, STOMP_RECEIPT, h, 1, NULL, 0);
    sess_queue(s, &b);
    free(rid);
    buf_free(&b);
}

void sess_receipt_for(sess *s, const stomp_frame *f)
{
    size_t len;
    const char *r = stomp_header_get(f, "receipt", &len);
    if (r) sess_receipt(s, r, len);
}

enum sess_out sess_out_take(sess *s, buf *out)
{
    if (s->state == SS_GONE) return SESS_OUT_CLOSE;
    size_t before = out->len;
    if (outq_pop(&s->q, out)) {
        RM_ADD(bytes_out, out->len - before);
        s->last_tx = mono_ms();
        s->hb_due = false;
        return SESS_OUT_FRAME;
    }
    if (s->state == SS_CLOSING) return SESS_OUT_CLOSE;
    if (s->hb_due) {
        s->hb_due = false;
        s->last_tx = mono_ms();
        buf_putc(out, '\n');
        RM_ADD(bytes_out, 1);
        return SESS_OUT_FRAME;
    }
    return SESS_OUT_NONE;
}

bool sess_out_ready(const sess *s)
{
    return !outq_empty(&s->q) || s->state == SS_CLOSING || (s->hb_due && s->state == SS_OPEN);
}

/* ---- errors and closing --------------------------------------------------------------- */

/* Stop reading, flush what is queued, then let the transport close. */
static void begin_close(sess *s, const char *reason)
{
    if (s->state >= SS_CLOSING) return;
    s->state = SS_CLOSING;
    s->closing_since = mono_ms();
    if (!s->close_reason) s->close_reason = reason;
    if (!s->pumping) parser_drop(s); /* else pump() drops it: a handler may still read */
    if (s->t) {
        s->ops->close(s->t, 1);
        s->ops->want_write(s->t);
    }
}

void sess_close(sess *s, const char *reason)
{
    begin_close(s, reason);
}

/* Log an ERROR the session is about to send, or count it: an error that does not
 * close (rate-limited, unavailable) can repeat as fast as a client sends frames, and a
 * line per frame would let one client write more log than it sends. The first of a
 * kind is logged; repeats of the same kind within ERROR_LOG_MS are counted and
 * reported (repeated=N) with the next line, or on disconnect. */
#define ERROR_LOG_MS 10000
static void error_log(sess *s, chat_rc rc, const char *text, bool closes)
{
    int64_t now = mono_ms();
    if (!closes && s->err_rc == (int8_t)rc && now - s->err_logged < ERROR_LOG_MS) {
        s->err_repeats++;
        return;
    }
    log_info("error", "session=%s user=%s message=%s closes=%s reason=%s repeated=%u", s->id,
             s->user_id ? s->user_id : "-", msg_error_slug(rc), closes ? "yes" : "no",
             log_q(0, text), s->err_repeats);
    s->err_rc = (int8_t)rc;
    s->err_logged = now;
    s->err_repeats = 0;
}

static void error_frame(sess *s, chat_rc rc, const char *receipt, size_t rlen, const char *text,
                        bool closes)
{
    if (s->state >= SS_CLOSING) return;
    error_log(s, rc, text, closes);
    if ((unsigned)rc <= CHAT_EINTERNAL) RM_ADD(errors[rc], 1);
    buf b;
    buf_init(&b, 0);
    msg_error_frame(&b, rc, receipt, rlen, text);
    sess_queue(s, &b);
    buf_free(&b);
    if (closes) begin_close(s, "error");
}

void sess_error(sess *s, chat_rc rc, const char *receipt, size_t rlen, const char *text)
{
    error_frame(s, rc, receipt, rlen, text, msg_error_closes(rc));
}

void sess_error_close(sess *s, chat_rc rc, const char *receipt, size_t rlen,
                      const char *text, const char *reason)
{
    if (!s->close_reason) s->close_reason = reason;
    error_frame(s, rc, receipt, rlen, text, true);
}

/* Close without writing anything more (dead client, shutdown). */
static void kill_now(sess *s, const char *reason)
{
    if (!s->close_reason) s->close_reason = reason;
    if (s->state < SS_CLOSING) {
        s->state = SS_CLOSING;
        s->closing_since = mono_ms();
        if (!s->pumping) parser_drop(s);
    }
    if (s->t && !s->killed) {
        s->killed = true;
        s->ops->close(s->t, 0);
    }
}

/* ---- input ---------------------------------------------------------------------------- */

/* Run the frames already parsed, one at a time, until input runs out, the session
 * closes, or a command has to wait for Redis (sess_resume() calls back in). */
static void pump(sess *s)
{
    if (s->pumping) return;
    s->pumping = true;
    sess_hold(s);
    while (s->state < SS_CLOSING && !s->waiting && s->parser) {
        stomp_frame f;
        chat_rc rc = stomp_next(s->parser, &f);
        if (rc == CHAT_AGAIN) {
            /* Nothing pending: free the parser so an idle session holds no buffers. */
            if (s->parser->in_off == s->parser->in_len) parser_drop(s);
            break;
        }
        if (rc != CHAT_OK) {
            char why[160];
            snprintf(why, sizeof why, "malformed frame: %s", s->parser->err);
            sess_error(s, rc == CHAT_ETOOLARGE ? CHAT_ETOOLARGE : CHAT_EPROTOCOL, NULL, 0,
                       rc == CHAT_ETOOLARGE ? s->parser->err : why);
            break;
        }
        dispatch(s, &f);
    }
    if (s->state >= SS_CLOSING) parser_drop(s);
    s->pumping = false;
    sess_release(s);
}

/* Heart-beat EOLs alone need no parser. */
static bool only_eols(const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] != '\n' && d[i] != '\r') return false;
    return true;
}

void sess_input(sess *s, const char *data, size_t len)
{
    if (s->state >= SS_CLOSING || len == 0) return;
    s->last_rx = mono_ms();
    if (!s->parser) {
        if (only_eols(data, len)) return;
        s->parser = xmalloc(sizeof *s->parser);
        stomp_parser_init(s->parser, &conf.limits);
        stomp_parser_set_raw_headers(s->parser, s->version == 10);
    }
    chat_rc rc = stomp_feed(s->parser, data, len);
    if (rc != CHAT_OK) {
        sess_error(s, CHAT_ETOOLARGE, NULL, 0, s->parser->err);
        return;
    }
    pump(s);
}

void sess_wait(sess *s, const char *receipt, size_t receipt_len)
{
    s->waiting = true;
    free(s->wait_receipt);
    s->wait_receipt = receipt ? xstrndup(receipt, receipt_len) : NULL;
    s->wait_receipt_len = receipt ? receipt_len : 0;
    s->op_started = mono_ms();
    if (s->t && s->ops->rx_flow) s->ops->rx_flow(s->t, 0);
}

void sess_resume(sess *s)
{
    if (!s->waiting) return;
    s->waiting = false;
    free(s->wait_receipt);
    s->wait_receipt = NULL;
    if (s->state >= SS_CLOSING) return;
    if (s->t && s->ops->rx_flow) s->ops->rx_flow(s->t, 1);
    pump(s);
}

/* ---- relay-wide events ------------------------------------------------------------------ */

unsigned sess_sweep_period(void)
{
    unsigned p = conf.heartbeat_ms ? conf.heartbeat_ms / 4 : 1000;
    return p < 50 ? 50 : p > 1000 ? 1000 : p;
}

/* One session's timers; see sess_sweep. */
static void sweep_one(sess *s, int64_t now, int64_t period)
{
    switch (s->state) {
    case SS_NEW:
        if (now - s->created > (int64_t)conf.connect_timeout_ms)
            sess_error(s, CHAT_EPROTOCOL, NULL, 0, "no CONNECT frame in time");
        break;
    case SS_AUTH:
    case SS_OPEN:
        if (s->waiting && now - s->op_started > (int64_t)conf.redis_timeout_ms) {
            s->gen++; /* the late reply will be dropped */
            sess_error(s, CHAT_EUNAVAIL, s->wait_receipt, s->wait_receipt_len,
                       "Redis did not answer in time");
            if (s->state == SS_AUTH) begin_close(s, "redis-timeout");
            sess_resume(s);
            break;
        }
        if (s->state != SS_OPEN) break;
        if (s->hb_in && now - s->last_rx > 2 * (int64_t)s->hb_in) {
            log_info("heart-beat", "session=%s user=%s silent_ms=%lld", s->id, s->user_id,
                     (long long)(now - s->last_rx));
            kill_now(s, "heart-beat-timeout");
            break;
        }
        if (s->hb_out && !s->hb_due && now - s->last_tx >= (int64_t)s->hb_out - period &&
            outq_empty(&s->q)) {
            s->hb_due = true;
            if (s->t) s->ops->want_write(s->t);
        }
        break;
    case SS_CLOSING:
        if (now - s->closing_since > CLOSE_GRACE_MS) kill_now(s, "close-timeout");
        break;
    default:
        break;
    }
}

void sess_sweep(int64_t now)
{
    int64_t period = sess_sweep_period();
    /* Transports close asynchronously: the list does not change here; safe anyway. */
    list_for_each_safe(n, &all) {
        sess *s = list_entry(n, sess, all);
        sweep_one(s, now, period);
    }
}

void sess_revoke(const char *hash, size_t len)
{
    if (len != TOKEN_HASH_LEN) return;
    size_t count = 0;
    list_for_each(n, &all) {
        sess *s = list_entry(n, sess, all);
        if (memcmp(s->token_hash, hash, TOKEN_HASH_LEN) != 0) continue;
        if (s->state == SS_AUTH) {
            s->revoked = true; /* checked when the lookup returns */
            count++;
        } else if (s->state == SS_OPEN) {
            sess_error_close(s, CHAT_EUNAUTH, NULL, 0, "session revoked", "revoked");
            count++;
        }
    }
    if (count) log_info("revoke", "sessions=%zu", count);
}

/* ---- re-checking tokens after a Pub/Sub outage ---------------------------------------- */

#define RECHECK_BATCH 256

typedef struct recheck {
    size_t n;
    char hash[RECHECK_BATCH][TOKEN_HASH_LEN + 1];
} recheck;

/* A batch answered: a session key that is gone is a token revoked (or expired)
 * while its notice could not reach us. */
static void recheck_done(void *ud, chat_rc rc, const bool *alive, size_t n)
{
    recheck *b = ud;
    if (rc == CHAT_OK) {
        for (size_t i = 0; i < n; i++)
            if (!alive[i]) sess_revoke(b->hash[i], TOKEN_HASH_LEN);
    } else {
        log_warn("revoke", "problem=\"token re-check failed\"");
    }
    free(b);
}

static void recheck_send(recheck *b)
{
    const char *hashes[RECHECK_BATCH];
    for (size_t i = 0; i < b->n; i++) hashes[i] = b->hash[i];
    if (store->tokens_alive(hashes, b->n, recheck_done, b) != CHAT_OK) {
        log_warn("revoke", "problem=\"token re-check not sent: redis unavailable\"");
        free(b);
    }
}

void sess_recheck_tokens(void)
{
    recheck *b = NULL;
    size_t total = 0;
    list_for_each(n, &all) {
        sess *s = list_entry(n, sess, all);
        if (s->state != SS_AUTH && s->state != SS_OPEN) continue;
        if (!b) b = xcalloc(1, sizeof *b);
        memcpy(b->hash[b->n++], s->token_hash, TOKEN_HASH_LEN + 1);
        total++;
        if (b->n == RECHECK_BATCH) {
            recheck_send(b);
            b = NULL;
        }
    }
    if (b) recheck_send(b);
    if (total) log_info("revoke", "action=recheck sessions=%zu", total);
}

static bool going_away;

bool sess_going_away(void) { return going_away; }

void sess_shutdown_all(void)
{
    going_away = true;
    list_for_each_safe(n, &all) {
        sess *s = list_entry(n, sess, all);
        subs_drop(s);
        begin_close(s, "shutdown");
    }
}
