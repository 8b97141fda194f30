/* lg_mix.h - the many-rooms mix: every member of many small rooms sends, open loop.
 *
 * R rooms of K members (R x K sessions); every session subscribes to its room and
 * sends to it. Sends follow a fixed open-loop schedule: message j of a step is due at
 * t0 + j / rate, from session j mod (R x K) taken room by room (consecutive messages
 * go to different rooms), and carries its *scheduled* time, so SEND->MESSAGE latency
 * includes any time the message waited behind a late loadgen or server (no
 * coordinated omission). The rate is stepped up by a factor until a step does not
 * hold (deliveries during the window below min_delivered of what was offered, a
 * message lost, or p99 above max_p99_ms) -- or down, when the first step does not
 * hold, until one does -- refined once between the last step that held and the one
 * that did not, and the latency is then measured at half that ceiling.
 * Every delivery is checked: it must come from a member of the receiver's room, in
 * per-sender order, and (our relay) with room offsets exactly +1 each time.
 *
 * Prints one "step" line per step and one "result" line. Not here: flags (loadgen.c),
 * sockets (lg_conn.c). */
#ifndef LG_MIX_H
#define LG_MIX_H

#include <stdio.h>

#include "lg.h"
#include "lg_bench.h"

typedef struct lg_mix_opts {
    size_t rooms, room_size;
    double rate0, factor;    /* first step's SEND/s (all sessions together), growth per step */
    size_t max_steps;        /* steps at most, refinement included */
    double settle_s;         /* pause after set-up (a broker may still be busy with it) */
    double warmup_s, duration_s, drain_s;
    double min_delivered;    /* a step holds when MESSAGE/s >= this share of the offered */
    double max_p99_ms;       /* ... and its p99 stays at or below this */
    size_t concurrency;
    const lg_watch *watch;
} lg_mix_opts;

/* ctx has targets, peer and users (rooms x room_size, user i in room i / room_size).
 * Returns 0 when the run could be measured (the result line says whether it was
 * clean: ok=1), -1 when set-up failed. */
int lg_bench_mix(lg_ctx *ctx, const lg_mix_opts *o, FILE *out);

#endif
