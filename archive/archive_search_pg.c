/* archive_search_pg.c - archive_search() on PostgreSQL: the generated column
 * tsv = to_tsvector('simple', text) and its GIN index.
 *
 * The tsquery is built here from the words (which query.c already reduced to
 * letters, digits and marks): each word becomes a quoted tsquery term with every
 * '\'' and '\\' escaped by a backslash, marked as a prefix (`:*`), all joined by `&`:
 * `'채팅':* & 'room':*`. That text is one bound parameter given to
 * to_tsquery('simple', ...), so the terms are lowercased by the same dictionary that
 * built tsv. The rooms are one bound text[] parameter (`room_id = ANY($2)`): nothing
 * outside the caller's rooms is ranked, counted or skipped over. Of the newest
 * QUERY_CANDIDATES matches, best match first by ts_rank (which depends only on the
 * row), then newest, then id: a total order for skip/limit. Parameters go as
 * text; never any SQL or tsquery text from the user.
 * Deliberately not here: tokenizing the query (query.c), snippets (query.c). */
#include "archive_int.h"
#include "buf.h"
#include "query.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The inner query keeps the newest QUERY_CANDIDATES matches of the caller's rooms;
 * only those are ranked (ts_rank reads each row's tsvector). */
#define STR_(x) #x
#define STR(x) STR_(x)
static const char search_sql[] =
    "SELECT id, room_id, epoch, \"offset\", ts, sender_id, text, body FROM ("
    " SELECT m.id, m.room_id, m.epoch, m.\"offset\", m.ts, m.sender_id, m.text, m.body, m.tsv, q.q"
    " FROM messages m, to_tsquery('simple', $1) AS q(q)"
    " WHERE m.tsv @@ q.q AND m.room_id = ANY($2::text[])"
    " ORDER BY m.ts DESC, m.id DESC LIMIT " STR(QUERY_CANDIDATES) ") c"
    " ORDER BY ts_rank(tsv, q) DESC, ts DESC, id DESC LIMIT $3::int OFFSET $4::bigint";

/* to_tsquery says NOTICE for a word without lexemes; that is not worth a log line. */
static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

/* Append s as an element of a text[] literal: double-quoted, '"' and '\' escaped. */
static void array_elem(buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

/* An error for the log. Errors about the statement or its data (SQLSTATE classes 22,
 * 42, ...) may quote the tsquery, i.e. the user's words: only the SQLSTATE is kept for
 * them. Connection and server-state errors (08, 53, 57, 58, XX) keep libpq's text. */
static void search_error(archive *a, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m) m = PQerrorMessage(a->pg);
    static const char *const safe[] = {"08", "53", "57", "58", "XX"};
    int keep = !state;
    for (size_t i = 0; state && i < sizeof safe / sizeof safe[0]; i++) keep |= strncmp(state, safe[i], 2) == 0;
    if (!keep) {
        archive_seterr(a, "postgresql search: SQLSTATE %s", state);
        return;
    }
    archive_seterr(a, "postgresql search: %s", m);
    size_t n = strlen(a->err);
    while (n && (a->err[n - 1] == '\n' || a->err[n - 1] == ' ')) a->err[--n] = '\0';
}

int archive_search_pg(archive *a, const archive_query *q, archive_row_fn fn, void *ud)
{
    if (archive_pg_ready(a)) return -1;
    PQsetNoticeProcessor(a->pg, quiet, NULL);
    buf tsq, rooms;
    buf_init(&tsq, 0);
    buf_init(&rooms, 0);
    for (size_t i = 0; i < q->nwords; i++) {
        if (i) buf_puts(&tsq, " & ");
        buf_putc(&tsq, '\'');
        for (const char *p = q->words[i]; *p; p++) {
            if (*p == '\'' || *p == '\\') buf_putc(&tsq, '\\');
            buf_putc(&tsq, *p);
        }
        buf_puts(&tsq, "':*");
    }
    buf_putc(&rooms, '{');
    for (size_t i = 0; i < q->nrooms; i++) {
        if (i) buf_putc(&rooms, ',');
        array_elem(&rooms, q->rooms[i]);
    }
    buf_putc(&rooms, '}');
    char lim[16], skip[24];
    snprintf(lim, sizeof lim, "%d", q->limit);
    snprintf(skip, sizeof skip, "%lld", q->skip);
    const char *vals[4] = {buf_data(&tsq), buf_data(&rooms), lim, skip};
    PGresult *r = PQexecParams(a->pg, search_sql, 4, NULL, vals, NULL, NULL, 0);
    int rows = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        search_error(a, r);
    } else {
        rows = archive_pg_rows(r, fn, ud);
    }
    PQclear(r);
    buf_free(&tsq);
    buf_free(&rooms);
    return rows;
}
