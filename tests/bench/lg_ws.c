/* lg_ws.c - WebSocket client framing for the load generator; see lg_ws.h.
 *
 * Client frames are always masked (the server would close on an unmasked one); the
 * mask is applied a word at a time because publishers mask every SEND. Server frames
 * are decoded without copying. Nothing here reads or writes a socket. */
#include "lg_ws.h"

#include <stdio.h>
#include <string.h>

/* A fixed key: the handshake only needs 16 bytes of base64, and we do not verify
 * the server's answer to it (see lg_ws.h). */
#define LG_WS_KEY "bGctbG9hZGdlbi1rZXkhIQ=="

size_t lg_ws_request(char *out, size_t cap, const char *hostport, const char *path,
                     const char *protocols)
{
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " LG_WS_KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: %s\r\n"
                     "\r\n",
                     path, hostport, protocols);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

long lg_ws_response(const char *p, size_t n)
{
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!end) return n > 8192 ? -1 : 0;
    /* "HTTP/1.1 101 Switching Protocols" */
    if (end - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || memcmp(p + 8, " 101", 4) != 0) return -1;
    return (long)(end - p) + 4;
}

static void mask_bytes(uint8_t *p, size_t len, uint32_t mask)
{
    uint8_t k[4];
    memcpy(k, &mask, 4);
    size_t i = 0;
    if (len >= 8) {
        uint64_t m8;
        uint8_t kk[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
        memcpy(&m8, kk, 8);
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            w ^= m8;
            memcpy(p + i, &w, 8);
        }
    }
    for (; i < len; i++) p[i] ^= k[i & 3];
}

size_t lg_ws_encode(uint8_t *hdr, enum lg_ws_op op, uint8_t *payload, size_t len, uint32_t mask)
{
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | (op & 0x0f));
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8) hdr[h++] = (uint8_t)((uint64_t)len >> s);
    }
    memcpy(hdr + h, &mask, 4);
    h += 4;
    mask_bytes(payload, len, mask);
    return h;
}

long lg_ws_decode(uint8_t *p, size_t n, size_t max, lg_ws_frame *f)
{
    if (n < 2) return 0;
    int fin = p[0] & 0x80, op = p[0] & 0x0f, masked = p[1] & 0x80;
    if (p[0] & 0x70) return -1; /* no extension negotiated, so no RSV bits */
    uint64_t len = p[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (n < 4) return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
        h = 10;
    }
    if (op >= 0x8 && (len > 125 || !fin)) return -1;
    if (len > max || len > 0x7fffffff) return -1;
    uint32_t key = 0;
    if (masked) {
        if (n < h + 4) return 0;
        memcpy(&key, p + h, 4);
        h += 4;
    }
    if (n < h + len) return 0;
    f->op = op;
    f->fin = fin != 0;
    f->payload = p + h;
    f->len = (size_t)len;
    if (masked) mask_bytes(f->payload, f->len, key);
    return (long)(h + len);
}
