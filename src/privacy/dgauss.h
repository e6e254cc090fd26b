/*
 * dgauss.h - exact sampling from the discrete Gaussian N_Z(0, sigma2) over
 * the integers (Canonne, Kamath, Steinke 2020, Algorithms 1-3), the only
 * source of the open data release's noise.
 *
 * Integers only: every probability is a ratio of integers (unsigned
 * __int128), every uniform comes from libsodium's randombytes_buf by
 * rejection with a power-of-two mask. No floating point, no seeded
 * generator, no rand(): floating-point noise leaks (Mironov 2012). Tests make
 * the draws reproducible by installing their own randombytes implementation
 * (randombytes_set_implementation), never by a switch in this module.
 */
#ifndef ATELIER_DGAUSS_H
#define ATELIER_DGAUSS_H

#include <stdint.h>

/* Largest variance accepted: 2^40. */
#define DGAUSS_SIGMA2_MAX (UINT64_C(1) << 40)

/* One draw from N_Z(0, sigma2), 1 <= sigma2 <= DGAUSS_SIGMA2_MAX, into *out.
 * Returns 0 or ERR_INVALID (sigma2 out of range). */
int dgauss_sample(uint64_t sigma2, int64_t *out);

/* Bernoulli(exp(-num/den)), den >= 1: 1 with that probability, else 0.
 * Exposed for the unit tests. */
int dgauss_bernoulli_exp(unsigned __int128 num, unsigned __int128 den);

#endif
