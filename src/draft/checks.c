/*
 * checks.c - warnings: what is odd about measurements that were drafted
 * anyway (absurd ones are refused by draft.c and the designs; these are
 * drawable but contradictory or extreme). Each check reads the finished
 * pattern where it can (widths at its girth lines, its darts, where its
 * lines were drawn), so it follows the construction rather than repeating
 * it; the rest compares measurements with each other.
 *
 * Codes (stable, in draft_warning_codes; docs/DRAFTING.md explains each):
 *   waist_wider_than_block       body, tshirt: straight from the chest,
 *                                narrower at the waist line than the
 *                                waist plus 2 % ease
 *   waist_wider_than_bust        bodice: waist seam longer than the bust
 *                                line (both with ease): the sides flare
 *   waist_wider_than_seat        trouser, skirt: the same against the seat
 *                                line (each with the pattern's eases)
 *   bust_smaller_than_high_bust  bodice: bust under high bust; the bust
 *                                dart is drafted at its minimum
 *   bust_dart_too_large          bodice: a front dart opens more than
 *                                DRAFT_DART_MAX_DEG, more than one dart
 *                                takes flat
 *   line_moved                   a girth line had to be drawn more than
 *                                1 mm from where its measurement puts it
 *   implausible_measurements     used measurements far (35 %) from what
 *                                the neck predicts (measures_implausible)
 *
 * Invariants: messages are ASCII and carry no user text (names of
 * measurements and numbers only); at most DRAFT_MAX_WARNINGS, in this
 * order; a pattern of any of FreeSewing's 20 adult sets has none (tested).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"

#define MIN_WAIST_EASE 0.02 /* the least ease any design gives a waist (the trouser's) */
#define LINE_TOL       1.0  /* mm */

const char *const draft_warning_codes[] = {
    "waist_wider_than_block",   "waist_wider_than_bust",
    "waist_wider_than_seat",    "bust_smaller_than_high_bust",
    "bust_dart_too_large",      "line_moved",
    "implausible_measurements", NULL,
};

/* names: up to DRAFT_WARN_NAMES measurement names, NULL-terminated
 * (NULL: none). */
static void warn(struct pattern *p, const char *code, const char *const *names, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void warn(struct pattern *p, const char *code, const char *const *names, const char *fmt,
                 ...)
{
    struct draft_warning *w;
    va_list ap;

    if (p->nwarnings >= DRAFT_MAX_WARNINGS)
        return;
    w = &p->warning[p->nwarnings++];
    memset(w, 0, sizeof *w);
    w->code = code;
    for (size_t i = 0; names && i < DRAFT_WARN_NAMES && names[i]; i++)
        w->measurements[i] = names[i];
    va_start(ap, fmt);
    vsnprintf(w->message, sizeof w->message, fmt, ap);
    va_end(ap);
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static int level_of(const struct draft_part *pt, const char *name, double *y)
{
    for (size_t i = 0; pt && i < pt->nlevels; i++)
        if (strcmp(pt->level[i].name, name) == 0) {
            *y = pt->level[i].y;
            return 1;
        }
    return 0;
}

/* Girth of a front + back pair cut on the fold (or as pairs) at a level:
 * 2 x (front + back width). 0 when a part or the level is missing. */
static double girth_at(const struct pattern *p, const char *level)
{
    const struct draft_part *f = draft_part_find(p, "front"), *b = draft_part_find(p, "back");
    double yf, yb, wf, wb;

    if (!f || !b || !level_of(f, level, &yf) || !level_of(b, level, &yb) ||
        draft_width_at(f, yf, &wf) || draft_width_at(b, yb, &wb))
        return 0.0;
    return 2.0 * (wf + wb);
}

static double dart_angle(const struct draft_dart *d)
{
    struct vec a = vec_sub(d->a, d->tip), b = vec_sub(d->b, d->tip);
    return fabs(atan2(vec_cross(a, b), vec_dot(a, b))) * 180.0 / GEOM_PI;
}

/* Name of the edge a dart's leg a ends on ("side", "waist" ...), for the
 * message; "front" when none is found. */
static const char *dart_place(const struct draft_part *pt, const struct draft_dart *d)
{
    for (size_t i = 0; i < pt->nedges; i++) {
        const struct path *e = &pt->edge[i].path;
        if (e->n && (vec_dist(geom_path_end(e), d->a) < 1e-6 ||
                     vec_dist(geom_path_start(e), d->a) < 1e-6)) {
            const char *n = pt->edge[i].name;
            return strncmp(n, "side", 4) == 0 ? "side" : strncmp(n, "waist", 5) == 0 ? "waist" : n;
        }
    }
    return "front";
}

/* 1 + the pattern's ease option name (in %), as a factor. */
static double ease(const struct pattern *p, const struct draft_input *in, const char *name)
{
    return 1.0 + 0.01 * draft_opt(in, p->design, name);
}

static void check_waist(struct pattern *p, const struct draft_input *in)
{
    const char *d = p->design->name;
    double waist = draft_m(in, "waist") * (1.0 + MIN_WAIST_EASE);

    if (!draft_has(in, "waist"))
        return;
    if (strcmp(d, "body") == 0 || strcmp(d, "tshirt") == 0) {
        double block = girth_at(p, "waist");
        if (block > 0.0 && waist > block)
            warn(p, "waist_wider_than_block", NAMES("waist", "chest"),
                 "the %s is %.0f mm around at the waist line, less than waist %.0f mm "
                 "with 2 %% ease (%.0f mm): it falls straight from the chest and will not close "
                 "over this waist",
                 strcmp(d, "body") == 0 ? "body block" : "T-shirt", block, draft_m(in, "waist"),
                 waist);
    } else if (strcmp(d, "bodice") == 0) {
        double seam = draft_m(in, "waist") * ease(p, in, "waist_ease");
        double bust = draft_m(in, "chest") * ease(p, in, "bust_ease");
        if (seam > bust)
            warn(p, "waist_wider_than_bust", NAMES("waist", "chest"),
                 "the waist seam (%.0f mm with ease) is longer than the bust line (%.0f mm with "
                 "ease): the side seams flare out below the bust",
                 seam, bust);
    } else if (strcmp(d, "trouser") == 0 || strcmp(d, "skirt") == 0) {
        double seam = draft_m(in, "waist") * ease(p, in, "waist_ease");
        double seat = draft_m(in, "seat") * ease(p, in, "seat_ease");
        if (seam > seat)
            warn(p, "waist_wider_than_seat", NAMES("waist", "seat"),
                 "the waist seam (%.0f mm with ease) is longer than the seat line (%.0f mm with "
                 "ease): the side seams flare out above the seat",
                 seam, seat);
    }
}

static void check_bust(struct pattern *p, const struct draft_input *in)
{
    const struct draft_part *f = draft_part_find(p, "front");
    double chest = draft_m(in, "chest"), high = draft_m(in, "highBust");

    if (p->design->needs_breasts != 1 || !f)
        return;
    if (draft_has(in, "highBust") && chest < high)
        warn(p, "bust_smaller_than_high_bust", NAMES("chest", "highBust"),
             "chest (the bust, %.0f mm) is smaller than highBust (%.0f mm): on a body with breasts "
             "it is larger; the bust dart is drafted at its smallest",
             chest, high);
    for (size_t i = 0; i < f->ndarts; i++) {
        double a = dart_angle(&f->dart[i]);
        if (a > DRAFT_DART_MAX_DEG) {
            warn(p, "bust_dart_too_large", NAMES("chest", "highBust"),
                 "the front's %s dart opens %.0f degrees (bust %.0f mm, high bust %.0f mm), more "
                 "than the %.0f one dart takes flat: split it into two darts or a princess seam",
                 dart_place(f, &f->dart[i]), a, chest, high, DRAFT_DART_MAX_DEG);
            break;
        }
    }
}

/* Girth lines the designs put at a measurement, where the construction
 * may have to move them (part, level, measurement, the measurements that
 * bound it, what bounds it). */
static const struct {
    const char *design, *part, *level, *measure, *bound1, *bound2, *why;
} lines[] = {
    {"trouser", "front", "seat", "waistToSeat", "waistToUpperLeg", NULL,
     "it must stay above the crotch (waistToUpperLeg)"},
    {"bodice", "front", "bust", "hpsToBust", "waistToArmpit", "hpsToWaistBack",
     "it must lie between the armhole and the waist darts"},
};

static void check_lines(struct pattern *p, const struct draft_input *in)
{
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        double y;
        if (strcmp(lines[i].design, p->design->name) || !draft_has(in, lines[i].measure) ||
            !level_of(draft_part_find(p, lines[i].part), lines[i].level, &y))
            continue;
        double want = draft_m(in, lines[i].measure);
        if (fabs(y - want) > LINE_TOL)
            warn(p, "line_moved", NAMES(lines[i].measure, lines[i].bound1, lines[i].bound2),
                 "the %s line is drawn at %.0f mm, not at %s %.0f mm: %s", lines[i].level, y,
                 lines[i].measure, want, lines[i].why);
    }
}

static void check_plausible(struct pattern *p, const struct draft_input *in)
{
    const struct design *d = p->design;
    const char *names[DRAFT_WARN_NAMES + 1] = {NULL};
    char list[DRAFT_WARNING_MAX - 64];
    size_t used = 0, count = 0;
    int cut = 0;
    double neck = draft_m(in, "neck");

    if (!draft_has(in, "neck"))
        return;
    list[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const char *const *set = pass ? d->optional : d->required;
        for (size_t k = 0; set && set[k]; k++) {
            int i = measures_find(set[k]);
            if (i < 0 || !in->have[i] || !measures_implausible(i, in->breasts, neck, in->value[i]))
                continue;
            if (count < DRAFT_WARN_NAMES)
                names[count] = measures_table[i].name;
            count++;
            int w = cut ? -1
                        : snprintf(list + used, sizeof list - used, "%s%s %.0f (about %.0f)",
                                   used ? ", " : "", set[k], in->value[i],
                                   measures_predict(i, in->breasts, neck));
            if (w > 0 && used + (size_t)w < sizeof list - 5) {
                used += (size_t)w;
            } else {
                list[used] = '\0';
                cut = 1;
            }
        }
    }
    if (count)
        warn(p, "implausible_measurements", names,
             "far from what neck %.0f mm predicts, please check: %s%s", neck, list,
             cut ? ", ..." : "");
}

void draft_checks(struct pattern *p, const struct draft_input *in)
{
    p->nwarnings = 0;
    check_waist(p, in);
    check_bust(p, in);
    check_lines(p, in);
    check_plausible(p, in);
}
