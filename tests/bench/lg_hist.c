/* lg_hist.c - log-linear histogram; see lg_hist.h for the bucket layout.
 *
 * Index = the value itself below 128, else 64 sub-buckets per power of two found with
 * one count-leading-zeros; quantiles walk the 3,776 buckets once. No merging, no
 * serialisation: one histogram per run phase, read once at its end. */
#include "lg_hist.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SUB_BITS 6                        /* 64 sub-buckets per power of two */
#define SUB (1u << SUB_BITS)
#define EXACT (2 * SUB)                   /* values below this are exact */
#define NBUCKETS (EXACT + (64 - SUB_BITS - 1) * SUB)

struct lg_hist {
    uint64_t count, max;
    double sum;
    uint64_t b[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
    if (v < EXACT) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS + 1 */
    unsigned shift = e - SUB_BITS;
    return EXACT + (e - SUB_BITS - 1) * SUB + (unsigned)((v >> shift) - SUB);
}

static uint64_t value_of(unsigned i)
{
    if (i < EXACT) return i;
    unsigned k = i - EXACT, e = k / SUB + SUB_BITS + 1, shift = e - SUB_BITS;
    return ((uint64_t)(k % SUB) + SUB) << shift;
}

lg_hist *lg_hist_new(void)
{
    return xcalloc(1, sizeof(lg_hist));
}

void lg_hist_free(lg_hist *h)
{
    free(h);
}

void lg_hist_reset(lg_hist *h)
{
    memset(h, 0, sizeof *h);
}

void lg_hist_record(lg_hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v > h->max) h->max = v;
}

uint64_t lg_hist_count(const lg_hist *h)
{
    return h->count;
}

uint64_t lg_hist_max(const lg_hist *h)
{
    return h->max;
}

double lg_hist_mean(const lg_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}

uint64_t lg_hist_quantile(const lg_hist *h, double q)
{
    if (!h->count) return 0;
    if (q >= 1) return h->max;
    uint64_t want = (uint64_t)(q * (double)h->count);
    if (want < 1) want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            uint64_t v = value_of(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}
