/*
 * test_randombytes.h - a deterministic libsodium randombytes implementation,
 * for unit tests only: ChaCha20 keystream under a key made from a 64-bit
 * seed. It lets the tests of the exact noise sampler and of the release
 * pin known-answer draws; the product never links it.
 */
#ifndef ATELIER_TEST_RANDOMBYTES_H
#define ATELIER_TEST_RANDOMBYTES_H

#include <stdint.h>

/* Install the implementation (before sodium_init) and seed it.
 * Returns 0, or -1 when libsodium refuses. */
int test_randombytes_install(uint64_t seed);

/* Restart the stream from a seed. */
void test_randombytes_seed(uint64_t seed);

/* Bytes handed out since the last seed. */
uint64_t test_randombytes_used(void);

#endif
