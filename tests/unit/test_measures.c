/*
 * test_measures.c - the vocabulary table: sorted (measures_find relies on
 * it), 38 names, exactly the 8 breasts-only ones, sane ranges around the
 * average bodies, and predictions that equal the base at the base neck.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "atelier/draft.h"

static void test_sorted_and_findable(void **state)
{
    (void)state;
    for (int i = 0; i < MEASURES_COUNT; i++) {
        if (i > 0 && strcmp(measures_table[i - 1].name, measures_table[i].name) >= 0)
            fail_msg("measures out of order at %s, %s", measures_table[i - 1].name,
                     measures_table[i].name);
        assert_int_equal(measures_find(measures_table[i].name), i);
    }
    assert_int_equal(measures_find("nope"), -1);
    assert_int_equal(measures_find(""), -1);
    assert_int_equal(measures_find("Chest"), -1);
}

static void test_breasts_only(void **state)
{
    static const char *const expected[] = {"bustFront", "bustPointToUnderbust", "bustSpan",
                                           "highBust",  "highBustFront",        "hpsToWaistFront",
                                           "underbust", "waistToUnderbust"};
    int n = 0;
    (void)state;
    for (int i = 0; i < MEASURES_COUNT; i++)
        n += measures_table[i].breasts_only;
    assert_int_equal(n, 8);
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++) {
        int i = measures_find(expected[k]);
        assert_true(i >= 0);
        assert_true(measures_table[i].breasts_only);
    }
}

static void test_ranges_and_units(void **state)
{
    (void)state;
    for (int i = 0; i < MEASURES_COUNT; i++) {
        const struct measure *m = &measures_table[i];
        int deg = strcmp(m->name, "shoulderSlope") == 0;
        assert_string_equal(m->unit, deg ? "deg" : "mm");
        assert_true(m->min < m->base_breasts && m->base_breasts < m->max);
        assert_true(m->min < m->base_flat && m->base_flat < m->max);
        assert_true(strlen(m->description) > 10);
    }
}

static void test_prediction(void **state)
{
    (void)state;
    int chest = measures_find("chest"), neck = measures_find("neck");
    assert_true(fabs(measures_predict(chest, 1, 340) - 925) < 1e-9);
    assert_true(fabs(measures_predict(chest, 0, 380) - 1000) < 1e-9);
    assert_true(measures_predict(chest, 0, 420) > 1000);
    assert_false(measures_implausible(chest, 0, 380, 1100));
    assert_true(measures_implausible(chest, 0, 380, 1500));
    assert_false(measures_implausible(neck, 0, 380, 380));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_and_findable),
        cmocka_unit_test(test_breasts_only),
        cmocka_unit_test(test_ranges_and_units),
        cmocka_unit_test(test_prediction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
