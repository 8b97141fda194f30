/* lg_hist.h - an HDR-like latency histogram with log-linear buckets.
 *
 * Values (nanoseconds, but any unsigned 64-bit quantity works) below 128 are counted
 * exactly; above, each power of two is split into 64 linear sub-buckets, so any
 * reported value is within 1/64 (1.6 %) below the true one. Fixed size (about 30 KiB),
 * O(1) record, no allocation after lg_hist_new. Not thread-safe (one loop records).
 * Not here: coordinated-omission correction (the caller timestamps at the intended
 * send time if it wants that). */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

typedef struct lg_hist lg_hist;

lg_hist *lg_hist_new(void);
void lg_hist_free(lg_hist *h); /* accepts NULL */
void lg_hist_reset(lg_hist *h);
void lg_hist_record(lg_hist *h, uint64_t v);
uint64_t lg_hist_count(const lg_hist *h);
uint64_t lg_hist_max(const lg_hist *h);
double lg_hist_mean(const lg_hist *h);
/* Smallest bucket value v such that at least q (0..1) of the samples are <= v's
 * bucket; the exact max for q >= 1; 0 when empty. */
uint64_t lg_hist_quantile(const lg_hist *h, double q);

#endif
