/*
 * options.c - the pattern options vocabulary (see atelier/draft.h): what a
 * pattern is drafted with besides the measurements, with kinds, ranges,
 * choices and defaults, and the one check every program runs on a
 * name -> value pair before drafting with it.
 *
 * Invariants: names are unique; a number option's default lies in its
 * range; a choice option has at least one choice, and its first is the
 * default (checked by tests/unit/test_measures.c). draft_option_check
 * accepts exactly what draft_run and the renderers accept, so a checked
 * option never makes a draft fail by itself. A fit option added to the
 * table is applied in draft_option_apply and read by its design from
 * struct draft_input.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "atelier/draft.h"

static const char *const option_papers[] = {"full", "a4", "letter", NULL};
static const char *const option_units[] = {"metric", "imperial", NULL};

const struct draft_option draft_options[DRAFT_OPTIONS_COUNT] = {
    {"paper", DRAFT_OPTION_CHOICE, "",
     "PDF paper: full (one page the size of the layout), a4 or letter (tiled with overlap "
     "and alignment marks)",
     0, 0, 0, option_papers, NULL, 1},
    {"sa", DRAFT_OPTION_NUMBER, "mm", "seam allowance around every seam (hems get three times it)",
     0.0, DRAFT_SA_MAX, DRAFT_SA_DEFAULT, NULL, NULL, 0},
    {"units", DRAFT_OPTION_CHOICE, "",
     "units of the printed labels: metric (the seam allowance in mm, a 100 x 50 mm scale box) "
     "or imperial (in inches, a 4 x 2 in scale box); the geometry and sa stay in mm",
     0, 0, 0, option_units, NULL, 0},
};

int draft_option_find(const char *name)
{
    for (int i = 0; name && i < DRAFT_OPTIONS_COUNT; i++)
        if (strcmp(draft_options[i].name, name) == 0)
            return i;
    return -1;
}

int draft_option_applies(const struct draft_option *o, const struct design *d)
{
    if (!o || !d)
        return 0;
    if (!o->designs)
        return 1;
    for (const char *const *n = o->designs; *n; n++)
        if (strcmp(*n, d->name) == 0)
            return 1;
    return 0;
}

int draft_option_choice(const struct draft_option *o, const char *text)
{
    if (!o || o->kind != DRAFT_OPTION_CHOICE || !text)
        return -1;
    for (int i = 0; o->choices[i]; i++)
        if (strcasecmp(o->choices[i], text) == 0)
            return i;
    return -1;
}

/* "a, b or c" of a choice option's choices. */
static void option_list(const struct draft_option *o, char *buf, size_t n)
{
    size_t used = 0;

    buf[0] = 0;
    for (int i = 0; o->choices[i] && used < n; i++) {
        const char *sep = i == 0 ? "" : o->choices[i + 1] ? ", " : " or ";
        int w = snprintf(buf + used, n - used, "%s%s", sep, o->choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int draft_option_check(const struct design *d, const char *name, const char *field, int is_number,
                       double value, const char *text, char *msg, size_t msgn)
{
    int i = draft_option_find(name);
    const struct draft_option *o = i >= 0 ? &draft_options[i] : NULL;
    char list[128];

    if (!field)
        field = "option";
    if (!o) {
        snprintf(msg, msgn, "unknown option %s (see the options of GET /v1/designs)", field);
        return DRAFT_ERR_INVALID;
    }
    if (!d) {
        snprintf(msg, msgn, "%s needs a design", field);
        return DRAFT_ERR_INVALID;
    }
    if (!draft_option_applies(o, d)) {
        snprintf(msg, msgn, "%s does not apply to the %s", field, d->name);
        return DRAFT_ERR_INVALID;
    }
    if (o->kind == DRAFT_OPTION_NUMBER) {
        if (!is_number || !isfinite(value) || value < o->min || value > o->max) {
            snprintf(msg, msgn, "%s must be a number of %s from %g to %g", field, o->unit, o->min,
                     o->max);
            return DRAFT_ERR_INVALID;
        }
        return 0;
    }
    if (draft_option_choice(o, text) < 0) {
        option_list(o, list, sizeof list);
        snprintf(msg, msgn, "%s must be %s", field, list);
        return DRAFT_ERR_INVALID;
    }
    return 0;
}

int draft_option_apply(struct draft_input *in, const char *name, double value)
{
    int i = draft_option_find(name);

    if (!in || i < 0)
        return DRAFT_ERR_INVALID;
    if (strcmp(name, "sa") == 0)
        in->sa = value;
    return 0;
}

int draft_option_apply_choice(struct draft_input *in, const char *name, const char *text)
{
    int i = draft_option_find(name);
    int c = i >= 0 ? draft_option_choice(&draft_options[i], text) : -1;

    if (!in || c < 0)
        return DRAFT_ERR_INVALID;
    if (strcmp(name, "units") == 0)
        return draft_units_parse(draft_options[i].choices[c], &in->units);
    return 0;
}
