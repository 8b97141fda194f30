/* password.h - password hashing with libsodium's crypto_pwhash_str (argon2id) at
 * the cost configured in api_cfg, and the dummy verification that makes a login for
 * an unknown email cost the same as one for a known email.
 *
 * Passwords are taken as (pointer, length) and never copied or logged here. */
#ifndef CHAT_API_PASSWORD_H
#define CHAT_API_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"

/* Hash pw[0..len) into out[API_PWHASH_MAX + 1]. CHAT_OK, or CHAT_EINTERNAL when
 * libsodium fails (out of memory for the configured memlimit). */
chat_rc api_password_hash(const api_cfg *cfg, const char *pw, size_t len, char *out);

/* Does pw match the stored hash? */
bool api_password_verify(const char *hash, const char *pw, size_t len);

/* Make the dummy hash (once per process, at the configured cost). Login calls it
 * for every attempt before looking the email up, so the one-time cost of making it
 * falls on known and unknown emails alike. */
void api_password_prepare(const api_cfg *cfg);

/* Spend the work of one verification against the dummy hash, always "failing". */
void api_password_burn(const api_cfg *cfg, const char *pw, size_t len);

#endif
