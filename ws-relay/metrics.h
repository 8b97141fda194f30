/* metrics.h - the relay's counters and its GET /metrics (Prometheus text format).
 *
 * Plain integers in one process-wide struct, bumped with RM_ADD() at the points where
 * things already happen (session.c, command.c, rooms.c, rds.c, relay.c, sockjs*.c):
 * no lock (one thread), no allocation, no lookup on the hot path. Gauges that the
 * relay already knows (sessions, rooms) are read at scrape time. With METRICS=0 the
 * counters stay at zero and /metrics answers 404 (for the on/off benchmark).
 *
 * /metrics answers loopback peers only, judged by the socket's peer address
 * (common/loopback.h); anyone else gets 403 with the JSON error body.
 *
 * Deliberately not here: the exposition format (common/prom.h). */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prom.h"
#include "result.h"
#include "stomp.h"

struct lws;

/* Transports a client connection can use (label "transport"). */
enum rm_transport {
    RM_T_WEBSOCKET = 0,    /* /ws/websocket, raw STOMP over WebSocket */
    RM_T_SOCKJS_WEBSOCKET,
    RM_T_SOCKJS_XHR_STREAMING,
    RM_T_SOCKJS_XHR,
    RM_T_SOCKJS_EVENTSOURCE,
    RM_T_N
};

enum { RM_REDIS_CMD = 0, RM_REDIS_SUB = 1 };

/* How a SUBSCRIBE with x-since-offset/x-since-epoch ended (label "outcome"). */
enum rm_recovery {
    RM_REC_RECOVERED = 0,  /* every missed message replayed */
    RM_REC_EPOCH_CHANGED,  /* the room's history is another one: live only */
    RM_REC_INCOMPLETE,     /* gap, trimmed history, more than RECOVER_MAX: live only */
    RM_REC_TOO_LARGE,      /* the replay would not fit the client's queue: live only */
    RM_REC_N
};

typedef struct relay_metrics {
    uint64_t conns_opened[RM_T_N];
    int64_t conns_open[RM_T_N];
    int64_t subscriptions;                 /* live STOMP subscriptions */
    uint64_t frames_in[STOMP_CMD_UNKNOWN + 1];
    uint64_t published;                    /* SENDs stored and published */
    uint64_t deliveries;                   /* MESSAGE frames queued to subscribers */
    uint64_t bytes_out;                    /* STOMP bytes handed to transports */
    uint64_t slow_dropped;                 /* sessions closed as slow consumers */
    uint64_t rate_limited;                 /* SENDs refused by the rate limit */
    uint64_t errors[CHAT_EINTERNAL + 1];   /* ERROR frames by chat_rc (slug at scrape) */
    uint64_t redis_reconnects[2];          /* RM_REDIS_CMD, RM_REDIS_SUB */
    uint64_t redis_failures[2];            /* failed connects and lost connections */
    uint64_t recoveries[RM_REC_N];         /* SUBSCRIBE recoveries by outcome */
    prom_hist redis_latency;               /* command sent -> reply */
    prom_hist deliver_latency;             /* message ts -> queued to local subscribers */
} relay_metrics;

extern relay_metrics rm;
extern bool rm_on;

#define RM_ADD(field, n) do { if (rm_on) rm.field += (n); } while (0)

/* Read METRICS (0 turns counting and /metrics off). */
void rm_init(bool on);

static inline void rm_conn_open(enum rm_transport t)
{
    RM_ADD(conns_opened[t], 1);
    RM_ADD(conns_open[t], 1);
}
static inline void rm_conn_close(enum rm_transport t) { RM_ADD(conns_open[t], -1); }
static inline void rm_observe(prom_hist *h, int64_t us)
{
    if (rm_on) prom_observe(h, us > 0 ? (uint64_t)us : 0);
}

/* The "ts" of a message body (Unix ms), or -1 when it has none. Looks near the end
 * first, where msg_body() puts it. Pure. */
int64_t rm_body_ts(const char *body, size_t len);

/* The whole exposition into out (cleared first). */
void rm_write(struct buf *out);

/* For relay.c's plain-HTTP hook: 1 when path is not /metrics (not ours), else the
 * value the lws callback returns after answering (200, 403 or 404). */
int rm_http(struct lws *wsi, const char *path);

#endif
