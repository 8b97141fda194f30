/* archive.c - archive_open() picks the back end from the URL; every other call is a
 * dispatch on a->kind. No SQL here: that is in archive_sqlite.c and archive_pg.c. */
#include "archive_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void archive_seterr(archive *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

archive *archive_open(const char *url, char *err, size_t errlen)
{
    if (!url || !*url) {
        snprintf(err, errlen, "empty ARCHIVE_URL");
        return NULL;
    }
    archive *a = xcalloc(1, sizeof *a);
    int rc;
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        a->kind = ARCHIVE_PG;
        rc = archive_pg_open(a, url);
    } else {
        a->kind = ARCHIVE_SQLITE;
        rc = archive_sqlite_open(a, has_prefix(url, "sqlite:") ? url + 7 : url);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", a->err[0] ? a->err : "cannot open the archive");
        archive_close(a);
        return NULL;
    }
    return a;
}

void archive_close(archive *a)
{
    if (!a) return;
    if (a->search_free) a->search_free(a);
    if (a->kind == ARCHIVE_PG) archive_pg_close(a);
    else archive_sqlite_close(a);
    free(a);
}

int archive_put(archive *a, const archive_msg *m, size_t n, size_t *inserted)
{
    if (inserted) *inserted = 0;
    if (n == 0) return 0;
    return a->kind == ARCHIVE_PG ? archive_pg_put(a, m, n, inserted) : archive_sqlite_put(a, m, n, inserted);
}

int archive_range(archive *a, const char *room_id, const char *epoch, long long before, long long after,
                  int limit, archive_row_fn fn, void *ud)
{
    if (limit <= 0) return 0;
    if (before <= 0 && after < 0) {
        archive_seterr(a, "range: neither before nor after");
        return -1;
    }
    return a->kind == ARCHIVE_PG ? archive_pg_range(a, room_id, epoch, before, after, limit, fn, ud)
                                 : archive_sqlite_range(a, room_id, epoch, before, after, limit, fn, ud);
}

int archive_expire(archive *a, long long before_ms, long long *deleted)
{
    if (deleted) *deleted = 0;
    return a->kind == ARCHIVE_PG ? archive_pg_expire(a, before_ms, deleted) : archive_sqlite_expire(a, before_ms, deleted);
}

int archive_search(archive *a, const archive_query *q, archive_row_fn fn, void *ud)
{
    if (q->nwords == 0 || q->nrooms == 0 || q->limit <= 0) return 0;
    return a->kind == ARCHIVE_PG ? archive_search_pg(a, q, fn, ud) : archive_search_sqlite(a, q, fn, ud);
}

const char *archive_error(const archive *a)
{
    return a && a->err[0] ? a->err : "no error";
}
