/*
 * rng.h - the project's one deterministic pseudo-random generator
 * (xoshiro256** seeded by splitmix64) for reproducible synthetic data and
 * simulations: `atelier populate`, the anonymization figures' tape error,
 * unit tests and benchmarks all draw from it, so a seed names the same stream
 * everywhere. Never for secrets: those come from libsodium.
 *
 * The streams are part of what tests and published figures rely on: the
 * same seed must keep giving the same numbers. Change none of the functions
 * below without knowing that (tests/unit/test_rng.c pins them).
 */
#ifndef ATELIER_RNG_H
#define ATELIER_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
    int has_spare;
    double spare;
};

/* Advance a splitmix64 state and return its next output: how rng_seed
 * spreads a seed, and a cheap 64-bit mixer for hashing. */
uint64_t rng_splitmix(uint64_t *state);
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Standard normal (Box-Muller on u in (0, 1), a draw of 0 rejected, and v:
 * returns sqrt(-2 ln u) cos(2 pi v), then the sin of the same pair). */
double rng_normal(struct rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);

#endif
