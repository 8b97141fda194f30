/* peer.c - the client's address; see peer.h. */
#include "peer.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A plain IPv4 or IPv6 address (what inet_pton accepts), at most 45 bytes. */
static bool is_ip(const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char bin[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof tmp) return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1;
}

static bool is_loopback(const char *s)
{
    return strncmp(s, "127.", 4) == 0 || strcmp(s, "::1") == 0 || strncmp(s, "::ffff:127.", 11) == 0;
}

static void put(char *out, size_t cap, const char *s, size_t len)
{
    if (!is_ip(s, len) || len >= cap) {
        snprintf(out, cap, "-");
        return;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

void peer_pick(const char *sock, const char *xff, char *out, size_t cap)
{
    if (xff && is_loopback(sock)) {
        const char *end = xff + strlen(xff);
        while (end > xff && (end[-1] == ' ' || end[-1] == '\t')) end--;
        const char *start = end;
        while (start > xff && start[-1] != ',') start--;
        while (start < end && (*start == ' ' || *start == '\t')) start++;
        if (is_ip(start, (size_t)(end - start))) {
            put(out, cap, start, (size_t)(end - start));
            return;
        }
    }
    put(out, cap, sock, strlen(sock));
}

void peer_name(struct lws *wsi, char *out, size_t cap)
{
    char sock[INET6_ADDRSTRLEN + 8] = "", xff[512];
    lws_get_peer_simple(wsi, sock, sizeof sock);
    int n = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
    peer_pick(sock, n > 0 ? xff : NULL, out, cap);
}
