/* archive.h - the durable message archive: one small interface, two back ends.
 *
 *   SQLite 3 (libsqlite3, FTS5, WAL) in one file  - the default, nothing to set up
 *   PostgreSQL 15 (libpq)                         - ARCHIVE_URL=postgresql://...
 *
 * chat-archiver writes (archive_put); chat-api reads (archive_range for history past
 * what Redis holds, archive_search for GET /api/search). Each program opens its own
 * handle; a handle is used by one thread.
 *
 * What is stored, per message (both back ends, same columns):
 *   id         Message.id, unique: a message stored twice is stored once
 *   room_id, epoch, offset   unique together; history pages are ranges of offset
 *                            within (room_id, epoch)
 *   ts         Unix milliseconds, for retention (ARCHIVE_RETENTION_DAYS)
 *   sender_id
 *   text       the message text: what search matches
 *   body       the Message JSON exactly as delivered over STOMP (served unchanged)
 *
 * Matching rules of search (the contract's "Archive and search"): every word of the
 * query must match, case-insensitively, each also as the start of a longer word
 * ("채팅" finds "채팅방에서"); docs/ARCHIVE.md says which tokenizer/index does it on
 * each back end. Words reach the back end as plain text: query syntax of the back end
 * (FTS5 operators, tsquery operators, quotes, SQL) never comes from the user. */
#ifndef CHAT_ARCHIVE_H
#define CHAT_ARCHIVE_H

#include <stddef.h>

typedef struct archive archive;

typedef struct archive_msg {
    const char *id;
    const char *room_id;
    const char *epoch;
    long long offset;
    long long ts;
    const char *sender_id;
    const char *text;
    const char *body;
} archive_msg;

/* Called once per row; the strings live until the callback returns. */
typedef void (*archive_row_fn)(const archive_msg *m, void *ud);

/* Open (and create the schema of) the archive named by url: "postgresql://..." or
 * "postgres://..." is PostgreSQL, "sqlite:PATH" or any other string an SQLite file
 * path. NULL with a reason in err (never a password) on failure. */
archive *archive_open(const char *url, char *err, size_t errlen);
void archive_close(archive *a);

/* Store n messages in one transaction; ones whose id is already there are skipped.
 * 0 (and *inserted, when not NULL) or -1. */
int archive_put(archive *a, const archive_msg *m, size_t n, size_t *inserted);

/* A page of one room's history within one epoch, oldest first:
 *   before > 0: the newest `limit` messages with offset < before
 *   after >= 0 (before == 0): the oldest `limit` messages with offset > after
 * Returns the number of rows given to fn, or -1. */
int archive_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                  int limit, archive_row_fn fn, void *ud);

/* Delete messages with ts < before_ms. 0 (and *deleted) or -1. */
int archive_expire(archive *a, long long before_ms, long long *deleted);

/* Search: every word in words[0..nwords) must match (as a case-insensitive prefix of
 * a word of the text), only in rooms[0..nrooms) (the caller's rooms now; nrooms == 0
 * finds nothing), best match first; skips `skip` results, gives at most `limit`.
 * Returns the number of rows given to fn, or -1. */
typedef struct archive_query {
    const char *const *words;
    size_t nwords;
    const char *const *rooms;
    size_t nrooms;
    int limit;
    long long skip;
} archive_query;

int archive_search(archive *a, const archive_query *q, archive_row_fn fn, void *ud);

/* The last error of this handle, for logs (never a password, never user text). */
const char *archive_error(const archive *a);

#endif
