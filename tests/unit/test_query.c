/* test_query.c - archive/query.c: query words (user syntax is text, Korean, marks,
 * limits) and snippets with code-point ranges (Korean, emoji, ZWJ sequences,
 * combining marks, Hangul jamo, long texts). Table-driven; each failure names the
 * table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query.h"
#include "query_uni.h"
#include "valid.h"

/* ---- query_parse ---------------------------------------------------------------- */

static void test_parse(void **state)
{
    static const struct {
        int line;
        const char *q;
        query_rc rc;
        const char *words; /* the expected words joined by '|' */
    } rows[] = {
        {__LINE__, "채팅", QUERY_OK, "채팅"},
        {__LINE__, "hello world", QUERY_OK, "hello|world"},
        {__LINE__, "  채팅  room ", QUERY_OK, "채팅|room"},
        {__LINE__, "채팅room", QUERY_OK, "채팅room"},
        {__LINE__, "\"a\" OR -b*", QUERY_OK, "a|OR|b"},
        {__LINE__, "NEAR(x y, 2)", QUERY_OK, "NEAR|x|y|2"},
        {__LINE__, "'; DROP TABLE messages; --", QUERY_OK, "DROP|TABLE|messages"},
        {__LINE__, "a\\b \\\\ c''d", QUERY_OK, "a|b|c|d"},
        {__LINE__, "col:text ^x {y} [z] a+b a&b a|b !c", QUERY_OK, "col|text|x|y|z|a|b"}, /* c: prefix of col */
        {__LINE__, "text:* & !x <-> y", QUERY_OK, "text|x|y"},
        {__LINE__, "don't", QUERY_OK, "don|t"},
        {__LINE__, "Hello hello HELLO", QUERY_OK, "Hello"},
        {__LINE__, "chat chatting", QUERY_OK, "chatting"},
        {__LINE__, "chatting CHAT", QUERY_OK, "chatting"},
        {__LINE__, "채 채팅 채팅방", QUERY_OK, "채팅방"},
        {__LINE__, "e\xcc\x81te", QUERY_OK, "e\xcc\x81te"},          /* e + U+0301: one word */
        {__LINE__, "\xcc\x81" "abc", QUERY_OK, "abc"},                  /* a mark with no letter */
        {__LINE__, "x\xe2\x80\x8dy", QUERY_OK, "x|y"},                  /* ZWJ separates */
        {__LINE__, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd ok", QUERY_OK, "ok"}, /* 👍🏽 ok */
        {__LINE__, "Привет ΣΑΣ", QUERY_OK, "Привет|ΣΑΣ"},
        {__LINE__, "٣٤ १२ 3.14", QUERY_OK, "٣٤|१२|3|14"},
        {__LINE__, "", QUERY_EMPTY, ""},
        {__LINE__, "   ", QUERY_NO_WORD, ""},
        {__LINE__, "\"*\" - () : \\ ''; %_ <->", QUERY_NO_WORD, ""},
        {__LINE__, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xe2\x9d\xa4\xef\xb8\x8f", QUERY_NO_WORD, ""},
        {__LINE__, "\xff", QUERY_NOT_UTF8, ""},
        {__LINE__, "ab\xc0\xaf", QUERY_NOT_UTF8, ""},
        {__LINE__, "\xed\xa0\x80", QUERY_NOT_UTF8, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        query q;
        query_rc rc = query_parse(rows[i].q, strlen(rows[i].q), &q);
        if (rc != rows[i].rc) fail_msg("row at line %d: rc %d, want %d", rows[i].line, rc, rows[i].rc);
        char got[512] = "";
        for (size_t w = 0; w < q.n; w++) {
            if (w) strcat(got, "|");
            strcat(got, q.w[w].text);
            if (q.texts[w] != q.w[w].text) fail_msg("row at line %d: texts[%zu]", rows[i].line, w);
        }
        if (strcmp(got, rows[i].words) != 0) fail_msg("row at line %d: words '%s'", rows[i].line, got);
        query_free(&q);
        query_free(&q);
    }
}

static void test_parse_limits(void **state)
{
    char s[1024];
    query q;
    memset(s, 'a', 200);
    assert_int_equal(query_parse(s, 200, &q), QUERY_OK);
    assert_int_equal(q.n, 1);
    query_free(&q);
    memset(s, 'a', 201);
    assert_int_equal(query_parse(s, 201, &q), QUERY_TOO_LONG);
    assert_int_equal(q.n, 0);
    /* 200 Hangul syllables are 600 bytes and still 200 code points. */
    for (int i = 0; i < 200; i++) memcpy(s + 3 * i, "\xea\xb0\x80", 3);
    assert_int_equal(query_parse(s, 600, &q), QUERY_OK);
    query_free(&q);
    memcpy(s + 600, "\xea\xb0\x80", 3);
    assert_int_equal(query_parse(s, 603, &q), QUERY_TOO_LONG);
    /* A NUL inside is not text. */
    assert_int_equal(query_parse("a\0b", 3, &q), QUERY_NOT_UTF8);
    /* 32 distinct words pass, 33 do not; repeats do not count. */
    size_t len = 0;
    for (int i = 0; i < 33; i++) len += (size_t)sprintf(s + len, "%c%c ", 'a' + i / 26, 'a' + i % 26);
    assert_int_equal(query_parse(s, len - 3, &q), QUERY_OK);
    assert_int_equal(q.n, 32);
    query_free(&q);
    assert_int_equal(query_parse(s, len, &q), QUERY_TOO_MANY);
    assert_int_equal(q.n, 0);
    len = 0;
    for (int i = 0; i < 60; i++) len += (size_t)sprintf(s + len, "%s ", i % 2 ? "x" : "y");
    assert_int_equal(query_parse(s, len, &q), QUERY_OK);
    assert_int_equal(q.n, 2);
    query_free(&q);
}

static void test_fold(void **state)
{
    static const struct { int line; uint32_t in, out; } rows[] = {
        {__LINE__, 'A', 'a'},        {__LINE__, 'z', 'z'},       {__LINE__, 0xC9, 0xE9},
        {__LINE__, 0x130, 'i'},      {__LINE__, 0x1C5, 0x1C6},   {__LINE__, 0x3A3, 0x3C3},
        {__LINE__, 0x410, 0x430},    {__LINE__, 0x401, 0x451},   {__LINE__, 0xFF21, 0xFF41},
        {__LINE__, 0xCC44, 0xCC44},  {__LINE__, 0x10400, 0x10428}, {__LINE__, 0x100, 0x101},
        {__LINE__, 0x101, 0x101},    {__LINE__, 0x1E9E, 0xDF},   {__LINE__, 0x1F600, 0x1F600},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (query_uni_lower(rows[i].in) != rows[i].out)
            fail_msg("row at line %d: lower(U+%04X) = U+%04X", rows[i].line, rows[i].in, query_uni_lower(rows[i].in));
    assert_true(query_uni_is_word(0xCC44));   /* 채 */
    assert_true(query_uni_is_word(0x0663));   /* ٣ */
    assert_false(query_uni_is_word(0x1F600)); /* 😀 */
    assert_false(query_uni_is_word('_'));
    assert_true(query_uni_is_mark(0x301));
    assert_true(query_uni_is_mark(0xFE0F));
    assert_false(query_uni_is_mark(0x200D));
}

/* ---- snippets ------------------------------------------------------------------- */

static size_t to_cps(const char *s, size_t len, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t k = valid_utf8_decode((const unsigned char *)s, len, i, &cp);
        assert_true(k > 0);
        out[n++] = cp;
        i += k;
    }
    return n;
}

static int joins_previous(uint32_t cp)
{
    return query_uni_is_mark(cp) || cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF);
}

/* What must hold for every snippet: valid UTF-8 of ncp code points, ranges ascending,
 * disjoint and inside; each range starts a word with one of the query words (folded)
 * and ends at a cluster boundary. */
static void check_snippet(int line, const query *q, const query_snippet *sn)
{
    static uint32_t cps[1 << 16];
    if (!valid_utf8(sn->text, sn->len) && sn->len) fail_msg("line %d: snippet not UTF-8", line);
    if (strlen(sn->text) != sn->len) fail_msg("line %d: len", line);
    size_t n = to_cps(sn->text, sn->len, cps);
    if (n != sn->ncp) fail_msg("line %d: ncp %zu, counted %zu", line, sn->ncp, n);
    /* a cut never separates a cluster: nothing joins the ellipsis or follows it out */
    if (n > 1 && cps[0] == 0x2026 && joins_previous(cps[1])) fail_msg("line %d: cut before a mark", line);
    if (n > 1 && cps[n - 1] == 0x2026 && cps[n - 2] == 0x200D) fail_msg("line %d: cut after a ZWJ", line);
    for (size_t i = 0; i < sn->n; i++) {
        size_t a = sn->ranges[i][0], b = sn->ranges[i][1];
        if (a >= b || b > n || (i && a < sn->ranges[i - 1][1]))
            fail_msg("line %d: range %zu [%zu,%zu) of %zu", line, i, a, b, n);
        if (a > 0 && (query_uni_is_word(cps[a - 1]) || query_uni_is_mark(cps[a - 1])))
            fail_msg("line %d: range %zu starts inside a word", line, i);
        if (b < n && (joins_previous(cps[b]) || cps[b - 1] == 0x200D))
            fail_msg("line %d: range %zu ends inside a cluster", line, i);
        int ok = 0;
        for (size_t w = 0; w < q->n && !ok; w++) {
            const query_word *qw = &q->w[w];
            if (qw->nfolded > b - a) continue;
            ok = 1;
            for (size_t k = 0; k < qw->nfolded; k++)
                if (query_uni_lower(cps[a + k]) != qw->folded[k]) ok = 0;
        }
        if (!ok) fail_msg("line %d: range %zu [%zu,%zu) matches no query word", line, i, a, b);
    }
}

/* ranges as "a-b,c-d" */
static void ranges_str(const query_snippet *sn, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sn->n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%zu-%zu", i ? "," : "", sn->ranges[i][0], sn->ranges[i][1]);
}

static void test_snippet_short(void **state)
{
    static const struct {
        int line;
        const char *q, *text, *snippet, *ranges;
    } rows[] = {
        {__LINE__, "채팅", "채팅방에서 만나요", "채팅방에서 만나요", "0-2"},
        {__LINE__, "만나", "채팅방에서 만나요", "채팅방에서 만나요", "6-8"},
        {__LINE__, "hello", "Hello, World! hello", "Hello, World! hello", "0-5,14-19"},
        {__LINE__, "HELLO wor", "hello world", "hello world", "0-5,6-9"},
        {__LINE__, "llo", "hello", "hello", ""},
        {__LINE__, "채팅 room", "채팅room 채팅 Room", "채팅room 채팅 Room", "0-2,7-9,10-14"},
        {__LINE__, "chat room", "chatroom", "chatroom", "0-4"},
        /* 👍🏽 + space: 3 code points before the word */
        {__LINE__, "채팅", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd 채팅", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd 채팅", "3-5"},
        /* 👨‍👩‍👧 is five code points */
        {__LINE__, "chat", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 chat",
         "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 chat", "6-10"},
        /* a prefix ending before a combining mark takes the mark too */
        {__LINE__, "e", "e\xcc\x81te", "e\xcc\x81te", "0-2"},
        {__LINE__, "ete", "e\xcc\x81te", "e\xcc\x81te", ""},
        {__LINE__, "caf\xc3\xa9", "cafe\xcc\x81 CAF\xc3\x89", "cafe\xcc\x81 CAF\xc3\x89", "6-10"},
        {__LINE__, "cafe\xcc\x81", "cafe\xcc\x81 CAF\xc3\x89", "cafe\xcc\x81 CAF\xc3\x89", "0-5"},
        /* a word glued to an emoji by ZWJ: the range takes the whole cluster */
        {__LINE__, "x", "x\xe2\x80\x8d\xf0\x9f\x98\x80 y", "x\xe2\x80\x8d\xf0\x9f\x98\x80 y", "0-3"},
        /* Hangul jamo (ᄀ ᅡ ᆨ) make one syllable */
        {__LINE__, "\xe1\x84\x80", "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 \xea\xb0\x81",
         "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 \xea\xb0\x81", "0-3"},
        /* flags are not words; the word after them is counted right */
        {__LINE__, "seoul", "\xf0\x9f\x87\xb0\xf0\x9f\x87\xb7 Seoul", "\xf0\x9f\x87\xb0\xf0\x9f\x87\xb7 Seoul", "3-8"},
        {__LINE__, "Привет", "ПРИВЕТ мир", "ПРИВЕТ мир", "0-6"},
        {__LINE__, "a", "line\nbreak\ta b", "line break a b", "11-12"},
        {__LINE__, "ok", "\xff ok \xc0", "\xef\xbf\xbd ok \xef\xbf\xbd", "2-4"},
        {__LINE__, "x", "", "", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        query q;
        query_snippet sn;
        assert_int_equal(query_parse(rows[i].q, strlen(rows[i].q), &q), QUERY_OK);
        query_snippet_build(&q, rows[i].text, strlen(rows[i].text), 0, &sn);
        char r[256];
        ranges_str(&sn, r, sizeof r);
        if (strcmp(sn.text, rows[i].snippet) != 0) fail_msg("row at line %d: snippet '%s'", rows[i].line, sn.text);
        if (strcmp(r, rows[i].ranges) != 0) fail_msg("row at line %d: ranges '%s'", rows[i].line, r);
        check_snippet(rows[i].line, &q, &sn);
        query_snippet_free(&sn);
        query_snippet_free(&sn);
        query_free(&q);
    }
}

/* Repeat unit until the text has at least cp code points. */
static char *repeat(const char *unit, size_t cp)
{
    size_t ul = strlen(unit), uc = valid_cp_count(unit, ul), k = uc ? (cp + uc - 1) / uc : 0;
    char *s = malloc(ul * k + 1);
    for (size_t i = 0; i < k; i++) memcpy(s + i * ul, unit, ul);
    s[ul * k] = '\0';
    return s;
}

/* The code points of the snippet's range i, as UTF-8. */
static void range_text(const query_snippet *sn, size_t i, char *out, size_t cap)
{
    size_t cp = 0, o = 0;
    for (size_t b = 0; b < sn->len; cp++) {
        size_t k = 1;
        while (b + k < sn->len && ((unsigned char)sn->text[b + k] & 0xc0) == 0x80) k++;
        if (cp >= sn->ranges[i][0] && cp < sn->ranges[i][1] && o + k < cap) {
            memcpy(out + o, sn->text + b, k);
            o += k;
        }
        b += k;
    }
    out[o] = '\0';
}

static void test_snippet_long(void **state)
{
    static const struct {
        int line;
        const char *q;
        const char *before, *middle, *after; /* repeated filler, the matched part, filler */
        size_t nbefore, nafter;
        const char *range; /* text of one of the ranges (NULL: no range) */
        int front, back;   /* cut at the front / the back ("…") */
    } rows[] = {
        {__LINE__, "채팅", "가나다라 마바사 ", "우리 채팅방에서 만나요", " 아자차카 타파하", 600, 600, "채팅", 1, 1},
        {__LINE__, "needle", "lorem ipsum dolor ", "find the Needle here", " sit amet consectetur", 700, 300, "Needle", 1, 1},
        {__LINE__, "two words", "two lonely ", "many words and two together", " filler text", 400, 400, "words", 1, 1},
        {__LINE__, "x", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 ", "x",
         " \xf0\x9f\x87\xb0\xf0\x9f\x87\xb7", 500, 500, "x", 1, 1},
        {__LINE__, "e", "a\xcc\x81\xcc\x81\xcc\x81\xcc\x81 ", "e\xcc\x81\xcc\x81 x", " a\xcc\x81\xcc\x82", 500, 500,
         "e\xcc\x81\xcc\x81", 1, 1},
        {__LINE__, "end", "a ", "the end", "", 900, 0, "end", 1, 0},
        {__LINE__, "start", "", "start here", " b", 0, 900, "start", 0, 1},
        {__LINE__, "nothing", "no match at all ", "", "", 800, 0, NULL, 0, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *b = repeat(rows[i].before, rows[i].nbefore), *a = repeat(rows[i].after, rows[i].nafter);
        size_t lb = rows[i].nbefore ? strlen(b) : 0, lm = strlen(rows[i].middle), la = rows[i].nafter ? strlen(a) : 0;
        char *text = malloc(lb + lm + la + 1);
        memcpy(text, b, lb);
        memcpy(text + lb, rows[i].middle, lm);
        memcpy(text + lb + lm, a, la);
        text[lb + lm + la] = '\0';
        query q;
        query_snippet sn;
        assert_int_equal(query_parse(rows[i].q, strlen(rows[i].q), &q), QUERY_OK);
        query_snippet_build(&q, text, strlen(text), 0, &sn);
        check_snippet(rows[i].line, &q, &sn);
        /* about the width, plus two ellipses and clusters completed at the edges */
        if (sn.ncp > QUERY_SNIPPET_CP + 2 + 8) fail_msg("row at line %d: %zu code points", rows[i].line, sn.ncp);
        char r[256];
        if (rows[i].range) {
            int found = 0;
            for (size_t k = 0; k < sn.n && !found; k++) {
                range_text(&sn, k, r, sizeof r);
                found = strcmp(r, rows[i].range) == 0;
            }
            if (!found) fail_msg("row at line %d: '%s' not a range of '%s'", rows[i].line, rows[i].range, sn.text);
        } else if (sn.n != 0) {
            fail_msg("row at line %d: %zu ranges", rows[i].line, sn.n);
        }
        /* every query word is in the window */
        for (size_t w = 0; rows[i].range && w < q.n; w++) {
            int found = 0;
            for (size_t k = 0; k < sn.n && !found; k++) {
                range_text(&sn, k, r, sizeof r);
                found = strncasecmp(r, q.w[w].text, strlen(q.w[w].text)) == 0;
            }
            if (!found) fail_msg("row at line %d: '%s' is not in '%s'", rows[i].line, q.w[w].text, sn.text);
        }
        if (rows[i].front != (strncmp(sn.text, "\xe2\x80\xa6", 3) == 0))
            fail_msg("row at line %d: front ellipsis in '%s'", rows[i].line, sn.text);
        if (rows[i].back != (sn.len >= 3 && strcmp(sn.text + sn.len - 3, "\xe2\x80\xa6") == 0))
            fail_msg("row at line %d: back ellipsis in '%s'", rows[i].line, sn.text);
        query_snippet_free(&sn);
        query_free(&q);
        free(text);
        free(a);
        free(b);
    }
}

/* Every width and every position of one match in a mixed text: the invariants hold. */
static void test_snippet_sweep(void **state)
{
    const char *unit = "채팅 e\xcc\x81 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xf0\x9f\x87\xb0\xf0\x9f\x87\xb7 ab\xe2\x80\x8d"
                       "\xf0\x9f\x98\x80 \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8\n";
    char *text = repeat(unit, 400);
    query q;
    assert_int_equal(query_parse("채팅 e ab ᄀ", strlen("채팅 e ab ᄀ"), &q), QUERY_OK);
    for (size_t width = 8; width < 420; width += 7) {
        query_snippet sn;
        query_snippet_build(&q, text, strlen(text), width, &sn);
        check_snippet(__LINE__, &q, &sn);
        if (sn.n == 0) fail_msg("width %zu: no range in '%s'", width, sn.text);
        query_snippet_free(&sn);
    }
    query_free(&q);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_fold),           cmocka_unit_test(test_snippet_short),
        cmocka_unit_test(test_snippet_long),   cmocka_unit_test(test_snippet_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
