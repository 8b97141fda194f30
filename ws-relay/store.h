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
/* file: CHAT_OK with the file's room, uploader and File document (JSON, json_len
 * bytes); CHAT_ENOTFOUND when there is no such file; CHAT_EUNAVAIL. */
typedef void (*store_file_cb)(void *ud, chat_rc rc, const char *room_id, const char *uploader_id,
                              const char *json, size_t json_len);
/* tokens_alive, members: CHAT_OK with one flag per item asked about (the session
 * key exists / the user is a member), or CHAT_EUNAVAIL with flags NULL. */
typedef void (*store_flags_cb)(void *ud, chat_rc rc, const bool *flags, size_t n);
/* relay_alive: CHAT_OK with whether this relay's registration was missing (added) and
 * the ids of expired relays (dead[0..n)); or CHAT_EUNAVAIL. */
typedef void (*store_alive_cb)(void *ud, chat_rc rc, bool added, const char *const *dead, size_t n);
/* relay_holdings: CHAT_OK with a relay's holds entries, "{room} {user}" fields[i] and
 * names[i]; or CHAT_EUNAVAIL. */
typedef void (*store_holds_cb)(void *ud, chat_rc rc, const char *const *fields,
                               const char *const *names, size_t n);
/* relay_sweep: CHAT_OK with the script's answer (LEAVEs published, -1 not expired
 * (any more), -2 read again); or CHAT_EUNAVAIL. */
typedef void (*store_int_cb)(void *ud, chat_rc rc, long long v);

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
    /* An uploaded file's room, uploader and File document (P file:{id}, written by
     * the API's upload; never changed afterwards). */
    chat_rc (*file)(const char *file_id, store_file_cb cb, void *ud);
    /* Count user (named name) present in room for this relay (delta +1) or not any
     * more (-1), listing it in this relay's holds, and publish body (JOIN / LEAVE) when
     * the total crosses 0 <-> 1 (script_presence). Failures are logged. */
    chat_rc (*presence)(const char *room, const char *user, const char *name, int delta,
                        const char *body, size_t len);
    /* After an outage or a sweep: count user as present in room for this relay again
     * if Redis forgot, publishing body (a JOIN) when the total becomes 1. */
    chat_rc (*presence_reassert)(const char *room, const char *user, const char *name,
                                 const char *body, size_t len);
    /* SUBSCRIBE / UNSUBSCRIBE the room's channel; confirmations come back through
     * the Pub/Sub routing (pubsub.c -> rooms_on_subscribed / rooms_on_unsubscribed). */
    chat_rc (*room_subscribe)(const char *room);
    chat_rc (*room_unsubscribe)(const char *room);
    /* Which of n session keys (token hashes, each TOKEN_HASH_LEN hex) still exist. */
    chat_rc (*tokens_alive)(const char *const *hashes, size_t n, store_flags_cb cb, void *ud);
    /* Which of n users are members of room. */
    chat_rc (*members)(const char *room, const char *const *users, size_t n, store_flags_cb cb,
                       void *ud);
    /* ---- the relay registry (registry.h); NULL in engine unit tests ---- */
    /* Refresh this relay's registration and list expired relays (script_relay_alive). */
    chat_rc (*relay_alive)(store_alive_cb cb, void *ud);
    /* What relay id holds (HGETALL of its holds hash). */
    chat_rc (*relay_holdings)(const char *id, store_holds_cb cb, void *ud);
    /* Take dead relay id's holdings back (script_relay_sweep): rooms[0..nrooms) every
     * room its fields name, fields[i] with the LEAVE bodies[i] (blens[i] bytes). */
    chat_rc (*relay_sweep)(const char *id, const char *const *rooms, size_t nrooms,
                           const char *const *fields, const char *const *bodies,
                           const size_t *blens, size_t n, store_int_cb cb, void *ud);
    /* Deregister this relay at shutdown (script_relay_gone); cb may be NULL. */
    chat_rc (*relay_gone)(store_rc_cb cb, void *ud);
} relay_store;

/* Register the relay's scripts with rds.c; call once before rds_start().
 * history_size: HISTORY_SIZE, the stored messages kept per room, or 0 for no history
 * writes at all (HISTORY_WRITES=0, the history on/off benchmark only); redis_timeout_ms:
 * REDIS_TIMEOUT_MS, after which a SEND not yet run by Redis must never run;
 * archive_backlog_max: ARCHIVE_BACKLOG_MAX, the bound of the archive feed; relay_id:
 * this process's id in the registry (copied); ttl_ms: PRESENCE_TTL in ms. */
void store_init(size_t history_size, size_t archive_backlog_max, unsigned redis_timeout_ms,
                const char *relay_id, unsigned ttl_ms);
/* The table over the real Redis connections (rds.c). */
const relay_store *store_redis(void);
/* SUBSCRIBE the fixed channels (revoked, left) on a fresh Pub/Sub connection. */
void store_subscribe_fixed(void);

#endif
