/* cursor.c - encode and decode the rooms pagination cursor; see cursor.h.
 * Decoding is strict (digits, one dot, a valid id, canonical base64url) because the
 * cursor comes from the client and ends up in a Redis range query. */
#include "cursor.h"
#include "valid.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Scores are creation times in ms; 2^53 keeps them exact as Redis doubles. */
#define SCORE_MAX ((int64_t)1 << 53)

size_t api_cursor_encode(int64_t score, const char *id, char *out, size_t cap)
{
    char raw[24 + API_ID_MAX];
    size_t idlen = strlen(id);
    if (score < 0 || score > SCORE_MAX || !valid_id(id, idlen)) return 0;
    int n = snprintf(raw, sizeof raw, "%lld.%s", (long long)score, id);
    if (n < 0 || (size_t)n >= sizeof raw) return 0;
    size_t need = sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need > cap) return 0;
    sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(out);
}

int api_cursor_decode(const char *s, int64_t *score, char id[API_ID_MAX + 1])
{
    unsigned char raw[24 + API_ID_MAX + 1];
    size_t rawlen = 0, slen = strlen(s);
    if (slen == 0 || slen > API_CURSOR_MAX) return -1;
    if (sodium_base642bin(raw, sizeof raw - 1, s, slen, NULL, &rawlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    raw[rawlen] = '\0';
    const char *dot = memchr(raw, '.', rawlen);
    if (!dot || dot == (const char *)raw || (size_t)(dot - (const char *)raw) > 16) return -1;
    int64_t v = 0;
    for (const char *p = (const char *)raw; p < dot; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    /* Only the canonical spelling: no leading zeros (so one cursor, one string). */
    if (raw[0] == '0' && dot - (const char *)raw > 1) return -1;
    size_t idlen = rawlen - (size_t)(dot + 1 - (const char *)raw);
    if (v > SCORE_MAX || !valid_id(dot + 1, idlen)) return -1;
    *score = v;
    memcpy(id, dot + 1, idlen);
    id[idlen] = '\0';
    return 0;
}

size_t api_search_cursor_encode(long long skip, char *out, size_t cap)
{
    char raw[24];
    if (skip < 1 || skip > API_SEARCH_SKIP_MAX) return 0;
    int n = snprintf(raw, sizeof raw, "s.%lld", skip);
    size_t need = sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need > cap) return 0;
    sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(out);
}

int api_search_cursor_decode(const char *s, long long *skip)
{
    unsigned char raw[16];
    size_t rawlen = 0, slen = strlen(s);
    if (slen == 0 || slen > 16) return -1;
    if (sodium_base642bin(raw, sizeof raw - 1, s, slen, NULL, &rawlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    raw[rawlen] = '\0';
    if (rawlen < 3 || rawlen > 6 || raw[0] != 's' || raw[1] != '.' || raw[2] == '0') return -1;
    long long v = 0;
    for (size_t i = 2; i < rawlen; i++) {
        if (raw[i] < '0' || raw[i] > '9') return -1;
        v = v * 10 + (raw[i] - '0');
    }
    if (v < 1 || v > API_SEARCH_SKIP_MAX) return -1;
    /* one cursor, one spelling: re-encoding must give s back */
    char again[32];
    if (api_search_cursor_encode(v, again, sizeof again) != slen || strcmp(again, s) != 0) return -1;
    *skip = v;
    return 0;
}
