/* files.c - the file endpoints: POST /api/rooms/{id}/files (upload), GET
 * /api/files/{id} and GET /api/files/{id}/thumb (download, members of the file's
 * room only), and the File document.
 *
 * An upload: name and membership first (no byte read yet), then the body is copied
 * in chunks into a temporary file (blobs.c), its type found from the content and,
 * for an image, a thumbnail made (media.c); blob and thumbnail are renamed into place
 * and only then is the File record written (store_files.c), so a record never points
 * at bytes that are not all there. A download is an X-Sendfile answer: lighttpd
 * sends the bytes (with Range, ETag and conditional requests); this file only decides
 * who may have them and with which headers. */
#include "api.h"
#include "blobs.h"
#include "buf.h"
#include "fileinfo.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "router.h"
#include "store_files.h"
#include "token.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Browsers may keep a download for a day: a file id always names the same bytes. */
#define FILE_CACHE_CONTROL "Cache-Control: private, max-age=86400\r\n"

/* The File document: {"id","roomId","name","size","type","uploaderId","createdAt",
 * "url"} plus "thumbUrl","width","height" when it has a thumbnail. Caller puts. */
static json_object *view_file(const api_file *f)
{
    char url[96];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "roomId", json_object_new_string(f->room_id));
    json_object_object_add(o, "name", json_object_new_string(f->name));
    json_object_object_add(o, "size", json_object_new_int64(f->size));
    json_object_object_add(o, "type", json_object_new_string(f->type));
    json_object_object_add(o, "uploaderId", json_object_new_string(f->uploader_id));
    json_object_object_add(o, "createdAt", json_object_new_int64(f->created_at));
    snprintf(url, sizeof url, "/api/files/%s", f->id);
    json_object_object_add(o, "url", json_object_new_string(url));
    if (f->thumb_type[0]) {
        snprintf(url, sizeof url, "/api/files/%s/thumb", f->id);
        json_object_object_add(o, "thumbUrl", json_object_new_string(url));
        json_object_object_add(o, "width", json_object_new_int(f->width));
        json_object_object_add(o, "height", json_object_new_int(f->height));
    }
    return o;
}

/* Make and store the thumbnail of the received image t (type f->type) if it gets
 * one; fills f's width, height and thumb type. Failures only mean no thumbnail. */
static void make_thumb(const api_cfg *cfg, const blob_tmp *t, api_file *f)
{
    char tmp[PATH_MAX];
    media_image mi;
    if (blobs_tmp_name(cfg->files_dir, tmp) != 0) return;
    media_image_probe(t->path, f->type, cfg->pixels_max, tmp, &mi);
    if (!mi.thumb) {
        unlink(tmp);
        return;
    }
    if (blobs_commit(cfg->files_dir, tmp, t->sha, ".thumb") != CHAT_OK) return;
    f->width = mi.width;
    f->height = mi.height;
    snprintf(f->thumb_type, sizeof f->thumb_type, "%s", mi.thumb_type);
}

/* POST /api/rooms/{id}/files?name=... -> 201 File. */
chat_rc api_files_upload(api_req *req)
{
    const api_cfg *cfg = req->cfg;
    const char *why;
    api_file f = {0};
    int got = api_query_param(req->query, "name", f.name, sizeof f.name);
    if (got == 0) return api_fail(req, CHAT_EINVALID, "name is missing: add ?name=<file name> to the URL");
    if (got < 0) return api_fail(req, CHAT_EINVALID, "name is longer than 255 characters or badly percent-encoded");
    if (fileinfo_name_check(f.name, strlen(f.name), &why) != CHAT_OK) return api_fail(req, CHAT_EINVALID, "name %s", why);
    chat_rc rc = api_store_member_check(req->redis, req->params[0], req->user_id);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, "room not found");
    if (rc == CHAT_EFORBIDDEN) return api_fail(req, rc, "not a member of this room");
    if (rc != CHAT_OK) return rc;
    if (req->body_len == 0) return api_fail(req, CHAT_EINVALID, "the file is empty");

    blob_tmp t;
    rc = blobs_receive(cfg->files_dir, req, cfg->file_max, &t);
    if (rc == CHAT_ETOOLARGE) return api_fail(req, rc, "the file is larger than FILE_MAX (%lld bytes)", cfg->file_max);
    if (rc == CHAT_EMALFORMED) return api_fail(req, rc, "the request body ended early");
    if (rc != CHAT_OK) return api_fail(req, rc, "the file could not be stored");
    if (t.size == 0) {
        unlink(t.path);
        return api_fail(req, CHAT_EINVALID, "the file is empty");
    }
    media_type(t.path, f.type);
    if (fileinfo_is_image(f.type)) make_thumb(cfg, &t, &f);
    if (blobs_commit(cfg->files_dir, t.path, t.sha, "") != CHAT_OK)
        return api_fail(req, CHAT_EINTERNAL, "the file could not be stored");

    token_id(f.id, API_NEW_ID_LEN);
    snprintf(f.room_id, sizeof f.room_id, "%s", req->params[0]);
    snprintf(f.uploader_id, sizeof f.uploader_id, "%s", req->user_id);
    snprintf(f.blob, sizeof f.blob, "%s", t.sha);
    f.size = t.size;
    f.created_at = now_ms();
    json_object *doc = view_file(&f);
    rc = api_store_file_create(req->redis, &f, json_compact(doc));
    if (rc != CHAT_OK) {
        json_object_put(doc);
        if (rc == CHAT_EFORBIDDEN) return api_fail(req, rc, "not a member of this room");
        return rc;
    }
    log_info("upload", "file=%s room=%s size=%lld type=%s thumb=%s", f.id, f.room_id, f.size, log_q(0, f.type),
             f.thumb_type[0] ? "yes" : "no");
    return api_reply(req, 201, doc);
}

/* Load file params[0] for the caller, who must be a member of its room. */
static chat_rc file_for_member(api_req *req, api_file *f)
{
    chat_rc rc = api_store_file_get(req->redis, req->params[0], f);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, rc, "file not found");
    if (rc != CHAT_OK) return rc;
    rc = api_store_member_check(req->redis, f->room_id, req->user_id);
    if (rc == CHAT_EFORBIDDEN || rc == CHAT_ENOTFOUND) return api_fail(req, CHAT_EFORBIDDEN, "not a member of this file's room");
    return rc;
}

/* GET /api/files/{id} -> the bytes, sent by lighttpd. */
chat_rc api_files_get(api_req *req)
{
    api_file f;
    chat_rc rc = file_for_member(req, &f);
    if (rc != CHAT_OK) return rc;
    char path[PATH_MAX];
    blobs_path(req->cfg->files_dir, f.blob, "", path);
    buf h;
    buf_init(&h, 0);
    buf_printf(&h, "Content-Type: %s\r\n" FILE_CACHE_CONTROL, fileinfo_served_type(f.type));
    fileinfo_disposition(&h, fileinfo_is_image(f.type), f.name, strlen(f.name));
    rc = api_reply_sendfile(req, path, buf_data(&h));
    buf_free(&h);
    return rc;
}

/* GET /api/files/{id}/thumb -> the thumbnail, sent by lighttpd; 404 when the file has
 * none. */
chat_rc api_files_thumb(api_req *req)
{
    api_file f;
    chat_rc rc = file_for_member(req, &f);
    if (rc != CHAT_OK) return rc;
    if (!f.thumb_type[0]) return api_fail(req, CHAT_ENOTFOUND, "this file has no thumbnail");
    char path[PATH_MAX];
    blobs_path(req->cfg->files_dir, f.blob, ".thumb", path);
    buf h;
    buf_init(&h, 0);
    buf_printf(&h, "Content-Type: %s\r\n" FILE_CACHE_CONTROL "Content-Disposition: inline\r\n", f.thumb_type);
    rc = api_reply_sendfile(req, path, buf_data(&h));
    buf_free(&h);
    return rc;
}
