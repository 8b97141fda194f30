/* fuzz_archiver_feed.c - libFuzzer target for the archiver's feed parsing
 * (archiver/feed.c): a feed entry's body (any bytes: whoever can write to Redis can
 * write to the feed) and stream ids.
 *
 * For each input: feed_parse must not crash or leak, and when it accepts, the row is
 * self-consistent: every string non-NULL, id/roomId/senderId/epoch non-empty, offset
 * >= 1, ts >= 0, body byte-for-byte the input; when it refuses, it says why.
 * stream_id_parse accepts exactly "digits" or "digits-digits" that fit 64 bits, and
 * what it accepts compares equal to itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_archiver_feed: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (size) memcpy(in, data, size);
    feed_entry e = {0};
    const char *why = NULL;
    if (feed_parse(&e, in, size, &why) == 0) {
        const archive_msg *m = &e.msg;
        CHECK(m->id && *m->id && m->room_id && *m->room_id && m->sender_id && *m->sender_id);
        CHECK(m->epoch && *m->epoch && m->text && m->body);
        CHECK(m->offset >= 1 && m->ts >= 0);
        CHECK(strlen(m->body) == size && memcmp(m->body, in, size) == 0);
    } else {
        CHECK(why && *why);
    }
    feed_entry_clear(&e);
    stream_id id;
    if (stream_id_parse(in, size, &id) == 0) {
        CHECK(size > 0);
        CHECK(stream_id_cmp(id, id) == 0);
        for (size_t i = 0; i < size; i++) CHECK((in[i] >= '0' && in[i] <= '9') || in[i] == '-');
    }
    free(in);
    return 0;
}
