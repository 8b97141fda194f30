/* test_valid.c - common/valid.c: UTF-8, trimming, text limits, emails, ids.
 * Table-driven; each failure names the table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "valid.h"

static void test_utf8(void **state)
{
    static const struct { int line; const char *s; size_t len; int ok; size_t cps; } rows[] = {
        {__LINE__, "", 0, 1, 0},
        {__LINE__, "abc", 3, 1, 3},
        {__LINE__, "\xed\x95\x9c\xea\xb8\x80", 6, 1, 2},      /* 한글 */
        {__LINE__, "\xf0\x9f\x98\x80", 4, 1, 1},              /* emoji */
        {__LINE__, "\xc0\xaf", 2, 0, 0},                      /* overlong '/' */
        {__LINE__, "\xe0\x80\xaf", 3, 0, 0},                  /* overlong */
        {__LINE__, "\xed\xa0\x80", 3, 0, 0},                  /* surrogate */
        {__LINE__, "\xf4\x90\x80\x80", 4, 0, 0},              /* > U+10FFFF */
        {__LINE__, "\xe2\x82", 2, 0, 0},                      /* truncated */
        {__LINE__, "\x80", 1, 0, 0},                          /* stray continuation */
        {__LINE__, "a\0b", 3, 0, 0},                          /* NUL */
        {__LINE__, "\xff", 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int ok = valid_utf8(rows[i].s, rows[i].len);
        if (ok != rows[i].ok) fail_msg("row at line %d: valid_utf8 = %d", rows[i].line, ok);
        if (ok && valid_cp_count(rows[i].s, rows[i].len) != rows[i].cps)
            fail_msg("row at line %d: cp count %zu", rows[i].line, valid_cp_count(rows[i].s, rows[i].len));
    }
}

static void test_trim(void **state)
{
    static const struct { int line; const char *in; const char *out; } rows[] = {
        {__LINE__, "  abc  ", "abc"},
        {__LINE__, "\t\r\nabc\n", "abc"},
        {__LINE__, "\xe3\x80\x80" "abc" "\xc2\xa0", "abc"},  /* U+3000 .. U+00A0 */
        {__LINE__, "a b", "a b"},
        {__LINE__, "   ", ""},
        {__LINE__, "", ""},
        {__LINE__, "\xef\xbb\xbfx", "x"},                    /* BOM */
        {__LINE__, "\xed\x95\x9c ", "\xed\x95\x9c"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *t;
        size_t n = valid_trim(rows[i].in, strlen(rows[i].in), &t);
        if (n != strlen(rows[i].out) || memcmp(t, rows[i].out, n) != 0)
            fail_msg("row at line %d: got '%.*s'", rows[i].line, (int)n, t);
    }
}

static void test_text(void **state)
{
    char fifty[51], fiftyone[52], hangul50[151];
    memset(fifty, 'x', 50); fifty[50] = 0;
    memset(fiftyone, 'x', 51); fiftyone[51] = 0;
    for (int i = 0; i < 50; i++) memcpy(hangul50 + 3 * i, "\xed\x95\x9c", 3);
    hangul50[150] = 0;
    static const char *const dummy = "";
    (void)dummy;
    const struct { int line; const char *s; size_t min, max; int flags; chat_rc rc; const char *out; } rows[] = {
        {__LINE__, "Alice", 1, 50, 0, CHAT_OK, "Alice"},
        {__LINE__, "  Alice  ", 1, 50, 0, CHAT_OK, "Alice"},
        {__LINE__, "", 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, "    ", 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, fifty, 1, 50, 0, CHAT_OK, fifty},
        {__LINE__, fiftyone, 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, hangul50, 1, 50, 0, CHAT_OK, hangul50},
        {__LINE__, "a\x01" "b", 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, "a\nb", 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, "a\nb", 1, 50, VALID_ALLOW_NEWLINES, CHAT_OK, "a\nb"},
        {__LINE__, "a\x1b" "b", 1, 50, VALID_ALLOW_NEWLINES, CHAT_EINVALID, NULL},
        {__LINE__, "a\xc2\x85" "b", 1, 50, 0, CHAT_EINVALID, NULL}, /* C1 NEL inside */
        {__LINE__, "a\x7f", 1, 50, 0, CHAT_EINVALID, NULL},
        {__LINE__, "\xff", 1, 50, 0, CHAT_EINVALID, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *out = NULL, *why = NULL;
        size_t n = 0;
        chat_rc rc = valid_text(rows[i].s, strlen(rows[i].s), rows[i].min, rows[i].max, rows[i].flags, &out, &n, &why);
        if (rc != rows[i].rc) fail_msg("row at line %d: rc %d (%s)", rows[i].line, rc, why ? why : "");
        if (rc != CHAT_OK && !why) fail_msg("row at line %d: no reason given", rows[i].line);
        if (rc == CHAT_OK && (n != strlen(rows[i].out) || memcmp(out, rows[i].out, n)))
            fail_msg("row at line %d: trimmed to '%.*s'", rows[i].line, (int)n, out);
    }
}

static void test_email(void **state)
{
    char long_ok[255], long_bad[256];
    /* 64-char local part + '@' + domain padded to 254 / 255 bytes total */
    memset(long_ok, 'a', 64); long_ok[64] = '@';
    for (int i = 65; i < 254; i++) long_ok[i] = (i - 65) % 50 == 49 ? '.' : 'b';
    memcpy(long_ok + 250, ".com", 4); long_ok[254] = 0;
    memcpy(long_bad, long_ok, 250); memcpy(long_bad + 250, "x.com", 5); long_bad[255] = 0;
    const struct { int line; const char *s; chat_rc rc; } rows[] = {
        {__LINE__, "alice@example.com", CHAT_OK},
        {__LINE__, "a.b+tag@sub.example.co", CHAT_OK},
        {__LINE__, long_ok, CHAT_OK},
        {__LINE__, long_bad, CHAT_EINVALID},
        {__LINE__, "", CHAT_EINVALID},
        {__LINE__, "alice", CHAT_EINVALID},
        {__LINE__, "@example.com", CHAT_EINVALID},
        {__LINE__, "alice@", CHAT_EINVALID},
        {__LINE__, "alice@localhost", CHAT_EINVALID},
        {__LINE__, "a@b@example.com", CHAT_EINVALID},
        {__LINE__, "al ice@example.com", CHAT_EINVALID},
        {__LINE__, "alice@exa mple.com", CHAT_EINVALID},
        {__LINE__, "alice@-example.com", CHAT_EINVALID},
        {__LINE__, "alice@example..com", CHAT_EINVALID},
        {__LINE__, ".alice@example.com", CHAT_EINVALID},
        {__LINE__, "alice@example.com.", CHAT_EINVALID},
        {__LINE__, "\xed\x95\x9c@example.com", CHAT_EINVALID},
    };
    assert_int_equal(strlen(long_ok), 254);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        chat_rc rc = valid_email(rows[i].s, strlen(rows[i].s));
        if (rc != rows[i].rc) fail_msg("row at line %d: '%s' rc %d", rows[i].line, rows[i].s, rc);
    }
}

static void test_id(void **state)
{
    assert_true(valid_id("abc_DEF-123", 11));
    assert_false(valid_id("", 0));
    assert_false(valid_id("a/b", 3));
    assert_false(valid_id("a%2F", 4));
    assert_false(valid_id("a b", 3));
    char s65[65];
    memset(s65, 'a', 65);
    assert_true(valid_id(s65, 64));
    assert_false(valid_id(s65, 65));
}

/* Names (VALID_NAME): bidirectional controls and invisible format characters are
 * refused, and something visible must remain. */
static void test_names(void **state)
{
    static const struct { int line; const char *in; int ok; } rows[] = {
        {__LINE__, "Alice", 1},
        {__LINE__, "\xeb\xaf\xbc\xec\xa4\x80", 1},                   /* 민준 */
        {__LINE__, "\xe2\x80\x8b", 0},                               /* U+200B alone */
        {__LINE__, "\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b", 0},       /* U+200B x3 */
        {__LINE__, "a\xe2\x80\x8b" "b", 0},                          /* U+200B inside */
        {__LINE__, "abc\xe2\x80\xae" "gpj.exe", 0},                  /* U+202E RLO */
        {__LINE__, "\xe2\x81\xa6x\xe2\x81\xa9", 0},                  /* U+2066 .. U+2069 */
        {__LINE__, "\xe2\x80\x8f" "abc", 0},                         /* U+200F RLM */
        {__LINE__, "\xd8\x9c" "abc", 0},                             /* U+061C ALM */
        {__LINE__, "\xe3\x85\xa4", 0},                               /* U+3164 Hangul filler */
        {__LINE__, "\xc2\xad", 0},                                   /* soft hyphen */
        {__LINE__, "\xf3\xa0\x80\x81", 0},                           /* U+E0001 tag */
        {__LINE__, "\xcc\x81\xcc\x81", 0},                           /* combining marks only */
        {__LINE__, "\xe2\x80\x8d", 0},                               /* ZWJ alone */
        {__LINE__, "\xef\xb8\x8f", 0},                               /* VS16 alone */
        {__LINE__, "\xe2\xa0\x80", 0},                               /* braille blank */
        {__LINE__, "e\xcc\x81", 1},                                  /* e + combining acute */
        {__LINE__, "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa7", 1}, /* man ZWJ girl */
        {__LINE__, "\xe2\x9d\xa4\xef\xb8\x8f", 1},                   /* heart + VS16 */
        {__LINE__, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", 1},   /* Arabic */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *out, *why = "";
        size_t n;
        chat_rc rc = valid_text(rows[i].in, strlen(rows[i].in), 1, 50, VALID_NAME, &out, &n, &why);
        if ((rc == CHAT_OK) != rows[i].ok) fail_msg("row at line %d: rc %d (%s)", rows[i].line, rc, why);
        /* Messages keep what names may not (an RLM in Hebrew text is ordinary). */
        if (strstr(rows[i].in, "\xe2\x80\x8f") &&
            valid_text(rows[i].in, strlen(rows[i].in), 1, 50, VALID_ALLOW_NEWLINES, &out, &n, &why) != CHAT_OK)
            fail_msg("row at line %d: refused without VALID_NAME", rows[i].line);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8), cmocka_unit_test(test_trim), cmocka_unit_test(test_text),
        cmocka_unit_test(test_email), cmocka_unit_test(test_id), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
