/* store.h - the relay's data layer: every Redis call the relay makes is one named
 * function here with a typed callback, the asynchronous twin of fcgi-api/store.h.
 *
 * The STOMP engine (session.c, command.c) and the room index (rooms.c) reach Redis
 * only through a relay_store table of these functions, handed to them at start-up
 * (main.c wires store_redis(); the unit tests wire a fake). Nothing else in the relay
 * spells a command, a script or a reply type: keys come from common/keys.h, scripts
 * from common/scripts.h, and replies are turned into chat_rc by redis_reply_rc()
 * (common/redis.h), exactly as in the API.
 *
 * Calls: each returns CHAT_OK and then calls its callback exactly once, later (never
 * from inside the call), or CHAT_EUNAVAIL at once when the connection is down (the
 * callback is never called). Strings passed to a callback live only during the call.
 *
 * Deliberately not here: the connections themselves (rds.c), what a reply means for
 * a STOMP session (command.c), which rooms to subscribe (rooms.c). */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "result.h"

/* user_by_token: rc CHAT_OK with the user's id and name; CHAT_EUNAUTH when the token
 * is unknown or expired (or its user is gone); CHAT_EUNAVAIL when Redis failed. */
typedef void (*store_user_cb)(void *ud, chat_rc rc, const char *user_id, const char *name);
/* send: CHAT_OK; CHAT_EFORBIDDEN (not a member); CHAT_EUNAVAIL. */
typedef void (*store_rc_cb)(void *ud, chat_rc rc);
/* What sub_check read: the room's epoch ("" when it has no history yet), its newest
 * offset (0: none), and the n stored messages after the offset asked for, oldest
 * first (offsets[i], bodies[i] of lens[i] bytes). */
typedef struct store_history {
    const char *epoch;
    int64_t offset;
    size_t n;
    const int64_t *offsets;
    const char *const *bodies;
    const size_t *lens;
} store_history;
/* sub_check: CHAT_OK with h; CHAT_EFORBIDDEN (not a member; h NULL); CHAT_EUNAVAIL. */
typedef void (*store_sub_cb)(void *ud, chat_rc rc, const store_history *h);
/* tokens_alive, members: CHAT_OK with one flag per item asked about (the session
 * key exists / the user is a member), or CHAT_EUNAVAIL with flags NULL. */
typedef void (*store_flags_cb)(void *ud, chat_rc rc, const bool *flags, size_t n);

typedef struct relay_store {
    bool (*ready)(void);     /* commands can be sent now */
    bool (*sub_ready)(void); /* the Pub/Sub connection is up */
    /* The user a login token (its SHA-256 hex) belongs to, and the user's name. */
    chat_rc (*user_by_token)(const char *token_hash, store_user_cb cb, void *ud);
    /* Whether user is a member of room and, in the same step, the room's epoch and
     * newest offset, and (after >= 0) up to max stored messages with offsets above
     * after (script_sub_check). */
    chat_rc (*sub_check)(const char *room, const char *user, int64_t after, size_t max,
                         store_sub_cb cb, void *ud);
    /* If user is a member of room, give body the room's next offset and its epoch,
     * store it in the room's history and publish it; one atomic step (script_send). */
    chat_rc (*send)(const char *room, const char *user, const char *body, size_t len,
                    store_rc_cb cb, void *ud);
    /* Count user's presence in room up (delta +1) or down (-1) and publish body (JOIN
     * / LEAVE) when the total crosses 0 <-> 1 (script_presence). Failures are logged. */
    chat_rc (*presence)(const char *room, const char *user, int delta, const char *body, size_t len);
    /* After an outage: count user as present in room if Redis forgot (no JOIN). */
    chat_rc (*presence_reassert)(const char *room, const char *user);
    /* SUBSCRIBE / UNSUBSCRIBE the room's channel; confirmations come back through
     * the Pub/Sub routing (pubsub.c -> rooms_on_subscribed / rooms_on_unsubscribed). */
    chat_rc (*room_subscribe)(const char *room);
    chat_rc (*room_unsubscribe)(const char *room);
    /* Which of n session keys (token hashes, each TOKEN_HASH_LEN hex) still exist. */
    chat_rc (*tokens_alive)(const char *const *hashes, size_t n, store_flags_cb cb, void *ud);
    /* Which of n users are members of room. */
    chat_rc (*members)(const char *room, const char *const *users, size_t n, store_flags_cb cb,
                       void *ud);
} relay_store;

/* Register the relay's scripts with rds.c; call once before rds_start().
 * history_size: HISTORY_SIZE, the stored messages kept per room, or 0 for no history
 * writes at all (HISTORY_WRITES=0, the history on/off benchmark only); redis_timeout_ms:
 * REDIS_TIMEOUT_MS, after which a SEND not yet run by Redis must never run;
 * archive_backlog_max: ARCHIVE_BACKLOG_MAX, the bound of the archive feed. */
void store_init(size_t history_size, size_t archive_backlog_max, unsigned redis_timeout_ms);
/* The table over the real Redis connections (rds.c). */
const relay_store *store_redis(void);
/* SUBSCRIBE the fixed channels (revoked, left) on a fresh Pub/Sub connection. */
void store_subscribe_fixed(void);

#endif
