/*
 * dgauss.c - the exact discrete Gaussian sampler (see dgauss.h).
 *
 * Canonne, Kamath, Steinke 2020: with N = sigma2 and t = floor(sqrt(N)) + 1,
 * draw Y from the discrete Laplace of scale t and accept it with probability
 * exp(-(|Y| t - N)^2 / (2 N t^2)). Every step is a Bernoulli trial on a ratio
 * of integers, decided by a uniform integer from randombytes_buf.
 *
 * Invariants: no floating point and no other source of randomness; every
 * product fits unsigned __int128 (N <= 2^40 so 2 N t^2 < 2^82, and
 * candidates with ||Y| t - N| > 2^62, whose acceptance probability is below
 * exp(-2^42), are rejected outright so the squared distance fits).
 */
#include <sodium.h>

#include "base/err.h"
#include "privacy/dgauss.h"

typedef unsigned __int128 u128;

#define DGAUSS_FAR ((u128)1 << 62)

/* Uniform in [0, n), n >= 1: a masked draw, rejected until below n. */
static u128 dgauss_uniform(u128 n)
{
    u128 mask = n - 1, v;

    for (int shift = 1; shift < 128; shift <<= 1)
        mask |= mask >> shift;
    do {
        v = 0;
        randombytes_buf(&v, sizeof v);
        v &= mask;
    } while (v >= n);
    return v;
}

/* Bernoulli(num / den), num <= den. */
static int dgauss_bernoulli(u128 num, u128 den)
{
    return dgauss_uniform(den) < num;
}

/* Bernoulli(num / (den k)), num <= den, k >= 1. When den k does not fit
 * 128 bits the trial is the product of two independent ones,
 * Bernoulli(num / den) and Bernoulli(1 / k), which has the same law. */
static int dgauss_bernoulli_k(u128 num, u128 den, u128 k)
{
    if (den <= ~(u128)0 / k)
        return dgauss_bernoulli(num, den * k);
    return dgauss_bernoulli(num, den) && dgauss_bernoulli(1, k);
}

/* Bernoulli(exp(-num / den)) for num <= den (CKS Algorithm 1, gamma <= 1):
 * count k while Bernoulli(gamma / k) succeeds; 1 when the stop is odd. */
static int dgauss_bexp_small(u128 num, u128 den)
{
    u128 k = 1;

    while (dgauss_bernoulli_k(num, den, k))
        k++;
    return (int)(k & 1);
}

int dgauss_bernoulli_exp(u128 num, u128 den)
{
    if (den == 0)
        return 0;
    while (num > den) {
        if (!dgauss_bexp_small(1, 1))
            return 0;
        num -= den;
    }
    return dgauss_bexp_small(num, den);
}

/* Discrete Laplace of scale t >= 1 (CKS Algorithm 2), as sign and
 * magnitude. */
static void dgauss_laplace(uint64_t t, int *neg, u128 *mag)
{
    for (;;) {
        u128 u = dgauss_uniform(t), v = 0;
        if (!dgauss_bernoulli_exp(u, t))
            continue;
        while (dgauss_bernoulli_exp(1, 1))
            v++;
        *mag = u + (u128)t * v;
        *neg = dgauss_bernoulli(1, 2);
        if (!(*neg && *mag == 0))
            return;
    }
}

static uint64_t dgauss_isqrt(uint64_t n)
{
    uint64_t r = 0;

    for (uint64_t bit = UINT64_C(1) << 62; bit; bit >>= 2) {
        if (n >= r + bit) {
            n -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

int dgauss_sample(uint64_t sigma2, int64_t *out)
{
    if (sigma2 < 1 || sigma2 > DGAUSS_SIGMA2_MAX)
        return ERR_INVALID;
    uint64_t t = dgauss_isqrt(sigma2) + 1;
    u128 den = (u128)2 * sigma2 * t * t;

    for (;;) {
        int neg;
        u128 mag;
        dgauss_laplace(t, &neg, &mag);
        u128 yt = mag * t;
        u128 d = yt > sigma2 ? yt - sigma2 : sigma2 - yt;
        if (mag > DGAUSS_FAR || d > DGAUSS_FAR)
            continue;
        if (dgauss_bernoulli_exp(d * d, den)) {
            *out = neg ? -(int64_t)mag : (int64_t)mag;
            return 0;
        }
    }
}
