/* cursor.h - the opaque pagination cursor of GET /api/rooms.
 *
 * A cursor names the last room of a page by its position in the `rooms` sorted set:
 * its score (creation time, Unix ms) and its id, which breaks ties between rooms
 * created in the same millisecond. It is "score.id" in unpadded base64url so clients
 * treat it as opaque. Pure functions, no I/O. */
#ifndef CHAT_API_CURSOR_H
#define CHAT_API_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define API_CURSOR_MAX 128 /* encoded characters, without the NUL; enough for any valid cursor */

/* Encode (score, id) into out[cap]. Returns the length, or 0 when id is not a valid
 * id, score is negative or out is too small. */
size_t api_cursor_encode(int64_t score, const char *id, char *out, size_t cap);

/* Decode s; on success returns 0 with *score and id[API_ID_MAX + 1] filled.
 * Returns -1 for anything that api_cursor_encode() could not have produced. */
int api_cursor_decode(const char *s, int64_t *score, char id[API_ID_MAX + 1]);

#endif
