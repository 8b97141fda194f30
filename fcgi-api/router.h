/* router.h - the API's route table and the pure functions that pick a route for a
 * method and a request URI, and read query parameters.
 *
 * No I/O, no FastCGI, no globals but the constant table, so it is unit-tested
 * directly (tests/unit/test_router.c). Paths are matched as sent (never
 * percent-decoded): ids are plain [A-Za-z0-9_-]{1,64}, so anything encoded or
 * longer cannot name a resource and is a 404. */
#ifndef CHAT_API_ROUTER_H
#define CHAT_API_ROUTER_H

#include <stddef.h>

#include "api.h"

typedef struct api_route {
    const char *method;  /* "GET", "POST", "DELETE" (case-sensitive, as HTTP says) */
    const char *pattern; /* "/api/rooms/{id}/members": literal segments and {id} */
    api_handler handler;
    const char *name; /* stable short name for tests and logs, e.g. "rooms.get" */
    unsigned flags;   /* API_AUTH, API_BODY */
} api_route;

typedef struct api_match {
    const api_route *route; /* set on CHAT_OK */
    char params[API_PARAMS_MAX][API_ID_MAX + 1];
    size_t nparams;
    char allow[64]; /* on CHAT_EMETHOD: "GET, POST" */
} api_match;

/* Match method + uri (path with optional ?query; at most one trailing slash is
 * ignored). Returns CHAT_OK with m->route and params, CHAT_EMETHOD with m->allow
 * when the path exists for other methods, or CHAT_ENOTFOUND. m is caller-owned. */
chat_rc api_route_match(const char *method, const char *uri, api_match *m);

/* The whole table (for tests and --help). */
const api_route *api_routes(size_t *n);

/* The query part of uri ("" when none); points into uri. */
const char *api_uri_query(const char *uri);

/* Find parameter name in a query string ("a=1&b=2"), percent- and '+'-decoded into
 * out[cap]. Returns 1 when found, 0 when absent, -1 when its value is malformed
 * (bad escape, NUL, or does not fit). The first occurrence wins. */
int api_query_param(const char *query, const char *name, char *out, size_t cap);

/* Parameter name as a whole non-negative decimal integer in [min, max]: 1 and *v when
 * present and valid, 0 when absent, -1 when malformed (then req holds a 422 message
 * naming the parameter and the range). */
int api_query_int(api_req *req, const char *name, long min, long max, long *v);

#endif
