/*
 * title.c - the title block of each part: its text (part, design, model,
 * how to cut, seam allowance, date and engine version), its size from the
 * font metrics, and where it goes on the part.
 *
 * Placement: the design suggests a centre (part->title_at); the block is
 * moved, the least distance first, to where it lies inside the seam line
 * and clear of the grainline (or fold bracket) with its label, the girth
 * lines with their labels, and the darts. Candidates: the suggestion, and
 * the suggestion pushed sideways just clear of the grainline on either
 * side, each slid along the grainline in 10 mm steps. If no candidate
 * clears everything, girth lines and darts are given up first, then the
 * seam line; the grainline never is (the last resort is the suggestion
 * pushed clear of it).
 *
 * Invariants: part->title_box holds every glyph of the title as cairo
 * draws it in the PDF (DejaVu Sans advance widths, 1.1 em beyond ASCII;
 * tests/unit/test_draft.c measures it with cairo), and never intersects
 * the grainline zone (the line, its arrowheads and label; for a fold, the
 * bracket, its arrows and label, down to the fold).
 */
#include <stdio.h>
#include <string.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"

#define TITLE_NAME_CHARS 40   /* characters of the model's name shown in titles */
#define TITLE_DESCENT    1.5  /* mm below the last baseline */
#define GRAIN_CLEAR      3.0  /* mm kept between the title and the grainline zone */
#define SEAM_CLEAR       3.0  /* mm kept inside the seam line */
#define STEP             10.0 /* mm between candidates along the grainline */
#define MAX_STEPS        150

/* DejaVu Sans (Book, Bold) advance widths of ASCII 32..126, in 1/1000 em,
 * rounded up: what cairo measures for "sans-serif" at any size. */
static const unsigned short width_regular[95] = {
    318, 401, 460, 838, 637, 951, 780, 275, 391, 391, 500, 838, 318, 361,  318, 337, 637, 637, 637,
    637, 637, 637, 637, 637, 637, 637, 337, 337, 838, 838, 838, 531, 1000, 685, 687, 699, 771, 632,
    576, 775, 752, 295, 295, 656, 558, 863, 749, 788, 604, 788, 695, 635,  611, 732, 685, 989, 686,
    611, 686, 391, 337, 391, 838, 500, 500, 613, 635, 550, 635, 616, 353,  635, 634, 278, 278, 580,
    278, 975, 634, 612, 635, 635, 412, 521, 393, 634, 592, 818, 592, 592,  525, 637, 337, 637, 838,
};
static const unsigned short width_bold[95] = {
    349,  457, 521, 838, 696, 1002, 873, 307,  458, 458, 523, 838, 380, 416,  380, 366,
    696,  696, 696, 696, 696, 696,  696, 696,  696, 696, 400, 400, 838, 838,  838, 581,
    1000, 774, 763, 734, 831, 684,  684, 821,  837, 373, 373, 775, 638, 996,  837, 851,
    733,  851, 771, 721, 683, 813,  774, 1104, 771, 725, 726, 458, 366, 458,  838, 500,
    500,  675, 716, 593, 716, 679,  436, 716,  712, 343, 343, 666, 343, 1042, 712, 688,
    716,  716, 494, 596, 479, 712,  652, 924,  646, 652, 583, 712, 366, 712,  838,
};

double draft_text_width(const char *s, double size, int bold)
{
    const unsigned short *w = bold ? width_bold : width_regular;
    unsigned long em = 0; /* 1/1000 em */

    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c >= 32 && *c < 127)
            em += w[*c - 32];
        else if ((*c & 0xc0) != 0x80) /* the first byte of anything else */
            em += 1100;
    }
    return (double)em * size / 1000.0;
}

double draft_title_baseline(size_t k)
{
    return k == 0 ? DRAFT_TITLE_SIZE : DRAFT_TITLE_SIZE + 7.0 + 5.5 * (double)(k - 1);
}

/* ---- the text ------------------------------------------------------------ */

/* dst = a b c, truncated to 128 bytes (titles never come near it). */
static void line_cat(char *dst, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[3] = {a, b, c};

    for (int k = 0; k < 3; k++)
        for (const char *q = parts[k]; *q && n < 127; q++)
            dst[n++] = *q;
    dst[n] = '\0';
}

/* A small non-negative number as the SVG writer prints it ("10", "12.5"). */
static void small_num(char *out, double v)
{
    long k = lround(v * 100.0);
    int n = snprintf(out, 24, "%ld", k / 100);

    if (k % 100 && n > 0 && n < 20) {
        out[n++] = '.';
        out[n++] = (char)('0' + (k % 100) / 10);
        if (k % 10)
            out[n++] = (char)('0' + k % 10);
        out[n] = '\0';
    }
}

void draft_length_label(char *out, size_t n, double mm, enum draft_units units)
{
    char num[24];

    if (units != DRAFT_UNITS_IMPERIAL) {
        small_num(num, mm);
        snprintf(out, n, "%s mm", num);
        return;
    }
    /* sixteenths of an inch when the length is one (to 0.05 mm), as a
     * sewist writes it ("5/8 in", "1 1/4 in"); else two decimals */
    double in = mm / 25.4, s16 = round(in * 16.0);
    if (fabs(s16 / 16.0 * 25.4 - mm) <= 0.05 && s16 < 16.0 * 100.0) {
        long whole = (long)s16 / 16, frac = (long)s16 % 16, den = 16;
        while (frac && frac % 2 == 0) {
            frac /= 2;
            den /= 2;
        }
        if (!frac)
            snprintf(out, n, "%ld in", whole);
        else if (!whole)
            snprintf(out, n, "%ld/%ld in", frac, den);
        else
            snprintf(out, n, "%ld %ld/%ld in", whole, frac, den);
        return;
    }
    snprintf(out, n, "%.2f in", in);
}

/* The model's name as titles show it: at most TITLE_NAME_CHARS characters,
 * then "...". p->model is valid UTF-8 (draft.c). */
void draft_title_name(const struct pattern *p, char *out, size_t n)
{
    size_t chars = 0, i = 0;
    const char *s = p->model;

    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == TITLE_NAME_CHARS)
            break;
    }
    snprintf(out, n, "%.*s%s", (int)i, s, s[i] ? "..." : "");
}

size_t draft_title_lines(const struct pattern *p, size_t i, char lines[][128], size_t max)
{
    const struct draft_part *pt = &p->part[i];
    char num[40] = {(char)('1' + (int)i), ' ', '\0'}, name[DRAFT_NAME_MAX + 8];
    size_t n = 0;

    if (n < max)
        line_cat(lines[n++], num, pt->title, "");
    if (n < max)
        line_cat(lines[n++], p->design->title, "", "");
    draft_title_name(p, name, sizeof name);
    if (n < max)
        line_cat(lines[n++], "for ", name, "");
    if (n < max)
        line_cat(lines[n++], pt->fold_edge >= 0 ? "cut 1 on the fold" : "cut 2, a mirrored pair",
                 "", "");
    if (n < max) {
        draft_length_label(num, sizeof num, p->sa, p->units);
        if (p->sa > 0.0)
            line_cat(lines[n++], "seam allowance ", num, " included");
        else
            line_cat(lines[n++], "no seam allowance: add it when cutting", "", "");
    }
    if (n < max)
        line_cat(lines[n++], p->date, ", atelier " DRAFT_VERSION, "");
    return n;
}

double draft_title_font(size_t k)
{
    return k == 0 ? DRAFT_TITLE_SIZE : k == 5 ? DRAFT_NOTE_SIZE : DRAFT_TEXT_SIZE;
}

/* ---- placement ------------------------------------------------------------ */

/* A straight zone: the segment a-b lengthened by ext at both ends, from lo
 * to hi along its left normal n = vec_perp(u). */
struct zone {
    struct vec a, u, n;
    double len, ext, lo, hi;
};

static void zone_make(struct zone *z, struct vec a, struct vec b, double ext, double lo, double hi)
{
    z->a = a;
    z->u = vec_unit(vec_sub(b, a));
    z->n = vec_perp(z->u);
    z->len = vec_dist(a, b);
    z->ext = ext;
    z->lo = lo;
    z->hi = hi;
}

/* Separating axes: the box's two and the zone's two. */
static int zone_hits(const struct zone *z, const struct bbox *b)
{
    struct vec c[4] = {vec_mad(vec_mad(z->a, z->u, -z->ext), z->n, z->lo),
                       vec_mad(vec_mad(z->a, z->u, z->len + z->ext), z->n, z->lo),
                       vec_mad(vec_mad(z->a, z->u, z->len + z->ext), z->n, z->hi),
                       vec_mad(vec_mad(z->a, z->u, -z->ext), z->n, z->hi)};
    struct vec bc[4] = {vec_xy(b->x0, b->y0), vec_xy(b->x1, b->y0), vec_xy(b->x1, b->y1),
                        vec_xy(b->x0, b->y1)};
    double zx0 = c[0].x, zx1 = c[0].x, zy0 = c[0].y, zy1 = c[0].y;

    for (int k = 1; k < 4; k++) {
        zx0 = fmin(zx0, c[k].x);
        zx1 = fmax(zx1, c[k].x);
        zy0 = fmin(zy0, c[k].y);
        zy1 = fmax(zy1, c[k].y);
    }
    if (zx1 <= b->x0 || zx0 >= b->x1 || zy1 <= b->y0 || zy0 >= b->y1)
        return 0;
    for (int ax = 0; ax < 2; ax++) {
        struct vec d = ax ? z->n : z->u;
        double zlo = ax ? z->lo : -z->ext, zhi = ax ? z->hi : z->len + z->ext;
        double lo = 1e300, hi = -1e300;
        for (int k = 0; k < 4; k++) {
            double v = vec_dot(vec_sub(bc[k], z->a), d);
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        if (hi <= zlo || lo >= zhi)
            return 0;
    }
    return 1;
}

/* The grainline zone of a part: the line with its arrowheads and its label
 * (on the side of vec_perp, 2 mm off, 3 mm text); for a fold, everything
 * from the fold to the bracket's label. */
static void grain_zone(const struct draft_part *pt, struct zone *z)
{
    struct vec a = pt->grain_from, e = pt->grain_to;

    if (pt->fold_edge < 0) {
        zone_make(z, a, e, 1.0, -2.0 - GRAIN_CLEAR, 2.0 + DRAFT_NOTE_SIZE + GRAIN_CLEAR);
        return;
    }
    /* the bracket runs 20 mm inside the fold; its label 4 mm further in */
    const struct path *f = &pt->edge[pt->fold_edge].path;
    double s;
    geom_path_closest(f, a, &s);
    struct vec fa = geom_path_at(f, s, NULL), in = vec_unit(vec_sub(a, fa));
    zone_make(z, a, e, 1.0, 0.0, 0.0);
    double off = vec_dot(vec_sub(fa, a), z->n), label = vec_dot(in, z->n) * (4.0 + DRAFT_NOTE_SIZE);
    z->lo = fmin(fmin(off, label), 0.0) - GRAIN_CLEAR;
    z->hi = fmax(fmax(off, label), 0.0) + GRAIN_CLEAR;
}

/* Crossings of the outline with the box's edges (segments pre-filtered by
 * their control hulls), or a centre outside it: 1 when the box is not
 * inside the seam line. */
static int outside_seam(const struct path *seam, const struct bbox *hull, const struct bbox *b)
{
    struct vec c = vec_xy(0.5 * (b->x0 + b->x1), 0.5 * (b->y0 + b->y1));
    double t[3];
    int right = 0;

    for (size_t i = 0; i < seam->n; i++) {
        const struct seg *s = &seam->seg[i];
        const struct bbox *h = &hull[i];
        if (h->y0 <= c.y && h->y1 >= c.y && h->x1 >= c.x) {
            int k = geom_seg_cross_y(s, c.y, t);
            for (int j = 0; j < k; j++)
                right += geom_seg_eval(s, t[j]).x > c.x;
        }
        if (h->x1 < b->x0 || h->x0 > b->x1 || h->y1 < b->y0 || h->y0 > b->y1)
            continue;
        for (int side = 0; side < 4; side++) {
            double v = side == 0 ? b->y0 : side == 1 ? b->y1 : side == 2 ? b->x0 : b->x1;
            int k = side < 2 ? geom_seg_cross_y(s, v, t) : geom_seg_cross_x(s, v, t);
            for (int j = 0; j < k; j++) {
                struct vec q = geom_seg_eval(s, t[j]);
                if (side < 2 ? q.x >= b->x0 && q.x <= b->x1 : q.y >= b->y0 && q.y <= b->y1)
                    return 1;
            }
        }
    }
    return right % 2 == 0;
}

static int hits_marks(const struct draft_part *pt, const struct bbox *b)
{
    for (size_t i = 0; i < pt->nlevels; i++) /* the line, and its label above it */
        if (b->y0 < pt->level[i].y + 1.0 && b->y1 > pt->level[i].y - 1.5 - DRAFT_NOTE_SIZE)
            return 1;
    for (size_t i = 0; i < pt->ndarts; i++) {
        const struct draft_dart *d = &pt->dart[i];
        struct bbox db;
        geom_bbox_empty(&db);
        geom_bbox_add(&db, d->tip);
        geom_bbox_add(&db, d->a);
        geom_bbox_add(&db, d->b);
        if (geom_bbox_overlap(&db, b, 2.0))
            return 1;
    }
    return 0;
}

static struct bbox box_at(struct vec c, double w, double h)
{
    struct bbox b = {c.x - 0.5 * w, c.y - 0.5 * h, c.x + 0.5 * w, c.y + 0.5 * h};
    return b;
}

static struct bbox grow(const struct bbox *b, double d)
{
    struct bbox g = {b->x0 - d, b->y0 - d, b->x1 + d, b->y1 + d};
    return g;
}

void draft_title_place(const struct pattern *p, struct draft_part *pt, size_t i)
{
    char lines[DRAFT_TITLE_LINES][128];
    size_t n = draft_title_lines(p, i, lines, DRAFT_TITLE_LINES);
    double w = 0.0, h = draft_title_baseline(n - 1) + TITLE_DESCENT;
    struct bbox hull[256], ext;
    struct vec c0 = pt->title_at, best = c0;
    struct zone gz;
    int found = 0;

    for (size_t k = 0; k < n; k++)
        w = fmax(w, draft_text_width(lines[k], draft_title_font(k), k == 0));
    geom_bbox_empty(&ext);
    for (size_t k = 0; k < pt->seam.n && k < 256; k++) {
        hull[k] = geom_seg_hull(&pt->seam.seg[k]);
        geom_bbox_union(&ext, &hull[k]);
    }
    grain_zone(pt, &gz);

    /* sideways: the suggestion as it is, or pushed just clear of the zone */
    double e = 0.5 * (fabs(gz.n.x) * w + fabs(gz.n.y) * h), d0 = vec_dot(vec_sub(c0, gz.a), gz.n);
    double lateral[3] = {0.0, gz.hi + e + 0.5 - d0, gz.lo - e - 0.5 - d0};
    double reach = fmax(ext.x1 - ext.x0, ext.y1 - ext.y0);
    int steps = (int)fmin(MAX_STEPS, ceil(reach / STEP));

    /* a part smaller than the block with its clearance (a band) cannot hold
     * it: only the grainline is kept clear (the same answer, sooner) */
    int first =
        ext.x1 - ext.x0 < w + 2.0 * SEAM_CLEAR || ext.y1 - ext.y0 < h + 2.0 * SEAM_CLEAR ? 2 : 0;

    if (pt->seam.n > 256) /* never for these designs: keep the suggestion off the grain */
        steps = -1;
    for (int pass = first; pass < 3 && !found; pass++)
        for (int s = 0; s <= 2 * steps && !found; s++) {
            double along = (s % 2 ? 1.0 : -1.0) * STEP * (double)((s + 1) / 2);
            for (int l = 0; l < 3 && !found; l++) {
                struct vec c = vec_mad(vec_mad(c0, gz.n, lateral[l]), gz.u, along);
                struct bbox b = box_at(c, w, h), g = grow(&b, SEAM_CLEAR);
                if (zone_hits(&gz, &b))
                    continue;
                if (pass < 2 && outside_seam(&pt->seam, hull, &g))
                    continue;
                if (pass < 1 && hits_marks(pt, &b))
                    continue;
                best = c;
                found = 1;
            }
        }
    if (!found) { /* the suggestion, pushed clear of the grainline */
        struct bbox b0 = box_at(c0, w, h);
        double side = fabs(lateral[1]) <= fabs(lateral[2]) ? lateral[1] : lateral[2];
        if (zone_hits(&gz, &b0))
            best = vec_mad(c0, gz.n, side);
    }
    pt->title_at = best;
    pt->title_box = box_at(best, w, h);
}
