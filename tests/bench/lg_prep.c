/* lg_prep.c - benchmark users and rooms written straight into Redis; see lg_prep.h.
 * One blocking hiredis connection, commands pipelined a few thousand at a time. */
#include "lg_prep.h"

#include "keys.h"
#include "redis.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096 /* commands in flight before reading their replies */

typedef struct lg_pipe {
    redisContext *c;
    size_t pending;
    char *err;
    size_t errlen;
} pipe_t;

static int drain(pipe_t *p)
{
    for (; p->pending; p->pending--) {
        redisReply *r = NULL;
        if (redisGetReply(p->c, (void **)&r) != REDIS_OK || !r) {
            snprintf(p->err, p->errlen, "redis: %s", p->c->errstr);
            return -1;
        }
        int bad = r->type == REDIS_REPLY_ERROR;
        if (bad) snprintf(p->err, p->errlen, "redis: %s", r->str);
        freeReplyObject(r);
        if (bad) return -1;
    }
    return 0;
}

static int cmd(pipe_t *p, int argc, const char **argv)
{
    if (redisAppendCommandArgv(p->c, argc, argv, NULL) != REDIS_OK) {
        snprintf(p->err, p->errlen, "redis: %s", p->c->errstr);
        return -1;
    }
    return ++p->pending >= BATCH ? drain(p) : 0;
}

static redisContext *connect_url(const char *url, char *err, size_t errlen)
{
    redis_url u;
    if (redis_url_parse(url, &u) != 0) {
        snprintf(err, errlen, "bad redis url %s", url);
        return NULL;
    }
    struct timeval tv = {5, 0};
    redisContext *c = u.is_unix ? redisConnectUnixWithTimeout(u.host, tv)
                                : redisConnectWithTimeout(u.host, u.port, tv);
    if (!c || c->err) {
        snprintf(err, errlen, "redis connect %s: %s", url, c ? c->errstr : "no memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisReply *r = NULL;
    if (u.password[0]) r = redisCommand(c, "AUTH %s", u.password);
    if (r) freeReplyObject(r);
    r = redisCommand(c, "SELECT %d", u.db);
    if (r) freeReplyObject(r);
    return c;
}

int lg_prep(const char *url, const char *prefix, size_t n, size_t room_size,
            size_t min_rooms, lg_users *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (room_size == 0) room_size = n ? n : 1;
    keys_init(prefix);
    if (token_init() != 0) {
        snprintf(err, errlen, "libsodium init failed");
        return -1;
    }
    pipe_t p = {.c = connect_url(url, err, errlen), .err = err, .errlen = errlen};
    if (!p.c) return -1;
    out->n = n;
    out->room_size = room_size;
    out->nrooms = (n + room_size - 1) / room_size;
    if (out->nrooms < min_rooms) out->nrooms = min_rooms;
    out->token = xcalloc(n ? n : 1, sizeof *out->token);
    out->id = xcalloc(n ? n : 1, sizeof *out->id);
    out->room = xcalloc(out->nrooms ? out->nrooms : 1, sizeof *out->room);
    char tag[7];
    token_id(tag, 6);
    char key[KEYS_MAX], key2[KEYS_MAX], name[64], email[96], now[24], hash[TOKEN_HASH_LEN + 1];
    int64_t t0 = now_ms();
    snprintf(now, sizeof now, "%" PRId64, t0);
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(out->id[i], LG_ID_MAX, "lg%su%zu", tag, i);
        token_new(out->token[i]);
        token_hash(out->token[i], TOKEN_LEN, hash);
        snprintf(name, sizeof name, "lg-user-%zu", i);
        snprintf(email, sizeof email, "lg-user-%zu-%s@bench.example", i, tag);
        keys_session(key, sizeof key, hash);
        const char *set[] = {"SET", key, out->id[i], "EX", "86400"};
        keys_user(key2, sizeof key2, out->id[i]);
        const char *hset[] = {"HSET", key2, "id", out->id[i], "name", name, "email", email, "createdAt", now};
        if (cmd(&p, 5, set) || cmd(&p, 10, hset)) goto out;
        keys_user_email(key, sizeof key, email);
        const char *mail[] = {"SET", key, out->id[i]};
        if (cmd(&p, 3, mail)) goto out;
    }
    for (size_t r = 0; r < out->nrooms; r++) {
        snprintf(out->room[r], LG_ID_MAX, "lg%sr%zu", tag, r);
        snprintf(name, sizeof name, "bench room %zu", r);
        keys_room(key, sizeof key, out->room[r]);
        const char *creator = n ? out->id[r * room_size < n ? r * room_size : 0] : "nobody";
        char created[32]; /* a millisecond apart, so "newest first" is well defined */
        snprintf(created, sizeof created, "%" PRId64, t0 + (int64_t)r);
        const char *hset[] = {"HSET", key, "id", out->room[r], "name", name, "createdBy", creator, "createdAt", created};
        keys_rooms(key2, sizeof key2);
        const char *zadd[] = {"ZADD", key2, created, out->room[r]};
        if (cmd(&p, 10, hset) || cmd(&p, 4, zadd)) goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *room = out->room[i / room_size];
        keys_room_members(key, sizeof key, room);
        const char *sadd[] = {"SADD", key, out->id[i]};
        keys_user_rooms(key2, sizeof key2, out->id[i]);
        const char *sadd2[] = {"SADD", key2, room};
        if (cmd(&p, 3, sadd) || cmd(&p, 3, sadd2)) goto out;
    }
    rc = drain(&p);
out:
    redisFree(p.c);
    if (rc != 0) lg_users_free(out);
    return rc;
}

void lg_users_free(lg_users *u)
{
    free(u->token);
    free(u->id);
    free(u->room);
    memset(u, 0, sizeof *u);
}
