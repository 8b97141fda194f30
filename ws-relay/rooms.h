/* rooms.h - this relay's index of rooms with local subscribers, and presence.
 *
 * For each room with at least one local subscription (or one about to start) the
 * relay subscribes the room's Redis channel once; when the last one ends it
 * unsubscribes. A Redis message on the channel is turned into one shared MESSAGE
 * tail and handed to every local subscription (rooms_hooks.deliver).
 *
 * Presence (JOIN/LEAVE): subscriptions are counted per (room, user) locally; only
 * this relay's 0 -> 1 and 1 -> 0 transitions touch Redis, through one Lua script that
 * HINCRBYs P room:{id}:online[user] (so the hash counts relays holding the user),
 * records the entry in this relay's P relay:{id}:holds (so that a survivor can take it
 * back when this relay dies: registry.h) and publishes JOIN when the total crosses
 * 0 -> 1, LEAVE when it crosses 1 -> 0, in the same atomic step. A local 1 -> 0 is damped: it takes effect PRESENCE_GRACE_MS later
 * (rooms_sweep), and a subscription of the same user to the same room within that
 * time cancels it, so a user who flaps (or reloads the page) costs the room no
 * JOIN/LEAVE pair at all.
 *
 * Pending subscriptions: a SUBSCRIBE links its subscription in as pending before the
 * membership check is sent, so a REST leave that lands while the check is under way
 * is seen (su->left) whatever order the two replies arrive in, and messages that come
 * meanwhile reach the session's hook (held there, not sent). rooms_activate() makes it
 * a live subscription (JOIN as due); a pending one never causes presence.
 *
 * Deliberately not here: STOMP (sessions own their subscriptions and frames), the
 * Redis connections (rds.h), membership checks (done by the session before
 * rooms_want). */
#ifndef RELAY_ROOMS_H
#define RELAY_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "list.h"
#include "msg.h"
#include "outq.h"
#include "result.h"

struct sess;
struct relay_store;
struct room;
struct room_user;

/* One STOMP subscription to a room, owned by its session (allocated and freed there);
 * rooms only links it into the room while attached. */
typedef struct sub {
    list_node rnode;             /* on the room's list (rooms.c) */
    struct sub *snext;           /* the session's list (session.c) */
    struct sess *sess;
    struct room *room;           /* NULL when not attached */
    struct room_user *ru;        /* the (room, user) counter while attached */
    const char *id; size_t id_len;         /* the client's subscription id */
    const char *prefix; size_t prefix_len; /* "MESSAGE\nsubscription:<id>\n" */
    bool pending;                /* linked, membership not yet confirmed */
    bool left;                   /* pending, and the user left the room meanwhile */
    outq held;                   /* pending: MESSAGEs that came meanwhile (session) */
} sub;

typedef struct rooms_hooks {
    /* Queue MESSAGE (su->prefix + m) for su's session (take a reference to keep m). */
    void (*deliver)(sub *su, msg_shared *m);
    /* End su as if its client had unsubscribed (the user left the room over REST):
     * the session unlinks it, calls rooms_detach and frees it. */
    void (*end)(sub *su);
} rooms_hooks;

typedef void (*rooms_ready_cb)(void *ud, chat_rc rc);

/* The hooks (copied) and the data layer (store.h; kept) every Redis call goes through.
 * grace_ms: PRESENCE_GRACE_MS, how long a user's last local subscription to a room
 * must stay ended before LEAVE is published (0: at once). */
void rooms_init(const rooms_hooks *h, unsigned grace_ms, const struct relay_store *store);
/* Rooms in the index (local subscribers, waiters or a pending confirmation): the
 * relay's rooms gauge (metrics.c). */
size_t rooms_count(void);

/* Make sure the room's channel is subscribed here before a subscription attaches.
 * CHAT_OK: it is, attach now (synchronously). CHAT_AGAIN: cb(ud, rc) is called once
 * later with CHAT_OK (attach then) or CHAT_EUNAVAIL; the room is kept until then.
 * CHAT_EUNAVAIL: the Pub/Sub connection is down. */
chat_rc rooms_want(const char *room_id, rooms_ready_cb cb, void *ud);

/* Link su into the room (after rooms_want said OK) for user user_id named name
 * (both copied on the user's first subscription here). With pending, su only waits
 * (see above); else it is live and may publish JOIN. */
void rooms_attach(sub *su, const char *room_id, const char *user_id, const char *name,
                  bool pending);
/* A pending su becomes live (JOIN as due). Not for one whose su->left is set. */
void rooms_activate(sub *su);
/* Unlink su (no-op when not attached). A live one may (after the grace) publish
 * LEAVE and unsubscribe the room. */
void rooms_detach(sub *su);
/* Publish the LEAVEs whose grace has run out (now: mono ms). Call periodically. */
void rooms_sweep(int64_t now);
/* Publish every LEAVE still in its grace now (shutdown). */
void rooms_flush_leaves(void);

/* ---- Pub/Sub events (pubsub.c routes them here) ---- */
void rooms_on_message(const char *room_id, size_t id_len, const char *body, size_t len);
void rooms_on_subscribed(const char *room_id, size_t len);   /* its channel is subscribed */
void rooms_on_unsubscribed(const char *room_id, size_t len);
void rooms_on_sub_down(void);      /* every room must be subscribed again */
void rooms_resubscribe(void);      /* the Pub/Sub connection is back */
/* The command connection is back, or this relay's registration was lost: count every
 * (room, user) it holds again where Redis forgot it (JOIN when the total becomes 1). */
void rooms_reassert(void);
/* After the Pub/Sub connection came back: REST leaves published while it was down
 * were never heard; ask Redis whether every local subscriber is still a member and
 * end the subscriptions of those who are not (as rooms_user_left). */
void rooms_recheck_members(void);
/* "{roomId} {userId}" from the left channel: end that user's local subscriptions to
 * that room (pending ones are marked left). */
void rooms_user_left(const char *room_id, size_t rlen, const char *user_id, size_t ulen);

#endif
