/* rooms.c - room -> local subscriptions index, channel (un)subscription, fan-out and
 * JOIN/LEAVE presence; see rooms.h.
 *
 * A room's Redis channel state is kept as "what we last asked for" (asked) and how
 * many SUBSCRIBE/UNSUBSCRIBE confirmations are still to come (inflight); Redis answers
 * in order, so the room is subscribed exactly when asked && inflight == 0. A room
 * struct lives while anything wants it (subscriptions, waiters, walks) or a
 * confirmation is outstanding, so a quick unsubscribe/subscribe of the same room can
 * never confuse two generations of it.
 *
 * Walks over a room's list (fan-out, REST leave) hold the room so that a subscription
 * ending in the middle cannot free it under the walk. */
#include "rooms.h"
#include "buf.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "rds.h"
#include "strmap.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct room_user {
    unsigned count;        /* this relay's live subscriptions of the user to the room */
    char *name;
    char id[];             /* key in room->users */
} room_user;

typedef struct waiter {
    struct waiter *next;
    rooms_ready_cb cb;
    void *ud;
} waiter;

typedef struct room {
    sub *subs;             /* attached subscriptions */
    size_t nsubs;
    strmap users;          /* user id -> room_user */
    waiter *waiters;       /* rooms_want callers waiting for the SUBSCRIBE confirmation */
    unsigned holds;        /* walks in progress */
    unsigned inflight;     /* SUBSCRIBE/UNSUBSCRIBE not yet confirmed */
    bool asked;            /* the last command sent for the channel was SUBSCRIBE */
    char chan[KEYS_MAX];   /* the Redis channel */
    size_t chan_len;
    char id[];             /* the room id, key in the index */
} room;

static strmap rooms_idx = STRMAP_INIT;
static rooms_hooks hooks;
static int script_presence, script_reassert;

/* KEYS[1] online hash, KEYS[2] room channel; ARGV[1] user id, ARGV[2] +1 or -1,
 * ARGV[3] the JOIN or LEAVE body. Publishes only when the total crosses 0 <-> 1; a
 * count that would go negative (state lost, e.g. Redis restarted) is removed quietly. */
static const char presence_lua[] =
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])\n"
    "if tonumber(ARGV[2]) > 0 then\n"
    "  if n == 1 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end\n"
    "elseif n <= 0 then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "  if n == 0 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end\n"
    "end\n"
    "return n\n";

/* After a Redis outage: count the user as present if Redis forgot them (no JOIN). */
static const char reassert_lua[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then\n"
    "  redis.call('HSET', KEYS[1], ARGV[1], 1)\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

void rooms_init(const rooms_hooks *h)
{
    hooks = *h;
    script_presence = rds_script_add(presence_lua);
    script_reassert = rds_script_add(reassert_lua);
}

size_t rooms_count(void) { return rooms_idx.count; }

/* ---- the room life cycle ----------------------------------------------------------- */

static room *room_find(const char *id, size_t len)
{
    return strmap_get(&rooms_idx, id, len);
}

static room *room_get(const char *id)
{
    size_t len = strlen(id);
    room *r = room_find(id, len);
    if (r) return r;
    r = xcalloc(1, sizeof *r + len + 1);
    memcpy(r->id, id, len + 1);
    r->chan_len = keys_chan_room(r->chan, sizeof r->chan, id);
    strmap_put(&rooms_idx, r->id, len, r);
    return r;
}

static bool room_wanted(const room *r) { return r->nsubs || r->waiters || r->holds; }
static bool room_ready(const room *r) { return r->asked && r->inflight == 0; }

/* Bring the channel in line with whether the room is wanted, and free the room when
 * nothing refers to it any more. r may be freed: do not use it afterwards. */
static void room_sync(room *r)
{
    bool want = room_wanted(r);
    if (want && !r->asked) {
        if (rds_subscribe(r->chan, r->chan_len) == CHAT_OK) {
            r->asked = true;
            r->inflight++;
        } /* else: down; rooms_resubscribe() will ask again */
    } else if (!want && r->asked) {
        if (rds_unsubscribe(r->chan, r->chan_len) == CHAT_OK) r->inflight++;
        r->asked = false;
    }
    if (!room_wanted(r) && !r->asked && r->inflight == 0) {
        strmap_del(&rooms_idx, r->id, strlen(r->id));
        strmap_free(&r->users);
        free(r);
    }
}

/* Call every waiter with rc (the list is taken first; callbacks may add new waiters
 * or attach subscriptions), then sync. r may be freed afterwards. */
static void room_finish_waiters(room *r, chat_rc rc)
{
    waiter *w = r->waiters, *next;
    r->waiters = NULL;
    r->holds++;
    for (; w; w = next) {
        next = w->next;
        w->cb(w->ud, rc);
        free(w);
    }
    r->holds--;
    room_sync(r);
}

chat_rc rooms_want(const char *room_id, rooms_ready_cb cb, void *ud)
{
    if (!rds_sub_ready()) return CHAT_EUNAVAIL;
    room *r = room_get(room_id);
    if (room_ready(r)) return CHAT_OK;
    waiter *w = xmalloc(sizeof *w);
    w->cb = cb;
    w->ud = ud;
    w->next = r->waiters;
    r->waiters = w;
    room_sync(r);
    return CHAT_AGAIN;
}

/* ---- presence ------------------------------------------------------------------------ */

static void presence_reply(const redisReply *r, void *ud)
{
    (void)ud;
    if (!r) log_warn("presence", "problem=\"redis connection lost; JOIN/LEAVE may be missing\"");
    else if (r->type == REDIS_REPLY_ERROR) log_error("presence", "problem=%s", log_q(0, r->str));
}

/* Run the presence script for ru in r: delta +1 (JOIN) or -1 (LEAVE). */
static void presence(room *r, room_user *ru, int delta)
{
    char online[KEYS_MAX], id[MSG_ID_MAX];
    buf body, text;
    buf_init(&body, 0);
    buf_init(&text, 0);
    buf_printf(&text, "%s %s", ru->name, delta > 0 ? "joined" : "left");
    msg_next_id(id);
    msg_fields f = {
        .type = delta > 0 ? "JOIN" : "LEAVE", .id = id, .room_id = r->id, .sender_id = ru->id,
        .sender = ru->name, .sender_len = strlen(ru->name),
        .text = buf_data(&text), .text_len = text.len, .ts = now_ms(),
    };
    msg_body(&body, &f);
    size_t olen = keys_room_online(online, sizeof online, r->id);
    const char *d = delta > 0 ? "1" : "-1";
    const char *argv[5] = {online, r->chan, ru->id, d, buf_data(&body)};
    size_t lens[5] = {olen, r->chan_len, strlen(ru->id), strlen(d), body.len};
    if (rds_eval(script_presence, presence_reply, NULL, 2, 5, argv, lens) != CHAT_OK)
        log_warn("presence", "room=%s user=%s type=%s problem=\"redis unavailable\"", r->id,
                 ru->id, f.type);
    buf_free(&body);
    buf_free(&text);
}

void rooms_attach(sub *su, const char *room_id, const char *user_id, const char *name)
{
    room *r = room_get(room_id);
    su->room = r;
    su->rprev = NULL;
    su->rnext = r->subs;
    if (r->subs) r->subs->rprev = su;
    r->subs = su;
    r->nsubs++;
    RM_ADD(subscriptions, 1);
    size_t ulen = strlen(user_id);
    room_user *ru = strmap_get(&r->users, user_id, ulen);
    if (!ru) {
        ru = xcalloc(1, sizeof *ru + ulen + 1);
        memcpy(ru->id, user_id, ulen + 1);
        ru->name = xstrdup(name);
        strmap_put(&r->users, ru->id, ulen, ru);
    }
    su->ru = ru;
    if (++ru->count == 1) presence(r, ru, +1);
}

void rooms_detach(sub *su)
{
    room *r = su->room;
    if (!r) return;
    if (su->rprev) su->rprev->rnext = su->rnext;
    else r->subs = su->rnext;
    if (su->rnext) su->rnext->rprev = su->rprev;
    su->rprev = su->rnext = NULL;
    su->room = NULL;
    r->nsubs--;
    RM_ADD(subscriptions, -1);
    room_user *ru = su->ru;
    su->ru = NULL;
    if (--ru->count == 0) {
        presence(r, ru, -1);
        strmap_del(&r->users, ru->id, strlen(ru->id));
        free(ru->name);
        free(ru);
    }
    if (!r->holds) room_sync(r); /* a walk in progress syncs when it ends */
}

/* ---- Pub/Sub events ------------------------------------------------------------------ */

void rooms_on_message(const char *room_id, size_t id_len, const char *body, size_t len)
{
    room *r = room_find(room_id, id_len);
    if (!r || !r->subs) return;
    char mid[MSG_ID_MAX];
    msg_next_id(mid);
    msg_shared *m = msg_shared_new(r->id, strlen(r->id), mid, body, len);
    r->holds++;
    for (sub *su = r->subs, *next; su; su = next) {
        next = su->rnext;
        hooks.deliver(su, m);
    }
    r->holds--;
    msg_shared_unref(m);
    if (rm_on) {
        int64_t ts = rm_body_ts(body, len);
        if (ts > 0) rm_observe(&rm.deliver_latency, (now_ms() - ts) * 1000);
    }
    room_sync(r);
}

static room *room_by_chan(const char *chan, size_t len)
{
    const char *id;
    size_t n = keys_chan_room_id(chan, len, &id);
    return n ? room_find(id, n) : NULL;
}

void rooms_on_subscribed(const char *chan, size_t len)
{
    room *r = room_by_chan(chan, len);
    if (!r) return;
    if (r->inflight) r->inflight--;
    if (room_ready(r) && r->waiters) room_finish_waiters(r, CHAT_OK);
    else room_sync(r);
}

void rooms_on_unsubscribed(const char *chan, size_t len)
{
    room *r = room_by_chan(chan, len);
    if (!r) return;
    if (r->inflight) r->inflight--;
    room_sync(r);
}

/* Collect every room (the walk must not see the index change), holding each. */
static room **rooms_snapshot(size_t *n)
{
    room **all = xmalloc((rooms_idx.count + 1) * sizeof *all);
    size_t slot = 0, k = 0;
    strmap_ent *cur = NULL;
    while (strmap_next(&rooms_idx, &slot, &cur)) {
        all[k] = cur->val;
        all[k]->holds++;
        k++;
    }
    *n = k;
    return all;
}

void rooms_on_sub_down(void)
{
    size_t n;
    room **all = rooms_snapshot(&n);
    for (size_t i = 0; i < n; i++) {
        all[i]->asked = false;
        all[i]->inflight = 0;
    }
    for (size_t i = 0; i < n; i++) {
        all[i]->holds--;
        if (all[i]->waiters) room_finish_waiters(all[i], CHAT_EUNAVAIL);
        else room_sync(all[i]);
    }
    free(all);
}

void rooms_resubscribe(void)
{
    size_t n;
    room **all = rooms_snapshot(&n);
    for (size_t i = 0; i < n; i++) {
        all[i]->holds--;
        room_sync(all[i]);
    }
    free(all);
    if (n) log_info("rooms", "action=resubscribe rooms=%zu", n);
}

static void reassert_reply(const redisReply *r, void *ud)
{
    (void)ud;
    if (r && r->type == REDIS_REPLY_ERROR) log_error("presence", "problem=%s", log_q(0, r->str));
}

void rooms_reassert(void)
{
    size_t slot = 0, users = 0;
    strmap_ent *cur = NULL;
    while (strmap_next(&rooms_idx, &slot, &cur)) {
        room *r = cur->val;
        char online[KEYS_MAX];
        size_t olen = keys_room_online(online, sizeof online, r->id);
        size_t us = 0;
        strmap_ent *uc = NULL;
        while (strmap_next(&r->users, &us, &uc)) {
            room_user *ru = uc->val;
            const char *argv[2] = {online, ru->id};
            size_t lens[2] = {olen, strlen(ru->id)};
            if (rds_eval(script_reassert, reassert_reply, NULL, 1, 2, argv, lens) == CHAT_OK) users++;
        }
    }
    if (users) log_info("presence", "action=reassert users=%zu", users);
}

void rooms_user_left(const char *room_id, size_t rlen, const char *user_id, size_t ulen)
{
    room *r = room_find(room_id, rlen);
    if (!r) return;
    room_user *target = strmap_get(&r->users, user_id, ulen);
    if (!target) return;
    unsigned left = target->count;
    r->holds++;
    for (sub *su = r->subs, *next; su && left; su = next) {
        next = su->rnext;
        if (su->ru != target) continue;
        left--; /* target is freed when its last subscription ends: stop before that */
        hooks.end(su);
    }
    r->holds--;
    room_sync(r);
}
