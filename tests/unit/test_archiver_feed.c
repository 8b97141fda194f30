/* test_archiver_feed.c - archiver/feed: a stored MESSAGE body into an archive row
 * (what is accepted, what is refused and why), and Redis stream ids. Table-driven;
 * failures name the row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "feed.h"

static void test_parse_ok(void **state)
{
    feed_entry e = {0};
    const char *why = "unset";
    const char *b = "{\"type\":\"CHAT\",\"id\":\"r1-7\",\"roomId\":\"room1\",\"senderId\":\"u1\",\"sender\":\"Ann\","
                    "\"message\":\"채팅방에서 hello \\\"x\\\"\",\"ts\":1790000000123,\"offset\":42,\"epoch\":\"eA\"}";
    assert_int_equal(feed_parse(&e, b, strlen(b), &why), 0);
    assert_null(why);
    assert_string_equal(e.msg.id, "r1-7");
    assert_string_equal(e.msg.room_id, "room1");
    assert_string_equal(e.msg.sender_id, "u1");
    assert_string_equal(e.msg.epoch, "eA");
    assert_int_equal(e.msg.offset, 42);
    assert_int_equal(e.msg.ts, 1790000000123LL);
    assert_string_equal(e.msg.text, "채팅방에서 hello \"x\"");
    assert_string_equal(e.msg.body, b); /* byte for byte */
    /* FILE: the file's name is searchable after the message */
    const char *f = "{\"type\":\"FILE\",\"id\":\"r1-8\",\"roomId\":\"room1\",\"senderId\":\"u1\",\"sender\":\"Ann\","
                    "\"message\":\"see\",\"ts\":1,\"offset\":43,\"epoch\":\"eA\",\"file\":{\"id\":\"f1\",\"name\":\"보고서.pdf\"}}";
    assert_int_equal(feed_parse(&e, f, strlen(f), &why), 0);
    assert_string_equal(e.msg.text, "see 보고서.pdf");
    const char *f2 = "{\"type\":\"FILE\",\"id\":\"r1-9\",\"roomId\":\"room1\",\"senderId\":\"u1\",\"sender\":\"Ann\","
                     "\"message\":\"\",\"ts\":1,\"offset\":44,\"epoch\":\"eA\",\"file\":{\"name\":\"a.png\"}}";
    assert_int_equal(feed_parse(&e, f2, strlen(f2), &why), 0);
    assert_string_equal(e.msg.text, "a.png");
    feed_entry_clear(&e);
    feed_entry_clear(&e); /* twice is fine */
}

static void test_parse_refused(void **state)
{
    const struct { int line; const char *body; } rows[] = {
        {__LINE__, ""},
        {__LINE__, "not json"},
        {__LINE__, "[1,2]"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":"},
        {__LINE__, "{\"type\":\"JOIN\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":1}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":0,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":1,\"offset\":\"1\",\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"hi\",\"ts\":-5,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":7,\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\\u0000b\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"x\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"x\\u0000\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"x\",\"ts\":1.5,\"offset\":1,\"epoch\":\"e\"}"},
        /* not UTF-8 (PostgreSQL would refuse the row for good; json-c turns a lone \\ud800
         * escape into U+FFFD, valid) */
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"\xff\xfe\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
        {__LINE__, "{\"type\":\"CHAT\",\"id\":\"a\",\"roomId\":\"r\",\"senderId\":\"u\",\"message\":\"\xed\xa0\x80\",\"ts\":1,\"offset\":1,\"epoch\":\"e\"}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        feed_entry e = {0};
        const char *why = NULL;
        if (feed_parse(&e, rows[i].body, strlen(rows[i].body), &why) != -1) fail_msg("line %d: accepted", rows[i].line);
        if (!why || !*why) fail_msg("line %d: no reason", rows[i].line);
        feed_entry_clear(&e);
    }
}

static void test_stream_ids(void **state)
{
    const struct { int line; const char *s; int ok; uint64_t ms, seq; } rows[] = {
        {__LINE__, "0-0", 1, 0, 0},
        {__LINE__, "1796190470047-12", 1, 1796190470047ULL, 12},
        {__LINE__, "5", 1, 5, 0},
        {__LINE__, "18446744073709551615-18446744073709551615", 1, UINT64_MAX, UINT64_MAX},
        {__LINE__, "18446744073709551616-0", 0, 0, 0},
        {__LINE__, "", 0, 0, 0},
        {__LINE__, "-", 0, 0, 0},
        {__LINE__, "1-", 0, 0, 0},
        {__LINE__, "-1", 0, 0, 0},
        {__LINE__, "1-2-3", 0, 0, 0},
        {__LINE__, "a-1", 0, 0, 0},
        {__LINE__, " 1-1", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        stream_id id = {99, 99};
        int rc = stream_id_parse(rows[i].s, strlen(rows[i].s), &id);
        if ((rc == 0) != rows[i].ok) fail_msg("line %d: rc %d", rows[i].line, rc);
        if (rows[i].ok && (id.ms != rows[i].ms || id.seq != rows[i].seq)) fail_msg("line %d: wrong value", rows[i].line);
    }
    const struct { int line; stream_id a, b; int want; } cmp[] = {
        {__LINE__, {1, 0}, {1, 0}, 0},
        {__LINE__, {1, 5}, {2, 0}, -1},
        {__LINE__, {2, 0}, {1, 9}, 1},
        {__LINE__, {7, 3}, {7, 4}, -1},
        {__LINE__, {7, 4}, {7, 3}, 1},
    };
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++)
        if (stream_id_cmp(cmp[i].a, cmp[i].b) != cmp[i].want) fail_msg("line %d", cmp[i].line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_stream_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
