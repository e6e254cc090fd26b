/*
 * draft.c - the drafting engine's core: the design registry, input
 * validation, part builders, the 1-D solver of the fitting loops, and the
 * finishing of a pattern (seam line, seam allowance, notches, fold bracket,
 * bounding boxes, shelf layout with the scale box, title text).
 *
 * Invariants: draft_run hands a design only validated input (every required
 * measurement present, every used value finite and in its plausible range,
 * sa in 0..DRAFT_SA_MAX); a pattern it returns has closed, continuous,
 * finite outlines, and its title text is valid UTF-8 without control
 * characters. Anything else is refused with DRAFT_ERR_INVALID and a sentence.
 */
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"
#include "base/clock.h"

#define LAYOUT_GAP    10.0 /* mm between laid-out items and around the sheet */
#define SCALEBOX_TEXT 14.0 /* mm under the scale box frame: two text lines */
#define MAX_SEAM_SEGS 256

static const struct design *const registry[] = {
    &draft_design_body,   &draft_design_bodice, &draft_design_trouser,
    &draft_design_tshirt, &draft_design_skirt,
};

int draft_design_count(void)
{
    return (int)(sizeof registry / sizeof registry[0]);
}

const struct design *draft_design(int i)
{
    return i >= 0 && i < draft_design_count() ? registry[i] : NULL;
}

const struct design *draft_find(const char *name)
{
    for (int i = 0; name && i < draft_design_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int draft_design_fits(const struct design *d, int breasts)
{
    return d && (d->needs_breasts < 0 || d->needs_breasts == (breasts ? 1 : 0));
}

/* ---- helpers for designs ---------------------------------------------- */

double draft_m(const struct draft_input *in, const char *name)
{
    int i = measures_find(name);
    return i >= 0 && in->have[i] ? in->value[i] : 0.0;
}

int draft_has(const struct draft_input *in, const char *name)
{
    int i = measures_find(name);
    return i >= 0 && in->have[i];
}

double draft_opt(const struct draft_input *in, const struct design *d, const char *name)
{
    int i = draft_option_for(d, name);

    if (i < 0)
        return 0.0;
    return in->opt_set[i] ? in->opt[i] : draft_options[i].def;
}

const char *draft_version(void)
{
    return DRAFT_VERSION;
}

int draft_units_parse(const char *s, enum draft_units *out)
{
    if (s && strcasecmp(s, "metric") == 0)
        *out = DRAFT_UNITS_METRIC;
    else if (s && strcasecmp(s, "imperial") == 0)
        *out = DRAFT_UNITS_IMPERIAL;
    else
        return DRAFT_ERR_INVALID;
    return 0;
}

const char *draft_units_name(enum draft_units u)
{
    return u == DRAFT_UNITS_IMPERIAL ? "imperial" : "metric";
}

const char *draft_strerror(int rc)
{
    switch (rc) {
    case DRAFT_OK:
        return "success";
    case DRAFT_ERR_INVALID:
        return "invalid input";
    case DRAFT_ERR_NOMEM:
        return "out of memory";
    case DRAFT_ERR_INTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

int draft_fail(char *msg, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (msg && n) {
        va_start(ap, fmt);
        vsnprintf(msg, n, fmt, ap);
        va_end(ap);
    }
    return DRAFT_ERR_INVALID;
}

struct draft_part *draft_part_add(struct pattern *p, const char *name, const char *title, int cut)
{
    struct draft_part *pt;

    if (p->nparts >= DRAFT_MAX_PARTS)
        return NULL;
    pt = &p->part[p->nparts++];
    pt->name = name;
    pt->title = title;
    pt->cut = cut;
    pt->fold_edge = -1;
    return pt;
}

struct path *draft_edge_add(struct draft_part *pt, const char *name, double sa_factor, int fold,
                            struct vec start)
{
    struct draft_edge *e;

    if (pt->nedges >= DRAFT_MAX_EDGES)
        return NULL;
    e = &pt->edge[pt->nedges];
    e->name = name;
    e->sa_factor = fold ? 0.0 : sa_factor;
    e->fold = fold;
    geom_path_init(&e->path);
    geom_path_move(&e->path, start);
    if (fold)
        pt->fold_edge = (int)pt->nedges;
    pt->nedges++;
    return &e->path;
}

static int edge_index(const struct draft_part *pt, const char *name)
{
    for (size_t i = 0; i < pt->nedges; i++)
        if (strcmp(pt->edge[i].name, name) == 0)
            return (int)i;
    return -1;
}

int draft_notch_add(struct draft_part *pt, const char *edge, double along, int kind)
{
    int e = edge_index(pt, edge);

    if (e < 0 || pt->nnotches >= DRAFT_MAX_NOTCHES)
        return -1;
    pt->notch[pt->nnotches].edge = e;
    pt->notch[pt->nnotches].along = along;
    pt->notch[pt->nnotches].kind = kind;
    pt->nnotches++;
    return 0;
}

void draft_dart_add(struct draft_part *pt, struct vec tip, struct vec a, struct vec b)
{
    if (pt->ndarts >= DRAFT_MAX_DARTS)
        return;
    pt->dart[pt->ndarts].tip = tip;
    pt->dart[pt->ndarts].a = a;
    pt->dart[pt->ndarts].b = b;
    pt->ndarts++;
}

void draft_level_add(struct draft_part *pt, const char *name, double y)
{
    if (pt->nlevels >= DRAFT_MAX_LEVELS)
        return;
    pt->level[pt->nlevels].name = name;
    pt->level[pt->nlevels].y = y;
    pt->nlevels++;
}

/* An end of the bracket where the construction fails (f not finite) moves
 * to the edge of the region where it works, found by bisection. */
static void bracket_repair(draft_fn f, void *ctx, double target, double *lo, double *flo,
                           double *hi, double *fhi)
{
    int low_ok = isfinite(*flo);
    double ok = low_ok ? *lo : *hi, bad = low_ok ? *hi : *lo, fok = low_ok ? *flo : *fhi;

    if (low_ok == isfinite(*fhi))
        return;
    for (int i = 0; i < 40; i++) {
        double m = 0.5 * (ok + bad), fm = f(m, ctx) - target;
        if (isfinite(fm)) {
            ok = m;
            fok = fm;
        } else {
            bad = m;
        }
    }
    if (low_ok) {
        *hi = ok;
        *fhi = fok;
    } else {
        *lo = ok;
        *flo = fok;
    }
}

int draft_solve(draft_fn f, void *ctx, double lo, double hi, double target, double tol, double *x)
{
    double flo = f(lo, ctx) - target, fhi = f(hi, ctx) - target;
    int side = 0;

    bracket_repair(f, ctx, target, &lo, &flo, &hi, &fhi);
    if (!isfinite(flo) || !isfinite(fhi))
        return -1;
    if (fabs(flo) <= tol || fabs(fhi) <= tol) {
        *x = fabs(flo) <= fabs(fhi) ? lo : hi;
        return 0;
    }
    if ((flo < 0.0) == (fhi < 0.0))
        return -1;
    for (int i = 0; i < 60; i++) {
        double m = (lo * fhi - hi * flo) / (fhi - flo), fm;
        if (!(m > lo && m < hi) && !(m < lo && m > hi))
            m = 0.5 * (lo + hi);
        fm = f(m, ctx) - target;
        if (!isfinite(fm))
            return -1;
        if (fabs(fm) <= tol) {
            *x = m;
            return 0;
        }
        if ((fm < 0.0) == (flo < 0.0)) {
            lo = m;
            flo = fm;
            if (side == -1)
                fhi *= 0.5;
            side = -1;
        } else {
            hi = m;
            fhi = fm;
            if (side == 1)
                flo *= 0.5;
            side = 1;
        }
    }
    return -1;
}

int draft_dart_peak(struct vec tip, struct vec a, struct vec b, struct vec beyond_b,
                    struct vec *peak)
{
    struct vec ua = vec_unit(vec_sub(a, tip)), ub = vec_unit(vec_sub(b, tip));
    double angle = atan2(vec_cross(ua, ub), vec_dot(ua, ub));
    /* Close the dart: b's side turns by -angle about the tip so b meets a;
     * the seam then leaves a along the turned beyond_b. Pressed towards b,
     * the half of the dart fabric next to leg a lies flat over b's side,
     * so its edge runs from a along that same line up to the fold (the
     * bisector); the half next to leg b folds onto it, symmetrically. */
    struct vec closed = vec_rot(vec_unit(beyond_b), -angle);
    struct vec mid = vec_lerp(a, b, 0.5), p;
    double ta, tb;

    if (!geom_line_intersect(a, vec_add(a, closed), tip, mid, &p, &ta, &tb) || !(ta > 0.0) ||
        !(tb > 1.0) || tb > 4.0)
        return -1;
    *peak = p;
    return 0;
}

/* ---- validation ------------------------------------------------------ */

static void list_append(char *buf, size_t n, size_t *used, const char *name)
{
    size_t len = strlen(name), need = len + (*used ? 2 : 0);

    if (!n || *used >= n - 1)
        return;
    if (*used + need + 4 >= n) { /* keep room to say the list goes on */
        if (*used + 4 < n) {
            memcpy(buf + *used, "...", 4);
            *used = n - 1;
        }
        return;
    }
    if (*used) {
        memcpy(buf + *used, ", ", 2);
        *used += 2;
    }
    memcpy(buf + *used, name, len + 1);
    *used += len;
}

int draft_missing(const struct design *d, const struct draft_input *in, char *buf, size_t n)
{
    size_t used = 0;
    int count = 0;

    if (buf && n)
        buf[0] = '\0';
    for (size_t i = 0; d->required[i]; i++) {
        int k = measures_find(d->required[i]);
        if (k < 0 || !in->have[k]) {
            count++;
            if (buf)
                list_append(buf, n, &used, d->required[i]);
        }
    }
    return count;
}

static int check_value(const char *name, const struct draft_input *in, char *msg, size_t n)
{
    int k = measures_find(name);
    const struct measure *m;

    if (k < 0 || !in->have[k])
        return 0;
    m = &measures_table[k];
    if (!isfinite(in->value[k]))
        return draft_fail(msg, n, "%s is not a finite number", name);
    if (in->value[k] < m->min || in->value[k] > m->max)
        return draft_fail(msg, n, "%s is %g %s, outside the plausible range of %g to %g %s", name,
                          in->value[k], m->unit, m->min, m->max, m->unit);
    return 0;
}

/* The fit options set for d: numbers finite and in d's range, choices
 * one of the row's (rows of other designs are not read). */
static int validate_options(const struct design *d, const struct draft_input *in, char *msg,
                            size_t n)
{
    for (int i = 0; i < DRAFT_OPTIONS_COUNT; i++) {
        const struct draft_option *o = &draft_options[i];
        double v = in->opt[i];
        int choices = 0;

        if (!in->opt_set[i] || o->output || !draft_option_applies(o, d))
            continue;
        if (o->kind == DRAFT_OPTION_NUMBER) {
            if (!isfinite(v) || v < o->min || v > o->max)
                return draft_fail(msg, n, "option %s must be a number from %g %s to %g %s", o->name,
                                  o->min, o->unit, o->max, o->unit);
            continue;
        }
        while (o->choices[choices])
            choices++;
        if (!(v >= 0.0 && v < choices && v == floor(v)))
            return draft_fail(msg, n, "option %s must be one of its choices", o->name);
    }
    return 0;
}

static int validate(const struct design *d, const struct draft_input *in, char *msg, size_t n)
{
    char names[DRAFT_MSG_MAX - 32];

    if (!draft_design_fits(d, in->breasts))
        return draft_fail(msg, n, "the %s is drafted for bodies %s breasts", d->title,
                          d->needs_breasts ? "with" : "without");
    if (draft_missing(d, in, names, sizeof names))
        return draft_fail(msg, n, "missing measurements: %s", names);
    for (size_t i = 0; d->required[i]; i++)
        if (check_value(d->required[i], in, msg, n))
            return DRAFT_ERR_INVALID;
    for (size_t i = 0; d->optional && d->optional[i]; i++)
        if (check_value(d->optional[i], in, msg, n))
            return DRAFT_ERR_INVALID;
    if (!isfinite(in->sa) || in->sa < 0.0 || in->sa > DRAFT_SA_MAX)
        return draft_fail(msg, n, "the seam allowance must be between 0 and %g mm", DRAFT_SA_MAX);
    if (in->units != DRAFT_UNITS_METRIC && in->units != DRAFT_UNITS_IMPERIAL)
        return draft_fail(msg, n, "units must be metric or imperial");
    return validate_options(d, in, msg, n);
}

/* The title date: in->date when it is a real YYYY-MM-DD, else today. */
static int title_date(const struct draft_input *in, char out[11], char *msg, size_t n)
{
    int64_t ms;
    char again[11];

    if (!in->date)
        return clock_format_date(clock_now_ms(), out) ? DRAFT_ERR_INTERNAL : 0;
    if (strlen(in->date) != 10 || clock_parse_rfc3339(in->date, &ms) ||
        clock_format_date(ms, again) || strcmp(again, in->date) != 0)
        return draft_fail(msg, n, "the date must be a day written YYYY-MM-DD");
    memcpy(out, in->date, 11);
    return 0;
}

/* Copy of a user-supplied name that any output can carry: valid UTF-8,
 * control characters and non-characters replaced by '?', at most
 * DRAFT_NAME_MAX bytes, cut on a character boundary. */
static void sanitize_name(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t o = 0;

    while (*s) {
        unsigned c = s[0], cp;
        int len = c < 0x80             ? 1
                  : (c & 0xe0) == 0xc0 ? 2
                  : (c & 0xf0) == 0xe0 ? 3
                  : (c & 0xf8) == 0xf0 ? 4
                                       : 0;
        int wellformed = len > 0;
        cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        for (int k = 1; wellformed && k < len; k++) {
            if ((s[k] & 0xc0) != 0x80)
                wellformed = 0;
            else
                cp = (cp << 6) | (s[k] & 0x3f);
        }
        if (wellformed &&
            ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
             (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)))
            wellformed = 0;
        int allowed =
            wellformed && !(cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfffe || cp == 0xffff);
        size_t take = allowed ? (size_t)len : 1;
        if (o + take > DRAFT_NAME_MAX)
            break;
        if (allowed)
            memcpy(out + o, s, take);
        else
            out[o] = '?';
        o += take;
        s += wellformed ? len : 1;
    }
    out[o] = '\0';
    if (o == 0)
        strcpy(out, "unnamed model");
}

/* ---- finishing a part -------------------------------------------------- */

static int part_seam(struct draft_part *pt)
{
    geom_path_init(&pt->seam);
    for (size_t i = 0; i < pt->nedges; i++) {
        const struct path *e = &pt->edge[i].path;
        if (!e->n || !geom_path_ok(e))
            return DRAFT_ERR_INVALID;
        if (i && vec_dist(geom_path_start(e), geom_path_end(&pt->edge[i - 1].path)) > 1e-6)
            return DRAFT_ERR_INTERNAL;
        geom_path_append(&pt->seam, e);
    }
    if (!pt->nedges || pt->seam.failed)
        return pt->seam.failed ? DRAFT_ERR_NOMEM : DRAFT_ERR_INTERNAL;
    if (vec_dist(geom_path_start(&pt->seam), geom_path_end(&pt->seam)) > 1e-6)
        return DRAFT_ERR_INTERNAL;
    /* extreme measurements can fold an outline over itself: not a pattern */
    return geom_path_self_intersects(&pt->seam, 1) ? DRAFT_ERR_INVALID : 0;
}

/* Allowance: the outline (without the fold edge, if any) offset outwards
 * by each edge's allowance, closed back along the fold. */
static int part_sa(struct draft_part *pt, double sa, double out_sign)
{
    double dist[MAX_SEAM_SEGS];
    struct path src;
    size_t n = 0, ne = pt->nedges;
    int fold = pt->fold_edge, rc;

    geom_path_init(&pt->sa);
    if (sa <= 0.0)
        return 0;
    geom_path_init(&src);
    for (size_t k = 0; k < ne; k++) {
        size_t i = fold >= 0 ? ((size_t)fold + 1 + k) % ne : k;
        const struct draft_edge *e = &pt->edge[i];
        if (e->fold)
            continue;
        for (size_t s = 0; s < e->path.n; s++) {
            if (n >= MAX_SEAM_SEGS) {
                geom_path_free(&src);
                return DRAFT_ERR_INTERNAL;
            }
            dist[n++] = out_sign * sa * e->sa_factor;
            geom_path_push(&src, &e->path.seg[s]);
        }
    }
    rc = src.failed ? DRAFT_ERR_NOMEM
                    : geom_path_offset(&src, 0.0, dist, fold < 0, DRAFT_MITRE_LIMIT, &pt->sa);
    geom_path_free(&src);
    if (rc)
        return DRAFT_ERR_INVALID;
    if (fold >= 0 && pt->sa.n &&
        geom_path_trim_at_line(&pt->sa, geom_path_start(&pt->edge[fold].path),
                               geom_path_end(&pt->edge[fold].path)))
        return DRAFT_ERR_NOMEM;
    if (fold >= 0 && pt->sa.n) { /* back along the fold: tag -2 */
        geom_path_move(&pt->sa, geom_path_end(&pt->sa));
        geom_path_line(&pt->sa, geom_path_start(&pt->sa));
        if (!pt->sa.failed)
            pt->sa.seg[pt->sa.n - 1].tag = -2;
    }
    return pt->sa.failed ? DRAFT_ERR_NOMEM : 0;
}

static void part_notches(struct draft_part *pt, double out_sign)
{
    for (size_t i = 0; i < pt->nnotches; i++) {
        struct draft_notch *nt = &pt->notch[i];
        struct vec t;
        nt->at = geom_path_at(&pt->edge[nt->edge].path, nt->along, &t);
        nt->dir = vec_mul(vec_perp(t), out_sign);
    }
}

/* On-fold parts: the bracket runs along the fold, 20 mm inside, leaving
 * 15 % free at each end. */
static void part_fold_bracket(struct draft_part *pt, double out_sign)
{
    const struct path *f = &pt->edge[pt->fold_edge].path;
    double l = geom_path_length(f);
    struct vec t0, t1;
    struct vec a = geom_path_at(f, 0.15 * l, &t0), b = geom_path_at(f, 0.85 * l, &t1);

    pt->grain_from = vec_mad(a, vec_perp(t0), -out_sign * 20.0);
    pt->grain_to = vec_mad(b, vec_perp(t1), -out_sign * 20.0);
}

static void part_box(struct draft_part *pt, double sa)
{
    struct bbox b = geom_path_bbox(&pt->seam), s = geom_path_bbox(&pt->sa);
    double tick = sa > 0.0 ? sa : 6.0;

    geom_bbox_union(&b, &s);
    for (size_t i = 0; i < pt->nnotches; i++)
        geom_bbox_add(&b, vec_mad(pt->notch[i].at, pt->notch[i].dir, tick));
    geom_bbox_union(&b, &pt->title_box);
    geom_bbox_add(&b, pt->grain_from);
    geom_bbox_add(&b, pt->grain_to);
    pt->box = b;
}

static int part_finite(const struct draft_part *pt)
{
    if (!geom_path_ok(&pt->seam) || !geom_path_ok(&pt->sa))
        return 0;
    for (size_t i = 0; i < pt->nnotches; i++)
        if (!isfinite(pt->notch[i].at.x + pt->notch[i].at.y + pt->notch[i].dir.x +
                      pt->notch[i].dir.y))
            return 0;
    for (size_t i = 0; i < pt->ndarts; i++)
        if (!isfinite(pt->dart[i].tip.x + pt->dart[i].tip.y + pt->dart[i].a.x + pt->dart[i].a.y +
                      pt->dart[i].b.x + pt->dart[i].b.y))
            return 0;
    for (size_t i = 0; i < pt->nlevels; i++)
        if (!isfinite(pt->level[i].y))
            return 0;
    return isfinite(pt->grain_from.x + pt->grain_from.y + pt->grain_to.x + pt->grain_to.y +
                    pt->title_at.x + pt->title_at.y + pt->box.x0 + pt->box.x1 + pt->box.y0 +
                    pt->box.y1);
}

static int part_finish(struct pattern *p, size_t i)
{
    struct draft_part *pt = &p->part[i];
    int rc = part_seam(pt);
    double out_sign;

    if (rc)
        return rc;
    out_sign = geom_path_area(&pt->seam) > 0.0 ? -1.0 : 1.0;
    rc = part_sa(pt, p->sa, out_sign);
    if (rc)
        return rc;
    part_notches(pt, out_sign);
    if (pt->fold_edge >= 0)
        part_fold_bracket(pt, out_sign);
    if (!part_finite(pt))
        return DRAFT_ERR_INVALID;
    draft_title_place(p, pt, i);
    part_box(pt, p->sa);
    return part_finite(pt) ? 0 : DRAFT_ERR_INVALID;
}

/* ---- layout ----------------------------------------------------------- */

struct item {
    double w, h;
    int part; /* -1: the scale box */
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? 1 : -1;
    return x->part - y->part;
}

/* Shelves, tallest item first, on a sheet about 1.5 x as wide as a square
 * of the same area: simple, deterministic, and good enough for tiling. */
static void layout(struct pattern *p)
{
    struct item it[DRAFT_MAX_PARTS + 1];
    size_t n = 0;
    double area = 0.0, maxw = 0.0, sheet, x = LAYOUT_GAP, y = LAYOUT_GAP, shelf = 0.0;

    for (size_t i = 0; i < p->nparts; i++) {
        const struct bbox *b = &p->part[i].box;
        it[n].w = b->x1 - b->x0;
        it[n].h = b->y1 - b->y0;
        it[n++].part = (int)i;
    }
    it[n].w = p->scalebox_w + 2.0;
    it[n].h = p->scalebox_h + 2.0 + SCALEBOX_TEXT;
    it[n++].part = -1;
    for (size_t i = 0; i < n; i++) {
        area += (it[i].w + LAYOUT_GAP) * (it[i].h + LAYOUT_GAP);
        maxw = fmax(maxw, it[i].w);
    }
    qsort(it, n, sizeof it[0], item_cmp);
    sheet = fmax(maxw, 1.5 * sqrt(area));
    p->width = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (x > LAYOUT_GAP && x + it[i].w > sheet + LAYOUT_GAP) {
            y += shelf + LAYOUT_GAP;
            x = LAYOUT_GAP;
            shelf = 0.0;
        }
        if (it[i].part >= 0) {
            struct draft_part *pt = &p->part[it[i].part];
            pt->offset = vec_xy(x - pt->box.x0, y - pt->box.y0);
        } else {
            p->scalebox = vec_xy(x + 1.0, y + 1.0);
        }
        x += it[i].w + LAYOUT_GAP;
        shelf = fmax(shelf, it[i].h);
        p->width = fmax(p->width, x);
    }
    p->height = y + shelf + LAYOUT_GAP;
}

/* ---- running a design -------------------------------------------------- */

void draft_free(struct pattern *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nparts; i++) {
        struct draft_part *pt = &p->part[i];
        for (size_t e = 0; e < pt->nedges; e++)
            geom_path_free(&pt->edge[e].path);
        geom_path_free(&pt->seam);
        geom_path_free(&pt->sa);
    }
    free(p);
}

int draft_run(const struct design *d, const struct draft_input *in, struct pattern **out, char *msg,
              size_t msgn)
{
    struct pattern *p;
    int rc;

    if (msg && msgn)
        msg[0] = '\0';
    if (!d || !in || !out)
        return DRAFT_ERR_INTERNAL;
    *out = NULL;
    rc = validate(d, in, msg, msgn);
    if (rc)
        return rc;
    p = calloc(1, sizeof *p);
    if (!p)
        return DRAFT_ERR_NOMEM;
    p->design = d;
    p->sa = in->sa;
    p->units = in->units;
    p->scalebox_w = in->units == DRAFT_UNITS_IMPERIAL ? DRAFT_SCALEBOX_IN_W : DRAFT_SCALEBOX_W;
    p->scalebox_h = in->units == DRAFT_UNITS_IMPERIAL ? DRAFT_SCALEBOX_IN_H : DRAFT_SCALEBOX_H;
    sanitize_name(in->model_name, p->model);
    rc = title_date(in, p->date, msg, msgn);
    if (rc == 0)
        rc = d->draft(p, in, msg, msgn);
    if (rc == 0)
        draft_marks(p);
    for (size_t i = 0; rc == 0 && i < p->nparts; i++)
        rc = part_finish(p, i);
    if (rc == 0)
        layout(p);
    if (rc == 0 && !(isfinite(p->width) && isfinite(p->height) && p->width > 0.0))
        rc = DRAFT_ERR_INVALID;
    if (rc == 0)
        draft_checks(p, in);
    if (rc) {
        if (rc == DRAFT_ERR_INVALID && msg && msgn && !msg[0])
            draft_fail(msg, msgn, "these measurements do not make a drawable %s", d->title);
        draft_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- lookups ------------------------------------------------------------ */

const struct draft_part *draft_part_find(const struct pattern *p, const char *name)
{
    for (size_t i = 0; p && i < p->nparts; i++)
        if (strcmp(p->part[i].name, name) == 0)
            return &p->part[i];
    return NULL;
}

const struct draft_edge *draft_edge_find(const struct draft_part *part, const char *name)
{
    int i = part ? edge_index(part, name) : -1;
    return i >= 0 ? &part->edge[i] : NULL;
}

double draft_edge_length(const struct draft_part *part, const char *name)
{
    const struct draft_edge *e = draft_edge_find(part, name);
    return e ? geom_path_length(&e->path) : 0.0;
}

int draft_width_at(const struct draft_part *part, double y, double *width)
{
    double xs[64], lo = DBL_MAX, hi = -DBL_MAX;
    int n = geom_path_cross_y(&part->seam, y, xs, 64);

    for (int i = 0; i < n; i++) {
        lo = fmin(lo, xs[i]);
        hi = fmax(hi, xs[i]);
    }
    if (n < 2)
        return -1;
    *width = hi - lo;
    return 0;
}
