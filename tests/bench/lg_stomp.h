/* lg_stomp.h - the client half of STOMP 1.2 the load generator needs.
 *
 * Builders for the frames a client sends (CONNECT, SUBSCRIBE, SEND) and a splitter
 * that finds whole server frames in a byte range. Pure: no I/O, no allocation, no
 * global state. Deliberately not a full STOMP implementation: header values are not
 * unescaped (we only read receipt-id, message and content-length, which never need
 * it) and the server frames we care about are CONNECTED, MESSAGE, RECEIPT, ERROR. */
#ifndef LG_STOMP_H
#define LG_STOMP_H

#include <stddef.h>

enum lg_stomp_cmd {
    LG_STOMP_HEARTBEAT = 0, /* one or more bare EOLs between frames */
    LG_STOMP_CONNECTED,
    LG_STOMP_MESSAGE,
    LG_STOMP_RECEIPT,
    LG_STOMP_ERROR,
    LG_STOMP_OTHER
};

typedef struct lg_stomp_frame {
    int cmd;            /* enum lg_stomp_cmd */
    const char *hdr;    /* header lines, after the command line */
    size_t hdr_len;
    const char *body;
    size_t body_len;
} lg_stomp_frame;

/* Split the first frame off p[0..n). Returns the bytes it takes (its NUL and any
 * EOLs before it included), 0 when the frame is incomplete, -1 when malformed. */
long lg_stomp_next(const char *p, size_t n, lg_stomp_frame *f);

/* Value of header `name` in f (the first occurrence, as STOMP says); NULL if absent.
 * *len gets its length. */
const char *lg_stomp_header(const lg_stomp_frame *f, const char *name, size_t *len);

/* Builders: each writes one NUL-terminated STOMP frame into out[cap] and returns
 * its length including the NUL, or 0 when it does not fit. Header values are passed
 * through as given (callers use plain ids). login may be NULL (no login header). */
size_t lg_stomp_connect(char *out, size_t cap, const char *host, const char *login,
                        const char *passcode);
size_t lg_stomp_subscribe(char *out, size_t cap, const char *id, const char *dest,
                          const char *receipt);
/* SUBSCRIBE with the recovery headers x-since-offset and x-since-epoch. */
size_t lg_stomp_subscribe_since(char *out, size_t cap, const char *id, const char *dest,
                                const char *receipt, long long since_offset,
                                const char *since_epoch);
size_t lg_stomp_send(char *out, size_t cap, const char *dest, const char *ctype,
                     const char *body, size_t body_len);

#endif
