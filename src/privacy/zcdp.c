/*
 * zcdp.c - the open data release's privacy accounting (see zcdp.h): the
 * noise plan of a release (the sensitivity and the integer noise variance
 * of each of its five queries), its exact check, and the conversions of
 * rho-zCDP into (epsilon, delta)-DP and into bounds on membership tests.
 *
 * Invariants:
 * - the plan is integers only: delta2 and sigma2 are computed and checked in
 *   unsigned __int128 with rho in milli-units and shares in percent, so
 *   rho_query = rho_milli * pct / 100000 exactly and no rounding can lower a
 *   noise variance below what the budget requires;
 * - every sigma2 satisfies delta2 / (2 sigma2) <= rho_query, and the shares
 *   sum to 100 %, so a release spends at most rho_milli (zCDP composes by
 *   addition); zcdp_plan_check verifies both on any plan;
 * - every sigma2 is in [1, DGAUSS_SIGMA2_MAX], what the sampler accepts;
 * - the floating-point conversions (epsilon, AUC, TPR) are reporting only:
 *   nothing in the plan depends on them.
 */
#include <math.h>

#include "base/err.h"
#include "privacy/dgauss.h"
#include "privacy/zcdp.h"

typedef unsigned __int128 u128;

/* rho_milli / 1000 * pct / 100 = rho_milli * pct / ZCDP_UNIT */
#define ZCDP_UNIT 100000u

/* Accepted ranges: rho per release in milli-units, columns per stratum. */
#define ZCDP_RHO_MIN 10u
#define ZCDP_RHO_MAX 1000u
#define ZCDP_P_MAX   38u

const unsigned zcdp_share_pct[ZCDP_Q__N] = {5, 10, 10, 65, 10};
const char *const zcdp_query_name[ZCDP_Q__N] = {"counts", "stage1", "sum", "second_moments",
                                                "histograms"};

/* The squared L2 sensitivity of every query for B^2 = b2 (design, section
 * 3, steps 3 to 5). With p <= 38 every value fits uint64_t by far (the
 * largest, the moments at p = 38, is about 3.7e9). */
static void zcdp_sensitivity(uint64_t b2, uint64_t delta2[ZCDP_Q__N])
{
    const uint64_t q2 = (uint64_t)ZCDP_Q * ZCDP_Q;
    const uint64_t cq = (uint64_t)ZCDP_C * ZCDP_Q; /* floor(c q), both integers */

    /* one person falls in one of the count cells */
    delta2[ZCDP_Q_COUNTS] = 1;
    /* (sum u~, sum |u~|): each changes by a vector of norm^2 <= B1^2 q^2 */
    delta2[ZCDP_Q_STAGE1] = 2 * b2 * q2;
    /* sum v~: ||v~||^2 <= B^2 q^2 */
    delta2[ZCDP_Q_SUM] = b2 * q2;
    /*
     * Upper triangle of sum v~ v~^T: sum_{j<=k} (v_j v_k)^2
     * = (||v||^4 + sum v_j^4) / 2 <= (B^4 q^4 + floor(cq)^2 B^2 q^2) / 2, an
     * integer (q is even). The + 1 is one unit of slack kept on purpose: the
     * design's published sigma2 for this query at rho = 0.25
     * (11,279,451,376 for p = 38, 7,356,163,942 for p = 30) are the ceilings
     * for this bound plus one; the plain bound gives 11,279,451,373 and
     * 7,356,163,939. A larger delta2 only adds noise, so the slack is safe,
     * and it keeps the published figures exact.
     */
    delta2[ZCDP_Q_MOMENTS] = (b2 * b2 * q2 * q2 + cq * cq * b2 * q2) / 2 + 1;
    /* one bin in each of the 4 histograms */
    delta2[ZCDP_Q_HIST] = ZCDP_HISTS;
}

int zcdp_plan(uint32_t rho_milli, size_t p, struct zcdp_plan *pl)
{
    if (!pl || p < 1 || p > ZCDP_P_MAX || rho_milli < ZCDP_RHO_MIN || rho_milli > ZCDP_RHO_MAX)
        return ERR_INVALID;

    struct zcdp_plan out = {.rho_milli = rho_milli, .p = p, .b2 = 2 * (uint64_t)p};
    zcdp_sensitivity(out.b2, out.delta2);
    for (int i = 0; i < ZCDP_Q__N; i++) {
        /* sigma2 = ceil(delta2 / (2 rho_query)) = ceil(delta2 * UNIT / (2 rho_milli pct)) */
        u128 num = (u128)out.delta2[i] * ZCDP_UNIT;
        u128 den = (u128)2 * rho_milli * zcdp_share_pct[i];
        u128 s = (num + den - 1) / den;
        if (s < 1 || s > DGAUSS_SIGMA2_MAX)
            return ERR_INVALID;
        out.sigma2[i] = (uint64_t)s;
    }
    *pl = out;
    return 0;
}

int zcdp_plan_check(const struct zcdp_plan *pl)
{
    unsigned total = 0;

    for (int i = 0; i < ZCDP_Q__N; i++)
        total += zcdp_share_pct[i];
    if (total != 100)
        return 0;
    if (!pl || pl->p < 1 || pl->p > ZCDP_P_MAX || pl->rho_milli < ZCDP_RHO_MIN ||
        pl->rho_milli > ZCDP_RHO_MAX || pl->b2 < 2 * (uint64_t)pl->p)
        return 0;

    /* the plan may not claim less sensitivity than its B^2 implies */
    uint64_t need[ZCDP_Q__N];
    zcdp_sensitivity(pl->b2, need);
    for (int i = 0; i < ZCDP_Q__N; i++) {
        if (pl->delta2[i] < need[i] || pl->sigma2[i] < 1 || pl->sigma2[i] > DGAUSS_SIGMA2_MAX)
            return 0;
        /* delta2 / (2 sigma2) <= rho_milli pct / UNIT, all terms < 2^78 */
        u128 spent = (u128)pl->delta2[i] * ZCDP_UNIT;
        u128 share = (u128)2 * pl->sigma2[i] * pl->rho_milli * zcdp_share_pct[i];
        if (spent > share)
            return 0;
    }
    return 1;
}

double zcdp_eps_bs(double rho, double delta)
{
    if (!(rho >= 0.0) || !(delta > 0.0 && delta < 1.0))
        return NAN;
    return rho + 2.0 * sqrt(rho * log(1.0 / delta));
}

/* CKS20 Cor. 13 at alpha = 1 + e^x: alpha rho + (L + (alpha - 1) ln(1 -
 * 1/alpha) - ln alpha) / (alpha - 1), with a = alpha - 1, ln(1 - 1/alpha) =
 * x - log1p(a) and ln(alpha) = log1p(a), stable for a tiny or huge. */
static double zcdp_cks_at(double x, double rho, double l)
{
    double a = exp(x);

    return (1.0 + a) * rho + (l - log1p(a)) / a + x - log1p(a);
}

double zcdp_eps_cks(double rho, double delta)
{
    if (!(rho >= 0.0) || !(delta > 0.0 && delta < 1.0))
        return NAN;
    if (rho == 0.0)
        return 0.0;

    /*
     * Minimise over x = ln(alpha - 1) in [-40, 40] (alpha - 1 from 4e-18 to
     * 2e17): a grid of 321 points first, so that a function that is not
     * unimodal on the whole range still brackets its global minimum, then a
     * golden-section search between the neighbours of the best grid point.
     */
    const double lo = -40.0, hi = 40.0, l = log(1.0 / delta);
    const int steps = 320;
    double step = (hi - lo) / steps, best = INFINITY;
    int ibest = 0;
    for (int i = 0; i <= steps; i++) {
        double v = zcdp_cks_at(lo + step * i, rho, l);
        if (v < best) {
            best = v;
            ibest = i;
        }
    }
    double a = lo + step * (ibest > 0 ? ibest - 1 : 0);
    double b = lo + step * (ibest < steps ? ibest + 1 : steps);
    const double g = (sqrt(5.0) - 1.0) / 2.0;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = zcdp_cks_at(c, rho, l), fd = zcdp_cks_at(d, rho, l);
    while (b - a > 1e-10) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = zcdp_cks_at(c, rho, l);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = zcdp_cks_at(d, rho, l);
        }
    }
    double v = zcdp_cks_at((a + b) / 2.0, rho, l);
    if (v < best)
        best = v;
    return best > 0.0 ? best : 0.0;
}

/* Standard normal CDF. */
static double zcdp_phi(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/*
 * Its inverse, for 0 < pr < 1: Acklam's rational approximation (relative
 * error below 1.2e-9), then one Halley step on Phi(x) - pr, which brings it
 * to about machine precision.
 */
static double zcdp_phi_inv(double pr)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    const double plow = 0.02425;
    double x;

    if (!(pr > 0.0 && pr < 1.0))
        return pr == 0.0 ? -INFINITY : pr == 1.0 ? INFINITY : NAN;
    if (pr < plow) {
        double q = sqrt(-2.0 * log(pr));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (pr <= 1.0 - plow) {
        double q = pr - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    } else {
        double q = sqrt(-2.0 * log1p(-pr));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    double e = zcdp_phi(x) - pr;
    double u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}

double zcdp_auc_bound(double rho)
{
    if (!(rho >= 0.0))
        return NAN;
    return zcdp_phi(sqrt(rho));
}

double zcdp_tpr_bound(double rho, double fpr)
{
    if (!(rho >= 0.0) || !(fpr >= 0.0 && fpr <= 1.0))
        return NAN;
    if (fpr == 0.0 || fpr == 1.0)
        return fpr;
    return zcdp_phi(zcdp_phi_inv(fpr) + sqrt(2.0 * rho));
}
