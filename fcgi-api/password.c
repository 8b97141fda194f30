/* password.c - argon2id hashing and timing-equalised verification; see password.h.
 * It does not decide password rules (users.c validates lengths) or count failures
 * (sessions.c). */
#include "password.h"
#include "log.h"
#include "store.h"

#include <sodium.h>
#include <string.h>

_Static_assert(crypto_pwhash_STRBYTES <= API_PWHASH_MAX + 1, "pwhash buffer too small");

chat_rc api_password_hash(const api_cfg *cfg, const char *pw, size_t len, char *out)
{
    if (crypto_pwhash_str(out, pw, len, cfg->pw_ops, cfg->pw_mem) != 0) {
        log_error("password", "problem=\"crypto_pwhash_str failed\" opslimit=%llu memlimit=%zu",
                  cfg->pw_ops, cfg->pw_mem);
        return CHAT_EINTERNAL;
    }
    return CHAT_OK;
}

bool api_password_verify(const char *hash, const char *pw, size_t len)
{
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

static char dummy[crypto_pwhash_STRBYTES];

void api_password_prepare(const api_cfg *cfg)
{
    if (dummy[0]) return;
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    if (crypto_pwhash_str(dummy, (const char *)secret, sizeof secret, cfg->pw_ops, cfg->pw_mem) != 0) {
        log_error("password", "problem=\"dummy hash failed\"");
        dummy[0] = '\0';
    }
    sodium_memzero(secret, sizeof secret);
}

void api_password_burn(const api_cfg *cfg, const char *pw, size_t len)
{
    api_password_prepare(cfg);
    if (!dummy[0]) return;
    /* The outcome is known (it fails); only the work matters. */
    if (crypto_pwhash_str_verify(dummy, pw, len) == 0) log_error("password", "problem=\"dummy hash matched\"");
}
