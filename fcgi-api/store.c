/* store.c - Redis plumbing for the API (scripts, reply checks) and the user,
 * session and failed-login records; rooms live in store_rooms.c. See store.h.
 *
 * Key names come only from common/keys.h. Multi-key writes are Lua scripts run with
 * EVALSHA (SCRIPT LOAD on first use and after NOSCRIPT). Reads that are naturally one
 * command stay plain commands. This file never sees a password or a token: only
 * their hashes, which it stores but never logs. */
#include "store.h"
#include "keys.h"
#include "log.h"
#include "scripts.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- plumbing ---------------------------------------------------------------------- */

redisReply *api_store_eval(rconn *c, api_script *s, int nkeys, const char **keys, int nargs, const char **args)
{
    const char *argv[3 + 32];
    char nk[16];
    if (nkeys < 0 || nargs < 0 || nkeys + nargs > 32) return NULL;
    snprintf(nk, sizeof nk, "%d", nkeys);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->sha[0]) {
            redisReply *l = rconn_cmd(c, "SCRIPT LOAD %s", s->src);
            if (!l || l->type != REDIS_REPLY_STRING || l->len != 40) return l;
            memcpy(s->sha, l->str, 40);
            s->sha[40] = '\0';
            freeReplyObject(l);
        }
        int argc = 0;
        argv[argc++] = "EVALSHA";
        argv[argc++] = s->sha;
        argv[argc++] = nk;
        for (int i = 0; i < nkeys; i++) argv[argc++] = keys[i];
        for (int i = 0; i < nargs; i++) argv[argc++] = args[i];
        redisReply *r = rconn_cmdargv(c, argc, argv, NULL);
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && attempt == 0) {
            freeReplyObject(r);
            s->sha[0] = '\0';
            continue;
        }
        return r;
    }
    return NULL;
}

chat_rc api_store_check(const redisReply *r, const char *what)
{
    return redis_reply_rc(r, what);
}

bool api_store_copy(char *dst, size_t cap, const redisReply *r)
{
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) || r->len >= cap) return false;
    memcpy(dst, r->str, r->len);
    dst[r->len] = '\0';
    return true;
}

/* Parse a decimal reply string into *out; false when nil or not a number. */
static bool reply_i64(const redisReply *r, int64_t *out)
{
    char tmp[32];
    long v;
    if (!api_store_copy(tmp, sizeof tmp, r) || parse_long(tmp, 0, INT64_MAX, &v) != 0) return false;
    *out = v;
    return true;
}

/* ---- users --------------------------------------------------------------------------- */

static api_script signup_script = {.src = script_signup};

chat_rc api_store_ping(rconn *c)
{
    redisReply *r = rconn_cmd(c, "PING");
    chat_rc rc = api_store_check(r, "ping");
    if (rc == CHAT_OK && (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG") != 0)) rc = CHAT_EUNAVAIL;
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_user_create(rconn *c, const api_user *u, const char *pwhash, const char *token_hash, long ttl)
{
    char kemail[KEYS_MAX], kuser[KEYS_MAX], ksess[KEYS_MAX], created[24], ttls[24];
    if (!keys_user_email(kemail, sizeof kemail, u->email) || !keys_user(kuser, sizeof kuser, u->id) ||
        !keys_session(ksess, sizeof ksess, token_hash))
        return CHAT_EINTERNAL;
    snprintf(created, sizeof created, "%lld", (long long)u->created_at);
    snprintf(ttls, sizeof ttls, "%ld", ttl);
    const char *keys[] = {kemail, kuser, ksess};
    const char *args[] = {u->id, u->name, u->email, pwhash, created, ttls};
    redisReply *r = api_store_eval(c, &signup_script, 3, keys, 6, args);
    chat_rc rc = api_store_check(r, "signup");
    if (rc == CHAT_OK) rc = r->type != REDIS_REPLY_INTEGER ? CHAT_EINTERNAL : r->integer == 1 ? CHAT_OK : CHAT_ECONFLICT;
    if (r) freeReplyObject(r);
    return rc;
}

/* HMGET the user hash into *u (and pwhash when not NULL). */
static chat_rc load_user(rconn *c, const char *id, api_user *u, char *pwhash)
{
    char k[KEYS_MAX];
    if (!keys_user(k, sizeof k, id)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "HMGET %s id name email createdAt pwhash", k);
    chat_rc rc = api_store_check(r, "user-get");
    if (rc != CHAT_OK) goto done;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    if (r->element[0]->type == REDIS_REPLY_NIL) {
        rc = CHAT_ENOTFOUND;
        goto done;
    }
    if (!api_store_copy(u->id, sizeof u->id, r->element[0]) || !api_store_copy(u->name, sizeof u->name, r->element[1]) ||
        !api_store_copy(u->email, sizeof u->email, r->element[2]) || !reply_i64(r->element[3], &u->created_at) ||
        (pwhash && !api_store_copy(pwhash, API_PWHASH_MAX + 1, r->element[4]))) {
        log_error("store", "problem=\"corrupt user record\" user=%s", log_q(0, id));
        rc = CHAT_EINTERNAL;
    }
done:
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_user_get(rconn *c, const char *id, api_user *u)
{
    return load_user(c, id, u, NULL);
}

chat_rc api_store_user_by_email(rconn *c, const char *email, api_user *u, char *pwhash)
{
    char k[KEYS_MAX], id[API_ID_MAX + 1];
    if (!keys_user_email(k, sizeof k, email)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "GET %s", k);
    chat_rc rc = api_store_check(r, "user-email");
    if (rc == CHAT_OK && r->type == REDIS_REPLY_NIL) rc = CHAT_ENOTFOUND;
    else if (rc == CHAT_OK && !api_store_copy(id, sizeof id, r)) rc = CHAT_EINTERNAL;
    if (r) freeReplyObject(r);
    if (rc != CHAT_OK) return rc;
    return load_user(c, id, u, pwhash);
}

/* ---- sessions ------------------------------------------------------------------------ */

static api_script revoke_script = {.src = script_revoke};

chat_rc api_store_session_new(rconn *c, const char *token_hash, const char *user_id, long ttl)
{
    char k[KEYS_MAX];
    if (!keys_session(k, sizeof k, token_hash)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "SET %s %s EX %ld", k, user_id, ttl);
    chat_rc rc = api_store_check(r, "session-new");
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_session_get(rconn *c, const char *token_hash, char *user_id, char *rooms_version)
{
    char k[KEYS_MAX], kver[KEYS_MAX];
    if (!keys_session(k, sizeof k, token_hash)) return CHAT_EINTERNAL;
    if (rooms_version) {
        rooms_version[0] = '\0';
        if (!keys_rooms_version(kver, sizeof kver)) return CHAT_EINTERNAL;
    }
    const char *argv[] = {rooms_version ? "MGET" : "GET", k, kver};
    redisReply *r = rconn_cmdargv(c, rooms_version ? 3 : 2, argv, NULL);
    chat_rc rc = api_store_check(r, "session-get");
    const redisReply *sess = r;
    if (rc == CHAT_OK && rooms_version) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) rc = CHAT_EINTERNAL;
        else {
            sess = r->element[0];
            /* Nil or unusable: the caller simply does not use its cache. */
            if (!api_store_copy(rooms_version, API_VERSION_MAX + 1, r->element[1])) rooms_version[0] = '\0';
        }
    }
    if (rc == CHAT_OK && sess->type == REDIS_REPLY_NIL) rc = CHAT_ENOTFOUND;
    else if (rc == CHAT_OK && !api_store_copy(user_id, API_ID_MAX + 1, sess)) rc = CHAT_EINTERNAL;
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_session_revoke(rconn *c, const char *token_hash)
{
    char ksess[KEYS_MAX], chan[KEYS_MAX];
    if (!keys_session(ksess, sizeof ksess, token_hash) || !keys_chan_revoked(chan, sizeof chan)) return CHAT_EINTERNAL;
    const char *keys[] = {ksess};
    const char *args[] = {chan, token_hash};
    redisReply *r = api_store_eval(c, &revoke_script, 1, keys, 2, args);
    chat_rc rc = api_store_check(r, "session-revoke");
    if (r) freeReplyObject(r);
    return rc;
}

/* ---- failed logins ---------------------------------------------------------------------- */

static api_script fail_script = {.src = script_login_fail};

chat_rc api_store_login_fails(rconn *c, const char *email, const char *addr, long *count, long *ttl)
{
    char k[KEYS_MAX];
    *count = *ttl = 0;
    if (!keys_login_fail(k, sizeof k, email, addr)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "GET %s", k);
    chat_rc rc = api_store_check(r, "login-fails");
    int64_t v = 0;
    if (rc == CHAT_OK && r->type != REDIS_REPLY_NIL && !reply_i64(r, &v)) rc = CHAT_EINTERNAL;
    if (r) freeReplyObject(r);
    if (rc != CHAT_OK || v == 0) return rc;
    *count = (long)v;
    r = rconn_cmd(c, "TTL %s", k);
    rc = api_store_check(r, "login-fails-ttl");
    if (rc == CHAT_OK && r->type == REDIS_REPLY_INTEGER && r->integer > 0) *ttl = (long)r->integer;
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_login_fail_add(rconn *c, const char *email, const char *addr, long window)
{
    char k[KEYS_MAX], w[24];
    if (!keys_login_fail(k, sizeof k, email, addr)) return CHAT_EINTERNAL;
    snprintf(w, sizeof w, "%ld", window);
    const char *keys[] = {k};
    const char *args[] = {w};
    redisReply *r = api_store_eval(c, &fail_script, 1, keys, 1, args);
    chat_rc rc = api_store_check(r, "login-fail-add");
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_login_fail_reset(rconn *c, const char *email, const char *addr)
{
    char k[KEYS_MAX];
    if (!keys_login_fail(k, sizeof k, email, addr)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "DEL %s", k);
    chat_rc rc = api_store_check(r, "login-fail-reset");
    if (r) freeReplyObject(r);
    return rc;
}
