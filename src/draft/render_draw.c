/*
 * render_draw.c - what a printed pattern shows, for every output format:
 * draft_draw walks a finished pattern and calls the canvas it is given.
 *
 * Per part, in its own frame (placed at part->offset): the cutting line
 * (dashed), the seam line (solid), dart legs with a circle at the tip,
 * girth help lines with their names, notches as ticks across the
 * allowance (one tick front, two ticks back), the grainline with
 * arrowheads or, on a fold, a bracket whose arrows point onto the fold,
 * and the title block (in part->title_box, line k's baseline at
 * draft_title_baseline(k)). Last, in layout coordinates, the scale box: a
 * 1 mm black frame whose white inside is exactly p->scalebox_w x
 * p->scalebox_h (100 x 50 mm, or 4 x 2 in), with its instructions in the
 * pattern's units.
 *
 * Invariant: everything drawn lies inside the part's box (draft.c sizes
 * the box for the title block, notch ticks and bracket).
 */
#include <stdio.h>
#include <string.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"

static void arrow(const struct draft_canvas *c, struct vec tip, struct vec dir)
{
    struct vec u = vec_unit(dir), n = vec_perp(u), v[3];

    v[0] = tip;
    v[1] = vec_mad(vec_mad(tip, u, -5.0), n, 1.8);
    v[2] = vec_mad(vec_mad(tip, u, -5.0), n, -1.8);
    c->poly(c->ctx, DRAFT_STYLE_ARROW, v, 3, 1);
}

static void draw_levels(const struct draft_canvas *c, const struct draft_part *pt)
{
    for (size_t i = 0; i < pt->nlevels; i++) {
        double xs[32], lo = 1e300, hi = -1e300, y = pt->level[i].y;
        int n = geom_path_cross_y(&pt->seam, y, xs, 32);
        char label[48];
        struct vec v[2];

        for (int k = 0; k < n; k++) {
            lo = fmin(lo, xs[k]);
            hi = fmax(hi, xs[k]);
        }
        if (n < 2)
            continue;
        v[0] = vec_xy(lo, y);
        v[1] = vec_xy(hi, y);
        c->poly(c->ctx, DRAFT_STYLE_HELP, v, 2, 0);
        size_t l = strlen(pt->level[i].name);
        if (l > sizeof label - 6)
            l = sizeof label - 6;
        memcpy(label, pt->level[i].name, l);
        memcpy(label + l, " line", 6);
        c->text(c->ctx, DRAFT_FONT_NOTE, 1, vec_xy(0.5 * (lo + hi), y - 1.5), 0.0, label);
    }
}

static void draw_notches(const struct draft_canvas *c, const struct draft_part *pt, double sa)
{
    double len = sa > 0.0 ? sa : DRAFT_NOTCH_TICK;

    for (size_t i = 0; i < pt->nnotches; i++) {
        const struct draft_notch *nt = &pt->notch[i];
        struct vec along = vec_perp(nt->dir), v[2];
        int ticks = nt->kind == DRAFT_NOTCH_BACK ? 2 : 1;

        for (int k = 0; k < ticks; k++) {
            v[0] = vec_mad(nt->at, along, ticks == 2 ? (k ? 1.5 : -1.5) : 0.0);
            v[1] = vec_mad(v[0], nt->dir, len);
            c->poly(c->ctx, DRAFT_STYLE_NOTCH, v, 2, 0);
        }
    }
}

static double text_angle(struct vec d)
{
    double a = atan2(d.y, d.x) * 180.0 / GEOM_PI;
    return a > 90.0 ? a - 180.0 : a < -90.0 ? a + 180.0 : a; /* never upside down */
}

static void draw_grain(const struct draft_canvas *c, const struct draft_part *pt)
{
    struct vec a = pt->grain_from, e = pt->grain_to, d = vec_unit(vec_sub(e, a)), v[4];
    double angle = text_angle(d), s;

    if (pt->fold_edge < 0) {
        v[0] = a;
        v[1] = e;
        c->poly(c->ctx, DRAFT_STYLE_GRAIN, v, 2, 0);
        arrow(c, a, vec_mul(d, -1.0));
        arrow(c, e, d);
        c->text(c->ctx, DRAFT_FONT_NOTE, 1, vec_mad(vec_lerp(a, e, 0.5), vec_perp(d), 2.0), angle,
                "grainline");
        return;
    }
    const struct path *fold = &pt->edge[pt->fold_edge].path;
    geom_path_closest(fold, a, &s);
    struct vec fa = geom_path_at(fold, s, NULL);
    geom_path_closest(fold, e, &s);
    struct vec fe = geom_path_at(fold, s, NULL), in = vec_unit(vec_sub(a, fa));
    v[0] = vec_mad(fa, in, 5.0);
    v[1] = a;
    v[2] = e;
    v[3] = vec_mad(fe, in, 5.0);
    c->poly(c->ctx, DRAFT_STYLE_GRAIN, v, 4, 0);
    arrow(c, vec_mad(fa, in, 0.5), vec_mul(in, -1.0));
    arrow(c, vec_mad(fe, in, 0.5), vec_mul(in, -1.0));
    c->text(c->ctx, DRAFT_FONT_NOTE, 1, vec_mad(vec_lerp(a, e, 0.5), in, 4.0), angle,
            "cut on fold - grainline");
}

static void draw_title(const struct draft_canvas *c, const struct pattern *p, size_t i)
{
    char lines[DRAFT_TITLE_LINES][128];
    size_t n = draft_title_lines(p, i, lines, DRAFT_TITLE_LINES);
    const struct draft_part *pt = &p->part[i];

    for (size_t k = 0; k < n; k++) {
        double size = draft_title_font(k);
        enum draft_font f = k == 0                    ? DRAFT_FONT_TITLE
                            : size == DRAFT_NOTE_SIZE ? DRAFT_FONT_NOTE
                                                      : DRAFT_FONT_TEXT;
        c->text(c->ctx, f, 1, vec_xy(pt->title_at.x, pt->title_box.y0 + draft_title_baseline(k)),
                0.0, lines[k]);
    }
}

/* A dart's tip: a 1.5 mm circle (four quarter arcs), where the legs meet. */
static void draw_tip(const struct draft_canvas *c, struct vec tip)
{
    const double r = 1.5, k = GEOM_KAPPA * r;
    struct path circle;
    struct seg q[4];

    q[0] = geom_seg_cubic(vec_xy(tip.x + r, tip.y), vec_xy(tip.x + r, tip.y + k),
                          vec_xy(tip.x + k, tip.y + r), vec_xy(tip.x, tip.y + r));
    q[1] = geom_seg_cubic(vec_xy(tip.x, tip.y + r), vec_xy(tip.x - k, tip.y + r),
                          vec_xy(tip.x - r, tip.y + k), vec_xy(tip.x - r, tip.y));
    q[2] = geom_seg_cubic(vec_xy(tip.x - r, tip.y), vec_xy(tip.x - r, tip.y - k),
                          vec_xy(tip.x - k, tip.y - r), vec_xy(tip.x, tip.y - r));
    q[3] = geom_seg_cubic(vec_xy(tip.x, tip.y - r), vec_xy(tip.x + k, tip.y - r),
                          vec_xy(tip.x + r, tip.y - k), vec_xy(tip.x + r, tip.y));
    circle.seg = q;
    circle.n = circle.cap = 4;
    circle.cur = q[3].p[3];
    circle.failed = 0;
    c->path(c->ctx, DRAFT_STYLE_TIP, &circle);
}

static void draw_part(const struct draft_canvas *c, const struct pattern *p, size_t i)
{
    const struct draft_part *pt = &p->part[i];
    char id[48];

    size_t l = strlen(pt->name);
    if (l > sizeof id - 6)
        l = sizeof id - 6;
    memcpy(id, "part-", 5);
    memcpy(id + 5, pt->name, l);
    id[5 + l] = '\0';
    c->group(c->ctx, id, pt->offset);
    if (pt->sa.n)
        c->path(c->ctx, DRAFT_STYLE_SA, &pt->sa);
    c->path(c->ctx, DRAFT_STYLE_SEAM, &pt->seam);
    for (size_t k = 0; k < pt->ndarts; k++) {
        struct vec v[3] = {pt->dart[k].a, pt->dart[k].tip, pt->dart[k].b};
        c->poly(c->ctx, DRAFT_STYLE_DART, v, 3, 0);
        draw_tip(c, pt->dart[k].tip);
    }
    draw_levels(c, pt);
    draw_notches(c, pt, p->sa);
    draw_grain(c, pt);
    draw_title(c, p, i);
    c->group_end(c->ctx);
}

/* The text stays in the left 60 mm of the box and off its lower half, so
 * the white inside can be measured across at mid-height and down at 85 %
 * of its width. */
static void draw_scalebox(const struct draft_canvas *c, const struct pattern *p)
{
    char line[160], w[24], h[24], name[DRAFT_NAME_MAX + 8];

    draft_length_label(w, sizeof w, p->scalebox_w, p->units);
    draft_length_label(h, sizeof h, p->scalebox_h, p->units);
    c->group(c->ctx, "scalebox", p->scalebox);
    c->frame(c->ctx, vec_xy(0.0, 0.0), p->scalebox_w, p->scalebox_h, 1.0);
    c->text(c->ctx, DRAFT_FONT_TEXT, 0, vec_xy(4.0, 9.0), 0.0, "The white inside");
    c->text(c->ctx, DRAFT_FONT_TEXT, 0, vec_xy(4.0, 15.0), 0.0, "of this box measures");
    snprintf(line, sizeof line, "%s x %s.", w, h);
    c->text(c->ctx, DRAFT_FONT_TEXT, 0, vec_xy(4.0, 21.0), 0.0, line);
    c->text(c->ctx, DRAFT_FONT_NOTE, 0, vec_xy(0.0, p->scalebox_h + 5.0), 0.0,
            "Print at 100 % (actual size) and check the box before you cut.");
    draft_title_name(p, name, sizeof name);
    snprintf(line, sizeof line, "%s for %s", p->design->title, name);
    c->text(c->ctx, DRAFT_FONT_NOTE, 0, vec_xy(0.0, p->scalebox_h + 9.5), 0.0, line);
    c->group_end(c->ctx);
}

void draft_draw(const struct pattern *p, const struct draft_canvas *c)
{
    for (size_t i = 0; i < p->nparts; i++)
        draw_part(c, p, i);
    draw_scalebox(c, p);
}
