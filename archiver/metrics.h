/* metrics.h - chat-archiver's counters and its GET /metrics (Prometheus text).
 *
 * The consumer loop bumps the counters (atomics: the HTTP side runs on its own thread
 * and only reads them). metrics_start() serves GET /metrics on METRICS_HOST:METRICS_PORT
 * to loopback clients only (403 JSON otherwise, judged by the socket's peer address,
 * never a header); any other path is 404 JSON, another method 405 JSON.
 * Deliberately not here: what the loop does. */
#ifndef CHAT_ARCHIVER_METRICS_H
#define CHAT_ARCHIVER_METRICS_H

#include "buf.h"
#include "prom.h"

#include <stdatomic.h>
#include <stdint.h>

enum am_err { AM_ERR_REDIS, AM_ERR_ARCHIVE, AM_ERR_MALFORMED, AM_ERR_N };

typedef struct archiver_metrics {
    atomic_uint_fast64_t archived;      /* rows inserted from the feed */
    atomic_uint_fast64_t duplicates;    /* rows already there (re-deliveries) */
    atomic_uint_fast64_t backfilled;    /* rows inserted by back-fill from room histories */
    atomic_uint_fast64_t batches;       /* committed batches */
    atomic_uint_fast64_t expired;       /* rows deleted by retention */
    atomic_uint_fast64_t lost_detected; /* times feed entries were found trimmed unread */
    atomic_uint_fast64_t errors[AM_ERR_N];
    atomic_int_fast64_t pending;        /* the group's delivered-but-unacknowledged entries */
    atomic_int_fast64_t lag;            /* entries not yet delivered to the group (-1 unknown) */
    atomic_int_fast64_t length;         /* entries in the feed stream */
    atomic_int_fast64_t lag_ms;         /* age of the oldest entry not archived yet (0: none) */
    atomic_int_fast64_t last_commit_ms; /* wall clock of the last commit (0: none yet) */
    atomic_int redis_up, archive_up;
    atomic_uint_fast64_t commit_bucket[PROM_BUCKETS + 1]; /* commit latency, like prom_hist */
    atomic_uint_fast64_t commit_sum_us;
} archiver_metrics;

extern archiver_metrics am;

void am_commit_observe(uint64_t us);

/* The exposition into b (reset first). */
void am_write(buf *b, const char *consumer);

/* Listen on host:port and serve from a thread. 0, or -1 (logged) when it cannot bind. */
int metrics_start(const char *host, int port, const char *consumer);
/* Stop the thread and close the socket (safe when not started). */
void metrics_stop(void);

#endif
