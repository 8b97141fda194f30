/* search.c - GET /api/search?q=&roomId=&limit=&cursor=: the caller's archived
 * messages that hold every word of q, best match first, each with a plain-text
 * snippet and the matched ranges in it (code points).
 *
 * Who may see what is decided at request time: the rooms are read from Redis
 * (P user:{id}:rooms, or the one roomId after a membership check: 404 for a room that
 * does not exist, 403 for one the caller is not in, as for the room's history) and
 * handed to the archive as part of the query, so a room the caller left stops
 * appearing at once and nothing of other rooms is ranked, counted or skipped over.
 * The cursor is the number of results already shown ("next" is null once fewer than
 * limit + 1 results remain, or after the best API_SEARCH_SKIP_MAX).
 *
 * Deliberately not here: splitting the query and building snippets (archive/query.c),
 * SQL (archive/archive_search_*.c), Redis keys (store_rooms.c). */
#include "api.h"
#include "archive_api.h"
#include "buf.h"
#include "cursor.h"
#include "json.h"
#include "query.h"
#include "router.h"
#include "store.h"
#include "util.h"
#include "valid.h"

#include <stdio.h>
#include <string.h>

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 50
#define SEARCH_Q_BYTES (QUERY_MAX_CP * 4 + 1) /* 200 code points of UTF-8 at most */

typedef struct page {
    const query *q;
    buf *out;
    int limit, rows;
} page;

/* Append s as a JSON string literal. */
static void put_json_string(buf *b, const char *s, size_t len)
{
    size_t need = json_escape(NULL, 0, s, len);
    buf_putc(b, '"');
    buf_reserve(b, need + 1);
    json_escape(buf_data(b) + b->len, need + 1, s, len);
    b->len += need;
    buf_putc(b, '"');
}

/* One archived row -> one result (the extra row that only tells "there is more" is
 * counted, not written). */
static void on_row(const archive_msg *m, void *ud)
{
    page *p = ud;
    if (p->rows++ >= p->limit) return;
    query_snippet sn;
    query_snippet_build(p->q, m->text, strlen(m->text), 0, &sn);
    if (p->rows > 1) buf_putc(p->out, ',');
    buf_puts(p->out, "{\"message\":");
    buf_puts(p->out, m->body);
    buf_puts(p->out, ",\"snippet\":");
    put_json_string(p->out, sn.text, sn.len);
    buf_puts(p->out, ",\"ranges\":[");
    for (size_t i = 0; i < sn.n; i++)
        buf_printf(p->out, "%s[%zu,%zu]", i ? "," : "", sn.ranges[i][0], sn.ranges[i][1]);
    buf_puts(p->out, "]}");
    query_snippet_free(&sn);
}

/* Read q, roomId, limit and cursor. CHAT_OK, or CHAT_EINVALID with the reason in req. */
static chat_rc read_params(api_req *req, query *q, char *room, long *limit, long long *skip)
{
    static char qs[SEARCH_Q_BYTES + 1];
    int got = api_query_param(req->query, "q", qs, sizeof qs);
    if (got == 0) return api_fail(req, CHAT_EINVALID, "q is required");
    if (got < 0) return api_fail(req, CHAT_EINVALID, "q must be 1 to 200 characters of UTF-8 text");
    query_rc qrc = query_parse(qs, strlen(qs), q);
    if (qrc != QUERY_OK) return api_fail(req, CHAT_EINVALID, "%s", query_rc_message(qrc));

    room[0] = '\0';
    got = api_query_param(req->query, "roomId", room, API_ID_MAX + 1);
    if (got < 0 || (got == 1 && !valid_id(room, strlen(room)))) return api_fail(req, CHAT_EINVALID, "roomId is not a room id");

    *limit = SEARCH_LIMIT_DEFAULT;
    if (api_query_int(req, "limit", 1, SEARCH_LIMIT_MAX, limit) < 0) return CHAT_EINVALID;

    char cur[API_CURSOR_MAX + 1];
    *skip = 0;
    got = api_query_param(req->query, "cursor", cur, sizeof cur);
    if (got < 0 || (got == 1 && api_search_cursor_decode(cur, skip) != 0))
        return api_fail(req, CHAT_EINVALID, "cursor is not one this API gave out");
    return CHAT_OK;
}

chat_rc api_search(api_req *req)
{
    query q;
    char room[API_ID_MAX + 1];
    long limit;
    long long skip;
    memset(&q, 0, sizeof q);
    chat_rc rc = read_params(req, &q, room, &limit, &skip);
    if (rc != CHAT_OK) {
        query_free(&q);
        return rc;
    }
    char **rooms = NULL;
    size_t nrooms = 0;
    rc = api_store_search_rooms(req->redis, req->user_id, room[0] ? room : NULL, &rooms, &nrooms);
    if (rc == CHAT_ENOTFOUND) rc = api_fail(req, rc, "room not found");
    else if (rc == CHAT_EFORBIDDEN) rc = api_fail(req, rc, "not a member of this room");

    buf out;
    buf_init(&out, 0);
    buf_puts(&out, "{\"results\":[");
    page p = {.q = &q, .out = &out, .limit = (int)limit};
    if (rc == CHAT_OK && nrooms > 0) {
        archive *a = api_archive();
        archive_query aq = {.words = q.texts, .nwords = q.n, .rooms = (const char *const *)rooms, .nrooms = nrooms,
                            .limit = (int)limit + 1, .skip = skip};
        if (!a) {
            rc = api_fail(req, CHAT_EUNAVAIL, "the message archive is unavailable, try again shortly");
        } else if (archive_search(a, &aq, on_row, &p) < 0) {
            api_archive_failed("search");
            rc = api_fail(req, CHAT_EUNAVAIL, "the message archive is unavailable, try again shortly");
        }
    }
    if (rc == CHAT_OK) {
        char next[API_CURSOR_MAX + 1];
        buf_puts(&out, "],\"next\":");
        if (p.rows > limit && api_search_cursor_encode(skip + limit, next, sizeof next)) buf_printf(&out, "\"%s\"}", next);
        else buf_puts(&out, "null}");
        req->out_owned = xmalloc(out.len + 1);
        memcpy(req->out_owned, buf_data(&out), out.len);
        rc = api_reply_raw(req, 200, req->out_owned, out.len);
    }
    buf_free(&out);
    api_ids_free(rooms, nrooms);
    query_free(&q);
    return rc;
}
