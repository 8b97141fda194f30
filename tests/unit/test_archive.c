/* test_archive.c - archive/ through its interface: schema creation, put (idempotent by
 * id, one transaction), range in both directions, expire. A real SQLite file in a
 * temporary directory; with ARCHIVE_TEST_URL=postgresql://... the same tests run
 * against that database (tests/integration/archiver.sh does, on a private cluster). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"

static char url[512];
static char tmpdir[] = "/tmp/test_archive.XXXXXX";
static int run_no;

static archive *open_fresh(void)
{
    char err[256] = "";
    const char *env = getenv("ARCHIVE_TEST_URL");
    if (env && *env) snprintf(url, sizeof url, "%s", env);
    else snprintf(url, sizeof url, "sqlite:%s/a%d.db", tmpdir, ++run_no);
    archive *a = archive_open(url, err, sizeof err);
    if (!a) fail_msg("archive_open: %s", err);
    long long d = 0;
    /* A shared database (PostgreSQL) starts each test empty. */
    assert_int_equal(archive_expire(a, 1LL << 62, &d), 0);
    return a;
}

typedef struct rows {
    int n;
    long long offs[64];
    char ids[64][32];
    char bodies[64][64];
} rows;

static void collect(const archive_msg *m, void *ud)
{
    rows *r = ud;
    if (r->n >= 64) return;
    r->offs[r->n] = m->offset;
    snprintf(r->ids[r->n], sizeof r->ids[0], "%s", m->id);
    snprintf(r->bodies[r->n], sizeof r->bodies[0], "%s", m->body);
    r->n++;
}

static archive_msg mk(char *id, char *body, const char *room, long long off, long long ts)
{
    sprintf(id, "%s-m%lld", room, off);
    sprintf(body, "{\"id\":\"%s\",\"offset\":%lld}", id, off);
    return (archive_msg){.id = id, .room_id = room, .epoch = "e1", .offset = off, .ts = ts,
                         .sender_id = "u1", .text = "hello 채팅방에서 world", .body = body};
}

static void test_put_idempotent(void **state)
{
    archive *a = open_fresh();
    char ids[10][32], bodies[10][64];
    archive_msg m[10];
    for (int i = 0; i < 10; i++) m[i] = mk(ids[i], bodies[i], "r1", i + 1, 1000 + i);
    size_t ins = 99;
    assert_int_equal(archive_put(a, m, 10, &ins), 0);
    assert_int_equal(ins, 10);
    /* the same batch again, and one overlapping it: only new ids count */
    assert_int_equal(archive_put(a, m, 10, &ins), 0);
    assert_int_equal(ins, 0);
    char id2[2][32], b2[2][64];
    archive_msg more[3] = {m[9], mk(id2[0], b2[0], "r1", 11, 2000), mk(id2[1], b2[1], "r1", 11, 2000)};
    assert_int_equal(archive_put(a, more, 3, &ins), 0);
    assert_int_equal(ins, 1); /* a duplicate inside one batch is stored once too */
    assert_int_equal(archive_put(a, NULL, 0, &ins), 0);
    assert_int_equal(ins, 0);
    rows r = {0};
    assert_int_equal(archive_range(a, "r1", "e1", 0, 0, 50, collect, &r), 11);
    for (int i = 0; i < 11; i++) assert_int_equal(r.offs[i], i + 1);
    assert_string_equal(r.bodies[0], "{\"id\":\"r1-m1\",\"offset\":1}");
    archive_close(a);
}

static void test_range(void **state)
{
    archive *a = open_fresh();
    char ids[40][32], bodies[40][64];
    archive_msg m[40];
    for (int i = 0; i < 20; i++) m[i] = mk(ids[i], bodies[i], "ra", i + 1, 5000);
    for (int i = 20; i < 40; i++) m[i] = mk(ids[i], bodies[i], "rb", i - 19, 5000);
    m[5].epoch = "e0"; /* another epoch of room ra: never mixed in */
    assert_int_equal(archive_put(a, m, 40, NULL), 0);
    const struct { int line; const char *room; long long before, after; int limit; int want; long long first, last; } t[] = {
        {__LINE__, "ra", 21, 0, 5, 5, 16, 20},   /* newest 5 below 21, oldest first */
        {__LINE__, "ra", 8, 0, 5, 5, 2, 7},      /* offset 6 is in epoch e0: skipped */
        {__LINE__, "ra", 3, 0, 10, 2, 1, 2},
        {__LINE__, "ra", 1, 0, 10, 0, 0, 0},
        {__LINE__, "ra", 0, 0, 3, 3, 1, 3},      /* after 0: the oldest */
        {__LINE__, "ra", 0, 18, 10, 2, 19, 20},
        {__LINE__, "ra", 0, 20, 10, 0, 0, 0},
        {__LINE__, "rb", 0, 5, 2, 2, 6, 7},
        {__LINE__, "ra", 3, 0, 10, 2, 1, 2},
        {__LINE__, "nope", 100, 0, 10, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        rows r = {0};
        int n = archive_range(a, t[i].room, "e1", t[i].before, t[i].after, t[i].limit, collect, &r);
        if (n != t[i].want || r.n != n) fail_msg("line %d: %d rows (%d given), want %d", t[i].line, n, r.n, t[i].want);
        if (n && (r.offs[0] != t[i].first || r.offs[n - 1] != t[i].last))
            fail_msg("line %d: %lld..%lld, want %lld..%lld", t[i].line, r.offs[0], r.offs[n - 1], t[i].first, t[i].last);
        for (int k = 1; k < n; k++)
            if (r.offs[k] <= r.offs[k - 1]) fail_msg("line %d: not ascending", t[i].line);
    }
    rows r = {0};
    assert_int_equal(archive_range(a, "ra", "e0", 100, 0, 10, collect, &r), 1);
    assert_int_equal(r.offs[0], 6);
    /* neither before nor after: an error, not everything */
    assert_int_equal(archive_range(a, "ra", "e1", 0, -1, 10, collect, &r), -1);
    archive_close(a);
}

static void test_expire(void **state)
{
    archive *a = open_fresh();
    char ids[30][32], bodies[30][64];
    archive_msg m[30];
    for (int i = 0; i < 30; i++) m[i] = mk(ids[i], bodies[i], "rx", i + 1, 1000 * (i + 1));
    assert_int_equal(archive_put(a, m, 30, NULL), 0);
    long long d = -1;
    assert_int_equal(archive_expire(a, 10500, &d), 0); /* ts 1000..10000 */
    assert_int_equal(d, 10);
    assert_int_equal(archive_expire(a, 10500, &d), 0);
    assert_int_equal(d, 0);
    rows r = {0};
    assert_int_equal(archive_range(a, "rx", "e1", 0, 0, 64, collect, &r), 20);
    assert_int_equal(r.offs[0], 11);
    /* an expired id may come back (re-delivery after expiry stores it again) */
    size_t ins = 0;
    assert_int_equal(archive_put(a, m, 1, &ins), 0);
    assert_int_equal(ins, 1);
    archive_close(a);
}

static void test_open_errors(void **state)
{
    char err[256] = "";
    assert_null(archive_open("", err, sizeof err));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(archive_open("sqlite:/nonexistent-dir/x/y.db", err, sizeof err));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    /* a wrong password: an error that does not repeat it */
    assert_null(archive_open("postgresql://u:s3cr3tpw@127.0.0.1:1/db?connect_timeout=2", err, sizeof err));
    assert_true(err[0] != '\0');
    assert_null(strstr(err, "s3cr3tpw"));
    archive_close(NULL);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_idempotent),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
