/* feed.c - parsing feed entries and stream ids; see feed.h. Pure: no I/O, no globals. */
#include "feed.h"
#include "json.h"
#include "util.h"
#include "valid.h"

#include <stdlib.h>
#include <string.h>

void feed_entry_clear(feed_entry *e)
{
    if (e->obj) json_object_put(e->obj);
    free(e->body);
    free(e->text);
    e->obj = NULL;
    e->body = e->text = NULL;
    memset(&e->msg, 0, sizeof e->msg);
}

/* A non-empty string member, valid UTF-8 once decoded (a lone \\ud800 escape is not)
 * and without NUL bytes, or NULL. */
static const char *str_member(json_object *o, const char *key)
{
    size_t len = 0;
    const char *s = json_get_str(o, key, &len);
    if (!s || len == 0 || strlen(s) != len || !valid_utf8(s, len)) return NULL;
    return s;
}

static int int_member(json_object *o, const char *key, long long min, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) return -1;
    long long x = json_object_get_int64(v);
    if (x < min) return -1;
    *out = x;
    return 0;
}

int feed_parse(feed_entry *e, const char *body, size_t len, const char **why)
{
    chat_rc rc;
    feed_entry_clear(e);
    *why = NULL;
    /* The relay writes valid UTF-8; anything else (someone else writing to Redis) would
     * be refused by PostgreSQL for good and block the feed: refuse it here. */
    if (!valid_utf8(body, len)) {
        *why = "not UTF-8";
        return -1;
    }
    e->obj = json_parse_object(body, len, &rc);
    if (!e->obj) {
        *why = "not a JSON object";
        return -1;
    }
    json_object *o = e->obj;
    const char *type = str_member(o, "type");
    if (!type || (strcmp(type, "CHAT") != 0 && strcmp(type, "FILE") != 0)) {
        *why = "not a CHAT or FILE message";
        return -1;
    }
    archive_msg *m = &e->msg;
    m->id = str_member(o, "id");
    m->room_id = str_member(o, "roomId");
    m->sender_id = str_member(o, "senderId");
    m->epoch = str_member(o, "epoch");
    if (!m->id || !m->room_id || !m->sender_id || !m->epoch) {
        *why = "missing id, roomId, senderId or epoch";
        return -1;
    }
    size_t tlen = 0;
    const char *text = json_get_str(o, "message", &tlen);
    if (!text || strlen(text) != tlen || !valid_utf8(text, tlen)) {
        *why = "missing message";
        return -1;
    }
    if (int_member(o, "offset", 1, &m->offset) || int_member(o, "ts", 0, &m->ts)) {
        *why = "missing offset or ts";
        return -1;
    }
    const char *fname = NULL;
    json_object *file;
    if (strcmp(type, "FILE") == 0 && json_object_object_get_ex(o, "file", &file) &&
        json_object_is_type(file, json_type_object))
        fname = str_member(file, "name");
    if (fname) {
        size_t fl = strlen(fname);
        e->text = xmalloc(tlen + fl + 2);
        memcpy(e->text, text, tlen);
        size_t k = tlen;
        if (tlen) e->text[k++] = ' ';
        memcpy(e->text + k, fname, fl + 1);
    } else {
        e->text = xstrndup(text, tlen);
    }
    e->body = xstrndup(body, len);
    m->text = e->text;
    m->body = e->body;
    return 0;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int stream_id_parse(const char *s, size_t len, stream_id *out)
{
    const char *dash = memchr(s, '-', len);
    stream_id id = {0, 0};
    if (!dash) {
        if (parse_u64(s, len, &id.ms)) return -1;
    } else if (parse_u64(s, (size_t)(dash - s), &id.ms) ||
               parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &id.seq)) {
        return -1;
    }
    *out = id;
    return 0;
}

int stream_id_cmp(stream_id a, stream_id b)
{
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}
