/* test_sockjs_frame.c - unit tests for ws-relay/sockjs_frame.c.
 *
 * Table-driven (each row carries its __LINE__, which failure messages name): exact
 * encoder output, every code point checked against the escape list written out again
 * here independently, close frames, decoder rows (valid, malformed, too large; a
 * malformed body must produce no callback at all), and encode/decode round trips.
 *
 * Deliberately not here: transports and sessions; fuzzing (tests/fuzz/fuzz_sockjs.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sockjs_frame.h"
#include "util.h"

#define IN(s) s, sizeof(s) - 1

/* ---- encoder ------------------------------------------------------------------------ */

static const struct {
    int line;
    const char *in;
    size_t in_len;
    const char *want;
} quotes[] = {
    { __LINE__, IN(""), "\"\"" },
    { __LINE__, IN("hello"), "\"hello\"" },
    { __LINE__, IN("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"" },
    { __LINE__, IN("\n\r\t\x01\x1f "), "\"\\u000a\\u000d\\u0009\\u0001\\u001f \"" },
    { __LINE__, IN("a\0b\0"), "\"a\\u0000b\\u0000\"" },
    { __LINE__, IN("~\x7f"), "\"~\\u007f\"" },
    { __LINE__, IN("SEND\ndestination:/a\n\nhi\0"),
      "\"SEND\\u000adestination:/a\\u000a\\u000ahi\\u0000\"" },
    /* edges of each escaped range, and their raw neighbours */
    { __LINE__, IN("\xc2\x80\xc2\x9f\xc2\xa0"), "\"\\u0080\\u009f\xc2\xa0\"" },
    { __LINE__, IN("\xc2\xac\xc2\xad\xc2\xae"), "\"\xc2\xac\\u00ad\xc2\xae\"" },
    { __LINE__, IN("\xd7\xbf\xd8\x80\xd8\x84\xd8\x85"), "\"\xd7\xbf\\u0600\\u0604\xd8\x85\"" },
    { __LINE__, IN("\xdc\x8e\xdc\x8f\xdc\x90"), "\"\xdc\x8e\\u070f\xdc\x90\"" },
    { __LINE__, IN("\xe1\x9e\xb3\xe1\x9e\xb4\xe1\x9e\xb5\xe1\x9e\xb6"),
      "\"\xe1\x9e\xb3\\u17b4\\u17b5\xe1\x9e\xb6\"" },
    { __LINE__, IN("\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8f\xe2\x80\x90"),
      "\"\xe2\x80\x8b\\u200c\\u200f\xe2\x80\x90\"" },
    { __LINE__, IN("\xe2\x80\xa7\xe2\x80\xa8\xe2\x80\xaf\xe2\x80\xb0"),
      "\"\xe2\x80\xa7\\u2028\\u202f\xe2\x80\xb0\"" },
    { __LINE__, IN("\xe2\x81\x9f\xe2\x81\xa0\xe2\x81\xaf\xe2\x81\xb0"),
      "\"\xe2\x81\x9f\\u2060\\u206f\xe2\x81\xb0\"" },
    { __LINE__, IN("\xef\xbb\xbe\xef\xbb\xbf\xef\xbc\x80"), "\"\xef\xbb\xbe\\ufeff\xef\xbc\x80\"" },
    { __LINE__, IN("\xef\xbf\xaf\xef\xbf\xb0\xef\xbf\xbd\xef\xbf\xbf"),
      "\"\xef\xbf\xaf\\ufff0\\ufffd\\uffff\"" },
    /* ordinary non-ASCII passes as UTF-8, astral planes included */
    { __LINE__, IN("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"" },
    /* not UTF-8: one U+FFFD per bad byte */
    { __LINE__, IN("a\xff" "b"), "\"a\\ufffdb\"" },
    { __LINE__, IN("\xc3"), "\"\\ufffd\"" },
    { __LINE__, IN("\xc3" "a"), "\"\\ufffda\"" },
    { __LINE__, IN("\x80"), "\"\\ufffd\"" },
    { __LINE__, IN("\xc0\xaf"), "\"\\ufffd\\ufffd\"" },
    { __LINE__, IN("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"" },
    { __LINE__, IN("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"" },
    { __LINE__, IN("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    { __LINE__, IN("\xe2\x82"), "\"\\ufffd\\ufffd\"" },
};

static void test_quote(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(quotes); i++) {
        buf b;
        buf_init(&b, 0);
        sockjs_quote(&b, quotes[i].in, quotes[i].in_len);
        if (b.len != strlen(quotes[i].want) || strcmp(buf_data(&b), quotes[i].want) != 0)
            fail_msg("row at line %d: quoted to %s, want %s", quotes[i].line, buf_data(&b),
                     quotes[i].want);
        buf_free(&b);
    }
}

/* The escape list again, written independently of the code under test. */
static const struct { uint32_t lo, hi; } escaped_ranges[] = {
    { 0x0000, 0x001F }, { 0x007F, 0x009F }, { 0x00AD, 0x00AD }, { 0x0600, 0x0604 },
    { 0x070F, 0x070F }, { 0x17B4, 0x17B5 }, { 0x200C, 0x200F }, { 0x2028, 0x202F },
    { 0x2060, 0x206F }, { 0xFEFF, 0xFEFF }, { 0xFFF0, 0xFFFF },
};

static size_t to_utf8(char *o, uint32_t c)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 63)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | (c >> 6 & 63));
        o[2] = (char)(0x80 | (c & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | (c >> 12 & 63));
    o[2] = (char)(0x80 | (c >> 6 & 63)); o[3] = (char)(0x80 | (c & 63));
    return 4;
}

/* Every scalar value: escaped as \uXXXX exactly when listed, else raw (but " and \). */
static void test_every_code_point(void **state)
{
    buf b;
    buf_init(&b, 0);
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char u[4], want[16];
        size_t n = to_utf8(u, c), wl;
        int esc = 0;
        for (size_t k = 0; k < ARRAY_LEN(escaped_ranges); k++)
            esc |= c >= escaped_ranges[k].lo && c <= escaped_ranges[k].hi;
        if (esc) wl = (size_t)snprintf(want, sizeof(want), "\"\\u%04x\"", (unsigned)c);
        else if (c == '"' || c == '\\') wl = (size_t)snprintf(want, sizeof(want), "\"\\%c\"", (char)c);
        else {
            want[0] = '"';
            memcpy(want + 1, u, n);
            want[n + 1] = '"';
            wl = n + 2;
        }
        buf_reset(&b);
        sockjs_quote(&b, u, n);
        if (b.len != wl || memcmp(buf_data(&b), want, wl) != 0)
            fail_msg("U+%04X quoted to %s, want %.*s", (unsigned)c, buf_data(&b), (int)wl, want);
    }
    buf_free(&b);
}

static void test_frames(void **state)
{
    static const struct {
        int line;
        size_t n;
        const char *msgs[3];
        size_t lens[3];
        const char *want;
    } rows[] = {
        { __LINE__, 0, { NULL }, { 0 }, "a[]" },
        { __LINE__, 1, { "x" }, { 1 }, "a[\"x\"]" },
        { __LINE__, 2, { "a", "b\0c" }, { 1, 3 }, "a[\"a\",\"b\\u0000c\"]" },
        { __LINE__, 3, { "", "\"", "" }, { 0, 1, 0 }, "a[\"\",\"\\\"\",\"\"]" },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        buf b;
        buf_init(&b, 8);
        buf_putc(&b, '!'); /* appends */
        sockjs_frame_messages(&b, rows[i].msgs, rows[i].lens, rows[i].n);
        if (buf_data(&b)[0] != '!' || strcmp(buf_data(&b) + 1, rows[i].want) != 0)
            fail_msg("row at line %d: %s, want !%s", rows[i].line, buf_data(&b), rows[i].want);
        buf_free(&b);
    }
}

static void test_close(void **state)
{
    static const struct { int line, code; const char *reason, *want; } rows[] = {
        { __LINE__, 3000, "Go away!", "c[3000,\"Go away!\"]" },
        { __LINE__, 2010, "Another connection still open", "c[2010,\"Another connection still open\"]" },
        { __LINE__, 1002, "Broken \"framing\"\n", "c[1002,\"Broken \\\"framing\\\"\\u000a\"]" },
        { __LINE__, 1000, NULL, "c[1000,\"\"]" },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        buf b;
        buf_init(&b, 0);
        sockjs_frame_close(&b, rows[i].code, rows[i].reason);
        if (strcmp(buf_data(&b), rows[i].want) != 0)
            fail_msg("row at line %d: %s, want %s", rows[i].line, buf_data(&b), rows[i].want);
        buf_free(&b);
    }
}

/* ---- decoder ------------------------------------------------------------------------ */

struct got {
    size_t n;
    size_t len[8];
    char msg[8][64];
    int nul_terminated;
};

static void collect(void *ud, const char *msg, size_t len)
{
    struct got *g = ud;
    assert_true(g->n < 8 && len < 64);
    memcpy(g->msg[g->n], msg, len);
    g->nul_terminated &= msg[len] == '\0';
    g->len[g->n++] = len;
}

static const struct {
    int line;
    const char *in;
    size_t in_len;
    size_t n;
    struct { const char *s; size_t len; } want[4];
} decodes[] = {
    { __LINE__, IN("[\"a\"]"), 1, { { IN("a") } } },
    { __LINE__, IN("[]"), 0, { { NULL, 0 } } },
    { __LINE__, IN(" \t[\r\n]\n"), 0, { { NULL, 0 } } },
    { __LINE__, IN("[\"a\",\"b\",\"c\"]"), 3, { { IN("a") }, { IN("b") }, { IN("c") } } },
    { __LINE__, IN(" [ \"a\" ,\n\t\"b\" ] \r\n"), 2, { { IN("a") }, { IN("b") } } },
    { __LINE__, IN("[\"\",\"\"]"), 2, { { IN("") }, { IN("") } } },
    { __LINE__, IN("[\"CONNECT\\naccept-version:1.2\\n\\n\\u0000\"]"), 1,
      { { IN("CONNECT\naccept-version:1.2\n\n\0") } } },
    { __LINE__, IN("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"), 1, { { IN("\"\\/\b\f\n\r\t") } } },
    { __LINE__, IN("[\"\\u00e9\\u20AC\\u0041\"]"), 1, { { IN("\xc3\xa9\xe2\x82\xac" "A") } } },
    { __LINE__, IN("[\"\\ud83d\\ude00\\uD83D\\uDE00\"]"), 1,
      { { IN("\xf0\x9f\x98\x80\xf0\x9f\x98\x80") } } },
    { __LINE__, IN("[\"\\udbff\\udfff\"]"), 1, { { IN("\xf4\x8f\xbf\xbf") } } },
    /* lone surrogates become U+FFFD, as a browser's UTF-8 encoder would make them */
    { __LINE__, IN("[\"\\ud83dx\"]"), 1, { { IN("\xef\xbf\xbdx") } } },
    { __LINE__, IN("[\"\\ud83d\"]"), 1, { { IN("\xef\xbf\xbd") } } },
    { __LINE__, IN("[\"\\ude00\\ud83d\"]"), 1, { { IN("\xef\xbf\xbd\xef\xbf\xbd") } } },
    { __LINE__, IN("[\"\\ud83d\\u0041\"]"), 1, { { IN("\xef\xbf\xbd" "A") } } },
    { __LINE__, IN("[\"\\ud83d\\ud83d\\ude00\"]"), 1, { { IN("\xef\xbf\xbd\xf0\x9f\x98\x80") } } },
    /* raw UTF-8 and bytes JSON allows raw */
    { __LINE__, IN("[\"\xc3\xa9\xf0\x9f\x98\x80\x7f/\"]"), 1, { { IN("\xc3\xa9\xf0\x9f\x98\x80\x7f/") } } },
};

static void test_decode(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(decodes); i++) {
        struct got g = { .nul_terminated = 1 };
        chat_rc rc = sockjs_decode(decodes[i].in, decodes[i].in_len, 1024, collect, &g);
        if (rc != CHAT_OK)
            fail_msg("row at line %d: %s", decodes[i].line, chat_rc_name(rc));
        if (g.n != decodes[i].n)
            fail_msg("row at line %d: %zu strings, want %zu", decodes[i].line, g.n, decodes[i].n);
        for (size_t k = 0; k < g.n; k++) {
            if (g.len[k] != decodes[i].want[k].len ||
                memcmp(g.msg[k], decodes[i].want[k].s, g.len[k]) != 0)
                fail_msg("row at line %d: string %zu is '%.*s' (%zu bytes)", decodes[i].line, k,
                         (int)g.len[k], g.msg[k], g.len[k]);
        }
        if (!g.nul_terminated) fail_msg("row at line %d: msg not NUL-terminated", decodes[i].line);
    }
}

static const struct {
    int line;
    const char *in;
    size_t in_len;
} malformed[] = {
    { __LINE__, IN("") },           { __LINE__, IN(" ") },
    { __LINE__, IN("[") },          { __LINE__, IN("]") },
    { __LINE__, IN("\"a\"") },      { __LINE__, IN("[\"a\"") },
    { __LINE__, IN("[\"a\",]") },   { __LINE__, IN("[,\"a\"]") },
    { __LINE__, IN("[\"a\" \"b\"]") }, { __LINE__, IN("[\"a\"]x") },
    { __LINE__, IN("[\"a\"]]") },   { __LINE__, IN("[\"a\"][\"b\"]") },
    { __LINE__, IN("[[\"a\"]]") },  { __LINE__, IN("[\"a\",[\"b\"]]") },
    { __LINE__, IN("[1]") },        { __LINE__, IN("[\"a\",1]") },
    { __LINE__, IN("[null]") },     { __LINE__, IN("[true]") },
    { __LINE__, IN("{\"a\":1}") },  { __LINE__, IN("[\"a\":\"b\"]") },
    { __LINE__, IN("[\"\\x\"]") },  { __LINE__, IN("[\"\\u12\"]") },
    { __LINE__, IN("[\"\\u12g4\"]") }, { __LINE__, IN("[\"\\U0041\"]") },
    { __LINE__, IN("[\"a\\\"]") },  { __LINE__, IN("[\"a\\") },
    { __LINE__, IN("[\"a\nb\"]") }, { __LINE__, IN("[\"a\0b\"]") },
    { __LINE__, IN("[\"\t\"]") },   { __LINE__, IN("[\"\xff\"]") },
    { __LINE__, IN("[\"\xc3\"]") }, { __LINE__, IN("[\"\xed\xa0\x80\"]") },
    { __LINE__, IN("[\"\xc0\xaf\"]") }, { __LINE__, IN("\xef\xbb\xbf[\"a\"]") },
    { __LINE__, IN("[\"a\"]\0") },  { __LINE__, IN("[\"ok\",\"ok\",\"a\x01\"]") },
    { __LINE__, IN("['a']") },      { __LINE__, IN("[\"a\"\f]") },
};

static void count_call(void *ud, const char *msg, size_t len)
{
    (*(size_t *)ud)++;
}

static void test_decode_malformed(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(malformed); i++) {
        size_t calls = 0;
        chat_rc rc = sockjs_decode(malformed[i].in, malformed[i].in_len, 1024, count_call, &calls);
        if (rc != CHAT_EMALFORMED)
            fail_msg("row at line %d: %s, want malformed", malformed[i].line, chat_rc_name(rc));
        if (calls)
            fail_msg("row at line %d: %zu callbacks on a malformed body", malformed[i].line, calls);
    }
}

static void test_decode_limit(void **state)
{
    static const struct {
        int line;
        const char *in;
        size_t max;
        chat_rc rc;
    } rows[] = {
        { __LINE__, "[\"abc\",\"def\"]", 6, CHAT_OK },
        { __LINE__, "[\"abc\",\"def\"]", 5, CHAT_ETOOLARGE },
        { __LINE__, "[\"\\u20ac\"]", 3, CHAT_OK },
        { __LINE__, "[\"\\u20ac\"]", 2, CHAT_ETOOLARGE },
        { __LINE__, "[\"\\u0000\"]", 0, CHAT_ETOOLARGE },
        { __LINE__, "[\"\",\"\"]", 0, CHAT_OK },
        { __LINE__, "[\"\\ud83d\\ude00\"]", 4, CHAT_OK },
        { __LINE__, "[\"\\ud83d\\ude00\"]", 3, CHAT_ETOOLARGE },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        size_t calls = 0;
        chat_rc rc = sockjs_decode(rows[i].in, strlen(rows[i].in), rows[i].max, count_call, &calls);
        if (rc != rows[i].rc)
            fail_msg("row at line %d: %s, want %s", rows[i].line, chat_rc_name(rc),
                     chat_rc_name(rows[i].rc));
        if (rc != CHAT_OK && calls)
            fail_msg("row at line %d: %zu callbacks on an oversized body", rows[i].line, calls);
    }
}

/* ---- round trips --------------------------------------------------------------------- */

struct expect {
    const char *const *msgs;
    const size_t *lens;
    size_t n, seen;
    int line;
};

static void check_next(void *ud, const char *msg, size_t len)
{
    struct expect *e = ud;
    if (e->seen >= e->n) fail_msg("row at line %d: extra string", e->line);
    if (len != e->lens[e->seen] || memcmp(msg, e->msgs[e->seen], len) != 0)
        fail_msg("row at line %d: string %zu came back as %zu bytes", e->line, e->seen, len);
    e->seen++;
}

static void roundtrip(int line, const char *const *msgs, const size_t *lens, size_t n)
{
    buf b;
    struct expect e = { msgs, lens, n, 0, line };
    buf_init(&b, 0);
    sockjs_frame_messages(&b, msgs, lens, n);
    assert_true(b.len >= 3 && buf_data(&b)[0] == 'a');
    chat_rc rc = sockjs_decode(buf_data(&b) + 1, b.len - 1, SIZE_MAX, check_next, &e);
    if (rc != CHAT_OK || e.seen != n)
        fail_msg("row at line %d: decode %s after %zu of %zu strings: %s", line, chat_rc_name(rc),
                 e.seen, n, buf_data(&b));
    buf_free(&b);
}

static void test_roundtrip(void **state)
{
    static const char frame[] = "MESSAGE\ndestination:/topic/room/r1\ncontent-type:application/json\n"
                                "content-length:18\n\n{\"message\":\"h\\\"i\"}";
    const char *msgs[] = { frame, "", "\"\\\x01\x1f\x7f", "\xc2\xad\xd8\x80\xdc\x8f\xe2\x80\xa8",
                           "\xef\xbb\xbf\xef\xbf\xbf\xf0\x9f\x98\x80" };
    size_t lens[] = { sizeof(frame), 0, 5, 9, 10 }; /* frame includes its NUL */
    roundtrip(__LINE__, msgs, lens, ARRAY_LEN(msgs));

    /* pseudo-random valid UTF-8 strings over interesting code points */
    static const uint32_t pool[] = { 0, 1, 0x1f, ' ', '"', '\\', '/', 'a', 0x7f, 0x80, 0x9f, 0xa0,
                                     0xad, 0xe9, 0x600, 0x604, 0x70f, 0x17b4, 0x200c, 0x2028,
                                     0x2060, 0x20ac, 0xd7ff, 0xe000, 0xfeff, 0xfff0, 0xfffd,
                                     0xffff, 0x10000, 0x1f600, 0x10ffff };
    uint32_t s = 12345;
    for (int round = 0; round < 2000; round++) {
        char bufs[3][256];
        const char *m[3];
        size_t l[3];
        for (int k = 0; k < 3; k++) {
            size_t o = 0;
            s = s * 1103515245u + 12345u;
            size_t count = (s >> 16) % 40;
            for (size_t j = 0; j < count; j++) {
                s = s * 1103515245u + 12345u;
                o += to_utf8(bufs[k] + o, pool[(s >> 16) % ARRAY_LEN(pool)]);
            }
            m[k] = bufs[k];
            l[k] = o;
        }
        roundtrip(__LINE__, m, l, 1 + (size_t)round % 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_decode_limit),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests_name("sockjs_frame", tests, NULL, NULL);
}
