/* outq.c - singly linked FIFO of outgoing frames with shared tails; see outq.h.
 * Deliberately not here: limits (the session bounds the queue) and any I/O. */
#include "outq.h"
#include "buf.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct outq_item {
    outq_item *next;
    msg_shared *shared; /* NULL for a frame that is entirely in own[] */
    size_t len;         /* bytes in own[] */
    char own[];
};

static void push(outq *q, outq_item *it)
{
    it->next = NULL;
    if (q->tail) q->tail->next = it;
    else q->head = it;
    q->tail = it;
    q->bytes += it->len + (it->shared ? it->shared->len : 0);
}

void outq_push(outq *q, const char *frame, size_t len)
{
    outq_item *it = xmalloc(sizeof *it + len);
    it->shared = NULL;
    it->len = len;
    memcpy(it->own, frame, len);
    push(q, it);
}

void outq_push_shared(outq *q, const char *prefix, size_t plen, msg_shared *m)
{
    outq_item *it = xmalloc(sizeof *it + plen);
    it->shared = msg_shared_ref(m);
    it->len = plen;
    memcpy(it->own, prefix, plen);
    push(q, it);
}

bool outq_pop(outq *q, buf *out)
{
    outq_item *it = q->head;
    if (!it) return false;
    q->head = it->next;
    if (!q->head) q->tail = NULL;
    size_t total = it->len + (it->shared ? it->shared->len : 0);
    buf_reserve(out, total);
    buf_append(out, it->own, it->len);
    if (it->shared) {
        buf_append(out, it->shared->data, it->shared->len);
        msg_shared_unref(it->shared);
    }
    q->bytes -= total;
    free(it);
    return true;
}

void outq_clear(outq *q)
{
    outq_item *it = q->head, *next;
    for (; it; it = next) {
        next = it->next;
        msg_shared_unref(it->shared);
        free(it);
    }
    q->head = q->tail = NULL;
    q->bytes = 0;
}

void outq_move_if(outq *dst, outq *src, bool (*keep)(const msg_shared *m, void *ctx), void *ctx)
{
    outq_item *it = src->head, *next;
    src->head = src->tail = NULL;
    src->bytes = 0;
    for (; it; it = next) {
        next = it->next;
        if (!it->shared || keep(it->shared, ctx)) {
            push(dst, it);
        } else {
            msg_shared_unref(it->shared);
            free(it);
        }
    }
}
