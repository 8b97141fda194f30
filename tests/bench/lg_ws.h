/* lg_ws.h - the load generator's minimal WebSocket client framing (RFC 6455).
 *
 * Pure functions, no I/O and no allocation: build the HTTP upgrade request, recognise
 * the server's 101 answer, encode masked client frames, decode server frames in place.
 * Deliberately not here: permessage-deflate or any other extension (we never offer
 * one), checking Sec-WebSocket-Accept (a load generator trusts its target; a wrong
 * server shows up as a protocol failure a frame later), frames over 2^31 bytes. */
#ifndef LG_WS_H
#define LG_WS_H

#include <stddef.h>
#include <stdint.h>

enum lg_ws_op {
    LG_WS_CONT = 0x0,
    LG_WS_TEXT = 0x1,
    LG_WS_BINARY = 0x2,
    LG_WS_CLOSE = 0x8,
    LG_WS_PING = 0x9,
    LG_WS_PONG = 0xA
};

/* Largest header a client frame needs: 2 + 8 (length) + 4 (mask key). */
#define LG_WS_HDR_MAX 14

/* Write the upgrade request for ws://host:port/path offering `protocols` (a
 * comma-separated Sec-WebSocket-Protocol list) into out[cap]. Returns its length, or
 * 0 when it does not fit. */
size_t lg_ws_request(char *out, size_t cap, const char *hostport, const char *path,
                     const char *protocols);

/* Look for the end of the server's handshake answer in p[0..n). Returns the number
 * of bytes it takes (frames may follow in the same read) when it is complete and says
 * "101"; 0 when more bytes are needed; -1 when it is complete and not a 101 (or
 * unreasonably long). */
long lg_ws_response(const char *p, size_t n);

/* Encode a masked frame with opcode op and FIN set: the header goes to hdr (at least
 * LG_WS_HDR_MAX bytes) and the payload is masked in place (so it must be writable).
 * mask is the 4-byte masking key. Returns the header length. */
size_t lg_ws_encode(uint8_t *hdr, enum lg_ws_op op, uint8_t *payload, size_t len, uint32_t mask);

/* One decoded server frame; payload points into the caller's buffer (unmasked in
 * place if the server masked it, which servers must not do but may). */
typedef struct lg_ws_frame {
    int op;      /* enum lg_ws_op */
    int fin;     /* last fragment of a message */
    uint8_t *payload;
    size_t len;
} lg_ws_frame;

/* Decode the frame at the start of p[0..n). Returns the bytes the whole frame takes,
 * 0 when more bytes are needed, -1 for a malformed frame (reserved bits, a control
 * frame over 125 bytes or fragmented, a payload over max). */
long lg_ws_decode(uint8_t *p, size_t n, size_t max, lg_ws_frame *f);

#endif
