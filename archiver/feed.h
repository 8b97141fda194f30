/* feed.h - the pure part of reading the archive feed: one feed entry (a stored
 * MESSAGE body) into an archive row, and Redis stream ids.
 *
 * No I/O here (unit-tested and fuzzed byte by byte); consumer.c does the Redis side. */
#ifndef CHAT_ARCHIVER_FEED_H
#define CHAT_ARCHIVER_FEED_H

#include "archive.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* One message taken from the feed (or from a room's history when back-filling). */
typedef struct feed_entry {
    char sid[48];      /* the stream entry id ("" for history entries) */
    json_object *obj;  /* owns the strings msg points at */
    char *body;        /* owned copy of the body exactly as stored */
    char *text;        /* owned: what search matches (see feed_parse) */
    archive_msg msg;   /* points into obj, body and text */
} feed_entry;

/* Parse a stored MESSAGE body (valid UTF-8; a JSON object with type CHAT or FILE, id, roomId,
 * senderId, message, ts, offset >= 1, epoch). The searchable text is the message; for
 * FILE it is followed by a space and the file's name, so a file is found by its name.
 * 0, or -1 with *why set to a short static reason (the entry is then not archived).
 * On success e owns what it points at; feed_entry_clear() frees it (also after -1). */
int feed_parse(feed_entry *e, const char *body, size_t len, const char **why);
void feed_entry_clear(feed_entry *e);

/* A Redis stream entry id "ms-seq". */
typedef struct stream_id {
    uint64_t ms, seq;
} stream_id;

/* Parse "ms-seq" or "ms" (seq 0). 0 or -1. */
int stream_id_parse(const char *s, size_t len, stream_id *out);
int stream_id_cmp(stream_id a, stream_id b);

#endif
