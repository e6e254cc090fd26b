/*
 * dp_metrics.c - see dp_metrics.h. Plain two-pass double arithmetic; the
 * figures are for tests and benchmarks, never published. Invariant: no
 * function reads beyond n x p, and none keeps state between calls.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dp_metrics.h"

void dpm_mean_sd(const double *x, size_t n, size_t p, size_t j, double *mean, double *sd)
{
    double sum = 0.0, ss = 0.0, mu;

    for (size_t i = 0; i < n; i++)
        sum += x[i * p + j];
    mu = n ? sum / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * p + j] - mu;
        ss += d * d;
    }
    *mean = mu;
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

/* Centred cross products of columns a and b, and their sums of squares. */
static void dpm_cross(const double *x, size_t n, size_t p, size_t a, size_t b, double *sab,
                      double *saa, double *sbb)
{
    double ma, mb, sda, sdb;

    dpm_mean_sd(x, n, p, a, &ma, &sda);
    dpm_mean_sd(x, n, p, b, &mb, &sdb);
    *sab = *saa = *sbb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double da = x[i * p + a] - ma, db = x[i * p + b] - mb;
        *sab += da * db;
        *saa += da * da;
        *sbb += db * db;
    }
}

double dpm_corr(const double *x, size_t n, size_t p, size_t a, size_t b)
{
    double sab, saa, sbb;

    dpm_cross(x, n, p, a, b, &sab, &saa, &sbb);
    return saa > 0.0 && sbb > 0.0 ? sab / sqrt(saa * sbb) : 0.0;
}

double dpm_slope(const double *x, size_t n, size_t p, size_t xcol, size_t ycol)
{
    double sxy, sxx, syy;

    dpm_cross(x, n, p, xcol, ycol, &sxy, &sxx, &syy);
    return sxx > 0.0 ? sxy / sxx : 0.0;
}

static int dpm_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double dpm_quantile(const double *x, size_t n, size_t p, size_t j, double q)
{
    double *v, pos, r;
    size_t lo;

    if (n == 0 || !(v = malloc(n * sizeof *v)))
        return NAN;
    for (size_t i = 0; i < n; i++)
        v[i] = x[i * p + j];
    qsort(v, n, sizeof *v, dpm_cmp);
    pos = q * (double)(n - 1);
    lo = (size_t)floor(pos);
    r = lo + 1 < n ? v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]) : v[n - 1];
    free(v);
    return r;
}

void dpm_hist(const double *x, size_t n, size_t p, size_t j, double lo, double w, size_t bins,
              double *h)
{
    if (bins == 0)
        return;
    memset(h, 0, bins * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        double b = floor((x[i * p + j] - lo) / w);
        size_t bin = b < 0.0 ? 0 : (size_t)b;
        h[bin < bins ? bin : bins - 1] += 1.0;
    }
    for (size_t b = 0; b < bins && n; b++)
        h[b] /= (double)n;
}

double dpm_tv(const double *a, const double *b, size_t bins)
{
    double d = 0.0;

    for (size_t i = 0; i < bins; i++)
        d += fabs(a[i] - b[i]);
    return 0.5 * d;
}

void dpm_hist_dp(const int64_t *noisy, size_t bins, double sigma2, double *h)
{
    double total = 0.0, cut = 2.0 * sqrt(sigma2);

    for (size_t b = 0; b < bins; b++) {
        double c = (double)noisy[b];
        h[b] = c > 0.0 && c >= cut ? c : 0.0;
        total += h[b];
    }
    for (size_t b = 0; b < bins && total > 0.0; b++)
        h[b] /= total;
}

double *dpm_to_double(const int32_t *x, size_t n, size_t p)
{
    size_t np = n * p;
    double *d = malloc((np > 0 ? np : 1) * sizeof *d);

    for (size_t i = 0; d && i < np; i++)
        d[i] = x[i];
    return d;
}

/* Median of v[0..n), n >= 1 (v is sorted in place). */
static double dpm_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, dpm_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int dpm_compare(const double *orig, size_t n, const double *rel, size_t m, size_t p,
                size_t hist_col, double hist_lo, double hist_w, size_t hist_bins, size_t slope_x,
                size_t slope_y, struct dpm_report *out)
{
    double *dm = NULL, *sr = NULL, *tail = NULL, *ha = NULL, *hb = NULL;
    size_t pairs = 0;
    int rc = -1;

    if (!orig || !rel || n < 2 || m < 2 || p == 0 || hist_col >= p || slope_x >= p ||
        slope_y >= p || hist_bins == 0 || !out)
        return -1;
    memset(out, 0, sizeof *out);
    dm = malloc(p * sizeof *dm);
    sr = malloc(p * sizeof *sr);
    tail = malloc(p * sizeof *tail);
    ha = malloc(hist_bins * sizeof *ha);
    hb = malloc(hist_bins * sizeof *hb);
    if (!dm || !sr || !tail || !ha || !hb)
        goto out;
    out->sd_min = INFINITY;
    for (size_t j = 0; j < p; j++) {
        double mo, so, mr, sdr, p99;
        size_t above = 0;
        dpm_mean_sd(orig, n, p, j, &mo, &so);
        dpm_mean_sd(rel, m, p, j, &mr, &sdr);
        dm[j] = fabs(mr - mo);
        sr[j] = so > 0.0 ? sdr / so : 1.0;
        if (dm[j] > out->dmean_max)
            out->dmean_max = dm[j];
        if (sr[j] < out->sd_min)
            out->sd_min = sr[j];
        if (sr[j] > out->sd_max)
            out->sd_max = sr[j];
        p99 = dpm_quantile(orig, n, p, j, 0.99);
        if (isnan(p99))
            goto out;
        for (size_t i = 0; i < m; i++)
            above += rel[i * p + j] > p99;
        tail[j] = 100.0 * (double)above / (double)m;
        for (size_t k = j + 1; k < p; k++) {
            double d = fabs(dpm_corr(rel, m, p, j, k) - dpm_corr(orig, n, p, j, k));
            out->dr_mean += d;
            if (d > out->dr_max)
                out->dr_max = d;
            pairs++;
        }
    }
    out->dr_mean = pairs ? out->dr_mean / (double)pairs : 0.0;
    out->dmean_med = dpm_median(dm, p);
    out->sd_med = dpm_median(sr, p);
    out->tail_pct = dpm_median(tail, p);
    dpm_hist(orig, n, p, hist_col, hist_lo, hist_w, hist_bins, ha);
    dpm_hist(rel, m, p, hist_col, hist_lo, hist_w, hist_bins, hb);
    out->tv_rows = dpm_tv(ha, hb, hist_bins);
    double bo = dpm_slope(orig, n, p, slope_x, slope_y),
           br = dpm_slope(rel, m, p, slope_x, slope_y);
    out->slope_pct = bo != 0.0 ? 100.0 * fabs(br - bo) / fabs(bo) : 0.0;
    rc = 0;
out:
    free(dm);
    free(sr);
    free(tail);
    free(ha);
    free(hb);
    return rc;
}
