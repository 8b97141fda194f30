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

static int sc_send, sc_sub_check, sc_presence, sc_reassert, sc_alive, sc_sweep, sc_gone;
static char history_size[24], backlog_max[24];
static unsigned timeout_ms;
static char self_id[17];
static char ttl_str[24];

void store_init(size_t hsize, size_t archive_backlog_max, unsigned redis_timeout_ms, const char *relay_id,
                unsigned ttl_ms)
{
    timeout_ms = redis_timeout_ms;
    snprintf(history_size, sizeof history_size, "%zu", hsize);
    snprintf(backlog_max, sizeof backlog_max, "%zu", archive_backlog_max);
    snprintf(self_id, sizeof self_id, "%s", relay_id);
    /* A registration lasts 3/4 of PRESENCE_TTL (registry.h says why). */
    snprintf(ttl_str, sizeof ttl_str, "%u", ttl_ms - ttl_ms / 4);
    sc_send = rds_script_add(hsize ? script_send : script_send_nohistory);
    sc_sub_check = rds_script_add(script_sub_check);
    sc_presence = rds_script_add(script_presence);
    sc_reassert = rds_script_add(script_presence_reassert);
    sc_alive = rds_script_add(script_relay_alive);
    sc_sweep = rds_script_add(script_relay_sweep);
    sc_gone = rds_script_add(script_relay_gone);
}

typedef struct call {
    union {
        store_user_cb user;
        store_rc_cb rc;
        store_flags_cb flags;
        store_sub_cb sub;
        store_file_cb file;
        store_alive_cb alive;
        store_holds_cb holds;
        store_int_cb num;
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

/* ---- file: HMGET file:{id} roomId uploaderId json ---------------------------------------- */

static void got_file(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "file");
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_ARRAY || r->elements != 3)) rc = CHAT_EUNAVAIL;
    if (rc == CHAT_OK) {
        redisReply **e = r->element;
        if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING || e[2]->type != REDIS_REPLY_STRING)
            rc = CHAT_ENOTFOUND;
        else
            c->cb.file(c->ud, CHAT_OK, e[0]->str, e[1]->str, e[2]->str, e[2]->len);
    }
    if (rc != CHAT_OK) c->cb.file(c->ud, rc, NULL, NULL, NULL, 0);
    call_free(c);
}

static chat_rc file_get(const char *file_id, store_file_cb cb, void *ud)
{
    char key[KEYS_MAX];
    size_t klen = keys_file(key, sizeof key, file_id);
    const char *argv[5] = {"HMGET", key, "roomId", "uploaderId", "json"};
    size_t lens[5] = {5, klen, 6, 10, 4};
    call *c = call_new(ud);
    c->cb.file = cb;
    return call_cmd(c, got_file, 5, argv, lens);
}

/* ---- presence --------------------------------------------------------------------------- */

static void presence_done(const redisReply *r, void *ud)
{
    (void)ud;
    if (!r) log_warn("presence", "problem=\"redis connection lost; JOIN/LEAVE may be missing\"");
    else (void)redis_reply_rc(r, "presence");
}

/* The holds field "{room} {user}" into f (KEYS_MAX bytes); its length. */
static size_t holds_field(char *f, const char *room, const char *user)
{
    int n = snprintf(f, KEYS_MAX, "%s %s", room, user);
    return n > 0 && n < KEYS_MAX ? (size_t)n : 0;
}

static chat_rc presence(const char *room, const char *user, const char *name, int delta,
                        const char *body, size_t len)
{
    char online[KEYS_MAX], chan[KEYS_MAX], holds[KEYS_MAX], relays[KEYS_MAX], field[KEYS_MAX];
    size_t olen = keys_room_online(online, sizeof online, room);
    size_t clen = keys_chan_room(chan, sizeof chan, room);
    size_t hlen = keys_relay_holds(holds, sizeof holds, self_id);
    size_t rlen = keys_relays(relays, sizeof relays);
    size_t flen = holds_field(field, room, user);
    const char *d = delta > 0 ? "1" : "-1";
    const char *argv[11] = {online, chan, holds, relays, user, d, body, field, name, self_id, ttl_str};
    size_t lens[11] = {olen, clen, hlen, rlen, strlen(user), strlen(d), len, flen, strlen(name),
                       strlen(self_id), strlen(ttl_str)};
    return rds_eval(sc_presence, presence_done, NULL, 4, 11, argv, lens);
}

static void reassert_done(const redisReply *r, void *ud)
{
    (void)ud;
    if (r) (void)redis_reply_rc(r, "presence-reassert");
}

static chat_rc presence_reassert(const char *room, const char *user, const char *name,
                                 const char *body, size_t len)
{
    char online[KEYS_MAX], chan[KEYS_MAX], holds[KEYS_MAX], field[KEYS_MAX];
    size_t olen = keys_room_online(online, sizeof online, room);
    size_t clen = keys_chan_room(chan, sizeof chan, room);
    size_t hlen = keys_relay_holds(holds, sizeof holds, self_id);
    size_t flen = holds_field(field, room, user);
    const char *argv[7] = {online, chan, holds, user, field, name, body};
    size_t lens[7] = {olen, clen, hlen, strlen(user), flen, strlen(name), len};
    return rds_eval(sc_reassert, reassert_done, NULL, 3, 7, argv, lens);
}

/* ---- the relay registry --------------------------------------------------------------------- */

#define DEAD_MAX "16" /* expired relays named per refresh; the rest come next time */

static void got_alive(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "relay-alive");
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
                          r->element[0]->type != REDIS_REPLY_INTEGER))
        rc = CHAT_EUNAVAIL;
    if (rc != CHAT_OK) {
        c->cb.alive(c->ud, rc, false, NULL, 0);
        call_free(c);
        return;
    }
    size_t n = 0;
    const char **dead = xcalloc(r->elements, sizeof *dead);
    for (size_t i = 1; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && valid_id(e->str, e->len)) dead[n++] = e->str;
    }
    c->cb.alive(c->ud, CHAT_OK, r->element[0]->integer == 1, dead, n);
    free(dead);
    call_free(c);
}

static chat_rc relay_alive(store_alive_cb cb, void *ud)
{
    char relays[KEYS_MAX];
    size_t rl = keys_relays(relays, sizeof relays);
    const char *argv[4] = {relays, self_id, ttl_str, DEAD_MAX};
    size_t lens[4] = {rl, strlen(self_id), strlen(ttl_str), strlen(DEAD_MAX)};
    call *c = call_new(ud);
    c->cb.alive = cb;
    return call_eval(c, sc_alive, got_alive, 1, 4, argv, lens);
}

static void got_holdings(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "relay-holdings");
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)) rc = CHAT_EUNAVAIL;
    if (rc != CHAT_OK) {
        c->cb.holds(c->ud, rc, NULL, NULL, 0);
        call_free(c);
        return;
    }
    size_t n = 0, cap = r->elements / 2 + 1;
    const char **fields = xcalloc(cap, sizeof *fields), **names = xcalloc(cap, sizeof *names);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        fields[n] = f->str;
        names[n] = v->str;
        n++;
    }
    c->cb.holds(c->ud, CHAT_OK, fields, names, n);
    free(fields);
    free(names);
    call_free(c);
}

static chat_rc relay_holdings(const char *id, store_holds_cb cb, void *ud)
{
    char holds[KEYS_MAX];
    size_t hl = keys_relay_holds(holds, sizeof holds, id);
    const char *argv[2] = {"HGETALL", holds};
    size_t lens[2] = {7, hl};
    call *c = call_new(ud);
    c->cb.holds = cb;
    return call_cmd(c, got_holdings, 2, argv, lens);
}

static void got_num(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "relay-registry");
    if (rc == CHAT_OK && r->type != REDIS_REPLY_INTEGER) rc = CHAT_EUNAVAIL;
    if (c->cb.num) c->cb.num(c->ud, rc, rc == CHAT_OK ? r->integer : 0);
    call_free(c);
}

static chat_rc relay_sweep(const char *id, const char *const *rooms, size_t nrooms,
                           const char *const *fields, const char *const *bodies,
                           const size_t *blens, size_t n, store_int_cb cb, void *ud)
{
    size_t nkeys = 2 + 2 * nrooms, argc = nkeys + 2 + nrooms + 2 * n;
    const char **argv = xcalloc(argc, sizeof *argv);
    size_t *lens = xcalloc(argc, sizeof *lens);
    char (*keys)[KEYS_MAX] = xcalloc(nkeys, sizeof *keys);
    char nr[24];
    snprintf(nr, sizeof nr, "%zu", nrooms);
    lens[0] = keys_relays(keys[0], KEYS_MAX);
    lens[1] = keys_relay_holds(keys[1], KEYS_MAX, id);
    for (size_t i = 0; i < nrooms; i++) {
        lens[2 + 2 * i] = keys_room_online(keys[2 + 2 * i], KEYS_MAX, rooms[i]);
        lens[3 + 2 * i] = keys_chan_room(keys[3 + 2 * i], KEYS_MAX, rooms[i]);
    }
    for (size_t i = 0; i < nkeys; i++) argv[i] = keys[i];
    size_t k = nkeys;
    argv[k] = id, lens[k++] = strlen(id);
    argv[k] = nr, lens[k++] = strlen(nr);
    for (size_t i = 0; i < nrooms; i++) argv[k] = rooms[i], lens[k++] = strlen(rooms[i]);
    for (size_t i = 0; i < n; i++) {
        argv[k] = fields[i], lens[k++] = strlen(fields[i]);
        argv[k] = bodies[i], lens[k++] = blens[i];
    }
    call *c = call_new(ud);
    c->cb.num = cb;
    chat_rc rc = call_eval(c, sc_sweep, got_num, (int)nkeys, (int)argc, argv, lens);
    free(keys);
    free(lens);
    free(argv);
    return rc;
}

/* A reply that only says "done": CHAT_OK for any non-error reply. */
static void got_rc_any(const redisReply *r, void *ud)
{
    call *c = ud;
    chat_rc rc = usable(r, "relay-gone");
    if (c->cb.rc) c->cb.rc(c->ud, rc);
    call_free(c);
}

static chat_rc relay_gone(store_rc_cb cb, void *ud)
{
    char relays[KEYS_MAX], holds[KEYS_MAX];
    size_t rl = keys_relays(relays, sizeof relays);
    size_t hl = keys_relay_holds(holds, sizeof holds, self_id);
    const char *argv[3] = {relays, holds, self_id};
    size_t lens[3] = {rl, hl, strlen(self_id)};
    call *c = call_new(ud);
    c->cb.rc = cb;
    return call_eval(c, sc_gone, got_rc_any, 2, 3, argv, lens);
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
    .file = file_get,
    .presence = presence,
    .presence_reassert = presence_reassert,
    .relay_alive = relay_alive,
    .relay_holdings = relay_holdings,
    .relay_sweep = relay_sweep,
    .relay_gone = relay_gone,
    .room_subscribe = room_subscribe,
    .room_unsubscribe = room_unsubscribe,
    .tokens_alive = tokens_alive,
    .members = members,
};

const relay_store *store_redis(void) { return &redis_store; }
