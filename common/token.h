/* token.h - bearer tokens: 32 random bytes, shown to the client as 43 characters of
 * unpadded base64url, stored in Redis only as the lowercase hex SHA-256 of that text.
 *
 * This module does no I/O; the Redis lookup of a hash is the caller's (sync in the
 * API, async in the relay), both through keys_session(). */
#ifndef CHAT_TOKEN_H
#define CHAT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_LEN 43      /* characters, without the NUL */
#define TOKEN_HASH_LEN 64 /* hex characters, without the NUL */

/* Call once before any other function (initialises libsodium). Returns 0 or -1. */
int token_init(void);
void token_new(char out[TOKEN_LEN + 1]);
/* True when s has exactly the shape of a token (length and alphabet). */
bool token_wellformed(const char *s, size_t len);
/* The token in an Authorization value "Bearer <token>" (scheme case-insensitive,
 * spaces around the token ignored): *tok, *tlen point into h. False when h does not
 * use the Bearer scheme; the token itself is not checked (token_wellformed). */
bool token_from_bearer(const char *h, size_t len, const char **tok, size_t *tlen);
void token_hash(const char *token, size_t len, char out[TOKEN_HASH_LEN + 1]);
/* Random opaque id of n (<= 32) base64url characters, e.g. for users and rooms. */
void token_id(char *out, size_t n);

#endif
