/* recover.h - the pure decisions of a SUBSCRIBE that asks to recover what it missed
 * (x-since-offset: N, x-since-epoch: E; docs/STOMP.md, "History and recovery").
 *
 * The subscription is set up in this order (command.c): the room's channel is
 * subscribed, the subscription is linked in as pending (live messages are held), then
 * one atomic script reads the room's epoch, its newest offset M and the stored
 * messages after N. Every message with an offset above M therefore arrives live (and
 * is held); messages up to M are in the replay. These functions decide whether the
 * replay is complete, and which held messages follow it. No I/O, no state.
 *
 * Deliberately not here: reading history (store.c), queues (session.c). */
#ifndef RELAY_RECOVER_H
#define RELAY_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct recover_in {
    int64_t since;            /* N, the last stored offset the client saw */
    const char *since_epoch;  /* E */
    const char *epoch;        /* the room's epoch now ("" when it has no history) */
    int64_t newest;           /* M, the room's newest offset now (0: none) */
    const int64_t *offsets;   /* the stored messages after N that were read, oldest first */
    size_t n;
    size_t max;               /* RECOVER_MAX */
} recover_in;

/* True when the replay is exactly what the client missed: the epochs are equal, N is
 * not ahead of M, and the messages read are N+1, N+2, ..., M (each +1, none missing,
 * at most max of them). False otherwise: the client gets live messages only and fills
 * the gap itself (GET /api/rooms/{id}/messages?after=N). */
bool recover_ok(const recover_in *in);

/* Whether a message held while the subscription was set up is delivered after the
 * replay: presence notices (offset 0) always; a stored message only when it is newer
 * than what the replay covered (recovered: up to newest; not recovered: nothing). */
bool recover_keep_held(int64_t offset, bool recovered, int64_t newest);

#endif
