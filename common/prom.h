/* prom.h - the Prometheus text exposition format (0.0.4), written into a buf.
 *
 * No client library: a family is one prom_family() call (its # HELP and # TYPE lines)
 * followed by its samples. Labels are given as name/value pairs and escaped here.
 * Latency histograms share one fixed set of bucket bounds (prom_bounds_us), are kept
 * in integer microseconds (a prom_hist: plain counters, no allocation, cheap enough
 * for the hot path) and are written in seconds as cumulative _bucket lines with
 * le="+Inf", then _sum and _count, as the format requires.
 *
 * Deliberately not here: what is measured, registries, locking. Whoever owns the
 * counters writes them out; a process that shares counters between processes (the
 * API) adds prom_hist values together with prom_hist_add() first. */
#ifndef CHAT_PROM_H
#define CHAT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bucket upper bounds in microseconds, ascending: 100 us .. 10 s. */
#define PROM_BUCKETS 16
extern const uint64_t prom_bounds_us[PROM_BUCKETS];

typedef struct prom_hist {
    uint64_t bucket[PROM_BUCKETS + 1]; /* per bucket, NOT cumulative; the last is > 10 s */
    uint64_t sum_us;
} prom_hist;

/* The bucket index for a value in microseconds (PROM_BUCKETS when over every bound). */
static inline size_t prom_bucket(uint64_t us)
{
    size_t i = 0;
    while (i < PROM_BUCKETS && us > prom_bounds_us[i]) i++;
    return i;
}

static inline void prom_observe(prom_hist *h, uint64_t us)
{
    h->bucket[prom_bucket(us)]++;
    h->sum_us += us;
}

/* dst += src, bucket by bucket. */
void prom_hist_add(prom_hist *dst, const prom_hist *src);

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void prom_family(buf *b, const char *name, const char *type, const char *help);

/* One sample line: name{l1="v1",...} value. labels holds npairs name/value pairs
 * (labels may be NULL when npairs is 0); values are escaped (\\, \", \n). */
void prom_sample(buf *b, const char *name, const char *const *labels, size_t npairs, uint64_t v);
void prom_sample_i(buf *b, const char *name, const char *const *labels, size_t npairs, int64_t v);

/* A histogram's samples (after its prom_family): name_bucket{...,le="..."} cumulative,
 * name_sum in seconds, name_count. */
void prom_histogram(buf *b, const char *name, const char *const *labels, size_t npairs,
                    const prom_hist *h);

#endif
