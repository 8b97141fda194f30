/* valid.h - input validation: UTF-8, code-point lengths, trimming, control
 * characters, emails and ids. Pure functions; no allocation unless stated. */
#ifndef CHAT_VALID_H
#define CHAT_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include "result.h"

/* Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF, no NUL). */
bool valid_utf8(const char *s, size_t len);
/* Code points in valid UTF-8. */
size_t valid_cp_count(const char *s, size_t len);

/* Trim Unicode white space (ASCII space/tab/CR/LF/VT/FF, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF) at both ends:
 * sets *start and returns the trimmed length. s must be valid UTF-8. */
size_t valid_trim(const char *s, size_t len, const char **start);

enum valid_flags {
    VALID_ALLOW_NEWLINES = 1 /* keep LF and TAB (messages); other controls still fail */
};

/* Validate a text field: UTF-8, trimmed, no control characters (C0, DEL, C1; with
 * VALID_ALLOW_NEWLINES, LF/CR/TAB pass), then min..max code points. On CHAT_OK,
 * *out and *out_len point at the trimmed text inside s. Otherwise CHAT_EINVALID and
 * *why names the problem ("not UTF-8", "too long", ...). */
chat_rc valid_text(const char *s, size_t len, size_t min_cp, size_t max_cp, int flags,
                   const char **out, size_t *out_len, const char **why);

/* Email: at most 254 bytes, one '@', a non-empty local part of printable ASCII
 * without spaces, a domain of dot-separated labels [A-Za-z0-9-] with at least one
 * dot. Returns CHAT_OK or CHAT_EINVALID. */
chat_rc valid_email(const char *s, size_t len);

/* Opaque id: 1..64 of [A-Za-z0-9_-]. */
bool valid_id(const char *s, size_t len);

#endif
