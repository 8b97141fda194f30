/* fuzz_stomp.c - libFuzzer target for the STOMP parser and writer (ws-relay/stomp.c).
 *
 * Each input is parsed three ways: fed whole, fed in pseudo-random chunks (sizes
 * derived from a hash of the input), and byte by byte (inputs up to 1 KiB). The three
 * must produce identical frames, the same final result and the same error text: the
 * parser promises that splits do not matter. Every frame must respect the limits, and
 * every frame with a known command is written back with stomp_write() and re-parsed,
 * which must give the same frame (plus the automatic content-length). The limits are
 * the defaults or small ones, chosen by the hash, so the limit paths get exercised.
 *
 * Deliberately not here: the relay, sessions, SockJS (fuzz_sockjs.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "stomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* STOMP 1.0 mode (no header escaping) for this input; the same for every split. */
static int raw_headers;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_stomp: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

static void put_bytes(buf *b, const void *p, size_t n)
{
    buf_append(b, &n, sizeof(n));
    buf_append(b, p, n);
}

/* Invariants of one returned frame under limits lim. */
static void check_frame(const stomp_frame *f, const stomp_limits *lim)
{
    CHECK(f->cmd > STOMP_CMD_NONE && f->cmd <= STOMP_CMD_UNKNOWN);
    CHECK(f->command_len > 0 && f->command_len <= lim->max_header_line);
    CHECK(f->nheaders <= lim->max_headers);
    CHECK(f->body_len <= lim->max_frame);
    size_t clen_len;
    const char *clen = stomp_header_get(f, "content-length", &clen_len);
    if (!clen) CHECK(memchr(f->body, '\0', f->body_len) == NULL);
    for (size_t i = 0; i < f->nheaders; i++) {
        const stomp_header *h = &f->headers[i];
        CHECK(h->name_len > 0);
        CHECK(!memchr(h->name, '\0', h->name_len) && !memchr(h->value, '\0', h->value_len));
        if (!clen && h->name_len == 14) CHECK(memcmp(h->name, "content-length", 14) != 0);
    }
}

/* Serialize a frame canonically into b, for comparing runs. */
static void serialize(buf *b, const stomp_frame *f)
{
    buf_append(b, &f->cmd, sizeof(f->cmd));
    put_bytes(b, f->command, f->command_len);
    buf_append(b, &f->nheaders, sizeof(f->nheaders));
    for (size_t i = 0; i < f->nheaders; i++) {
        put_bytes(b, f->headers[i].name, f->headers[i].name_len);
        put_bytes(b, f->headers[i].value, f->headers[i].value_len);
    }
    put_bytes(b, f->body, f->body_len);
}

/* Write f back with stomp_write(), parse the result with roomy limits, and require the
 * same frame, with a content-length appended when the writer had to add one. */
static void roundtrip(const stomp_frame *f)
{
    static const stomp_limits roomy = { 1 << 20, 1 << 20, 1 << 24, 1 << 26 };
    stomp_kv *kv = calloc(f->nheaders + 1, sizeof(*kv));
    char **copies = calloc(2 * f->nheaders + 1, sizeof(*copies));
    int have_clen = 0;
    CHECK(kv && copies);
    for (size_t i = 0; i < f->nheaders; i++) {
        copies[2 * i] = strndup(f->headers[i].name, f->headers[i].name_len);
        copies[2 * i + 1] = strndup(f->headers[i].value, f->headers[i].value_len);
        kv[i].name = copies[2 * i];
        kv[i].value = copies[2 * i + 1];
        if (strcmp(kv[i].name, "content-length") == 0) have_clen = 1;
    }
    buf w, want, got;
    buf_init(&w, 0);
    buf_init(&want, 0);
    buf_init(&got, 0);
    stomp_write(&w, f->cmd, kv, f->nheaders, f->body, f->body_len);

    stomp_frame g;
    stomp_parser p;
    stomp_parser_init(&p, &roomy);
    CHECK(stomp_feed(&p, buf_data(&w), w.len) == CHAT_OK);
    chat_rc rc = stomp_next(&p, &g);
    if (rc != CHAT_OK) fprintf(stderr, "re-parse: %s\n", p.err);
    CHECK(rc == CHAT_OK);

    /* expected: f itself, plus "content-length:<body_len>" if the writer added it */
    serialize(&want, f);
    if (f->body_len && !have_clen) {
        char n[32];
        int nl = snprintf(n, sizeof(n), "%zu", f->body_len);
        stomp_header extra[64 + 1];
        stomp_frame e = *f;
        CHECK(f->nheaders < 64);
        if (f->nheaders) memcpy(extra, f->headers, f->nheaders * sizeof(*extra));
        extra[f->nheaders] = (stomp_header){ "content-length", 14, n, (size_t)nl };
        e.headers = extra;
        e.nheaders = f->nheaders + 1;
        buf_reset(&want);
        serialize(&want, &e);
    }
    serialize(&got, &g);
    CHECK(got.len == want.len && memcmp(buf_data(&got), buf_data(&want), got.len) == 0);
    CHECK(stomp_next(&p, &g) == CHAT_AGAIN);

    stomp_parser_free(&p);
    buf_free(&w);
    buf_free(&want);
    buf_free(&got);
    for (size_t i = 0; i < 2 * f->nheaders; i++) free(copies[i]);
    free(copies);
    free(kv);
}

/* Parse data fed in chunks (chunk sizes from *seed; 0 = whole, SIZE_MAX = byte by
 * byte) and serialize everything observable into out. Round-trips frames if asked. */
static void parse(const uint8_t *data, size_t size, const stomp_limits *lim, uint64_t seed,
                  int do_roundtrip, buf *out)
{
    stomp_parser p;
    stomp_frame f;
    chat_rc rc = CHAT_AGAIN;
    size_t pos = 0;

    stomp_parser_init(&p, lim);
    stomp_parser_set_raw_headers(&p, raw_headers);
    while (pos < size && rc == CHAT_AGAIN) {
        size_t n = size - pos;
        if (seed == UINT64_MAX) {
            n = 1;
        } else if (seed) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t want = 1 + (size_t)(seed >> 33) % ((seed >> 61) ? 16 : 300);
            if (want < n) n = want;
        }
        CHECK(stomp_feed(&p, (const char *)data + pos, n) == CHAT_OK);
        pos += n;
        while ((rc = stomp_next(&p, &f)) == CHAT_OK) {
            check_frame(&f, &p.lim);
            serialize(out, &f);
            if (do_roundtrip && f.cmd != STOMP_CMD_UNKNOWN) roundtrip(&f);
        }
    }
    CHECK(rc == CHAT_AGAIN || rc == CHAT_EMALFORMED || rc == CHAT_ETOOLARGE);
    if (rc != CHAT_AGAIN) {
        CHECK(p.err[0] != '\0');
        CHECK(stomp_next(&p, &f) == rc); /* sticky */
        CHECK(stomp_feed(&p, "\n", 1) == rc);
    }
    buf_append(out, &rc, sizeof(rc));
    buf_append(out, &p.heartbeats, sizeof(p.heartbeats));
    if (rc != CHAT_AGAIN) buf_puts(out, p.err);
    stomp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fnv1a(data, size) | 1;
    raw_headers = (int)((h >> 24) & 1); /* one input in two as a STOMP 1.0 session */
    stomp_limits lim = STOMP_LIMITS_DEFAULT;
    if (h & 3) {
        lim.max_headers = 1 + (h >> 2) % 8;
        lim.max_header_line = 4 + (h >> 5) % 64;
        lim.max_frame = 8 + (h >> 11) % 512;
    }
    lim.max_pending = (size_t)1 << 30; /* the pending limit depends on splits by design */

    buf whole, split, bytes;
    buf_init(&whole, 0);
    buf_init(&split, 0);
    buf_init(&bytes, 0);
    parse(data, size, &lim, 0, 1, &whole);
    parse(data, size, &lim, h, 0, &split);
    CHECK(whole.len == split.len && memcmp(buf_data(&whole), buf_data(&split), whole.len) == 0);
    if (size <= 1024) {
        parse(data, size, &lim, UINT64_MAX, 0, &bytes);
        CHECK(whole.len == bytes.len && memcmp(buf_data(&whole), buf_data(&bytes), whole.len) == 0);
    }
    buf_free(&whole);
    buf_free(&split);
    buf_free(&bytes);
    return 0;
}
