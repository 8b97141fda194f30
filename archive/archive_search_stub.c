/* archive_search_stub.c - PLACEHOLDER until archive_search_sqlite.c and
 * archive_search_pg.c exist: search fails with -1 on both back ends. Delete this file
 * when adding them. */
#include "archive_int.h"

int archive_search_sqlite(archive *a, const archive_query *q, archive_row_fn fn, void *ud)
{
    (void)q, (void)fn, (void)ud;
    archive_seterr(a, "search is not built yet (sqlite)");
    return -1;
}

int archive_search_pg(archive *a, const archive_query *q, archive_row_fn fn, void *ud)
{
    (void)q, (void)fn, (void)ud;
    archive_seterr(a, "search is not built yet (postgresql)");
    return -1;
}
