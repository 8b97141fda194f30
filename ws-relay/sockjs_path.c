/* sockjs_path.c - SockJS URL classification; see sockjs_path.h.
 *
 * One left-to-right pass over at most four segments; every pointer handed back points
 * into the caller's path. Deliberately not here: HTTP methods and responses. */
#include "sockjs_path.h"

#include <stdbool.h>

#include <string.h>

#define BASE "/ws"
#define BASE_LEN (sizeof(BASE) - 1)

static const struct {
    const char *name;
    enum sockjs_transport t;
} transports[] = {
    {"websocket", SOCKJS_T_WEBSOCKET},
    {"xhr", SOCKJS_T_XHR},
    {"xhr_streaming", SOCKJS_T_XHR_STREAMING},
    {"xhr_send", SOCKJS_T_XHR_SEND},
    {"eventsource", SOCKJS_T_EVENTSOURCE},
    {"htmlfile", SOCKJS_T_HTMLFILE},
    {"jsonp", SOCKJS_T_JSONP},
    {"jsonp_send", SOCKJS_T_JSONP_SEND},
};

#define NTRANSPORTS (sizeof(transports) / sizeof(transports[0]))

const char *sockjs_transport_name(enum sockjs_transport t)
{
    for (size_t i = 0; i < NTRANSPORTS; i++)
        if (transports[i].t == t) return transports[i].name;
    return "";
}

static bool eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* Length of the id segment at p (up to end or '/'), or 0 when it holds a byte
 * outside the allowed set or is longer than max. */
static size_t id_len(const char *p, const char *end, size_t max)
{
    size_t n = 0;
    while (p + n < end && p[n] != '/') {
        unsigned char c = (unsigned char)p[n];
        if (c <= 0x20 || c >= 0x7f || c == '.') return 0;
        if (++n > max) return 0;
    }
    return n;
}

/* /ws/iframe.html or /ws/iframe-<anything without '/'>.html */
static bool is_iframe(const char *p, size_t n)
{
    if (n < 11 || memcmp(p, "iframe", 6) != 0 || memcmp(p + n - 5, ".html", 5) != 0) return false;
    if (n == 11) return true;
    if (p[6] != '-') return false;
    return memchr(p, '/', n) == NULL;
}

enum sockjs_route sockjs_path_parse(const char *path, size_t len, sockjs_path *out)
{
    memset(out, 0, sizeof *out);
    out->route = SOCKJS_NOT_OURS;
    if (len < BASE_LEN || memcmp(path, BASE, BASE_LEN) != 0) return out->route;
    if (len == BASE_LEN || (len == BASE_LEN + 1 && path[BASE_LEN] == '/'))
        return out->route = SOCKJS_GREETING;
    if (path[BASE_LEN] != '/') return out->route; /* "/wsx": someone else's */

    const char *p = path + BASE_LEN + 1, *end = path + len;
    size_t rest = (size_t)(end - p);
    out->route = SOCKJS_BAD;
    if (eq(p, rest, "info")) return out->route = SOCKJS_INFO;
    if (eq(p, rest, "websocket")) return out->route = SOCKJS_RAW_WS;
    if (is_iframe(p, rest)) return out->route = SOCKJS_IFRAME;

    size_t sl = id_len(p, end, SOCKJS_SERVER_MAX);
    if (!sl || p + sl == end) return out->route;
    const char *server = p;
    p += sl + 1;
    size_t il = id_len(p, end, SOCKJS_SESSION_MAX);
    if (!il || p + il == end) return out->route;
    const char *session = p;
    p += il + 1;
    size_t tl = (size_t)(end - p);
    for (size_t i = 0; i < NTRANSPORTS; i++) {
        if (!eq(p, tl, transports[i].name)) continue;
        out->route = SOCKJS_TRANSPORT;
        out->transport = transports[i].t;
        out->server = server;
        out->server_len = sl;
        out->session = session;
        out->session_len = il;
        break;
    }
    return out->route;
}

bool sockjs_path_is_ws(const char *path, size_t len)
{
    sockjs_path sp;
    return sockjs_path_parse(path, len, &sp) == SOCKJS_TRANSPORT &&
           sp.transport == SOCKJS_T_WEBSOCKET;
}

size_t sockjs_cookie_get(const char *hdr, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = hdr; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';') p++;
        const char *end = strchr(p, ';');
        if (!end) end = p + strlen(p);
        if ((size_t)(end - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = (size_t)(end - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
            bool ok = vlen > 0 && vlen < cap;
            for (size_t i = 0; ok && i < vlen; i++) {
                char c = v[i];
                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-';
            }
            if (ok) {
                memcpy(out, v, vlen);
                out[vlen] = '\0';
                return vlen;
            }
        }
        p = end;
    }
    if (cap) out[0] = '\0';
    return 0;
}
