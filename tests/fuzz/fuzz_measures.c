/*
 * fuzz_measures.c - libFuzzer harness for measurement validation: a JSON body
 * (through jsonbody_parse, as the server reads it) whose members are checked
 * one by one with measures_check, on a body with and without breasts.
 *
 * Invariants checked: a value is accepted only when its name is in the
 * vocabulary, it is a finite number within the range, and it is not
 * breasts-only on a body without breasts; every refusal names a field that
 * starts with "measurements." and is valid UTF-8.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/jsonbody.h"
#include "atelier/draft.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_measures: invariant failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_one(const char *name, json_t *v, int breasts)
{
    char field[128], msg[256];
    double x = json_number_value(v);
    int rc =
        measures_check(name, x, json_is_number(v), breasts, field, sizeof field, msg, sizeof msg);
    int i = measures_find(name);

    CHECK(strncmp(field, "measurements.", 13) == 0);
    CHECK(util_utf8_valid(field, strlen(field)));
    if (rc == 0) {
        CHECK(i >= 0);
        CHECK(json_is_number(v) && isfinite(x));
        CHECK(x >= measures_table[i].min && x <= measures_table[i].max);
        CHECK(breasts || !measures_table[i].breasts_only);
    } else {
        CHECK(strlen(msg) > 0 && util_utf8_valid(msg, strlen(msg)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = NULL;
    char msg[256];
    const char *name;
    json_t *v;

    if (jsonbody_parse(data, size, &body, msg, sizeof msg) != 0)
        return 0;
    json_object_foreach(body, name, v)
    {
        check_one(name, v, 0);
        check_one(name, v, 1);
    }
    json_decref(body);
    return 0;
}
