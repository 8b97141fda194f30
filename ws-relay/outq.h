/* outq.h - a session's queue of outgoing STOMP frames.
 *
 * Each queued frame is a small owned part, optionally followed by a shared,
 * refcounted tail (msg.h): a MESSAGE fanned out to a thousand subscribers is one
 * tail plus a thousand ~40-byte prefixes. Bytes are copied out only when the
 * transport can write (outq_pop into its own buffer, e.g. one with LWS_PRE headroom).
 * The queue counts the bytes it would still send so the session can bound it.
 * Deliberately not here: the bound itself and what happens past it (session). */
#ifndef RELAY_OUTQ_H
#define RELAY_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include "msg.h"

struct buf;
typedef struct outq_item outq_item;

typedef struct outq {
    outq_item *head, *tail;
    size_t bytes;   /* frame bytes queued (shared tails counted in full per frame) */
} outq;

#define OUTQ_INIT {NULL, NULL, 0}

/* Queue a whole frame (copied). */
void outq_push(outq *q, const char *frame, size_t len);
/* Queue prefix (copied) followed by shared tail m (a reference is taken). */
void outq_push_shared(outq *q, const char *prefix, size_t plen, msg_shared *m);
/* Append the oldest frame's bytes to out and drop it from the queue. Returns false
 * when the queue is empty. */
bool outq_pop(outq *q, struct buf *out);
/* Append the frames of src for which keep(shared tail, ctx) is true to dst, in order,
 * and drop the others (frames without a shared tail are kept); src is left empty. */
void outq_move_if(outq *dst, outq *src, bool (*keep)(const msg_shared *m, void *ctx), void *ctx);
/* Drop everything (releases shared tails). */
void outq_clear(outq *q);
static inline bool outq_empty(const outq *q) { return q->head == NULL; }

#endif
