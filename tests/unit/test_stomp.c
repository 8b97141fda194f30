/* test_stomp.c - unit tests for ws-relay/stomp.c (parser and writer).
 *
 * Table-driven: every row carries its __LINE__, which every failure message names.
 * Each input row is fed whole, split at every byte boundary (one cut, and every pair
 * of cuts for short inputs), byte by byte, and in pseudo-random chunks; all must give
 * the same frames and the same final result. Error rows also check that the error is
 * sticky. Writer rows compare exact bytes and then parse the output back.
 *
 * Deliberately not here: anything about sessions or the relay; fuzzing (see
 * tests/fuzz/fuzz_stomp.c). Longer than our usual 600 lines because of the tables;
 * the code around them is small. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "stomp.h"
#include "util.h"

#define IN(s) s, sizeof(s) - 1
#define BODY(s) s, sizeof(s) - 1
#define NOLIM { 0, 0, 0, 0 }
#define SMALL { 4, 20, 64, 1024 } /* headers, line, frame, pending */

/* ---- recording what the parser returns -------------------------------------------- */

typedef struct { char *p; size_t n; } bytes;

#define MAXH 40
#define MAXF 8

struct got_frame {
    stomp_cmd cmd;
    bytes command, body;
    size_t nh;
    bytes name[MAXH], value[MAXH];
};

/* Copies live in the run's own arena, so a failing check (which longjmps out) leaks
 * nothing and LeakSanitizer stays quiet about tests that failed for another reason. */
struct run {
    size_t n;
    struct got_frame f[MAXF];
    chat_rc rc;
    char err[128];
    uint64_t heartbeats;
    size_t used;
    char arena[8192];
};

static bytes copy_bytes(struct run *r, const char *s, size_t n)
{
    assert_true(n < sizeof(r->arena) - r->used);
    bytes b = { r->arena + r->used, n };
    memcpy(b.p, s, n);
    b.p[n] = '\0';
    r->used += n + 1;
    return b;
}

static void record(struct run *r, const stomp_frame *f)
{
    assert_true(r->n < MAXF);
    assert_true(f->nheaders <= MAXH);
    struct got_frame *g = &r->f[r->n++];
    g->cmd = f->cmd;
    g->command = copy_bytes(r, f->command, f->command_len);
    g->body = copy_bytes(r, f->body, f->body_len);
    g->nh = f->nheaders;
    for (size_t i = 0; i < f->nheaders; i++) {
        g->name[i] = copy_bytes(r, f->headers[i].name, f->headers[i].name_len);
        g->value[i] = copy_bytes(r, f->headers[i].value, f->headers[i].value_len);
    }
}

/* Feed in[0..len) in chunks ending at cuts[0..ncuts) (the last cut must be len),
 * draining frames after each feed. On an error, also check that it is sticky. */
static void run_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                     const stomp_limits *lim, struct run *r)
{
    stomp_parser p;
    stomp_frame f;
    chat_rc rc = CHAT_AGAIN;
    size_t pos = 0;

    memset(r, 0, sizeof(*r));
    stomp_parser_init(&p, lim);
    for (size_t k = 0; k < ncuts && (rc == CHAT_AGAIN || rc == CHAT_OK); k++) {
        rc = stomp_feed(&p, in + pos, cuts[k] - pos);
        pos = cuts[k];
        if (rc != CHAT_OK) break;
        while ((rc = stomp_next(&p, &f)) == CHAT_OK) record(r, &f);
    }
    r->rc = rc;
    memcpy(r->err, p.err, sizeof(r->err));
    r->heartbeats = p.heartbeats;
    if (rc != CHAT_OK && rc != CHAT_AGAIN) {
        assert_int_equal(stomp_feed(&p, IN("SEND\n\n\0")), rc);
        assert_int_equal(stomp_next(&p, &f), rc);
    }
    stomp_parser_free(&p);
}

/* ---- split strategies ------------------------------------------------------------------ */

typedef int (*check_fn)(const void *row, const struct run *r, const char *how);

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Run one row under every split strategy; check() reports failures itself. */
static void run_all_splits(const char *in, size_t len, const stomp_limits *lim,
                           const void *row, check_fn check)
{
    static size_t cuts[1024];
    static struct run r;
    char how[96];

    assert_true(len < ARRAY_LEN(cuts));

    cuts[0] = len;
    run_cuts(in, len, cuts, 1, lim, &r);
    check(row, &r, "whole");

    for (size_t i = 1; i < len; i++) {
        cuts[0] = i;
        cuts[1] = len;
        run_cuts(in, len, cuts, 2, lim, &r);
        snprintf(how, sizeof(how), "split at %zu", i);
        check(row, &r, how);
    }
    if (len <= 64) {
        for (size_t i = 1; i < len; i++) {
            for (size_t j = i + 1; j < len; j++) {
                size_t c3[3] = { i, j, len };
                run_cuts(in, len, c3, 3, lim, &r);
                snprintf(how, sizeof(how), "split at %zu and %zu", i, j);
                check(row, &r, how);
                    }
        }
    }
    cuts[0] = 0;
    for (size_t i = 0; i < len; i++) cuts[i] = i + 1;
    run_cuts(in, len, cuts, len ? len : 1, lim, &r);
    check(row, &r, "byte by byte");

    for (uint32_t seed = 1; seed <= 16; seed++) {
        uint32_t s = seed * 2654435761u;
        size_t n = 0, pos = 0;
        while (pos < len) {
            pos += 1 + xorshift(&s) % 9;
            cuts[n++] = pos < len ? pos : len;
        }
        if (n == 0) cuts[n++] = 0;
        run_cuts(in, len, cuts, n, lim, &r);
        snprintf(how, sizeof(how), "random chunks, seed %u", seed);
        check(row, &r, how);
    }
}

/* ---- valid inputs ------------------------------------------------------------------------ */

struct exp_frame {
    stomp_cmd cmd;
    const char *command;
    const char *h[2 * 8 + 1]; /* name, value, ..., NULL */
    const char *body;
    size_t body_len;
};

struct vcase {
    int line;
    stomp_limits lim;
    const char *in;
    size_t in_len;
    uint64_t heartbeats;
    size_t nframes;
    struct exp_frame f[4];
};

static const struct vcase valid[] = {
    { __LINE__, NOLIM, IN("SEND\n\n\0"), 0, 1, { { STOMP_SEND, "SEND", { NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("SEND\ndestination:/app/x\n\nhello\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "destination", "/app/x", NULL }, BODY("hello") } } },
    /* content-length bodies may hold NULs; the NUL after them is required */
    { __LINE__, NOLIM, IN("SEND\ncontent-length:5\n\na\0b\0c\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "content-length", "5", NULL }, BODY("a\0b\0c") } } },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:0\n\n\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "content-length", "0", NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:007\n\n\0\0\0\0\0\0\0\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "content-length", "007", NULL }, BODY("\0\0\0\0\0\0\0") } } },
    /* several frames, heart-beats (LF and CRLF) before, between and after */
    { __LINE__, NOLIM, IN("\nSEND\n\nA\0\n\r\nMESSAGE\nx:y\n\nB\0" "ACK\nid:1\n\n\0\n"), 4, 3,
      { { STOMP_SEND, "SEND", { NULL }, BODY("A") },
        { STOMP_MESSAGE, "MESSAGE", { "x", "y", NULL }, BODY("B") },
        { STOMP_ACK, "ACK", { "id", "1", NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("\n\r\n\n"), 3, 0, { { 0 } } },
    { __LINE__, NOLIM, IN(""), 0, 0, { { 0 } } },
    /* CRLF everywhere, and mixed */
    { __LINE__, NOLIM, IN("SEND\r\ndestination:/a\r\n\r\nbody\0\r\n"), 1, 1,
      { { STOMP_SEND, "SEND", { "destination", "/a", NULL }, BODY("body") } } },
    { __LINE__, NOLIM, IN("SUBSCRIBE\r\nid:0\ndestination:/t\r\n\n\0"), 0, 1,
      { { STOMP_SUBSCRIBE, "SUBSCRIBE", { "id", "0", "destination", "/t", NULL }, BODY("") } } },
    /* body bytes are not touched: CR, LF, backslashes, UTF-8 */
    { __LINE__, NOLIM, IN("SEND\n\na\r\nb\\n\xc3\xa9\0"), 0, 1,
      { { STOMP_SEND, "SEND", { NULL }, BODY("a\r\nb\\n\xc3\xa9") } } },
    /* escapes in names and values */
    { __LINE__, NOLIM, IN("SEND\na\\cb:c\\\\d\\ne\\rf\n\n\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "a:b", "c\\d\ne\rf", NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("MESSAGE\nk:\\c\\c\\\\\\\\\n\n\0"), 0, 1,
      { { STOMP_MESSAGE, "MESSAGE", { "k", "::\\\\", NULL }, BODY("") } } },
    /* CONNECT, STOMP and CONNECTED are not unescaped */
    { __LINE__, NOLIM, IN("CONNECT\nlogin:a\\nb\npasscode:x\\ty\\\n\n\0"), 0, 1,
      { { STOMP_CONNECT, "CONNECT", { "login", "a\\nb", "passcode", "x\\ty\\", NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("STOMP\naccept-version:1.2\npasscode:p\\c\n\n\0"), 0, 1,
      { { STOMP_STOMP, "STOMP", { "accept-version", "1.2", "passcode", "p\\c", NULL }, BODY("") } } },
    { __LINE__, NOLIM, IN("CONNECTED\nversion:1.2\nserver:a\\b\n\n\0"), 0, 1,
      { { STOMP_CONNECTED, "CONNECTED", { "version", "1.2", "server", "a\\b", NULL }, BODY("") } } },
    /* repeated headers all kept in order; values may hold colons or be empty */
    { __LINE__, NOLIM, IN("SEND\nfoo:1\nfoo:2\nbar:a:b\nbaz:\n\n\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "foo", "1", "foo", "2", "bar", "a:b", "baz", "", NULL }, BODY("") } } },
    /* only the first content-length counts, even if a later one is nonsense */
    { __LINE__, NOLIM, IN("SEND\ncontent-length:1\ncontent-length:zz\n\nx\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "content-length", "1", "content-length", "zz", NULL }, BODY("x") } } },
    /* unknown but well-formed command words; commands are case-sensitive */
    { __LINE__, NOLIM, IN("FOO\n\n\0send\n\n\0SENDX\n\n\0"), 0, 3,
      { { STOMP_CMD_UNKNOWN, "FOO", { NULL }, BODY("") },
        { STOMP_CMD_UNKNOWN, "send", { NULL }, BODY("") },
        { STOMP_CMD_UNKNOWN, "SENDX", { NULL }, BODY("") } } },
    /* a complete frame followed by an incomplete one */
    { __LINE__, NOLIM, IN("DISCONNECT\nreceipt:7\n\n\0SEN"), 0, 1,
      { { STOMP_DISCONNECT, "DISCONNECT", { "receipt", "7", NULL }, BODY("") } } },
    /* exactly at each limit (SMALL = 4 headers, 20-byte lines, 64-byte frames) */
    { __LINE__, SMALL, IN("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "a", "1", "b", "2", "c", "3", "d", "4", NULL }, BODY("") } } },
    { __LINE__, SMALL, IN("SEND\nabcdefghij:123456789\r\n\n\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "abcdefghij", "123456789", NULL }, BODY("") } } },
    { __LINE__, SMALL, IN("ABCDEFGHIJKLMNOPQRST\r\n\n\0"), 0, 1,
      { { STOMP_CMD_UNKNOWN, "ABCDEFGHIJKLMNOPQRST", { NULL }, BODY("") } } },
    { __LINE__, SMALL, IN("SEND\n\n0123456789012345678901234567890123456789012345678901234567\0"), 0, 1,
      { { STOMP_SEND, "SEND", { NULL }, BODY("0123456789012345678901234567890123456789012345678901234567") } } },
    { __LINE__, SMALL, IN("SEND\ncontent-length:40\n\n0123456789012345678901234567890123456789\0"), 0, 1,
      { { STOMP_SEND, "SEND", { "content-length", "40", NULL },
          BODY("0123456789012345678901234567890123456789") } } },
};

static int check_valid(const void *row, const struct run *r, const char *how)
{
    const struct vcase *c = row;
    if (r->rc != CHAT_AGAIN)
        fail_msg("row at line %d (%s): final rc %s (%s), want again", c->line, how,
                 chat_rc_name(r->rc), r->err);
    if (r->n != c->nframes)
        fail_msg("row at line %d (%s): %zu frames, want %zu", c->line, how, r->n, c->nframes);
    if (r->heartbeats != c->heartbeats)
        fail_msg("row at line %d (%s): %llu heart-beats, want %llu", c->line, how,
                 (unsigned long long)r->heartbeats, (unsigned long long)c->heartbeats);
    for (size_t i = 0; i < r->n; i++) {
        const struct got_frame *g = &r->f[i];
        const struct exp_frame *e = &c->f[i];
        if (g->cmd != e->cmd || strcmp(g->command.p, e->command) != 0 ||
            g->command.n != strlen(e->command))
            fail_msg("row at line %d (%s): frame %zu command '%s' (%d), want '%s' (%d)", c->line,
                     how, i, g->command.p, g->cmd, e->command, e->cmd);
        size_t nh = 0;
        while (e->h[2 * nh]) nh++;
        if (g->nh != nh)
            fail_msg("row at line %d (%s): frame %zu has %zu headers, want %zu", c->line, how, i,
                     g->nh, nh);
        for (size_t j = 0; j < nh; j++) {
            if (g->name[j].n != strlen(e->h[2 * j]) || strcmp(g->name[j].p, e->h[2 * j]) ||
                g->value[j].n != strlen(e->h[2 * j + 1]) || strcmp(g->value[j].p, e->h[2 * j + 1]))
                fail_msg("row at line %d (%s): frame %zu header %zu is '%s':'%s', want '%s':'%s'",
                         c->line, how, i, j, g->name[j].p, g->value[j].p, e->h[2 * j],
                         e->h[2 * j + 1]);
        }
        if (g->body.n != e->body_len || memcmp(g->body.p, e->body, e->body_len) != 0)
            fail_msg("row at line %d (%s): frame %zu body differs (%zu bytes, want %zu)", c->line,
                     how, i, g->body.n, e->body_len);
    }
    return 0;
}

static void test_valid_frames(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(valid); i++)
        run_all_splits(valid[i].in, valid[i].in_len, &valid[i].lim, &valid[i], check_valid);
}

/* ---- errors ----------------------------------------------------------------------------------- */

struct ecase {
    int line;
    stomp_limits lim;
    const char *in;
    size_t in_len;
    size_t nframes; /* good frames before the error */
    chat_rc rc;
    const char *err; /* substring of p->err */
};

static const struct ecase errors[] = {
    { __LINE__, NOLIM, IN("SEND\nfoo\n\n\0"), 0, CHAT_EMALFORMED, "colon" },
    { __LINE__, NOLIM, IN("CONNECT\nlogin\n\n\0"), 0, CHAT_EMALFORMED, "colon" },
    { __LINE__, NOLIM, IN("SEND\n:v\n\n\0"), 0, CHAT_EMALFORMED, "empty header name" },
    { __LINE__, NOLIM, IN("SEND\nfoo:a\\tb\n\n\0"), 0, CHAT_EMALFORMED, "escape" },
    { __LINE__, NOLIM, IN("SEND\nfoo:ab\\\n\n\0"), 0, CHAT_EMALFORMED, "escape" },
    { __LINE__, NOLIM, IN("SEND\nfo\\o:ab\n\n\0"), 0, CHAT_EMALFORMED, "escape" },
    { __LINE__, NOLIM, IN("MESSAGE\nfoo\\:x\n\n\0"), 0, CHAT_EMALFORMED, "escape" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:abc\n\n\0"), 0, CHAT_EMALFORMED, "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:\n\n\0"), 0, CHAT_EMALFORMED, "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:-1\n\n\0"), 0, CHAT_EMALFORMED, "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length: 1\n\nx\0"), 0, CHAT_EMALFORMED, "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:1 \n\nx\0"), 0, CHAT_EMALFORMED, "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:99999999999999999999999\n\n"), 0, CHAT_EMALFORMED,
      "content-length" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:3\n\nabcd\0"), 0, CHAT_EMALFORMED, "NUL" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:0\n\nx"), 0, CHAT_EMALFORMED, "NUL" },
    { __LINE__, NOLIM, IN("SEND x\n\n\0"), 0, CHAT_EMALFORMED, "command" },
    { __LINE__, NOLIM, IN("SE:ND\n\n\0"), 0, CHAT_EMALFORMED, "command" },
    { __LINE__, NOLIM, IN("\xc3\xa9\n\n\0"), 0, CHAT_EMALFORMED, "command" },
    { __LINE__, NOLIM, IN("\0"), 0, CHAT_EMALFORMED, "NUL" },
    { __LINE__, NOLIM, IN("SEND\n\0"), 0, CHAT_EMALFORMED, "NUL" },
    { __LINE__, NOLIM, IN("SEND\nfoo:b\0ar\n\n\0"), 0, CHAT_EMALFORMED, "NUL" },
    { __LINE__, NOLIM, IN("\rX"), 0, CHAT_EMALFORMED, "bare CR" },
    { __LINE__, NOLIM, IN("\r\r\n"), 0, CHAT_EMALFORMED, "bare CR" },
    { __LINE__, NOLIM, IN("SEND\rfoo\n\n\0"), 0, CHAT_EMALFORMED, "bare CR" },
    { __LINE__, NOLIM, IN("SEND\nfoo:a\rb\n\n\0"), 0, CHAT_EMALFORMED, "bare CR" },
    { __LINE__, NOLIM, IN("SEND\nfoo:a\r\r\n\n\0"), 0, CHAT_EMALFORMED, "bare CR" },
    { __LINE__, NOLIM, IN("SEND\n\r\r\n\0"), 0, CHAT_EMALFORMED, "bare CR" },
    /* good frames first, then the error */
    { __LINE__, NOLIM, IN("SEND\n\n\0\nACK\n\n\0BAD LINE\n\n\0"), 2, CHAT_EMALFORMED, "command" },
    /* limits */
    { __LINE__, SMALL, IN("SEND\na:1\nb:2\nc:3\nd:4\ne:5\n\n\0"), 0, CHAT_ETOOLARGE, "more than 4 headers" },
    { __LINE__, SMALL, IN("SEND\nabcdefghij:1234567890\n\n\0"), 0, CHAT_ETOOLARGE,
      "header line exceeds 20 bytes" },
    { __LINE__, SMALL, IN("ABCDEFGHIJKLMNOPQRSTU\n\n\0"), 0, CHAT_ETOOLARGE, "header line exceeds 20 bytes" },
    { __LINE__, SMALL, IN("SEND\n\n01234567890123456789012345678901234567890123456789012345678\0"), 0,
      CHAT_ETOOLARGE, "frame exceeds 64 bytes" },
    { __LINE__, SMALL, IN("SEND\ncontent-length:41\n\n01234567890123456789012345678901234567890\0"),
      0, CHAT_ETOOLARGE, "frame exceeds 64 bytes" },
    /* a content-length over the limit fails before any body byte arrives */
    { __LINE__, SMALL, IN("SEND\ncontent-length:65\n"), 0, CHAT_ETOOLARGE, "frame exceeds 64 bytes" },
    { __LINE__, SMALL, IN("SEND\ncontent-length:41\n\n"), 0, CHAT_ETOOLARGE, "frame exceeds 64 bytes" },
    { __LINE__, NOLIM, IN("SEND\ncontent-length:16385\n\n"), 0, CHAT_ETOOLARGE, "frame exceeds 16384 bytes" },
    /* a header block that never ends */
    { __LINE__, SMALL, IN("SEND\na:123456789012345678\nb:123456789012345678\nc:123456789012345678"), 0,
      CHAT_ETOOLARGE, "frame exceeds 64 bytes" },
    { __LINE__, SMALL, IN("SEND\n\n\0SEND\nabcdefghijklmnopqrstu"), 1, CHAT_ETOOLARGE,
      "header line exceeds 20 bytes" },
};

static int check_error(const void *row, const struct run *r, const char *how)
{
    const struct ecase *c = row;
    if (r->rc != c->rc)
        fail_msg("row at line %d (%s): rc %s (%s), want %s", c->line, how, chat_rc_name(r->rc),
                 r->err, chat_rc_name(c->rc));
    if (!strstr(r->err, c->err))
        fail_msg("row at line %d (%s): error '%s' lacks '%s'", c->line, how, r->err, c->err);
    if (r->n != c->nframes)
        fail_msg("row at line %d (%s): %zu frames before the error, want %zu", c->line, how, r->n,
                 c->nframes);
    return 0;
}

static void test_errors(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(errors); i++)
        run_all_splits(errors[i].in, errors[i].in_len, &errors[i].lim, &errors[i], check_error);
}

/* ---- parser: single-purpose tests ------------------------------------------------------------ */

static void test_pending_limit(void **state)
{
    stomp_limits lim = { 0, 0, 0, 32 };
    stomp_parser p;
    stomp_frame f;

    /* complete frames are consumed, so they do not count against the limit */
    stomp_parser_init(&p, &lim);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(stomp_feed(&p, IN("SEND\nid:12345\n\nhello world\0")), CHAT_OK);
        assert_int_equal(stomp_next(&p, &f), CHAT_OK);
        assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
    }
    /* exactly 32 pending bytes are fine, one more is not */
    assert_int_equal(stomp_feed(&p, "SEND\n\n0123456789012345678901234", 31), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
    assert_int_equal(stomp_feed(&p, "5", 1), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
    assert_int_equal(stomp_feed(&p, "6", 1), CHAT_ETOOLARGE);
    assert_non_null(strstr(p.err, "pending input exceeds 32 bytes"));
    assert_int_equal(stomp_next(&p, &f), CHAT_ETOOLARGE);
    assert_int_equal(stomp_feed(&p, "", 0), CHAT_ETOOLARGE);
    stomp_parser_free(&p);

    stomp_parser_init(&p, &lim);
    char big[33] = { 0 };
    assert_int_equal(stomp_feed(&p, big, sizeof(big)), CHAT_ETOOLARGE);
    stomp_parser_free(&p);
}

/* Memory stays bounded however much passes through: consumed input is compacted. */
static void test_compaction(void **state)
{
    stomp_parser p;
    stomp_frame f;
    static const char three[] = "SEND\ndestination:/a\n\n0123456789\0"
                                "SEND\ndestination:/b\n\n0123456789\0"
                                "SEND\ndestination:/c\n\n0123456789\0";
    stomp_parser_init(&p, NULL);
    for (int i = 0; i < 10000; i++) {
        /* offset so frames straddle feeds */
        size_t cut = (size_t)(i % 50);
        assert_int_equal(stomp_feed(&p, three, cut), CHAT_OK);
        while (stomp_next(&p, &f) == CHAT_OK) assert_int_equal(f.body_len, 10);
        assert_int_equal(stomp_feed(&p, three + cut, sizeof(three) - 1 - cut), CHAT_OK);
        int n = 0;
        while (stomp_next(&p, &f) == CHAT_OK) n++;
        assert_true(n >= 2);
        assert_true(p.in_cap <= 1024);
    }
    stomp_parser_free(&p);
}

/* White-box: a header line or a body fed in small pieces is scanned once (p->scan
 * advances to the end of what was fed), not re-read from its start on every call. */
static void test_resume_position(void **state)
{
    stomp_parser p;
    stomp_frame f;
    char chunk[100];
    memset(chunk, 'x', sizeof(chunk));
    stomp_parser_init(&p, NULL);
    assert_int_equal(stomp_feed(&p, IN("SEND\ndestination:")), CHAT_OK);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
        assert_int_equal(p.scan, p.in_len - p.in_off);
        assert_int_equal(stomp_feed(&p, "q", 1), CHAT_OK);
    }
    assert_int_equal(stomp_feed(&p, IN("\n\n")), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(stomp_feed(&p, chunk, sizeof(chunk)), CHAT_OK);
        assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
        assert_int_equal(p.scan, p.in_len - p.in_off);
    }
    assert_int_equal(stomp_feed(&p, "", 1), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_OK);
    assert_int_equal(f.body_len, 10000);
    stomp_parser_free(&p);
}

/* Frames of exactly max_frame bytes (default limits) pass, one more byte fails, also
 * when fed in odd pieces. */
static void test_default_frame_limit(void **state)
{
    static const char head[] = "SEND\ndestination:/q\n\n";
    size_t hl = sizeof(head) - 1;
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t total = 16384 + extra;
        char *in = xmalloc(total + 1);
        memcpy(in, head, hl);
        memset(in + hl, 'b', total - hl);
        in[total] = '\0';
        for (size_t step = 1000; step <= 17000; step += 4000) {
            stomp_parser p;
            stomp_frame f;
            chat_rc rc = CHAT_AGAIN;
            stomp_parser_init(&p, NULL);
            for (size_t pos = 0; pos <= total && rc == CHAT_AGAIN; pos += step) {
                size_t n = total + 1 - pos < step ? total + 1 - pos : step;
                assert_int_equal(stomp_feed(&p, in + pos, n), CHAT_OK);
                rc = stomp_next(&p, &f);
            }
            if (extra == 0) {
                assert_int_equal(rc, CHAT_OK);
                assert_int_equal(f.body_len, total - hl);
            } else {
                assert_int_equal(rc, CHAT_ETOOLARGE);
                assert_string_equal(p.err, "frame exceeds 16384 bytes");
            }
            stomp_parser_free(&p);
        }
        free(in);
    }
}

static void test_header_get(void **state)
{
    stomp_parser p;
    stomp_frame f;
    size_t len = 99;
    stomp_parser_init(&p, NULL);
    assert_int_equal(stomp_feed(&p, IN("SEND\nfoo:first\nfoo:second\nbar:\n\n\0")), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_OK);
    const char *v = stomp_header_get(&f, "foo", &len);
    assert_non_null(v);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "first", 5);
    assert_non_null(stomp_header_get(&f, "bar", &len));
    assert_int_equal(len, 0);
    assert_null(stomp_header_get(&f, "Foo", &len));
    assert_null(stomp_header_get(&f, "fo", NULL));
    assert_null(stomp_header_get(&f, "missing", &len));
    assert_int_equal(len, 0);
    stomp_parser_free(&p);
}

static void test_cmd_names(void **state)
{
    for (int c = STOMP_CONNECT; c < STOMP_CMD_UNKNOWN; c++) {
        const char *name = stomp_cmd_name((stomp_cmd)c);
        assert_int_equal(stomp_cmd_parse(name, strlen(name)), c);
    }
    assert_string_equal(stomp_cmd_name(STOMP_SUBSCRIBE), "SUBSCRIBE");
    assert_int_equal(stomp_cmd_parse("SEN", 3), STOMP_CMD_UNKNOWN);
    assert_int_equal(stomp_cmd_parse("SENDS", 5), STOMP_CMD_UNKNOWN);
    assert_int_equal(stomp_cmd_parse("Send", 4), STOMP_CMD_UNKNOWN);
    assert_int_equal(stomp_cmd_parse("", 0), STOMP_CMD_UNKNOWN);
    assert_non_null(stomp_cmd_name(STOMP_CMD_UNKNOWN));
    assert_non_null(stomp_cmd_name((stomp_cmd)999));
}

static void test_init_and_free(void **state)
{
    stomp_limits some = { 0, 100, 0, 0 };
    stomp_parser p;
    stomp_parser_init(&p, &some);
    assert_int_equal(p.lim.max_headers, 32);
    assert_int_equal(p.lim.max_header_line, 100);
    assert_int_equal(p.lim.max_frame, 16384);
    assert_int_equal(p.lim.max_pending, 65536);
    stomp_parser_free(&p);
    stomp_parser_free(&p); /* twice is fine */
    stomp_parser_free(NULL);
    stomp_parser z;
    memset(&z, 0, sizeof(z));
    stomp_parser_free(&z);
}

/* ---- writer ----------------------------------------------------------------------------------- */

struct wcase {
    int line;
    stomp_cmd cmd;
    stomp_kv h[6]; /* up to the first { NULL } */
    const char *body;
    size_t body_len;
    const char *want; /* exact output, NUL terminator included */
    size_t want_len;
};

static const struct wcase writes[] = {
    { __LINE__, STOMP_SEND, { { "destination", "/q" }, { NULL, NULL } }, BODY("hi"),
      IN("SEND\ndestination:/q\ncontent-length:2\n\nhi\0") },
    { __LINE__, STOMP_SUBSCRIBE, { { "id", "0" }, { "destination", "/topic/room/r1" }, { NULL, NULL } },
      NULL, 0, IN("SUBSCRIBE\nid:0\ndestination:/topic/room/r1\n\n\0") },
    { __LINE__, STOMP_MESSAGE, { { "a:b", "c\nd\\e\r:" }, { NULL, NULL } }, BODY(""),
      IN("MESSAGE\na\\cb:c\\nd\\\\e\\r\\c\n\n\0") },
    { __LINE__, STOMP_CONNECTED, { { "version", "1.2" }, { "server", "x\\y:z" }, { NULL, NULL } }, NULL, 0,
      IN("CONNECTED\nversion:1.2\nserver:x\\y:z\n\n\0") },
    { __LINE__, STOMP_CONNECT, { { "passcode", "a\\c" }, { NULL, NULL } }, NULL, 0,
      IN("CONNECT\npasscode:a\\c\n\n\0") },
    { __LINE__, STOMP_SEND, { { "content-length", "3" }, { NULL, NULL } }, BODY("abc"),
      IN("SEND\ncontent-length:3\n\nabc\0") },
    { __LINE__, STOMP_MESSAGE, { { NULL, NULL } }, BODY("a\0b"), IN("MESSAGE\ncontent-length:3\n\na\0b\0") },
    { __LINE__, STOMP_ERROR, { { "message", "forbidden" }, { "receipt-id", "r-1" }, { NULL, NULL } },
      BODY("not a member"),
      IN("ERROR\nmessage:forbidden\nreceipt-id:r-1\ncontent-length:12\n\nnot a member\0") },
    { __LINE__, STOMP_RECEIPT, { { "receipt-id", "" }, { NULL, NULL } }, NULL, 0, IN("RECEIPT\nreceipt-id:\n\n\0") },
};

static size_t wcase_nh(const struct wcase *c)
{
    size_t n = 0;
    while (c->h[n].name) n++;
    return n;
}

static void test_writer_exact(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(writes); i++) {
        const struct wcase *c = &writes[i];
        buf b;
        buf_init(&b, 16);
        buf_puts(&b, "x"); /* appends, does not overwrite */
        stomp_write(&b, c->cmd, c->h, wcase_nh(c), c->body, c->body_len);
        if (b.len != c->want_len + 1 || buf_data(&b)[0] != 'x' ||
            memcmp(buf_data(&b) + 1, c->want, c->want_len) != 0)
            fail_msg("row at line %d: wrote %zu bytes '%.*s', want %zu", c->line, b.len - 1,
                     (int)b.len - 1, buf_data(&b) + 1, c->want_len);
        buf_free(&b);
    }
}

/* Written frames parse back to what was written (plus the automatic content-length),
 * whole and byte by byte; this covers escaping in both directions. */
static void test_writer_roundtrip(void **state)
{
    static const struct wcase more[] = {
        { __LINE__, STOMP_SEND, { { "k\\:\r\n", "\\n\\c::\r\r\n\n\\" }, { ":", ":" }, { NULL, NULL } },
          BODY("\0\0x\0"), NULL, 0 },
        { __LINE__, STOMP_UNSUBSCRIBE, { { "id", "\xc3\xa9\xe2\x82\xac" }, { NULL, NULL } }, NULL, 0, NULL, 0 },
        { __LINE__, STOMP_NACK, { { "a", "1" }, { "a", "2" }, { "a", "3" }, { NULL, NULL } }, NULL, 0, NULL, 0 },
    };
    for (size_t k = 0; k < ARRAY_LEN(writes) + ARRAY_LEN(more); k++) {
        const struct wcase *c = k < ARRAY_LEN(writes) ? &writes[k] : &more[k - ARRAY_LEN(writes)];
        size_t nh = wcase_nh(c), auto_clen = 0;
        char clen[32];
        buf b;
        buf_init(&b, 0);
        stomp_write(&b, c->cmd, c->h, nh, c->body, c->body_len);
        snprintf(clen, sizeof(clen), "%zu", c->body_len);
        auto_clen = c->body_len > 0;
        for (size_t j = 0; j < nh; j++)
            if (strcmp(c->h[j].name, "content-length") == 0) auto_clen = 0;

        for (int bytewise = 0; bytewise <= 1; bytewise++) {
            stomp_parser p;
            stomp_frame f;
            chat_rc rc = CHAT_AGAIN;
            stomp_parser_init(&p, NULL);
            for (size_t pos = 0; pos < b.len && rc == CHAT_AGAIN; pos += bytewise ? 1 : b.len) {
                assert_int_equal(stomp_feed(&p, buf_data(&b) + pos, bytewise ? 1 : b.len), CHAT_OK);
                rc = stomp_next(&p, &f);
            }
            if (rc != CHAT_OK) fail_msg("row at line %d: parse back: %s (%s)", c->line,
                                        chat_rc_name(rc), p.err);
            if (f.cmd != c->cmd || f.nheaders != nh + auto_clen || f.body_len != c->body_len ||
                (c->body_len && memcmp(f.body, c->body, c->body_len) != 0))
                fail_msg("row at line %d: parsed back cmd %d, %zu headers, %zu body bytes",
                         c->line, f.cmd, f.nheaders, f.body_len);
            for (size_t j = 0; j < nh + auto_clen; j++) {
                const char *n = j < nh ? c->h[j].name : "content-length";
                const char *v = j < nh ? c->h[j].value : clen;
                const stomp_header *h = &f.headers[j];
                if (h->name_len != strlen(n) || memcmp(h->name, n, h->name_len) != 0 ||
                    h->value_len != strlen(v) || memcmp(h->value, v, h->value_len) != 0)
                    fail_msg("row at line %d: header %zu is '%.*s':'%.*s'", c->line, j,
                             (int)h->name_len, h->name, (int)h->value_len, h->value);
            }
            assert_int_equal(stomp_next(&p, &f), CHAT_AGAIN);
            stomp_parser_free(&p);
        }
        buf_free(&b);
    }
}

static void test_escape(void **state)
{
    static const struct { int line; const char *in, *want; } rows[] = {
        { __LINE__, "", "" },
        { __LINE__, "plain", "plain" },
        { __LINE__, "a\\b\nc\rd:e", "a\\\\b\\nc\\rd\\ce" },
        { __LINE__, "::", "\\c\\c" },
        { __LINE__, "\\n", "\\\\n" },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        buf b;
        buf_init(&b, 0);
        stomp_escape(&b, rows[i].in, strlen(rows[i].in));
        if (strcmp(buf_data(&b), rows[i].want) != 0)
            fail_msg("row at line %d: escaped to '%s', want '%s'", rows[i].line, buf_data(&b),
                     rows[i].want);
        buf_free(&b);
    }
}

/* STOMP 1.0 has no header escaping: once set, "\\" and "\\c" are plain bytes. */
static void test_raw_headers_v10(void **state)
{
    static const char in[] = "SEND\ndestination:/a\\b\\q\n\nx\0";
    stomp_parser p;
    stomp_frame f;
    size_t n;
    (void)state;
    stomp_parser_init(&p, NULL);
    assert_int_equal(stomp_feed(&p, in, sizeof in - 1), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_EMALFORMED); /* 1.2: \q is no escape */
    stomp_parser_free(&p);

    stomp_parser_init(&p, NULL);
    stomp_parser_set_raw_headers(&p, 1);
    assert_int_equal(stomp_feed(&p, in, sizeof in - 1), CHAT_OK);
    assert_int_equal(stomp_next(&p, &f), CHAT_OK);
    const char *v = stomp_header_get(&f, "destination", &n);
    assert_non_null(v);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "/a\\b\\q", 6);
    stomp_parser_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_frames),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_pending_limit),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_resume_position),
        cmocka_unit_test(test_default_frame_limit),
        cmocka_unit_test(test_header_get),
        cmocka_unit_test(test_cmd_names),
        cmocka_unit_test(test_init_and_free),
        cmocka_unit_test(test_writer_exact),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_raw_headers_v10),
    };
    return cmocka_run_group_tests_name("stomp", tests, NULL, NULL);
}
