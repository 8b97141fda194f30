/* test_relay_msg.c - unit tests for ws-relay/msg.c: chat MESSAGE bodies (JSON building
 * and escaping), the shared MESSAGE frame tail plus per-subscription prefix (parsed
 * back with the real STOMP parser), ERROR frames, and the one chat_rc -> ERROR slug
 * mapping with its "does this error close the session" rule.
 *
 * Table-driven where it makes sense; failures name the row's __LINE__.
 *
 * Deliberately not here: when the relay sends what (integration tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "msg.h"
#include "stomp.h"

/* ---- MESSAGE bodies --------------------------------------------------------------- */

struct body_row {
    int line;
    const char *sender; size_t sender_len;
    const char *text; size_t text_len;
    const char *want; /* exact JSON */
};

#define S(x) x, sizeof(x) - 1
static const struct body_row body_rows[] = {
    {__LINE__, S("Alice"), S("hello"),
     "{\"type\":\"CHAT\",\"id\":\"r1-7\",\"roomId\":\"room_1\",\"senderId\":\"u-1\",\"sender\":\"Alice\","
     "\"message\":\"hello\",\"ts\":1700000000123}"},
    /* quotes, backslashes, newlines, tabs, other controls */
    {__LINE__, S("A \"q\" \\ b"), S("line1\nline2\t\x01\x7f"),
     "{\"type\":\"CHAT\",\"id\":\"r1-7\",\"roomId\":\"room_1\",\"senderId\":\"u-1\",\"sender\":\"A \\\"q\\\" \\\\ b\","
     "\"message\":\"line1\\nline2\\t\\u0001\\u007f\",\"ts\":1700000000123}"},
    /* UTF-8 passes through untouched, '/' is not escaped */
    {__LINE__, S("Zoë"), S("héllo 😀 </script>"),
     "{\"type\":\"CHAT\",\"id\":\"r1-7\",\"roomId\":\"room_1\",\"senderId\":\"u-1\",\"sender\":\"Zoë\","
     "\"message\":\"héllo 😀 </script>\",\"ts\":1700000000123}"},
    /* an embedded NUL byte cannot end the string early */
    {__LINE__, S("N"), "a\0b", 3,
     "{\"type\":\"CHAT\",\"id\":\"r1-7\",\"roomId\":\"room_1\",\"senderId\":\"u-1\",\"sender\":\"N\","
     "\"message\":\"a\\u0000b\",\"ts\":1700000000123}"},
};

static void test_body_exact(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof body_rows / sizeof body_rows[0]; i++) {
        const struct body_row *r = &body_rows[i];
        buf b;
        buf_init(&b, 0);
        msg_fields f = {.type = "CHAT", .id = "r1-7", .room_id = "room_1", .sender_id = "u-1",
                        .sender = r->sender, .sender_len = r->sender_len,
                        .text = r->text, .text_len = r->text_len, .ts = 1700000000123};
        msg_body(&b, &f);
        int same = b.len == strlen(r->want) && memcmp(buf_data(&b), r->want, b.len) == 0;
        char got[512];
        snprintf(got, sizeof got, "%s", buf_data(&b));
        buf_free(&b);
        if (!same) fail_msg("line %d: got %s\nwant %s", r->line, got, r->want);
    }
}

/* A FILE body carries the File document verbatim after "ts"; the offset the send
 * script appends later is still the last one msg_body_offset() finds, even when the
 * file's name spells ,"offset":. */
static void test_body_file(void **state)
{
    (void)state;
    const char *file = "{\"id\":\"f1\",\"name\":\"x,\\\"offset\\\":9.txt\",\"size\":3}";
    buf b;
    buf_init(&b, 0);
    msg_fields f = {.type = "FILE", .id = "r1-8", .room_id = "room_1", .sender_id = "u-1", .sender = "A", .sender_len = 1,
                    .text = "", .text_len = 0, .ts = 5, .file = file, .file_len = strlen(file)};
    msg_body(&b, &f);
    char want[512];
    snprintf(want, sizeof want, "{\"type\":\"FILE\",\"id\":\"r1-8\",\"roomId\":\"room_1\",\"senderId\":\"u-1\","
             "\"sender\":\"A\",\"message\":\"\",\"ts\":5,\"file\":%s}", file);
    assert_string_equal(buf_data(&b), want);
    assert_int_equal(msg_body_offset(buf_data(&b), b.len), 0);
    b.len--; /* what script_send does: drop the '}' and append offset and epoch */
    buf_puts(&b, ",\"offset\":12,\"epoch\":\"e\"}");
    assert_int_equal(msg_body_offset(buf_data(&b), b.len), 12);
    chat_rc rc;
    json_object *o = json_parse_object(buf_data(&b), b.len, &rc);
    assert_non_null(o);
    json_object *fo;
    assert_true(json_object_object_get_ex(o, "file", &fo));
    assert_string_equal(json_object_get_string(json_object_object_get(fo, "name")), "x,\"offset\":9.txt");
    json_object_put(o);
    buf_free(&b);
}

/* Whatever goes in comes back out of a real JSON parser unchanged. */
static void test_body_roundtrip(void **state)
{
    (void)state;
    const char *texts[] = {"plain", "\"\\\n\r\t\b\f", "ünïcödé ✓", "{\"json\":[1,2]}", " "};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        buf b;
        buf_init(&b, 0);
        msg_fields f = {.type = "JOIN", .id = "x-1", .room_id = "r", .sender_id = "u",
                        .sender = texts[i], .sender_len = strlen(texts[i]),
                        .text = texts[i], .text_len = strlen(texts[i]), .ts = -5};
        msg_body(&b, &f);
        chat_rc rc;
        json_object *o = json_parse_object(buf_data(&b), b.len, &rc);
        if (!o) fail_msg("text %zu: not JSON: %s", i, buf_data(&b));
        size_t len;
        const char *m = json_get_str(o, "message", &len);
        assert_non_null(m);
        assert_int_equal(len, strlen(texts[i]));
        assert_memory_equal(m, texts[i], len);
        assert_string_equal(json_get_str(o, "type", NULL), "JOIN");
        assert_string_equal(json_get_str(o, "sender", NULL), texts[i]);
        json_object *ts;
        assert_true(json_object_object_get_ex(o, "ts", &ts));
        assert_int_equal(json_object_get_int64(ts), -5);
        json_object_put(o);
        buf_free(&b);
    }
}

/* ---- shared MESSAGE frames ----------------------------------------------------------- */

/* prefix + shared tail is one well-formed MESSAGE frame with the right headers. */
static void test_message_frame(void **state)
{
    (void)state;
    const char body[] = "{\"type\":\"CHAT\",\"message\":\"a\\u0000b\"}";
    msg_shared *m = msg_shared_new("room_1", 6, "rel-42", body, sizeof body - 1);
    assert_int_equal(m->refs, 1);
    assert_ptr_equal(msg_shared_ref(m), m);
    assert_int_equal(m->refs, 2);
    msg_shared_unref(m);

    const char *ids[] = {"sub-0", "we:ird\\id\nx"};
    for (size_t i = 0; i < 2; i++) {
        buf f;
        buf_init(&f, 0);
        msg_sub_prefix(&f, ids[i], strlen(ids[i]));
        buf_append(&f, m->data, m->len);

        stomp_parser p;
        stomp_frame fr;
        stomp_parser_init(&p, NULL);
        assert_int_equal(stomp_feed(&p, buf_data(&f), f.len), CHAT_OK);
        assert_int_equal(stomp_next(&p, &fr), CHAT_OK);
        assert_int_equal(fr.cmd, STOMP_MESSAGE);
        size_t len;
        const char *v = stomp_header_get(&fr, "subscription", &len);
        assert_non_null(v);
        assert_int_equal(len, strlen(ids[i])); /* escaped on the wire, unescaped back */
        assert_memory_equal(v, ids[i], len);
        assert_string_equal(stomp_header_get(&fr, "destination", NULL) ? "ok" : "missing", "ok");
        v = stomp_header_get(&fr, "destination", &len);
        assert_int_equal(len, strlen("/topic/room/room_1"));
        assert_memory_equal(v, "/topic/room/room_1", len);
        v = stomp_header_get(&fr, "message-id", &len);
        assert_memory_equal(v, "rel-42", len);
        v = stomp_header_get(&fr, "content-type", &len);
        assert_memory_equal(v, "application/json", len);
        assert_int_equal(fr.body_len, sizeof body - 1);
        assert_memory_equal(fr.body, body, fr.body_len);
        assert_int_equal(stomp_next(&p, &fr), CHAT_AGAIN); /* exactly one frame */
        stomp_parser_free(&p);
        buf_free(&f);
    }
    msg_shared_unref(m);
    msg_shared_unref(NULL);
}

/* ---- ids ------------------------------------------------------------------------------- */

static void test_ids(void **state)
{
    (void)state;
    char a[MSG_ID_MAX], b[MSG_ID_MAX];
    msg_ids_init("AbC123xy");
    msg_next_id(a);
    msg_next_id(b);
    assert_string_equal(a, "AbC123xy-1");
    assert_string_equal(b, "AbC123xy-2");
}

/* ---- ERROR frames and the slug mapping -------------------------------------------------- */

struct slug_row {
    int line;
    chat_rc rc;
    const char *slug;
    bool closes;
};

static const struct slug_row slug_rows[] = {
    {__LINE__, CHAT_EUNAUTH, "unauthorized", true},
    {__LINE__, CHAT_EFORBIDDEN, "forbidden", true},
    {__LINE__, CHAT_ENOTFOUND, "not-found", true},
    {__LINE__, CHAT_EINVALID, "invalid", true},
    {__LINE__, CHAT_EMEDIA, "invalid", true},
    {__LINE__, CHAT_ETOOLARGE, "too-large", true},
    {__LINE__, CHAT_ERATE, "rate-limited", false},
    {__LINE__, CHAT_EUNAVAIL, "unavailable", false},
    {__LINE__, CHAT_EINTERNAL, "unavailable", true},
    {__LINE__, CHAT_EPROTOCOL, "protocol", true},
    {__LINE__, CHAT_EMALFORMED, "protocol", true},
    {__LINE__, CHAT_EMETHOD, "protocol", true},
    {__LINE__, CHAT_ECONFLICT, "protocol", true},
    {__LINE__, CHAT_AGAIN, "protocol", true},
    {__LINE__, (chat_rc)999, "protocol", true},
};

static void test_slugs(void **state)
{
    (void)state;
    static const char *contract[] = {"unauthorized", "forbidden", "not-found", "invalid",
                                     "too-large", "rate-limited", "unavailable", "protocol"};
    for (size_t i = 0; i < sizeof slug_rows / sizeof slug_rows[0]; i++) {
        const struct slug_row *r = &slug_rows[i];
        const char *got = msg_error_slug(r->rc);
        if (strcmp(got, r->slug) != 0) fail_msg("line %d: slug %s, want %s", r->line, got, r->slug);
        if (msg_error_closes(r->rc) != r->closes) fail_msg("line %d: closes %d", r->line, !r->closes);
    }
    /* every code maps to a slug from the contract's list */
    for (int rc = CHAT_OK; rc <= CHAT_EINTERNAL; rc++) {
        const char *s = msg_error_slug((chat_rc)rc);
        size_t k = 0;
        while (k < 8 && strcmp(contract[k], s) != 0) k++;
        if (k == 8) fail_msg("rc %d maps to %s, not a contract slug", rc, s);
    }
}

static void test_error_frame(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    msg_error_frame(&b, CHAT_EFORBIDDEN, "rcpt:7\nx", 8, "not a member of this room");
    const char want[] = "ERROR\nmessage:forbidden\nreceipt-id:rcpt\\c7\\nx\ncontent-type:text/plain\n"
                        "content-length:25\n\nnot a member of this room";
    assert_int_equal(b.len, sizeof want); /* the frame's NUL counts */
    assert_memory_equal(buf_data(&b), want, sizeof want);
    buf_reset(&b);
    msg_error_frame(&b, CHAT_ERATE, NULL, 0, "slow down");
    const char want2[] = "ERROR\nmessage:rate-limited\ncontent-type:text/plain\ncontent-length:9\n\nslow down";
    assert_int_equal(b.len, sizeof want2);
    assert_memory_equal(buf_data(&b), want2, sizeof want2);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_exact),
        cmocka_unit_test(test_body_roundtrip),
        cmocka_unit_test(test_body_file),
        cmocka_unit_test(test_message_frame),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_error_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
