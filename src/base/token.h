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

/* n bytes that must be unique and unpredictable but are no secret: AEAD
 * nonces (stored beside their ciphertext) and request ids. They come from a
 * per-thread ChaCha20 stream keyed from the system CSPRNG on the thread's
 * first draw, so a draw costs no system call (getrandom was three of a
 * PATCH's seventeen). The program never forks; a process that did would
 * have to draw no more from a thread it copied. Not for ids or secrets:
 * those come from the system CSPRNG every time. */
void token_unique(void *out, size_t n);

/* Hash of a secret presented by a client. Returns 0, or ERR_INVALID when it
 * does not have the form of a secret (then hash is unset). */
int token_hash(const char *secret, uint8_t hash[TOKEN_HASH_BYTES]);

#endif
