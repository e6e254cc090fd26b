/*
 * rng.c - xoshiro256** with splitmix64 seeding (see rng.h). Deterministic
 * across platforms: only 64-bit integer arithmetic and IEEE doubles.
 */
#include <math.h>

#include "base/rng.h"

uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&seed);
    r->has_spare = 0;
    r->spare = 0;
}

static uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s, result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_normal(struct rng *r)
{
    double u, v;

    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    do
        u = rng_uniform(r);
    while (u <= 0.0);
    v = rng_uniform(r);
    double mag = sqrt(-2.0 * log(u));
    r->spare = mag * sin(2.0 * M_PI * v);
    r->has_spare = 1;
    return mag * cos(2.0 * M_PI * v);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;

    do
        x = rng_next(r);
    while (x >= limit);
    return x % n;
}
