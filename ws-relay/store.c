/* store.c - the relay_store over rds.c's two connections; see store.h.
 *
 * Each call keeps a small context (the caller's callback and data, plus whatever a
 * second round trip needs) until its reply comes, turns the reply into a chat_rc with
 * redis_reply_rc() and typed values, and calls back. Replies never leave this file. */
#include "store.h"
#include "keys.h"
#include "log.h"
#include "rds.h"
#include "redis.h"
#include "scripts.h"
#include "token.h"
#include "util.h"
#include "valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sc_send, sc_sub_check, sc_presence, sc_reassert;
static char history_size[24], backlog_max[24];
static unsigned timeout_ms;

void store_init(size_t hsize, size_t archive_backlog_max, unsigned redis_timeout_ms)
{
    timeout_ms = redis_timeout_ms;
    snprintf(history_size, sizeof history_size, "%zu", hsize);
    snprintf(backlog_max, sizeof backlog_max, "%zu", archive_backlog_max);
    sc_send = rds_script_add(hsize ? script_send : script_send_nohistory);
    sc_sub_check = rds_script_add(script_sub_check);
    sc_presence = rds_script_add(script_presence);
    sc_reassert = rds_script_add(script_presence_reassert);
}

typedef struct call {
    union {
        store_user_cb user;
        store_rc_cb rc;
        store_flags_cb flags;
        store_sub_cb sub;
    } cb;
    void *ud;
    size_t n;          /* flags calls: items asked about */
    char *user_id;     /* user_by_token: from the first reply */
} call;

static call *call_new(void *ud)
{
    call *c = xcalloc(1, sizeof *c);
    c->ud = ud;
    return c;
}

static void call_free(call *c)
{
    free(c->user_id);
    free(c);
}

/* Send a command / run a script for c; on failure c is freed and CHAT_EUNAVAIL
 * returned (the callback is never called). */
static chat_rc call_cmd(call *c, rds_reply_cb done, int argc, const char **argv, const size_t *lens)
{
    chat_rc rc = rds_cmd(done, c, argc, argv, lens);
    if (rc != CHAT_OK) call_free(c);
    return rc;
}

static chat_rc call_eval(call *c, int script, rds_reply_cb done, int nkeys, int argc, const char **argv,
                         const size_t *lens)
{
    chat_rc rc = rds_eval(script, done, c, nkeys, argc, argv, lens);
    if (rc != CHAT_OK) call_free(c);
    return rc;
}

/* The rc of a reply for a caller that only distinguishes "worked" from "Redis is not
 * usable": every failure is CHAT_EUNAVAIL (redis_reply_rc has logged the odd ones). */
static chat_rc usable(const redisReply *r, const char *what)
{
    return redis_reply_rc(r, what) == CHAT_OK ? CHAT_OK : CHAT_EUNAVAIL;
}

/* ---- user_by_token: GET session:{hash}, then HGET user:{id} name ------------------------- */

static void got_name(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "user-name");
    if (rc == CHAT_OK && r->type != REDIS_REPLY_STRING) rc = CHAT_EUNAUTH; /* the user is gone */
    c->cb.user(c->ud, rc, rc == CHAT_OK ? c->user_id : NULL, rc == CHAT_OK ? r->str : NULL);
    call_free(c);
}

static void got_session(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "session");
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_STRING || !valid_id(r->str, r->len))) rc = CHAT_EUNAUTH;
    if (rc == CHAT_OK) {
        c->user_id = xstrndup(r->str, r->len);
        char key[KEYS_MAX];
        size_t klen = keys_user(key, sizeof key, c->user_id);
        const char *argv[3] = {"HGET", key, "name"};
        size_t lens[3] = {4, klen, 4};
        if (rds_cmd(got_name, c, 3, argv, lens) == CHAT_OK) return; /* c lives on */
        rc = CHAT_EUNAVAIL;
    }
    c->cb.user(c->ud, rc, NULL, NULL);
    call_free(c);
}

static chat_rc user_by_token(const char *token_hash, store_user_cb cb, void *ud)
{
    char key[KEYS_MAX];
    size_t klen = keys_session(key, sizeof key, token_hash);
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, klen};
    call *c = call_new(ud);
    c->cb.user = cb;
    return call_cmd(c, got_session, 2, argv, lens);
}

/* ---- sub_check, send ------------------------------------------------------------------------ */

/* The sub_check reply: -1, or {epoch, offset, (offset, body)...}. */
static void got_sub_check(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "sub-check");
    if (rc == CHAT_OK && r->type == REDIS_REPLY_INTEGER && r->integer == -1) rc = CHAT_EFORBIDDEN;
    else if (rc == CHAT_OK && (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->elements % 2 != 0 ||
                               r->element[0]->type != REDIS_REPLY_STRING ||
                               r->element[1]->type != REDIS_REPLY_INTEGER))
        rc = CHAT_EUNAVAIL;
    if (rc != CHAT_OK) {
        c->cb.sub(c->ud, rc, NULL);
        call_free(c);
        return;
    }
    size_t n = (r->elements - 2) / 2;
    int64_t *offsets = xcalloc(n ? n : 1, sizeof *offsets);
    const char **bodies = xcalloc(n ? n : 1, sizeof *bodies);
    size_t *lens = xcalloc(n ? n : 1, sizeof *lens);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *o = r->element[2 + 2 * i], *b = r->element[3 + 2 * i];
        if (o->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_STRING) continue;
        offsets[k] = o->integer;
        bodies[k] = b->str;
        lens[k] = b->len;
        k++;
    }
    store_history h = {.epoch = r->element[0]->str, .offset = r->element[1]->integer, .n = k,
                       .offsets = offsets, .bodies = bodies, .lens = lens};
    c->cb.sub(c->ud, CHAT_OK, &h);
    free(offsets);
    free(bodies);
    free(lens);
    call_free(c);
}

static chat_rc sub_check(const char *room, const char *user, int64_t after, size_t max,
                         store_sub_cb cb, void *ud)
{
    char members[KEYS_MAX], epoch[KEYS_MAX], seq[KEYS_MAX], hist[KEYS_MAX], a[24], m[24];
    size_t ml = keys_room_members(members, sizeof members, room);
    size_t el = keys_room_epoch(epoch, sizeof epoch, room);
    size_t sl = keys_room_seq(seq, sizeof seq, room);
    size_t hl = keys_room_history(hist, sizeof hist, room);
    snprintf(a, sizeof a, "%lld", (long long)(after < 0 ? -1 : after));
    snprintf(m, sizeof m, "%zu", max);
    const char *argv[7] = {members, epoch, seq, hist, user, a, m};
    size_t lens[7] = {ml, el, sl, hl, strlen(user), strlen(a), strlen(m)};
    call *c = call_new(ud);
    c->cb.sub = cb;
    return call_eval(c, sc_sub_check, got_sub_check, 4, 7, argv, lens);
}

static void sent(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "send");
    if (rc == CHAT_OK && r->type == REDIS_REPLY_INTEGER && r->integer == -1) rc = CHAT_EFORBIDDEN;
    else if (rc == CHAT_OK && r->type != REDIS_REPLY_ARRAY) rc = CHAT_EUNAVAIL; /* -2: too late */
    c->cb.rc(c->ud, rc);
    call_free(c);
}

static chat_rc send_msg(const char *room, const char *user, const char *body, size_t len,
                        store_rc_cb cb, void *ud)
{
    char members[KEYS_MAX], chan[KEYS_MAX], seq[KEYS_MAX], epoch[KEYS_MAX], hist[KEYS_MAX], feed[KEYS_MAX], e[17],
        dl[24];
    size_t mlen = keys_room_members(members, sizeof members, room);
    size_t clen = keys_chan_room(chan, sizeof chan, room);
    size_t sl = keys_room_seq(seq, sizeof seq, room);
    size_t el = keys_room_epoch(epoch, sizeof epoch, room);
    size_t hl = keys_room_history(hist, sizeof hist, room);
    size_t fl = keys_archive_feed(feed, sizeof feed);
    token_id(e, 16); /* used only when the room's history starts (again) */
    e[16] = '\0';
    /* The relay gives up on the reply REDIS_TIMEOUT_MS from now (session.c's sweep):
     * Redis must not run it later. Wall clocks of the relay's and Redis' hosts are
     * assumed to agree within that margin (NTP). */
    snprintf(dl, sizeof dl, "%lld", (long long)(now_ms() + timeout_ms));
    const char *argv[12] = {members, chan, seq, epoch, hist, feed, user, body, history_size, e, dl, backlog_max};
    size_t lens[12] = {mlen, clen, sl, el, hl, fl, strlen(user), len, strlen(history_size), 16, strlen(dl),
                       strlen(backlog_max)};
    call *c = call_new(ud);
    c->cb.rc = cb;
    return call_eval(c, sc_send, sent, 6, 12, argv, lens);
}

/* ---- presence --------------------------------------------------------------------------- */

static void presence_done(const redisReply *r, void *ud)
{
    (void)ud;
    if (!r) log_warn("presence", "problem=\"redis connection lost; JOIN/LEAVE may be missing\"");
    else (void)redis_reply_rc(r, "presence");
}

static chat_rc presence(const char *room, const char *user, int delta, const char *body, size_t len)
{
    char online[KEYS_MAX], chan[KEYS_MAX];
    size_t olen = keys_room_online(online, sizeof online, room);
    size_t clen = keys_chan_room(chan, sizeof chan, room);
    const char *d = delta > 0 ? "1" : "-1";
    const char *argv[5] = {online, chan, user, d, body};
    size_t lens[5] = {olen, clen, strlen(user), strlen(d), len};
    return rds_eval(sc_presence, presence_done, NULL, 2, 5, argv, lens);
}

static void reassert_done(const redisReply *r, void *ud)
{
    (void)ud;
    if (r) (void)redis_reply_rc(r, "presence-reassert");
}

static chat_rc presence_reassert(const char *room, const char *user)
{
    char online[KEYS_MAX];
    size_t olen = keys_room_online(online, sizeof online, room);
    const char *argv[2] = {online, user};
    size_t lens[2] = {olen, strlen(user)};
    return rds_eval(sc_reassert, reassert_done, NULL, 1, 2, argv, lens);
}

/* ---- channels ------------------------------------------------------------------------------ */

static chat_rc room_subscribe(const char *room)
{
    char chan[KEYS_MAX];
    size_t n = keys_chan_room(chan, sizeof chan, room);
    return rds_subscribe(chan, n);
}

static chat_rc room_unsubscribe(const char *room)
{
    char chan[KEYS_MAX];
    size_t n = keys_chan_room(chan, sizeof chan, room);
    return rds_unsubscribe(chan, n);
}

void store_subscribe_fixed(void)
{
    char chan[KEYS_MAX];
    size_t n = keys_chan_revoked(chan, sizeof chan);
    rds_subscribe(chan, n);
    n = keys_chan_left(chan, sizeof chan);
    rds_subscribe(chan, n);
}

/* ---- re-checks after an outage: MGET, SMISMEMBER ----------------------------------------- */

/* An array reply of c->n elements into flags: alive(element). */
static void got_flags(const redisReply *r, void *ud, bool (*alive)(const redisReply *e), const char *what)
{
    call *c = ud;
    chat_rc rc = usable(r, what);
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_ARRAY || r->elements != c->n)) rc = CHAT_EUNAVAIL;
    bool *flags = NULL;
    if (rc == CHAT_OK) {
        flags = xcalloc(c->n ? c->n : 1, sizeof *flags);
        for (size_t i = 0; i < c->n; i++) flags[i] = alive(r->element[i]);
    }
    c->cb.flags(c->ud, rc, flags, rc == CHAT_OK ? c->n : 0);
    free(flags);
    call_free(c);
}

static bool not_nil(const redisReply *e) { return e->type != REDIS_REPLY_NIL; }
static bool is_one(const redisReply *e) { return e->type == REDIS_REPLY_INTEGER && e->integer == 1; }
static void got_tokens(const redisReply *r, void *ud) { got_flags(r, ud, not_nil, "tokens-alive"); }
static void got_members(const redisReply *r, void *ud) { got_flags(r, ud, is_one, "members"); }

/* Send argv[0..n+first) (command words first) with a flags call. */
static chat_rc flags_cmd(rds_reply_cb done, const char **argv, const size_t *lens, int argc, size_t n,
                         store_flags_cb cb, void *ud)
{
    call *c = call_new(ud);
    c->cb.flags = cb;
    c->n = n;
    return call_cmd(c, done, argc, argv, lens);
}

static chat_rc tokens_alive(const char *const *hashes, size_t n, store_flags_cb cb, void *ud)
{
    const char **argv = xmalloc((n + 1) * sizeof *argv);
    size_t *lens = xmalloc((n + 1) * sizeof *lens);
    char (*keys)[KEYS_MAX] = xmalloc((n ? n : 1) * sizeof *keys);
    argv[0] = "MGET";
    lens[0] = 4;
    for (size_t i = 0; i < n; i++) {
        lens[i + 1] = keys_session(keys[i], KEYS_MAX, hashes[i]);
        argv[i + 1] = keys[i];
    }
    chat_rc rc = flags_cmd(got_tokens, argv, lens, (int)n + 1, n, cb, ud);
    free(keys);
    free(lens);
    free(argv);
    return rc;
}

static chat_rc members(const char *room, const char *const *users, size_t n, store_flags_cb cb, void *ud)
{
    char key[KEYS_MAX];
    const char **argv = xmalloc((n + 2) * sizeof *argv);
    size_t *lens = xmalloc((n + 2) * sizeof *lens);
    argv[0] = "SMISMEMBER";
    lens[0] = 10;
    lens[1] = keys_room_members(key, sizeof key, room);
    argv[1] = key;
    for (size_t i = 0; i < n; i++) {
        argv[i + 2] = users[i];
        lens[i + 2] = strlen(users[i]);
    }
    chat_rc rc = flags_cmd(got_members, argv, lens, (int)n + 2, n, cb, ud);
    free(lens);
    free(argv);
    return rc;
}

/* ---- the table ------------------------------------------------------------------------------ */

static const relay_store redis_store = {
    .ready = rds_cmd_ready,
    .sub_ready = rds_sub_ready,
    .user_by_token = user_by_token,
    .sub_check = sub_check,
    .send = send_msg,
    .presence = presence,
    .presence_reassert = presence_reassert,
    .room_subscribe = room_subscribe,
    .room_unsubscribe = room_unsubscribe,
    .tokens_alive = tokens_alive,
    .members = members,
};

const relay_store *store_redis(void) { return &redis_store; }
