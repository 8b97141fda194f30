/* archive_int.h - what the archive back ends share (never included outside archive/).
 *
 * One `struct archive` for both back ends: archive.c picks the back end from the URL
 * and dispatches; archive_sqlite.c and archive_pg.c fill it and implement the
 * operations; the search files (archive_search_sqlite.c, archive_search_pg.c) use the
 * same handle. The schema both sides write and read is fixed in archive_sqlite.c and
 * archive_pg.c (and docs/ARCHIVE.md):
 *
 *   messages(id, room_id, epoch, "offset", ts, sender_id, text, body)
 *     SQLite: rowid INTEGER PRIMARY KEY, id UNIQUE, UNIQUE(room_id, epoch, "offset"),
 *             index on ts, FTS5 external-content table messages_fts(text) kept in sync
 *             by triggers (tokenize 'unicode61 remove_diacritics 0')
 *     PostgreSQL: id PRIMARY KEY, UNIQUE(room_id, epoch, "offset"), index on ts,
 *             tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
 *             with a GIN index
 *
 * A handle is used by one thread. Error text goes to a->err (archive_error). */
#ifndef CHAT_ARCHIVE_INT_H
#define CHAT_ARCHIVE_INT_H

#include "archive.h"

#include <libpq-fe.h>
#include <sqlite3.h>

enum archive_kind { ARCHIVE_SQLITE = 1, ARCHIVE_PG = 2 };

struct archive {
    enum archive_kind kind;
    char err[256];

    /* SQLite */
    sqlite3 *db;
    sqlite3_stmt *st_insert;       /* a full chunk of rows, INSERT OR IGNORE */
    sqlite3_stmt *st_before;       /* newest rows with offset < ?, newest first */
    sqlite3_stmt *st_after;        /* oldest rows with offset > ?, oldest first */
    sqlite3_stmt *st_expire;       /* a chunk of rows with ts < ? */

    /* PostgreSQL */
    PGconn *pg;
    char *conninfo;                /* the URL, to reconnect after a lost connection */

    /* For the search files: a place to keep their own prepared state. */
    void *search;
    void (*search_free)(archive *a);
};

/* Set a->err (printf-style). Never pass a password or user text. */
void archive_seterr(archive *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rows deleted by one expire statement at most (short transactions, readers never wait long). */
#define ARCHIVE_EXPIRE_CHUNK 5000

/* ---- SQLite (archive_sqlite.c) ---- */
int archive_sqlite_open(archive *a, const char *path);
void archive_sqlite_close(archive *a);
int archive_sqlite_put(archive *a, const archive_msg *m, size_t n, size_t *inserted);
int archive_sqlite_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                         int limit, archive_row_fn fn, void *ud);
int archive_sqlite_expire(archive *a, long long before_ms, long long *deleted);
int archive_search_sqlite(archive *a, const archive_query *q, archive_row_fn fn, void *ud);

/* ---- PostgreSQL (archive_pg.c) ---- */
int archive_pg_open(archive *a, const char *url);
void archive_pg_close(archive *a);
int archive_pg_put(archive *a, const archive_msg *m, size_t n, size_t *inserted);
int archive_pg_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                     int limit, archive_row_fn fn, void *ud);
int archive_pg_expire(archive *a, long long before_ms, long long *deleted);
int archive_search_pg(archive *a, const archive_query *q, archive_row_fn fn, void *ud);

/* A live connection, reconnecting once when the last one was lost. 0 or -1 (err set). */
int archive_pg_ready(archive *a);
/* Give every row of r (columns id, room_id, epoch, offset, ts, sender_id, text, body in
 * that order) to fn. Returns the number of rows. */
int archive_pg_rows(const PGresult *r, archive_row_fn fn, void *ud);

#endif
