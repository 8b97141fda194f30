/* ratelimit.c - token bucket in thousandths of a token; see ratelimit.h.
 *
 * Only arithmetic: no clock of its own (callers pass mono_ms()), no allocation. */
#include "ratelimit.h"

void rl_init(rl_bucket *b, const rl_conf *c, int64_t now_ms)
{
    b->last_ms = now_ms;
    b->milli = (uint64_t)(c->burst ? c->burst : 1) * 1000u;
}

/* Refill for the time since the last call (capped at the burst), then take one
 * token if there is a whole one. Returns true when a token was taken. */
bool rl_take(rl_bucket *b, const rl_conf *c, int64_t now_ms)
{
    uint64_t cap = (uint64_t)(c->burst ? c->burst : 1) * 1000u;
    if (now_ms > b->last_ms) {
        uint64_t dt = (uint64_t)(now_ms - b->last_ms);
        /* per_sec tokens per 1000 ms = per_sec thousandths per ms. Cap dt first so the
         * product cannot overflow after a very long idle period. */
        if (dt > 86400000u) dt = 86400000u;
        uint64_t add = dt * c->per_sec;
        b->milli = b->milli + add > cap ? cap : b->milli + add;
        b->last_ms = now_ms;
    }
    if (b->milli < 1000u) return false;
    b->milli -= 1000u;
    return true;
}
