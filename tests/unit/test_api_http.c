/* test_api_http.c - the pure parts of fcgi-api/http.c: Content-Length checks before
 * reading, the JSON media-type test, the one chat_rc -> status/slug mapping, and the
 * complete formatted response (headers, error document shape).
 * Table-driven; each failure names the table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "json.h"

static void test_length(void **state)
{
    static const struct {
        int line;
        const char *cl;
        chat_rc rc;
        size_t len;
    } rows[] = {
        {__LINE__, NULL, CHAT_OK, 0},
        {__LINE__, "", CHAT_OK, 0},
        {__LINE__, "0", CHAT_OK, 0},
        {__LINE__, "17", CHAT_OK, 17},
        {__LINE__, "16384", CHAT_OK, 16384},
        {__LINE__, "16385", CHAT_ETOOLARGE, 0},
        {__LINE__, "17408", CHAT_ETOOLARGE, 0},
        {__LINE__, "99999999999999999999999999999", CHAT_ETOOLARGE, 0}, /* no overflow */
        {__LINE__, "-1", CHAT_EMALFORMED, 0},
        {__LINE__, "12a", CHAT_EMALFORMED, 0},
        {__LINE__, " 12", CHAT_EMALFORMED, 0},
        {__LINE__, "+12", CHAT_EMALFORMED, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = 99;
        chat_rc rc = api_http_check_length(rows[i].cl, API_BODY_MAX, &len);
        if (rc != rows[i].rc) fail_msg("row at line %d: %s, want %s", rows[i].line, chat_rc_name(rc), chat_rc_name(rows[i].rc));
        if (rc == CHAT_OK && len != rows[i].len) fail_msg("row at line %d: len %zu, want %zu", rows[i].line, len, rows[i].len);
    }
}

static void test_json_type(void **state)
{
    static const struct {
        int line;
        const char *ct;
        bool ok;
    } rows[] = {
        {__LINE__, "application/json", true},
        {__LINE__, "Application/JSON", true},
        {__LINE__, "application/json; charset=utf-8", true},
        {__LINE__, "application/json;charset=UTF-8", true},
        {__LINE__, "application/json ; charset = \"utf-8\" ", true},
        {__LINE__, " application/json ", true},
        {__LINE__, NULL, false},
        {__LINE__, "", false},
        {__LINE__, "text/plain", false},
        {__LINE__, "application/x-www-form-urlencoded", false},
        {__LINE__, "application/jsonx", false},
        {__LINE__, "application/json-patch+json", false},
        {__LINE__, "application/json;", false},
        {__LINE__, "application/json; charset=latin1", false},
        {__LINE__, "application/json; charset=utf-16", false},
        {__LINE__, "application/json; charset=utf-8x", false},
        {__LINE__, "application/json; foo=bar", false},
        {__LINE__, "application/json; charset=\"utf-8", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (api_http_is_json(rows[i].ct) != rows[i].ok)
            fail_msg("row at line %d: '%s' -> %d", rows[i].line, rows[i].ct ? rows[i].ct : "(null)", !rows[i].ok);
}

static void test_mapping(void **state)
{
    static const struct {
        int line;
        chat_rc rc;
        int status;
        const char *slug;
    } rows[] = {
        {__LINE__, CHAT_OK, 200, NULL},
        {__LINE__, CHAT_EMALFORMED, 400, "malformed"},
        {__LINE__, CHAT_EUNAUTH, 401, "unauthorized"},
        {__LINE__, CHAT_EFORBIDDEN, 403, "forbidden"},
        {__LINE__, CHAT_ENOTFOUND, 404, "not-found"},
        {__LINE__, CHAT_EMETHOD, 405, "method-not-allowed"},
        {__LINE__, CHAT_ECONFLICT, 409, "conflict"},
        {__LINE__, CHAT_ETOOLARGE, 413, "too-large"},
        {__LINE__, CHAT_EMEDIA, 415, "unsupported-media-type"},
        {__LINE__, CHAT_EINVALID, 422, "invalid"},
        {__LINE__, CHAT_ERATE, 429, "rate-limited"},
        {__LINE__, CHAT_EUNAVAIL, 503, "unavailable"},
        {__LINE__, CHAT_EINTERNAL, 500, "internal"},
        {__LINE__, CHAT_AGAIN, 500, "internal"}, /* not an error a client can cause */
        {__LINE__, (chat_rc)999, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int st = api_http_status(rows[i].rc);
        const char *slug = api_http_slug(rows[i].rc);
        if (st != rows[i].status) fail_msg("row at line %d: status %d, want %d", rows[i].line, st, rows[i].status);
        if ((slug == NULL) != (rows[i].slug == NULL) || (slug && strcmp(slug, rows[i].slug) != 0))
            fail_msg("row at line %d: slug %s, want %s", rows[i].line, slug ? slug : "(null)", rows[i].slug ? rows[i].slug : "(null)");
    }
}

/* Split a formatted response into headers and body; the body is a NUL-terminated
 * string inside out. Returns a pointer to the body. */
static const char *split(const buf *out, char *headers, size_t cap)
{
    const char *s = buf_data(out);
    const char *sep = strstr(s, "\r\n\r\n");
    assert_non_null(sep);
    size_t n = (size_t)(sep - s) + 2;
    assert_true(n < cap);
    memcpy(headers, s, n);
    headers[n] = '\0';
    return sep + 4;
}

/* Does the error document in body have exactly {"error":{"code":code,"message":non-empty}}? */
static void assert_error_doc(const char *body, const char *code, const char *message)
{
    chat_rc rc;
    json_object *o = json_parse_object(body, strlen(body), &rc);
    assert_non_null(o);
    json_object *e;
    assert_true(json_object_object_get_ex(o, "error", &e));
    assert_int_equal(json_object_object_length(o), 1);
    assert_string_equal(json_get_str(e, "code", NULL), code);
    const char *msg = json_get_str(e, "message", NULL);
    assert_non_null(msg);
    assert_true(msg[0] != '\0');
    if (message) assert_string_equal(msg, message);
    json_object_put(o);
}

static void test_format(void **state)
{
    api_req req = {0};
    buf out;
    char h[1024];
    buf_init(&out, 0);

    /* 201 with a body: status line, JSON type, exact length. */
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string("x/y"));
    api_reply(&req, 201, o);
    assert_int_equal(api_http_format(&req, CHAT_OK, &out), 201);
    const char *body = split(&out, h, sizeof h);
    assert_non_null(strstr(h, "Status: 201 Created\r\n"));
    assert_non_null(strstr(h, "Content-Type: application/json; charset=utf-8\r\n"));
    assert_string_equal(body, "{\"id\":\"x/y\"}");
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(h, cl));
    assert_null(strstr(h, "Allow:"));
    api_req_clear(&req);

    /* 204: no body, no content type. */
    buf_reset(&out);
    api_reply(&req, 204, NULL);
    assert_int_equal(api_http_format(&req, CHAT_OK, &out), 204);
    body = split(&out, h, sizeof h);
    assert_string_equal(body, "");
    assert_null(strstr(h, "\r\nContent-Type:"));
    assert_non_null(strstr(h, "Status: 204 No Content\r\n"));
    api_req_clear(&req);

    /* 405: Allow header and the error document with the handler's message. */
    buf_reset(&out);
    snprintf(req.allow, sizeof req.allow, "POST, GET");
    api_fail(&req, CHAT_EMETHOD, "use %s", req.allow);
    assert_int_equal(api_http_format(&req, CHAT_EMETHOD, &out), 405);
    body = split(&out, h, sizeof h);
    assert_non_null(strstr(h, "Allow: POST, GET\r\n"));
    assert_non_null(strstr(h, "Content-Type: application/json; charset=utf-8\r\n"));
    assert_error_doc(body, "method-not-allowed", "use POST, GET");
    api_req_clear(&req);

    /* 401 without a message: default message and a WWW-Authenticate challenge. */
    buf_reset(&out);
    assert_int_equal(api_http_format(&req, CHAT_EUNAUTH, &out), 401);
    body = split(&out, h, sizeof h);
    assert_non_null(strstr(h, "WWW-Authenticate: Bearer\r\n"));
    assert_error_doc(body, "unauthorized", NULL);

    /* 429 with Retry-After; messages with quotes are escaped, not broken. */
    buf_reset(&out);
    req.retry_after = 42;
    api_fail(&req, CHAT_ERATE, "say \"%s\"", "slow");
    assert_int_equal(api_http_format(&req, CHAT_ERATE, &out), 429);
    body = split(&out, h, sizeof h);
    assert_non_null(strstr(h, "Retry-After: 42\r\n"));
    assert_error_doc(body, "rate-limited", "say \"slow\"");
    api_req_clear(&req);

    /* Every error code yields the error shape; the internal ones too. */
    for (chat_rc rc = CHAT_AGAIN; rc <= CHAT_EINTERNAL; rc++) {
        buf_reset(&out);
        int st = api_http_format(&req, rc, &out);
        assert_int_equal(st, api_http_status(rc));
        body = split(&out, h, sizeof h);
        assert_error_doc(body, api_http_slug(rc), NULL);
    }
    buf_free(&out);
}

static void test_req_helpers(void **state)
{
    api_req req = {0};
    assert_int_equal(api_fail(&req, CHAT_EINVALID, "name %s", "is too long"), CHAT_EINVALID);
    assert_string_equal(req.err, "name is too long");
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    api_fail(&req, CHAT_EINVALID, "%s", big); /* truncated, never overflows */
    assert_int_equal(strlen(req.err), sizeof req.err - 1);
    req.body = json_object_new_object();
    api_reply(&req, 200, json_object_new_object());
    api_reply(&req, 201, json_object_new_object()); /* replaces and frees the first */
    assert_int_equal(req.status, 201);
    api_req_clear(&req);
    assert_null(req.body);
    assert_null(req.out);
    api_req_clear(&req); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length), cmocka_unit_test(test_json_type),   cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_format), cmocka_unit_test(test_req_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
