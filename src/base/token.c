/*
 * token.c - random ids and secrets (see token.h).
 *
 * Invariants: a secret is hashed only when it has exactly the shape this
 * module produces, so a client cannot make the server hash megabytes; ids
 * and secrets come from randombytes_buf; token_unique's stream key is the
 * thread's seed with a 64-bit draw counter folded in, never used twice by
 * one thread (a thread draws fewer than 2^64 times), and each key is wiped
 * after its draw.
 */
#include <sodium.h>
#include <string.h>

#include "base/err.h"
#include "base/token.h"

void token_id(char out[TOKEN_ID_LEN + 1])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, TOKEN_ID_LEN + 1, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void token_unique(void *out, size_t n)
{
    static _Thread_local unsigned char seed[randombytes_SEEDBYTES];
    static _Thread_local uint64_t counter;
    unsigned char key[randombytes_SEEDBYTES];

    if (counter == 0)
        randombytes_buf(seed, sizeof seed);
    counter++;
    memcpy(key, seed, sizeof key);
    for (int i = 0; i < 8; i++)
        key[i] ^= (unsigned char)(counter >> (8 * i));
    randombytes_buf_deterministic(out, n, key);
    sodium_memzero(key, sizeof key);
}

void token_secret(char out[TOKEN_SECRET_LEN + 1], uint8_t hash[TOKEN_HASH_BYTES])
{
    unsigned char b[32];

    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, TOKEN_SECRET_LEN + 1, b, sizeof b,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
    crypto_generichash(hash, TOKEN_HASH_BYTES, (const unsigned char *)out, TOKEN_SECRET_LEN, NULL,
                       0);
}

int token_hash(const char *secret, uint8_t hash[TOKEN_HASH_BYTES])
{
    size_t n = strnlen(secret, TOKEN_SECRET_LEN + 1);

    if (n != TOKEN_SECRET_LEN)
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char c = secret[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return ERR_INVALID;
    }
    crypto_generichash(hash, TOKEN_HASH_BYTES, (const unsigned char *)secret, n, NULL, 0);
    return 0;
}
