/*
 * test_models_text.c - a PATCH's measurements merged into the stored text
 * without parsing it (models_mtext_merge): byte for byte what jansson
 * writes when the text is parsed, merged and written again (the path it
 * replaces), on fixed cases and on 20,000 random stored sets and patches
 * (integers, reals such as 0.1 that print with 17 digits, removals, names
 * that sort around each other); texts and patches of any other shape are
 * refused (ERR_INVALID), so the caller parses them; and
 * models_has_measurement answers the same from the text as from the
 * parsed object.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atelier/draft.h"
#include "base/err.h"
#include "models/models.h"

#define FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* What the jansson path stores: parse text, apply patch, write it again. */
static char *by_jansson(const char *text, json_t *patch)
{
    json_t *cur = json_loads(text, 0, NULL);
    const char *k;
    json_t *v;
    char *out;

    assert_non_null(cur);
    json_object_foreach(patch, k, v)
    {
        if (json_is_null(v))
            json_object_del(cur, k);
        else
            json_object_set(cur, k, v);
    }
    out = json_dumps(cur, FLAGS);
    json_decref(cur);
    return out;
}

static void check_same(const char *text, const char *patch_text)
{
    json_t *patch = json_loads(patch_text, 0, NULL);
    char *want, *got = NULL;

    assert_non_null(patch);
    want = by_jansson(text, patch);
    assert_int_equal(models_mtext_merge(text, patch, &got), 0);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("text %s patch %s: got %s, jansson wrote %s", text, patch_text, got, want);
    free(got);
    free(want);
    json_decref(patch);
}

static void test_fixed_cases(void **state)
{
    (void)state;
    check_same("{}", "{}");
    check_same("{}", "{\"chest\":1000}");
    check_same("{\"chest\":1000}", "{}");
    check_same("{\"chest\":1000}", "{\"chest\":null}");
    check_same("{\"chest\":1000}", "{\"waist\":null}");
    check_same("{\"chest\":1000,\"waist\":800}", "{\"chest\":null,\"waist\":null}");
    check_same("{\"ankle\":250,\"chest\":1000,\"waist\":800}", "{\"biceps\":310.5}");
    check_same("{\"ankle\":250,\"chest\":1000,\"waist\":800}", "{\"zz\":1,\"aa\":2,\"chest\":3}");
    check_same("{\"chest\":0.10000000000000001}", "{\"waist\":0.1,\"ankle\":1e-07}");
    check_same("{\"hips\":1000}", "{\"hipsEntry\":1,\"hip\":2}"); /* prefixes sort first */
    check_same("{\"Bust\":1,\"bust\":2}", "{\"bustFront\":3}");   /* upper case first */
    check_same("{\"seat\":-0.0}", "{\"seat\":1e21,\"neck\":-5}");
}

static const char *const extra[] = {"a", "zzz", "hip", "hipsEntry", "Chest"};

static const char *random_name(unsigned *seed)
{
    unsigned r = (unsigned)rand_r(seed) % (MEASURES_COUNT + 5);

    return r < MEASURES_COUNT ? measures_table[r].name : extra[r - MEASURES_COUNT];
}

static json_t *random_number(unsigned *seed)
{
    static const double reals[] = {0.1, 1000.5, 1e-7, 123456789.125, -3.25, 1e21, 0.0};

    switch (rand_r(seed) % 3) {
    case 0:
        return json_integer(rand_r(seed) % 3000 - 100);
    case 1:
        return json_real(reals[rand_r(seed) % 7]);
    default:
        return json_real((double)rand_r(seed) / 7.0);
    }
}

static void test_random_as_jansson(void **state)
{
    unsigned seed = 17;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        json_t *stored = json_object(), *patch = json_object();
        int n = rand_r(&seed) % 12, pn = rand_r(&seed) % 6;
        char *text, *ptext;

        for (int i = 0; i < n; i++)
            json_object_set_new(stored, random_name(&seed), random_number(&seed));
        for (int i = 0; i < pn; i++)
            json_object_set_new(patch, random_name(&seed),
                                rand_r(&seed) % 4 ? random_number(&seed) : json_null());
        text = json_dumps(stored, FLAGS);
        ptext = json_dumps(patch, JSON_COMPACT);
        check_same(text, ptext);
        free(text);
        free(ptext);
        json_decref(stored);
        json_decref(patch);
    }
}

static void refused(const char *text, const char *patch_text)
{
    json_t *patch = json_loads(patch_text, JSON_DECODE_ANY, NULL);
    char *out = (char *)"untouched";

    assert_non_null(patch);
    assert_int_equal(models_mtext_merge(text, patch, &out), ERR_INVALID);
    assert_null(out);
    json_decref(patch);
}

static void test_other_shapes_refused(void **state)
{
    (void)state;
    refused(NULL, "{}");
    refused("", "{}");
    refused("[]", "{}");
    refused("{\"chest\":1000", "{}");
    refused("{\"chest\":1000}x", "{}");
    refused("{\"chest\":1000,}", "{}");
    refused("{\"chest\":}", "{}");
    refused("{\"ch\\\"est\":1}", "{}");
    refused("{\"chest\":{\"a\":1}}", "{}");
    refused("{\"chest\":[1]}", "{}");
    refused("{\"chest\":\"1\"}", "{}");
    refused("{\"chest\" :1}", "{}");
    refused("{}", "[1]");
    refused("{}", "{\"chest\":\"1000\"}");
    refused("{}", "{\"che st\":1}");
    refused("{}", "{\"ch\\\"est\":1}");
    refused("{}", "{\"chest\":true}");
}

static void test_has_measurement_from_text(void **state)
{
    static const char *const text = "{\"bustFront\":400,\"highBust\":900,\"waist\":800}";

    (void)state;
    for (int parsed = 0; parsed < 2; parsed++) {
        struct model m = {0};

        m.mtext = strdup(text);
        assert_non_null(m.mtext);
        if (parsed)
            assert_non_null(models_measurements(&m));
        assert_true(models_has_measurement(&m, "bustFront"));
        assert_true(models_has_measurement(&m, "highBust"));
        assert_true(models_has_measurement(&m, "waist"));
        assert_false(models_has_measurement(&m, "bust"));
        assert_false(models_has_measurement(&m, "Bust"));
        assert_false(models_has_measurement(&m, "highBustFront"));
        assert_false(models_has_measurement(&m, "400"));
        assert_int_equal(m.measurements != NULL, parsed); /* the text was enough */
        models_release(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_cases),
        cmocka_unit_test(test_random_as_jansson),
        cmocka_unit_test(test_other_shapes_refused),
        cmocka_unit_test(test_has_measurement_from_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
