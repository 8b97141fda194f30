/* test_archive_search.c - archive_search() through the interface, words from
 * query_parse() as chat-api gives them: Korean prefixes, English, case, all words
 * required, rooms as a filter inside the query, best match first with ties newest
 * first, skip/limit pages without overlap, and words that would be syntax in FTS5 or
 * tsquery. A real SQLite file in a temporary directory; with
 * ARCHIVE_TEST_URL=postgresql://... the same tests run against that database. */
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
#include "query.h"

static char tmpdir[] = "/tmp/test_archive_search.XXXXXX";
static archive *A;

typedef struct hits {
    int n;
    char ids[64][32];
} hits;

static void collect(const archive_msg *m, void *ud)
{
    hits *h = ud;
    if (h->n < 64) snprintf(h->ids[h->n++], sizeof h->ids[0], "%s", m->id);
}

/* The corpus: id, room, ts, text. */
static const struct {
    const char *id, *room;
    long long ts;
    const char *text;
} corpus[] = {
    {"k1", "r1", 1000, "우리 채팅방에서 만나요"},
    {"k2", "r1", 1001, "채팅 서버를 만들었다"},
    {"k3", "r1", 1002, "대화방에서 채 팅"},
    {"e1", "r1", 1003, "Hello World from the chat server"},
    {"e2", "r1", 1004, "HELLO again, worldwide friends"},
    {"e3", "r1", 1005, "hello hello hello"},
    {"m1", "r1", 1006, "오늘 Meeting은 채팅room에서"},
    {"x1", "r2", 1007, "secret 채팅 plans in room two"},
    {"x2", "r2", 1008, "Hello from room two"},
    {"q1", "r1", 1009, "quote\"s and back\\slash OR NEAR(x) it's -minus *star"},
    {"d1", "r1", 1010, "caf\xc3\xa9 \xc3\x89" "COLE Привет"},
    {"p1", "r3", 2000, "page word"}, {"p2", "r3", 2001, "page word"}, {"p3", "r3", 2002, "page word"},
    {"p4", "r3", 2003, "page word"}, {"p5", "r3", 2004, "page word"}, {"p6", "r3", 2005, "page word"},
    {"p7", "r3", 2006, "page word"},
};

static int search(const char *qs, const char *const *rooms, size_t nrooms, int limit, long long skip, hits *h)
{
    query q;
    memset(h, 0, sizeof *h);
    if (query_parse(qs, strlen(qs), &q) != QUERY_OK) fail_msg("query '%s' does not parse", qs);
    archive_query aq = {.words = q.texts, .nwords = q.n, .rooms = rooms, .nrooms = nrooms, .limit = limit, .skip = skip};
    int n = archive_search(A, &aq, collect, h);
    query_free(&q);
    if (n < 0) fail_msg("search '%s': %s", qs, archive_error(A));
    assert_int_equal(n, h->n);
    return n;
}

/* The ids found, sorted, joined by ',' (order-independent comparisons). */
static void sorted(const hits *h, char *out, size_t cap)
{
    char tmp[64][32];
    int n = h->n;
    memcpy(tmp, h->ids, sizeof tmp);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(tmp[j - 1], tmp[j]) > 0; j--) {
            char t[32];
            memcpy(t, tmp[j], 32);
            memcpy(tmp[j], tmp[j - 1], 32);
            memcpy(tmp[j - 1], t, 32);
        }
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < cap; i++) o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", tmp[i]);
}

static void test_matching(void **state)
{
    static const char *const r1[] = {"r1"}, *const r12[] = {"r1", "r2"};
    static const struct {
        int line;
        const char *q;
        int both; /* rooms r1 and r2, else r1 only */
        const char *want;
    } rows[] = {
        {__LINE__, "채팅", 0, "k1,k2,m1"},
        {__LINE__, "채팅", 1, "k1,k2,m1,x1"},
        {__LINE__, "채팅방", 0, "k1"},
        {__LINE__, "만나요 채팅", 0, "k1"},
        {__LINE__, "hello", 0, "e1,e2,e3"},
        {__LINE__, "HeLLo", 1, "e1,e2,e3,x2"},
        {__LINE__, "hello world", 0, "e1,e2"},
        {__LINE__, "hello worldw", 0, "e2"},
        {__LINE__, "hello missing", 0, ""},
        {__LINE__, "meeting 채팅", 0, "m1"},
        {__LINE__, "채팅room", 0, "m1"},
        {__LINE__, "secret", 0, ""},
        {__LINE__, "secret", 1, "x1"},
        {__LINE__, "wor", 0, "e1,e2"},
        {__LINE__, "orld", 0, ""},
        {__LINE__, "\"quote\" OR back", 0, "q1"},
        {__LINE__, "NEAR(x", 0, "q1"},
        {__LINE__, "-minus", 0, "q1"},
        {__LINE__, "*star", 0, "q1"},
        {__LINE__, "it's", 0, "q1"},
        {__LINE__, "slash\\", 0, "q1"},
        {__LINE__, "'; DROP TABLE messages; --", 0, ""},
        {__LINE__, "caf\xc3\xa9", 0, "d1"},
        {__LINE__, "\xc3\xa9" "cole", 0, "d1"},
        {__LINE__, "ПРИВ", 0, "d1"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        hits h;
        search(rows[i].q, rows[i].both ? r12 : r1, rows[i].both ? 2 : 1, 50, 0, &h);
        char got[512];
        sorted(&h, got, sizeof got);
        if (strcmp(got, rows[i].want) != 0) fail_msg("row at line %d: '%s' found %s", rows[i].line, rows[i].q, got);
    }
    /* the table is intact after the hostile rows */
    hits h;
    assert_int_equal(search("hello", r1, 1, 50, 0, &h), 3);
}

static void test_rooms(void **state)
{
    static const char *const none[] = {"nope"}, *const r2[] = {"r2"}, *const odd[] = {"r\"1", "r'1", "r1\\"};
    hits h;
    /* no rooms: nothing (the interface answers before asking the back end) */
    assert_int_equal(search("hello", none, 0, 50, 0, &h), 0);
    assert_int_equal(search("hello", none, 1, 50, 0, &h), 0);
    assert_int_equal(search("채팅", r2, 1, 50, 0, &h), 1);
    assert_string_equal(h.ids[0], "x1");
    /* room ids with quotes or backslashes are values, never syntax */
    assert_int_equal(search("hello", odd, 3, 50, 0, &h), 0);
}

static void test_order_and_pages(void **state)
{
    static const char *const r1[] = {"r1"}, *const r3[] = {"r3"};
    hits h;
    /* "hello hello hello" ranks above the texts with one hello */
    assert_int_equal(search("hello", r1, 1, 50, 0, &h), 3);
    assert_string_equal(h.ids[0], "e3");
    /* equal texts: newest first */
    assert_int_equal(search("page", r3, 1, 50, 0, &h), 7);
    for (int i = 0; i < 7; i++) {
        char want[8];
        snprintf(want, sizeof want, "p%d", 7 - i);
        if (strcmp(h.ids[i], want) != 0) fail_msg("position %d: %s, want %s", i, h.ids[i], want);
    }
    /* pages of 3: every id once */
    char seen[8] = {0};
    int total = 0;
    for (long long skip = 0;; skip += 3) {
        int n = search("page word", r3, 1, 3, skip, &h);
        for (int i = 0; i < n; i++) {
            int k = h.ids[i][1] - '0';
            if (k < 1 || k > 7 || seen[k]++) fail_msg("%s twice or unknown", h.ids[i]);
            total++;
        }
        if (n < 3) break;
    }
    assert_int_equal(total, 7);
    assert_int_equal(search("page", r3, 1, 3, 100, &h), 0);
}

static int setup(void **state)
{
    char url[512], err[256] = "";
    const char *env = getenv("ARCHIVE_TEST_URL");
    if (!mkdtemp(tmpdir)) return -1;
    if (env && *env) snprintf(url, sizeof url, "%s", env);
    else snprintf(url, sizeof url, "sqlite:%s/s.db", tmpdir);
    A = archive_open(url, err, sizeof err);
    if (!A) {
        fprintf(stderr, "archive_open: %s\n", err);
        return -1;
    }
    long long d;
    if (archive_expire(A, 1LL << 62, &d) != 0) return -1;
    archive_msg m[sizeof corpus / sizeof corpus[0]];
    char bodies[sizeof corpus / sizeof corpus[0]][64];
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        snprintf(bodies[i], sizeof bodies[i], "{\"id\":\"%s\"}", corpus[i].id);
        m[i] = (archive_msg){.id = corpus[i].id, .room_id = corpus[i].room, .epoch = "e1", .offset = (long long)i + 1,
                             .ts = corpus[i].ts, .sender_id = "u1", .text = corpus[i].text, .body = bodies[i]};
    }
    return archive_put(A, m, sizeof corpus / sizeof corpus[0], NULL);
}

static int teardown(void **state)
{
    long long d;
    archive_expire(A, 1LL << 62, &d);
    archive_close(A);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_rooms),
        cmocka_unit_test(test_order_and_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
