/* fuzz_sockjs_path.c - libFuzzer target for the SockJS URL classifier
 * (ws-relay/sockjs_path.c).
 *
 * For each input (a path as lws would hand it over, any bytes): the parse must not
 * read outside the input (ASan catches that: the input is copied into an exact-size
 * heap block), and the result must be self-consistent: for a transport route the
 * server and session point into the input, are non-empty, within their bounds and
 * free of '/', '.', spaces, controls and non-ASCII, and the input is exactly
 * "/ws/" server "/" session "/" name-of-the-transport; other routes carry no ids.
 * sockjs_path_is_ws agrees with the parse.
 *
 * Deliberately not here: HTTP handling. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockjs_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_sockjs_path: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void check_id(const char *in, size_t size, const char *id, size_t len, size_t max)
{
    CHECK(id >= in && id + len <= in + size);
    CHECK(len >= 1 && len <= max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        CHECK(c > 0x20 && c < 0x7f && c != '/' && c != '.');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    CHECK(in);
    if (size) memcpy(in, data, size);
    sockjs_path sp;
    enum sockjs_route r = sockjs_path_parse(in, size, &sp);
    CHECK(r == sp.route);
    CHECK(r >= SOCKJS_NOT_OURS && r <= SOCKJS_BAD);
    if (r == SOCKJS_TRANSPORT) {
        check_id(in, size, sp.server, sp.server_len, SOCKJS_SERVER_MAX);
        check_id(in, size, sp.session, sp.session_len, SOCKJS_SESSION_MAX);
        const char *name = sockjs_transport_name(sp.transport);
        CHECK(*name);
        char rebuilt[256];
        int n = snprintf(rebuilt, sizeof rebuilt, "/ws/%.*s/%.*s/%s", (int)sp.server_len,
                         sp.server, (int)sp.session_len, sp.session, name);
        CHECK(n > 0 && (size_t)n == size && memcmp(rebuilt, in, size) == 0);
    } else {
        CHECK(sp.transport == SOCKJS_T_NONE && !sp.server && !sp.session);
        CHECK(sp.server_len == 0 && sp.session_len == 0);
    }
    CHECK(sockjs_path_is_ws(in, size) == (r == SOCKJS_TRANSPORT && sp.transport == SOCKJS_T_WEBSOCKET));
    if (r != SOCKJS_NOT_OURS) CHECK(size >= 3 && memcmp(in, "/ws", 3) == 0);
    /* The same bytes as a Cookie header: the binding cookie's value, if any, is 1..32
     * characters of [A-Za-z0-9_-] found in the header after "sockjs_owner=". */
    char *hdr = malloc(size + 1);
    CHECK(hdr);
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    char val[33];
    size_t vn = sockjs_cookie_get(hdr, "sockjs_owner", val, sizeof val);
    CHECK(vn == strlen(val) && vn < sizeof val);
    for (size_t i = 0; i < vn; i++)
        CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", val[i]));
    if (vn) CHECK(strstr(hdr, "sockjs_owner=") && strstr(hdr, val));
    free(hdr);
    free(in);
    return 0;
}
