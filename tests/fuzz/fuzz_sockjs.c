/* fuzz_sockjs.c - libFuzzer target for the SockJS framing codec (ws-relay/sockjs_frame.c).
 *
 * For each input:
 *  - decode it as a client body. On failure no callback may have happened; on success
 *    every string must be valid UTF-8 (checked by an independent validator here), the
 *    size limit must sit exactly at the decoded total, and encoding the strings with
 *    sockjs_frame_messages() and decoding that again must give them back unchanged;
 *  - encode the raw input as one message: the output must be valid UTF-8 with none of
 *    the escaped code points left raw, and decode back to the input when the input was
 *    valid UTF-8.
 *
 * Deliberately not here: transports, sessions, STOMP (fuzz_stomp.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sockjs_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_sockjs: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* Strings seen by a decode: length-prefixed into b. */
struct seen {
    buf b;
    size_t calls, total;
};

static void collect(void *ud, const char *msg, size_t len)
{
    struct seen *s = ud;
    CHECK(msg[len] == '\0');
    buf_append(&s->b, &len, sizeof(len));
    buf_append(&s->b, msg, len);
    s->calls++;
    s->total += len;
}

static void count_call(void *ud, const char *msg, size_t len)
{
    (*(size_t *)ud)++;
}

/* Independent UTF-8 check (RFC 3629 table). Calls visit(cp) for each scalar value
 * when visit is not NULL. Returns 1 when s[0..n) is valid. */
static int utf8_valid(const uint8_t *s, size_t n, void (*visit)(uint32_t))
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        size_t k;
        if (c < 0x80) k = 1;
        else if (c >= 0xC2 && c <= 0xDF) k = 2, c &= 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) k = 3, c &= 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) k = 4, c &= 0x07;
        else return 0;
        if (n - i < k) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
            (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        if (visit) visit(c);
        i += k;
    }
    return 1;
}

/* Raw in encoder output: nothing sockjs-node would have escaped. */
static void not_escapable(uint32_t c)
{
    CHECK(!(c <= 0x1F || (c >= 0x7F && c <= 0x9F) || c == 0xAD || (c >= 0x600 && c <= 0x604) ||
            c == 0x70F || c == 0x17B4 || c == 0x17B5 || (c >= 0x200C && c <= 0x200F) ||
            (c >= 0x2028 && c <= 0x202F) || (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF ||
            c >= 0xFFF0 && c <= 0xFFFF));
}

static void check_decode(const uint8_t *data, size_t size)
{
    struct seen s = { .calls = 0 };
    buf_init(&s.b, 0);
    chat_rc rc = sockjs_decode((const char *)data, size, SIZE_MAX, collect, &s);
    CHECK(rc == CHAT_OK || rc == CHAT_EMALFORMED);
    if (rc != CHAT_OK) {
        CHECK(s.calls == 0);
        buf_free(&s.b);
        return;
    }

    /* the limit sits exactly at the decoded total */
    size_t dummy = 0;
    struct seen s2 = { .calls = 0 };
    buf_init(&s2.b, 0);
    CHECK(sockjs_decode((const char *)data, size, s.total, collect, &s2) == CHAT_OK);
    if (s.total > 0) {
        CHECK(sockjs_decode((const char *)data, size, s.total - 1, count_call, &dummy) ==
              CHAT_ETOOLARGE);
    }
    CHECK(dummy == 0);

    /* every string is UTF-8; re-encode them all and decode again */
    const char **msgs = calloc(s.calls + 1, sizeof(*msgs));
    size_t *lens = calloc(s.calls + 1, sizeof(*lens));
    CHECK(msgs && lens);
    const char *p = buf_data(&s.b);
    for (size_t i = 0; i < s.calls; i++) {
        memcpy(&lens[i], p, sizeof(size_t));
        msgs[i] = p + sizeof(size_t);
        CHECK(utf8_valid((const uint8_t *)msgs[i], lens[i], NULL));
        p = msgs[i] + lens[i];
    }
    buf enc;
    buf_init(&enc, 0);
    sockjs_frame_messages(&enc, msgs, lens, s.calls);
    CHECK(buf_data(&enc)[0] == 'a');
    CHECK(utf8_valid((const uint8_t *)buf_data(&enc), enc.len, not_escapable));
    struct seen s3 = { .calls = 0 };
    buf_init(&s3.b, 0);
    CHECK(sockjs_decode(buf_data(&enc) + 1, enc.len - 1, SIZE_MAX, collect, &s3) == CHAT_OK);
    CHECK(s3.b.len == s.b.len && memcmp(buf_data(&s3.b), buf_data(&s.b), s.b.len) == 0);

    free(msgs);
    free(lens);
    buf_free(&enc);
    buf_free(&s.b);
    buf_free(&s2.b);
    buf_free(&s3.b);
}

static void check_encode(const uint8_t *data, size_t size)
{
    buf enc;
    buf_init(&enc, 0);
    buf_putc(&enc, '[');
    sockjs_quote(&enc, (const char *)data, size);
    buf_putc(&enc, ']');
    CHECK(utf8_valid((const uint8_t *)buf_data(&enc), enc.len, not_escapable));

    struct seen s = { .calls = 0 };
    buf_init(&s.b, 0);
    CHECK(sockjs_decode(buf_data(&enc), enc.len, SIZE_MAX, collect, &s) == CHAT_OK);
    CHECK(s.calls == 1);
    if (utf8_valid(data, size, NULL)) {
        CHECK(s.total == size);
        CHECK(memcmp(buf_data(&s.b) + sizeof(size_t), data, size) == 0);
    }
    buf_free(&s.b);
    buf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_encode(data, size);
    return 0;
}
