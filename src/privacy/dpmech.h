/*
 * dpmech.h - the differentially private release of one stratum (the design
 * in docs/OPENDATA.md): noisy sufficient statistics of the persons'
 * clamped, log-transformed and norm-clipped measurement vectors, a factor
 * model fitted to them, and synthetic rows sampled from the model.
 *
 * Pure computation over a dense table: no I/O, no storage. Two phases, kept
 * apart by the type system and by a check:
 *   noise  dp_stratum_noise reads the originals (s->x) and draws every
 *          noisy statistic with dgauss_sample (exact, libsodium randomness);
 *   post   dp_stratum_fit and dp_stratum_rows read only DP outputs; they
 *          refuse to run while s->x is still set, so post-processing cannot
 *          read the originals again. They may use any generator (rng.h).
 *
 * Columns are the stratum's measurements in measures_table[] order: 38 with
 * breasts, 30 without (p). Transform (public constants): clamp x to the
 * measure's [min, max], then u = ln(x / c) / 0.10 with c the FreeSewing base
 * of the stratum (measures_table[].base_breasts / base_flat), except
 * shoulderSlope: u = (x - 13) / 4.
 */
#ifndef ATELIER_DPMECH_H
#define ATELIER_DPMECH_H

#include <stddef.h>
#include <stdint.h>

#include "atelier/draft.h"
#include "base/rng.h"
#include "privacy/zcdp.h"

#define DP_LOG_SCALE     0.10
#define DP_SLOPE_MID     13.0
#define DP_SLOPE_SCALE   4.0
#define DP_HIST_BINS_MAX 64 /* 40 mm bins over the widest public range (2200 mm) */

/* Post-processing constants (the design's section 8 defaults). */
#define DP_SD_FLOOR     0.05  /* smallest stage 1 scale s_j (u units) */
#define DP_FACTOR_ITERS 3     /* principal-factor iterations after the first pass */
#define DP_PSI_FLOOR    0.02  /* uniquenesses at least this share of diag C */
#define DP_DEBIAS_STEPS 8     /* clipping-debias fixed-point steps */
#define DP_DEBIAS_DRAWS 20000 /* common N(0, I) draws of those steps */
#define DP_ROWS_TRIES   50    /* dp_stratum_rows draws at most this many per row */

struct dp_stratum {
    /* dp_stratum_init */
    int breasts;
    size_t p;
    int cols[MEASURES_COUNT]; /* measure index of column j */
    struct zcdp_plan plan;
    int hist_col[ZCDP_HISTS];     /* column of chest, waist, seat, inseam */
    int hist_lo[ZCDP_HISTS];      /* lower edge (mm) of bin 0 */
    size_t hist_bins[ZCDP_HISTS]; /* bins, covering the measure's public range */
    double base[MEASURES_COUNT];  /* c_j of the log transform (the stratum's base) */
    int slope_col;                /* column of shoulderSlope (linear transform) */
    int neck_col;                 /* column of neck (the plausibility rule's input) */

    /* input, set by the caller: n rows of p values (mm, degrees), not owned */
    const float *x;
    size_t n;
    int64_t n_noisy; /* the stratum's noisy eligible count (counts query) */

    /* DP outputs of dp_stratum_noise */
    int64_t s1[MEASURES_COUNT], a1[MEASURES_COUNT]; /* stage 1: sum u~, sum |u~| + noise */
    double m[MEASURES_COUNT], s[MEASURES_COUNT];    /* centre and scale, from s1, a1 */
    int64_t S[MEASURES_COUNT];                      /* stage 2: sum v~ + noise */
    int64_t *G;                                     /* p(p+1)/2: upper triangle of sum v~v~^T */
    int64_t hist[ZCDP_HISTS][DP_HIST_BINS_MAX];     /* noisy bin counts */

    /* post-processing: dp_stratum_fit (log space, u units) */
    size_t k;                    /* factors kept by the rank rule */
    double mu_u[MEASURES_COUNT]; /* model mean */
    double *loadings;            /* p x k, row-major */
    double psi[MEASURES_COUNT];  /* uniquenesses */
    double *sigma_u;             /* p x p model covariance */

    /* dp_stratum_rows: nrows x p integers (mm; degrees for shoulderSlope) */
    int32_t *rows;
    size_t nrows;
};

/* Columns, plan and histogram layout for a stratum at rho_milli per
 * release. Returns 0, ERR_INVALID or ERR_NOMEM. */
int dp_stratum_init(struct dp_stratum *s, int breasts, uint32_t rho_milli);
void dp_stratum_free(struct dp_stratum *s);

/* The public per-record maps, exposed for tests: the clamped transform of
 * column j, and the integer vectors a record contributes (ut: stage 1,
 * vt: stage 2 given centre m and scale sc), each bounded as the plan's
 * sensitivities assume. */
double dp_transform(const struct dp_stratum *s, size_t j, double x);
double dp_untransform(const struct dp_stratum *s, size_t j, double u);
void dp_record_stage1(const struct dp_stratum *s, const float *row, int32_t *ut);
void dp_record_stage2(const struct dp_stratum *s, const float *row, const double *m,
                      const double *sc, int32_t *vt);

/* Exact (noise-free) sums over n rows: what dp_stratum_noise adds noise to.
 * Exposed so that tests can check every statistic's sensitivity. */
int dp_sums_stage1(const struct dp_stratum *s, const float *x, size_t n, int64_t *s1, int64_t *a1);
int dp_sums_stage2(const struct dp_stratum *s, const float *x, size_t n, const double *m,
                   const double *sc, int64_t *S, int64_t *G);
void dp_sums_hist(const struct dp_stratum *s, const float *x, size_t n,
                  int64_t hist[ZCDP_HISTS][DP_HIST_BINS_MAX]);

/* Centre and scale from the noisy stage 1 sums (post-processing). */
void dp_centre_scale(const struct dp_stratum *s, const int64_t *s1, const int64_t *a1,
                     double n_noisy, double *m, double *sc);

/* The noise phase (needs s->x, s->n, s->n_noisy >= 1). On success it drops
 * the originals (s->x = NULL, s->n = 0), so that the post-processing phases
 * can run on s at once. Returns 0 or ERR_INVALID (on failure every output is
 * zeroed and s->x is kept). */
int dp_stratum_noise(struct dp_stratum *s);

/* The post-processing phases: ERR_INVALID while s->x is set. fit builds the
 * model (0, ERR_INVALID or ERR_NOMEM); rows draws round(n_noisy) plausible
 * synthetic rows from it (0, ERR_INVALID, ERR_NOMEM, or ERR_INTERNAL when
 * fewer than half the rows were plausible within DP_ROWS_TRIES draws per
 * row: s->rows and s->nrows then hold what was drawn). */
int dp_stratum_fit(struct dp_stratum *s, struct rng *r);
int dp_stratum_rows(struct dp_stratum *s, struct rng *r);

#endif
