/*
 * dp_metrics.h - test-only utility figures of a synthetic release against
 * its originals (the design's section 6 and 8 metrics), shared by the
 * release's unit tests, attack tests and benchmarks. Tables are row-major
 * n x p doubles; nothing here touches the release code.
 */
#ifndef ATELIER_DP_METRICS_H
#define ATELIER_DP_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Mean and sample SD (n - 1) of column j. */
void dpm_mean_sd(const double *x, size_t n, size_t p, size_t j, double *mean, double *sd);

/* Pearson correlation of columns a and b (0 when either is constant). */
double dpm_corr(const double *x, size_t n, size_t p, size_t a, size_t b);

/* Least-squares slope of column y on column x. */
double dpm_slope(const double *x, size_t n, size_t p, size_t xcol, size_t ycol);

/* Quantile q of column j, linear interpolation between order statistics
 * (numpy's default). Returns NAN on allocation failure. */
double dpm_quantile(const double *x, size_t n, size_t p, size_t j, double q);

/* Histogram of column j into bins [lo + b w, lo + (b + 1) w), values outside
 * put in the first or last bin; h[b] are proportions (sum 1 when n > 0). */
void dpm_hist(const double *x, size_t n, size_t p, size_t j, double lo, double w, size_t bins,
              double *h);

/* Total variation distance 0.5 sum |a_b - b_b| between two proportion
 * vectors. */
double dpm_tv(const double *a, const double *b, size_t bins);

/* The published DP histogram as proportions: negatives set to 0, bins below
 * 2 sqrt(sigma2) set to 0, normalised (all zero when nothing is left). */
void dpm_hist_dp(const int64_t *noisy, size_t bins, double sigma2, double *h);

/* A released int32 table as doubles (malloc'd; NULL on failure). */
double *dpm_to_double(const int32_t *x, size_t n, size_t p);

struct dpm_report {
    double dmean_max, dmean_med;   /* |mean released - mean original|, max / median over columns */
    double sd_min, sd_med, sd_max; /* SD released / SD original over columns */
    double dr_mean, dr_max;        /* |r released - r original| over column pairs */
    double tv_rows;                /* TV of column `hist_col` in the given bins */
    double slope_pct;              /* |relative error| of the slope of `y` on `x`, % */
    double tail_pct;               /* % of released rows above the originals' P99,
                                      median over columns */
};

/* The figures of a released table rel (m rows) against the originals orig
 * (n rows), p columns each. Returns 0, or -1 on bad input or allocation
 * failure. */
int dpm_compare(const double *orig, size_t n, const double *rel, size_t m, size_t p,
                size_t hist_col, double hist_lo, double hist_w, size_t hist_bins, size_t slope_x,
                size_t slope_y, struct dpm_report *out);

#endif
