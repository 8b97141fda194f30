/* store_files.c - File records in Redis; see store_files.h. Key names come from
 * common/keys.h, the one write is script_file_create (common/scripts.c). */
#include "store_files.h"
#include "keys.h"
#include "scripts.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static api_script file_create_script = {.src = script_file_create};

chat_rc api_store_member_check(rconn *c, const char *room_id, const char *user_id)
{
    char kmem[KEYS_MAX], kroom[KEYS_MAX];
    if (!keys_room_members(kmem, sizeof kmem, room_id) || !keys_room(kroom, sizeof kroom, room_id)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "SISMEMBER %s %s", kmem, user_id);
    chat_rc rc = api_store_check(r, "member-check");
    if (rc == CHAT_OK && r->type != REDIS_REPLY_INTEGER) rc = CHAT_EINTERNAL;
    if (rc == CHAT_OK && r->integer == 1) goto done;
    if (rc != CHAT_OK) goto done;
    freeReplyObject(r);
    r = rconn_cmd(c, "EXISTS %s", kroom);
    rc = api_store_check(r, "room-exists");
    if (rc == CHAT_OK) rc = r->type != REDIS_REPLY_INTEGER ? CHAT_EINTERNAL : r->integer ? CHAT_EFORBIDDEN : CHAT_ENOTFOUND;
done:
    if (r) freeReplyObject(r);
    return rc;
}

chat_rc api_store_file_create(rconn *c, const api_file *f, const char *json)
{
    char kmem[KEYS_MAX], kfile[KEYS_MAX], kblob[KEYS_MAX], size[24], created[24], w[16], h[16];
    if (!keys_room_members(kmem, sizeof kmem, f->room_id) || !keys_file(kfile, sizeof kfile, f->id) ||
        !keys_blob(kblob, sizeof kblob, f->blob))
        return CHAT_EINTERNAL;
    snprintf(size, sizeof size, "%lld", f->size);
    snprintf(created, sizeof created, "%lld", (long long)f->created_at);
    snprintf(w, sizeof w, "%d", f->width);
    snprintf(h, sizeof h, "%d", f->height);
    const char *keys[] = {kmem, kfile, kblob};
    const char *args[] = {f->uploader_id, "id", f->id, "roomId", f->room_id, "name", f->name, "size", size,
                          "type", f->type, "uploaderId", f->uploader_id, "createdAt", created, "blob", f->blob,
                          "json", json, "width", w, "height", h, "thumb", f->thumb_type};
    int nargs = f->thumb_type[0] ? (int)ARRAY_LEN(args) : (int)ARRAY_LEN(args) - 6;
    redisReply *r = api_store_eval(c, &file_create_script, 3, keys, nargs, args);
    chat_rc rc = api_store_check(r, "file-create");
    if (rc == CHAT_OK) rc = r->type != REDIS_REPLY_INTEGER ? CHAT_EINTERNAL : r->integer == 1 ? CHAT_OK : CHAT_EFORBIDDEN;
    if (r) freeReplyObject(r);
    return rc;
}

/* A decimal reply element into *v; false when nil or not a number. */
static bool reply_ll(const redisReply *r, long long *v)
{
    char tmp[24];
    long x;
    if (!api_store_copy(tmp, sizeof tmp, r) || parse_long(tmp, 0, INT64_MAX, &x) != 0) return false;
    *v = x;
    return true;
}

chat_rc api_store_file_get(rconn *c, const char *id, api_file *f)
{
    char k[KEYS_MAX];
    memset(f, 0, sizeof *f);
    if (!keys_file(k, sizeof k, id)) return CHAT_EINTERNAL;
    redisReply *r = rconn_cmd(c, "HMGET %s id roomId name size type uploaderId createdAt blob width height thumb", k);
    chat_rc rc = api_store_check(r, "file-get");
    if (rc != CHAT_OK) goto done;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 11) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    redisReply **e = r->element;
    if (e[0]->type == REDIS_REPLY_NIL) {
        rc = CHAT_ENOTFOUND;
        goto done;
    }
    long long created, w = 0, h = 0;
    if (!api_store_copy(f->id, sizeof f->id, e[0]) || !api_store_copy(f->room_id, sizeof f->room_id, e[1]) ||
        !api_store_copy(f->name, sizeof f->name, e[2]) || !reply_ll(e[3], &f->size) ||
        !api_store_copy(f->type, sizeof f->type, e[4]) || !api_store_copy(f->uploader_id, sizeof f->uploader_id, e[5]) ||
        !reply_ll(e[6], &created) || !api_store_copy(f->blob, sizeof f->blob, e[7]) || !blobs_valid_sha(f->blob)) {
        rc = CHAT_EINTERNAL;
        goto done;
    }
    f->created_at = created;
    if (e[10]->type != REDIS_REPLY_NIL && api_store_copy(f->thumb_type, sizeof f->thumb_type, e[10]) &&
        reply_ll(e[8], &w) && reply_ll(e[9], &h)) {
        f->width = (int)w;
        f->height = (int)h;
    } else {
        f->thumb_type[0] = '\0';
    }
done:
    if (r) freeReplyObject(r);
    return rc;
}
