/* archive_sqlite.c - the SQLite back end: one file, WAL, FTS5.
 *
 * Opening creates the schema when it is missing (every statement IF NOT EXISTS, in
 * one IMMEDIATE transaction, so chat-api processes and chat-archiver opening a new file
 * at once do not race). Settings of every connection:
 *   journal_mode=WAL    readers (chat-api) never block the writer (chat-archiver)
 *   busy_timeout=5000   a writer waits for another one instead of failing at once
 *   synchronous=FULL    a committed batch survives a power loss, not only a crash:
 *                       the archiver acknowledges (and deletes) feed entries right
 *                       after the commit, so a commit that is not on disk would be a
 *                       message lost for good. The fsync is paid once per batch.
 * Search (the FTS5 table messages_fts) is in archive_search_sqlite.c. */
#include "archive_int.h"

#include <stdlib.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS messages("
    " rowid INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " room_id TEXT NOT NULL,"
    " epoch TEXT NOT NULL,"
    " \"offset\" INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " sender_id TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " UNIQUE(room_id, epoch, \"offset\"));"
    "CREATE INDEX IF NOT EXISTS messages_ts ON messages(ts);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(text, content='messages',"
    " content_rowid='rowid', tokenize='unicode61 remove_diacritics 0');"
    "CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END;"
    "CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END;"
    "CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);"
    " INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END;";

#define COLS "id, room_id, epoch, \"offset\", ts, sender_id, text, body"
/* Rows per INSERT statement. One statement per chunk, not per row: every statement that
 * writes the FTS5 table (through the trigger) opens a savepoint on it, and FTS5 flushes
 * its pending terms as a new index segment at each one - per row that is a segment per
 * message and several times the work. 8 parameters a row, far under SQLite's 32766. */
#define PUT_CHUNK 256

static int fail(archive *a, const char *what)
{
    archive_seterr(a, "sqlite %s: %s", what, a->db ? sqlite3_errmsg(a->db) : "no handle");
    return -1;
}

static int exec(archive *a, const char *sql, const char *what)
{
    if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK) return fail(a, what);
    return 0;
}

static int prepare(archive *a, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(a->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail(a, "prepare");
    return 0;
}

/* INSERT OR IGNORE of n rows in one statement. */
static int prepare_insert(archive *a, sqlite3_stmt **st, size_t n, unsigned flags)
{
    size_t cap = 160 + n * 20; /* the head is under 100 bytes, each row 18 */
    char *sql = malloc(cap);
    if (!sql) return fail(a, "prepare");
    size_t len = (size_t)snprintf(sql, cap, "INSERT OR IGNORE INTO messages(" COLS ") VALUES ");
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(sql + len, cap - len, "%s(?,?,?,?,?,?,?,?)", i ? "," : "");
    int rc = sqlite3_prepare_v3(a->db, sql, (int)len, flags, st, NULL);
    free(sql);
    return rc == SQLITE_OK ? 0 : fail(a, "prepare");
}

int archive_sqlite_open(archive *a, const char *path)
{
    if (!*path) {
        archive_seterr(a, "sqlite: empty path");
        return -1;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &a->db, flags, NULL) != SQLITE_OK) return fail(a, "open");
    sqlite3_busy_timeout(a->db, 5000);
    if (exec(a, "PRAGMA journal_mode=WAL", "journal_mode") || exec(a, "PRAGMA synchronous=FULL", "synchronous"))
        return -1;
    if (exec(a, "BEGIN IMMEDIATE", "begin")) return -1;
    if (sqlite3_exec(a->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        fail(a, "schema");
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (exec(a, "COMMIT", "commit")) return -1;
    if (prepare_insert(a, &a->st_insert, PUT_CHUNK, SQLITE_PREPARE_PERSISTENT) ||
        prepare(a, &a->st_before,
                "SELECT " COLS " FROM (SELECT " COLS " FROM messages WHERE room_id = ?1 AND epoch = ?2"
                " AND \"offset\" < ?3 ORDER BY \"offset\" DESC LIMIT ?4) ORDER BY \"offset\"") ||
        prepare(a, &a->st_after,
                "SELECT " COLS " FROM messages WHERE room_id = ?1 AND epoch = ?2 AND \"offset\" > ?3"
                " ORDER BY \"offset\" LIMIT ?4") ||
        prepare(a, &a->st_expire,
                "DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE ts < ?1 LIMIT ?2)"))
        return -1;
    return 0;
}

void archive_sqlite_close(archive *a)
{
    sqlite3_finalize(a->st_insert);
    sqlite3_finalize(a->st_before);
    sqlite3_finalize(a->st_after);
    sqlite3_finalize(a->st_expire);
    if (a->db) sqlite3_close_v2(a->db);
    a->db = NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

/* Insert m[0..n) (n <= PUT_CHUNK) with one statement; adds the rows inserted. */
static int put_chunk(archive *a, const archive_msg *m, size_t n, size_t *added)
{
    sqlite3_stmt *st = a->st_insert;
    if (n != PUT_CHUNK && prepare_insert(a, &st, n, 0)) return -1;
    for (size_t i = 0; i < n; i++) {
        int k = (int)i * 8;
        bind_text(st, k + 1, m[i].id);
        bind_text(st, k + 2, m[i].room_id);
        bind_text(st, k + 3, m[i].epoch);
        sqlite3_bind_int64(st, k + 4, m[i].offset);
        sqlite3_bind_int64(st, k + 5, m[i].ts);
        bind_text(st, k + 6, m[i].sender_id);
        bind_text(st, k + 7, m[i].text);
        bind_text(st, k + 8, m[i].body);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) *added += (size_t)sqlite3_changes(a->db);
    else fail(a, "insert");
    if (st == a->st_insert) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int archive_sqlite_put(archive *a, const archive_msg *m, size_t n, size_t *inserted)
{
    if (exec(a, "BEGIN IMMEDIATE", "begin")) return -1;
    size_t added = 0;
    for (size_t i = 0; i < n; i += PUT_CHUNK) {
        if (put_chunk(a, m + i, n - i < PUT_CHUNK ? n - i : PUT_CHUNK, &added)) {
            sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail(a, "commit");
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (inserted) *inserted = added;
    return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

int archive_sqlite_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                         int limit, archive_row_fn fn, void *ud)
{
    sqlite3_stmt *st = before > 0 ? a->st_before : a->st_after;
    bind_text(st, 1, room_id);
    bind_text(st, 2, epoch);
    sqlite3_bind_int64(st, 3, before > 0 ? before : after);
    sqlite3_bind_int(st, 4, limit);
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        archive_msg m = {
            .id = col(st, 0), .room_id = col(st, 1), .epoch = col(st, 2),
            .offset = sqlite3_column_int64(st, 3), .ts = sqlite3_column_int64(st, 4),
            .sender_id = col(st, 5), .text = col(st, 6), .body = col(st, 7),
        };
        fn(&m, ud);
        rows++;
    }
    if (rc != SQLITE_DONE) fail(a, "range");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? rows : -1;
}

int archive_sqlite_expire(archive *a, long long before_ms, long long *deleted)
{
    long long total = 0;
    for (;;) {
        sqlite3_bind_int64(a->st_expire, 1, before_ms);
        sqlite3_bind_int(a->st_expire, 2, ARCHIVE_EXPIRE_CHUNK);
        int rc = sqlite3_step(a->st_expire);
        sqlite3_reset(a->st_expire);
        if (rc != SQLITE_DONE) return fail(a, "expire");
        int n = sqlite3_changes(a->db);
        total += n;
        if (n < ARCHIVE_EXPIRE_CHUNK) break;
    }
    if (deleted) *deleted = total;
    return 0;
}
