/*
 * dpmech.c - the differentially private release of one stratum (see
 * dpmech.h; the design's section 3, steps 2 to 8).
 *
 * Noise phase (reads the originals, once):
 *   transform  x clamped to the measure's public [min, max], then
 *              u = ln(x / c) / 0.10 (shoulderSlope: (x - 13) / 4);
 *   stage 1    u norm-clipped to ||u|| <= B1 (B1^2 = 2p), quantised
 *              ut = round(32 u), repaired in integers to sum ut^2 <= B1^2 q^2;
 *              S1 = sum ut and A1 = sum |ut| get N_Z(0, sigma2 stage1) each;
 *              the centre m and scale s come from them (post-processing);
 *   stage 2    v = (u - m) / s, |v_j| <= 4, ||v|| <= B (B^2 = 2p),
 *              vt = round(32 v), repaired to sum vt^2 <= B^2 q^2 and
 *              |vt_j| <= 128; S = sum vt and the upper triangle of
 *              G = sum vt vt^T get the sum and moments noise;
 *   histograms chest, waist, seat, inseam: one count per record in one 40 mm
 *              bin each, plus the histogram noise on every bin of the layout.
 * Post-processing (reads only DP outputs, refuses to run while s->x is set):
 *   fit        noise-aware factor model of C = M - mu mu^T - I/(12 q^2),
 *              clipping debias over 20,000 common draws (moment-matched:
 *              mean 0 and covariance I exactly), map back to u units;
 *   rows       u ~ N(mu_u, Sigma_u), back to mm, rounded, clamped, the
 *              implausible refused, round(n~) rows.
 *
 * Invariants:
 *  - every record's integer vectors satisfy the bounds the plan's delta2
 *    assume whatever the input (NaN and infinities included: the clamp sends
 *    them to a bound), because the bounds are enforced on the final integers
 *    (dp_repair), not on the floating-point values before rounding;
 *  - sums are exact int64 (|G_jk| <= 16384 n); the hot loop of G adds int32
 *    products into int32 block accumulators of at most DP_FLUSH records
 *    (16384 * 65536 = 2^30 < 2^31), flushed into int64;
 *  - all noise on the data comes from dgauss_sample, drawn in a fixed order
 *    (s1, a1, S, G, histograms); post-processing draws come from the
 *    caller's rng only;
 *  - matrices are dense p x p row-major with p <= MEASURES_COUNT.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atelier/draft.h"
#include "base/err.h"
#include "base/util.h"
#include "privacy/dgauss.h"
#include "privacy/dpmech.h"

#define DP_MC    MEASURES_COUNT
#define DP_TRI   (DP_MC * (DP_MC + 1) / 2)
#define DP_VMAX  (ZCDP_C * ZCDP_Q) /* floor(c q) = 128 */
#define DP_FLUSH 65536             /* records per int32 accumulator block */

static const char *const dp_hist_names[ZCDP_HISTS] = {"chest", "waist", "seat", "inseam"};

static void *dp_alloc(size_t a, size_t b)
{
    size_t total;

    if (!size_mul(a, b, &total))
        return NULL;
    return calloc(total ? total : 1, 1);
}

static double dp_clamp(double v, double lo, double hi)
{
    if (!(v >= lo)) /* NaN too */
        return lo;
    return v > hi ? hi : v;
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */

int dp_stratum_init(struct dp_stratum *s, int breasts, uint32_t rho_milli)
{
    size_t tri;
    int rc = ERR_INVALID;

    if (!s)
        return ERR_INVALID;
    memset(s, 0, sizeof *s);
    s->breasts = breasts != 0;
    s->slope_col = s->neck_col = -1;
    for (int i = 0; i < MEASURES_COUNT; i++) {
        const struct measure *me = &measures_table[i];
        if (!s->breasts && me->breasts_only)
            continue;
        if (strcmp(me->name, "shoulderSlope") == 0)
            s->slope_col = (int)s->p;
        if (strcmp(me->name, "neck") == 0)
            s->neck_col = (int)s->p;
        s->base[s->p] = s->breasts ? me->base_breasts : me->base_flat;
        s->cols[s->p++] = i;
    }
    if (s->slope_col < 0 || s->neck_col < 0)
        goto out;
    for (int h = 0; h < ZCDP_HISTS; h++) {
        int i = measures_find(dp_hist_names[h]);
        s->hist_col[h] = -1;
        for (size_t j = 0; j < s->p; j++)
            if (s->cols[j] == i)
                s->hist_col[h] = (int)j;
        if (s->hist_col[h] < 0)
            goto out;
        const struct measure *me = &measures_table[i];
        double lo = floor(me->min / ZCDP_BIN_MM) * ZCDP_BIN_MM;
        s->hist_lo[h] = (int)lo;
        s->hist_bins[h] = (size_t)floor((me->max - lo) / ZCDP_BIN_MM) + 1;
        if (s->hist_bins[h] > DP_HIST_BINS_MAX)
            goto out;
    }
    rc = zcdp_plan(rho_milli, s->p, &s->plan);
    if (rc)
        goto out;
    rc = ERR_INVALID;
    if (!zcdp_plan_check(&s->plan) || s->plan.b2 != 2 * (uint64_t)s->p)
        goto out;
    rc = ERR_NOMEM;
    if (!size_mul(s->p, s->p + 1, &tri))
        goto out;
    s->G = dp_alloc(tri / 2, sizeof *s->G);
    if (!s->G)
        goto out;
    rc = 0;
out:
    if (rc)
        dp_stratum_free(s);
    return rc;
}

void dp_stratum_free(struct dp_stratum *s)
{
    if (!s)
        return;
    free(s->G);
    free(s->loadings);
    free(s->sigma_u);
    free(s->rows);
    s->G = NULL;
    s->loadings = NULL;
    s->sigma_u = NULL;
    s->rows = NULL;
    s->nrows = 0;
    s->k = 0;
}

/* ------------------------------------------------------------------------ */
/* The public per-record maps                                               */

double dp_transform(const struct dp_stratum *s, size_t j, double x)
{
    if (!s || j >= s->p)
        return 0.0;
    const struct measure *me = &measures_table[s->cols[j]];
    x = dp_clamp(x, me->min, me->max);
    if ((int)j == s->slope_col)
        return (x - DP_SLOPE_MID) / DP_SLOPE_SCALE;
    return log(x / s->base[j]) / DP_LOG_SCALE;
}

double dp_untransform(const struct dp_stratum *s, size_t j, double u)
{
    if (!s || j >= s->p)
        return 0.0;
    if ((int)j == s->slope_col)
        return DP_SLOPE_MID + DP_SLOPE_SCALE * u;
    return s->base[j] * exp(DP_LOG_SCALE * u);
}

/* Round to the nearest integer (halves away from zero), within +-2^30. */
static int32_t dp_round(double v)
{
    if (!(v > -1073741824.0)) /* NaN too */
        return 0;
    if (v > 1073741824.0)
        return 1073741824;
    return (int32_t)(v < 0.0 ? v - 0.5 : v + 0.5);
}

/* Bring t[0..p) within |t_j| <= cap and sum t_j^2 <= bound2 by moving values
 * toward 0 only (so no bound, once met, is broken again). A large excess is
 * first scaled away by truncation toward zero (|trunc(f t)| <= f |t|, so the
 * sum drops to about f^2 times itself); what remains, a few units after the
 * callers' floating-point clip, goes one step at a time, always on the
 * largest |t_j| (the lowest j on ties). */
static void dp_repair(int32_t *t, size_t p, int64_t bound2, int32_t cap)
{
    int64_t sum = 0;

    for (size_t j = 0; j < p; j++) {
        if (t[j] > cap)
            t[j] = cap;
        else if (t[j] < -cap)
            t[j] = -cap;
        sum += (int64_t)t[j] * t[j];
    }
    if (sum > bound2 + bound2 / 16) {
        double f = sqrt((double)bound2 / (double)sum);
        sum = 0;
        for (size_t j = 0; j < p; j++) {
            t[j] = (int32_t)(f * t[j]);
            sum += (int64_t)t[j] * t[j];
        }
    }
    while (sum > bound2) {
        size_t jm = 0;
        int32_t am = 0;
        for (size_t j = 0; j < p; j++) {
            int32_t a = t[j] < 0 ? -t[j] : t[j];
            if (a > am) {
                am = a;
                jm = j;
            }
        }
        sum -= 2 * (int64_t)am - 1;
        t[jm] += t[jm] > 0 ? -1 : 1;
    }
}

/* Scale w[0..p) onto the ball ||w||^2 <= b2. */
static void dp_norm_clip(double *w, size_t p, double b2)
{
    double n2 = 0.0;

    for (size_t j = 0; j < p; j++)
        n2 += w[j] * w[j];
    if (n2 > b2) {
        double f = sqrt(b2 / n2);
        for (size_t j = 0; j < p; j++)
            w[j] *= f;
    }
}

void dp_record_stage1(const struct dp_stratum *s, const float *row, int32_t *ut)
{
    double u[DP_MC];
    size_t p = s->p;

    for (size_t j = 0; j < p; j++)
        u[j] = dp_transform(s, j, row[j]);
    dp_norm_clip(u, p, (double)s->plan.b2);
    for (size_t j = 0; j < p; j++)
        ut[j] = dp_round(ZCDP_Q * u[j]);
    dp_repair(ut, p, (int64_t)s->plan.b2 * ZCDP_Q * ZCDP_Q, INT32_MAX);
}

void dp_record_stage2(const struct dp_stratum *s, const float *row, const double *m,
                      const double *sc, int32_t *vt)
{
    double v[DP_MC];
    size_t p = s->p;

    for (size_t j = 0; j < p; j++)
        v[j] = dp_clamp((dp_transform(s, j, row[j]) - m[j]) / sc[j], -ZCDP_C, ZCDP_C);
    dp_norm_clip(v, p, (double)s->plan.b2);
    for (size_t j = 0; j < p; j++)
        vt[j] = dp_round(ZCDP_Q * v[j]);
    dp_repair(vt, p, (int64_t)s->plan.b2 * ZCDP_Q * ZCDP_Q, DP_VMAX);
}

/* ------------------------------------------------------------------------ */
/* Exact sums                                                               */

static int dp_rows_ok(const struct dp_stratum *s, const float *x, size_t n)
{
    size_t np;

    return s && s->p > 0 && (x || n == 0) && size_mul(n, s->p, &np);
}

int dp_sums_stage1(const struct dp_stratum *s, const float *x, size_t n, int64_t *s1, int64_t *a1)
{
    int32_t ut[DP_MC];

    if (!dp_rows_ok(s, x, n) || !s1 || !a1)
        return ERR_INVALID;
    memset(s1, 0, s->p * sizeof *s1);
    memset(a1, 0, s->p * sizeof *a1);
    for (size_t i = 0; i < n; i++) {
        dp_record_stage1(s, x + i * s->p, ut);
        for (size_t j = 0; j < s->p; j++) {
            s1[j] += ut[j];
            a1[j] += ut[j] < 0 ? -(int64_t)ut[j] : ut[j];
        }
    }
    return 0;
}

/* G += the int32 block accumulator, which is then cleared. */
static void dp_flush(int64_t *G, int32_t *acc, size_t tri)
{
    for (size_t t = 0; t < tri; t++) {
        G[t] += acc[t];
        acc[t] = 0;
    }
}

int dp_sums_stage2(const struct dp_stratum *s, const float *x, size_t n, const double *m,
                   const double *sc, int64_t *S, int64_t *G)
{
    int32_t vt[DP_MC], acc[DP_TRI];
    size_t p, tri, block = 0;

    if (!dp_rows_ok(s, x, n) || !m || !sc || !S || !G)
        return ERR_INVALID;
    p = s->p;
    tri = p * (p + 1) / 2;
    memset(S, 0, p * sizeof *S);
    memset(G, 0, tri * sizeof *G);
    memset(acc, 0, sizeof acc);
    for (size_t i = 0; i < n; i++) {
        dp_record_stage2(s, x + i * p, m, sc, vt);
        int32_t *a = acc;
        for (size_t j = 0; j < p; j++) {
            int32_t vj = vt[j];
            S[j] += vj;
            /* the hot loop: products of |vt| <= 128 fit int32 */
            for (size_t k = j; k < p; k++)
                a[k - j] += vj * vt[k];
            a += p - j;
        }
        if (++block == DP_FLUSH) {
            dp_flush(G, acc, tri);
            block = 0;
        }
    }
    dp_flush(G, acc, tri);
    return 0;
}

void dp_sums_hist(const struct dp_stratum *s, const float *x, size_t n,
                  int64_t hist[ZCDP_HISTS][DP_HIST_BINS_MAX])
{
    if (!hist)
        return;
    memset(hist, 0, sizeof(int64_t) * ZCDP_HISTS * DP_HIST_BINS_MAX);
    if (!dp_rows_ok(s, x, n))
        return;
    for (size_t i = 0; i < n; i++) {
        for (int h = 0; h < ZCDP_HISTS; h++) {
            const struct measure *me = &measures_table[s->cols[s->hist_col[h]]];
            double v = dp_clamp(x[i * s->p + (size_t)s->hist_col[h]], me->min, me->max);
            double b = floor((v - s->hist_lo[h]) / ZCDP_BIN_MM);
            size_t bin = b < 0.0 ? 0 : (size_t)b;
            if (bin >= s->hist_bins[h])
                bin = s->hist_bins[h] - 1;
            hist[h][bin]++;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Centre and scale (post-processing of stage 1)                            */

/* E|X| for X ~ N(m, sd^2): the folded normal's mean, increasing in sd. */
static double dp_folded_mean(double m, double sd)
{
    double am = fabs(m);

    return sd * sqrt(2.0 / M_PI) * exp(-am * am / (2.0 * sd * sd)) + am * erf(am / (sd * M_SQRT2));
}

void dp_centre_scale(const struct dp_stratum *s, const int64_t *s1, const int64_t *a1,
                     double n_noisy, double *m, double *sc)
{
    double nq;

    if (!s || !s1 || !a1 || !m || !sc)
        return;
    nq = ZCDP_Q * (n_noisy >= 1.0 ? n_noisy : 1.0);
    for (size_t j = 0; j < s->p; j++) {
        double mj = (double)s1[j] / nq, target = (double)a1[j] / nq;
        double lo = DP_SD_FLOOR, hi = target * sqrt(M_PI / 2.0);
        m[j] = mj;
        /* E|X| >= sd sqrt(2/pi) (it grows with |m|), so f(hi) >= target */
        if (!(dp_folded_mean(mj, lo) < target) || !(hi > lo)) {
            sc[j] = DP_SD_FLOOR;
            continue;
        }
        for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (dp_folded_mean(mj, mid) < target)
                lo = mid;
            else
                hi = mid;
        }
        sc[j] = 0.5 * (lo + hi);
    }
}

/* ------------------------------------------------------------------------ */
/* The noise phase                                                          */

static int dp_add_noise(int64_t *v, size_t n, uint64_t sigma2)
{
    for (size_t i = 0; i < n; i++) {
        int64_t z;
        int rc = dgauss_sample(sigma2, &z);
        if (rc)
            return rc;
        v[i] += z;
    }
    return 0;
}

int dp_stratum_noise(struct dp_stratum *s)
{
    const uint64_t *sg;
    size_t p, tri;
    int rc = ERR_INVALID;

    if (!s || !s->x || s->n_noisy < 1 || !s->G || !dp_rows_ok(s, s->x, s->n))
        return ERR_INVALID;
    p = s->p;
    tri = p * (p + 1) / 2;
    sg = s->plan.sigma2;
    rc = dp_sums_stage1(s, s->x, s->n, s->s1, s->a1);
    if (rc || (rc = dp_add_noise(s->s1, p, sg[ZCDP_Q_STAGE1])) != 0 ||
        (rc = dp_add_noise(s->a1, p, sg[ZCDP_Q_STAGE1])) != 0)
        goto out;
    dp_centre_scale(s, s->s1, s->a1, (double)s->n_noisy, s->m, s->s);
    rc = dp_sums_stage2(s, s->x, s->n, s->m, s->s, s->S, s->G);
    if (rc || (rc = dp_add_noise(s->S, p, sg[ZCDP_Q_SUM])) != 0 ||
        (rc = dp_add_noise(s->G, tri, sg[ZCDP_Q_MOMENTS])) != 0)
        goto out;
    dp_sums_hist(s, s->x, s->n, s->hist);
    for (int h = 0; h < ZCDP_HISTS; h++)
        if ((rc = dp_add_noise(s->hist[h], s->hist_bins[h], sg[ZCDP_Q_HIST])) != 0)
            goto out;
    s->x = NULL; /* the originals are not needed, nor allowed, any more */
    s->n = 0;
    rc = 0;
out:
    if (rc) {
        memset(s->s1, 0, sizeof s->s1);
        memset(s->a1, 0, sizeof s->a1);
        memset(s->m, 0, sizeof s->m);
        memset(s->s, 0, sizeof s->s);
        memset(s->S, 0, sizeof s->S);
        memset(s->G, 0, tri * sizeof *s->G);
        memset(s->hist, 0, sizeof s->hist);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Linear algebra for the post-processing (p <= MEASURES_COUNT)             */

/* a (p x p symmetric, destroyed) = V diag(ev) V^T by cyclic Jacobi; the
 * eigenvectors are the COLUMNS of v, sorted by decreasing eigenvalue. */
static void dp_eig_sym(double *a, size_t p, double *v, double *ev)
{
    double w[DP_MC * DP_MC];
    size_t ord[DP_MC];

    for (size_t r = 0; r < p; r++)
        for (size_t c = 0; c < p; c++)
            w[r * p + c] = r == c ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (size_t r = 0; r < p; r++) {
            diag += a[r * p + r] * a[r * p + r];
            for (size_t c = r + 1; c < p; c++)
                off += a[r * p + c] * a[r * p + c];
        }
        if (off == 0.0 || off <= 1e-30 * diag)
            break;
        for (size_t i = 0; i < p; i++) {
            for (size_t j = i + 1; j < p; j++) {
                double aij = a[i * p + j];
                if (aij == 0.0)
                    continue;
                double theta = (a[j * p + j] - a[i * p + i]) / (2.0 * aij);
                double t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
                if (theta < 0.0)
                    t = -t;
                double c = 1.0 / sqrt(t * t + 1.0), sn = t * c;
                for (size_t k = 0; k < p; k++) {
                    double aki = a[k * p + i], akj = a[k * p + j];
                    a[k * p + i] = c * aki - sn * akj;
                    a[k * p + j] = sn * aki + c * akj;
                }
                for (size_t k = 0; k < p; k++) {
                    double aik = a[i * p + k], ajk = a[j * p + k];
                    a[i * p + k] = c * aik - sn * ajk;
                    a[j * p + k] = sn * aik + c * ajk;
                }
                for (size_t k = 0; k < p; k++) {
                    double wki = w[k * p + i], wkj = w[k * p + j];
                    w[k * p + i] = c * wki - sn * wkj;
                    w[k * p + j] = sn * wki + c * wkj;
                }
            }
        }
    }
    for (size_t r = 0; r < p; r++) {
        size_t q = r;
        while (q > 0 && a[ord[q - 1] * p + ord[q - 1]] < a[r * p + r]) {
            ord[q] = ord[q - 1];
            q--;
        }
        ord[q] = r;
    }
    for (size_t c = 0; c < p; c++) {
        ev[c] = a[ord[c] * p + ord[c]];
        for (size_t k = 0; k < p; k++)
            v[k * p + c] = w[k * p + ord[c]];
    }
}

/* a (symmetric) = V max(ev, floor) V^T. */
static void dp_eig_floor(double *a, size_t p, double floor_ev)
{
    double v[DP_MC * DP_MC], ev[DP_MC];

    dp_eig_sym(a, p, v, ev);
    for (size_t c = 0; c < p; c++)
        if (ev[c] < floor_ev)
            ev[c] = floor_ev;
    for (size_t r = 0; r < p; r++)
        for (size_t c = r; c < p; c++) {
            double sum = 0.0;
            for (size_t k = 0; k < p; k++)
                sum += v[r * p + k] * ev[k] * v[c * p + k];
            a[r * p + c] = a[c * p + r] = sum;
        }
}

/* Lower-triangular l with l l^T = a. Returns 0, or ERR_INVALID when a is not
 * positive definite. */
static int dp_chol(const double *a, size_t p, double *l)
{
    memset(l, 0, p * p * sizeof *l);
    for (size_t j = 0; j < p; j++) {
        double d = a[j * p + j];
        for (size_t k = 0; k < j; k++)
            d -= l[j * p + k] * l[j * p + k];
        if (!(d > 0.0))
            return ERR_INVALID;
        d = sqrt(d);
        l[j * p + j] = d;
        for (size_t i = j + 1; i < p; i++) {
            double sum = a[i * p + j];
            for (size_t k = 0; k < j; k++)
                sum -= l[i * p + k] * l[j * p + k];
            l[i * p + j] = sum / d;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The model (post-processing)                                              */

struct dp_fit_work {
    double C[DP_MC * DP_MC];   /* moment covariance, v units */
    double R[DP_MC * DP_MC];   /* C with communalities on the diagonal */
    double V[DP_MC * DP_MC];   /* its eigenvectors (columns) */
    double L[DP_MC * DP_MC];   /* loadings p x k, stride p */
    double Sc[DP_MC * DP_MC];  /* Sigma_c = L L^T + diag psi */
    double Ss[DP_MC * DP_MC];  /* Sigma*, the debiased covariance */
    double Lc[DP_MC * DP_MC];  /* chol(Sigma*) */
    double acc[DP_MC * DP_MC]; /* second moments of the clipped draws */
    double ev[DP_MC], mu[DP_MC], ms[DP_MC], dC[DP_MC], psi[DP_MC], mean[DP_MC];
};

/* The noise-aware factor model of w->C (design step 7). Reading of
 * "diagonal replaced by communalities": the first pass takes the
 * communalities as the floored diag C itself (principal components, no
 * uniquenesses assumed yet); each of the DP_FACTOR_ITERS principal-factor
 * iterations that follow takes them as diag C - psi of the pass before.
 * This needs no inverse of the noisy, possibly indefinite C (which the
 * squared-multiple-correlation start would), and at huge rho (tau -> 0,
 * every positive eigenvalue kept) it returns Sigma_c = C. Fills w->L
 * (p x k, stride p), w->psi, w->Sc and *k. */
static void dp_factor(struct dp_fit_work *w, size_t p, double tau, size_t *k)
{
    double edge = 2.0 * tau * sqrt((double)p), t2 = 4.0 * (double)p * tau * tau;

    for (size_t j = 0; j < p; j++) {
        w->dC[j] = w->C[j * p + j] > 4.0 * tau ? w->C[j * p + j] : 4.0 * tau;
        w->psi[j] = 0.0;
    }
    *k = 0;
    for (int it = 0; it <= DP_FACTOR_ITERS; it++) {
        memcpy(w->R, w->C, p * p * sizeof *w->R);
        for (size_t j = 0; j < p; j++)
            w->R[j * p + j] = w->dC[j] - w->psi[j];
        dp_eig_sym(w->R, p, w->V, w->ev);
        *k = 0;
        while (*k < p && w->ev[*k] > edge)
            (*k)++;
        memset(w->L, 0, p * p * sizeof *w->L);
        for (size_t c = 0; c < *k; c++) {
            double lam = 0.5 * (w->ev[c] + sqrt(w->ev[c] * w->ev[c] - t2));
            double sq = sqrt(lam);
            for (size_t j = 0; j < p; j++)
                w->L[j * p + c] = w->V[j * p + c] * sq;
        }
        for (size_t j = 0; j < p; j++) {
            double h = 0.0;
            for (size_t c = 0; c < *k; c++)
                h += w->L[j * p + c] * w->L[j * p + c];
            w->psi[j] = w->dC[j] - h;
            if (w->psi[j] < DP_PSI_FLOOR * w->dC[j])
                w->psi[j] = DP_PSI_FLOOR * w->dC[j];
        }
    }
    for (size_t r = 0; r < p; r++)
        for (size_t c = r; c < p; c++) {
            double sum = r == c ? w->psi[r] : 0.0;
            for (size_t f = 0; f < *k; f++)
                sum += w->L[r * p + f] * w->L[c * p + f];
            w->Sc[r * p + c] = w->Sc[c * p + r] = sum;
        }
}

/* Clip d as stage 2 clips v (|d_j| <= 4, then ||d|| <= B), without the
 * quantisation: C already carries the Sheppard correction for it. */
static void dp_clip_draw(double *d, size_t p, double b2)
{
    for (size_t j = 0; j < p; j++)
        d[j] = dp_clamp(d[j], -ZCDP_C, ZCDP_C);
    dp_norm_clip(d, p, b2);
}

#define DP_BLOCK 4 /* draws advanced together by dp_debias */
_Static_assert(DP_DEBIAS_DRAWS % DP_BLOCK == 0, "the debias draws come in whole blocks");

/* Lay the draws out for dp_debias: each block of DP_BLOCK draws
 * column-major (draw b DP_BLOCK + l, column c at z[(b p + c) DP_BLOCK + l]),
 * so that one loop advances DP_BLOCK independent sums. nz is a multiple of
 * DP_BLOCK. */
static void dp_block_draws(double *z, size_t nz, size_t p)
{
    double tmp[DP_BLOCK * DP_MC];

    for (size_t b = 0; b < nz / DP_BLOCK; b++) {
        double *blk = z + b * DP_BLOCK * p;
        memcpy(tmp, blk, DP_BLOCK * p * sizeof *tmp);
        for (size_t l = 0; l < DP_BLOCK; l++)
            for (size_t c = 0; c < p; c++)
                blk[c * DP_BLOCK + l] = tmp[l * p + c];
    }
}

/* d[l] = ms + Lc z_l for the DP_BLOCK draws of one block (dp_block_draws).
 * Each sum adds its terms in the order c = 0..r, as one draw alone would:
 * the result is the same to the bit, only DP_BLOCK sums run side by side
 * instead of one chain of dependent additions. */
static void dp_draw_block(const struct dp_fit_work *w, size_t p, const double *zb,
                          double d[DP_BLOCK][DP_MC])
{
    for (size_t r = 0; r < p; r++) {
        const double *lr = w->Lc + r * p;
        double sum[DP_BLOCK];
        for (size_t l = 0; l < DP_BLOCK; l++)
            sum[l] = w->ms[r];
        for (size_t c = 0; c <= r; c++) {
            const double *zc = zb + c * DP_BLOCK;
            for (size_t l = 0; l < DP_BLOCK; l++)
                sum[l] += lr[c] * zc[l];
        }
        for (size_t l = 0; l < DP_BLOCK; l++)
            d[l][r] = sum[l];
    }
}

/* Add the DP_BLOCK clipped draws of a block to the step's running sums,
 * in their order: every sum gains its DP_BLOCK terms one after the other,
 * as it would draw by draw (the same bits), with one pass over the sums
 * instead of DP_BLOCK. */
static void dp_accumulate_block(struct dp_fit_work *w, size_t p, double d[DP_BLOCK][DP_MC])
{
    for (size_t r = 0; r < p; r++) {
        double *ar = w->acc + r * p, m = w->mean[r];
        for (size_t l = 0; l < DP_BLOCK; l++)
            m += d[l][r];
        w->mean[r] = m;
        for (size_t c = r; c < p; c++) {
            double a = ar[c];
            for (size_t l = 0; l < DP_BLOCK; l++)
                a += d[l][r] * d[l][c];
            ar[c] = a;
        }
    }
}

/* One fixed-point step's sums over every draw, in the draws' order. */
static void dp_debias_sums(struct dp_fit_work *w, size_t p, const double *z, size_t nz, double b2)
{
    double d[DP_BLOCK][DP_MC];

    memset(w->mean, 0, p * sizeof *w->mean);
    memset(w->acc, 0, p * p * sizeof *w->acc);
    for (size_t i = 0; i < nz; i += DP_BLOCK) {
        dp_draw_block(w, p, z + i * p, d);
        for (size_t l = 0; l < DP_BLOCK; l++)
            dp_clip_draw(d[l], p, b2);
        dp_accumulate_block(w, p, d);
    }
}

/* The clipping debias (design step 7): find mu*, Sigma* whose clipped
 * Gaussian has mean mu and covariance Sigma_c, by DP_DEBIAS_STEPS
 * fixed-point steps over the same DP_DEBIAS_DRAWS standard normal vectors z
 * (n x p, n a multiple of DP_BLOCK, moment-matched by dp_moment_match;
 * laid out in blocks here, so z is scratch afterwards). Moments of the draws use 1/n, as C does.
 * After each step the eigenvalues of Sigma* are floored at 1e-3 of the mean diagonal of Sigma_c (it
 * keeps Sigma* positive definite for the next Cholesky). */
static int dp_debias(struct dp_fit_work *w, size_t p, double *z, size_t nz, double b2)
{
    double floor_ev = 0.0;

    if (nz % DP_BLOCK)
        return ERR_INVALID;
    for (size_t j = 0; j < p; j++)
        floor_ev += w->Sc[j * p + j];
    floor_ev = 1e-3 * floor_ev / (double)p;
    memcpy(w->ms, w->mu, p * sizeof *w->ms);
    memcpy(w->Ss, w->Sc, p * p * sizeof *w->Ss);
    dp_eig_floor(w->Ss, p, floor_ev);
    dp_block_draws(z, nz, p);
    for (int step = 0; step < DP_DEBIAS_STEPS; step++) {
        if (dp_chol(w->Ss, p, w->Lc))
            return ERR_INVALID;
        dp_debias_sums(w, p, z, nz, b2);
        for (size_t r = 0; r < p; r++)
            w->mean[r] /= (double)nz;
        for (size_t r = 0; r < p; r++) {
            w->ms[r] += w->mu[r] - w->mean[r];
            for (size_t c = r; c < p; c++) {
                double cov = w->acc[r * p + c] / (double)nz - w->mean[r] * w->mean[c];
                w->Ss[r * p + c] += w->Sc[r * p + c] - cov;
                w->Ss[c * p + r] = w->Ss[r * p + c];
            }
        }
        dp_eig_floor(w->Ss, p, floor_ev);
    }
    return 0;
}

/* Moment-match the common draws z (nz x p): centre them and whiten them so
 * that their sample mean is exactly 0 and their sample covariance (1/nz)
 * exactly I. Uses w->mean, w->acc and w->Lc as scratch.
 *
 * Why: the fixed point of the debias solves mean(clip(mu* + L z)) = mu, so
 * the draws' own sample mean (about 1/sqrt(20,000) = 0.007 per component)
 * moves mu* along the size factor, amplified by the clipping: a common shift
 * of 0.01-0.02 u, up to 2.4 mm on chest at 20,000 persons, which broke the
 * design's 2.5 mm threshold in 2 of 10 seeds. With matched draws the
 * model's own mean error at 20,000 is 0.6-1.2 mm (the design's model floor,
 * 'mean bias <= 1.2 mm'), about what 200,000 plain draws give. The draws
 * stay 20,000 common N(0, I) vectors, exact in their first two moments. */
static int dp_moment_match(struct dp_fit_work *w, double *z, size_t nz, size_t p)
{
    double *mean = w->mean, *cov = w->acc, *l = w->Lc;

    memset(mean, 0, p * sizeof *mean);
    for (size_t i = 0; i < nz; i++)
        for (size_t j = 0; j < p; j++)
            mean[j] += z[i * p + j];
    for (size_t j = 0; j < p; j++)
        mean[j] /= (double)nz;
    memset(cov, 0, p * p * sizeof *cov);
    for (size_t i = 0; i < nz; i++) {
        double *zi = z + i * p;
        for (size_t j = 0; j < p; j++)
            zi[j] -= mean[j];
        for (size_t j = 0; j < p; j++)
            for (size_t k = j; k < p; k++)
                cov[j * p + k] += zi[j] * zi[k];
    }
    for (size_t j = 0; j < p; j++)
        for (size_t k = j; k < p; k++)
            cov[k * p + j] = cov[j * p + k] /= (double)nz;
    if (dp_chol(cov, p, l))
        return ERR_INVALID;
    /* z <- L^-1 z (forward substitution, row by row) */
    for (size_t i = 0; i < nz; i++) {
        double *zi = z + i * p;
        for (size_t j = 0; j < p; j++) {
            double sum = zi[j];
            for (size_t k = 0; k < j; k++)
                sum -= l[j * p + k] * zi[k];
            zi[j] = sum / l[j * p + j];
        }
    }
    return 0;
}

int dp_stratum_fit(struct dp_stratum *s, struct rng *r)
{
    struct dp_fit_work *w = NULL;
    double *z = NULL;
    size_t p, k = 0, tri = 0;
    int rc = ERR_INVALID;

    if (!s || s->x || !r || !s->G || s->n_noisy < 1 || s->p == 0)
        return ERR_INVALID;
    p = s->p;
    for (size_t j = 0; j < p; j++)
        if (!(s->s[j] > 0.0))
            return ERR_INVALID;
    free(s->loadings);
    free(s->sigma_u);
    s->loadings = s->sigma_u = NULL;
    s->k = 0;
    rc = ERR_NOMEM;
    w = dp_alloc(1, sizeof *w);
    z = dp_alloc((size_t)DP_DEBIAS_DRAWS * p, sizeof *z);
    s->sigma_u = dp_alloc(p * p, sizeof *s->sigma_u);
    if (!w || !z || !s->sigma_u)
        goto out;

    /* moments in v units: mu = S/(q n), M = sym(G)/(q^2 n), C with Sheppard */
    double n = (double)s->n_noisy, q = ZCDP_Q;
    for (size_t j = 0; j < p; j++)
        w->mu[j] = (double)s->S[j] / (q * n);
    for (size_t j = 0; j < p; j++)
        for (size_t c = j; c < p; c++, tri++) {
            double mjc = (double)s->G[tri] / (q * q * n) - w->mu[j] * w->mu[c];
            if (c == j)
                mjc -= 1.0 / (12.0 * q * q);
            w->C[j * p + c] = w->C[c * p + j] = mjc;
        }
    double tau = sqrt((double)s->plan.sigma2[ZCDP_Q_MOMENTS]) / (q * q * n);
    dp_factor(w, p, tau, &k);

    for (size_t i = 0; i < (size_t)DP_DEBIAS_DRAWS * p; i++)
        z[i] = rng_normal(r);
    rc = dp_moment_match(w, z, DP_DEBIAS_DRAWS, p);
    if (rc)
        goto out;
    rc = dp_debias(w, p, z, DP_DEBIAS_DRAWS, (double)s->plan.b2);
    if (rc)
        goto out;

    rc = ERR_NOMEM;
    s->loadings = dp_alloc(p, (k ? k : 1) * sizeof *s->loadings);
    if (!s->loadings)
        goto out;
    for (size_t j = 0; j < p; j++) {
        s->mu_u[j] = s->m[j] + s->s[j] * w->ms[j];
        s->psi[j] = s->s[j] * s->s[j] * w->psi[j];
        for (size_t f = 0; f < k; f++)
            s->loadings[j * k + f] = s->s[j] * w->L[j * p + f];
        for (size_t c = 0; c < p; c++)
            s->sigma_u[j * p + c] = s->s[j] * w->Ss[j * p + c] * s->s[c];
    }
    s->k = k;
    rc = 0;
out:
    if (rc) {
        free(s->loadings);
        free(s->sigma_u);
        s->loadings = s->sigma_u = NULL;
    }
    free(w);
    free(z);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Synthetic rows (post-processing)                                         */

int dp_stratum_rows(struct dp_stratum *s, struct rng *r)
{
    double lc[DP_MC * DP_MC], z[DP_MC];
    int32_t row[DP_MC];
    size_t p, target, tries, done = 0;
    int rc = ERR_INVALID;

    if (!s || s->x || !r || !s->sigma_u || s->n_noisy < 1)
        return ERR_INVALID;
    p = s->p;
    if ((uint64_t)s->n_noisy > SIZE_MAX || dp_chol(s->sigma_u, p, lc))
        return ERR_INVALID;
    target = (size_t)s->n_noisy;
    free(s->rows);
    s->rows = NULL;
    s->nrows = 0;
    rc = ERR_NOMEM;
    if (!size_mul(target, DP_ROWS_TRIES, &tries))
        goto out;
    s->rows = dp_alloc(target, p * sizeof *s->rows);
    if (!s->rows)
        goto out;
    for (size_t t = 0; t < tries && done < target; t++) {
        int ok = 1;
        for (size_t j = 0; j < p; j++)
            z[j] = rng_normal(r);
        for (size_t j = 0; j < p; j++) {
            double u = s->mu_u[j];
            for (size_t c = 0; c <= j; c++)
                u += lc[j * p + c] * z[c];
            const struct measure *me = &measures_table[s->cols[j]];
            row[j] = (int32_t)dp_clamp(round(dp_untransform(s, j, u)), me->min, me->max);
        }
        for (size_t j = 0; j < p && ok; j++)
            ok = !measures_implausible(s->cols[j], s->breasts, row[s->neck_col], row[j]);
        if (ok)
            memcpy(s->rows + done++ * p, row, p * sizeof *row);
    }
    s->nrows = done;
    rc = done * 2 < target ? ERR_INTERNAL : 0;
out:
    return rc;
}
