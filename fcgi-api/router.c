/* router.c - method + path -> handler, with {id} path parameters; see router.h.
 *
 * The table below is the whole REST surface of the contract. Matching is a segment
 * by segment comparison against each pattern (a dozen routes: a linear scan is the
 * clearest thing and costs nothing next to a Redis round trip). It does not decode,
 * normalise dot segments, or fold case: a path either is spelled exactly as in the
 * table (plus one optional trailing slash) or it names nothing. */
#include "router.h"
#include "metrics.h"
#include "util.h"
#include "valid.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 512

static const api_route routes[] = {
    {.method = "POST", .pattern = "/api/users", .handler = api_users_signup, .name = "users.signup", .flags = API_BODY},
    {.method = "GET", .pattern = "/api/users/me", .handler = api_users_me, .name = "users.me", .flags = API_AUTH},
    {.method = "GET", .pattern = "/api/users/me/rooms", .handler = api_users_my_rooms, .name = "users.rooms", .flags = API_AUTH},
    {.method = "POST", .pattern = "/api/sessions", .handler = api_sessions_login, .name = "sessions.login", .flags = API_BODY},
    {.method = "DELETE", .pattern = "/api/sessions/current", .handler = api_sessions_logout, .name = "sessions.logout", .flags = API_AUTH},
    {.method = "POST", .pattern = "/api/rooms", .handler = api_rooms_create, .name = "rooms.create", .flags = API_AUTH | API_BODY},
    {.method = "GET", .pattern = "/api/rooms", .handler = api_rooms_list, .name = "rooms.list", .flags = API_AUTH | API_ROOMS_VERSION},
    {.method = "GET", .pattern = "/api/rooms/{id}", .handler = api_rooms_get, .name = "rooms.get", .flags = API_AUTH},
    {.method = "POST", .pattern = "/api/rooms/{id}/members", .handler = api_rooms_join, .name = "rooms.join", .flags = API_AUTH},
    {.method = "DELETE", .pattern = "/api/rooms/{id}/members/me", .handler = api_rooms_leave, .name = "rooms.leave", .flags = API_AUTH},
    {.method = "GET", .pattern = "/api/rooms/{id}/messages", .handler = api_rooms_messages, .name = "rooms.messages", .flags = API_AUTH},
    {.method = "POST", .pattern = "/api/rooms/{id}/files", .handler = api_files_upload, .name = "files.upload", .flags = API_AUTH | API_FILE},
    {.method = "GET", .pattern = "/api/files/{id}", .handler = api_files_get, .name = "files.get", .flags = API_AUTH},
    {.method = "GET", .pattern = "/api/files/{id}/thumb", .handler = api_files_thumb, .name = "files.thumb", .flags = API_AUTH},
    {.method = "GET", .pattern = "/api/search", .handler = api_search, .name = "search", .flags = API_AUTH},
    {.method = "GET", .pattern = "/api/health", .handler = api_health, .name = "health", .flags = 0},
    {.method = "GET", .pattern = "/api/metrics", .handler = api_metrics, .name = "metrics", .flags = 0},
};

const api_route *api_routes(size_t *n)
{
    *n = ARRAY_LEN(routes);
    return routes;
}

const char *api_uri_query(const char *uri)
{
    const char *q = strchr(uri, '?');
    return q ? q + 1 : "";
}

/* Does path[0..len) match pattern? On a match fills params (if not NULL) and
 * returns true. Both start with '/'; segments are compared one by one. */
static bool match_pattern(const char *pattern, const char *path, size_t len,
                          char params[][API_ID_MAX + 1], size_t *nparams)
{
    const char *p = pattern, *s = path, *end = path + len;
    size_t np = 0;
    while (*p && s < end) {
        if (*p != '/' || *s != '/') return false;
        p++, s++;
        const char *pe = strchr(p, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        const char *se = memchr(s, '/', (size_t)(end - s));
        size_t slen = se ? (size_t)(se - s) : (size_t)(end - s);
        if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
            if (!valid_id(s, slen) || np >= API_PARAMS_MAX) return false;
            if (params) {
                memcpy(params[np], s, slen);
                params[np][slen] = '\0';
            }
            np++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    if (*p || s != end) return false;
    if (nparams) *nparams = np;
    return true;
}

/* Append method to the comma-separated allow list unless it is already there. */
static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t n = strlen(allow), mlen = strlen(method);
    for (const char *a = allow; (a = strstr(a, method)) != NULL; a += mlen)
        if ((a == allow || a[-1] == ' ') && (a[mlen] == ',' || a[mlen] == '\0')) return;
    snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", method);
}

chat_rc api_route_match(const char *method, const char *uri, api_match *m)
{
    memset(m, 0, sizeof *m);
    if (!method || !uri || uri[0] != '/') return CHAT_ENOTFOUND;
    size_t len = strcspn(uri, "?#");
    if (len > PATH_MAX_LEN) return CHAT_ENOTFOUND;
    if (len > 1 && uri[len - 1] == '/') len--; /* one trailing slash is forgiven */

    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        const api_route *r = &routes[i];
        if (strcmp(r->method, method) != 0) continue;
        if (match_pattern(r->pattern, uri, len, m->params, &m->nparams)) {
            m->route = r;
            return CHAT_OK;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(routes); i++)
        if (match_pattern(routes[i].pattern, uri, len, NULL, NULL))
            allow_add(m->allow, sizeof m->allow, routes[i].method);
    memset(m->params, 0, sizeof m->params);
    m->nparams = 0;
    return m->allow[0] ? CHAT_EMETHOD : CHAT_ENOTFOUND;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int api_query_param(const char *query, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen >= nlen && memcmp(p, name, nlen) == 0 && (plen == nlen || p[nlen] == '=')) {
            const char *v = plen == nlen ? p + plen : p + nlen + 1;
            const char *vend = p + plen;
            size_t o = 0;
            while (v < vend) {
                char c = *v++;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = v < vend ? hexval(v[0]) : -1;
                    int lo = v + 1 < vend ? hexval(v[1]) : -1;
                    if (hi < 0 || lo < 0) return -1;
                    c = (char)(hi * 16 + lo);
                    v += 2;
                }
                if (c == '\0' || o + 1 >= cap) return -1;
                out[o++] = c;
            }
            if (cap == 0) return -1;
            out[o] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

int api_query_int(api_req *req, const char *name, long min, long max, long *v)
{
    char s[24];
    int got = api_query_param(req->query, name, s, sizeof s);
    if (got == 0) return 0;
    if (got == 1 && s[0] && strspn(s, "0123456789") == strlen(s) && parse_long(s, min, max, v) == 0) return 1;
    api_fail(req, CHAT_EINVALID, "%s must be an integer from %ld to %ld", name, min, max);
    return -1;
}
