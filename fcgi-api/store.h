/* store.h - the API's data layer: users, sessions, login counters and rooms in Redis,
 * following the key schema of common/keys.h and the contract's "Redis" section.
 *
 * Every function takes the process's rconn and returns CHAT_OK, CHAT_EUNAVAIL when
 * Redis does not answer (or answers with a server-state error such as LOADING),
 * CHAT_EINTERNAL for replies that cannot happen with a sane data set, and the
 * specific codes listed per function. Writes that touch several keys go through Lua
 * scripts so that they happen entirely or not at all. Nothing here knows HTTP or
 * JSON, validates input (callers pass validated ids, names, emails) or logs secrets. */
#ifndef CHAT_API_STORE_H
#define CHAT_API_STORE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define API_PWHASH_MAX 128 /* crypto_pwhash_STRBYTES */

typedef struct api_user {
    char id[API_ID_MAX + 1];
    char name[API_NAME_MAX_CP * 4 + 1];
    char email[API_EMAIL_MAX + 1];
    int64_t created_at;
} api_user;

typedef struct api_room {
    char id[API_ID_MAX + 1];
    char name[API_ROOM_NAME_MAX_CP * 4 + 1];
    char created_by[API_ID_MAX + 1];
    int64_t created_at;
    long long member_count;
} api_room;

typedef struct api_member {
    char id[API_ID_MAX + 1];
    char name[API_NAME_MAX_CP * 4 + 1];
    bool online;   /* a live subscription to the room on some relay */
} api_member;

/* ---- plumbing shared by store.c and store_rooms.c ---------------------------- */

/* A Lua script run with EVALSHA; sha is learnt with SCRIPT LOAD on first use and
 * again after NOSCRIPT (Redis restarted or flushed its script cache). */
typedef struct api_script {
    const char *src;
    char sha[41];
} api_script;

/* Run s with nkeys keys then nargs args. Returns the reply (caller frees; may be a
 * REDIS_REPLY_ERROR) or NULL when Redis is unreachable. */
redisReply *api_store_eval(rconn *c, api_script *s, int nkeys, const char **keys, int nargs, const char **args);

/* CHAT_OK for a non-error reply; CHAT_EUNAVAIL for NULL or a server-state error;
 * CHAT_EINTERNAL (logged) for any other error reply. Does not free r. */
chat_rc api_store_check(const redisReply *r, const char *what);

/* Copy a bulk/status string reply into dst[cap]; false when nil or too long. */
bool api_store_copy(char *dst, size_t cap, const redisReply *r);

/* ---- users, sessions, login counters (store.c) ------------------------------- */

/* PING. CHAT_OK or CHAT_EUNAVAIL. */
chat_rc api_store_ping(rconn *c);

/* Create user u (email already lower-cased) with password hash pwhash and, in the
 * same step, a session for token_hash lasting ttl seconds. CHAT_ECONFLICT when the
 * email is taken (then nothing is written). */
chat_rc api_store_user_create(rconn *c, const api_user *u, const char *pwhash, const char *token_hash, long ttl);

/* Load user id into *u. CHAT_ENOTFOUND when there is no such user. */
chat_rc api_store_user_get(rconn *c, const char *id, api_user *u);

/* Look a user up by (lower-cased) email: *u and pwhash[API_PWHASH_MAX + 1].
 * CHAT_ENOTFOUND when no user has that email. */
chat_rc api_store_user_by_email(rconn *c, const char *email, api_user *u, char *pwhash);

/* Store a session token_hash -> user_id for ttl seconds. */
chat_rc api_store_session_new(rconn *c, const char *token_hash, const char *user_id, long ttl);

/* The user id of session token_hash into user_id[API_ID_MAX + 1]. CHAT_ENOTFOUND
 * for an unknown or expired session. When rooms_version is not NULL, the rooms
 * version (see store_rooms.c) is read in the same command into
 * rooms_version[API_VERSION_MAX + 1], "" when there is none or it is unusable: the
 * room list needs both, and one round trip instead of two is most of its cost. */
chat_rc api_store_session_get(rconn *c, const char *token_hash, char *user_id, char *rooms_version);

/* Delete session token_hash and announce it on the revoked channel, atomically. */
chat_rc api_store_session_revoke(rconn *c, const char *token_hash);

/* Failed logins for email in the current window: *count, and *ttl the seconds left
 * in the window (0 when none). */
chat_rc api_store_login_fails(rconn *c, const char *email, const char *addr, long *count, long *ttl);

/* Count one more failed login for email; the window starts with the first failure
 * and lasts window seconds. */
chat_rc api_store_login_fail_add(rconn *c, const char *email, const char *addr, long window);

/* Forget the failed logins of email (after a successful login). */
chat_rc api_store_login_fail_reset(rconn *c, const char *email, const char *addr);

/* ---- history (store_rooms.c) -------------------------------------------------- */

/* A page of a room's stored messages in Redis (script_history): the bodies exactly
 * as they were delivered, ascending by offset. Free with api_history_free(). */
typedef struct api_history {
    char epoch[API_ID_MAX + 1]; /* "" when the room has no history yet */
    long long offset;           /* the room's newest offset, 0 when none */
    long long oldest;           /* the oldest offset still in Redis, 0 when none */
    size_t n;
    long long *offs;            /* offs[i] is the offset of bodies[i] */
    char **bodies;
    size_t *lens;
} api_history;
enum api_history_mode { API_HISTORY_NEWEST = 0, API_HISTORY_BEFORE, API_HISTORY_AFTER };

/* Up to limit messages of room_id for member user_id (see enum). CHAT_ENOTFOUND when
 * the room does not exist, CHAT_EFORBIDDEN when the user is not a member. */
chat_rc api_store_history(rconn *c, const char *room_id, const char *user_id, enum api_history_mode mode,
                          long long offset, size_t limit, api_history *h);
void api_history_free(api_history *h);

/* ---- search (store_rooms.c) --------------------------------------------------- */

/* The rooms user_id may search now: every room of P user:{id}:rooms, or only room_id
 * when it is not NULL (CHAT_ENOTFOUND when that room does not exist, CHAT_EFORBIDDEN
 * when the user is not a member of it). *ids is a new array of *n new strings; free
 * with api_ids_free(). */
chat_rc api_store_search_rooms(rconn *c, const char *user_id, const char *room_id, char ***ids, size_t *n);
void api_ids_free(char **ids, size_t n);

/* ---- rooms (store_rooms.c) ---------------------------------------------------- */

/* Create room r (created_by becomes its first member), indexed in the rooms set by
 * created_at. CHAT_ECONFLICT on an id collision. */
chat_rc api_store_room_create(rconn *c, const api_room *r);

/* Load room id into *r with its member count; when members is not NULL also the
 * members with their online flags (P room:{id}:online), sorted by name then id, into a new array (*members, *nmembers; caller
 * frees *members with free()). CHAT_ENOTFOUND when there is no such room. */
chat_rc api_store_room_get(rconn *c, const char *id, api_room *r, api_member **members, size_t *nmembers);

/* Add user_id to room room_id (harmless when already a member) and load the room
 * into *r. CHAT_ENOTFOUND when the room does not exist (then nothing is written). */
chat_rc api_store_room_join(rconn *c, const char *room_id, const char *user_id, api_room *r);

/* Remove user_id from room room_id and publish "{roomId} {userId}" on the left
 * channel. CHAT_ENOTFOUND when the room does not exist or the user is not a member
 * (then nothing is published); *room_exists tells which. */
chat_rc api_store_room_leave(rconn *c, const char *room_id, const char *user_id, bool *room_exists);

/* One page of rooms, newest first: up to count rooms strictly after the position
 * (after_score, after_id) in newest-first order, or from the newest when after_id is
 * NULL. *rooms is a new array (caller frees) of *n rooms; *more tells whether a
 * room follows the page. version[API_VERSION_MAX + 1] receives the rooms version
 * the page was read at (atomically with it), "" when it cannot be used. */
chat_rc api_store_rooms_page(rconn *c, int64_t after_score, const char *after_id, size_t count,
                             api_room **rooms, size_t *n, bool *more, char *version);

/* The rooms user_id is a member of, newest first; *rooms as above. */
chat_rc api_store_user_rooms(rconn *c, const char *user_id, api_room **rooms, size_t *n);

#endif
