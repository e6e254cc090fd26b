/*
 * test_dgauss.c - the exact discrete Gaussian sampler (privacy/dgauss.c)
 * against the design's "Sampler tests" (differential-privacy.md, section 8;
 * the figures are copied here, the test never reads the design):
 *
 * - Pearson chi-square of 2*10^5 draws (10^5 at N = 2^40) against the exact
 *   pmf p(x) ~ exp(-x^2 / (2N)), two seeds per N in {1, 9, 1000, 10^6, 2^40}:
 *   p > 1e-4; cells with expected count >= 20 and pooled tails, 200
 *   equiprobable cells for N >= 10^6;
 * - the sample variance within 2 % of the exact variance, |mean| <= 5
 *   sigma / sqrt(m);
 * - negative controls the same chi-square must reject (p <= 1e-4) for both
 *   seeds: sigma2 5 % too large (N = 1000 and 10^6), and a rounded
 *   continuous normal against the discrete Gaussian of the same parameter
 *   (sigma2 = 0.5 and 2);
 * - known answers: the first draws per seed, because the chi-square cannot
 *   see a small shift (the design measured a 1 % off-by-one as undetected);
 * - dgauss_bernoulli_exp's frequencies, and the refused variances.
 *
 * All randomness comes from tests/unit/support/test_randombytes (ChaCha20
 * from a seed), installed before sodium_init(), so every figure here is
 * deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "privacy/dgauss.h"
#include "support/test_randombytes.h"

typedef long double ld;
typedef unsigned __int128 u128;

#define DRAWS     200000 /* per (N, seed) */
#define DRAWS_BIG 100000 /* at N = 2^40 */
#define MIN_EXP   20.0L  /* least expected count of a cell */
#define EQ_CELLS  200    /* equiprobable cells for N >= 10^6 */
#define MAX_CELLS 1024
#define P_ACCEPT  1e-4 /* p-value threshold: accept above, reject at or below */

/* ---- the upper tail of the chi-square distribution ---------------------- */

/*
 * Regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), a > 0,
 * x >= 0: the series of P(a, x) below x < a + 1, the continued fraction of
 * Q(a, x) (modified Lentz) above. Long double; relative accuracy ~1e-15,
 * far beyond what a p-value threshold of 1e-4 needs.
 */
static ld gamma_q(ld a, ld x)
{
    if (x <= 0.0L)
        return 1.0L;
    ld lpre = a * logl(x) - x - lgammal(a);
    if (x < a + 1.0L) {
        /* P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)) */
        ld term = 1.0L / a, sum = term;
        for (int n = 1; n < 100000; n++) {
            term *= x / (a + n);
            sum += term;
            if (fabsl(term) < fabsl(sum) * 1e-19L)
                break;
        }
        return 1.0L - sum * expl(lpre);
    }
    /* Q(a, x) = e^-x x^a / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) */
    const ld tiny = 1e-4000L;
    ld b = x + 1.0L - a, c = 1.0L / tiny, d = 1.0L / b, h = d;
    for (int n = 1; n < 100000; n++) {
        ld an = -n * (n - a);
        b += 2.0L;
        d = an * d + b;
        if (fabsl(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabsl(c) < tiny)
            c = tiny;
        d = 1.0L / d;
        ld del = d * c;
        h *= del;
        if (fabsl(del - 1.0L) < 1e-19L)
            break;
    }
    return h * expl(lpre);
}

/* P(chi2_k >= stat) */
static double chi2_upper(int k, double stat)
{
    return (double)gamma_q(k / 2.0L, stat / 2.0L);
}

static void test_gamma_q(void **state)
{
    (void)state;
    /* Q(1, x) = e^-x; Q(1/2, x) = erfc(sqrt(x)) */
    for (ld x = 0.01L; x < 60.0L; x *= 1.3L) {
        assert_true(fabsl(gamma_q(1.0L, x) / expl(-x) - 1.0L) < 1e-13L);
        assert_true(fabsl(gamma_q(0.5L, x) / erfcl(sqrtl(x)) - 1.0L) < 1e-12L);
    }
    /* integer a: Q(n, x) = e^-x sum_{k < n} x^k / k!, both branches */
    static const int ns[] = {3, 20, 100};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (ld x = 0.5L; x < 3.0L * ns[i]; x += 0.37L * ns[i] / 10.0L) {
            ld term = expl(-x), sum = 0.0L;
            for (int k = 0; k < ns[i]; k++) {
                sum += term;
                term *= x / (k + 1);
            }
            ld got = gamma_q(ns[i], x);
            assert_true(fabsl(got - sum) < 1e-13L * (sum > 1e-3L ? sum : 1e-3L));
        }
    }
    /* published chi-square quantiles: P(chi2_10 >= 23.209) = 0.01,
     * P(chi2_100 >= 135.807) = 0.01, P(chi2_199 >= 264.7) ~ 1e-3 */
    assert_true(fabs(chi2_upper(10, 23.209) - 0.01) < 1e-5);
    assert_true(fabs(chi2_upper(100, 135.807) - 0.01) < 1e-5);
    assert_true(chi2_upper(199, 199.0) > 0.45 && chi2_upper(199, 199.0) < 0.52);
}

/* ---- exact pmfs and chi-square cells ---------------------------------- */

/* The discrete Gaussian with parameter s2 (any real > 0) on [lo, hi] =
 * [-R, R], R = 40 sqrt(s2) + 40: the mass beyond R is below exp(-800). */
struct pmf {
    int64_t lo, hi;
    ld *p; /* p[x - lo] */
};

static void pmf_dgauss(struct pmf *t, ld s2)
{
    int64_t r = (int64_t)(40.0L * sqrtl(s2)) + 40;
    size_t n = (size_t)(2 * r + 1);

    t->lo = -r;
    t->hi = r;
    t->p = malloc(n * sizeof *t->p);
    assert_non_null(t->p);
    /* normaliser by symmetry, summed from the tail inward (small terms
     * first) */
    ld z = 0.0L;
    for (int64_t x = r; x >= 1; x--) {
        ld v = expl(-(ld)x * (ld)x / (2.0L * s2));
        t->p[x + r] = t->p[-x + r] = v;
        z += 2.0L * v;
    }
    t->p[r] = 1.0L;
    z += 1.0L;
    for (size_t i = 0; i < n; i++)
        t->p[i] /= z;
}

static ld pmf_at(const struct pmf *t, int64_t x)
{
    return x < t->lo || x > t->hi ? 0.0L : t->p[x - t->lo];
}

static ld pmf_variance(const struct pmf *t)
{
    ld v = 0.0L;
    for (int64_t x = t->hi; x >= 1; x--)
        v += 2.0L * (ld)x * (ld)x * pmf_at(t, x);
    return v;
}

/* Cell i holds (hi[i - 1], hi[i]]: the first starts at -infinity, the last
 * (hi = INT64_MAX) ends at +infinity. */
struct cells {
    int k;
    int64_t hi[MAX_CELLS];
    ld prob[MAX_CELLS];
};

/*
 * Integer cells for m draws: every x with expected count m p(x) >= 20 is a
 * cell (for a unimodal pmf, an interval [a, b]); the tails x < a and x > b
 * are pooled into one cell each, or into the neighbouring cell when the
 * pooled tail still expects fewer than 20.
 */
static void cells_integer(struct cells *c, const struct pmf *t, size_t m)
{
    int64_t a = t->lo, b = t->hi;
    while (a < b && m * pmf_at(t, a) < MIN_EXP)
        a++;
    while (b > a && m * pmf_at(t, b) < MIN_EXP)
        b--;
    ld left = 0.0L, right = 0.0L;
    for (int64_t x = t->lo; x < a; x++)
        left += pmf_at(t, x);
    for (int64_t x = t->hi; x > b; x--)
        right += pmf_at(t, x);

    c->k = 0;
    if (m * left >= MIN_EXP) {
        c->hi[c->k] = a - 1;
        c->prob[c->k++] = left;
        left = 0.0L;
    }
    for (int64_t x = a; x <= b; x++) {
        assert_true(c->k < MAX_CELLS);
        c->hi[c->k] = x;
        c->prob[c->k++] = pmf_at(t, x) + (x == a ? left : 0.0L);
    }
    if (m * right >= MIN_EXP) {
        assert_true(c->k < MAX_CELLS);
        c->hi[c->k] = INT64_MAX;
        c->prob[c->k++] = right;
    } else {
        c->prob[c->k - 1] += right;
    }
    c->hi[c->k - 1] = INT64_MAX;
    for (int i = 0; i < c->k; i++)
        assert_true(m * c->prob[i] >= MIN_EXP);
}

/* P(X <= x) of a distribution, for the equiprobable cells. */
typedef ld (*cdf_fn)(int64_t x, const void *ctx);

/* Standard normal CDF. */
static ld phi_l(ld z)
{
    return 0.5L * erfcl(-z / sqrtl(2.0L));
}

/* The discrete Gaussian's CDF by its exact pmf table (prefix sums). */
struct cdf_table {
    const struct pmf *t;
    ld *prefix; /* prefix[i] = P(X <= lo + i) */
};

static ld cdf_exact(int64_t x, const void *ctx)
{
    const struct cdf_table *ct = ctx;
    if (x < ct->t->lo)
        return 0.0L;
    if (x >= ct->t->hi)
        return 1.0L;
    return ct->prefix[x - ct->t->lo];
}

/*
 * The discrete Gaussian's CDF for large N by the normal CDF with the
 * continuity correction: P(X <= x) = Phi((x + 1/2) / sqrt(N)). By
 * Euler-Maclaurin (the midpoint rule on a smooth integrand) the error of a
 * cell's mass is of order 1/N relative, and the normaliser's error (the
 * theta-function term) is of order exp(-2 pi^2 N): at N = 2^40 both are far
 * below the 1e-3 relative accuracy a chi-square of 10^5 draws over 200
 * cells could see. test_cells_normal_approx measures it at N = 10^6, where
 * the exact table is still cheap.
 */
static ld cdf_normal(int64_t x, const void *ctx)
{
    const ld *s2 = ctx;
    return phi_l(((ld)x + 0.5L) / sqrtl(*s2));
}

/* The standard normal quantile by bisection on phi_l (for the cell
 * boundaries only: their exact position does not matter, the cells'
 * probabilities are computed from the CDF). */
static ld phi_inv_l(ld pr)
{
    ld lo = -40.0L, hi = 40.0L;
    for (int i = 0; i < 200; i++) {
        ld mid = (lo + hi) / 2.0L;
        if (phi_l(mid) < pr)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0L;
}

/* EQ_CELLS cells of (nearly) equal probability for a distribution of
 * variance s2, each cell's probability from the CDF. */
static void cells_equiprobable(struct cells *c, ld s2, cdf_fn cdf, const void *ctx)
{
    ld prev = 0.0L;

    c->k = EQ_CELLS;
    for (int i = 0; i < EQ_CELLS; i++) {
        if (i == EQ_CELLS - 1) {
            c->hi[i] = INT64_MAX;
            c->prob[i] = 1.0L - prev;
        } else {
            c->hi[i] = (int64_t)floorl(sqrtl(s2) * phi_inv_l((ld)(i + 1) / EQ_CELLS));
            ld cur = cdf(c->hi[i], ctx);
            c->prob[i] = cur - prev;
            prev = cur;
        }
    }
}

/* Cells for the discrete Gaussian of parameter N and m draws: integer cells
 * below 10^6, equiprobable ones from 10^6 (exact CDF up to 10^6, the normal
 * CDF above, see cdf_normal). */
static void cells_dgauss(struct cells *c, uint64_t n, size_t m)
{
    ld s2 = (ld)n;
    if (n > 1000000) {
        cells_equiprobable(c, s2, cdf_normal, &s2);
        return;
    }
    struct pmf t;
    pmf_dgauss(&t, s2);
    if (n < 1000000) {
        cells_integer(c, &t, m);
    } else {
        struct cdf_table ct = {.t = &t};
        size_t len = (size_t)(t.hi - t.lo + 1);
        ct.prefix = malloc(len * sizeof *ct.prefix);
        assert_non_null(ct.prefix);
        ld acc = 0.0L;
        for (size_t i = 0; i < len; i++)
            ct.prefix[i] = (acc += t.p[i]);
        cells_equiprobable(c, s2, cdf_exact, &ct);
        free(ct.prefix);
    }
    free(t.p);
}

/*
 * Pearson's chi-square of m draws against the cells' probabilities; returns
 * the p-value P(chi2_{k-1} >= stat). The one test every positive and
 * negative case below goes through.
 */
static double chi2_test(const struct cells *c, const int64_t *x, size_t m, double *stat_out)
{
    static long count[MAX_CELLS];

    memset(count, 0, sizeof count);
    for (size_t i = 0; i < m; i++) {
        int lo = 0, hi = c->k - 1; /* first cell with hi >= x */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (c->hi[mid] >= x[i])
                hi = mid;
            else
                lo = mid + 1;
        }
        count[lo]++;
    }
    ld stat = 0.0L;
    for (int i = 0; i < c->k; i++) {
        ld e = (ld)m * c->prob[i];
        assert_true(e >= MIN_EXP);
        stat += ((ld)count[i] - e) * ((ld)count[i] - e) / e;
    }
    if (stat_out)
        *stat_out = (double)stat;
    return chi2_upper(c->k - 1, (double)stat);
}

/* ---- draws ------------------------------------------------------------ */

static int64_t *draws_dgauss(uint64_t n, uint64_t seed, size_t m)
{
    int64_t *x = malloc(m * sizeof *x);
    assert_non_null(x);
    test_randombytes_seed(seed);
    for (size_t i = 0; i < m; i++)
        assert_int_equal(dgauss_sample(n, &x[i]), 0);
    return x;
}

/* A uniform in (0, 1] from 53 random bits of the (test) randombytes. */
static double unit_open0(void)
{
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    return ((double)(r >> 11) + 1.0) * 0x1.0p-53;
}

/* The wrong distribution: a continuous normal of variance s2 rounded to the
 * nearest integer (Box-Muller on the seeded randombytes). */
static int64_t *draws_rounded_normal(double s2, uint64_t seed, size_t m)
{
    int64_t *x = malloc(m * sizeof *x);
    assert_non_null(x);
    test_randombytes_seed(seed);
    for (size_t i = 0; i < m; i++) {
        double u = unit_open0(), v = unit_open0();
        double z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
        x[i] = llround(sqrt(s2) * z);
    }
    return x;
}

/* ---- the sampler's distribution --------------------------------------- */

static const uint64_t seeds[2] = {1, 2};

/* The chi-square, variance and mean of one (N, seed). */
static void check_dgauss(uint64_t n, uint64_t seed)
{
    size_t m = n > 1000000 ? DRAWS_BIG : DRAWS;
    struct cells c;
    cells_dgauss(&c, n, m);
    int64_t *x = draws_dgauss(n, seed, m);

    double stat;
    double p = chi2_test(&c, x, m, &stat);
    print_message("N = %llu seed %llu: %d cells, chi2 %.1f, p = %.3f\n", (unsigned long long)n,
                  (unsigned long long)seed, c.k, stat, p);
    assert_true(p > P_ACCEPT);

    /* exact variance from the pmf up to 10^6; for N = 2^40 it is N to
     * within 1e-12 relative (the deficit is of order N^2 exp(-2 pi^2 N)) */
    ld var_exact = (ld)n;
    if (n <= 1000000) {
        struct pmf t;
        pmf_dgauss(&t, (ld)n);
        var_exact = pmf_variance(&t);
        free(t.p);
    }
    ld sum = 0.0L, sum2 = 0.0L;
    for (size_t i = 0; i < m; i++) {
        sum += (ld)x[i];
        sum2 += (ld)x[i] * (ld)x[i];
    }
    ld mean = sum / m, var = sum2 / m - mean * mean;
    double ratio = (double)(var / var_exact);
    print_message("  variance / exact %.4f, mean %.3g (bound %.3g)\n", ratio, (double)mean,
                  (double)(5.0L * sqrtl(var_exact / m)));
    assert_true(ratio >= 0.98 && ratio <= 1.02);
    assert_true(fabsl(mean) <= 5.0L * sqrtl(var_exact / m));
    free(x);
}

static void test_chi2_n1(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++)
        check_dgauss(1, seeds[s]);
}

static void test_chi2_n2(void **state)
{
    (void)state;
    /* not in the design's list: the positive control of the rounded-normal
     * negative control at sigma2 = 2 */
    for (int s = 0; s < 2; s++)
        check_dgauss(2, seeds[s]);
}

static void test_chi2_n9(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++)
        check_dgauss(9, seeds[s]);
}

static void test_chi2_n1000(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++)
        check_dgauss(1000, seeds[s]);
}

static void test_chi2_n1e6(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++)
        check_dgauss(1000000, seeds[s]);
}

static void test_chi2_n2e40(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++)
        check_dgauss(DGAUSS_SIGMA2_MAX, seeds[s]);
}

/* The normal CDF that stands for the exact cells at 2^40, measured where
 * both are cheap: at N = 10^6 the cells' probabilities (about 5e-3 each)
 * agree to 1.6e-9 absolute. The midpoint-rule error is -f'/24 at each
 * boundary, of order 1/N, so at 2^40 it is about 1e-15. */
static void test_cells_normal_approx(void **state)
{
    (void)state;
    struct cells exact, approx;
    ld s2 = 1e6L;

    cells_dgauss(&exact, 1000000, DRAWS);
    cells_equiprobable(&approx, s2, cdf_normal, &s2);
    assert_int_equal(exact.k, approx.k);
    ld worst = 0.0L, total = 0.0L;
    for (int i = 0; i < exact.k; i++) {
        assert_true(exact.hi[i] == approx.hi[i]);
        ld d = fabsl(exact.prob[i] - approx.prob[i]);
        worst = d > worst ? d : worst;
        total += exact.prob[i];
        /* nearly equiprobable: the boundaries are integers, and a central
         * cell is only about 12.5 integers wide at sigma = 1000 */
        assert_true(fabsl(exact.prob[i] * EQ_CELLS - 1.0L) < 0.1L);
    }
    print_message("N = 10^6: largest cell difference exact vs normal %.3Lg\n", worst);
    assert_true(worst < 1e-8L);
    assert_true(fabsl(total - 1.0L) < 1e-15L);
}

/* ---- negative controls: the same chi-square must reject ---------------- */

/* Draws from N_Z(0, 1.05 N) tested as N_Z(0, N). */
static void test_reject_sigma2_too_large(void **state)
{
    (void)state;
    static const uint64_t ns[2] = {1000, 1000000};

    for (int i = 0; i < 2; i++) {
        struct cells c;
        cells_dgauss(&c, ns[i], DRAWS);
        for (int s = 0; s < 2; s++) {
            int64_t *x = draws_dgauss(ns[i] * 105 / 100, seeds[s], DRAWS);
            double stat, p = chi2_test(&c, x, DRAWS, &stat);
            print_message("1.05 N against N = %llu, seed %llu: chi2 %.1f, p = %.3g\n",
                          (unsigned long long)ns[i], (unsigned long long)seeds[s], stat, p);
            assert_true(p <= P_ACCEPT);
            free(x);
        }
    }
}

/* round(N(0, s2)) tested as the discrete Gaussian of the same parameter s2
 * (0.5 is not an integer the sampler takes: its pmf is computed here). */
static void test_reject_rounded_normal(void **state)
{
    (void)state;
    static const double s2s[2] = {0.5, 2.0};

    for (int i = 0; i < 2; i++) {
        struct pmf t;
        struct cells c;
        pmf_dgauss(&t, s2s[i]);
        cells_integer(&c, &t, DRAWS);
        free(t.p);
        for (int s = 0; s < 2; s++) {
            int64_t *x = draws_rounded_normal(s2s[i], seeds[s], DRAWS);
            double stat, p = chi2_test(&c, x, DRAWS, &stat);
            print_message("rounded normal, sigma2 %.1f, seed %llu: %d cells, chi2 %.1f, p = %.3g\n",
                          s2s[i], (unsigned long long)seeds[s], c.k, stat, p);
            assert_true(p <= P_ACCEPT);
            free(x);
        }
    }
}

/* ---- known answers ------------------------------------------------------ */

/*
 * The first 10 draws per seed, as the sampler gave them when this test was
 * written (dgauss.c of commit 81b353f, with the overflow fix in
 * dgauss_bexp_small, which does not change any draw below 2^40). A change
 * here means the sampler's use of randomness changed: re-review it (the
 * chi-square above cannot see a small bias) before updating these.
 */
static const struct {
    uint64_t n, seed;
    int64_t first[10];
} kat[] = {
    {1, 1, {-1, -1, 0, 3, -2, -1, 0, 1, 0, 0}},
    {1, 2, {0, 1, 0, 1, 0, -1, 0, -2, 1, -1}},
    {1000, 1, {7, -3, -36, 1, 22, 4, 5, -28, 2, -38}},
    {1000, 2, {-17, -35, -11, 94, 56, 7, -7, 13, 14, 56}},
    {DGAUSS_SIGMA2_MAX,
     1,
     {709573, -279439, 921867, -100729, -183201, 369300, 259376, 1893584, -719357, 780241}},
    {DGAUSS_SIGMA2_MAX,
     2,
     {-2587062, -361133, -1744856, 852015, -225494, -1381875, -389223, 2488679, 208188, -83992}},
};

static void test_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        test_randombytes_seed(kat[i].seed);
        for (int j = 0; j < 10; j++) {
            int64_t v;
            assert_int_equal(dgauss_sample(kat[i].n, &v), 0);
            if (v != kat[i].first[j])
                fail_msg("N = %llu seed %llu draw %d: %lld, want %lld",
                         (unsigned long long)kat[i].n, (unsigned long long)kat[i].seed, j,
                         (long long)v, (long long)kat[i].first[j]);
        }
    }
}

/* ---- Bernoulli(exp(-num/den)) and refusals ----------------------------- */

static void test_bernoulli_exp(void **state)
{
    (void)state;
    const u128 one = 1;
    const struct {
        u128 num, den;
        double want;
    } cases[] = {
        {0, 1, 1.0},
        {1, 1, exp(-1.0)},
        {3, 2, exp(-1.5)},
        {1, 3, exp(-1.0 / 3.0)},
        {5, 1, exp(-5.0)},
        {one << 80, one << 81, exp(-0.5)},
        {(one << 81) + 7, one << 80, exp(-2.0 - 7.0 / 0x1.0p80)},
        /* denominators where den * k no longer fits 128 bits for small k */
        {one << 126, 3 * (one << 125), exp(-2.0 / 3.0)},
        {one << 127, 3 * (one << 126), exp(-2.0 / 3.0)},
        {~(u128)0 / 2, ~(u128)0, exp(-0.5)},
    };
    const int trials = 100000;

    test_randombytes_seed(7);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long hits = 0;
        for (int t = 0; t < trials; t++)
            hits += dgauss_bernoulli_exp(cases[i].num, cases[i].den);
        double f = (double)hits / trials, w = cases[i].want;
        double sd = sqrt(w * (1.0 - w) / trials);
        if (w == 1.0)
            assert_int_equal(hits, trials);
        else if (fabs(f - w) > 5.0 * sd)
            fail_msg("case %zu: frequency %.5f, want %.5f +- 5 * %.5f", i, f, w, sd);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    int64_t v = 12345;

    assert_int_equal(dgauss_sample(0, &v), ERR_INVALID);
    assert_int_equal(dgauss_sample(DGAUSS_SIGMA2_MAX + 1, &v), ERR_INVALID);
    assert_int_equal(dgauss_sample(UINT64_MAX, &v), ERR_INVALID);
    assert_true(v == 12345);
    assert_int_equal(dgauss_sample(DGAUSS_SIGMA2_MAX, &v), 0);
    assert_int_equal(dgauss_sample(1, &v), 0);
}

int main(void)
{
    if (test_randombytes_install(1) != 0 || sodium_init() < 0) {
        fprintf(stderr, "test_dgauss: cannot install the test randombytes\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gamma_q),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bernoulli_exp),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_cells_normal_approx),
        cmocka_unit_test(test_chi2_n1),
        cmocka_unit_test(test_chi2_n2),
        cmocka_unit_test(test_chi2_n9),
        cmocka_unit_test(test_chi2_n1000),
        cmocka_unit_test(test_chi2_n1e6),
        cmocka_unit_test(test_chi2_n2e40),
        cmocka_unit_test(test_reject_sigma2_too_large),
        cmocka_unit_test(test_reject_rounded_normal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
