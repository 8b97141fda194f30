/* test_api_cursor.c - fcgi-api/cursor.c: the rooms pagination cursor round-trips
 * (score, id) exactly, and decoding refuses anything encode could not produce.
 * Table-driven; each failure names the table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

#define ID64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static void test_roundtrip(void **state)
{
    static const struct {
        int line;
        int64_t score;
        const char *id;
    } rows[] = {
        {__LINE__, 0, "a"},
        {__LINE__, 1795592136949, "iDEUJOPgBzIXJv76"},
        {__LINE__, (int64_t)1 << 53, ID64},
        {__LINE__, 42, "_-_"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char enc[API_CURSOR_MAX + 1], id[API_ID_MAX + 1];
        int64_t score = -1;
        size_t n = api_cursor_encode(rows[i].score, rows[i].id, enc, sizeof enc);
        if (n == 0 || n != strlen(enc)) fail_msg("row at line %d: encode gave %zu", rows[i].line, n);
        if (strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
            fail_msg("row at line %d: '%s' is not URL-safe", rows[i].line, enc);
        if (api_cursor_decode(enc, &score, id) != 0) fail_msg("row at line %d: '%s' does not decode", rows[i].line, enc);
        if (score != rows[i].score || strcmp(id, rows[i].id) != 0)
            fail_msg("row at line %d: got (%lld, %s)", rows[i].line, (long long)score, id);
    }
}

static void test_encode_refuses(void **state)
{
    char enc[API_CURSOR_MAX + 1];
    assert_int_equal(api_cursor_encode(-1, "abc", enc, sizeof enc), 0);
    assert_int_equal(api_cursor_encode(((int64_t)1 << 53) + 1, "abc", enc, sizeof enc), 0);
    assert_int_equal(api_cursor_encode(1, "", enc, sizeof enc), 0);
    assert_int_equal(api_cursor_encode(1, "a.b", enc, sizeof enc), 0);
    assert_int_equal(api_cursor_encode(1, ID64 "x", enc, sizeof enc), 0);
    assert_int_equal(api_cursor_encode(1, "abc", enc, 4), 0); /* does not fit */
}

/* base64url (unpadded) of raw, for building hostile cursors. */
static void b64(const char *raw, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, (const unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_decode_refuses(void **state)
{
    static const struct {
        int line;
        const char *raw; /* encoded with b64() unless literal is set */
        const char *literal;
    } rows[] = {
        {__LINE__, NULL, ""},
        {__LINE__, NULL, "!!!!"},
        {__LINE__, NULL, "MTIzLmFiYw=="}, /* padded */
        {__LINE__, NULL, "MTIzLmFiYw+"},  /* standard alphabet */
        {__LINE__, "abc", NULL},          /* no dot */
        {__LINE__, ".abc", NULL},         /* no score */
        {__LINE__, "123.", NULL},         /* no id */
        {__LINE__, "0123.abc", NULL},     /* leading zero */
        {__LINE__, "12a.abc", NULL},
        {__LINE__, "-1.abc", NULL},
        {__LINE__, "9007199254740993.abc", NULL}, /* > 2^53 */
        {__LINE__, "99999999999999999.abc", NULL},
        {__LINE__, "1.a b", NULL},
        {__LINE__, "1.a.b", NULL},
        {__LINE__, "1." ID64 "x", NULL}, /* id too long */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char enc[512], id[API_ID_MAX + 1];
        int64_t score;
        if (rows[i].literal) snprintf(enc, sizeof enc, "%s", rows[i].literal);
        else b64(rows[i].raw, enc, sizeof enc);
        if (api_cursor_decode(enc, &score, id) == 0) fail_msg("row at line %d: '%s' decoded", rows[i].line, enc);
    }
    /* Far too long to be a cursor. */
    char longc[API_CURSOR_MAX + 8];
    memset(longc, 'A', sizeof longc - 1);
    longc[sizeof longc - 1] = '\0';
    char id[API_ID_MAX + 1];
    int64_t score;
    assert_int_equal(api_cursor_decode(longc, &score, id), -1);
}

static int setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decode_refuses),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
