/* lg_storm.h - the reconnect storm: many sessions that missed messages come back at once.
 *
 * R rooms of K members. One extra session per room (its first member's) sends; the
 * R x K member sessions subscribe, note the room's epoch and offset from their
 * SUBSCRIBE's RECEIPT, and disconnect. Then every sender sends `missed` messages (and
 * sees each stored: its own subscription delivers them with offsets +1 each), and all
 * R x K sessions reconnect at once, each subscribing with x-since-offset and
 * x-since-epoch. Measured: the time from the first reconnect until the last session
 * has received its `missed` recovered messages, per-session catch-up times, and the CPU
 * time of the watched processes (relay, Redis) over that interval. Checked, for every
 * session: RECEIPT with x-recovered:true and the newest offset, then exactly the missed
 * offsets in order, nothing twice and nothing after them.
 *
 * Prints one "result" line. Not here: flags (loadgen.c), sockets (lg_conn.c). */
#ifndef LG_STORM_H
#define LG_STORM_H

#include <stdio.h>

#include "lg.h"
#include "lg_bench.h"

typedef struct lg_storm_opts {
    size_t rooms, room_size, missed;
    double timeout_s;   /* give up on the catch-up after this */
    size_t concurrency; /* handshakes in flight while setting up (the storm has them all) */
    const lg_watch *watch;
} lg_storm_opts;

/* ctx: our relay (chat peer), users rooms x room_size (user i in room i / room_size),
 * connection capacity rooms + 2 x rooms x room_size. Returns 0 when measured (the
 * result line's ok says whether every check passed), -1 when set-up failed. */
int lg_bench_storm(lg_ctx *ctx, const lg_storm_opts *o, FILE *out);

#endif
