/*
 * test_measures.c - the vocabulary table: sorted (measures_find relies on
 * it), 38 names, exactly the 8 breasts-only ones, sane ranges around the
 * average bodies, and predictions that equal the base at the base neck.
 * The pattern options vocabulary (options.c): unique names, defaults
 * inside their ranges or among their choices, and draft_option_check
 * accepting exactly the values of each option's kind and range.
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

static void test_options_table(void **state)
{
    (void)state;
    for (int i = 0; i < DRAFT_OPTIONS_COUNT; i++) {
        const struct draft_option *o = &draft_options[i];
        /* a name may have a row per design, never two for one design */
        assert_true(draft_option_find(o->name) >= 0 && draft_option_find(o->name) <= i);
        for (int d = 0; d < draft_design_count(); d++)
            if (draft_option_applies(o, draft_design(d)))
                assert_int_equal(draft_option_for(draft_design(d), o->name), i);
        for (const char *const *n = o->designs; n && *n; n++)
            assert_non_null(draft_find(*n));
        assert_true(strlen(o->description) > 10);
        if (o->kind == DRAFT_OPTION_NUMBER) {
            assert_true(o->min <= o->def && o->def <= o->max);
            assert_null(o->choices);
            assert_true(*o->unit);
        } else {
            assert_int_equal(o->kind, DRAFT_OPTION_CHOICE);
            assert_non_null(o->choices);
            assert_non_null(o->choices[0]); /* the default */
            assert_int_equal(draft_option_choice(o, o->choices[0]), 0);
        }
        for (int d = 0; d < draft_design_count(); d++)
            if (!o->designs)
                assert_true(draft_option_applies(o, draft_design(d)));
    }
    assert_int_equal(draft_option_find("nope"), -1);
    assert_int_equal(draft_option_find(NULL), -1);
    int sa = draft_option_find("sa"), paper = draft_option_find("paper");
    assert_true(sa >= 0 && paper >= 0);
    assert_true(draft_options[sa].def == DRAFT_SA_DEFAULT && draft_options[sa].max == DRAFT_SA_MAX);
    assert_false(draft_options[sa].output);
    assert_true(draft_options[paper].output);
    assert_string_equal(draft_options[paper].choices[0], "full");
}

static void test_option_check(void **state)
{
    (void)state;
    const struct design *body = draft_find("body");
    char msg[DRAFT_MSG_MAX];
    const double good[] = {0.0, 0.5, 10.0, DRAFT_SA_MAX};
    const double bad[] = {-0.001, DRAFT_SA_MAX + 0.001, NAN, INFINITY, -INFINITY};

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(
            draft_option_check(body, "sa", "options.sa", 1, good[i], NULL, msg, sizeof msg), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        assert_int_equal(
            draft_option_check(body, "sa", "options.sa", 1, bad[i], NULL, msg, sizeof msg),
            DRAFT_ERR_INVALID);
        assert_non_null(strstr(msg, "options.sa"));
    }
    /* a number given as text is not a number */
    assert_int_equal(draft_option_check(body, "sa", "sa", 0, 10, "10", msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_check(body, "paper", "paper", 0, 0, "a4", msg, sizeof msg), 0);
    /* a choice is exact: the vocabulary's spelling only */
    assert_int_equal(draft_option_check(body, "paper", "paper", 0, 0, "A4", msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "full, a4 or letter"));
    assert_int_equal(draft_option_check(body, "paper", "paper", 0, 0, "a3", msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "full, a4 or letter"));
    assert_int_equal(draft_option_check(body, "paper", "paper", 1, 4, NULL, msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_check(body, "ease", "options.ease", 1, 1, NULL, msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "options.ease"));
    assert_int_equal(draft_option_check(NULL, "sa", "sa", 1, 10, NULL, msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    /* a fit option: each design's own range; another design's is refused */
    const struct design *trouser = draft_find("trouser"), *skirt = draft_find("skirt");
    assert_int_equal(draft_option_check(trouser, "waist_ease", "options.waist_ease", 1, 15.0, NULL,
                                        msg, sizeof msg),
                     0);
    assert_int_equal(draft_option_check(skirt, "waist_ease", "options.waist_ease", 1, 15.0, NULL,
                                        msg, sizeof msg),
                     DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "options.waist_ease"));
    assert_non_null(strstr(msg, "from 0 % to 10 %"));
    assert_int_equal(
        draft_option_check(body, "leg_shape", "leg_shape", 0, 0, "slim", msg, sizeof msg),
        DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "does not apply to the body"));
    assert_int_equal(
        draft_option_check(trouser, "leg_shape", "leg_shape", 0, 0, "slim", msg, sizeof msg), 0);
    assert_int_equal(
        draft_option_check(trouser, "leg_shape", "leg_shape", 0, 0, "Slim", msg, sizeof msg),
        DRAFT_ERR_INVALID);
    assert_int_equal(
        draft_option_check(trouser, "leg_shape", "leg_shape", 0, 0, "flared", msg, sizeof msg),
        DRAFT_ERR_INVALID);
    assert_non_null(strstr(msg, "straight, slim or wide"));
}

static void test_option_apply(void **state)
{
    (void)state;
    struct draft_input in = {.sa = 1.0};

    assert_int_equal(draft_option_apply(&in, "sa", 17.5), 0);
    assert_true(in.sa == 17.5);
    assert_int_equal(draft_option_apply(&in, "paper", 3), 0);
    assert_true(in.sa == 17.5);
    assert_int_equal(draft_option_apply(&in, "nope", 3), DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_apply(NULL, "sa", 3), DRAFT_ERR_INVALID);
    /* a fit option is set on every row of its name, and only there */
    assert_int_equal(draft_option_apply(&in, "waist_ease", 4.5), 0);
    for (int i = 0; i < DRAFT_OPTIONS_COUNT; i++) {
        int named = strcmp(draft_options[i].name, "waist_ease") == 0;
        assert_int_equal(in.opt_set[i], named);
        if (named)
            assert_true(in.opt[i] == 4.5);
    }
    int shape = draft_option_for(draft_find("trouser"), "leg_shape");
    assert_int_equal(draft_option_apply_choice(&in, "leg_shape", "wide"), 0);
    assert_true(in.opt_set[shape] && in.opt[shape] == 2.0);
    assert_int_equal(draft_option_apply_choice(&in, "leg_shape", "WIDE"), DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_apply_choice(&in, "leg_shape", "flared"), DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_apply_choice(&in, "sa", "10"), DRAFT_ERR_INVALID);
    assert_int_equal(draft_option_apply_choice(&in, "paper", "a4"), 0); /* output: not stored */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_and_findable), cmocka_unit_test(test_breasts_only),
        cmocka_unit_test(test_ranges_and_units),    cmocka_unit_test(test_prediction),
        cmocka_unit_test(test_options_table),       cmocka_unit_test(test_option_check),
        cmocka_unit_test(test_option_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
