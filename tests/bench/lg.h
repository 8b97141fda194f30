/* lg.h - the load generator's shared state: one context, one array of connections.
 *
 * lg_conn.c owns the sockets and the epoll loop (TCP connect from rotating loopback
 * source addresses, WebSocket upgrade, STOMP CONNECT/SUBSCRIBE, reading frames,
 * queueing writes); lg_bench.c owns what a benchmark does with ready connections
 * (publishing, counting, timing); loadgen.c parses flags and prints results. There is
 * one thread: every function here runs on the loop's thread. Connections live in one
 * array for the whole run and are addressed by index (epoll carries the index), so a
 * connection is never freed under a callback; only its buffers are. */
#ifndef LG_H
#define LG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "lg_hist.h"
#include "lg_prep.h"

enum lg_peer {
    LG_PEER_CHAT,  /* our relay: token passcode, /topic/room/<id>, JSON SEND to /app/... */
    LG_PEER_RABBIT /* RabbitMQ Web-STOMP: login/passcode, /topic/<room>, raw-text SEND */
};

enum lg_role { LG_SUB, LG_PUB };

enum lg_state {
    LG_ST_FREE = 0,   /* slot not opened yet */
    LG_ST_CONNECTING, /* TCP connect in progress */
    LG_ST_UPGRADING,  /* upgrade request sent, waiting for 101 */
    LG_ST_STOMP,      /* CONNECT sent, waiting for CONNECTED */
    LG_ST_SUBSCRIBING,/* SUBSCRIBE sent, waiting for its RECEIPT */
    LG_ST_READY,
    LG_ST_DEAD
};

typedef struct lg_target {
    struct sockaddr_in addr;
    char hostport[64];
    char path[128];
} lg_target;

typedef struct lg_conn {
    int fd;
    uint8_t state, role, out_armed, closing;
    uint16_t target;
    uint32_t user; /* index into ctx->users (chat) */
    uint32_t room; /* room index */
    uint32_t idx;  /* publisher index (PUB) or subscriber index (SUB) */
    char *in;      /* bytes of an incomplete WebSocket frame (or handshake) */
    uint32_t in_len;
    char *msg;     /* bytes of an incomplete STOMP frame */
    uint32_t msg_len;
    char *out;     /* bytes the socket did not take yet */
    uint32_t out_len, out_off, out_cap;
    uint64_t got;   /* benchmark messages received */
    uint64_t other; /* other MESSAGE frames (JOIN/LEAVE notices) */
} lg_conn;

typedef struct lg_ctx lg_ctx;
struct lg_stomp_frame;

/* What a mode may change in the connection life cycle (lg_mix.c, lg_storm.c); every
 * hook is optional, NULL keeps the pub/sub default. */
typedef struct lg_hooks {
    /* A MESSAGE frame arrived on c (instead of lg_bench_on_message). */
    void (*on_message)(lg_ctx *ctx, lg_conn *c, const struct lg_stomp_frame *f);
    /* The RECEIPT of c's SUBSCRIBE arrived; called just before c becomes READY. */
    void (*on_subscribed)(lg_ctx *ctx, lg_conn *c, const struct lg_stomp_frame *f);
    /* Write c's SUBSCRIBE frame (with a receipt) into out[cap]; returns its length
     * including the NUL, as the lg_stomp builders do (instead of the plain one). */
    size_t (*subscribe_frame)(lg_ctx *ctx, lg_conn *c, char *out, size_t cap);
    void *arg; /* the mode's own state */
} lg_hooks;

struct lg_ctx {
    /* configuration */
    int peer;
    lg_target *targets;
    size_t ntargets;
    unsigned nsources;       /* source addresses 127.0.0.2 .. 127.0.0.(1+nsources) */
    const char *login, *passcode; /* RabbitMQ credentials */
    const char *dest_prefix; /* RabbitMQ destination prefix, "/topic/" */
    lg_users users;          /* chat: prepared users and rooms */
    size_t msg_size;         /* message text bytes (100) */
    lg_hooks hooks;
    int verbose;

    /* loop */
    int ep;
    lg_conn *conns;
    size_t nconns, cap;
    size_t ready, failed, pending; /* pending = opened, not ready, not dead */
    size_t errors_shown;
    char *rx;                /* read buffer shared by all connections */
    uint64_t now;            /* monotonic ns, refreshed by lg_poll */

    /* benchmark accounting (lg_bench.c) */
    size_t npubs, nsubs;
    uint32_t *seq;           /* nsubs * npubs: last seq seen per subscriber and publisher */
    uint64_t *sent;          /* per publisher */
    lg_hist *hist;
    int measuring;           /* count deliveries into window_delivered */
    uint64_t lat_from, lat_to; /* record latency of messages sent in [from, to) */
    uint64_t delivered, window_delivered, other, reordered, gaps, bad;
    uint64_t last_other_ns;
};

/* ---- lg_conn.c ---------------------------------------------------------------- */

/* Set up the loop for up to cap connections. Returns 0 or -1 (message printed). */
int lg_ctx_init(lg_ctx *ctx, size_t cap);
void lg_ctx_free(lg_ctx *ctx);
/* Parse ws://host:port/path into t. 0 or -1. */
int lg_target_parse(const char *url, lg_target *t);
/* Open one more connection (slot ctx->nconns) with this role, user and room, to
 * target (index). Returns the slot, or -1 when no slot or no socket is left (counted
 * as failed). The connection progresses to READY or DEAD inside lg_poll. */
long lg_open(lg_ctx *ctx, int role, uint32_t user, uint32_t room, uint32_t idx, uint16_t target);
/* Close c on purpose (not counted as failed); it ends DEAD. */
void lg_close(lg_ctx *ctx, lg_conn *c);
/* Wait for events at most timeout_ns (0: poll without waiting) and handle them all.
 * Refreshes ctx->now. Returns the number of events handled, or -1 on a loop error. */
int lg_poll(lg_ctx *ctx, uint64_t timeout_ns);
/* Send one STOMP frame (len bytes including its NUL) as a WebSocket text message. */
void lg_send_stomp(lg_ctx *ctx, lg_conn *c, const char *frame, size_t len);
/* Bytes queued in c's own write buffer (what the kernel did not take). */
static inline size_t lg_backlog(const lg_conn *c) { return c->out_len - c->out_off; }
/* Monotonic clock in nanoseconds. */
uint64_t lg_now_ns(void);

/* ---- lg_bench.c: called by lg_conn.c ------------------------------------------ */

/* A MESSAGE frame's body arrived on c. */
void lg_bench_on_message(lg_ctx *ctx, lg_conn *c, const char *body, size_t len);

#endif
