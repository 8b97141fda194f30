/* test_router.c - fcgi-api/router.c: which route a method + URI reaches, its path
 * parameters, 404 versus 405 (with the Allow list), trailing slashes, query strings,
 * encoded and overlong ids; and query parameter decoding.
 * Table-driven; each failure names the table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "router.h"

#define ID64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
#define ID65 ID64 "x"

static void test_match(void **state)
{
    static const struct {
        int line;
        const char *method, *uri;
        chat_rc rc;
        const char *name;  /* route name on CHAT_OK */
        const char *param; /* first path parameter, or NULL for none */
        const char *allow; /* Allow list on CHAT_EMETHOD */
    } rows[] = {
        /* every route */
        {__LINE__, "POST", "/api/users", CHAT_OK, "users.signup", NULL, NULL},
        {__LINE__, "GET", "/api/users/me", CHAT_OK, "users.me", NULL, NULL},
        {__LINE__, "GET", "/api/users/me/rooms", CHAT_OK, "users.rooms", NULL, NULL},
        {__LINE__, "POST", "/api/sessions", CHAT_OK, "sessions.login", NULL, NULL},
        {__LINE__, "DELETE", "/api/sessions/current", CHAT_OK, "sessions.logout", NULL, NULL},
        {__LINE__, "POST", "/api/rooms", CHAT_OK, "rooms.create", NULL, NULL},
        {__LINE__, "GET", "/api/rooms", CHAT_OK, "rooms.list", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/abc123", CHAT_OK, "rooms.get", "abc123", NULL},
        {__LINE__, "POST", "/api/rooms/abc123/members", CHAT_OK, "rooms.join", "abc123", NULL},
        {__LINE__, "DELETE", "/api/rooms/abc123/members/me", CHAT_OK, "rooms.leave", "abc123", NULL},
        {__LINE__, "GET", "/api/health", CHAT_OK, "health", NULL, NULL},
        {__LINE__, "GET", "/api/search?q=x&roomId=r1", CHAT_OK, "search", NULL, NULL},
        {__LINE__, "POST", "/api/search", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "GET", "/api/metrics", CHAT_OK, "metrics", NULL, NULL},
        {__LINE__, "POST", "/api/metrics", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "POST", "/api/rooms/abc123/files?name=a.png", CHAT_OK, "files.upload", "abc123", NULL},
        {__LINE__, "GET", "/api/files/f1", CHAT_OK, "files.get", "f1", NULL},
        {__LINE__, "GET", "/api/files/f1/thumb", CHAT_OK, "files.thumb", "f1", NULL},
        {__LINE__, "GET", "/api/rooms/abc/files", CHAT_EMETHOD, NULL, NULL, "POST"},
        {__LINE__, "DELETE", "/api/files/f1", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "GET", "/api/files/..%2Fx", CHAT_ENOTFOUND, NULL, NULL, NULL},

        /* wrong method on a known path: 405 with every method the path allows */
        {__LINE__, "GET", "/api/users", CHAT_EMETHOD, NULL, NULL, "POST"},
        {__LINE__, "DELETE", "/api/rooms", CHAT_EMETHOD, NULL, NULL, "POST, GET"},
        {__LINE__, "PUT", "/api/rooms/", CHAT_EMETHOD, NULL, NULL, "POST, GET"},
        {__LINE__, "POST", "/api/health", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "HEAD", "/api/health", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "GET", "/api/sessions", CHAT_EMETHOD, NULL, NULL, "POST"},
        {__LINE__, "GET", "/api/sessions/current", CHAT_EMETHOD, NULL, NULL, "DELETE"},
        {__LINE__, "DELETE", "/api/rooms/abc", CHAT_EMETHOD, NULL, NULL, "GET"},
        {__LINE__, "GET", "/api/rooms/abc/members", CHAT_EMETHOD, NULL, NULL, "POST"},
        {__LINE__, "POST", "/api/rooms/abc/members/me", CHAT_EMETHOD, NULL, NULL, "DELETE"},
        {__LINE__, "get", "/api/rooms", CHAT_EMETHOD, NULL, NULL, "POST, GET"}, /* methods are case-sensitive */
        {__LINE__, "DELETE", "/api/users/me", CHAT_EMETHOD, NULL, NULL, "GET"},

        /* unknown paths */
        {__LINE__, "GET", "/", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "api/rooms", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/roomsx", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/API/rooms", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "//api/rooms", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api//rooms", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/users/other", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "DELETE", "/api/sessions/other", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "DELETE", "/api/rooms/abc/members/other", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/abc/extra", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/health/x", CHAT_ENOTFOUND, NULL, NULL, NULL},

        /* trailing slashes: one is forgiven, two are not */
        {__LINE__, "GET", "/api/health/", CHAT_OK, "health", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/", CHAT_OK, "rooms.list", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/abc/", CHAT_OK, "rooms.get", "abc", NULL},
        {__LINE__, "GET", "/api/health//", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms//", CHAT_ENOTFOUND, NULL, NULL, NULL},

        /* query strings and fragments are not part of the path */
        {__LINE__, "GET", "/api/health?x=1", CHAT_OK, "health", NULL, NULL},
        {__LINE__, "GET", "/api/rooms?limit=5&cursor=abc", CHAT_OK, "rooms.list", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/?limit=5", CHAT_OK, "rooms.list", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/abc?x=/y", CHAT_OK, "rooms.get", "abc", NULL},
        {__LINE__, "GET", "/api/rooms#top", CHAT_OK, "rooms.list", NULL, NULL},
        {__LINE__, "GET", "/api/health?", CHAT_OK, "health", NULL, NULL},
        {__LINE__, "GET", "/api/rooms/?/x", CHAT_OK, "rooms.list", NULL, NULL},

        /* ids: [A-Za-z0-9_-]{1,64}, never decoded */
        {__LINE__, "GET", "/api/rooms/a_b-C9", CHAT_OK, "rooms.get", "a_b-C9", NULL},
        {__LINE__, "GET", "/api/rooms/" ID64, CHAT_OK, "rooms.get", ID64, NULL},
        {__LINE__, "GET", "/api/rooms/" ID65, CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "POST", "/api/rooms/" ID65 "/members", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/%41bc", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/abc%2Fdef", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/a.b", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/..", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/a+b", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "GET", "/api/rooms/\xc3\xa9", CHAT_ENOTFOUND, NULL, NULL, NULL},
        {__LINE__, "DELETE", "/api/rooms/%2e%2e/members/me", CHAT_ENOTFOUND, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        api_match m;
        chat_rc rc = api_route_match(rows[i].method, rows[i].uri, &m);
        if (rc != rows[i].rc)
            fail_msg("row at line %d: %s %s -> %s, want %s", rows[i].line, rows[i].method, rows[i].uri,
                     chat_rc_name(rc), chat_rc_name(rows[i].rc));
        if (rc == CHAT_OK) {
            if (!m.route || strcmp(m.route->name, rows[i].name) != 0)
                fail_msg("row at line %d: route %s, want %s", rows[i].line, m.route ? m.route->name : "(none)", rows[i].name);
            size_t want_np = rows[i].param ? 1 : 0;
            if (m.nparams != want_np) fail_msg("row at line %d: %zu params, want %zu", rows[i].line, m.nparams, want_np);
            if (rows[i].param && strcmp(m.params[0], rows[i].param) != 0)
                fail_msg("row at line %d: param '%s', want '%s'", rows[i].line, m.params[0], rows[i].param);
        } else {
            if (m.route) fail_msg("row at line %d: a route was set on failure", rows[i].line);
            const char *want_allow = rows[i].allow ? rows[i].allow : "";
            if (strcmp(m.allow, want_allow) != 0)
                fail_msg("row at line %d: Allow '%s', want '%s'", rows[i].line, m.allow, want_allow);
        }
    }
}

/* A path longer than any route could be is refused without scanning it. */
static void test_long_path(void **state)
{
    char uri[2048] = "/api/rooms/";
    memset(uri + strlen(uri), 'a', sizeof uri - strlen(uri) - 1);
    uri[sizeof uri - 1] = '\0';
    api_match m;
    assert_int_equal(api_route_match("GET", uri, &m), CHAT_ENOTFOUND);
    assert_int_equal(api_route_match(NULL, "/api/health", &m), CHAT_ENOTFOUND);
    assert_int_equal(api_route_match("GET", NULL, &m), CHAT_ENOTFOUND);
}

/* The table itself: every entry complete, no duplicate method + pattern, and every
 * route flagged as the contract says (only sign-up, login and health go without a
 * token; only sign-up, login and room creation read a body). */
static void test_table(void **state)
{
    size_t n;
    const api_route *r = api_routes(&n);
    assert_int_equal(n, 17);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(r[i].method);
        assert_non_null(r[i].pattern);
        assert_non_null(r[i].handler);
        assert_non_null(r[i].name);
        bool open = !strcmp(r[i].name, "users.signup") || !strcmp(r[i].name, "sessions.login") ||
                    !strcmp(r[i].name, "health") || !strcmp(r[i].name, "metrics");
        bool body = !strcmp(r[i].name, "users.signup") || !strcmp(r[i].name, "sessions.login") || !strcmp(r[i].name, "rooms.create");
        if (open == !!(r[i].flags & API_AUTH)) fail_msg("route %s: auth flag wrong", r[i].name);
        if (body != !!(r[i].flags & API_BODY)) fail_msg("route %s: body flag wrong", r[i].name);
        if (!strcmp(r[i].name, "files.upload") != !!(r[i].flags & API_FILE)) fail_msg("route %s: file flag wrong", r[i].name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r[i].method, r[j].method) && !strcmp(r[i].pattern, r[j].pattern))
                fail_msg("duplicate route %s %s", r[i].method, r[i].pattern);
    }
}

static void test_query(void **state)
{
    static const struct {
        int line;
        const char *query, *name;
        int want;
        const char *value;
    } rows[] = {
        {__LINE__, "limit=5", "limit", 1, "5"},
        {__LINE__, "limit=5&cursor=abc", "cursor", 1, "abc"},
        {__LINE__, "a=1&limit=10", "limit", 1, "10"},
        {__LINE__, "limitx=3&limit=4", "limit", 1, "4"},
        {__LINE__, "xlimit=3", "limit", 0, NULL},
        {__LINE__, "limit=1&limit=2", "limit", 1, "1"},
        {__LINE__, "limit", "limit", 1, ""},
        {__LINE__, "limit=", "limit", 1, ""},
        {__LINE__, "", "limit", 0, NULL},
        {__LINE__, "&&limit=7&", "limit", 1, "7"},
        {__LINE__, "limit=%31%30", "limit", 1, "10"},
        {__LINE__, "q=a+b%20c", "q", 1, "a b c"},
        {__LINE__, "limit=%3", "limit", -1, NULL},
        {__LINE__, "limit=%zz", "limit", -1, NULL},
        {__LINE__, "limit=%00", "limit", -1, NULL},
        {__LINE__, "limit=1234567890", "limit", -1, NULL}, /* does not fit in 8 */
        {__LINE__, "limit=1234567", "limit", 1, "1234567"},
        {__LINE__, "other=%zz&limit=2", "limit", 1, "2"}, /* only the asked-for value is decoded */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[8] = "unset";
        int got = api_query_param(rows[i].query, rows[i].name, out, sizeof out);
        if (got != rows[i].want) fail_msg("row at line %d: got %d, want %d", rows[i].line, got, rows[i].want);
        if (got == 1 && strcmp(out, rows[i].value) != 0)
            fail_msg("row at line %d: value '%s', want '%s'", rows[i].line, out, rows[i].value);
    }
}

static void test_uri_query(void **state)
{
    assert_string_equal(api_uri_query("/api/rooms?limit=5"), "limit=5");
    assert_string_equal(api_uri_query("/api/rooms"), "");
    assert_string_equal(api_uri_query("/api/rooms?"), "");
    assert_string_equal(api_uri_query("/a?b?c"), "b?c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),     cmocka_unit_test(test_long_path), cmocka_unit_test(test_table),
        cmocka_unit_test(test_query),     cmocka_unit_test(test_uri_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
