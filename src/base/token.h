/*
 * token.h - random identifiers and bearer secrets.
 *
 * Ids (accounts, models, sessions) are 128 random bits, base64url without
 * padding (22 characters): unguessable, and safe in paths. Secrets (session,
 * confirmation and reset tokens) are 256 random bits, base64url (43
 * characters); only their BLAKE2b-256 hash is ever stored.
 */
#ifndef ATELIER_TOKEN_H
#define ATELIER_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_ID_LEN     22
#define TOKEN_SECRET_LEN 43
#define TOKEN_HASH_BYTES 32

/* A new id into out (TOKEN_ID_LEN + 1 bytes). */
void token_id(char out[TOKEN_ID_LEN + 1]);

/* A new secret into out and its hash into hash. */
void token_secret(char out[TOKEN_SECRET_LEN + 1], uint8_t hash[TOKEN_HASH_BYTES]);

/* Hash of a secret presented by a client. Returns 0, or ERR_INVALID when it
 * does not have the form of a secret (then hash is unset). */
int token_hash(const char *secret, uint8_t hash[TOKEN_HASH_BYTES]);

#endif
