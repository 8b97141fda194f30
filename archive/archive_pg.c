/* archive_pg.c - the PostgreSQL 15 back end (libpq, synchronous).
 *
 * Opening connects and creates the schema when it is missing, under a transaction-level
 * advisory lock so several programs starting at once do not race on CREATE ... IF NOT
 * EXISTS. A lost connection is re-established once at the start of the next call
 * (archive_pg_ready); a call that fails fails whole: put is one transaction.
 * Search (the generated tsvector column and its GIN index) is in archive_search_pg.c.
 * Error text comes from libpq, which never repeats the password of the URL. */
#include "archive_int.h"
#include "buf.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
    "SET client_min_messages = warning;"
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(4242001);"
    "CREATE TABLE IF NOT EXISTS messages("
    " id text PRIMARY KEY,"
    " room_id text NOT NULL,"
    " epoch text NOT NULL,"
    " \"offset\" bigint NOT NULL,"
    " ts bigint NOT NULL,"
    " sender_id text NOT NULL,"
    " text text NOT NULL,"
    " body text NOT NULL,"
    " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,"
    " UNIQUE(room_id, epoch, \"offset\"));"
    "CREATE INDEX IF NOT EXISTS messages_tsv ON messages USING gin(tsv);"
    "CREATE INDEX IF NOT EXISTS messages_ts ON messages(ts);"
    "COMMIT;";

#define COLS "id, room_id, epoch, \"offset\", ts, sender_id, text, body"
/* Rows per INSERT statement: 8 parameters each, well under libpq's 65535. */
#define PUT_CHUNK 1000

static int fail(archive *a, const char *what, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !*m) m = a->pg ? PQerrorMessage(a->pg) : "no connection";
    archive_seterr(a, "postgresql %s: %s", what, m);
    size_t n = strlen(a->err);
    while (n && (a->err[n - 1] == '\n' || a->err[n - 1] == ' ')) a->err[--n] = '\0';
    return -1;
}

/* Run sql (no parameters) expecting no rows; 0 or -1. */
static int exec(archive *a, const char *sql, const char *what)
{
    PGresult *r = PQexec(a->pg, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? 0 : fail(a, what, r);
    PQclear(r);
    return rc;
}

int archive_pg_ready(archive *a)
{
    if (a->pg && PQstatus(a->pg) == CONNECTION_OK) return 0;
    if (a->pg) PQreset(a->pg);
    else a->pg = PQconnectdb(a->conninfo);
    if (PQstatus(a->pg) != CONNECTION_OK) return fail(a, "connect", NULL);
    return 0;
}

int archive_pg_open(archive *a, const char *url)
{
    a->conninfo = xstrdup(url);
    if (archive_pg_ready(a)) return -1;
    PGresult *r = PQexec(a->pg, schema);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fail(a, "schema", r);
    PQclear(r);
    if (!ok) {
        PGresult *rb = PQexec(a->pg, "ROLLBACK");
        PQclear(rb);
        return -1;
    }
    return 0;
}

void archive_pg_close(archive *a)
{
    if (a->pg) PQfinish(a->pg);
    a->pg = NULL;
    free(a->conninfo);
    a->conninfo = NULL;
}

static void rollback(archive *a)
{
    if (PQstatus(a->pg) != CONNECTION_OK) return;
    PGresult *r = PQexec(a->pg, "ROLLBACK");
    PQclear(r);
}

/* INSERT rows m[0..n) (n <= PUT_CHUNK) skipping any that conflict; adds the number
 * inserted to *added. 0 or -1. */
static int put_chunk(archive *a, const archive_msg *m, size_t n, size_t *added)
{
    buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "INSERT INTO messages(" COLS ") VALUES ");
    const char **vals = xcalloc(n * 8, sizeof *vals);
    char (*nums)[2][24] = xcalloc(n, sizeof *nums);
    for (size_t i = 0; i < n; i++) {
        size_t p = i * 8;
        buf_printf(&sql, "%s($%zu,$%zu,$%zu,$%zu::bigint,$%zu::bigint,$%zu,$%zu,$%zu)", i ? "," : "", p + 1,
                   p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8);
        snprintf(nums[i][0], sizeof nums[i][0], "%lld", m[i].offset);
        snprintf(nums[i][1], sizeof nums[i][1], "%lld", m[i].ts);
        vals[p + 0] = m[i].id ? m[i].id : "";
        vals[p + 1] = m[i].room_id ? m[i].room_id : "";
        vals[p + 2] = m[i].epoch ? m[i].epoch : "";
        vals[p + 3] = nums[i][0];
        vals[p + 4] = nums[i][1];
        vals[p + 5] = m[i].sender_id ? m[i].sender_id : "";
        vals[p + 6] = m[i].text ? m[i].text : "";
        vals[p + 7] = m[i].body ? m[i].body : "";
    }
    buf_puts(&sql, " ON CONFLICT DO NOTHING");
    PGresult *r = PQexecParams(a->pg, buf_data(&sql), (int)(n * 8), NULL, vals, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = fail(a, "insert", r);
    else *added += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    free(vals);
    free(nums);
    buf_free(&sql);
    return rc;
}

int archive_pg_put(archive *a, const archive_msg *m, size_t n, size_t *inserted)
{
    if (archive_pg_ready(a)) return -1;
    if (exec(a, "BEGIN", "begin")) return -1;
    size_t added = 0;
    for (size_t i = 0; i < n; i += PUT_CHUNK) {
        size_t k = n - i < PUT_CHUNK ? n - i : PUT_CHUNK;
        if (put_chunk(a, m + i, k, &added)) {
            rollback(a);
            return -1;
        }
    }
    if (exec(a, "COMMIT", "commit")) {
        rollback(a);
        return -1;
    }
    if (inserted) *inserted = added;
    return 0;
}

int archive_pg_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                     int limit, archive_row_fn fn, void *ud)
{
    if (archive_pg_ready(a)) return -1;
    static const char sql_before[] =
        "SELECT " COLS " FROM (SELECT " COLS " FROM messages WHERE room_id = $1 AND epoch = $2"
        " AND \"offset\" < $3::bigint ORDER BY \"offset\" DESC LIMIT $4::int) t ORDER BY \"offset\"";
    static const char sql_after[] =
        "SELECT " COLS " FROM messages WHERE room_id = $1 AND epoch = $2 AND \"offset\" > $3::bigint"
        " ORDER BY \"offset\" LIMIT $4::int";
    char at[24], lim[16];
    snprintf(at, sizeof at, "%lld", before > 0 ? before : after);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *vals[4] = {room_id, epoch, at, lim};
    PGresult *r = PQexecParams(a->pg, before > 0 ? sql_before : sql_after, 4, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail(a, "range", r);
        PQclear(r);
        return -1;
    }
    int rows = archive_pg_rows(r, fn, ud);
    PQclear(r);
    return rows;
}

int archive_pg_rows(const PGresult *r, archive_row_fn fn, void *ud)
{
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        archive_msg m = {
            .id = PQgetvalue(r, i, 0), .room_id = PQgetvalue(r, i, 1), .epoch = PQgetvalue(r, i, 2),
            .offset = strtoll(PQgetvalue(r, i, 3), NULL, 10), .ts = strtoll(PQgetvalue(r, i, 4), NULL, 10),
            .sender_id = PQgetvalue(r, i, 5), .text = PQgetvalue(r, i, 6), .body = PQgetvalue(r, i, 7),
        };
        fn(&m, ud);
    }
    return rows;
}

int archive_pg_expire(archive *a, long long before_ms, long long *deleted)
{
    if (archive_pg_ready(a)) return -1;
    char at[24], lim[16];
    snprintf(at, sizeof at, "%lld", before_ms);
    snprintf(lim, sizeof lim, "%d", ARCHIVE_EXPIRE_CHUNK);
    const char *vals[2] = {at, lim};
    long long total = 0;
    for (;;) {
        PGresult *r = PQexecParams(a->pg,
                                   "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE ts < $1::bigint"
                                   " LIMIT $2::int)",
                                   2, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fail(a, "expire", r);
            PQclear(r);
            return -1;
        }
        long long n = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        total += n;
        if (n < ARCHIVE_EXPIRE_CHUNK) break;
    }
    if (deleted) *deleted = total;
    return 0;
}
