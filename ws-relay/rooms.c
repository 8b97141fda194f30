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
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "strmap.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct room_user {
    unsigned count;        /* this relay's live subscriptions of the user to the room */
    unsigned pending;      /* pending subscriptions (no presence yet) */
    unsigned holds;        /* walks in progress (rooms_user_left) */
    bool present;          /* counted in Redis (JOIN done, LEAVE not yet) */
    int64_t leave_at;      /* count == 0 && present: LEAVE due at this mono ms */
    list_node lnode;       /* on the leaving list while leave_at is set */
    struct room *room;
    char *name;
    char id[];             /* key in room->users */
} room_user;

typedef struct waiter {
    struct waiter *next;
    rooms_ready_cb cb;
    void *ud;
} waiter;

typedef struct room {
    list_node subs;        /* attached subscriptions (sub.rnode) */
    size_t nsubs;
    strmap users;          /* user id -> room_user */
    waiter *waiters;       /* rooms_want callers waiting for the SUBSCRIBE confirmation */
    unsigned holds;        /* walks in progress */
    unsigned leaving;      /* users whose LEAVE waits out the grace */
    unsigned inflight;     /* SUBSCRIBE/UNSUBSCRIBE not yet confirmed */
    bool asked;            /* the last command sent for the channel was SUBSCRIBE */
    char id[];             /* the room id, key in the index */
} room;

static strmap rooms_idx = STRMAP_INIT;
static rooms_hooks hooks;
static const relay_store *store;
static unsigned grace_ms;
static list_node leaving = LIST_INIT(leaving); /* users whose LEAVE waits out the grace */

void rooms_init(const rooms_hooks *h, unsigned grace, const relay_store *st)
{
    hooks = *h;
    grace_ms = grace;
    store = st;
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
    list_init(&r->subs);
    strmap_put(&rooms_idx, r->id, len, r);
    return r;
}

static bool room_wanted(const room *r) { return r->nsubs || r->waiters || r->holds || r->leaving; }
static bool room_ready(const room *r) { return r->asked && r->inflight == 0; }

/* Bring the channel in line with whether the room is wanted, and free the room when
 * nothing refers to it any more. r may be freed: do not use it afterwards. */
static void room_sync(room *r)
{
    bool want = room_wanted(r);
    if (want && !r->asked) {
        if (store->room_subscribe(r->id) == CHAT_OK) {
            r->asked = true;
            r->inflight++;
        } /* else: down; rooms_resubscribe() will ask again */
    } else if (!want && r->asked) {
        if (store->room_unsubscribe(r->id) == CHAT_OK) r->inflight++;
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
    if (!store->sub_ready()) return CHAT_EUNAVAIL;
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

/* Count ru in r up (delta +1, JOIN when first anywhere) or down (-1, LEAVE when last). */
static void presence(room *r, room_user *ru, int delta)
{
    buf body;
    buf_init(&body, 0);
    msg_presence_body(&body, delta > 0, r->id, ru->id, ru->name);
    if (store->presence(r->id, ru->id, ru->name, delta, buf_data(&body), body.len) != CHAT_OK)
        log_warn("presence", "room=%s user=%s type=%s problem=\"redis unavailable\"", r->id,
                 ru->id, delta > 0 ? "JOIN" : "LEAVE");
    buf_free(&body);
}

/* The (room, user) entry for user_id, created on first use. */
static room_user *ru_get(room *r, const char *user_id, const char *name)
{
    size_t ulen = strlen(user_id);
    room_user *ru = strmap_get(&r->users, user_id, ulen);
    if (ru) return ru;
    ru = xcalloc(1, sizeof *ru + ulen + 1);
    memcpy(ru->id, user_id, ulen + 1);
    ru->name = xstrdup(name);
    ru->room = r;
    strmap_put(&r->users, ru->id, ulen, ru);
    return ru;
}

static void leaving_del(room_user *ru)
{
    if (!ru->leave_at) return;
    list_del(&ru->lnode);
    ru->leave_at = 0;
    ru->room->leaving--;
}

/* Free ru when nothing refers to it: no subscription, no LEAVE due, no walk. */
static void ru_maybe_free(room *r, room_user *ru)
{
    if (ru->count || ru->pending || ru->present || ru->holds) return;
    strmap_del(&r->users, ru->id, strlen(ru->id));
    free(ru->name);
    free(ru);
}

/* The user's LEAVE is due now: publish it and forget the user here. r may be freed. */
static void leave_now(room_user *ru)
{
    room *r = ru->room;
    leaving_del(ru);
    if (ru->present && ru->count == 0) {
        presence(r, ru, -1);
        ru->present = false;
    }
    ru_maybe_free(r, ru);
    if (!r->holds) room_sync(r);
}

/* A live subscription of ru starts. */
static void ru_up(room *r, room_user *ru)
{
    if (++ru->count > 1) return;
    if (ru->leave_at) leaving_del(ru); /* back within the grace: no LEAVE, no JOIN */
    else if (!ru->present) {
        presence(r, ru, +1);
        ru->present = true;
    }
}

/* A live subscription of ru ends: LEAVE now, or after the grace. */
static void ru_down(room *r, room_user *ru)
{
    if (--ru->count > 0) return;
    if (!grace_ms || !ru->present) {
        if (ru->present) presence(r, ru, -1);
        ru->present = false;
        ru_maybe_free(r, ru);
        return;
    }
    ru->leave_at = mono_ms() + grace_ms;
    list_add_tail(&leaving, &ru->lnode);
    r->leaving++;
}

void rooms_attach(sub *su, const char *room_id, const char *user_id, const char *name,
                  bool pending)
{
    room *r = room_get(room_id);
    su->room = r;
    list_add(&r->subs, &su->rnode);
    r->nsubs++;
    RM_ADD(subscriptions, 1);
    su->ru = ru_get(r, user_id, name);
    su->pending = pending;
    su->left = false;
    if (pending) su->ru->pending++;
    else ru_up(r, su->ru);
}

void rooms_activate(sub *su)
{
    if (!su->room || !su->pending) return;
    su->pending = false;
    su->ru->pending--;
    ru_up(su->room, su->ru);
}

void rooms_detach(sub *su)
{
    room *r = su->room;
    if (!r) return;
    list_del(&su->rnode);
    su->room = NULL;
    r->nsubs--;
    RM_ADD(subscriptions, -1);
    room_user *ru = su->ru;
    su->ru = NULL;
    if (su->pending) {
        su->pending = false;
        ru->pending--;
        ru_maybe_free(r, ru);
    } else {
        ru_down(r, ru);
    }
    if (!r->holds) room_sync(r); /* a walk in progress syncs when it ends */
}

void rooms_sweep(int64_t now)
{
    /* Oldest first: stop at the first one not due yet. */
    room_user *ru;
    while ((ru = list_first(&leaving, room_user, lnode)) && now >= ru->leave_at) leave_now(ru);
}

void rooms_flush_leaves(void)
{
    room_user *ru;
    while ((ru = list_first(&leaving, room_user, lnode))) leave_now(ru);
}

/* ---- Pub/Sub events ------------------------------------------------------------------ */

void rooms_on_message(const char *room_id, size_t id_len, const char *body, size_t len)
{
    room *r = room_find(room_id, id_len);
    if (!r || list_empty(&r->subs)) return;
    char mid[MSG_ID_MAX];
    msg_next_id(mid);
    msg_shared *m = msg_shared_new(r->id, strlen(r->id), mid, body, len);
    r->holds++;
    list_for_each_safe(n, &r->subs) hooks.deliver(list_entry(n, sub, rnode), m);
    r->holds--;
    msg_shared_unref(m);
    if (rm_on) {
        int64_t ts = rm_body_ts(body, len);
        if (ts > 0) rm_observe(&rm.deliver_latency, (now_ms() - ts) * 1000);
    }
    room_sync(r);
}

void rooms_on_subscribed(const char *room_id, size_t len)
{
    room *r = room_find(room_id, len);
    if (!r) return;
    if (r->inflight) r->inflight--;
    if (room_ready(r) && r->waiters) room_finish_waiters(r, CHAT_OK);
    else room_sync(r);
}

void rooms_on_unsubscribed(const char *room_id, size_t len)
{
    room *r = room_find(room_id, len);
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

void rooms_reassert(void)
{
    size_t slot = 0, users = 0;
    strmap_ent *cur = NULL;
    while (strmap_next(&rooms_idx, &slot, &cur)) {
        room *r = cur->val;
        size_t us = 0;
        strmap_ent *uc = NULL;
        while (strmap_next(&r->users, &us, &uc)) {
            room_user *ru = uc->val;
            if (!ru->present) continue; /* pending only: not counted in Redis */
            buf body;
            buf_init(&body, 0);
            msg_presence_body(&body, true, r->id, ru->id, ru->name);
            if (store->presence_reassert(r->id, ru->id, ru->name, buf_data(&body), body.len) == CHAT_OK)
                users++;
            buf_free(&body);
        }
    }
    if (users) log_info("presence", "action=reassert users=%zu", users);
}

/* ---- re-checking memberships after a Pub/Sub outage ---------------------------------- */

typedef struct mcheck {
    char room[65];
    size_t n;
    char **users;
} mcheck;

static void mcheck_free(mcheck *mc)
{
    for (size_t i = 0; i < mc->n; i++) free(mc->users[i]);
    free(mc->users);
    free(mc);
}

/* A room answered: a user no longer in it left while we could not hear. */
static void mcheck_done(void *ud, chat_rc rc, const bool *member, size_t n)
{
    mcheck *mc = ud;
    if (rc == CHAT_OK) {
        for (size_t i = 0; i < n; i++)
            if (!member[i]) rooms_user_left(mc->room, strlen(mc->room), mc->users[i], strlen(mc->users[i]));
    } else {
        log_warn("rooms", "problem=\"membership re-check failed\"");
    }
    mcheck_free(mc);
}

void rooms_recheck_members(void)
{
    size_t slot = 0, sent = 0;
    strmap_ent *cur = NULL;
    while (strmap_next(&rooms_idx, &slot, &cur)) {
        room *r = cur->val;
        mcheck *mc = xcalloc(1, sizeof *mc);
        snprintf(mc->room, sizeof mc->room, "%s", r->id);
        mc->users = xmalloc((r->users.count + 1) * sizeof *mc->users);
        size_t us = 0;
        strmap_ent *uc = NULL;
        while (strmap_next(&r->users, &us, &uc)) {
            room_user *ru = uc->val;
            if (ru->count || ru->pending) mc->users[mc->n++] = xstrdup(ru->id);
        }
        if (mc->n && store->members(r->id, (const char *const *)mc->users, mc->n, mcheck_done, mc) == CHAT_OK)
            sent++;
        else
            mcheck_free(mc);
    }
    if (sent) log_info("rooms", "action=recheck-members rooms=%zu", sent);
}

void rooms_user_left(const char *room_id, size_t rlen, const char *user_id, size_t ulen)
{
    room *r = room_find(room_id, rlen);
    if (!r) return;
    room_user *target = strmap_get(&r->users, user_id, ulen);
    if (!target) return;
    r->holds++;
    target->holds++;
    list_for_each_safe(n, &r->subs) {
        sub *su = list_entry(n, sub, rnode);
        if (su->ru != target) continue;
        if (su->pending) su->left = true; /* its SUBSCRIBE sees this when checked */
        else hooks.end(su);
    }
    target->holds--;
    ru_maybe_free(r, target);
    r->holds--;
    room_sync(r);
}
