/* cursor.h - the opaque pagination cursors of GET /api/rooms and GET /api/search.
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

/* The cursor of GET /api/search: how many results the next page skips, as "s.N"
 * (N canonical decimal, 1..API_SEARCH_SKIP_MAX) in unpadded base64url. */
#define API_SEARCH_SKIP_MAX 1000 /* results reachable by paging: the best 1000 */

/* Encode skip into out[cap]; the length, or 0 when skip is out of range or out too small. */
size_t api_search_cursor_encode(long long skip, char *out, size_t cap);

/* Decode s into *skip: 0, or -1 for anything encode could not have produced. */
int api_search_cursor_decode(const char *s, long long *skip);

#endif
