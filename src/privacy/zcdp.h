/*
 * zcdp.h - the open data release's privacy accounting under zero-concentrated
 * differential privacy (zCDP; Bun and Steinke 2016), as designed in
 * docs/OPENDATA.md.
 *
 * rho is kept in integer milli-units (the per-account ledger's unit):
 * rho_milli = 250 is rho = 0.25. A release spends rho_milli on every person
 * it includes, split over five queries in fixed shares. For each query the
 * noise variance is the integer sigma2 = ceil(delta2 / (2 rho_query)), and
 * zcdp_plan_check verifies in exact integer arithmetic that
 * delta2 / (2 sigma2) <= rho_query for every query, hence that the whole
 * release spends at most rho_milli.
 */
#ifndef ATELIER_ZCDP_H
#define ATELIER_ZCDP_H

#include <stddef.h>
#include <stdint.h>

/* Mechanism constants (data-independent, published in every release). */
#define ZCDP_Q      32 /* quantisation: integer unit is 1/32 of a (scaled) log unit */
#define ZCDP_C      4  /* stage 2 clamps each standardised value to |v| <= 4 */
#define ZCDP_HISTS  4  /* sizing histograms: chest, waist, seat, inseam */
#define ZCDP_BIN_MM 40 /* their bin width, bins aligned to multiples of 40 mm */
#define ZCDP_COUNTS 4  /* count cells: incomplete, implausible, eligible with/without */

enum zcdp_query {
    ZCDP_Q_COUNTS = 0,  /* the 4 count cells (whole release), delta2 = 1 */
    ZCDP_Q_STAGE1 = 1,  /* sum of u and of |u|, delta2 = 2 B1^2 q^2 */
    ZCDP_Q_SUM = 2,     /* sum of v, delta2 = B^2 q^2 */
    ZCDP_Q_MOMENTS = 3, /* upper triangle of sum v v^T, see zcdp.c */
    ZCDP_Q_HIST = 4,    /* the 4 histograms, delta2 = 4 */
    ZCDP_Q__N = 5
};

/* Share of rho per query, in percent: 5, 10, 10, 65, 10. */
extern const unsigned zcdp_share_pct[ZCDP_Q__N];
extern const char *const zcdp_query_name[ZCDP_Q__N];

struct zcdp_plan {
    uint32_t rho_milli;         /* per release */
    size_t p;                   /* columns of the stratum (38 or 30) */
    uint64_t b2;                /* B1^2 = B^2 = ceil(2p) */
    uint64_t delta2[ZCDP_Q__N]; /* squared L2 sensitivity of each query */
    uint64_t sigma2[ZCDP_Q__N]; /* its noise variance */
};

/* The plan for a stratum of p columns at rho_milli per release.
 * Returns 0 or ERR_INVALID (p or rho out of range, or a sigma2 above
 * DGAUSS_SIGMA2_MAX). */
int zcdp_plan(uint32_t rho_milli, size_t p, struct zcdp_plan *pl);

/* 1 when every query spends at most its share (exact integer arithmetic),
 * so that the release spends at most rho_milli; else 0. */
int zcdp_plan_check(const struct zcdp_plan *pl);

/* epsilon of (epsilon, delta)-DP implied by rho-zCDP:
 * Bun-Steinke 2016: rho + 2 sqrt(rho ln(1/delta));
 * Canonne-Kamath-Steinke 2020 Cor. 13: the infimum over alpha > 1. */
double zcdp_eps_bs(double rho, double delta);
double zcdp_eps_cks(double rho, double delta);

/* Worst-case membership test: rho-zCDP Gaussian mechanisms are mu-GDP with
 * mu = sqrt(2 rho); the AUC of any in/out test is at most Phi(sqrt(rho)) and
 * its TPR at a given FPR at most Phi(Phi^-1(fpr) + mu). */
double zcdp_auc_bound(double rho);
double zcdp_tpr_bound(double rho, double fpr);

#endif
