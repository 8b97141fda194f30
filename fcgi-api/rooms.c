/* rooms.c - the room resources: create, list (cursor pages, newest first), get
 * (with members), join and leave.
 *
 * Validation of names and query parameters happens here; consistency of the room
 * records (a member only of a room that exists) is the store's Lua scripts' job.
 * No membership is required to see a room: the contract restricts chat traffic
 * (the relay's business), not the room directory. */
#include "cursor.h"
#include "json.h"
#include "router.h"
#include "store.h"
#include "util.h"
#include "valid.h"
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* POST /api/rooms {"name"} -> 201 Room; the creator is its first member. */
chat_rc api_rooms_create(api_req *req)
{
    api_room r = {0};
    const char *name, *why = "";
    size_t len;
    chat_rc rc = api_field_str(req, "name", &name, &len);
    if (rc != CHAT_OK) return rc;
    if (valid_text(name, len, 1, API_ROOM_NAME_MAX_CP, VALID_NAME, &name, &len, &why) != CHAT_OK)
        return api_fail(req, CHAT_EINVALID, "name %s (1 to %d characters with a visible one, no control or invisible formatting characters)", why, API_ROOM_NAME_MAX_CP);
    memcpy(r.name, name, len);
    r.name[len] = '\0';
    memcpy(r.created_by, req->user_id, sizeof r.created_by);
    r.created_at = now_ms();
    /* An id collision among 62^16 ids is not expected; a retry costs nothing. */
    for (int attempt = 0; attempt < 3; attempt++) {
        token_id(r.id, API_NEW_ID_LEN);
        rc = api_store_room_create(req->redis, &r);
        if (rc != CHAT_ECONFLICT) break;
    }
    if (rc == CHAT_ECONFLICT) rc = CHAT_EINTERNAL;
    if (rc != CHAT_OK) return rc;
    r.member_count = 1;
    return api_reply(req, 201, api_view_room(&r));
}

/* Read ?limit= into *limit (default API_PAGE_DEFAULT). Only plain digits. */
static chat_rc read_limit(api_req *req, size_t *limit)
{
    char v[8];
    int got = api_query_param(req->query, "limit", v, sizeof v);
    *limit = API_PAGE_DEFAULT;
    if (got == 0) return CHAT_OK;
    long n;
    bool digits = got == 1 && v[0] && strspn(v, "0123456789") == strlen(v);
    if (!digits || parse_long(v, 1, API_PAGE_MAX, &n) != 0)
        return api_fail(req, CHAT_EINVALID, "limit must be an integer from 1 to %d", API_PAGE_MAX);
    *limit = (size_t)n;
    return CHAT_OK;
}

/* The first page of the room list for each limit, as sent, with the rooms version
 * it was read at. The first page is what nearly every client asks for, and
 * rendering it costs one Lua call loading limit rooms; a hit costs nothing beyond
 * the session lookup, which reads the current version in the same command. Every
 * write that changes the list sets a new version atomically with the change
 * (store_rooms.c), so a hit is never older than a write any client has seen
 * acknowledged. Per process. The version alone keeps it exact; the short maximum
 * age only bounds the damage if something writes room keys behind the API's back
 * without touching the version (docs/API.md asks such writers to delete it). */
#define PAGE_CACHE_MAX_AGE_MS 1000
static struct page_cache {
    int64_t filled_ms; /* mono_ms() */
    char version[API_VERSION_MAX + 1];
    char *body;
    size_t len;
} first_pages[API_PAGE_MAX + 1];

void api_rooms_cache_free(void)
{
    for (size_t i = 0; i < ARRAY_LEN(first_pages); i++) {
        free(first_pages[i].body);
        first_pages[i] = (struct page_cache){0};
    }
}

/* GET /api/rooms?limit=&cursor= -> 200 {"rooms": [...], "next": cursor|null}. */
chat_rc api_rooms_list(api_req *req)
{
    size_t limit, n = 0;
    api_room *rooms = NULL;
    char cur[API_CURSOR_MAX + 1], after_id[API_ID_MAX + 1], version[API_VERSION_MAX + 1];
    int64_t after_score = 0;
    bool have_cursor = false, more = false;

    chat_rc rc = read_limit(req, &limit);
    if (rc != CHAT_OK) return rc;
    int got = api_query_param(req->query, "cursor", cur, sizeof cur);
    if (got != 0) {
        if (got < 0 || api_cursor_decode(cur, &after_score, after_id) != 0)
            return api_fail(req, CHAT_EINVALID, "cursor is invalid (use the \"next\" value of a previous page)");
        have_cursor = true;
    }
    struct page_cache *pc = have_cursor ? NULL : &first_pages[limit];
    if (pc && pc->body && req->rooms_version[0] && strcmp(pc->version, req->rooms_version) == 0 &&
        mono_ms() - pc->filled_ms < PAGE_CACHE_MAX_AGE_MS)
        return api_reply_raw(req, 200, pc->body, pc->len);

    rc = api_store_rooms_page(req->redis, after_score, have_cursor ? after_id : NULL, limit, &rooms, &n, &more,
                              version);
    if (rc != CHAT_OK) goto done;
    json_object *next = NULL;
    if (more && n > 0) {
        char enc[API_CURSOR_MAX + 1];
        if (api_cursor_encode(rooms[n - 1].created_at, rooms[n - 1].id, enc, sizeof enc) == 0) {
            rc = CHAT_EINTERNAL;
            goto done;
        }
        next = json_object_new_string(enc);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rooms", api_view_rooms(rooms, n));
    json_object_object_add(o, "next", next);
    if (pc && version[0]) {
        const char *body = json_compact(o);
        free(pc->body);
        pc->len = strlen(body);
        pc->body = xmalloc(pc->len + 1);
        memcpy(pc->body, body, pc->len + 1);
        memcpy(pc->version, version, sizeof pc->version);
        pc->filled_ms = mono_ms();
        json_object_put(o);
        rc = api_reply_raw(req, 200, pc->body, pc->len);
        goto done;
    }
    rc = api_reply(req, 200, o);
done:
    free(rooms);
    return rc;
}

/* GET /api/rooms/{id} -> 200 Room with "members": [{"id","name"}...]. */
chat_rc api_rooms_get(api_req *req)
{
    api_room r;
    api_member *members = NULL;
    size_t n = 0;
    chat_rc rc = api_store_room_get(req->redis, req->params[0], &r, &members, &n);
    if (rc == CHAT_ENOTFOUND) {
        api_fail(req, rc, "room not found");
        goto done;
    }
    if (rc != CHAT_OK) goto done;
    json_object *o = api_view_room(&r);
    json_object_object_add(o, "members", api_view_members(members, n));
    rc = api_reply(req, 200, o);
done:
    free(members);
    return rc;
}

/* POST /api/rooms/{id}/members -> 200 Room; joining twice changes nothing. */
chat_rc api_rooms_join(api_req *req)
{
    api_room r;
    chat_rc rc = api_store_room_join(req->redis, req->params[0], req->user_id, &r);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, "room not found");
    if (rc != CHAT_OK) return rc;
    return api_reply(req, 200, api_view_room(&r));
}

/* DELETE /api/rooms/{id}/members/me -> 204; 404 when the caller is not a member. */
chat_rc api_rooms_leave(api_req *req)
{
    bool exists;
    chat_rc rc = api_store_room_leave(req->redis, req->params[0], req->user_id, &exists);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, exists ? "you are not a member of this room" : "room not found");
    if (rc != CHAT_OK) return rc;
    return api_reply(req, 204, NULL);
}
