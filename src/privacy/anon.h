/*
 * anon.h - microaggregation of measurement tables and the release gates of
 * SPEC section 6. Pure computation over dense row-major matrices: no I/O,
 * no storage, deterministic for a given input and seed.
 *
 * x[i*p + j] is record i's value of column j (mm, or degrees). anon_mdav
 * groups the records (z-standardised, squared Euclidean distance) into
 * groups of k..2k-1 and writes each record's group mean of the ORIGINAL
 * values, rounded to integers, into y. anon_measure computes every figure
 * the release publishes and gates on.
 */
#ifndef ATELIER_ANON_H
#define ATELIER_ANON_H

#include <stddef.h>
#include <stdint.h>

enum anon_method {
    ANON_MDAV_PLAIN = 0, /* textbook MDAV, O(n^2 p / k) */
    ANON_MDAV_FAST = 1,  /* the scalable variant used for large n (see anon.c) */
};

/* Microaggregate n records of p columns with group size k (k >= 2, n >= k).
 * y (n*p) receives the released values; *groups the number of groups.
 * Returns 0, ERR_INVALID for bad sizes, ERR_NOMEM. */
int anon_mdav(const double *x, size_t n, size_t p, size_t k, enum anon_method method, double *y,
              size_t *groups);

/* The figures of a release (SPEC section 6; reference: measurements-anonymization
 * section 4.8). Percentages are 0..100. */
struct anon_figures {
    size_t n, p, k;
    size_t groups;        /* distinct released rows */
    size_t min_run;       /* smallest number of identical released rows */
    double max_risk;      /* 1 / min_run */
    double dbrl;          /* % originals whose nearest released row is their own (ties split) */
    double partial;       /* % singled out knowing 4 columns within +-10 mm */
    double sdid;          /* % interval disclosure, c = 0.05 */
    double il;            /* 100 * SSE / SST */
    double il1s;          /* mean IL1s */
    double corr_change;   /* mean |r_jl - r'_jl| over column pairs */
    double max_mean_diff; /* max_j |mean_j - mean'_j|, mm */
    double *mae;          /* p values: mean |x - y| per column (malloc'd; anon_figures_free) */
};

/* Compute the figures of release y for originals x. partial_cols holds the
 * 4 column indices the partial-knowledge attacker knows (chest, waist, seat,
 * hpsToWaistBack), or -1 entries to skip that figure (partial = 0). seed
 * drives the attacker's simulated tape error. Returns 0, ERR_INVALID (bad
 * sizes, NULL pointers, non-finite values) or ERR_NOMEM. */
int anon_measure(const double *x, const double *y, size_t n, size_t p, size_t k,
                 const int partial_cols[4], uint64_t seed, struct anon_figures *f);
void anon_figures_free(struct anon_figures *f);

/* The gates: min_run >= k, dbrl <= 100/k + 1, partial <= 5, il <= 25,
 * corr_change <= 0.12 (and sdid <= 1, max_mean_diff <= 0.5 + rounding).
 * Returns 1 when every gate passes; otherwise 0 and why names the first
 * failing gate with its figure and threshold. */
int anon_gates_pass(const struct anon_figures *f, char *why, size_t whyn);

#endif
