/* blobs.h - the bytes of uploaded files on disk, under FILES_DIR, content-addressed.
 *
 *   FILES_DIR/tmp/up-XXXXXX           an upload or thumbnail being written
 *   FILES_DIR/{aa}/{sha256}           a file's bytes ({aa}: the hash's first two digits)
 *   FILES_DIR/{aa}/{sha256}.thumb     its thumbnail, when it is an image that has one
 *
 * A blob appears under its final name only by rename(2) after fsync, so lighttpd
 * never serves a half-written file; the same bytes uploaded twice are one blob.
 * Nothing here deletes a blob: see keys.h (P blob:{sha256}) and docs/OPERATIONS.md.
 * Deliberately not here: Redis (store_files.c), types and thumbnails (media.c). */
#ifndef CHAT_API_BLOBS_H
#define CHAT_API_BLOBS_H

#include <limits.h>

#include "api.h"

#define BLOB_SHA_HEX 64

/* Create dir and dir/tmp (mode 0755) and remove temporary files older than an
 * hour (left by a process that died mid-upload). 0, or -1 (logged). */
int blobs_init(const char *dir);

typedef struct blob_tmp {
    char path[PATH_MAX];
    long long size;
    char sha[BLOB_SHA_HEX + 1];
} blob_tmp;

/* Copy the request body (api_body_read, 64 KiB at a time, never all of it in
 * memory) into a new temporary file, hashing it as it goes; at most max bytes.
 * CHAT_OK with *t (the caller commits or drops it); CHAT_ETOOLARGE over max;
 * CHAT_EMALFORMED when the body ends before its Content-Length; CHAT_EINTERNAL when
 * the disk fails (logged). On any error no temporary file is left. */
chat_rc blobs_receive(const char *dir, api_req *req, long long max, blob_tmp *t);

/* A new empty temporary file's path into out[PATH_MAX] (for a thumbnail). 0 or -1. */
int blobs_tmp_name(const char *dir, char *out);

/* Move the temporary file tmp to the blob name for sha (plus suffix, "" or
 * ".thumb"): fsync, mode 0644 (lighttpd reads it), rename, fsync the directory. When
 * the blob exists already, tmp is removed instead. CHAT_OK or CHAT_EINTERNAL. */
chat_rc blobs_commit(const char *dir, const char *tmp, const char *sha, const char *suffix);

/* The absolute path of blob sha (plus suffix) into out[PATH_MAX]. */
void blobs_path(const char *dir, const char *sha, const char *suffix, char *out);

/* Is s a blob name (64 lower-case hex digits)? */
int blobs_valid_sha(const char *s);

#endif
