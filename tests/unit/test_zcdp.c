/*
 * test_zcdp.c - the release's privacy accounting (privacy/zcdp.c): the
 * integer noise plan against the design's published figures, its exact
 * check (and that the check is tight: one unit less noise on any query
 * fails it), the spent rho summed in exact rationals, the refusals, and the
 * conversions to (epsilon, delta) and to membership-test bounds against the
 * design's table.
 *
 * The figures are copied from the design (differential-privacy.md, sections
 * 3, 5 and 8); the tests never read it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "privacy/dgauss.h"
#include "privacy/zcdp.h"

typedef unsigned __int128 u128;

/* Design section 3, "Default sigma2 (integers) at rho = 0.25". */
static void test_plan_published_sigma2(void **state)
{
    (void)state;
    static const uint64_t want38[ZCDP_Q__N] = {40, 3112960, 1556480, 11279451376ULL, 80};
    static const uint64_t want30[ZCDP_Q__N] = {40, 2457600, 1228800, 7356163942ULL, 80};
    struct zcdp_plan pl;

    assert_int_equal(zcdp_plan(250, 38, &pl), 0);
    assert_int_equal(pl.rho_milli, 250);
    assert_int_equal(pl.p, 38);
    assert_int_equal(pl.b2, 76);
    for (int i = 0; i < ZCDP_Q__N; i++)
        assert_true(pl.sigma2[i] == want38[i]);
    /* the sensitivities of section 3: 1, 2 B^2 q^2, B^2 q^2, the moments'
     * bound plus the documented unit of slack, 4 */
    assert_true(pl.delta2[ZCDP_Q_COUNTS] == 1);
    assert_true(pl.delta2[ZCDP_Q_STAGE1] == 2 * 76 * 1024);
    assert_true(pl.delta2[ZCDP_Q_SUM] == 76 * 1024);
    assert_true(pl.delta2[ZCDP_Q_MOMENTS] ==
                (76ULL * 76 * 1024 * 1024 + 128ULL * 128 * 76 * 1024) / 2 + 1);
    assert_true(pl.delta2[ZCDP_Q_HIST] == 4);

    assert_int_equal(zcdp_plan(250, 30, &pl), 0);
    assert_int_equal(pl.b2, 60);
    for (int i = 0; i < ZCDP_Q__N; i++)
        assert_true(pl.sigma2[i] == want30[i]);
    assert_true(pl.delta2[ZCDP_Q_MOMENTS] ==
                (60ULL * 60 * 1024 * 1024 + 128ULL * 128 * 60 * 1024) / 2 + 1);
}

static void test_shares_and_names(void **state)
{
    (void)state;
    static const unsigned pct[ZCDP_Q__N] = {5, 10, 10, 65, 10};
    static const char *const names[ZCDP_Q__N] = {"counts", "stage1", "sum", "second_moments",
                                                 "histograms"};
    unsigned total = 0;

    for (int i = 0; i < ZCDP_Q__N; i++) {
        assert_int_equal(zcdp_share_pct[i], pct[i]);
        assert_string_equal(zcdp_query_name[i], names[i]);
        total += zcdp_share_pct[i];
    }
    assert_int_equal(total, 100);
}

/* Every rho in range, both strata: the check passes, and it is tight: for
 * every query, sigma2 - 1 fails it (sigma2 is the least integer that
 * passes). */
static void test_plan_check_all_rho(void **state)
{
    (void)state;
    static const size_t ps[2] = {30, 38};

    for (int k = 0; k < 2; k++) {
        for (uint32_t rho = 10; rho <= 1000; rho++) {
            struct zcdp_plan pl;
            assert_int_equal(zcdp_plan(rho, ps[k], &pl), 0);
            assert_int_equal(zcdp_plan_check(&pl), 1);
            for (int i = 0; i < ZCDP_Q__N; i++) {
                assert_true(pl.sigma2[i] >= 2 && pl.sigma2[i] <= DGAUSS_SIGMA2_MAX);
                /* independently: sigma2 is the ceiling of delta2 / (2 rho_q) */
                u128 num = (u128)pl.delta2[i] * 100000;
                u128 den = (u128)2 * rho * zcdp_share_pct[i];
                assert_true((u128)pl.sigma2[i] * den >= num);
                assert_true((u128)(pl.sigma2[i] - 1) * den < num);

                struct zcdp_plan bad = pl;
                bad.sigma2[i]--;
                assert_int_equal(zcdp_plan_check(&bad), 0);
                /* a smaller sensitivity than B^2 implies is refused too */
                bad = pl;
                bad.delta2[i]--;
                assert_int_equal(zcdp_plan_check(&bad), 0);
            }
        }
    }
}

/* Numbers as little-endian 32-bit limbs in uint64_t, enough for the product
 * of five sigma2 (< 2^205) times rho. */
#define BIG_LIMBS 12
struct big {
    uint64_t l[BIG_LIMBS];
};

static void big_set(struct big *a, uint64_t v)
{
    memset(a, 0, sizeof *a);
    a->l[0] = v & 0xffffffffu;
    a->l[1] = v >> 32;
}

static void big_mul(struct big *a, uint64_t m)
{
    u128 carry = 0;

    for (int i = 0; i < BIG_LIMBS; i++) {
        u128 v = (u128)a->l[i] * m + carry;
        a->l[i] = (uint64_t)(v & 0xffffffffu);
        carry = v >> 32;
    }
    assert_true(carry == 0);
}

static void big_add(struct big *a, const struct big *b)
{
    uint64_t carry = 0;

    for (int i = 0; i < BIG_LIMBS; i++) {
        uint64_t v = a->l[i] + b->l[i] + carry;
        a->l[i] = v & 0xffffffffu;
        carry = v >> 32;
    }
    assert_true(carry == 0);
}

static int big_cmp(const struct big *a, const struct big *b)
{
    for (int i = BIG_LIMBS - 1; i >= 0; i--)
        if (a->l[i] != b->l[i])
            return a->l[i] < b->l[i] ? -1 : 1;
    return 0;
}

/* Spent rho = sum_i delta2_i / (2 sigma2_i) <= rho_milli / 1000, compared
 * exactly over the common denominator 2^5 prod sigma2_i:
 * 1000 sum_i delta2_i prod_{j != i} 2 sigma2_j <= rho_milli prod_i 2 sigma2_i. */
static int spent_within(const struct zcdp_plan *pl)
{
    struct big lhs, rhs, term;

    big_set(&lhs, 0);
    for (int i = 0; i < ZCDP_Q__N; i++) {
        big_set(&term, pl->delta2[i]);
        big_mul(&term, 1000);
        for (int j = 0; j < ZCDP_Q__N; j++)
            if (j != i)
                big_mul(&term, 2 * pl->sigma2[j]);
        big_add(&lhs, &term);
    }
    big_set(&rhs, pl->rho_milli);
    for (int j = 0; j < ZCDP_Q__N; j++)
        big_mul(&rhs, 2 * pl->sigma2[j]);
    return big_cmp(&lhs, &rhs) <= 0;
}

static void test_spent_exact(void **state)
{
    (void)state;
    static const size_t ps[2] = {30, 38};

    /* the comparison itself: 1/(2*1) + ... spends more than it may */
    struct zcdp_plan toy = {.rho_milli = 1000, .p = 1, .b2 = 2};
    for (int i = 0; i < ZCDP_Q__N; i++) {
        toy.delta2[i] = 1;
        toy.sigma2[i] = 3; /* 5 * 1/6 = 0.833 <= 1 */
    }
    assert_true(spent_within(&toy));
    toy.sigma2[0] = 1; /* 1/2 + 4/6 = 1.1667 > 1 */
    assert_false(spent_within(&toy));
    toy.sigma2[0] = 2; /* 1/4 + 4/6 = 0.9167 */
    assert_true(spent_within(&toy));
    toy.rho_milli = 916; /* 0.916 < 0.91666 */
    assert_false(spent_within(&toy));

    for (int k = 0; k < 2; k++) {
        for (uint32_t rho = 10; rho <= 1000; rho++) {
            struct zcdp_plan pl;
            assert_int_equal(zcdp_plan(rho, ps[k], &pl), 0);
            assert_true(spent_within(&pl));
            /* and it does not fit a budget 1 % smaller: the ceilings
             * round the noise up by less than that (the largest loss is
             * the counts' and histograms' small sigma2, under 0.5 % of
             * rho each), so the noise is not grossly oversized */
            pl.rho_milli = rho * 99 / 100;
            assert_false(spent_within(&pl));
        }
    }
}

static void test_plan_refusals(void **state)
{
    (void)state;
    struct zcdp_plan pl;

    memset(&pl, 0x5a, sizeof pl);
    struct zcdp_plan before = pl;
    assert_int_equal(zcdp_plan(9, 38, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(0, 38, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(1001, 38, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(UINT32_MAX, 38, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(250, 0, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(250, 39, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(250, SIZE_MAX, &pl), ERR_INVALID);
    assert_int_equal(zcdp_plan(250, 38, NULL), ERR_INVALID);
    /* a refused plan leaves the output alone */
    assert_memory_equal(&pl, &before, sizeof pl);

    /* the edges are accepted */
    assert_int_equal(zcdp_plan(10, 38, &pl), 0);
    assert_int_equal(zcdp_plan(1000, 1, &pl), 0);

    /* the check refuses what zcdp_plan would not make */
    assert_int_equal(zcdp_plan_check(NULL), 0);
    assert_int_equal(zcdp_plan(250, 38, &pl), 0);
    struct zcdp_plan bad = pl;
    bad.rho_milli = 1001;
    assert_int_equal(zcdp_plan_check(&bad), 0);
    bad = pl;
    bad.b2 = 75;
    assert_int_equal(zcdp_plan_check(&bad), 0);
    bad = pl;
    bad.sigma2[ZCDP_Q_COUNTS] = 0;
    assert_int_equal(zcdp_plan_check(&bad), 0);
    bad = pl;
    bad.sigma2[ZCDP_Q_MOMENTS] = DGAUSS_SIGMA2_MAX + 1;
    assert_int_equal(zcdp_plan_check(&bad), 0);
    /* more noise than needed is fine */
    bad = pl;
    bad.sigma2[ZCDP_Q_HIST] *= 2;
    assert_int_equal(zcdp_plan_check(&bad), 1);
}

#define near(got, want, tol)                                                                       \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (!(fabs(g_ - w_) <= (tol)))                                                             \
            fail_msg("%s = %.6f, want %.6f +- %g", #got, g_, w_, (double)(tol));                   \
    } while (0)

static void test_eps_named(void **state)
{
    (void)state;
    near(zcdp_eps_bs(0.25, 1e-9), 4.80, 0.01);
    near(zcdp_eps_cks(0.25, 1e-9), 4.44, 0.01);
    near(zcdp_eps_cks(1.0, 1e-9), 9.52, 0.01);
    /* the example of the CKS20 reference code */
    near(zcdp_eps_cks(0.025, 1e-6), 1.014, 0.001);
}

/* Design section 5: rho, eps BS / CKS at delta 1e-6, at delta 1e-9, max
 * AUC, max TPR at 5 % FPR. */
static const struct {
    double rho, bs6, cks6, bs9, cks9, auc, tpr5;
} table5[] = {
    {0.1, 2.45, 2.14, 2.98, 2.72, 0.62, 0.12},     {0.25, 3.97, 3.54, 4.80, 4.44, 0.69, 0.17},
    {0.5, 5.76, 5.22, 6.94, 6.47, 0.76, 0.26},     {1.0, 8.43, 7.77, 10.10, 9.52, 0.84, 0.41},
    {2.0, 12.51, 11.69, 14.88, 14.15, 0.92, 0.64},
};

static void test_eps_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table5 / sizeof table5[0]; i++) {
        double rho = table5[i].rho;
        near(zcdp_eps_bs(rho, 1e-6), table5[i].bs6, 0.01);
        near(zcdp_eps_cks(rho, 1e-6), table5[i].cks6, 0.01);
        near(zcdp_eps_bs(rho, 1e-9), table5[i].bs9, 0.01);
        near(zcdp_eps_cks(rho, 1e-9), table5[i].cks9, 0.01);
        /* the tighter conversion is never worse */
        assert_true(zcdp_eps_cks(rho, 1e-6) <= zcdp_eps_bs(rho, 1e-6));
        assert_true(zcdp_eps_cks(rho, 1e-9) <= zcdp_eps_bs(rho, 1e-9));
    }
}

/* The minimum is a minimum: no alpha on a fine grid does better, and the
 * result is monotone in rho and in delta. */
static void test_eps_cks_is_infimum(void **state)
{
    (void)state;
    static const double rhos[] = {0.001, 0.025, 0.25, 1.0, 2.0, 50.0};
    static const double deltas[] = {1e-3, 1e-6, 1e-9, 1e-15};

    for (size_t i = 0; i < sizeof rhos / sizeof rhos[0]; i++) {
        for (size_t j = 0; j < sizeof deltas / sizeof deltas[0]; j++) {
            double rho = rhos[i], l = log(1.0 / deltas[j]);
            double eps = zcdp_eps_cks(rho, deltas[j]);
            assert_true(isfinite(eps) && eps > 0.0);
            for (double x = -12.0; x <= 12.0; x += 0.001) {
                double alpha = 1.0 + exp(x);
                double v = alpha * rho +
                           (l + (alpha - 1.0) * log1p(-1.0 / alpha) - log(alpha)) / (alpha - 1.0);
                assert_true(eps <= v + 1e-9);
            }
            if (i > 0)
                assert_true(eps > zcdp_eps_cks(rhos[i - 1], deltas[j]));
            if (j > 0)
                assert_true(eps > zcdp_eps_cks(rho, deltas[j - 1]));
        }
    }
    assert_true(zcdp_eps_cks(0.0, 1e-9) == 0.0);
    assert_true(isnan(zcdp_eps_cks(-1.0, 1e-9)));
    assert_true(isnan(zcdp_eps_cks(0.25, 0.0)));
    assert_true(isnan(zcdp_eps_cks(0.25, 1.0)));
    assert_true(isnan(zcdp_eps_bs(0.25, 0.0)));
}

static void test_membership_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table5 / sizeof table5[0]; i++) {
        near(zcdp_auc_bound(table5[i].rho), table5[i].auc, 0.01);
        near(zcdp_tpr_bound(table5[i].rho, 0.05), table5[i].tpr5, 0.01);
    }
    /* the worst-case audit's row of section 7: Phi(sqrt(rho)) */
    near(zcdp_auc_bound(0.25), 0.691, 0.0005);
    near(zcdp_auc_bound(0.5), 0.760, 0.0005);
    near(zcdp_auc_bound(1.0), 0.841, 0.0005);
    near(zcdp_auc_bound(2.0), 0.921, 0.0005);

    /* no privacy loss, no advantage: TPR = FPR, AUC = 1/2 */
    near(zcdp_auc_bound(0.0), 0.5, 1e-15);
    for (double f = 1e-12; f < 1.0; f *= 1.7)
        near(zcdp_tpr_bound(0.0, f), f, 1e-9 * f);
    for (double f = 0.999; f < 1.0; f = 1.0 - (1.0 - f) / 3.0)
        near(zcdp_tpr_bound(0.0, f), f, 1e-12);
    /* Phi(Phi^-1(0.05)) where Phi^-1(0.05) = -1.6448536269514722 */
    near(zcdp_tpr_bound(0.5, 0.05), 0.5 * erfc(-(-1.6448536269514722 + 1.0) / sqrt(2.0)), 1e-12);
    assert_true(zcdp_tpr_bound(1.0, 0.0) == 0.0);
    assert_true(zcdp_tpr_bound(1.0, 1.0) == 1.0);
    assert_true(isnan(zcdp_tpr_bound(1.0, 1.5)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_published_sigma2),
        cmocka_unit_test(test_shares_and_names),
        cmocka_unit_test(test_plan_check_all_rho),
        cmocka_unit_test(test_spent_exact),
        cmocka_unit_test(test_plan_refusals),
        cmocka_unit_test(test_eps_named),
        cmocka_unit_test(test_eps_table),
        cmocka_unit_test(test_eps_cks_is_infimum),
        cmocka_unit_test(test_membership_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
