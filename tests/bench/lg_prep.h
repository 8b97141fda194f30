/* lg_prep.h - prepares users, sessions and rooms for a benchmark directly in Redis.
 *
 * Faster than the REST API (no password hashing, one pipelined connection) and
 * exactly what the API would have written, spelled through common/keys.h:
 *   SET  P session:<sha256hex(token)>  <userId>  EX 86400   (common/token.h)
 *   HSET P user:<id>  id name email createdAt;  SET P user-email:<email> <id>
 *   HSET P room:<id>  id name createdBy createdAt;  ZADD P rooms <createdAt> <id>
 *   SADD P room:<id>:members <userId>;  SADD P user:<id>:rooms <roomId>
 * (no password hash: these users never log in over REST). Users are split into
 * rooms of room_size consecutive users; extra empty rooms may be asked for. Ids
 * carry a random per-run tag, so runs never collide. Nothing is ever deleted: the
 * benchmark's Redis is private and thrown away. */
#ifndef LG_PREP_H
#define LG_PREP_H

#include <stddef.h>

#include "token.h"

#define LG_ID_MAX 32

typedef struct lg_users {
    size_t n, nrooms, room_size;
    char (*token)[TOKEN_LEN + 1];
    char (*id)[LG_ID_MAX];
    char (*room)[LG_ID_MAX];
} lg_users;

/* Create n users in rooms of room_size (user i joins room i / room_size), and at
 * least min_rooms rooms. Returns 0, or -1 with a message in err. */
int lg_prep(const char *url, const char *prefix, size_t n, size_t room_size,
            size_t min_rooms, lg_users *out, char *err, size_t errlen);
void lg_users_free(lg_users *u); /* accepts a zeroed lg_users */

#endif
