/* json.h - small helpers over json-c for request parsing and fast output.
 *
 * Parsing goes through json-c (strict, depth-limited). Output on hot paths (the
 * relay's MESSAGE bodies) uses json_escape() into caller buffers, not json-c
 * objects. */
#ifndef CHAT_JSON_H
#define CHAT_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include "result.h"

/* Parse exactly one JSON object from buf[0..len). Returns the object (caller puts
 * it) with *rc = CHAT_OK, or NULL with *rc = CHAT_EMALFORMED (not JSON, trailing
 * garbage, nesting deeper than 16) or CHAT_EINVALID (JSON but not an object). */
json_object *json_parse_object(const char *buf, size_t len, chat_rc *rc);

/* The string member KEY of obj, or NULL when missing or not a string. *len, if not
 * NULL, gets its byte length (strings may hold NUL bytes). Owned by obj. */
const char *json_get_str(json_object *obj, const char *key, size_t *len);

/* Serialise obj compactly without escaping '/'. Owned by obj. */
const char *json_compact(json_object *obj);

/* Write s[0..len) as a JSON string literal body (no quotes) into out, escaping
 * quotes, backslashes and control characters. Returns the length needed; writes
 * only when it fits in cap (then NUL-terminates if room remains). */
size_t json_escape(char *out, size_t cap, const char *s, size_t len);

#endif
