/* http.c - request body reading and response writing; see http.h.
 *
 * Owns the mapping chat_rc -> (status, slug, message) in the `errors` table below:
 * nothing else in chat-api spells an HTTP status for an error. It does not route,
 * authenticate or know any resource; it does not log (main.c logs one line per
 * request with the status this file returns). */
#include "http.h"
#include "json.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct http_error {
    int status;
    const char *slug;
    const char *message;
} errors[] = {
    [CHAT_EMALFORMED] = {400, "malformed", "the request is malformed"},
    [CHAT_EPROTOCOL] = {400, "malformed", "the request is malformed"},
    [CHAT_EUNAUTH] = {401, "unauthorized", "a valid bearer token is required"},
    [CHAT_EFORBIDDEN] = {403, "forbidden", "you are not allowed to do this"},
    [CHAT_ENOTFOUND] = {404, "not-found", "no such resource"},
    [CHAT_EMETHOD] = {405, "method-not-allowed", "method not allowed on this resource"},
    [CHAT_ECONFLICT] = {409, "conflict", "it already exists"},
    [CHAT_ETOOLARGE] = {413, "too-large", "the request body is larger than 16 KiB"},
    [CHAT_EMEDIA] = {415, "unsupported-media-type", "the request body must be application/json"},
    [CHAT_EINVALID] = {422, "invalid", "a field is invalid"},
    [CHAT_ERATE] = {429, "rate-limited", "too many attempts, try again later"},
    [CHAT_EUNAVAIL] = {503, "unavailable", "the data store is unavailable, try again shortly"},
    [CHAT_EINTERNAL] = {500, "internal", "internal error"},
};

/* The table entry for rc; anything that is not a client-visible error (CHAT_OK and
 * CHAT_AGAIN reaching the error path) is an internal error. */
static const struct http_error *error_for(chat_rc rc)
{
    if ((size_t)rc < ARRAY_LEN(errors) && errors[rc].status) return &errors[rc];
    return &errors[CHAT_EINTERNAL];
}

int api_http_status(chat_rc rc)
{
    return rc == CHAT_OK ? 200 : error_for(rc)->status;
}

const char *api_http_slug(chat_rc rc)
{
    return rc == CHAT_OK ? NULL : error_for(rc)->slug;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

chat_rc api_fail(api_req *req, chat_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->err, sizeof req->err, fmt, ap);
    va_end(ap);
    return rc;
}

chat_rc api_reply(api_req *req, int status, json_object *body)
{
    json_object_put(req->out);
    req->status = status;
    req->out = body;
    return CHAT_OK;
}

chat_rc api_reply_raw(api_req *req, int status, const char *body, size_t len)
{
    json_object_put(req->out);
    req->out = NULL;
    req->status = status;
    req->out_raw = body;
    req->out_raw_len = len;
    return CHAT_OK;
}

chat_rc api_reply_sendfile(api_req *req, const char *path, const char *headers)
{
    json_object_put(req->out);
    req->out = NULL;
    free(req->out_sendfile);
    free(req->out_headers);
    req->status = 200;
    req->out_sendfile = xstrdup(path);
    req->out_headers = xstrdup(headers ? headers : "");
    return CHAT_OK;
}

void api_req_clear(api_req *req)
{
    free(req->out_owned);
    req->out_owned = NULL;
    free(req->out_sendfile);
    free(req->out_headers);
    json_object_put(req->body);
    json_object_put(req->out);
    memset(req, 0, sizeof *req);
}

chat_rc api_http_check_length(const char *cl, size_t max, size_t *len)
{
    *len = 0;
    if (!cl || !*cl) return CHAT_OK;
    size_t v = 0;
    for (const char *p = cl; *p; p++) {
        if (*p < '0' || *p > '9') return CHAT_EMALFORMED;
        if (v > max) return CHAT_ETOOLARGE; /* stop before any overflow */
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v > max) return CHAT_ETOOLARGE;
    *len = v;
    return CHAT_OK;
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

bool api_http_is_json(const char *ct)
{
    static const char type[] = "application/json";
    if (!ct) return false;
    ct = skip_ows(ct);
    if (strncasecmp(ct, type, sizeof type - 1) != 0) return false;
    const char *p = skip_ows(ct + sizeof type - 1);
    if (*p == '\0') return true;
    if (*p != ';') return false;
    p = skip_ows(p + 1);
    if (strncasecmp(p, "charset", 7) != 0) return false;
    p = skip_ows(p + 7);
    if (*p != '=') return false;
    p = skip_ows(p + 1);
    bool quoted = *p == '"';
    if (quoted) p++;
    if (strncasecmp(p, "utf-8", 5) != 0) return false;
    p += 5;
    if (quoted && *p++ != '"') return false;
    return *skip_ows(p) == '\0';
}

chat_rc api_http_read_body(FCGX_Request *fr, api_req *req, unsigned route_flags)
{
    size_t len;
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
    if (route_flags & API_FILE) {
        chat_rc frc = api_http_check_length(cl, (size_t)req->cfg->file_max, &len);
        if (frc == CHAT_ETOOLARGE) return api_fail(req, frc, "the file is larger than FILE_MAX (%lld bytes)", req->cfg->file_max);
        if (frc != CHAT_OK) return api_fail(req, frc, "Content-Length is not a number");
        req->body_in = fr->in;
        req->body_len = cl && *cl ? (long long)len : -1;
        return CHAT_OK;
    }
    chat_rc rc = api_http_check_length(cl, API_BODY_MAX, &len);
    if (rc == CHAT_ETOOLARGE) return api_fail(req, rc, "the request body is larger than %d bytes", API_BODY_MAX);
    if (rc != CHAT_OK) return api_fail(req, rc, "Content-Length is not a number");
    if (!(route_flags & API_BODY)) return CHAT_OK;

    if (!api_http_is_json(FCGX_GetParam("CONTENT_TYPE", fr->envp)))
        return api_fail(req, CHAT_EMEDIA, "Content-Type must be application/json");

    /* Read one byte past the limit so a body without Content-Length that is too big
     * is still caught, but never more. */
    static char body[API_BODY_MAX + 1];
    size_t want = len ? len : sizeof body, got = 0;
    while (got < want) {
        int n = FCGX_GetStr(body + got, (int)(want - got), fr->in);
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got > API_BODY_MAX) return api_fail(req, CHAT_ETOOLARGE, "the request body is larger than %d bytes", API_BODY_MAX);
    if (len && got < len) return api_fail(req, CHAT_EMALFORMED, "the request body ended early");

    req->body = json_parse_object(body, got, &rc);
    if (rc == CHAT_EINVALID) return api_fail(req, CHAT_EMALFORMED, "the request body must be a JSON object");
    if (rc != CHAT_OK) return api_fail(req, CHAT_EMALFORMED, "the request body is not valid JSON");
    return CHAT_OK;
}

long api_body_read(api_req *req, char *dst, size_t cap)
{
    if (!req->body_in) return 0;
    int n = FCGX_GetStr(dst, cap > (1 << 30) ? 1 << 30 : (int)cap, req->body_in);
    if (n < 0 || FCGX_GetError(req->body_in) != 0) return -1;
    return n;
}

void api_http_drain(FCGX_Request *fr)
{
    char sink[65536];
    while (FCGX_GetStr(sink, (int)sizeof sink, fr->in) > 0) {}
}

/* Append path to out as X-Sendfile wants it: lighttpd percent-decodes the value, so
 * everything but unreserved characters and '/' is percent-encoded. */
static void put_sendfile_path(buf *out, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '/' || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_putc(out, (char)*p);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[*p >> 4]);
            buf_putc(out, hex[*p & 15]);
        }
    }
}

/* The JSON error document for rc; the caller puts it. */
static json_object *error_doc(chat_rc rc, const char *msg)
{
    const struct http_error *e = error_for(rc);
    json_object *inner = json_object_new_object();
    json_object_object_add(inner, "code", json_object_new_string(e->slug));
    json_object_object_add(inner, "message", json_object_new_string(msg && *msg ? msg : e->message));
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "error", inner);
    return doc;
}

int api_http_format(const api_req *req, chat_rc rc, buf *out)
{
    int status;
    json_object *err = NULL;
    const char *body = NULL;
    size_t body_len = 0;
    if (rc == CHAT_OK && req->out_sendfile) {
        /* No body: lighttpd replaces it with the file (and answers Range, ETag and
         * conditional requests itself). */
        buf_puts(out, "Status: 200 OK\r\nX-Sendfile: ");
        put_sendfile_path(out, req->out_sendfile);
        buf_puts(out, "\r\n");
        buf_puts(out, req->out_headers ? req->out_headers : "");
        buf_puts(out, "X-Content-Type-Options: nosniff\r\n\r\n");
        return 200;
    }
    if (rc == CHAT_OK) {
        status = req->status ? req->status : 200;
        if (status != 204 && req->out) body = json_compact(req->out);
        else if (status != 204 && req->out_raw) body = req->out_raw, body_len = req->out_raw_len;
        if (status != 204 && !body) body = "{}";
    } else {
        status = error_for(rc)->status;
        err = error_doc(rc, req->err);
        body = json_compact(err);
    }
    if (body && !body_len) body_len = strlen(body);
    buf_printf(out, "Status: %d %s\r\n", status, reason(status));
    if (body) {
        const char *ctype = rc == CHAT_OK && req->out_raw && req->out_ctype ? req->out_ctype
                                                                            : "application/json; charset=utf-8";
        buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, body_len);
    }
    buf_puts(out, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    if (rc == CHAT_EMETHOD && req->allow[0]) buf_printf(out, "Allow: %s\r\n", req->allow);
    if (rc == CHAT_EUNAUTH) buf_puts(out, "WWW-Authenticate: Bearer\r\n");
    if (rc == CHAT_ERATE && req->retry_after > 0) buf_printf(out, "Retry-After: %ld\r\n", req->retry_after);
    buf_puts(out, "\r\n");
    if (body) buf_append(out, body, body_len);
    json_object_put(err);
    return status;
}

int api_http_send(FCGX_Request *fr, const api_req *req, chat_rc rc)
{
    buf out;
    buf_init(&out, 0);
    int status = api_http_format(req, rc, &out);
    FCGX_PutStr(buf_data(&out), (int)out.len, fr->out);
    buf_free(&out);
    return status;
}
