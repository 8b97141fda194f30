/* test_common.c - the small common/ modules: buf, keys, token, json, cfg, redis URL
 * parsing, result names. Table-driven where there is a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "json.h"
#include "keys.h"
#include "redis.h"
#include "token.h"

static void test_buf(void **state)
{
    buf b;
    buf_init(&b, 16);
    assert_string_equal(buf_data(&b), "");
    for (int i = 0; i < 1000; i++) buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    assert_int_equal(buf_data(&b)[1999], ',');
    assert_int_equal(buf_data(&b)[2000], '\0');
    assert_ptr_equal(buf_data(&b), b.mem + 16);
    buf_consume(&b, 1990);
    assert_string_equal(buf_data(&b), "5,6,7,8,9,");
    buf_append(&b, "\0x", 2);
    assert_int_equal(b.len, 12);
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    buf_free(&b); /* idempotent */
}

static void test_keys(void **state)
{
    char k[KEYS_MAX];
    keys_init("t:");
    /* Each row formats into its own buffer, then is compared with the spelling. */
    static char b[12][KEYS_MAX];
    const struct { int line; size_t n; const char *got, *want; } rows[] = {
        {__LINE__, keys_user(b[0], KEYS_MAX, "U1"), b[0], "t:user:U1"},
        {__LINE__, keys_user_email(b[1], KEYS_MAX, "a@b.co"), b[1], "t:user-email:a@b.co"},
        {__LINE__, keys_session(b[2], KEYS_MAX, "ab12"), b[2], "t:session:ab12"},
        {__LINE__, keys_room(b[3], KEYS_MAX, "R1"), b[3], "t:room:R1"},
        {__LINE__, keys_rooms(b[4], KEYS_MAX), b[4], "t:rooms"},
        {__LINE__, keys_room_members(b[5], KEYS_MAX, "R1"), b[5], "t:room:R1:members"},
        {__LINE__, keys_user_rooms(b[6], KEYS_MAX, "U1"), b[6], "t:user:U1:rooms"},
        {__LINE__, keys_room_online(b[7], KEYS_MAX, "R1"), b[7], "t:room:R1:online"},
        {__LINE__, keys_chan_room(b[8], KEYS_MAX, "R1"), b[8], "t:room:R1"},
        {__LINE__, keys_chan_revoked(b[9], KEYS_MAX), b[9], "t:revoked"},
        {__LINE__, keys_chan_left(b[10], KEYS_MAX), b[10], "t:left"},
        {__LINE__, keys_rooms_version(b[11], KEYS_MAX), b[11], "t:rooms-version"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].n != strlen(rows[i].want) || strcmp(rows[i].got, rows[i].want))
            fail_msg("row at line %d: got '%s' (%zu)", rows[i].line, rows[i].got, rows[i].n);
    assert_int_equal(keys_user(k, 5, "U1"), 0); /* does not fit */
    const char *id;
    size_t idn = keys_chan_room_id("t:room:R42", 10, &id);
    assert_int_equal(idn, 3);
    assert_memory_equal(id, "R42", 3);
    assert_int_equal(keys_chan_room_id("x:room:R42", 10, &id), 0);
    assert_int_equal(keys_chan_room_id("t:room:", 7, &id), 0);
    assert_int_equal(keys_chan_room_id("t:revoked", 9, &id), 0);
    keys_init(NULL);
    assert_string_equal(keys_prefix(), "chat:");
}

static void test_token(void **state)
{
    assert_int_equal(token_init(), 0);
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
    token_new(a);
    token_new(b);
    assert_int_equal(strlen(a), TOKEN_LEN);
    assert_true(token_wellformed(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_false(token_wellformed(a, TOKEN_LEN - 1));
    a[5] = '/';
    assert_false(token_wellformed(a, TOKEN_LEN));
    char h[TOKEN_HASH_LEN + 1];
    token_hash("abc", 3, h); /* SHA-256("abc") */
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char id[17];
    token_id(id, 16);
    assert_int_equal(strlen(id), 16);
    assert_true(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 16);
}

static void test_json(void **state)
{
    const struct { int line; const char *s; chat_rc rc; } rows[] = {
        {__LINE__, "{\"a\":\"b\"}", CHAT_OK},
        {__LINE__, " {\"a\":1} \n", CHAT_OK},
        {__LINE__, "[1]", CHAT_EINVALID},
        {__LINE__, "\"str\"", CHAT_EINVALID},
        {__LINE__, "{\"a\":", CHAT_EMALFORMED},
        {__LINE__, "{\"a\":1} x", CHAT_EMALFORMED},
        {__LINE__, "{\"a\":1}{}", CHAT_EMALFORMED},
        {__LINE__, "", CHAT_EMALFORMED},
        {__LINE__, "{'a':1}", CHAT_EMALFORMED},
        {__LINE__, "{\"a\":\"\xff\"}", CHAT_EMALFORMED},
        {__LINE__, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", CHAT_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        chat_rc rc;
        json_object *o = json_parse_object(rows[i].s, strlen(rows[i].s), &rc);
        if (rc != rows[i].rc) fail_msg("row at line %d: rc %d", rows[i].line, rc);
        if ((o != NULL) != (rc == CHAT_OK)) fail_msg("row at line %d: object/rc mismatch", rows[i].line);
        json_object_put(o);
    }
    chat_rc rc;
    json_object *o = json_parse_object("{\"a\":\"x\\u0000y\",\"n\":1}", 22, &rc);
    assert_non_null(o);
    size_t n;
    const char *s = json_get_str(o, "a", &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "x\0y", 3);
    assert_null(json_get_str(o, "n", NULL));
    assert_null(json_get_str(o, "missing", NULL));
    json_object_put(o);
    assert_int_equal(json_parse_object("{}\0{}", 5, &rc), NULL);

    char out[64];
    size_t m = json_escape(out, sizeof out, "a\"b\\c\n\x01/", 8);
    assert_string_equal(out, "a\\\"b\\\\c\\n\\u0001/");
    assert_int_equal(m, strlen(out));
    assert_int_equal(json_escape(out, 2, "\"\"", 2), 4); /* length needed, even when cut */
}

static void test_cfg(void **state)
{
    char path[] = "/tmp/test_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\n\nFOO_PORT = 1234\nNAME = \"quoted value\"\nEMPTY =\nBAD_INT = 12x\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[256] = "";
    assert_int_equal(cfg_load(path, 1, err, sizeof err), 0);
    assert_int_equal(cfg_int("FOO_PORT", 1, 1, 65535), 1234);
    assert_int_equal(cfg_int("FOO_PORT", 7, 1, 100), 7); /* out of range -> default */
    assert_int_equal(cfg_int("BAD_INT", 5, 0, 100), 5);
    assert_string_equal(cfg_str("NAME", NULL), "quoted value");
    assert_string_equal(cfg_str("EMPTY", "d"), "");
    assert_string_equal(cfg_str("MISSING", "d"), "d");
    setenv("FOO_PORT", "4321", 1);
    assert_int_equal(cfg_int("FOO_PORT", 1, 1, 65535), 4321); /* env wins */
    unsetenv("FOO_PORT");
    cfg_reset();
    assert_null(cfg_str("NAME", NULL));
    assert_int_equal(cfg_load("/nonexistent/chat.conf", 0, err, sizeof err), 0);
    assert_int_equal(cfg_load("/nonexistent/chat.conf", 1, err, sizeof err), -1);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "no equals sign\n", 15), 15);
    close(fd);
    assert_int_equal(cfg_load(path, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1:"));
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "lower = 1\n", 10), 10);
    close(fd);
    assert_int_equal(cfg_load(path, 1, err, sizeof err), -1);
    unlink(path);
    cfg_reset();
}

static void test_redis_url(void **state)
{
    const struct { int line; const char *url; int ok; const char *host; int port, db, is_unix; const char *pw, *user; } rows[] = {
        {__LINE__, "redis://127.0.0.1:6379/0", 1, "127.0.0.1", 6379, 0, 0, "", ""},
        {__LINE__, "redis://localhost", 1, "localhost", 6379, 0, 0, "", ""},
        {__LINE__, "redis://h:7000/3", 1, "h", 7000, 3, 0, "", ""},
        {__LINE__, "redis://:secret@h:7000", 1, "h", 7000, 0, 0, "secret", ""},
        {__LINE__, "redis://secret@h:7000", 1, "h", 7000, 0, 0, "secret", ""},
        {__LINE__, "redis://user:pw@h/2", 1, "h", 6379, 2, 0, "pw", "user"},
        {__LINE__, "redis://chat%40app:p%3Aw%40rd@h/1", 1, "h", 6379, 1, 0, "p:w@rd", "chat@app"},
        {__LINE__, "redis://u:p@ss@h", 1, "h", 6379, 0, 0, "p@ss", "u"}, /* the last @ ends the password */
        {__LINE__, "redis://user:@h", 0, NULL, 0, 0, 0, NULL, NULL},     /* a user needs a password */
        {__LINE__, "redis://u:p%zz@h", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://u:p%4@h", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://u:p%00@h", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "unix:///tmp/r.sock", 1, "/tmp/r.sock", 6379, 0, 1, "", ""},
        {__LINE__, "unix:///tmp/r.sock?db=4", 1, "/tmp/r.sock", 6379, 4, 1, "", ""},
        {__LINE__, "http://h", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://h:0", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://h:99999", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://h:12x", 0, NULL, 0, 0, 0, NULL, NULL},
        {__LINE__, "redis://h/x", 0, NULL, 0, 0, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        redis_url u;
        int rc = redis_url_parse(rows[i].url, &u);
        if ((rc == 0) != rows[i].ok) fail_msg("row at line %d: rc %d", rows[i].line, rc);
        if (!rows[i].ok) continue;
        if (strcmp(u.host, rows[i].host) || u.port != rows[i].port || u.db != rows[i].db ||
            u.is_unix != rows[i].is_unix || strcmp(u.password, rows[i].pw) || strcmp(u.user, rows[i].user))
            fail_msg("row at line %d: host=%s port=%d db=%d unix=%d pw=%s user=%s", rows[i].line, u.host,
                     u.port, u.db, u.is_unix, u.password, u.user);
    }
}

static void test_rconn_down(void **state)
{
    /* Nothing listens on port 1: commands fail fast with NULL instead of hanging. */
    redis_url u;
    assert_int_equal(redis_url_parse("redis://127.0.0.1:1/0", &u), 0);
    rconn *c = rconn_new(&u, 200);
    assert_null(rconn_cmd(c, "PING"));
    assert_null(rconn_cmd(c, "PING")); /* fail-fast window */
    rconn_free(c);
    rconn_free(NULL);
}

static void test_result_names(void **state)
{
    assert_string_equal(chat_rc_name(CHAT_OK), "ok");
    assert_string_equal(chat_rc_name(CHAT_EUNAVAIL), "unavailable");
    assert_string_equal(chat_rc_name(CHAT_ETOOLARGE), "too-large");
    assert_string_equal(chat_rc_name((chat_rc)999), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf), cmocka_unit_test(test_keys), cmocka_unit_test(test_token),
        cmocka_unit_test(test_json), cmocka_unit_test(test_cfg), cmocka_unit_test(test_redis_url),
        cmocka_unit_test(test_rconn_down), cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
