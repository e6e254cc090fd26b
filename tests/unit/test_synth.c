/*
 * test_synth.c - the reference population and its generator: base/rng.c
 * (splitmix64 seeding against the published vectors, xoshiro256** and its
 * derived draws pinned) and privacy/synth.c (the bodies of `atelier
 * populate --seed 7` pinned, plausible values, the model's correlations).
 *
 * The pinned numbers are the streams as they were when rng.c and synth.c
 * became the one generator and the one body model: the open-data API tests
 * and the release figures rely on them, so a change here is a change of
 * every population made from a seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "privacy/synth.h"

static void test_splitmix_vectors(void **state)
{
    (void)state;
    /* splitmix64 from state 0, the reference implementation's outputs */
    const uint64_t want[4] = {0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL,
                              0xf88bb8a8724c81ecULL};
    uint64_t st = 0;
    for (int i = 0; i < 4; i++)
        assert_true(rng_splitmix(&st) == want[i]);

    /* rng_seed fills the xoshiro state with those four */
    struct rng r;
    rng_seed(&r, 0);
    assert_memory_equal(r.s, want, sizeof want);
}

static void test_streams_pinned(void **state)
{
    (void)state;
    struct rng r;
    const uint64_t next0[3] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL};
    rng_seed(&r, 0);
    for (int i = 0; i < 3; i++)
        assert_true(rng_next(&r) == next0[i]);

    const double normal1[4] = {-0.83274143446567073, -0.10752148995724746, -0.81732098111511153,
                               0.66473296917503033};
    rng_seed(&r, 1);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(rng_normal(&r) - normal1[i]) < 1e-12);

    const uint64_t below3[5] = {608, 310, 105, 402, 826};
    rng_seed(&r, 3);
    for (int i = 0; i < 5; i++)
        assert_true(rng_below(&r, 1000) == below3[i]);
}

/* rng_uniform is the top 53 bits of rng_next; rng_normal is Box-Muller on two
 * uniforms, cos first, then the sin of the same pair. */
static void test_derived_draws(void **state)
{
    (void)state;
    struct rng a, b;
    rng_seed(&a, 99);
    rng_seed(&b, 99);
    for (int i = 0; i < 1000; i++) {
        double u = rng_uniform(&a);
        assert_true(u == (double)(rng_next(&b) >> 11) * 0x1.0p-53);
        assert_true(u >= 0.0 && u < 1.0);
    }
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    for (int i = 0; i < 100; i++) {
        double u = rng_uniform(&b), v = rng_uniform(&b);
        assert_true(u > 0.0); /* 0 has probability 2^-53: not met with these seeds */
        double m = sqrt(-2.0 * log(u)), t = 2.0 * M_PI * v;
        assert_true(fabs(rng_normal(&a) - m * cos(t)) < 1e-12);
        assert_true(fabs(rng_normal(&a) - m * sin(t)) < 1e-12);
    }
    for (uint64_t n = 1; n < 70; n++)
        assert_true(rng_below(&a, n) < n);
}

static int count_have(const unsigned char have[MEASURES_COUNT])
{
    int n = 0;
    for (int i = 0; i < MEASURES_COUNT; i++)
        n += have[i];
    return n;
}

static double value_of(const double v[MEASURES_COUNT], const char *name)
{
    int i = measures_find(name);
    assert_true(i >= 0);
    return v[i];
}

/* The first people of `atelier populate --seed 7` (tests/api/test_400). */
static void test_populate_seed7_pinned(void **state)
{
    (void)state;
    struct rng r;
    double v[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    int breasts;

    rng_seed(&r, 7);
    synth_person(&r, &breasts, v, have); /* 0: no breasts, complete */
    assert_int_equal(breasts, 0);
    assert_int_equal(count_have(have), MEASURES_COUNT - 8);
    assert_true(value_of(v, "chest") == 904 && value_of(v, "neck") == 403);
    assert_true(value_of(v, "waist") == 729 && value_of(v, "shoulderSlope") == 15);
    assert_true(value_of(v, "waistToFloor") == 1164);
    synth_person(&r, &breasts, v, have); /* 1: breasts, complete */
    assert_int_equal(breasts, 1);
    assert_int_equal(count_have(have), MEASURES_COUNT);
    assert_true(value_of(v, "chest") == 897 && value_of(v, "neck") == 324);
    assert_true(value_of(v, "underbust") == 705 && value_of(v, "bustSpan") == 156);
    for (int p = 2; p < 7; p++)
        synth_person(&r, &breasts, v, have);
    synth_person(&r, &breasts, v, have); /* 7: the first sparse one */
    assert_int_equal(breasts, 0);
    assert_int_equal(count_have(have), 26);
    assert_true(have[measures_find("neck")] && value_of(v, "neck") == 374);
    assert_true(value_of(v, "chest") == 981);
    assert_false(have[measures_find("crossSeamFront")]);
}

/* synth_table holds synth_body's bodies, only the stratum's columns. */
static void test_table_is_bodies(void **state)
{
    (void)state;
    const size_t n = 50;
    for (int breasts = 0; breasts < 2; breasts++) {
        size_t p = synth_columns(breasts);
        assert_int_equal(p, breasts ? MEASURES_COUNT : MEASURES_COUNT - 8);
        double *x = malloc(n * p * sizeof(double)), v[MEASURES_COUNT];
        unsigned char have[MEASURES_COUNT];
        struct rng a, b;
        assert_non_null(x);
        rng_seed(&a, 11);
        rng_seed(&b, 11);
        synth_table(&a, breasts, n, x);
        for (size_t row = 0; row < n; row++) {
            synth_body(&b, breasts, v, have);
            size_t c = 0;
            for (int i = 0; i < MEASURES_COUNT; i++) {
                assert_int_equal(have[i], breasts || !measures_table[i].breasts_only);
                if (have[i])
                    assert_true(x[row * p + c++] == v[i]);
            }
            assert_int_equal(c, p);
        }
        free(x);
    }
}

static double corr(const double *x, size_t n, size_t p, int a, int b)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += x[i * p + (size_t)a] / (double)n;
        mb += x[i * p + (size_t)b] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        double da = x[i * p + (size_t)a] - ma, db = x[i * p + (size_t)b] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    return sab / sqrt(saa * sbb);
}

/* Whole mm within the plausible ranges; the neck around the stratum's base
 * with sqrt(7 %^2 + 3.5 %^2) = 7.83 % spread (size and individual noise);
 * girths follow the neck and each other more than a girth follows a
 * height. */
static void test_population_shape(void **state)
{
    (void)state;
    const size_t n = 4000, p = MEASURES_COUNT;
    double *x = malloc(n * p * sizeof(double));
    struct rng r;
    assert_non_null(x);
    rng_seed(&r, 2);
    synth_table(&r, 1, n, x);
    double mean = 0, var = 0;
    int neck = measures_find("neck"), chest = measures_find("chest");
    int waist = measures_find("waist"), inseam = measures_find("inseam");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) {
            double v = x[i * p + j];
            assert_true(v == round(v) && v >= measures_table[j].min && v <= measures_table[j].max);
        }
    for (size_t i = 0; i < n; i++)
        mean += x[i * p + (size_t)neck] / (double)n;
    for (size_t i = 0; i < n; i++)
        var += pow(x[i * p + (size_t)neck] - mean, 2) / (double)(n - 1);
    assert_true(fabs(mean - 340.0) < 2.0);                 /* SE 0.38 mm */
    assert_true(fabs(sqrt(var) / 340.0 - 0.0783) < 0.005); /* SE about 0.0008 */
    /* the model's correlations: 0.64, 0.86 and 0.22 (SE about 0.01) */
    assert_true(fabs(corr(x, n, p, neck, chest) - 0.64) < 0.05);
    assert_true(fabs(corr(x, n, p, chest, waist) - 0.86) < 0.05);
    assert_true(fabs(corr(x, n, p, chest, inseam) - 0.22) < 0.05);
    free(x);
}

/* Sparse bodies lose 1 to 12 values (duplicates in the 2 to 12 drops), never
 * the neck. */
static void test_sparsify(void **state)
{
    (void)state;
    struct rng r;
    double v[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    int neck = measures_find("neck"), seen_many = 0;
    rng_seed(&r, 4);
    for (int t = 0; t < 2000; t++) {
        synth_body(&r, 1, v, have);
        synth_sparsify(&r, have);
        int lost = MEASURES_COUNT - count_have(have);
        assert_true(have[neck]);
        assert_true(lost >= 1 && lost <= 12);
        seen_many |= lost >= 10;
    }
    assert_true(seen_many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix_vectors), cmocka_unit_test(test_streams_pinned),
        cmocka_unit_test(test_derived_draws),    cmocka_unit_test(test_populate_seed7_pinned),
        cmocka_unit_test(test_table_is_bodies),  cmocka_unit_test(test_population_shape),
        cmocka_unit_test(test_sparsify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
