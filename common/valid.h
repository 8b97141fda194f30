/* valid.h - input validation: UTF-8, code-point lengths, trimming, control
 * characters, emails and ids. Pure functions; no allocation unless stated. */
#ifndef CHAT_VALID_H
#define CHAT_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include "result.h"

/* The project's one UTF-8 decoder: the code point at s[i..len) into *cp; returns its
 * length in bytes, or 0 when it is not well-formed (overlong, surrogate, above
 * U+10FFFF, truncated, a stray continuation byte). NUL decodes as U+0000. */
size_t valid_utf8_decode(const unsigned char *s, size_t len, size_t i, unsigned *cp);
/* And its encoder: cp (a scalar value) as UTF-8 into out[0..4); returns 1..4. */
size_t valid_utf8_encode(unsigned cp, char *out);
/* Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF, no NUL). */
bool valid_utf8(const char *s, size_t len);
/* Code points in valid UTF-8. */
size_t valid_cp_count(const char *s, size_t len);

/* Trim Unicode white space (ASCII space/tab/CR/LF/VT/FF, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF) at both ends:
 * sets *start and returns the trimmed length. s must be valid UTF-8. */
size_t valid_trim(const char *s, size_t len, const char **start);

enum valid_flags {
    VALID_ALLOW_NEWLINES = 1, /* keep LF and TAB (messages); other controls still fail */
    VALID_NAME = 2            /* a name: no bidirectional controls or invisible format
                               * characters (valid_invisible), and one visible
                               * character at least */
};

/* Code points a name may not hold: bidirectional controls (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069) and invisible format or filler characters (U+00AD,
 * U+034F, U+115F, U+1160, U+17B4, U+17B5, U+180B..U+180F, U+200B, U+2060..U+2064,
 * U+206A..U+206F, U+3164, U+FEFF, U+FFA0, U+FFF9..U+FFFB, U+1D173..U+1D17A,
 * U+E0000..U+E007F). Zero-width joiners (U+200C, U+200D) and variation selectors
 * stay allowed (emoji sequences, Persian and Indic scripts) but are not visible. */
bool valid_forbidden_in_name(unsigned cp);

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

/* The form an email is stored and compared in: ASCII lower case, into out[len + 1]
 * (s must have passed valid_email). */
void valid_email_lower(const char *s, size_t len, char *out);

/* Opaque id: 1..64 of [A-Za-z0-9_-]. */
bool valid_id(const char *s, size_t len);

#endif
