/* token.c - bearer tokens and opaque ids from libsodium's CSPRNG; SHA-256 for the
 * stored form. No I/O here; see token.h. */
#include "token.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int token_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void token_new(char out[TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_LEN + 1, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool token_wellformed(const char *s, size_t len)
{
    if (!s || len != TOKEN_LEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!memchr(b64url, s[i], sizeof b64url - 1) || s[i] == '\0') return false;
    return true;
}

void token_hash(const char *token, size_t len, char out[TOKEN_HASH_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, len);
    sodium_bin2hex(out, TOKEN_HASH_LEN + 1, h, sizeof h);
}

void token_id(char *out, size_t n)
{
    /* Letters and digits only: ids are read aloud and pasted by people. */
    if (n > 32) n = 32;
    for (size_t i = 0; i < n; i++) out[i] = b64url[randombytes_uniform(62)];
    out[n] = '\0';
}

bool token_from_bearer(const char *h, size_t len, const char **tok, size_t *tlen)
{
    while (len && *h == ' ') h++, len--;
    if (len < 7 || strncasecmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    len -= 7;
    while (len && *h == ' ') h++, len--;
    while (len && h[len - 1] == ' ') len--;
    *tok = h;
    *tlen = len;
    return true;
}
