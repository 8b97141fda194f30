/* archive_search_sqlite.c - archive_search() on SQLite: FTS5 (unicode61,
 * remove_diacritics 0) over messages.text.
 *
 * The MATCH expression is built here from the words (which query.c already reduced to
 * letters, digits and marks): each word becomes an FTS5 string with every '"' doubled,
 * followed by `*` (prefix), separated by spaces (FTS5's implicit AND):
 * `"채팅"* "room"*`. So nothing of the user's text is FTS5 syntax: no column filter,
 * no OR/NOT/NEAR, no '^'. The rooms are one bound JSON array, read with json_each, so
 * membership is part of the query and nothing outside the caller's rooms is ever
 * ranked, counted or skipped over. Of the newest QUERY_CANDIDATES matches, best match
 * first by bm25 (lower is better in SQLite), then newest, then rowid: a total order,
 * so skip/limit pages do not overlap while the archive does not change.
 * Deliberately not here: tokenizing the query (query.c), snippets (query.c). */
#include "archive_int.h"
#include "buf.h"
#include "query.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The inner query walks the matches newest first (FTS5 reads its doclists backwards
 * for ORDER BY rowid DESC; rowids grow with arrival) and stops after
 * QUERY_CANDIDATES of them in the caller's rooms; only those are ranked. */
#define STR_(x) #x
#define STR(x) STR_(x)
static const char search_sql[] =
    "SELECT id, room_id, epoch, \"offset\", ts, sender_id, text, body FROM ("
    " SELECT m.rowid AS rid, m.id, m.room_id, m.epoch, m.\"offset\", m.ts, m.sender_id, m.text, m.body,"
    " bm25(messages_fts) AS score"
    " FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
    " WHERE f.messages_fts MATCH ?1 AND m.room_id IN (SELECT value FROM json_each(?2))"
    " ORDER BY f.rowid DESC LIMIT " STR(QUERY_CANDIDATES) ")"
    " ORDER BY score, ts DESC, rid DESC LIMIT ?3 OFFSET ?4";

static void search_free(archive *a)
{
    sqlite3_finalize(a->search);
    a->search = NULL;
}

/* Append s as a JSON string (the room ids are URL-safe, but nothing is assumed). */
static void json_str(buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}

/* An error for the log: a generic SQLITE_ERROR message may quote the MATCH text (the
 * user's words), so only its code is kept; the others (busy, I/O, corrupt) are safe. */
static void search_error(archive *a, int rc)
{
    if ((rc & 0xff) == SQLITE_ERROR) archive_seterr(a, "sqlite search: %s", sqlite3_errstr(rc));
    else archive_seterr(a, "sqlite search: %s", sqlite3_errmsg(a->db));
}

int archive_search_sqlite(archive *a, const archive_query *q, archive_row_fn fn, void *ud)
{
    if (!a->search) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v3(a->db, search_sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
            archive_seterr(a, "sqlite search prepare: %s", sqlite3_errmsg(a->db));
            return -1;
        }
        a->search = st;
        a->search_free = search_free;
    }
    sqlite3_stmt *st = a->search;
    buf match, rooms;
    buf_init(&match, 0);
    buf_init(&rooms, 0);
    for (size_t i = 0; i < q->nwords; i++) {
        if (i) buf_putc(&match, ' ');
        buf_putc(&match, '"');
        for (const char *p = q->words[i]; *p; p++) {
            if (*p == '"') buf_putc(&match, '"');
            buf_putc(&match, *p);
        }
        buf_puts(&match, "\"*");
    }
    buf_putc(&rooms, '[');
    for (size_t i = 0; i < q->nrooms; i++) {
        if (i) buf_putc(&rooms, ',');
        json_str(&rooms, q->rooms[i]);
    }
    buf_putc(&rooms, ']');
    sqlite3_bind_text(st, 1, buf_data(&match), (int)match.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, buf_data(&rooms), (int)rooms.len, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, q->limit);
    sqlite3_bind_int64(st, 4, q->skip);
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define COL(i) (sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
        archive_msg m = {
            .id = COL(0), .room_id = COL(1), .epoch = COL(2), .offset = sqlite3_column_int64(st, 3),
            .ts = sqlite3_column_int64(st, 4), .sender_id = COL(5), .text = COL(6), .body = COL(7),
        };
#undef COL
        fn(&m, ud);
        rows++;
    }
    if (rc != SQLITE_DONE) search_error(a, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    buf_free(&match);
    buf_free(&rooms);
    return rc == SQLITE_DONE ? rows : -1;
}
