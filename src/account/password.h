/*
 * password.h - password policy and hashing.
 *
 * Policy (SPEC section 3): 8..1024 bytes, valid UTF-8, no composition rules;
 * refused when zxcvbn estimates fewer than 10^6 guesses (LIMIT_PASSWORD_BITS),
 * with the user's own words (username, email, its local part and the parts
 * of both split on . _ - + @) given to zxcvbn as a user dictionary.
 *
 * Hashes are libsodium argon2id PHC strings. At most password_set_slots()
 * (default: one per core) hashes or verifications run at once (a semaphore),
 * so logins cannot starve the rest nor grow memory without bound.
 */
#ifndef ATELIER_PASSWORD_H
#define ATELIER_PASSWORD_H

#include <stddef.h>
#include <sodium.h>

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Set argon2id cost (t, memory in bytes); refuses below t=2, m=19 MiB.
 * Call before serving (defaults: t=2, m=19 MiB). */
int password_set_cost(unsigned long long t, size_t mem);

/* How many hashes may run at once: 1 to the number of cores (0: one per
 * core). Each running hash holds the argon2id memory (19 MiB by default),
 * so this bounds the server's memory under a login flood. Call before the
 * first hash. Returns 0 or ERR_INVALID. */
int password_set_slots(unsigned n);

/* 0 when acceptable, else ERR_INVALID with, in why, the end of a sentence
 * whose subject the caller gives (the field: "new_password " + why), naming
 * the rule: "is too short: ...", "is too long: ...", "is not valid UTF-8
 * text", "is too easy to guess: <why>". user_words is a NULL-terminated
 * list (may be NULL). */
int password_check(const char *pw, size_t n, const char *const *user_words, char *why, size_t whyn);

/* Hash into out (PASSWORD_HASH_MAX bytes). Returns 0 or ERR_NOMEM. */
int password_hash(const char *pw, size_t n, char out[PASSWORD_HASH_MAX]);

/* 0 when pw matches hash, ERR_UNAUTHENTICATED otherwise. */
int password_verify(const char *hash, const char *pw, size_t n);

/* 1 when the hash was made with other parameters than the current ones. */
int password_needs_rehash(const char *hash);

/* Spend the time of one verification without a hash, so that "no such
 * account" costs the same as "wrong password". */
void password_dummy_verify(const char *pw, size_t n);

#endif
