/*
 * rng.h - a small deterministic pseudo-random generator (xoshiro256** seeded
 * by splitmix64) for reproducible synthetic data and simulations. Never for
 * secrets: those come from libsodium.
 */
#ifndef ATELIER_RNG_H
#define ATELIER_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
    int has_spare;
    double spare;
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Standard normal (Box-Muller). */
double rng_normal(struct rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);

#endif
