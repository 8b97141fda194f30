/* store_rooms.c - rooms in Redis: create, join, leave, read, and the newest-first
 * pages of the `rooms` sorted set. See store.h.
 *
 * The four structures (room hash, rooms zset, room members set, user rooms set) only
 * change together, inside Lua scripts, so a member of a room that does not exist
 * cannot appear. Reads are pipelined plain commands; they may see a room a moment
 * before or after a concurrent join, never a half-made one. Nothing here decides
 * what a client may do or how a room is shown. */
#include "store.h"
#include "keys.h"
#include "log.h"
#include "scripts.h"
#include "token.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every script that changes what GET /api/rooms shows (a room, the rooms set, a
 * member count) also sets the rooms version key to a fresh random value, in the same
 * atomic step. Page caches (rooms.c) are valid only while the version is unchanged,
 * so no client can see a page older than a write it has been told about. Random
 * rather than INCR: after a FLUSHALL a counter would restart and repeat old values. */

static api_script create_script = {.src = script_room_create};
static api_script join_script = {.src = script_room_join};
static api_script leave_script = {.src = script_room_leave};
static api_script page_script = {.src = script_rooms_page};
static api_script history_script = {.src = script_history};

/* A fresh rooms version value (key: keys_rooms_version()) into v[API_VERSION_LEN + 1]: a random prefix drawn
 * once per process plus a counter. Unique across processes and restarts like a
 * random value, but without drawing 16 random characters on every join. */
static void new_version(char *v)
{
    static char prefix[11];
    static unsigned long long counter;
    if (!prefix[0]) token_id(prefix, sizeof prefix - 1);
    snprintf(v, API_VERSION_LEN + 1, "%s.%llx", prefix, ++counter);
}

/* Fill *r from the four HMGET values id name createdBy createdAt at v[0..3].
 * Returns 1, 0 when the room is missing (id nil), -1 when the record is corrupt. */
static int room_from(redisReply **v, api_room *r)
{
    if (v[0]->type == REDIS_REPLY_NIL) return 0;
    char ts[24];
    long t;
    if (!api_store_copy(r->id, sizeof r->id, v[0]) || !api_store_copy(r->name, sizeof r->name, v[1]) ||
        !api_store_copy(r->created_by, sizeof r->created_by, v[2]) || !api_store_copy(ts, sizeof ts, v[3]) ||
        parse_long(ts, 0, INT64_MAX, &t) != 0) {
        log_error("store", "problem=\"corrupt room record\"");
        return -1;
    }
    r->created_at = t;
    return 1;
}

/* Load rooms ids[0..n) (room hash and member count) with one pipeline into out[],
 * which has room for n; rooms that no longer exist are skipped. *nout = rooms
 * loaded. The ids stay owned by the caller. */
static chat_rc load_rooms(rconn *c, char **ids, size_t n, api_room *out, size_t *nout)
{
    size_t appended = 0, want = 2 * n;
    chat_rc rc = CHAT_OK;
    *nout = 0;
    for (size_t i = 0; i < n; i++) {
        char kroom[KEYS_MAX], kmem[KEYS_MAX];
        if (!keys_room(kroom, sizeof kroom, ids[i]) || !keys_room_members(kmem, sizeof kmem, ids[i])) {
            rc = CHAT_EINTERNAL;
            break;
        }
        if (rconn_append(c, "HMGET %s id name createdBy createdAt", kroom) != 0) break;
        appended++;
        if (rconn_append(c, "SCARD %s", kmem) != 0) break;
        appended++;
    }
    if (rc == CHAT_OK && appended < want) rc = CHAT_EUNAVAIL;
    /* Collect every reply appended, even after a failure, so none is left behind
     * on the connection for the next command to read. */
    for (size_t i = 0; i < appended; i += 2) {
        redisReply *h = rconn_get_reply(c);
        redisReply *s = i + 1 < appended ? rconn_get_reply(c) : NULL;
        if (rc == CHAT_OK) rc = api_store_check(h, "room-load");
        if (rc == CHAT_OK) rc = api_store_check(s, "room-count");
        if (rc == CHAT_OK && (h->type != REDIS_REPLY_ARRAY || h->elements != 4 || s->type != REDIS_REPLY_INTEGER))
            rc = CHAT_EINTERNAL;
        if (rc == CHAT_OK) {
            int got = room_from(h->element, &out[*nout]);
            if (got < 0) rc = CHAT_EINTERNAL;
            else if (got > 0) out[(*nout)++].member_count = s->integer;
        }
        if (h) freeReplyObject(h);
        if (s) freeReplyObject(s);
    }
    return rc;
}

chat_rc api_store_room_create(rconn *c, const api_room *r)
{
    char kroom[KEYS_MAX], krooms[KEYS_MAX], kmem[KEYS_MAX], kur[KEYS_MAX], kver[KEYS_MAX], created[24];
    char ver[API_VERSION_LEN + 1];
    if (!keys_room(kroom, sizeof kroom, r->id) || !keys_rooms(krooms, sizeof krooms) ||
        !keys_room_members(kmem, sizeof kmem, r->id) || !keys_user_rooms(kur, sizeof kur, r->created_by) ||
        !keys_rooms_version(kver, sizeof kver))
        return CHAT_EINTERNAL;
    snprintf(created, sizeof created, "%lld", (long long)r->created_at);
    new_version(ver);
    const char *keys[] = {kroom, krooms, kmem, kur, kver};
    const char *args[] = {r->id, r->name, r->created_by, created, ver};
    redisReply *rep = api_store_eval(c, &create_script, 5, keys, 5, args);
    chat_rc rc = api_store_check(rep, "room-create");
    if (rc == CHAT_OK) rc = rep->type != REDIS_REPLY_INTEGER ? CHAT_EINTERNAL : rep->integer == 1 ? CHAT_OK : CHAT_ECONFLICT;
    if (rep) freeReplyObject(rep);
    return rc;
}

static int member_cmp(const void *a, const void *b)
{
    const api_member *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : strcmp(x->id, y->id);
}

/* Set m[i].online for the members counted in the room's online hash (user -> number
 * of relays holding a live subscription; only users with a count are in it). */
static chat_rc load_online(rconn *c, const char *id, api_member *m, size_t n)
{
    char kon[KEYS_MAX];
    if (!keys_room_online(kon, sizeof kon, id)) return CHAT_EINTERNAL;
    redisReply *h = rconn_cmd(c, "HGETALL %s", kon);
    chat_rc rc = api_store_check(h, "room-online");
    if (rc == CHAT_OK && h->type != REDIS_REPLY_ARRAY) rc = CHAT_EINTERNAL;
    for (size_t j = 0; rc == CHAT_OK && j + 1 < h->elements; j += 2) {
        const redisReply *u = h->element[j], *cnt = h->element[j + 1];
        if (u->type != REDIS_REPLY_STRING || cnt->type != REDIS_REPLY_STRING || atoll(cnt->str) <= 0) continue;
        for (size_t i = 0; i < n; i++)
            if (strlen(m[i].id) == u->len && memcmp(m[i].id, u->str, u->len) == 0) m[i].online = true;
    }
    if (h) freeReplyObject(h);
    return rc;
}

/* The members of room id (names from their user records, online flags) into a new
 * array. */
static chat_rc load_members(rconn *c, const char *id, api_member **members, size_t *n)
{
    char kmem[KEYS_MAX];
    *members = NULL;
    *n = 0;
    if (!keys_room_members(kmem, sizeof kmem, id)) return CHAT_EINTERNAL;
    redisReply *set = rconn_cmd(c, "SMEMBERS %s", kmem);
    chat_rc rc = api_store_check(set, "room-members");
    if (rc != CHAT_OK) goto done;
    if (set->type != REDIS_REPLY_ARRAY) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    api_member *m = xcalloc(set->elements ? set->elements : 1, sizeof *m);
    *members = m;
    size_t appended = 0;
    for (size_t i = 0; i < set->elements; i++) {
        char kuser[KEYS_MAX];
        if (!api_store_copy(m[i].id, sizeof m[i].id, set->element[i]) || !keys_user(kuser, sizeof kuser, m[i].id)) {
            rc = CHAT_EINTERNAL;
            break;
        }
        if (rconn_append(c, "HGET %s name", kuser) != 0) {
            rc = CHAT_EUNAVAIL;
            break;
        }
        appended++;
    }
    for (size_t i = 0; i < appended; i++) {
        redisReply *r = rconn_get_reply(c);
        if (rc == CHAT_OK) rc = api_store_check(r, "member-name");
        /* A member without a user record (never expected) is shown without a name. */
        if (rc == CHAT_OK && r->type != REDIS_REPLY_NIL && !api_store_copy(m[i].name, sizeof m[i].name, r))
            rc = CHAT_EINTERNAL;
        if (r) freeReplyObject(r);
    }
    if (rc == CHAT_OK) rc = load_online(c, id, m, set->elements);
    if (rc == CHAT_OK) {
        *n = set->elements;
        qsort(m, *n, sizeof *m, member_cmp);
    }
done:
    if (set) freeReplyObject(set);
    if (rc != CHAT_OK) {
        free(*members);
        *members = NULL;
    }
    return rc;
}

chat_rc api_store_room_get(rconn *c, const char *id, api_room *r, api_member **members, size_t *nmembers)
{
    char *ids[] = {(char *)id};
    size_t n;
    chat_rc rc = load_rooms(c, ids, 1, r, &n);
    if (rc == CHAT_OK && n == 0) rc = CHAT_ENOTFOUND;
    if (rc == CHAT_OK && members) {
        rc = load_members(c, id, members, nmembers);
        /* Report the list actually returned, so count and list agree. */
        if (rc == CHAT_OK) r->member_count = (long long)*nmembers;
    }
    return rc;
}

chat_rc api_store_room_join(rconn *c, const char *room_id, const char *user_id, api_room *r)
{
    char kroom[KEYS_MAX], kmem[KEYS_MAX], kur[KEYS_MAX], kver[KEYS_MAX], ver[API_VERSION_LEN + 1];
    if (!keys_room(kroom, sizeof kroom, room_id) || !keys_room_members(kmem, sizeof kmem, room_id) ||
        !keys_user_rooms(kur, sizeof kur, user_id) || !keys_rooms_version(kver, sizeof kver))
        return CHAT_EINTERNAL;
    new_version(ver);
    const char *keys[] = {kroom, kmem, kur, kver};
    const char *args[] = {user_id, room_id, ver};
    redisReply *rep = api_store_eval(c, &join_script, 4, keys, 3, args);
    chat_rc rc = api_store_check(rep, "room-join");
    if (rc != CHAT_OK) goto done;
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer == -1) {
        rc = CHAT_ENOTFOUND;
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 5 || rep->element[0]->type != REDIS_REPLY_INTEGER ||
               room_from(rep->element + 1, r) != 1) {
        rc = CHAT_EINTERNAL;
    } else {
        r->member_count = rep->element[0]->integer;
    }
done:
    if (rep) freeReplyObject(rep);
    return rc;
}

chat_rc api_store_room_leave(rconn *c, const char *room_id, const char *user_id, bool *room_exists)
{
    char kroom[KEYS_MAX], kmem[KEYS_MAX], kur[KEYS_MAX], chan[KEYS_MAX], kver[KEYS_MAX], ver[API_VERSION_LEN + 1];
    *room_exists = false;
    if (!keys_room(kroom, sizeof kroom, room_id) || !keys_room_members(kmem, sizeof kmem, room_id) ||
        !keys_user_rooms(kur, sizeof kur, user_id) || !keys_chan_left(chan, sizeof chan) ||
        !keys_rooms_version(kver, sizeof kver))
        return CHAT_EINTERNAL;
    new_version(ver);
    const char *keys[] = {kroom, kmem, kur, kver};
    const char *args[] = {user_id, room_id, chan, ver};
    redisReply *rep = api_store_eval(c, &leave_script, 4, keys, 4, args);
    chat_rc rc = api_store_check(rep, "room-leave");
    if (rc == CHAT_OK) {
        if (rep->type != REDIS_REPLY_INTEGER) rc = CHAT_EINTERNAL;
        else if (rep->integer == -1) rc = CHAT_ENOTFOUND;
        else if (rep->integer == 0) *room_exists = true, rc = CHAT_ENOTFOUND;
        else *room_exists = true;
    }
    if (rep) freeReplyObject(rep);
    return rc;
}

/* Load rooms named by the string replies ids[0..n) into a new array. */
static chat_rc load_room_list(rconn *c, redisReply **ids, size_t n, size_t stride, api_room **rooms, size_t *nrooms)
{
    char **names = xcalloc(n ? n : 1, sizeof *names);
    *rooms = xcalloc(n ? n : 1, sizeof **rooms);
    *nrooms = 0;
    chat_rc rc = CHAT_OK;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = ids[i * stride];
        if (e->type != REDIS_REPLY_STRING || e->len > API_ID_MAX) {
            rc = CHAT_EINTERNAL;
            goto done;
        }
        names[i] = e->str;
    }
    rc = load_rooms(c, names, n, *rooms, nrooms);
done:
    free(names);
    if (rc != CHAT_OK) {
        free(*rooms);
        *rooms = NULL;
        *nrooms = 0;
    }
    return rc;
}

chat_rc api_store_rooms_page(rconn *c, int64_t after_score, const char *after_id, size_t count,
                             api_room **rooms, size_t *n, bool *more, char *version)
{
    char krooms[KEYS_MAX], kver[KEYS_MAX], cnt[24], score[24];
    char ver[API_VERSION_LEN + 1];
    *rooms = NULL;
    *n = 0;
    *more = false;
    version[0] = '\0';
    if (!keys_rooms(krooms, sizeof krooms) || !keys_rooms_version(kver, sizeof kver)) return CHAT_EINTERNAL;
    snprintf(cnt, sizeof cnt, "%zu", count);
    snprintf(score, sizeof score, "%lld", (long long)after_score);
    new_version(ver);
    /* Step 1, atomic: the ids of the page (and one more) and the version they were
     * read at. Step 2, one pipeline: those rooms and their member counts. A write
     * between the two changes the version, so a page cached under the version read
     * in step 1 is only ever older than the next request's version, never newer. */
    const char *keys[] = {krooms, kver};
    const char *args[] = {cnt, ver, score, after_id};
    redisReply *rep = api_store_eval(c, &page_script, 2, keys, after_id ? 4 : 2, args);
    chat_rc rc = api_store_check(rep, "rooms-page");
    if (rc != CHAT_OK) goto done;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 || rep->elements - 1 > count + 1) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    /* A version we cannot hold (not written by this API) only means no caching. */
    char got_ver[API_VERSION_MAX + 1];
    if (!api_store_copy(got_ver, sizeof got_ver, rep->element[0])) got_ver[0] = '\0';
    rc = load_room_list(c, rep->element + 1, rep->elements - 1, 1, rooms, n);
    if (rc != CHAT_OK) goto done;
    if (*n > count) {
        *more = true;
        *n = count;
    }
    memcpy(version, got_ver, sizeof got_ver);
done:
    if (rep) freeReplyObject(rep);
    return rc;
}

static int room_newest_first(const void *a, const void *b)
{
    const api_room *x = a, *y = b;
    if (x->created_at != y->created_at) return x->created_at < y->created_at ? 1 : -1;
    return -strcmp(x->id, y->id);
}

chat_rc api_store_user_rooms(rconn *c, const char *user_id, api_room **rooms, size_t *n)
{
    char kur[KEYS_MAX];
    *rooms = NULL;
    *n = 0;
    if (!keys_user_rooms(kur, sizeof kur, user_id)) return CHAT_EINTERNAL;
    redisReply *rep = rconn_cmd(c, "SMEMBERS %s", kur);
    chat_rc rc = api_store_check(rep, "user-rooms");
    if (rc == CHAT_OK && rep->type != REDIS_REPLY_ARRAY) rc = CHAT_EINTERNAL;
    if (rc == CHAT_OK) rc = load_room_list(c, rep->element, rep->elements, 1, rooms, n);
    if (rc == CHAT_OK) qsort(*rooms, *n, sizeof **rooms, room_newest_first);
    if (rep) freeReplyObject(rep);
    return rc;
}

/* ---- search ----------------------------------------------------------------------------- */

void api_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

chat_rc api_store_search_rooms(rconn *c, const char *user_id, const char *room_id, char ***ids, size_t *n)
{
    char kur[KEYS_MAX], kroom[KEYS_MAX];
    *ids = NULL;
    *n = 0;
    if (!keys_user_rooms(kur, sizeof kur, user_id)) return CHAT_EINTERNAL;
    if (room_id) {
        if (!keys_room(kroom, sizeof kroom, room_id)) return CHAT_EINTERNAL;
        redisReply *rep = rconn_cmd(c, "SISMEMBER %s %s", kur, room_id);
        chat_rc rc = api_store_check(rep, "search-rooms");
        if (rc == CHAT_OK && rep->type != REDIS_REPLY_INTEGER) rc = CHAT_EINTERNAL;
        int member = rc == CHAT_OK && rep->integer == 1;
        if (rep) freeReplyObject(rep);
        if (rc != CHAT_OK) return rc;
        if (!member) {
            rep = rconn_cmd(c, "EXISTS %s", kroom);
            rc = api_store_check(rep, "search-rooms");
            if (rc == CHAT_OK && rep->type != REDIS_REPLY_INTEGER) rc = CHAT_EINTERNAL;
            if (rc == CHAT_OK) rc = rep->integer ? CHAT_EFORBIDDEN : CHAT_ENOTFOUND;
            if (rep) freeReplyObject(rep);
            return rc;
        }
        *ids = xcalloc(1, sizeof **ids);
        (*ids)[0] = xstrdup(room_id);
        *n = 1;
        return CHAT_OK;
    }
    redisReply *rep = rconn_cmd(c, "SMEMBERS %s", kur);
    chat_rc rc = api_store_check(rep, "search-rooms");
    if (rc == CHAT_OK && rep->type != REDIS_REPLY_ARRAY) rc = CHAT_EINTERNAL;
    if (rc == CHAT_OK) {
        *ids = xcalloc(rep->elements ? rep->elements : 1, sizeof **ids);
        for (size_t i = 0; i < rep->elements; i++) {
            const redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > API_ID_MAX) continue;
            (*ids)[(*n)++] = xstrndup(e->str, e->len);
        }
    }
    if (rep) freeReplyObject(rep);
    return rc;
}

/* ---- history -------------------------------------------------------------------------- */

void api_history_free(api_history *h)
{
    for (size_t i = 0; i < h->n; i++) free(h->bodies[i]);
    free(h->bodies);
    free(h->lens);
    free(h->offs);
    memset(h, 0, sizeof *h);
}

chat_rc api_store_history(rconn *c, const char *room_id, const char *user_id, enum api_history_mode mode,
                          long long offset, size_t limit, api_history *h)
{
    static const char *const modes[] = {"newest", "before", "after"};
    char kmem[KEYS_MAX], kroom[KEYS_MAX], kep[KEYS_MAX], kseq[KEYS_MAX], khist[KEYS_MAX], off[24], lim[24];
    memset(h, 0, sizeof *h);
    if (!keys_room_members(kmem, sizeof kmem, room_id) || !keys_room(kroom, sizeof kroom, room_id) ||
        !keys_room_epoch(kep, sizeof kep, room_id) || !keys_room_seq(kseq, sizeof kseq, room_id) ||
        !keys_room_history(khist, sizeof khist, room_id))
        return CHAT_EINTERNAL;
    snprintf(off, sizeof off, "%lld", offset);
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *keys[] = {kmem, kroom, kep, kseq, khist};
    const char *args[] = {user_id, modes[mode], off, lim};
    redisReply *rep = api_store_eval(c, &history_script, 5, keys, 4, args);
    chat_rc rc = api_store_check(rep, "history");
    if (rc != CHAT_OK) goto done;
    if (rep->type == REDIS_REPLY_INTEGER) {
        rc = rep->integer == -2 ? CHAT_ENOTFOUND : rep->integer == -1 ? CHAT_EFORBIDDEN : CHAT_EINTERNAL;
        goto done;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 || rep->elements % 2 == 0 ||
        rep->element[1]->type != REDIS_REPLY_INTEGER || rep->element[2]->type != REDIS_REPLY_INTEGER ||
        !api_store_copy(h->epoch, sizeof h->epoch, rep->element[0])) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    h->offset = rep->element[1]->integer;
    h->oldest = rep->element[2]->integer;
    size_t n = (rep->elements - 3) / 2;
    h->bodies = xcalloc(n ? n : 1, sizeof *h->bodies);
    h->lens = xcalloc(n ? n : 1, sizeof *h->lens);
    h->offs = xcalloc(n ? n : 1, sizeof *h->offs);
    for (size_t i = 0; i < n; i++) {
        const redisReply *o = rep->element[3 + 2 * i], *b = rep->element[4 + 2 * i];
        if (o->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_STRING) {
            rc = CHAT_EINTERNAL;
            break;
        }
        h->offs[h->n] = o->integer;
        h->bodies[h->n] = xstrndup(b->str, b->len);
        h->lens[h->n++] = b->len;
    }
    if (rc != CHAT_OK) api_history_free(h);
done:
    if (rep) freeReplyObject(rep);
    return rc;
}
