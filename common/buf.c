/* buf.c - growable byte buffer with optional headroom; see buf.h. */
#include "buf.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t headroom)
{
    b->mem = NULL;
    b->head = headroom;
    b->len = 0;
    b->cap = 0;
}

void buf_free(buf *b)
{
    if (!b) return;
    free(b->mem);
    b->mem = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->mem) b->mem[b->head] = '\0';
}

/* Make room for extra more bytes plus the trailing NUL. */
void buf_reserve(buf *b, size_t extra)
{
    if (b->mem && extra < b->cap - b->len) return;
    /* Sizes anywhere near SIZE_MAX are a bug upstream, like running out of memory. */
    if (extra > SIZE_MAX / 4 - b->len - b->head) abort();
    size_t want = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < want) cap *= 2;
    b->mem = xrealloc(b->mem, b->head + cap);
    b->cap = cap;
}

void buf_append(buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->mem + b->head + b->len, p, n);
    b->len += n;
    b->mem[b->head + b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->mem + b->head + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    char *d = b->mem + b->head;
    memmove(d, d + n, b->len - n);
    b->len -= n;
    d[b->len] = '\0';
}
