/* history.c - GET /api/rooms/{id}/messages: a page of a room's stored messages, for
 * members only, paged by offset (?before= / ?after=, ?limit=).
 *
 * The bodies are sent exactly as they were delivered over STOMP (stored by the relay's
 * send script), so the answer is written as text around them instead of being parsed
 * and serialised again. Deliberately not here: reading Redis (store_rooms.c). */
#include "api.h"
#include "buf.h"
#include "router.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_LIMIT_DEFAULT 50
#define HISTORY_LIMIT_MAX 100

/* Query parameter name as a whole non-negative integer in [min, max]: 1 and *v when
 * present and valid, 0 when absent, -1 (the client told why) when malformed. */
static int query_int(api_req *req, const char *name, long min, long max, long *v)
{
    char s[24];
    int got = api_query_param(req->query, name, s, sizeof s);
    if (got == 0) return 0;
    if (got == 1 && s[0] && strspn(s, "0123456789") == strlen(s) && parse_long(s, min, max, v) == 0) return 1;
    api_fail(req, CHAT_EINVALID, "%s must be an integer from %ld to %ld", name, min, max);
    return -1;
}

/* GET /api/rooms/{id}/messages -> 200 {"messages": [...], "epoch", "offset"}. */
chat_rc api_rooms_messages(api_req *req)
{
    long limit = HISTORY_LIMIT_DEFAULT, before = 0, after = 0;
    int l = query_int(req, "limit", 1, HISTORY_LIMIT_MAX, &limit);
    int b = l < 0 ? -1 : query_int(req, "before", 0, 999999999999999L, &before);
    int a = b < 0 ? -1 : query_int(req, "after", 0, 999999999999999L, &after);
    if (l < 0 || b < 0 || a < 0) return CHAT_EINVALID;
    if (a == 1 && b == 1) return api_fail(req, CHAT_EINVALID, "give before or after, not both");
    enum api_history_mode mode = b == 1 ? API_HISTORY_BEFORE : a == 1 ? API_HISTORY_AFTER : API_HISTORY_NEWEST;
    api_history h;
    chat_rc rc = api_store_history(req->redis, req->params[0], req->user_id, mode, b == 1 ? before : after,
                                   (size_t)limit, &h);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, "room not found");
    if (rc == CHAT_EFORBIDDEN) return api_fail(req, rc, "not a member of this room");
    if (rc != CHAT_OK) return rc;
    buf out;
    buf_init(&out, 0);
    buf_puts(&out, "{\"messages\":[");
    for (size_t i = 0; i < h.n; i++) {
        if (i) buf_putc(&out, ',');
        buf_append(&out, h.bodies[i], h.lens[i]);
    }
    /* The epoch is one this project's relay wrote (URL-safe characters only). */
    buf_printf(&out, "],\"epoch\":\"%s\",\"offset\":%lld}", h.epoch, h.offset);
    api_history_free(&h);
    req->out_owned = xmalloc(out.len ? out.len : 1);
    memcpy(req->out_owned, buf_data(&out), out.len);
    rc = api_reply_raw(req, 200, req->out_owned, out.len);
    buf_free(&out);
    return rc;
}
