/* command.c - what each STOMP command does: CONNECT/STOMP (token -> user through
 * the store), SUBSCRIBE (membership check, room channel), UNSUBSCRIBE, SEND (validation,
 * then membership check and PUBLISH in one Lua script), DISCONNECT, ACK/NACK, and the
 * ERRORs for everything else.
 *
 * A command that needs Redis (through the session's relay_store, store.h) becomes an
 * `op`: it copies what it needs from the frame
 * (frames live only until the next parse), holds a session reference, and pauses the
 * session's input until the reply; replies therefore come back in request order. A
 * reply for a session that has closed or given up waiting (gen changed) is dropped.
 *
 * Deliberately not here: frame parsing, the queue, heart-beats and closing
 * (session.c), rooms and presence (rooms.c). */
#include "command.h"
#include "session_int.h"
#include "metrics.h"
#include "buf.h"
#include "json.h"
#include "log.h"
#include "msg.h"
#include "recover.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_DEST "/app/chat.sendMessage"
#define ROOM_DEST "/topic/room/"
#define MAX_MESSAGE_CP 1000
#define SERVER_NAME "chat-relay/1.0"

/* ---- ops: a command waiting on Redis ---------------------------------------------- */

typedef struct op {
    sess *s;
    uint32_t gen;
    char *receipt;          /* the frame's receipt header, or NULL */
    size_t receipt_len;
    char *room;             /* SUBSCRIBE: room id */
    char *sub_id;           /* SUBSCRIBE: subscription id */
    size_t sub_id_len;
    sub *su;                /* SUBSCRIBE: the pending subscription being checked */
    int64_t since;          /* SUBSCRIBE: x-since-offset (with since_epoch) */
    char *since_epoch;      /* SUBSCRIBE: x-since-epoch, or NULL when not asked */
    char *text;             /* SEND with a fileId: the trimmed message */
    size_t text_len;
    char *file_id;          /* SEND with a fileId */
} op;

/* New op for s (holds a reference) copying f's receipt header (f may be NULL). */
static op *op_new(sess *s, const stomp_frame *f)
{
    op *o = xcalloc(1, sizeof *o);
    o->s = s;
    o->gen = s->gen;
    sess_hold(s);
    size_t len;
    const char *r = f ? stomp_header_get(f, "receipt", &len) : NULL;
    if (r) {
        o->receipt = xstrndup(r, len);
        o->receipt_len = len;
    }
    return o;
}

/* Whether the reply still matters to the session. */
static bool op_live(const op *o)
{
    return o->s->state < SS_CLOSING && o->gen == o->s->gen;
}

/* Free o; when it was live the session resumes reading input. Drops o's reference,
 * so the session may be freed here. */
static void op_end(op *o)
{
    sess *s = o->s;
    bool live = op_live(o) && s->waiting;
    free(o->receipt);
    free(o->room);
    free(o->sub_id);
    free(o->since_epoch);
    free(o->text);
    free(o->file_id);
    free(o);
    if (live) sess_resume(s);
    sess_release(s);
}

static void op_error(op *o, chat_rc rc, const char *text)
{
    sess_error(o->s, rc, o->receipt, o->receipt_len, text);
}

/* ERROR for frame f (with its receipt-id). */
static void frame_error(sess *s, const stomp_frame *f, chat_rc rc, const char *text)
{
    size_t len;
    const char *r = stomp_header_get(f, "receipt", &len);
    sess_error(s, rc, r, len, text);
}

/* The session's token bucket (SEND_BURST, SEND_RATE), shared by SEND, SUBSCRIBE and
 * UNSUBSCRIBE: each costs one token. False (and ERROR rate-limited, which keeps the
 * session) when the bucket is empty. */
static bool rate_ok(sess *s, const stomp_frame *f)
{
    if (rl_take(&s->rl, &sess_config()->send_rate, mono_ms())) return true;
    if (f->cmd == STOMP_SEND) RM_ADD(rate_limited, 1);
    frame_error(s, f, CHAT_ERATE, "too many frames: this one was dropped");
    return false;
}

/* ---- CONNECT / STOMP ------------------------------------------------------------------- */

/* Highest of 1.2, 1.1, 1.0 listed in accept-version (comma separated), or 0. */
static int pick_version(const char *v, size_t len)
{
    int best = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && v[j] != ',') j++;
        size_t a = i, b = j;
        while (a < b && v[a] == ' ') a++;
        while (b > a && v[b - 1] == ' ') b--;
        if (b - a == 3 && v[a] == '1' && v[a + 1] == '.') {
            int minor = v[a + 2] - '0';
            if (minor >= 0 && minor <= 2 && 10 + minor > best) best = 10 + minor;
        }
        i = j + 1;
    }
    return best;
}

/* "cx,cy" in ms; values above a day are capped. 0 or -1 when malformed. */
static int parse_heartbeat(const char *v, size_t len, unsigned *cx, unsigned *cy)
{
    unsigned long long x[2] = {0, 0};
    int k = 0, digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] >= '0' && v[i] <= '9') {
            if (x[k] < 86400000ull) x[k] = x[k] * 10 + (unsigned)(v[i] - '0');
            digits++;
        } else if (v[i] == ',' && k == 0 && digits) {
            k = 1;
            digits = 0;
        } else if (v[i] != ' ') {
            return -1;
        }
    }
    if (k != 1 || !digits) return -1;
    *cx = (unsigned)(x[0] > 86400000ull ? 86400000ull : x[0]);
    *cy = (unsigned)(x[1] > 86400000ull ? 86400000ull : x[1]);
    return 0;
}

/* The token's user, from the store: the session is open, or the client is told why
 * not (Redis failure: unavailable; unknown token: unauthorized; logged out while
 * this was under way: revoked). */
static void auth_done(void *ud, chat_rc rc, const char *user_id, const char *name)
{
    op *o = ud;
    sess *s = o->s;
    if (!op_live(o)) goto done;
    if (rc == CHAT_EUNAUTH) {
        sess_error(s, CHAT_EUNAUTH, NULL, 0, "invalid or expired token");
        goto done;
    }
    if (rc != CHAT_OK) {
        sess_error_close(s, CHAT_EUNAVAIL, NULL, 0, "chat service unavailable, try again", "redis-unavailable");
        goto done;
    }
    if (s->revoked) {
        sess_error_close(s, CHAT_EUNAUTH, NULL, 0, "session revoked", "revoked");
        goto done;
    }
    s->user_id = xstrdup(user_id);
    s->user_name = xstrdup(name);
    s->state = SS_OPEN;
    s->last_rx = s->last_tx = mono_ms();
    rl_init(&s->rl, &sess_config()->send_rate, s->last_rx);

    char hb[32];
    const char *ver = s->version == 12 ? "1.2" : s->version == 11 ? "1.1" : "1.0";
    snprintf(hb, sizeof hb, "%u,%u", s->hb_out, s->hb_in);
    stomp_kv h[5] = {{"version", ver}, {"heart-beat", hb}, {"session", s->id},
                     {"server", SERVER_NAME}, {"user-name", s->user_id}};
    buf b;
    buf_init(&b, 0);
    stomp_write(&b, STOMP_CONNECTED, h, 5, NULL, 0);
    sess_queue(s, &b);
    buf_free(&b);
    log_info("connect", "session=%s user=%s peer=%s version=%s heart-beat=%s", s->id,
             s->user_id, s->peer, ver, hb);
done:
    op_end(o);
}

static void on_connect(sess *s, const stomp_frame *f)
{
    if (s->state != SS_NEW) {
        frame_error(s, f, CHAT_EPROTOCOL, "already connected");
        return;
    }
    size_t len;
    const char *v = stomp_header_get(f, "accept-version", &len);
    int version = v ? pick_version(v, len) : 10;
    if (!version) {
        frame_error(s, f, CHAT_EPROTOCOL, "supported protocol versions are 1.0, 1.1 and 1.2");
        return;
    }
    unsigned cx = 0, cy = 0, hb = sess_config()->heartbeat_ms;
    v = stomp_header_get(f, "heart-beat", &len);
    if (v && parse_heartbeat(v, len, &cx, &cy) != 0) {
        frame_error(s, f, CHAT_EPROTOCOL, "invalid heart-beat header");
        return;
    }
    const char *tok = stomp_header_get(f, "passcode", &len);
    if (!tok) {
        tok = stomp_header_get(f, "Authorization", &len);
        if (!tok) tok = stomp_header_get(f, "authorization", &len);
        if (tok && !token_from_bearer(tok, len, &tok, &len)) tok = NULL;
    }
    if (!tok || !token_wellformed(tok, len)) {
        frame_error(s, f, CHAT_EUNAUTH, tok ? "invalid or expired token" : "no token: send passcode or Authorization: Bearer");
        return;
    }
    token_hash(tok, len, s->token_hash);
    s->version = (uint8_t)version;
    if (s->parser) stomp_parser_set_raw_headers(s->parser, version == 10); /* 1.0: no escaping */
    s->hb_out = hb && cy ? (cy > hb ? cy : hb) : 0; /* we send at most this far apart */
    s->hb_in = hb && cx ? (cx > hb ? cx : hb) : 0;  /* the client promised this */

    op *o = op_new(s, NULL);
    if (sess_store()->user_by_token(s->token_hash, auth_done, o) != CHAT_OK) {
        op_end(o);
        sess_error_close(s, CHAT_EUNAVAIL, NULL, 0, "chat service unavailable, try again", "redis-unavailable");
        return;
    }
    s->state = SS_AUTH;
    sess_wait(s, o->receipt, o->receipt_len);
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ------------------------------------------------------------ */

/* SUBSCRIBE runs in this order, so that a REST leave racing it can never leave a
 * subscription behind (and nothing published meanwhile is lost):
 *   1. rooms_want: the room's channel is subscribed on this relay;
 *   2. sub_link: the subscription is linked in as pending (rooms.h): deliveries are
 *      held, a REST leave from now on marks it left;
 *   3. SISMEMBER: a leave before it answers 0, one after it is seen by step 2;
 *   4. sub_checked: RECEIPT, then the held messages, then live ones (or ERROR). */

/* Create the subscription o describes, pending, in the session and the room. */
static sub *sub_link(op *o)
{
    sess *s = o->s;
    buf p;
    buf_init(&p, 0);
    msg_sub_prefix(&p, o->sub_id, o->sub_id_len);
    sub *su = xcalloc(1, sizeof *su + o->sub_id_len + 1 + p.len);
    char *d = (char *)(su + 1);
    memcpy(d, o->sub_id, o->sub_id_len);
    d[o->sub_id_len] = '\0';
    memcpy(d + o->sub_id_len + 1, buf_data(&p), p.len);
    su->id = d;
    su->id_len = o->sub_id_len;
    su->prefix = d + o->sub_id_len + 1;
    su->prefix_len = p.len;
    su->sess = s;
    buf_free(&p);
    su->snext = s->subs;
    s->subs = su;
    s->nsubs++;
    rooms_attach(su, o->room, s->user_id, s->user_name, true);
    return su;
}

static void sub_checked(void *ud, chat_rc rc, const store_history *h);

/* Steps 2 and 3 (the channel is subscribed). True when o now waits for the check;
 * false when the client has been answered and the caller ends o. The check reads the
 * history after x-since-offset in the same step (one more than RECOVER_MAX, so that
 * "too many" shows). */
static bool sub_check(op *o)
{
    sess *s = o->s;
    o->su = sub_link(o);
    if (sess_store()->sub_check(o->room, s->user_id, o->since_epoch ? o->since : -1,
                                (size_t)sess_config()->recover_max + 1, sub_checked, o) == CHAT_OK)
        return true;
    sess_sub_free(s, o->su);
    op_error(o, CHAT_EUNAVAIL, "chat service unavailable, subscription not made");
    return false;
}

/* rooms_want's answer: the room's channel is subscribed here (or Redis went away). */
static void sub_room_ready(void *ud, chat_rc rc)
{
    op *o = ud;
    if (op_live(o)) {
        if (rc == CHAT_OK && sub_check(o)) return; /* o lives on */
        if (rc != CHAT_OK) op_error(o, CHAT_EUNAVAIL, "chat service unavailable, subscription not made");
    }
    op_end(o);
}

/* The RECEIPT of a SUBSCRIBE: x-epoch and x-offset always, x-recovered when the
 * client asked to recover. */
static void sub_receipt(op *o, const store_history *h, bool recovered)
{
    char off[24];
    snprintf(off, sizeof off, "%lld", (long long)h->offset);
    char *rid = xstrndup(o->receipt, o->receipt_len);
    stomp_kv kv[4] = {{"receipt-id", rid}, {"x-epoch", h->epoch}, {"x-offset", off},
                      {"x-recovered", recovered ? "true" : "false"}};
    buf b;
    buf_init(&b, 0);
    stomp_write(&b, STOMP_RECEIPT, kv, o->since_epoch ? 4 : 3, NULL, 0);
    sess_queue(o->s, &b);
    buf_free(&b);
    free(rid);
}

/* Whether the replay fits in the outgoing queue with room to spare; a larger one is
 * not attempted (the client fills the gap over REST instead). */
static bool replay_fits(const sess *s, const sub *su, const store_history *h)
{
    size_t bytes = 0;
    for (size_t i = 0; i < h->n; i++) bytes += su->prefix_len + h->lens[i] + 160;
    return bytes <= sess_config()->max_queue_bytes / 2;
}

/* The check answered: step 4. RECEIPT, the replay (when recovered), then the held
 * live messages that follow it. */
static void sub_checked(void *ud, chat_rc rc, const store_history *h)
{
    op *o = ud;
    sess *s = o->s;
    sub *su = o->su;
    if (!op_live(o)) {
        /* Given up (REDIS_TIMEOUT_MS): drop the pending subscription. A closing
         * session frees its subscriptions itself. */
        if (s->state < SS_CLOSING) sess_sub_free(s, su);
        goto done;
    }
    if (rc != CHAT_OK) {
        sess_sub_free(s, su);
        op_error(o, rc == CHAT_EFORBIDDEN ? CHAT_EFORBIDDEN : CHAT_EUNAVAIL,
                 rc == CHAT_EFORBIDDEN ? "not a member of this room"
                                       : "chat service unavailable, subscription not made");
        goto done;
    }
    bool recovered = false;
    if (o->since_epoch) {
        recover_in in = {.since = o->since, .since_epoch = o->since_epoch, .epoch = h->epoch,
                         .newest = h->offset, .offsets = h->offsets, .n = h->n,
                         .max = sess_config()->recover_max};
        bool complete = recover_ok(&in);
        recovered = complete && replay_fits(s, su, h);
        RM_ADD(recoveries[recovered ? RM_REC_RECOVERED
                          : complete ? RM_REC_TOO_LARGE
                          : strcmp(o->since_epoch, h->epoch ? h->epoch : "") != 0 ? RM_REC_EPOCH_CHANGED
                                                                                : RM_REC_INCOMPLETE], 1);
    }
    if (o->receipt) sub_receipt(o, h, recovered);
    if (su->left) {
        /* A member when checked, gone by now: as if it had been made and then ended by
         * the leave, like every live subscription of that user. */
        log_info("unsubscribe", "session=%s user=%s sub=%s reason=left-room", s->id, s->user_id,
                 log_q(0, su->id));
        sess_sub_free(s, su);
        goto done;
    }
    rooms_activate(su);
    if (recovered) {
        for (size_t i = 0; i < h->n; i++) {
            char mid[MSG_ID_MAX];
            msg_next_id(mid);
            msg_shared *m = msg_shared_new(o->room, strlen(o->room), mid, h->bodies[i], h->lens[i]);
            sess_sub_deliver(s, su, m);
            msg_shared_unref(m);
        }
    }
    sess_sub_release_held(s, su, recovered, h->offset);
    log_debug("subscribe", "session=%s user=%s room=%s sub=%s recovered=%s", s->id, s->user_id, o->room,
              log_q(0, su->id), o->since_epoch ? (recovered ? "true" : "false") : "-");
done:
    op_end(o);
}

/* x-since-offset / x-since-epoch of a SUBSCRIBE into o (both or neither). False when
 * they are malformed. */
static bool parse_since(op *o, const stomp_frame *f)
{
    size_t ol, el;
    const char *off = stomp_header_get(f, "x-since-offset", &ol);
    const char *ep = stomp_header_get(f, "x-since-epoch", &el);
    if (!off && !ep) return true;
    if (!off || !ep || ol == 0 || ol > 18 || el > 64) return false;
    int64_t v = 0;
    for (size_t i = 0; i < ol; i++) {
        if (off[i] < '0' || off[i] > '9') return false;
        v = v * 10 + (off[i] - '0');
    }
    for (size_t i = 0; i < el; i++)
        if (!((ep[i] >= 'a' && ep[i] <= 'z') || (ep[i] >= 'A' && ep[i] <= 'Z') || (ep[i] >= '0' && ep[i] <= '9') ||
              ep[i] == '_' || ep[i] == '-'))
            return false;
    o->since = v;
    o->since_epoch = xstrndup(ep, el);
    return true;
}

static void on_subscribe(sess *s, const stomp_frame *f)
{
    if (!rate_ok(s, f)) return;
    size_t dlen, idlen, alen;
    const char *dest = stomp_header_get(f, "destination", &dlen);
    const char *id = stomp_header_get(f, "id", &idlen);
    const char *ack = stomp_header_get(f, "ack", &alen);
    if (!id && s->version == 10) { /* 1.0: id optional; the destination names it */
        id = dest;
        idlen = dlen;
    }
    if (!dest || !id || idlen == 0) {
        frame_error(s, f, CHAT_EPROTOCOL, "SUBSCRIBE needs destination and id headers");
        return;
    }
    size_t plen = strlen(ROOM_DEST);
    if (dlen <= plen || memcmp(dest, ROOM_DEST, plen) != 0 || !valid_id(dest + plen, dlen - plen)) {
        frame_error(s, f, CHAT_ENOTFOUND, "unknown destination");
        return;
    }
    if (ack && !((alen == 4 && memcmp(ack, "auto", 4) == 0) ||
                 (alen == 6 && memcmp(ack, "client", 6) == 0) ||
                 (alen == 17 && memcmp(ack, "client-individual", 17) == 0))) {
        frame_error(s, f, CHAT_EPROTOCOL, "ack must be auto, client or client-individual");
        return;
    }
    if (sess_sub_find(s, id, idlen)) {
        frame_error(s, f, CHAT_EPROTOCOL, "subscription id already in use");
        return;
    }
    if (s->nsubs >= sess_config()->max_subs) {
        frame_error(s, f, CHAT_ETOOLARGE, "too many subscriptions");
        return;
    }
    op *o = op_new(s, f);
    if (!parse_since(o, f)) {
        op_error(o, CHAT_EPROTOCOL, "x-since-offset must be a number and x-since-epoch an epoch, both or neither");
        op_end(o);
        return;
    }
    o->room = xstrndup(dest + plen, dlen - plen);
    o->sub_id = xstrndup(id, idlen);
    o->sub_id_len = idlen;
    chat_rc rc = rooms_want(o->room, sub_room_ready, o);
    if (rc == CHAT_AGAIN || (rc == CHAT_OK && sub_check(o))) {
        sess_wait(s, o->receipt, o->receipt_len); /* sub_room_ready / sub_checked go on */
        return;
    }
    if (rc != CHAT_OK) op_error(o, CHAT_EUNAVAIL, "chat service unavailable, subscription not made");
    op_end(o);
}

static void on_unsubscribe(sess *s, const stomp_frame *f)
{
    if (!rate_ok(s, f)) return;
    size_t len;
    const char *id = stomp_header_get(f, "id", &len);
    if (!id && s->version == 10) id = stomp_header_get(f, "destination", &len);
    if (!id) {
        frame_error(s, f, CHAT_EPROTOCOL, "UNSUBSCRIBE needs an id header");
        return;
    }
    /* An unknown id is not an error: the subscription may have been ended by the
     * server (the user left the room) just before the client asked. */
    sub *su = sess_sub_find(s, id, len);
    if (su) sess_sub_free(s, su);
    sess_receipt_for(s, f);
}

/* ---- SEND -------------------------------------------------------------------------------- */

static void send_done(void *ud, chat_rc rc)
{
    op *o = ud;
    if (rc == CHAT_OK) RM_ADD(published, 1); /* published, whether or not the sender is still there */
    if (!op_live(o)) goto done;
    if (rc == CHAT_EFORBIDDEN) op_error(o, CHAT_EFORBIDDEN, "not a member of this room");
    else if (rc != CHAT_OK) op_error(o, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
    else if (o->receipt) sess_receipt(o->s, o->receipt, o->receipt_len);
done:
    op_end(o);
}

/* Validate the JSON body; on success *room, the trimmed text and *file_id (NULL when
 * the body has none) point into obj. With a fileId the message may be empty. */
static chat_rc send_parse(json_object *obj, const char **room, const char **text,
                          size_t *tlen, const char **file_id, char *why, size_t whylen)
{
    size_t rlen, mlen, flen;
    const char *problem;
    *room = json_get_str(obj, "roomId", &rlen);
    if (!*room || !valid_id(*room, rlen)) {
        snprintf(why, whylen, "roomId is missing or not a valid id");
        return CHAT_EINVALID;
    }
    json_object *fv = NULL;
    *file_id = NULL;
    if (json_object_object_get_ex(obj, "fileId", &fv) && !json_object_is_type(fv, json_type_null)) {
        *file_id = json_get_str(obj, "fileId", &flen);
        if (!*file_id || !valid_id(*file_id, flen)) {
            snprintf(why, whylen, "fileId is not a valid id");
            return CHAT_EINVALID;
        }
    }
    const char *m = json_get_str(obj, "message", &mlen);
    if (!m && *file_id && !json_object_object_get_ex(obj, "message", NULL)) m = "", mlen = 0;
    if (!m) {
        snprintf(why, whylen, "message is missing or not a string");
        return CHAT_EINVALID;
    }
    size_t min = *file_id ? 0 : 1;
    if (valid_text(m, mlen, min, MAX_MESSAGE_CP, VALID_ALLOW_NEWLINES, text, tlen, &problem) != CHAT_OK) {
        snprintf(why, whylen, "message %s (%zu to %d characters after trimming)", problem, min, MAX_MESSAGE_CP);
        return CHAT_EINVALID;
    }
    return CHAT_OK;
}

/* A SEND with a fileId, second step: the file record is here. It must belong to
 * the room and to the sender; then the FILE message goes the way of a CHAT one
 * (script_send: membership, offset, history, publish). */
static void send_file_got(void *ud, chat_rc rc, const char *room_id, const char *uploader_id, const char *json,
                          size_t json_len)
{
    op *o = ud;
    if (!op_live(o)) goto done;
    if (rc == CHAT_ENOTFOUND) {
        op_error(o, CHAT_ENOTFOUND, "no such file");
        goto done;
    }
    if (rc != CHAT_OK) {
        op_error(o, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
        goto done;
    }
    if (strcmp(room_id, o->room) != 0 || strcmp(uploader_id, o->s->user_id) != 0) {
        op_error(o, CHAT_EFORBIDDEN, "that file was not uploaded by you to this room");
        goto done;
    }
    json_object *doc = json_parse_object(json, json_len, &rc);
    if (!doc) {
        op_error(o, CHAT_EUNAVAIL, "the file's record is unreadable, message not sent");
        goto done;
    }
    json_object_put(doc);
    char id[MSG_ID_MAX];
    msg_next_id(id);
    msg_fields mf = {.type = "FILE", .id = id, .room_id = o->room, .sender_id = o->s->user_id,
                     .sender = o->s->user_name, .sender_len = strlen(o->s->user_name),
                     .text = o->text, .text_len = o->text_len, .ts = now_ms(), .file = json, .file_len = json_len};
    buf body;
    buf_init(&body, 0);
    msg_body(&body, &mf);
    rc = sess_store()->send(o->room, o->s->user_id, buf_data(&body), body.len, send_done, o);
    buf_free(&body);
    if (rc == CHAT_OK) return; /* o lives on until send_done */
    op_error(o, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
done:
    op_end(o);
}

static void on_send(sess *s, const stomp_frame *f)
{
    size_t dlen;
    const char *dest = stomp_header_get(f, "destination", &dlen);
    if (!dest) {
        frame_error(s, f, CHAT_EPROTOCOL, "SEND needs a destination header");
        return;
    }
    if (dlen != strlen(SEND_DEST) || memcmp(dest, SEND_DEST, dlen) != 0) {
        frame_error(s, f, CHAT_ENOTFOUND, "unknown destination");
        return;
    }
    if (!rate_ok(s, f)) return;
    if (!sess_store()->ready()) {
        frame_error(s, f, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
        return;
    }
    chat_rc rc;
    char why[128];
    const char *room, *text, *file_id;
    size_t tlen;
    json_object *obj = json_parse_object(f->body, f->body_len, &rc);
    if (!obj) {
        frame_error(s, f, CHAT_EINVALID, "body must be a JSON object {\"roomId\", \"message\"}");
        return;
    }
    if (send_parse(obj, &room, &text, &tlen, &file_id, why, sizeof why) != CHAT_OK) {
        json_object_put(obj);
        frame_error(s, f, CHAT_EINVALID, why);
        return;
    }
    if (file_id) {
        op *fo = op_new(s, f);
        fo->room = xstrdup(room);
        fo->text = xstrndup(text, tlen);
        fo->text_len = tlen;
        fo->file_id = xstrdup(file_id);
        json_object_put(obj); /* room, text and file_id point into it */
        if (sess_store()->file(fo->file_id, send_file_got, fo) != CHAT_OK) {
            op_error(fo, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
            op_end(fo);
            return;
        }
        sess_wait(s, fo->receipt, fo->receipt_len);
        return;
    }
    char id[MSG_ID_MAX];
    msg_next_id(id);
    msg_fields mf = {.type = "CHAT", .id = id, .room_id = room, .sender_id = s->user_id,
                     .sender = s->user_name, .sender_len = strlen(s->user_name),
                     .text = text, .text_len = tlen, .ts = now_ms()};
    buf body;
    buf_init(&body, 0);
    msg_body(&body, &mf);
    op *o = op_new(s, f);
    rc = sess_store()->send(room, s->user_id, buf_data(&body), body.len, send_done, o);
    json_object_put(obj); /* room points into it */
    buf_free(&body);
    if (rc != CHAT_OK) {
        op_error(o, CHAT_EUNAVAIL, "chat service unavailable, message not sent");
        op_end(o);
        return;
    }
    sess_wait(s, o->receipt, o->receipt_len);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

void cmd_dispatch(sess *s, const stomp_frame *f)
{
    if ((unsigned)f->cmd <= STOMP_CMD_UNKNOWN) RM_ADD(frames_in[f->cmd], 1);
    if (f->cmd == STOMP_CONNECT || f->cmd == STOMP_STOMP) {
        on_connect(s, f);
        return;
    }
    if (s->state != SS_OPEN) {
        frame_error(s, f, CHAT_EPROTOCOL, "the first frame must be CONNECT");
        return;
    }
    switch (f->cmd) {
    case STOMP_SEND: on_send(s, f); break;
    case STOMP_SUBSCRIBE: on_subscribe(s, f); break;
    case STOMP_UNSUBSCRIBE: on_unsubscribe(s, f); break;
    case STOMP_DISCONNECT:
        sess_receipt_for(s, f);
        sess_close(s, "client-disconnect");
        break;
    case STOMP_ACK:
    case STOMP_NACK: /* every subscription behaves as ack:auto */
        sess_receipt_for(s, f);
        break;
    case STOMP_BEGIN:
    case STOMP_COMMIT:
    case STOMP_ABORT:
        frame_error(s, f, CHAT_EPROTOCOL, "transactions not supported");
        break;
    case STOMP_CONNECTED:
    case STOMP_MESSAGE:
    case STOMP_RECEIPT:
    case STOMP_ERROR:
        frame_error(s, f, CHAT_EPROTOCOL, "that frame is sent by servers, not clients");
        break;
    default:
        frame_error(s, f, CHAT_EPROTOCOL, "unknown command");
        break;
    }
}
