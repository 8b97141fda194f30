/* test_sockjs_path.c - unit tests for ws-relay/sockjs_path.c.
 *
 * Table-driven (each row carries its __LINE__): every route, every transport name,
 * the id rules (length bounds, forbidden bytes, empty segments), paths that belong to
 * someone else, and that the pointers returned point into the input. Also every
 * prefix of each valid transport path, which must never classify as a transport.
 *
 * Deliberately not here: HTTP handling (tests/node/sockjs_protocol.test.mjs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sockjs_path.h"
#include "util.h"

#define IN(s) s, sizeof(s) - 1

static const struct {
    int line;
    const char *path;
    size_t len;
    enum sockjs_route route;
    enum sockjs_transport t;
    const char *server, *session; /* expected when route is TRANSPORT */
} rows[] = {
    {__LINE__, IN("/ws"), SOCKJS_GREETING, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/"), SOCKJS_GREETING, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/info"), SOCKJS_INFO, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/info/"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/infox"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/websocket"), SOCKJS_RAW_WS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/iframe.html"), SOCKJS_IFRAME, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/iframe-1.1.0.html"), SOCKJS_IFRAME, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/iframe-.html"), SOCKJS_IFRAME, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/iframe-a/b.html"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/iframex.html"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    /* not ours */
    {__LINE__, IN(""), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/"), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/w"), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/wsx/info"), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/api/ws/info"), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/WS/info"), SOCKJS_NOT_OURS, SOCKJS_T_NONE, NULL, NULL},
    /* every transport */
    {__LINE__, IN("/ws/123/abcdefgh/websocket"), SOCKJS_TRANSPORT, SOCKJS_T_WEBSOCKET, "123", "abcdefgh"},
    {__LINE__, IN("/ws/0/s/xhr"), SOCKJS_TRANSPORT, SOCKJS_T_XHR, "0", "s"},
    {__LINE__, IN("/ws/999/x-y_z/xhr_streaming"), SOCKJS_TRANSPORT, SOCKJS_T_XHR_STREAMING, "999", "x-y_z"},
    {__LINE__, IN("/ws/1/2/xhr_send"), SOCKJS_TRANSPORT, SOCKJS_T_XHR_SEND, "1", "2"},
    {__LINE__, IN("/ws/srv/ses/eventsource"), SOCKJS_TRANSPORT, SOCKJS_T_EVENTSOURCE, "srv", "ses"},
    {__LINE__, IN("/ws/1/2/htmlfile"), SOCKJS_TRANSPORT, SOCKJS_T_HTMLFILE, "1", "2"},
    {__LINE__, IN("/ws/1/2/jsonp"), SOCKJS_TRANSPORT, SOCKJS_T_JSONP, "1", "2"},
    {__LINE__, IN("/ws/1/2/jsonp_send"), SOCKJS_TRANSPORT, SOCKJS_T_JSONP_SEND, "1", "2"},
    {__LINE__, IN("/ws/a~!@$%^&*()+=:;\"'<>,?[]{}|`/b~!@$%^&*()+=:;\"'<>,?[]{}|`/xhr"), SOCKJS_TRANSPORT,
     SOCKJS_T_XHR, "a~!@$%^&*()+=:;\"'<>,?[]{}|`", "b~!@$%^&*()+=:;\"'<>,?[]{}|`"},
    /* unknown or malformed transport segment */
    {__LINE__, IN("/ws/1/2/xhr_streamingx"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/XHR"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/xhr/"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/xhr/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/3/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    /* id rules: empty, dots, spaces, controls, non-ASCII, NUL */
    {__LINE__, IN("/ws//2/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1//xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws///xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1.2/3/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/a.b/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/../x/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/a b/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/a\tb/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/a\x7f/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/\xc3\xa9/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/a\0b/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/2/xhr\0"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    /* length bounds: server 32, session 64 */
    {__LINE__, IN("/ws/12345678901234567890123456789012/s/xhr"), SOCKJS_TRANSPORT, SOCKJS_T_XHR,
     "12345678901234567890123456789012", "s"},
    {__LINE__, IN("/ws/123456789012345678901234567890123/s/xhr"), SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
    {__LINE__, IN("/ws/1/1234567890123456789012345678901234567890123456789012345678901234/xhr"),
     SOCKJS_TRANSPORT, SOCKJS_T_XHR, "1", "1234567890123456789012345678901234567890123456789012345678901234"},
    {__LINE__, IN("/ws/1/12345678901234567890123456789012345678901234567890123456789012345/xhr"),
     SOCKJS_BAD, SOCKJS_T_NONE, NULL, NULL},
};

static void test_rows(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        sockjs_path sp;
        enum sockjs_route r = sockjs_path_parse(rows[i].path, rows[i].len, &sp);
        if (r != rows[i].route || sp.route != r)
            fail_msg("row at line %d: route %d, want %d", rows[i].line, (int)r, (int)rows[i].route);
        if (sp.transport != rows[i].t)
            fail_msg("row at line %d: transport %d, want %d", rows[i].line, (int)sp.transport,
                     (int)rows[i].t);
        if (r != SOCKJS_TRANSPORT) {
            if (sp.server || sp.session || sp.server_len || sp.session_len)
                fail_msg("row at line %d: ids set for a non-transport route", rows[i].line);
            continue;
        }
        if (sp.server_len != strlen(rows[i].server) ||
            memcmp(sp.server, rows[i].server, sp.server_len) != 0)
            fail_msg("row at line %d: server %.*s, want %s", rows[i].line, (int)sp.server_len,
                     sp.server, rows[i].server);
        if (sp.session_len != strlen(rows[i].session) ||
            memcmp(sp.session, rows[i].session, sp.session_len) != 0)
            fail_msg("row at line %d: session %.*s, want %s", rows[i].line, (int)sp.session_len,
                     sp.session, rows[i].session);
        if (sp.server < rows[i].path || sp.session + sp.session_len > rows[i].path + rows[i].len)
            fail_msg("row at line %d: pointers outside the input", rows[i].line);
    }
}

/* No proper prefix of a transport path is itself a transport path. */
static void test_prefixes(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        if (rows[i].route != SOCKJS_TRANSPORT) continue;
        for (size_t n = 0; n < rows[i].len; n++) {
            sockjs_path sp;
            enum sockjs_route r = sockjs_path_parse(rows[i].path, n, &sp);
            /* "/ws/1/2/xhr_send" cut to "/ws/1/2/xhr" is a different transport */
            if (r == SOCKJS_TRANSPORT && !(sp.transport == SOCKJS_T_XHR ||
                                           sp.transport == SOCKJS_T_JSONP))
                fail_msg("row at line %d: prefix of %zu bytes is a transport", rows[i].line, n);
        }
    }
}

static void test_names(void **state)
{
    static const enum sockjs_transport all[] = {
        SOCKJS_T_WEBSOCKET, SOCKJS_T_XHR, SOCKJS_T_XHR_STREAMING, SOCKJS_T_XHR_SEND,
        SOCKJS_T_EVENTSOURCE, SOCKJS_T_HTMLFILE, SOCKJS_T_JSONP, SOCKJS_T_JSONP_SEND,
    };
    assert_string_equal(sockjs_transport_name(SOCKJS_T_NONE), "");
    for (size_t i = 0; i < ARRAY_LEN(all); i++) {
        char path[64];
        int n = snprintf(path, sizeof path, "/ws/1/2/%s", sockjs_transport_name(all[i]));
        sockjs_path sp;
        assert_int_equal(sockjs_path_parse(path, (size_t)n, &sp), SOCKJS_TRANSPORT);
        assert_int_equal(sp.transport, all[i]);
    }
}

static void test_is_ws(void **state)
{
    assert_true(sockjs_path_is_ws(IN("/ws/1/2/websocket")));
    assert_false(sockjs_path_is_ws(IN("/ws/websocket")));
    assert_false(sockjs_path_is_ws(IN("/ws/1/2/xhr")));
    assert_false(sockjs_path_is_ws(IN("/ws/1/2/websocket/")));
    assert_false(sockjs_path_is_ws(IN("/ws/1.1/2/websocket")));
}

/* The binding cookie's value from a Cookie header. */
static void test_cookie(void **state)
{
    static const struct { int line; const char *hdr; const char *want; } crow[] = {
        {__LINE__, "sockjs_owner=abcDEF_123-x", "abcDEF_123-x"},
        {__LINE__, "a=1; sockjs_owner=abc; b=2", "abc"},
        {__LINE__, "a=1;sockjs_owner=abc", "abc"},
        {__LINE__, "xsockjs_owner=abc", ""},                 /* another name */
        {__LINE__, "sockjs_owner_x=abc", ""},
        {__LINE__, "sockjs_owner=", ""},
        {__LINE__, "sockjs_owner=a b", ""},                  /* not of the form */
        {__LINE__, "sockjs_owner=\"abc\"", ""},
        {__LINE__, "sockjs_owner=bad!; sockjs_owner=good", "good"},
        {__LINE__, "sockjs_owner=0123456789012345678901234567890123456789", ""}, /* too long */
        {__LINE__, "", ""},
        {__LINE__, ";;;", ""},
    };
    for (size_t i = 0; i < sizeof crow / sizeof crow[0]; i++) {
        char out[33];
        size_t n = sockjs_cookie_get(crow[i].hdr, "sockjs_owner", out, sizeof out);
        if (n != strlen(crow[i].want) || strcmp(out, crow[i].want) != 0)
            fail_msg("row at line %d: got %zu '%s'", crow[i].line, n, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_is_ws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
