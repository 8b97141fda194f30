/* sockjs_path.h - which SockJS resource an HTTP request path names.
 *
 * Pure: a path (already URL-decoded, without the query string, as lws hands it over)
 * in, a classification with pointers into the path out. No I/O, no globals, no
 * allocation, so it can be unit-tested row by row and fuzzed (tests/fuzz).
 *
 * The SockJS base is /ws:
 *   /ws, /ws/                        greeting ("Welcome to SockJS!")
 *   /ws/info                         the info document
 *   /ws/iframe.html, /ws/iframe-*.html   the iframe page (not served: 404)
 *   /ws/websocket                    the raw STOMP WebSocket endpoint (relay.c)
 *   /ws/{server}/{session}/{transport}
 * {server} and {session} are non-empty, at most SOCKJS_SERVER_MAX / SOCKJS_SESSION_MAX
 * bytes of printable ASCII other than '/' and '.' (sockjs-node accepts [^/.]+; we
 * also refuse spaces, controls and non-ASCII so ids are safe in logs and headers).
 *
 * Deliberately not here: methods, what each transport does (sockjs_http.c). */
#ifndef SOCKJS_PATH_H
#define SOCKJS_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define SOCKJS_SERVER_MAX 32
#define SOCKJS_SESSION_MAX 64

enum sockjs_route {
    SOCKJS_NOT_OURS = 0, /* not under /ws */
    SOCKJS_GREETING,     /* /ws or /ws/ */
    SOCKJS_INFO,         /* /ws/info */
    SOCKJS_IFRAME,       /* the iframe page: not served */
    SOCKJS_RAW_WS,       /* /ws/websocket (a plain GET there is a 400) */
    SOCKJS_TRANSPORT,    /* /ws/{server}/{session}/{known transport} */
    SOCKJS_BAD           /* anything else under /ws/ (404) */
};

enum sockjs_transport {
    SOCKJS_T_NONE = 0,
    SOCKJS_T_WEBSOCKET,
    SOCKJS_T_XHR,
    SOCKJS_T_XHR_STREAMING,
    SOCKJS_T_XHR_SEND,
    SOCKJS_T_EVENTSOURCE,
    SOCKJS_T_HTMLFILE,   /* recognised, not served (404) */
    SOCKJS_T_JSONP,      /* recognised, not served (404) */
    SOCKJS_T_JSONP_SEND  /* recognised, not served (404) */
};

typedef struct sockjs_path {
    enum sockjs_route route;
    enum sockjs_transport transport; /* SOCKJS_T_NONE unless route is SOCKJS_TRANSPORT */
    const char *server, *session;    /* into the parsed path; NULL unless TRANSPORT */
    size_t server_len, session_len;
} sockjs_path;

/* Classify path[0..len) (NULs inside make it SOCKJS_BAD or NOT_OURS like any other
 * byte outside the allowed set). Fills *out completely and returns out->route. */
enum sockjs_route sockjs_path_parse(const char *path, size_t len, sockjs_path *out);

/* The transport's name as in the URL ("xhr_streaming"), "" for SOCKJS_T_NONE. */
const char *sockjs_transport_name(enum sockjs_transport t);

/* True for a WebSocket upgrade path of the SockJS websocket transport. */
bool sockjs_path_is_ws(const char *path, size_t len);

/* The value of cookie `name` in a Cookie request header (RFC 6265: "a=1; b=2"),
 * copied into out (cap bytes with the NUL) when it is 1..cap-1 bytes of
 * [A-Za-z0-9_-]; returns its length, or 0 when absent or not of that form. The first
 * well-formed occurrence wins. Pure. */
size_t sockjs_cookie_get(const char *hdr, const char *name, char *out, size_t cap);

#endif
