/*
 * options.c - the pattern options vocabulary (see atelier/draft.h): what a
 * pattern is drafted with besides the measurements, with kinds, ranges,
 * choices and defaults, and the one check every program runs on a
 * name -> value pair before drafting with it.
 *
 * Invariants: no design has two rows of one name (a fit option shared by
 * designs has a row per range and default); a number option's default
 * lies in its range; a choice option has at least one choice, and its
 * first is the default (checked by tests/unit/test_measures.c).
 * draft_option_check accepts exactly what draft_run and the renderers
 * accept, so a checked option never makes a draft fail by itself (the
 * ranges are those over which tests/unit/test_draft.c proves every
 * design's invariants). A fit option added to the table is stored by
 * draft_option_apply(_choice) in struct draft_input and read by its design
 * with draft_opt (draft_impl.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atelier/draft.h"

static const char *const option_papers[] = {"full", "a4", "letter", NULL};
static const char *const option_leg_shapes[] = {"straight", "slim", "wide", NULL};
static const char *const option_sleeves[] = {"short", "long", NULL};
static const char *const option_units[] = {"metric", "imperial", NULL};

/* Which designs a fit option's row is for. */
static const char *const for_body[] = {"body", NULL};
static const char *const for_bodice[] = {"bodice", NULL};
static const char *const for_trouser[] = {"trouser", NULL};
static const char *const for_tshirt[] = {"tshirt", NULL};
static const char *const for_skirt[] = {"skirt", NULL};
static const char *const for_tops[] = {"body", "tshirt", NULL};
static const char *const for_blocks[] = {"body", "bodice", NULL};
static const char *const for_armholes[] = {"body", "bodice", "tshirt", NULL};

#define PCT(x) ((x)*100.0)

/* Fit options: eases in % of their measurement, lengths in mm added to
 * what the measurements give (negative: shorter, higher). The ranges are
 * what every design keeps its invariants over (tests/unit/test_draft.c:
 * min, default and max of each, and random combinations, on the 20
 * FreeSewing sets and their perturbations); the defaults draft each block
 * exactly as it was drafted before it had options. */
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
    {"chest_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the chest line: the block is chest x (1 + ease) around", 0.0, 30.0,
     PCT(DRAFT_BODY_CHEST_EASE), NULL, for_body, 0},
    {"chest_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the chest line (the full bust on a body with breasts), knit: negative for a "
     "snug fit that the fabric stretches over, 0-10 for an easy one",
     -10.0, 25.0, 5.0, NULL, for_tshirt, 0},
    {"bust_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the bust line: the bodice is chest (full bust) x (1 + ease) around, the back "
     "from highBust with the same ease",
     2.0, 25.0, PCT(DRAFT_BODICE_BUST_EASE), NULL, for_bodice, 0},
    {"hips_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the hem: it widens for hips x (1 + ease) when the chest line is narrower", 0.0, 25.0,
     PCT(DRAFT_BODY_HIPS_EASE), NULL, for_body, 0},
    {"hips_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the hem: it widens for hips x (1 + ease) when the chest line is narrower (knit: "
     "may be negative)",
     -10.0, 25.0, 5.0, NULL, for_tshirt, 0},
    {"waist_ease", DRAFT_OPTION_NUMBER, "%",
     "ease of the waist seam (darts excluded): waist x (1 + ease) around", 0.0, 20.0,
     PCT(DRAFT_BODICE_WAIST_EASE), NULL, for_bodice, 0},
    {"waist_ease", DRAFT_OPTION_NUMBER, "%",
     "ease of the waist seam (darts excluded): waist x (1 + ease) around", 0.0, 15.0,
     PCT(DRAFT_TROUSER_WAIST_EASE), NULL, for_trouser, 0},
    {"waist_ease", DRAFT_OPTION_NUMBER, "%",
     "ease of the waist seam (darts excluded): waist x (1 + ease) around", 0.0, 10.0, 2.0, NULL,
     for_skirt, 0},
    {"seat_ease", DRAFT_OPTION_NUMBER, "%", "ease at the seat line: seat x (1 + ease) around", 1.0,
     20.0, PCT(DRAFT_TROUSER_SEAT_EASE), NULL, for_trouser, 0},
    {"seat_ease", DRAFT_OPTION_NUMBER, "%",
     "ease at the seat line: seat x (1 + ease) around; the skirt falls straight from there", 0.0,
     12.0, 4.0, NULL, for_skirt, 0},
    {"body_length", DRAFT_OPTION_NUMBER, "mm",
     "added to the length below the hips line (waistToHips below the waist); negative shortens",
     -60.0, 300.0, 0.0, NULL, for_tops, 0},
    {"sleeve_length", DRAFT_OPTION_NUMBER, "mm",
     "added to the sleeve (shoulderToWrist from the top of the cap); a shorter sleeve is cut "
     "from the same taper, so its hem is wider",
     -150.0, 50.0, 0.0, NULL, for_blocks, 0},
    {"sleeve_length", DRAFT_OPTION_NUMBER, "mm",
     "added to the sleeve, short or long (the hem follows the sleeve's taper)", -30.0, 60.0, 0.0,
     NULL, for_tshirt, 0},
    {"armhole_depth", DRAFT_OPTION_NUMBER, "mm",
     "armpit lower (positive) or higher (negative) than the block's; never shallower than the "
     "sleeve needs",
     -15.0, 40.0, 0.0, NULL, for_armholes, 0},
    {"leg_length", DRAFT_OPTION_NUMBER, "mm",
     "added to the leg (the hem at waistToFloor from the waist); negative shortens", -200.0, 50.0,
     0.0, NULL, for_trouser, 0},
    {"leg_shape", DRAFT_OPTION_CHOICE, "",
     "below the knee: straight (the hem as wide as the knee), slim (0.8 x) or wide (1.25 x)", 0, 0,
     0, option_leg_shapes, for_trouser, 0},
    {"waistband", DRAFT_OPTION_NUMBER, "mm",
     "finished width of a straight waistband above the waist seam (cut folded, the waist seam "
     "plus 30 mm long); 0: none",
     0.0, 60.0, 0.0, NULL, for_trouser, 0},
    {"waistband", DRAFT_OPTION_NUMBER, "mm",
     "finished width of a straight waistband above the waist seam (cut folded, the waist seam "
     "plus 30 mm long); 0: none (finish the waist with a facing)",
     0.0, 60.0, 30.0, NULL, for_skirt, 0},
    {"skirt_length", DRAFT_OPTION_NUMBER, "mm",
     "added to the length (the hem at waistToKnee from the waist); negative shortens", -100.0,
     300.0, 0.0, NULL, for_skirt, 0},
    {"sleeve", DRAFT_OPTION_CHOICE, "",
     "short (an underarm seam 20 % of shoulderToWrist long) or "
     "long (to the wrist)",
     0, 0, 0, option_sleeves, for_tshirt, 0},
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

int draft_option_for(const struct design *d, const char *name)
{
    for (int i = 0; d && name && i < DRAFT_OPTIONS_COUNT; i++)
        if (strcmp(draft_options[i].name, name) == 0 && draft_option_applies(&draft_options[i], d))
            return i;
    return -1;
}

int draft_option_choice(const struct draft_option *o, const char *text)
{
    if (!o || o->kind != DRAFT_OPTION_CHOICE || !text)
        return -1;
    for (int i = 0; o->choices[i]; i++)
        if (strcmp(o->choices[i], text) == 0)
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
    int i = draft_option_for(d, name);
    const struct draft_option *o = i >= 0 ? &draft_options[i] : NULL;
    char list[128];

    if (!field)
        field = "option";
    if (draft_option_find(name) < 0) {
        snprintf(msg, msgn, "%s is an unknown option (see the options of GET /v1/designs)", field);
        return DRAFT_ERR_INVALID;
    }
    if (!d) {
        snprintf(msg, msgn, "%s needs a design", field);
        return DRAFT_ERR_INVALID;
    }
    if (!o) {
        snprintf(msg, msgn, "%s does not apply to the %s", field, d->name);
        return DRAFT_ERR_INVALID;
    }
    if (o->kind == DRAFT_OPTION_NUMBER) {
        if (!is_number || !isfinite(value) || value < o->min || value > o->max) {
            snprintf(msg, msgn, "%s must be a number from %g %s to %g %s", field, o->min, o->unit,
                     o->max, o->unit);
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
    if (strcmp(name, "sa") == 0) {
        in->sa = value;
        return 0;
    }
    for (; i < DRAFT_OPTIONS_COUNT; i++)
        if (strcmp(draft_options[i].name, name) == 0 && !draft_options[i].output &&
            draft_options[i].kind == DRAFT_OPTION_NUMBER) {
            in->opt[i] = value;
            in->opt_set[i] = 1;
        }
    return 0;
}

int draft_option_apply_choice(struct draft_input *in, const char *name, const char *text)
{
    int i = draft_option_find(name), found = 0;

    if (!in || i < 0)
        return DRAFT_ERR_INVALID;
    for (; i < DRAFT_OPTIONS_COUNT; i++) {
        const struct draft_option *o = &draft_options[i];
        int c = strcmp(o->name, name) == 0 ? draft_option_choice(o, text) : -1;
        if (c < 0)
            continue;
        found = 1;
        if (strcmp(name, "units") == 0)
            return draft_units_parse(o->choices[c], &in->units);
        if (!o->output) {
            in->opt[i] = c;
            in->opt_set[i] = 1;
        }
    }
    return found ? 0 : DRAFT_ERR_INVALID;
}
