/* history.c - GET /api/rooms/{id}/messages: a page of a room's stored messages, for
 * members only, paged by offset (?before= / ?after=, ?limit=).
 *
 * Redis holds the newest HISTORY_SIZE messages of a room; everything older is in the
 * archive (chat-archiver copies every message there). One page may need both: the
 * Redis step (store_rooms.c) says which offsets it holds (oldest .. newest, one
 * epoch), and the rest of the page is read from the archive for the same room and
 * epoch, strictly below the oldest offset Redis still has, so the two parts meet
 * without a gap or a duplicate. The archive is only asked when the page reaches below
 * Redis; when it is needed and cannot answer, the request fails with 503 rather than
 * returning a short page that would look like the start of the room.
 *
 * The bodies are sent exactly as they were delivered over STOMP (stored by the relay's
 * send script, copied unchanged into the archive), so the answer is written as text
 * around them instead of being parsed and serialised again. Deliberately not here:
 * reading Redis (store_rooms.c), SQL (archive/). */
#include "api.h"
#include "archive_api.h"
#include "buf.h"
#include "router.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_LIMIT_DEFAULT 50
#define HISTORY_LIMIT_MAX 100

/* The archive part of a page: copies of the bodies (a row lives only in its callback). */
typedef struct older {
    size_t n;
    long long below; /* keep only rows with offset < below */
    char *bodies[HISTORY_LIMIT_MAX];
} older;

static void on_row(const archive_msg *m, void *ud)
{
    older *o = ud;
    if (m->offset >= o->below || o->n >= HISTORY_LIMIT_MAX) return;
    o->bodies[o->n++] = xstrdup(m->body);
}

static void older_free(older *o)
{
    for (size_t i = 0; i < o->n; i++) free(o->bodies[i]);
    o->n = 0;
}

/* Read the part of the page that is older than what Redis holds into *o: archive
 * rows of (room, h->epoch) with offset < below, the newest `want` of those before
 * `before` (before > 0), or the oldest `want` after `after`. CHAT_OK or CHAT_EUNAVAIL. */
static chat_rc read_older(api_req *req, const api_history *h, long long before, long long after, long long below,
                          size_t want, older *o)
{
    o->below = below;
    archive *a = api_archive();
    if (!a) return api_fail(req, CHAT_EUNAVAIL, "the message archive is unavailable, try again shortly");
    if (archive_range(a, req->params[0], h->epoch, before, after, (int)want, on_row, o) < 0) {
        older_free(o);
        api_archive_failed("history");
        return api_fail(req, CHAT_EUNAVAIL, "the message archive is unavailable, try again shortly");
    }
    return CHAT_OK;
}

/* Fill the page from the archive where Redis ends. On return *o holds the rows that
 * come before h's rows (every mode: the archive part is always the older part), and
 * *redis_take how many of h's rows follow them. */
static chat_rc continue_in_archive(api_req *req, enum api_history_mode mode, long long at, size_t limit,
                                   const api_history *h, older *o, size_t *redis_take)
{
    *redis_take = h->n;
    if (!h->epoch[0] || h->offset <= 0) return CHAT_OK; /* no history at all */
    /* Redis holds [low, h->offset]; with an empty stream, nothing. */
    long long low = h->oldest > 0 ? h->oldest : h->offset + 1;
    if (low <= 1) return CHAT_OK; /* all of the room's history is in Redis */
    if (mode == API_HISTORY_AFTER) {
        if (at + 1 >= low) return CHAT_OK;
        chat_rc rc = read_older(req, h, 0, at, low, limit, o);
        if (rc != CHAT_OK) return rc;
        *redis_take = limit - o->n < h->n ? limit - o->n : h->n;
        return CHAT_OK;
    }
    if (h->n >= limit) return CHAT_OK;
    /* newest / before: the page continues below the oldest row Redis gave, or below
     * `at` when Redis had nothing under it */
    long long below = h->n ? h->offs[0] : mode == API_HISTORY_BEFORE ? (at < low ? at : low) : low;
    if (below <= 1) return CHAT_OK;
    return read_older(req, h, below, 0, below, limit - h->n, o);
}

/* GET /api/rooms/{id}/messages -> 200 {"messages": [...], "epoch", "offset"}. */
chat_rc api_rooms_messages(api_req *req)
{
    long limit = HISTORY_LIMIT_DEFAULT, before = 0, after = 0;
    int l = api_query_int(req, "limit", 1, HISTORY_LIMIT_MAX, &limit);
    int b = l < 0 ? -1 : api_query_int(req, "before", 0, 999999999999999L, &before);
    int a = b < 0 ? -1 : api_query_int(req, "after", 0, 999999999999999L, &after);
    if (l < 0 || b < 0 || a < 0) return CHAT_EINVALID;
    if (a == 1 && b == 1) return api_fail(req, CHAT_EINVALID, "give before or after, not both");
    enum api_history_mode mode = b == 1 ? API_HISTORY_BEFORE : a == 1 ? API_HISTORY_AFTER : API_HISTORY_NEWEST;
    long long at = b == 1 ? before : after;
    api_history h;
    chat_rc rc = api_store_history(req->redis, req->params[0], req->user_id, mode, at, (size_t)limit, &h);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, "room not found");
    if (rc == CHAT_EFORBIDDEN) return api_fail(req, rc, "not a member of this room");
    if (rc != CHAT_OK) return rc;
    older o = {0};
    size_t take = 0;
    rc = continue_in_archive(req, mode, at, (size_t)limit, &h, &o, &take);
    if (rc != CHAT_OK) {
        api_history_free(&h);
        return rc;
    }
    buf out;
    buf_init(&out, 0);
    buf_puts(&out, "{\"messages\":[");
    size_t k = 0;
    for (size_t i = 0; i < o.n; i++, k++) {
        if (k) buf_putc(&out, ',');
        buf_puts(&out, o.bodies[i]);
    }
    for (size_t i = 0; i < take; i++, k++) {
        if (k) buf_putc(&out, ',');
        buf_append(&out, h.bodies[i], h.lens[i]);
    }
    /* The epoch is one this project's relay wrote (URL-safe characters only). */
    buf_printf(&out, "],\"epoch\":\"%s\",\"offset\":%lld}", h.epoch, h.offset);
    api_history_free(&h);
    older_free(&o);
    req->out_owned = xmalloc(out.len ? out.len : 1);
    memcpy(req->out_owned, buf_data(&out), out.len);
    rc = api_reply_raw(req, 200, req->out_owned, out.len);
    buf_free(&out);
    return rc;
}
