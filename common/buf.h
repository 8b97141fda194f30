/* buf.h - a growable byte buffer (abort on OOM, like every allocation here).
 *
 * Used for building responses and frames. The buffer may reserve `head` bytes of
 * headroom in front of the data (libwebsockets wants LWS_PRE before what it sends);
 * data() points past the headroom. Always NUL-terminated after len for convenience. */
#ifndef CHAT_BUF_H
#define CHAT_BUF_H

#include <stddef.h>

typedef struct buf {
    char *mem;   /* allocation: head bytes of headroom, then data */
    size_t head; /* headroom in front of the data */
    size_t len;  /* bytes of data */
    size_t cap;  /* bytes of data that fit without growing */
} buf;

void buf_init(buf *b, size_t headroom);
void buf_free(buf *b); /* accepts a zeroed or already freed buf */
void buf_reset(buf *b); /* len = 0, keeps memory */
static inline char *buf_data(const buf *b) { return b->mem ? b->mem + b->head : (char *)""; }
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes of data (for consumers of a stream). */
void buf_consume(buf *b, size_t n);

#endif
