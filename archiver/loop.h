/* loop.h - chat-archiver's work: the consumer group on the archive feed, batches into
 * the archive, acknowledgement after the commit, claiming a dead consumer's entries,
 * back-fill from room histories when feed entries were lost, retention.
 *
 * Single-threaded and blocking (hiredis sync, SQLite/libpq sync); the only other
 * thread is the metrics responder. archiver_run() returns when *stop becomes non-zero
 * (checked at least once a second) and never acknowledges a feed entry whose message
 * is not committed in the archive. */
#ifndef CHAT_ARCHIVER_LOOP_H
#define CHAT_ARCHIVER_LOOP_H

#include "redis.h"

#include <signal.h>

typedef struct archiver_conf {
    const char *archive_url;
    redis_url redis;
    int redis_timeout_ms;
    int batch;              /* ARCHIVE_BATCH: entries per read and per transaction */
    int retention_days;     /* ARCHIVE_RETENTION_DAYS, 0 = keep forever */
    int expire_seconds;     /* ARCHIVE_EXPIRE_SECONDS: how often retention runs */
    int claim_idle_ms;      /* entries pending this long on another consumer are taken over */
    const char *consumer;   /* this archiver's name in the group */
} archiver_conf;

/* The consumer group's name on the feed. */
#define ARCHIVER_GROUP "archiver"

/* Run until *stop. 0 on a clean stop. */
int archiver_run(const archiver_conf *conf, volatile sig_atomic_t *stop);

#endif
