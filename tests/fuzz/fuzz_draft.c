/*
 * fuzz_draft.c - libFuzzer harness for the drafting input: byte 0 picks the
 * body (breasts or not, bit 0) and the units (bit 1), byte 1 the seam
 * allowance (0..50 mm), the rest is a
 * JSON object of measurements as `atelier draft` and the pattern route take
 * it, whose member "options" (an object of option name to number or text)
 * is applied unchecked (draft_option_apply / _apply_choice: draft_run must
 * refuse a fit option out of its design's range by itself). Every design is
 * drafted and rendered to SVG.
 *
 * Invariants checked: draft_run either refuses (DRAFT_ERR_INVALID with a message)
 * or yields a pattern whose layout size is finite and positive, whose
 * warnings are known codes with printable ASCII messages, and whose SVG
 * renders without a "nan" or "inf" anywhere.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "atelier/draft.h"
#include "http/jsonbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_draft: invariant failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fill(json_t *body, int breasts, int imperial, double sa, struct draft_input *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < MEASURES_COUNT; i++) {
        json_t *v = json_object_get(body, measures_table[i].name);
        if (json_is_number(v)) {
            in->value[i] = json_number_value(v);
            in->have[i] = 1;
        }
    }
    in->breasts = breasts;
    in->sa = sa;
    in->units = imperial ? DRAFT_UNITS_IMPERIAL : DRAFT_UNITS_METRIC;
    in->date = "2026-12-01";
    in->model_name = "fuzz <&> model";
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(body, "options"), key, v)
    {
        if (json_is_number(v))
            draft_option_apply(in, key, json_number_value(v));
        else if (json_is_string(v))
            draft_option_apply_choice(in, key, json_string_value(v));
    }
}

static void draft_one(const struct design *d, const struct draft_input *in)
{
    struct pattern *p = NULL;
    char msg[512], *svg = NULL;
    size_t n = 0;
    int rc = draft_run(d, in, &p, msg, sizeof msg);

    if (rc) {
        CHECK(rc == DRAFT_ERR_INVALID || rc == DRAFT_ERR_NOMEM);
        CHECK(p == NULL);
        return;
    }
    CHECK(isfinite(p->width) && isfinite(p->height) && p->width > 0 && p->height > 0);
    CHECK(p->nwarnings <= DRAFT_MAX_WARNINGS);
    for (size_t i = 0; i < p->nwarnings; i++) {
        int known = 0;
        for (size_t k = 0; draft_warning_codes[k]; k++)
            known |= strcmp(draft_warning_codes[k], p->warning[i].code) == 0;
        CHECK(known && p->warning[i].message[0]);
        for (const char *c = p->warning[i].message; *c; c++)
            CHECK(*c >= 32 && *c < 127);
    }
    if (draft_svg(p, &svg, &n) == 0) {
        CHECK(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
        free(svg);
    }
    draft_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct draft_input in;
    json_t *body = NULL;
    char msg[256];

    if (size < 2 || jsonbody_parse(data + 2, size - 2, &body, msg, sizeof msg) != 0)
        return 0;
    fill(body, data[0] & 1, data[0] & 2, (double)(data[1] % 51), &in);
    for (int i = 0; i < draft_design_count(); i++)
        draft_one(draft_design(i), &in);
    json_decref(body);
    return 0;
}
