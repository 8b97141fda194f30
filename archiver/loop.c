/* loop.c - the consumer loop; see loop.h.
 *
 * Each turn reads up to ARCHIVE_BATCH feed entries with XREADGROUP: first this
 * consumer's own pending entries (ID 0: what it had read before a crash, a restart or
 * a lost connection, and what it claimed from a dead consumer with XAUTOCLAIM), then
 * new ones (">", BLOCK 1000 ms). The batch goes to archive_put() in one transaction
 * (retried with backoff while the archive fails; nothing is acknowledged meanwhile);
 * then XACK and XDEL. The archive skips ids it has, so a re-delivered entry is stored
 * once.
 *
 * Lost feed entries: the relay trims the feed to about ARCHIVE_BACKLOG_MAX entries, so
 * a long outage loses the oldest unread ones. Redis tells: the stream's
 * max-deleted-entry-id is above the group's last-delivered-id (trimmed unread), a
 * pending entry comes back without fields, or XAUTOCLAIM reports deleted ids (trimmed
 * while pending). Any of them starts a back-fill: every room's Redis history (its last
 * HISTORY_SIZE messages) is written to the archive, skipping what is there. */
#include "loop.h"
#include "archive.h"
#include "feed.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct state {
    const archiver_conf *conf;
    volatile sig_atomic_t *stop;
    archive *arc;
    rconn *r;
    char feed[KEYS_MAX];
    int group_ok;
    int pending_mode;       /* read our own pending entries (ID 0) before new ones */
    int backfill_needed;
    stream_id backfilled_upto; /* max-deleted-entry-id already answered by a back-fill */
    int64_t next_stats, next_claim, next_expire;
    int backoff_ms;
    feed_entry *ents;       /* conf->batch entries */
    archive_msg *msgs;
    const char **ack_ids;   /* "XACK", feed, group, ids... (ids owned by ents[].sid or reply) */
    size_t *ack_lens;
} state;

/* ---- small helpers -------------------------------------------------------------------- */

/* Sleep ms, waking early when told to stop. */
static void nap(state *s, int ms)
{
    while (ms > 0 && !*s->stop) {
        int step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* After a failure: wait, doubling from 100 ms up to cap_ms (Redis: 1 s, a cheap
 * reconnect; the archive: 5 s). */
static void back_off(state *s, int cap_ms)
{
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 100;
    if (s->backoff_ms > cap_ms) s->backoff_ms = cap_ms;
    nap(s, s->backoff_ms);
}

/* A reply that is usable (not NULL, not an error). Counts and logs failures; a NOGROUP
 * error means the group is gone (Redis lost its data): create it again next turn. */
static int redis_ok(state *s, redisReply *r, const char *what)
{
    if (r && r->type != REDIS_REPLY_ERROR) {
        atomic_store(&am.redis_up, 1);
        return 1;
    }
    atomic_fetch_add(&am.errors[AM_ERR_REDIS], 1);
    if (!r) {
        if (atomic_exchange(&am.redis_up, 0)) log_warn("redis", "state=down op=%s", what);
    } else {
        if (strncmp(r->str, "NOGROUP", 7) == 0) s->group_ok = 0;
        log_warn("redis", "op=%s err=%s", what, log_q(0, r->str));
    }
    s->pending_mode = 1; /* whatever was in flight may be pending for us now */
    return 0;
}

static int64_t reply_int(const redisReply *r)
{
    if (!r) return -1;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) return strtoll(r->str, NULL, 10);
    return -1;
}

/* The value of key in a flat key/value array reply (XINFO in RESP2), or NULL. */
static const redisReply *map_get(const redisReply *r, const char *key)
{
    if (!r || r->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, key) == 0)
            return r->element[i + 1];
    return NULL;
}

static int reply_sid(const redisReply *r, stream_id *out)
{
    return r && r->type == REDIS_REPLY_STRING ? stream_id_parse(r->str, r->len, out) : -1;
}

/* ---- the group ------------------------------------------------------------------------ */

static int ensure_group(state *s)
{
    redisReply *r = rconn_cmd(s->r, "XGROUP CREATE %s %s 0 MKSTREAM", s->feed, ARCHIVER_GROUP);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) == 0) {
        freeReplyObject(r);
        s->group_ok = 1;
        return 0;
    }
    int ok = redis_ok(s, r, "xgroup-create");
    if (ok) log_info("group", "state=created stream=%s group=%s", log_q(0, s->feed), ARCHIVER_GROUP);
    if (r) freeReplyObject(r);
    if (!ok) return -1;
    s->group_ok = 1;
    s->pending_mode = 1;
    return 0;
}

/* Gauges for /metrics, and the trimmed-unread check. */
static void stats(state *s)
{
    redisReply *st = rconn_cmd(s->r, "XINFO STREAM %s", s->feed);
    if (!redis_ok(s, st, "xinfo-stream")) {
        if (st) freeReplyObject(st);
        return;
    }
    redisReply *gr = rconn_cmd(s->r, "XINFO GROUPS %s", s->feed);
    if (!redis_ok(s, gr, "xinfo-groups")) {
        if (gr) freeReplyObject(gr);
        freeReplyObject(st);
        return;
    }
    atomic_store(&am.length, reply_int(map_get(st, "length")));
    /* Archived entries are deleted: the first entry is the oldest not archived yet, and
     * its id is the Redis time (ms) it was appended. */
    const redisReply *first = map_get(st, "first-entry");
    stream_id fid;
    int64_t lag_ms = 0;
    if (first && first->type == REDIS_REPLY_ARRAY && first->elements >= 1 && reply_sid(first->element[0], &fid) == 0)
        lag_ms = now_ms() - (int64_t)fid.ms;
    atomic_store(&am.lag_ms, lag_ms > 0 ? lag_ms : 0);
    const redisReply *g = NULL;
    for (size_t i = 0; gr->type == REDIS_REPLY_ARRAY && i < gr->elements; i++) {
        const redisReply *name = map_get(gr->element[i], "name");
        if (name && name->type == REDIS_REPLY_STRING && strcmp(name->str, ARCHIVER_GROUP) == 0) g = gr->element[i];
    }
    if (g) {
        atomic_store(&am.pending, reply_int(map_get(g, "pending")));
        const redisReply *lag = map_get(g, "lag");
        atomic_store(&am.lag, lag && lag->type == REDIS_REPLY_INTEGER ? lag->integer : -1);
        stream_id deleted, delivered;
        if (reply_sid(map_get(st, "max-deleted-entry-id"), &deleted) == 0 &&
            reply_sid(map_get(g, "last-delivered-id"), &delivered) == 0 && stream_id_cmp(deleted, delivered) > 0 &&
            stream_id_cmp(deleted, s->backfilled_upto) > 0) {
            log_warn("feed", "problem=\"entries trimmed before the archiver read them\" max-deleted=%llu-%llu "
                             "last-delivered=%llu-%llu action=back-fill",
                     (unsigned long long)deleted.ms, (unsigned long long)deleted.seq,
                     (unsigned long long)delivered.ms, (unsigned long long)delivered.seq);
            atomic_fetch_add(&am.lost_detected, 1);
            s->backfill_needed = 1;
            s->backfilled_upto = deleted;
        }
    } else {
        s->group_ok = 0;
    }
    freeReplyObject(gr);
    freeReplyObject(st);
}

/* Take over entries another consumer has held for claim_idle_ms (it died). */
static void claim(state *s)
{
    char idle[24], count[24];
    snprintf(idle, sizeof idle, "%d", s->conf->claim_idle_ms);
    snprintf(count, sizeof count, "%d", s->conf->batch);
    char cursor[48] = "0-0";
    for (int rounds = 0; rounds < 100 && !*s->stop; rounds++) {
        redisReply *r = rconn_cmd(s->r, "XAUTOCLAIM %s %s %s %s %s COUNT %s JUSTID", s->feed, ARCHIVER_GROUP,
                                  s->conf->consumer, idle, cursor, count);
        if (!redis_ok(s, r, "xautoclaim") || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
            if (r) freeReplyObject(r);
            return;
        }
        size_t got = r->element[1]->type == REDIS_REPLY_ARRAY ? r->element[1]->elements : 0;
        size_t gone = r->elements > 2 && r->element[2]->type == REDIS_REPLY_ARRAY ? r->element[2]->elements : 0;
        if (got) {
            log_info("claim", "entries=%zu", got);
            s->pending_mode = 1;
        }
        if (gone) {
            log_warn("feed", "problem=\"pending entries were trimmed before being archived\" entries=%zu action=back-fill",
                     gone);
            atomic_fetch_add(&am.lost_detected, 1);
            s->backfill_needed = 1;
        }
        int done = r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "0-0") == 0;
        if (!done) snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        freeReplyObject(r);
        if (done) return;
    }
}

/* ---- writing ----------------------------------------------------------------------------- */

/* archive_put, retried with backoff until it succeeds or we are told to stop.
 * 0 (committed), -1 (stopping: nothing committed). */
static int put(state *s, const archive_msg *m, size_t n, size_t *inserted)
{
    int failures = 0;
    for (;;) {
        int64_t t0 = mono_us();
        if (archive_put(s->arc, m, n, inserted) == 0) {
            am_commit_observe((uint64_t)(mono_us() - t0));
            atomic_store(&am.last_commit_ms, now_ms());
            if (!atomic_exchange(&am.archive_up, 1) || failures)
                log_info("archive", "state=up rows=%zu", n);
            s->backoff_ms = 0;
            return 0;
        }
        atomic_fetch_add(&am.errors[AM_ERR_ARCHIVE], 1);
        atomic_store(&am.archive_up, 0);
        if (failures++ % 20 == 0) log_warn("archive", "op=put rows=%zu err=%s", n, log_q(0, archive_error(s->arc)));
        if (*s->stop) return -1;
        back_off(s, 5000);
        if (*s->stop) return -1;
    }
}

/* XACK and XDEL the ids (in s->ack_ids from index 3). */
static void ack(state *s, size_t nids)
{
    if (nids == 0) return;
    s->ack_ids[0] = "XACK";
    s->ack_ids[1] = s->feed;
    s->ack_ids[2] = ARCHIVER_GROUP;
    for (int i = 0; i < 3; i++) s->ack_lens[i] = strlen(s->ack_ids[i]);
    redisReply *r = rconn_cmdargv(s->r, (int)nids + 3, s->ack_ids, s->ack_lens);
    int ok = redis_ok(s, r, "xack");
    if (r) freeReplyObject(r);
    if (!ok) return;
    /* XDEL after XACK: the feed holds only what is not archived yet (XDEL takes the
     * key then the ids: reuse the array from index 1). */
    s->ack_ids[1] = "XDEL";
    s->ack_ids[2] = s->feed;
    s->ack_lens[1] = 4;
    s->ack_lens[2] = strlen(s->feed);
    r = rconn_cmdargv(s->r, (int)nids + 2, s->ack_ids + 1, s->ack_lens + 1);
    (void)redis_ok(s, r, "xdel");
    if (r) freeReplyObject(r);
}

/* One XREADGROUP and what follows. Returns entries read (0: none), or -1. */
static int turn(state *s)
{
    char count[24];
    snprintf(count, sizeof count, "%d", s->conf->batch);
    redisReply *r;
    if (s->pending_mode)
        r = rconn_cmd(s->r, "XREADGROUP GROUP %s %s COUNT %s STREAMS %s 0", ARCHIVER_GROUP, s->conf->consumer, count,
                      s->feed);
    else
        r = rconn_cmd(s->r, "XREADGROUP GROUP %s %s COUNT %s BLOCK 1000 STREAMS %s >", ARCHIVER_GROUP,
                      s->conf->consumer, count, s->feed);
    if (!redis_ok(s, r, "xreadgroup")) {
        if (r) freeReplyObject(r);
        return -1;
    }
    const redisReply *list = NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == 2)
        list = r->element[0]->element[1];
    size_t n = list && list->type == REDIS_REPLY_ARRAY ? list->elements : 0;
    if (n == 0) {
        if (s->pending_mode) s->pending_mode = 0;
        freeReplyObject(r);
        return 0;
    }
    if (n > (size_t)s->conf->batch) n = (size_t)s->conf->batch;
    size_t nm = 0, nids = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = list->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING) continue;
        const redisReply *id = e->element[0], *fields = e->element[1];
        s->ack_ids[3 + nids] = id->str;
        s->ack_lens[3 + nids] = id->len;
        nids++;
        if (fields->type != REDIS_REPLY_ARRAY) {
            /* a pending entry that was deleted (trimmed) before we archived it */
            atomic_fetch_add(&am.lost_detected, 1);
            s->backfill_needed = 1;
            log_warn("feed", "problem=\"a pending entry was trimmed before being archived\" id=%s action=back-fill",
                     log_q(0, id->str));
            continue;
        }
        const redisReply *body = NULL;
        for (size_t k = 0; k + 1 < fields->elements; k += 2)
            if (fields->element[k]->type == REDIS_REPLY_STRING && strcmp(fields->element[k]->str, "m") == 0)
                body = fields->element[k + 1];
        const char *why = "no field m";
        if (body && body->type == REDIS_REPLY_STRING && feed_parse(&s->ents[nm], body->str, body->len, &why) == 0) {
            s->msgs[nm] = s->ents[nm].msg;
            nm++;
            continue;
        }
        feed_entry_clear(&s->ents[nm]);
        atomic_fetch_add(&am.errors[AM_ERR_MALFORMED], 1);
        log_error("feed", "problem=\"not a stored message; acknowledged without archiving\" id=%s why=%s",
                  log_q(0, id->str), log_q(1, why));
    }
    size_t inserted = 0;
    int rc = put(s, s->msgs, nm, &inserted);
    for (size_t i = 0; i < nm; i++) feed_entry_clear(&s->ents[i]);
    if (rc == 0) {
        if (nm) atomic_fetch_add(&am.batches, 1);
        atomic_fetch_add(&am.archived, inserted);
        atomic_fetch_add(&am.duplicates, nm - inserted);
        log_debug("batch", "entries=%zu archived=%zu duplicates=%zu pending=%d", n, inserted, nm - inserted,
                  s->pending_mode);
        ack(s, nids);
    }
    freeReplyObject(r);
    return rc == 0 ? (int)n : -1;
}

/* ---- back-fill ------------------------------------------------------------------------------ */

/* Write one room's Redis history to the archive. 0, or -1 (Redis, archive or stop). */
static int backfill_room(state *s, const char *room, size_t *added)
{
    char hist[KEYS_MAX];
    if (keys_room_history(hist, sizeof hist, room) == 0) return 0;
    char start[48] = "-", count[24];
    snprintf(count, sizeof count, "%d", s->conf->batch);
    for (;;) {
        redisReply *r = rconn_cmd(s->r, "XRANGE %s %s + COUNT %s", hist, start, count);
        if (!redis_ok(s, r, "xrange-history")) {
            if (r) freeReplyObject(r);
            return -1;
        }
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0, nm = 0;
        for (size_t i = 0; i < n; i++) {
            const redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[1]->type != REDIS_REPLY_ARRAY ||
                e->element[1]->elements < 2)
                continue;
            const redisReply *body = e->element[1]->element[1];
            const char *why;
            if (body->type == REDIS_REPLY_STRING && feed_parse(&s->ents[nm], body->str, body->len, &why) == 0) {
                s->msgs[nm] = s->ents[nm].msg;
                nm++;
            } else {
                feed_entry_clear(&s->ents[nm]);
            }
        }
        size_t ins = 0;
        int rc = put(s, s->msgs, nm, &ins);
        for (size_t i = 0; i < nm; i++) feed_entry_clear(&s->ents[i]);
        *added += ins;
        if (rc == 0) atomic_fetch_add(&am.backfilled, ins);
        if (rc != 0 || n < (size_t)s->conf->batch) {
            freeReplyObject(r);
            return rc;
        }
        /* next page: after the last id ("(" = exclusive) */
        const redisReply *last = r->element[n - 1]->element[0];
        snprintf(start, sizeof start, "(%s", last->type == REDIS_REPLY_STRING ? last->str : "+");
        freeReplyObject(r);
    }
}

static void backfill(state *s)
{
    char rooms[KEYS_MAX];
    keys_rooms(rooms, sizeof rooms);
    redisReply *r = rconn_cmd(s->r, "ZRANGE %s 0 -1", rooms);
    if (!redis_ok(s, r, "zrange-rooms")) {
        if (r) freeReplyObject(r);
        return;
    }
    int64_t t0 = mono_ms();
    size_t added = 0, done = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !*s->stop; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) continue;
        if (backfill_room(s, r->element[i]->str, &added) != 0) break;
        done++;
    }
    size_t total = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    freeReplyObject(r);
    if (done == total) s->backfill_needed = 0;
    log_info("back-fill", "rooms=%zu of=%zu archived=%zu ms=%lld complete=%s", done, total, added,
             (long long)(mono_ms() - t0), done == total ? "yes" : "no");
}

/* ---- retention ---------------------------------------------------------------------------- */

static void expire(state *s)
{
    long long before = (long long)now_ms() - (long long)s->conf->retention_days * 86400000LL, n = 0;
    if (archive_expire(s->arc, before, &n) != 0) {
        atomic_fetch_add(&am.errors[AM_ERR_ARCHIVE], 1);
        log_warn("archive", "op=expire err=%s", log_q(0, archive_error(s->arc)));
        return;
    }
    atomic_fetch_add(&am.expired, (uint64_t)n);
    if (n) log_info("retention", "deleted=%lld days=%d", n, s->conf->retention_days);
}

/* ---- the loop --------------------------------------------------------------------------------- */

static archive *open_archive(state *s)
{
    for (int failures = 0; !*s->stop; failures++) {
        char err[300];
        archive *a = archive_open(s->conf->archive_url, err, sizeof err);
        if (a) {
            atomic_store(&am.archive_up, 1);
            return a;
        }
        atomic_fetch_add(&am.errors[AM_ERR_ARCHIVE], 1);
        if (failures % 20 == 0) log_warn("archive", "op=open err=%s", log_q(0, err));
        back_off(s, 5000);
    }
    return NULL;
}

int archiver_run(const archiver_conf *conf, volatile sig_atomic_t *stop)
{
    state st = {.conf = conf, .stop = stop, .pending_mode = 1, .backfill_needed = 0};
    state *s = &st;
    keys_archive_feed(s->feed, sizeof s->feed);
    s->ents = xcalloc((size_t)conf->batch, sizeof *s->ents);
    s->msgs = xcalloc((size_t)conf->batch, sizeof *s->msgs);
    s->ack_ids = xcalloc((size_t)conf->batch + 3, sizeof *s->ack_ids);
    s->ack_lens = xcalloc((size_t)conf->batch + 3, sizeof *s->ack_lens);
    atomic_store(&am.lag, -1);
    s->r = rconn_new(&conf->redis, conf->redis_timeout_ms);
    s->arc = open_archive(s);
    while (s->arc && !*stop) {
        if (!s->group_ok && ensure_group(s) != 0) {
            back_off(s, 1000);
            continue;
        }
        int64_t now = mono_ms();
        if (now >= s->next_stats) {
            stats(s);
            s->next_stats = now + 2000;
        }
        if (now >= s->next_claim) {
            claim(s);
            s->next_claim = now + 10000;
        }
        if (conf->retention_days > 0 && now >= s->next_expire) {
            expire(s);
            s->next_expire = now + (int64_t)conf->expire_seconds * 1000;
        }
        if (s->backfill_needed && s->group_ok) backfill(s);
        int n = turn(s);
        if (n < 0) back_off(s, 1000);
        else s->backoff_ms = 0;
    }
    archive_close(s->arc);
    rconn_free(s->r);
    free(s->ents);
    free(s->msgs);
    free(s->ack_ids);
    free(s->ack_lens);
    return 0;
}
