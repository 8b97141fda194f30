/* lg_bench.h - what the load generator measures, on top of lg.h's connections.
 *
 * Pub/sub runs (the fan-out and latency modes are the same run, reported
 * differently; one run may measure several phases, e.g. flat out and then 10, 50
 * and 90 % of the rate it found): S subscribers and P publishers in one room; publishers send
 * msg_size-byte texts "lg <pub> <seq> <send-ns> xxx..." either at a fixed total rate
 * or flat out (each publisher keeps at most `window` messages that some live
 * subscriber has not received yet, so "flat out" is the highest rate the target
 * sustains without growing its queues). Every subscriber checks per-publisher sequence
 * numbers and records SEND->MESSAGE latency. Connection runs open idle subscribed
 * sessions in steps and read the targets' RSS at each step.
 *
 * Results are printed as one `key=value ...` line each, starting with "result" or
 * "step", for scripts to pick up. Nothing here parses flags or knows about Redis. */
#ifndef LG_BENCH_H
#define LG_BENCH_H

#include <stdio.h>
#include <sys/types.h>

#include "lg.h"

#define LG_MAX_PIDS 8

typedef struct lg_watch {
    size_t n;
    pid_t pid[LG_MAX_PIDS];
    const char *label[LG_MAX_PIDS];
} lg_watch;

#define LG_MAX_PHASES 32

/* One measured phase: a fixed total rate (messages/s; 0 = flat out under the
 * window), or pct > 0: that percentage of the median flat-out publish rate of the
 * phases before it. */
typedef struct lg_phase {
    double rate, pct;
} lg_phase;

typedef struct lg_pubsub_opts {
    size_t subs, pubs;
    const lg_phase *phases;
    size_t nphases;
    unsigned window;    /* flat out: unacknowledged messages per publisher */
    double warmup_s, duration_s, drain_s;
    size_t concurrency; /* handshakes in flight while setting up */
    const lg_watch *watch;
} lg_pubsub_opts;

typedef struct lg_conns_opts {
    const size_t *steps; /* ascending connection counts */
    size_t nsteps;
    double settle_s;     /* pause before reading RSS at each step */
    double hold_s;       /* keep the last step open this long */
    size_t concurrency;
    const lg_watch *watch;
} lg_conns_opts;

/* ---- shared with the other modes (lg_mix.c, lg_storm.c) ---- */

#define LG_MAX_CPUS 8

/* CPU seconds of the watched processes, of the loadgen and of each CPU at time t. */
typedef struct lg_cpu_sample {
    double t, self, pid[LG_MAX_PIDS], cpu[LG_MAX_CPUS];
    int ncpus;
} lg_cpu_sample;

void lg_cpu_take(const lg_watch *w, lg_cpu_sample *s);
/* " cpu.LABEL=% ... cpu.loadgen=% busy.cpuN=%": percent of one core between a and b. */
void lg_cpu_print(FILE *out, const lg_watch *w, const lg_cpu_sample *a, const lg_cpu_sample *b);
/* Open connection slots [from, to) with open_one(ctx, i, arg), keeping at most
 * concurrency handshakes in flight, until all are ready or dead or nothing moved for
 * 15 s. */
void lg_open_range(lg_ctx *ctx, size_t from, size_t to, size_t concurrency,
                   void (*open_one)(lg_ctx *, size_t, void *), void *arg);
/* Keep the loop running for s seconds. */
void lg_run_for(lg_ctx *ctx, double s);
/* Where the benchmark text "lg <pub> <seq> <ns> xxx" starts in a MESSAGE body (our
 * JSON or RabbitMQ's raw text), or NULL. */
const char *lg_find_tag(const lg_ctx *ctx, const char *body, size_t len);
/* Parse "lg <pub> <seq> <ns> " at p (before end); 0, or -1 when malformed. */
int lg_parse_tag(const char *p, const char *end, uint32_t *pub, uint32_t *seq, uint64_t *ts);

/* Run one pub/sub benchmark; the ctx has targets, peer and (chat) users set, with
 * users 0..subs-1 subscribing and the next pubs users publishing, all in room 0.
 * The connections are set up once, then each phase is measured in turn on them and
 * prints one "result" line to out. Returns 0, or -1 when setup failed entirely. */
int lg_bench_pubsub(lg_ctx *ctx, const lg_pubsub_opts *o, FILE *out);

/* Open idle subscribed sessions (user i in room i / room_size) in steps; prints one
 * "step" line per step. Stops early when over 1 % of a step's connections fail. */
int lg_bench_conns(lg_ctx *ctx, const lg_conns_opts *o, FILE *out);

#endif
