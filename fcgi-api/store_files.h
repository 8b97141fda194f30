/* store_files.h - the API's data layer for uploaded files: the File record in
 * Redis (P file:{id}) and the blob's reference set (P blob:{sha256}), see keys.h.
 * Same conventions as store.h. */
#ifndef CHAT_API_STORE_FILES_H
#define CHAT_API_STORE_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "blobs.h"
#include "media.h"

typedef struct api_file {
    char id[API_ID_MAX + 1];
    char room_id[API_ID_MAX + 1];
    char name[API_FILE_NAME_MAX_CP * 4 + 1];
    char type[MEDIA_MIME_MAX];
    char uploader_id[API_ID_MAX + 1];
    char blob[BLOB_SHA_HEX + 1];
    char thumb_type[16]; /* "" when the file has no thumbnail */
    long long size;
    int64_t created_at;
    int width, height; /* 0 unless it is an image with a thumbnail */
} api_file;

/* Is user a member of room? CHAT_OK when so; CHAT_EFORBIDDEN when the room exists
 * but the user is not in it; CHAT_ENOTFOUND when there is no such room. */
chat_rc api_store_member_check(rconn *c, const char *room_id, const char *user_id);

/* Store file f (its File document json, kept for FILE messages) and add it to its
 * blob's reference set, in one step, if the uploader is still a member of its room:
 * CHAT_EFORBIDDEN otherwise (nothing written). */
chat_rc api_store_file_create(rconn *c, const api_file *f, const char *json);

/* Load file id into *f. CHAT_ENOTFOUND when there is no such file. */
chat_rc api_store_file_get(rconn *c, const char *id, api_file *f);

#endif
