/* pubsub.h - routes the Redis Pub/Sub connection's events to the relay's modules:
 * room channels to rooms.c (fan-out), the revoked channel to sessions (logout), the
 * left channel to rooms.c (REST leave); on (re)connect it subscribes the two fixed
 * channels and every room with local subscribers again.
 *
 * Deliberately not here: the connection itself (rds.c) and what the messages mean
 * beyond picking their recipient. */
#ifndef RELAY_PUBSUB_H
#define RELAY_PUBSUB_H

#include "rds.h"

/* The hooks to give rds_start(). */
const rds_events *ps_events(void);

/* Parse "{roomId} {userId}" from the left channel: 0 and the two ranges, or -1 when
 * either part is not a valid id. */
int ps_parse_left(const char *msg, size_t len, const char **room, size_t *rlen,
                  const char **user, size_t *ulen);

#endif
