/* util.h - allocation wrappers and small helpers shared by every program.
 *
 * Allocation policy (one for the whole project): running out of memory is not a
 * recoverable condition for a chat server, so the x* wrappers log and abort(). Code
 * never checks their result for NULL. */
#ifndef CHAT_UTIL_H
#define CHAT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Wall-clock time in Unix milliseconds, and a monotonic clock in milliseconds. */
int64_t now_ms(void);
int64_t mono_ms(void);
/* The monotonic clock in microseconds (latencies). */
int64_t mono_us(void);

/* Parse a whole decimal string into [min,max]; returns 0 on success, -1 otherwise. */
int parse_long(const char *s, long min, long max, long *out);

#endif
