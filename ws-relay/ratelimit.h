/* ratelimit.h - a token bucket for per-session SEND limits.
 *
 * Pure arithmetic on a caller-owned bucket and a caller-supplied clock (milliseconds),
 * so it is unit-testable without sleeping. Tokens are kept in thousandths so a rate
 * like 20/s refills one token every 50 ms without floating point. No allocation, no
 * globals, no I/O. Deliberately not here: what happens to a limited message (the
 * session drops it and answers ERROR rate-limited). */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rl_conf {
    uint32_t burst;    /* bucket size in tokens (>= 1) */
    uint32_t per_sec;  /* tokens added per second (0 = never refills) */
} rl_conf;

typedef struct rl_bucket {
    int64_t last_ms;   /* clock at the last refill */
    uint64_t milli;    /* tokens * 1000 currently in the bucket */
} rl_bucket;

/* Start full at time now_ms. */
void rl_init(rl_bucket *b, const rl_conf *c, int64_t now_ms);

/* Take one token at time now_ms: true if there was one (the action may proceed),
 * false if the bucket is empty (nothing is taken). A clock going backwards refills
 * nothing. */
bool rl_take(rl_bucket *b, const rl_conf *c, int64_t now_ms);

#endif
