/*
 * render_pdf.c - a drafted pattern as PDF through cairo, in true scale:
 * DRAFT_PAPER_FULL is one page the size of the layout plus a margin (for a
 * print shop or plotter); A4 and US Letter tile the layout on portrait
 * pages, each page printing a window of (paper - 2 x margin) mm that
 * overlaps its right and lower neighbours by DRAFT_TILE_OVERLAP mm.
 *
 * Every tile page carries its label (column letter, row number: "A1", "B1",
 * ..., also printed large and light behind the pattern), the outline of its
 * printed window, and in each overlap strip the line where the neighbour's
 * window starts, labelled with the neighbour's name, and two alignment
 * targets (circle and cross) at fixed layout positions, so the targets of
 * two neighbouring pages print at the same place of the pattern and are
 * laid over each other when assembling. A tile is printed only when its
 * window shows some of the pattern: a line of a part (cutting line, or the
 * seam line without allowance), its inside, a notch tick, a title, or the
 * scale box with its text; never for the alignment marks alone, nor for a
 * sliver of a line along an edge whose neighbour prints it whole. With more
 * than one tile page, the document opens with an assembly page: the
 * layout drawn small (cutting lines, part numbers and names) under the
 * grid of tiles, each labelled, the ones left out in grey.
 *
 * Invariants: all drawing happens after cairo_scale(mm -> pt), so line
 * widths and font sizes are in mm; the creation date is the pattern's
 * date at midnight UTC, so the same pattern always gives the same bytes.
 */
#include <dlfcn.h>
#include <cairo-pdf.h>
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"
#include "base/err.h"
#include "base/policy.h"

#define PT_PER_MM     (72.0 / 25.4)
#define SCALEBOX_TEXT 11.0 /* mm under the frame holding its two lines of text */
#define TILE_SLIVER   1.0  /* mm along a shared edge that alone does not print a tile */
/* (int) of the plain constants: C11 lets a static assertion cast a floating
 * constant, not compute with one (clang refuses TILE_SLIVER < 10.0 / 2) */
_Static_assert((int)TILE_SLIVER < (int)DRAFT_TILE_OVERLAP / 2,
               "a sliver lies well inside the neighbour");

int draft_paper_parse(const char *s, enum draft_paper *out)
{
    if (!s)
        return DRAFT_ERR_INVALID;
    if (strcasecmp(s, "full") == 0)
        *out = DRAFT_PAPER_FULL;
    else if (strcasecmp(s, "a4") == 0)
        *out = DRAFT_PAPER_A4;
    else if (strcasecmp(s, "letter") == 0)
        *out = DRAFT_PAPER_LETTER;
    else
        return DRAFT_ERR_INVALID;
    return 0;
}

void draft_paper_size(const struct pattern *p, enum draft_paper paper, double *w, double *h)
{
    if (paper == DRAFT_PAPER_A4) {
        *w = 210.0;
        *h = 297.0;
    } else if (paper == DRAFT_PAPER_LETTER) {
        *w = 215.9;
        *h = 279.4;
    } else {
        *w = p->width + 2.0 * DRAFT_FULL_MARGIN;
        *h = p->height + 2.0 * DRAFT_FULL_MARGIN;
    }
}

struct tiling {
    double pw, ph; /* paper, mm */
    double uw, uh; /* printed window */
    double sx, sy; /* step between windows */
    int cols, rows;
};

static int tile_count(double total, double window, double step)
{
    if (total <= window)
        return 1;
    return 1 + (int)ceil((total - window) / step - 1e-9);
}

static void tiling(const struct pattern *p, enum draft_paper paper, struct tiling *t)
{
    draft_paper_size(p, paper, &t->pw, &t->ph);
    if (paper == DRAFT_PAPER_FULL) {
        t->uw = p->width;
        t->uh = p->height;
        t->sx = t->uw;
        t->sy = t->uh;
        t->cols = t->rows = 1;
        return;
    }
    t->uw = t->pw - 2.0 * DRAFT_TILE_MARGIN;
    t->uh = t->ph - 2.0 * DRAFT_TILE_MARGIN;
    t->sx = t->uw - DRAFT_TILE_OVERLAP;
    t->sy = t->uh - DRAFT_TILE_OVERLAP;
    t->cols = tile_count(p->width, t->uw, t->sx);
    t->rows = tile_count(p->height, t->uh, t->sy);
}

/* ---- which tiles are printed -------------------------------------------- */

/* 1 when segment s has a point inside the box w. */
static int seg_in_box(const struct seg *s, const struct bbox *w)
{
    struct bbox h = geom_seg_hull(s);
    double t[3];

    if (h.x1 < w->x0 || h.x0 > w->x1 || h.y1 < w->y0 || h.y0 > w->y1)
        return 0;
    if (s->p[0].x >= w->x0 && s->p[0].x <= w->x1 && s->p[0].y >= w->y0 && s->p[0].y <= w->y1)
        return 1;
    for (int side = 0; side < 4; side++) {
        double v = side == 0 ? w->y0 : side == 1 ? w->y1 : side == 2 ? w->x0 : w->x1;
        int k = side < 2 ? geom_seg_cross_y(s, v, t) : geom_seg_cross_x(s, v, t);
        for (int j = 0; j < k; j++) {
            struct vec q = geom_seg_eval(s, t[j]);
            if (side < 2 ? q.x >= w->x0 && q.x <= w->x1 : q.y >= w->y0 && q.y <= w->y1)
                return 1;
        }
    }
    return 0;
}

/* Even-odd inside test of q against the closed path (a ray to the right). */
static int path_contains(const struct path *p, struct vec q)
{
    double t[3];
    int right = 0;

    for (size_t i = 0; i < p->n; i++) {
        struct bbox h = geom_seg_hull(&p->seg[i]);
        if (h.y0 > q.y || h.y1 < q.y || h.x1 < q.x)
            continue;
        int k = geom_seg_cross_y(&p->seg[i], q.y, t);
        for (int j = 0; j < k; j++)
            right += geom_seg_eval(&p->seg[i], t[j]).x > q.x;
    }
    return right % 2;
}

static struct bbox scalebox_ink(const struct pattern *p)
{
    double tw = fmax(draft_text_width("Print at 100 % (actual size) and check the box before "
                                      "you cut.",
                                      DRAFT_NOTE_SIZE, 0),
                     draft_text_width(p->design->title, DRAFT_NOTE_SIZE, 0) +
                         draft_text_width(" for ", DRAFT_NOTE_SIZE, 0) +
                         draft_text_width(p->model, DRAFT_NOTE_SIZE, 0));
    struct bbox s = {p->scalebox.x - 1.0, p->scalebox.y - 1.0,
                     p->scalebox.x + fmax(p->scalebox_w + 1.0, tw),
                     p->scalebox.y + p->scalebox_h + SCALEBOX_TEXT};
    return s;
}

/* 1 when the window w (layout mm) shows some of part pt. */
static int part_inked(const struct pattern *p, const struct draft_part *pt, const struct bbox *w)
{
    struct bbox pw = {w->x0 - pt->offset.x, w->y0 - pt->offset.y, w->x1 - pt->offset.x,
                      w->y1 - pt->offset.y}; /* the window in the part's frame */
    const struct path *outline = pt->sa.n ? &pt->sa : &pt->seam;
    double tick = p->sa > 0.0 ? p->sa : DRAFT_NOTCH_TICK;

    if (!geom_bbox_overlap(&pt->box, &pw, 0.0))
        return 0;
    for (size_t i = 0; i < outline->n; i++)
        if (seg_in_box(&outline->seg[i], &pw))
            return 1;
    if (path_contains(outline, vec_xy(0.5 * (pw.x0 + pw.x1), 0.5 * (pw.y0 + pw.y1))))
        return 1; /* the window lies inside the part */
    for (size_t i = 0; i < pt->nnotches; i++) {
        struct seg s =
            geom_seg_line(pt->notch[i].at, vec_mad(pt->notch[i].at, pt->notch[i].dir, tick));
        if (seg_in_box(&s, &pw))
            return 1;
    }
    return geom_bbox_overlap(&pt->title_box, &pw, 0.0);
}

static struct bbox tile_window(const struct tiling *t, int c, int r)
{
    struct bbox w = {c * t->sx, r * t->sy, c * t->sx + t->uw, r * t->sy + t->uh};
    return w;
}

/* 1 when the window of tile (c, r) shows some of the pattern, more than
 * a sliver along an edge it shares with a neighbour: whatever lies within
 * TILE_SLIVER mm of such an edge lies well inside the neighbour's window
 * too (the windows overlap by DRAFT_TILE_OVERLAP), so the neighbour prints
 * it; the layout keeps a margin free of ink along its outer edges. */
static int tile_used(const struct pattern *p, const struct tiling *t, int c, int r)
{
    struct bbox w = tile_window(t, c, r), s = scalebox_ink(p);

    w.x0 += c > 0 ? TILE_SLIVER : 0.0;
    w.y0 += r > 0 ? TILE_SLIVER : 0.0;
    w.x1 -= c + 1 < t->cols ? TILE_SLIVER : 0.0;
    w.y1 -= r + 1 < t->rows ? TILE_SLIVER : 0.0;

    if (geom_bbox_overlap(&w, &s, 0.0))
        return 1;
    for (size_t i = 0; i < p->nparts; i++)
        if (part_inked(p, &p->part[i], &w))
            return 1;
    return 0;
}

int draft_tile_printed(const struct pattern *p, enum draft_paper paper, int col, int row)
{
    struct tiling t;

    if (!p)
        return 0;
    tiling(p, paper, &t);
    if (col < 0 || row < 0 || col >= t.cols || row >= t.rows)
        return 0;
    return paper == DRAFT_PAPER_FULL || tile_used(p, &t, col, row);
}

void draft_tiles(const struct pattern *p, enum draft_paper paper, int *cols, int *rows, int *pages)
{
    struct tiling t;
    int n = 0;

    tiling(p, paper, &t);
    for (int r = 0; r < t.rows; r++)
        for (int c = 0; c < t.cols; c++)
            n += paper == DRAFT_PAPER_FULL || tile_used(p, &t, c, r);
    *cols = t.cols;
    *rows = t.rows;
    *pages = n;
}

/* ---- the cairo canvas -------------------------------------------------- */

static void pdf_style(cairo_t *cr, enum draft_style st)
{
    static const double sa_dash[] = {4.0, 2.0}, help_dash[] = {6.0, 2.0, 1.0, 2.0};
    static const double width[] = {0.6, 0.4, 0.4, 0.3, 0.5, 0.5, 0.0, 0.4};

    cairo_set_line_width(cr, width[st]);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    if (st == DRAFT_STYLE_HELP)
        cairo_set_source_rgb(cr, 0.47, 0.47, 0.47);
    else
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    if (st == DRAFT_STYLE_SA)
        cairo_set_dash(cr, sa_dash, 2, 0.0);
    else if (st == DRAFT_STYLE_HELP)
        cairo_set_dash(cr, help_dash, 4, 0.0);
    else
        cairo_set_dash(cr, NULL, 0, 0.0);
}

static void pdf_finish(cairo_t *cr, enum draft_style st)
{
    pdf_style(cr, st);
    if (st == DRAFT_STYLE_ARROW)
        cairo_fill(cr);
    else
        cairo_stroke(cr);
}

static void pdf_group(void *ctx, const char *id, struct vec offset)
{
    (void)id;
    cairo_save(ctx);
    cairo_translate(ctx, offset.x, offset.y);
}

static void pdf_group_end(void *ctx)
{
    cairo_restore(ctx);
}

static void pdf_path(void *ctx, enum draft_style st, const struct path *p)
{
    cairo_t *cr = ctx;

    cairo_new_path(cr);
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->seg[i];
        if (i == 0 || vec_dist(s->p[0], p->seg[i - 1].p[3]) > 1e-6)
            cairo_move_to(cr, s->p[0].x, s->p[0].y);
        if (s->kind == SEG_LINE)
            cairo_line_to(cr, s->p[3].x, s->p[3].y);
        else
            cairo_curve_to(cr, s->p[1].x, s->p[1].y, s->p[2].x, s->p[2].y, s->p[3].x, s->p[3].y);
    }
    if (p->n && vec_dist(geom_path_start(p), geom_path_end(p)) < 1e-6)
        cairo_close_path(cr);
    pdf_finish(cr, st);
}

static void pdf_poly(void *ctx, enum draft_style st, const struct vec *v, size_t n, int close)
{
    cairo_t *cr = ctx;

    cairo_new_path(cr);
    for (size_t i = 0; i < n; i++)
        if (i)
            cairo_line_to(cr, v[i].x, v[i].y);
        else
            cairo_move_to(cr, v[i].x, v[i].y);
    if (close)
        cairo_close_path(cr);
    pdf_finish(cr, st);
}

static void pdf_font(cairo_t *cr, enum draft_font f)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           f == DRAFT_FONT_TITLE ? CAIRO_FONT_WEIGHT_BOLD
                                                 : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, f == DRAFT_FONT_TITLE  ? DRAFT_TITLE_SIZE
                            : f == DRAFT_FONT_TEXT ? DRAFT_TEXT_SIZE
                                                   : DRAFT_NOTE_SIZE);
}

static void pdf_text(void *ctx, enum draft_font f, int centred, struct vec at, double angle,
                     const char *s)
{
    cairo_t *cr = ctx;
    cairo_text_extents_t ext;

    pdf_font(cr, f);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_save(cr);
    cairo_translate(cr, at.x, at.y);
    cairo_rotate(cr, angle * GEOM_PI / 180.0);
    cairo_text_extents(cr, s, &ext);
    cairo_move_to(cr, centred ? -0.5 * ext.x_advance : 0.0, 0.0);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    cairo_restore(cr);
}

static void pdf_frame(void *ctx, struct vec o, double w, double h, double width)
{
    cairo_t *cr = ctx;

    cairo_new_path(cr);
    cairo_rectangle(cr, o.x - width, o.y - width, w + 2.0 * width, h + 2.0 * width);
    cairo_rectangle(cr, o.x, o.y, w, h);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_fill(cr);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
}

static void draw_pattern(cairo_t *cr, const struct pattern *p)
{
    struct draft_canvas c = {cr, pdf_group, pdf_group_end, pdf_path, pdf_poly, pdf_text, pdf_frame};
    draft_draw(p, &c);
}

/* ---- pages ------------------------------------------------------------ */

static void tile_label(char *buf, size_t n, int c, int r)
{
    char col[8];
    size_t k = 0;

    for (int x = c + 1; x > 0 && k < sizeof col; x = (x - 1) / 26)
        col[k++] = (char)('A' + (x - 1) % 26);
    size_t o = 0;
    while (k > 0 && o + 1 < n)
        buf[o++] = col[--k];
    snprintf(buf + o, n - o, "%d", r + 1);
}

static void big_label(cairo_t *cr, const struct tiling *t, const char *label)
{
    cairo_text_extents_t e;

    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 60.0);
    cairo_text_extents(cr, label, &e);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, 0.5 * (t->pw - e.width) - e.x_bearing,
                  0.5 * (t->ph - e.height) - e.y_bearing);
    cairo_show_text(cr, label);
    cairo_new_path(cr);
}

static void target(cairo_t *cr, double x, double y)
{
    cairo_new_path(cr);
    cairo_arc(cr, x, y, 3.0, 0.0, 2.0 * GEOM_PI);
    cairo_move_to(cr, x - 4.5, y);
    cairo_line_to(cr, x + 4.5, y);
    cairo_move_to(cr, x, y - 4.5);
    cairo_line_to(cr, x, y + 4.5);
    cairo_set_line_width(cr, 0.25);
    cairo_set_dash(cr, NULL, 0, 0.0);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_stroke(cr);
}

/* Overlap strip on one side of the window: the line where the neighbour's
 * window begins, its name, and two alignment targets. side: 0 right,
 * 1 bottom, 2 left, 3 top. */
static void strip(cairo_t *cr, const struct tiling *t, int side, int nc, int nr)
{
    double m = DRAFT_TILE_MARGIN, ov = DRAFT_TILE_OVERLAP, x0 = m, y0 = m;
    double x1 = m + t->uw, y1 = m + t->uh, line, mid;
    static const double dash[] = {2.0, 2.0};
    char label[24], text[48];

    tile_label(label, sizeof label, nc, nr);
    snprintf(text, sizeof text, "%s %s", side < 2 ? "overlap with" : "lay over", label);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 0.2);
    cairo_set_dash(cr, dash, 2, 0.0);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 3.0);
    cairo_new_path(cr);
    if (side == 0 || side == 2) {
        line = side == 0 ? x1 - ov : x0 + ov;
        mid = side == 0 ? x1 - 0.5 * ov : x0 + 0.5 * ov;
        cairo_move_to(cr, line, y0);
        cairo_line_to(cr, line, y1);
        cairo_stroke(cr);
        target(cr, mid, y0 + 0.25 * t->uh);
        target(cr, mid, y0 + 0.75 * t->uh);
        cairo_save(cr);
        cairo_translate(cr, mid + 1.0, y0 + 0.5 * t->uh);
        cairo_rotate(cr, GEOM_PI / 2.0);
        cairo_move_to(cr, -10.0, 0.0);
    } else {
        line = side == 1 ? y1 - ov : y0 + ov;
        mid = side == 1 ? y1 - 0.5 * ov : y0 + 0.5 * ov;
        cairo_move_to(cr, x0, line);
        cairo_line_to(cr, x1, line);
        cairo_stroke(cr);
        target(cr, x0 + 0.25 * t->uw, mid);
        target(cr, x0 + 0.75 * t->uw, mid);
        cairo_save(cr);
        cairo_translate(cr, x0 + 0.5 * t->uw - 10.0, mid + 1.0);
        cairo_move_to(cr, 0.0, 0.0);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_show_text(cr, text);
    cairo_new_path(cr);
    cairo_restore(cr);
}

/* 1 when tile (c, r) exists and is printed (used: cols x rows flags). */
static int printed(const struct tiling *t, const unsigned char *used, int c, int r)
{
    return c >= 0 && r >= 0 && c < t->cols && r < t->rows && used[r * t->cols + c];
}

static void tile_furniture(cairo_t *cr, const struct tiling *t, const unsigned char *used, int c,
                           int r)
{
    char label[24];

    cairo_new_path(cr);
    cairo_rectangle(cr, DRAFT_TILE_MARGIN, DRAFT_TILE_MARGIN, t->uw, t->uh);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 0.2);
    cairo_set_dash(cr, NULL, 0, 0.0);
    cairo_stroke(cr);
    if (printed(t, used, c + 1, r))
        strip(cr, t, 0, c + 1, r);
    if (printed(t, used, c, r + 1))
        strip(cr, t, 1, c, r + 1);
    if (printed(t, used, c - 1, r))
        strip(cr, t, 2, c - 1, r);
    if (printed(t, used, c, r - 1))
        strip(cr, t, 3, c, r - 1);
    tile_label(label, sizeof label, c, r);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 5.0);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_move_to(cr, DRAFT_TILE_MARGIN + DRAFT_TILE_OVERLAP + 2.0,
                  DRAFT_TILE_MARGIN + DRAFT_TILE_OVERLAP + 6.0);
    cairo_show_text(cr, label);
    cairo_new_path(cr);
}

static void tile_page(cairo_t *cr, const struct pattern *p, const struct tiling *t,
                      const unsigned char *used, int c, int r)
{
    char label[24];

    cairo_save(cr);
    cairo_scale(cr, PT_PER_MM, PT_PER_MM);
    tile_label(label, sizeof label, c, r);
    big_label(cr, t, label);
    cairo_save(cr);
    cairo_rectangle(cr, DRAFT_TILE_MARGIN, DRAFT_TILE_MARGIN, t->uw, t->uh);
    cairo_clip(cr);
    cairo_translate(cr, DRAFT_TILE_MARGIN - c * t->sx, DRAFT_TILE_MARGIN - r * t->sy);
    draw_pattern(cr, p);
    cairo_restore(cr);
    tile_furniture(cr, t, used, c, r);
    cairo_restore(cr);
    cairo_show_page(cr);
}

/* ---- the assembly page ---------------------------------------------------- */

static void text_at(cairo_t *cr, double x, double y, double size, int bold, int centred,
                    const char *s)
{
    cairo_text_extents_t e;

    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, centred ? x - 0.5 * e.x_advance : x, y);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
}

static void outline_path(cairo_t *cr, const struct path *p)
{
    cairo_new_path(cr);
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->seg[i];
        if (i == 0 || vec_dist(s->p[0], p->seg[i - 1].p[3]) > 1e-6)
            cairo_move_to(cr, s->p[0].x, s->p[0].y);
        if (s->kind == SEG_LINE)
            cairo_line_to(cr, s->p[3].x, s->p[3].y);
        else
            cairo_curve_to(cr, s->p[1].x, s->p[1].y, s->p[2].x, s->p[2].y, s->p[3].x, s->p[3].y);
    }
    cairo_close_path(cr);
}

/* The pieces drawn small (k page mm per layout mm) at (ox, oy). */
static void overview_pieces(cairo_t *cr, const struct pattern *p, double ox, double oy, double k)
{
    char label[160];

    for (size_t i = 0; i < p->nparts; i++) {
        const struct draft_part *pt = &p->part[i];
        cairo_save(cr);
        cairo_translate(cr, ox, oy);
        cairo_scale(cr, k, k);
        cairo_translate(cr, pt->offset.x, pt->offset.y);
        outline_path(cr, pt->sa.n ? &pt->sa : &pt->seam);
        cairo_restore(cr);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 0.3);
        cairo_set_dash(cr, NULL, 0, 0.0);
        cairo_stroke(cr);
        snprintf(label, sizeof label, "%d %s", (int)i + 1, pt->title);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        text_at(cr, ox + k * (pt->offset.x + pt->title_at.x),
                oy + k * (pt->offset.y + pt->title_at.y), 3.5, 1, 1, label);
    }
    cairo_new_path(cr);
    cairo_rectangle(cr, ox + k * p->scalebox.x, oy + k * p->scalebox.y, k * p->scalebox_w,
                    k * p->scalebox_h);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 0.3);
    cairo_stroke(cr);
}

static void overview_page(cairo_t *cr, const struct pattern *p, enum draft_paper paper,
                          const struct tiling *t, const unsigned char *used, int pages)
{
    static const double dash[] = {1.0, 1.0};
    double m = DRAFT_TILE_MARGIN, top = m + 28.0;
    double gw = (t->cols - 1) * t->sx + t->uw, gh = (t->rows - 1) * t->sy + t->uh;
    double k = fmin((t->pw - 2.0 * m) / gw, (t->ph - top - m) / gh);
    double ox = m + 0.5 * (t->pw - 2.0 * m - k * gw), oy = top;
    char line[320], name[DRAFT_NAME_MAX + 8], label[24];

    cairo_save(cr);
    cairo_scale(cr, PT_PER_MM, PT_PER_MM);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    draft_title_name(p, name, sizeof name);
    snprintf(line, sizeof line, "%s for %s: assembly", p->design->title, name);
    text_at(cr, m, m + 6.0, 6.0, 1, 0, line);
    snprintf(line, sizeof line,
             "%d pages (%s) follow, %d columns by %d rows. Print at 100 %% "
             "(actual size).",
             pages, paper == DRAFT_PAPER_A4 ? "A4" : "US Letter", t->cols, t->rows);
    text_at(cr, m, m + 13.0, 3.5, 0, 0, line);
    text_at(cr, m, m + 18.0, 3.5, 0, 0,
            "Lay each page over its neighbours along the dashed lines, targets on targets.");
    snprintf(line, sizeof line,
             "Pages in grey hold nothing of the pattern and are not printed. "
             "%s, atelier %s.",
             p->date, DRAFT_VERSION);
    text_at(cr, m, m + 23.0, 3.5, 0, 0, line);
    overview_pieces(cr, p, ox, oy, k);
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            int on = printed(t, used, c, r);
            double x = ox + k * c * t->sx, y = oy + k * r * t->sy;
            double w = k * (c + 1 < t->cols ? t->sx : t->uw),
                   h = k * (r + 1 < t->rows ? t->sy : t->uh);
            cairo_new_path(cr);
            cairo_rectangle(cr, x, y, w, h);
            cairo_set_line_width(cr, on ? 0.35 : 0.2);
            if (on)
                cairo_set_dash(cr, NULL, 0, 0.0);
            else
                cairo_set_dash(cr, dash, 2, 0.0);
            cairo_set_source_rgb(cr, on ? 0.0 : 0.65, on ? 0.0 : 0.65, on ? 0.0 : 0.65);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0.0);
            tile_label(label, sizeof label, c, r);
            text_at(cr, x + 0.5 * w, y + 0.5 * h + 2.0, fmin(6.0, 0.3 * fmin(w, h)), 1, 1, label);
        }
    cairo_restore(cr);
    cairo_show_page(cr);
}

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct strbuf *b = closure;

    strbuf_put(b, data, len);
    return strbuf_err(b) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

static int pdf_pages(cairo_t *cr, const struct pattern *p, enum draft_paper paper,
                     const struct tiling *t)
{
    unsigned char *used;
    int pages = 0;

    if (paper == DRAFT_PAPER_FULL) {
        cairo_save(cr);
        cairo_scale(cr, PT_PER_MM, PT_PER_MM);
        cairo_translate(cr, DRAFT_FULL_MARGIN, DRAFT_FULL_MARGIN);
        draw_pattern(cr, p);
        cairo_restore(cr);
        cairo_show_page(cr);
        return 0;
    }
    used = calloc((size_t)t->cols * (size_t)t->rows, 1); /* a few hundred at most */
    if (!used)
        return DRAFT_ERR_NOMEM;
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++)
            pages += used[r * t->cols + c] = (unsigned char)tile_used(p, t, c, r);
    if (pages > 1)
        overview_page(cr, p, paper, t, used, pages);
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++)
            if (used[r * t->cols + c])
                tile_page(cr, p, t, used, c, r);
    free(used);
    return 0;
}

int draft_pdf(const struct pattern *p, enum draft_paper paper, char **out, size_t *n)
{
    struct strbuf b = STRBUF_INIT(LIMIT_PDF_BYTES);
    struct tiling t;
    cairo_surface_t *s;
    cairo_t *cr;
    char title[DRAFT_NAME_MAX + 64], date[32];
    int ok, rc;

    if (!p || !out || !n || paper < DRAFT_PAPER_FULL || paper > DRAFT_PAPER_LETTER)
        return DRAFT_ERR_INTERNAL;
    tiling(p, paper, &t);
    s = cairo_pdf_surface_create_for_stream(pdf_write, &b, t.pw * PT_PER_MM, t.ph * PT_PER_MM);
    snprintf(date, sizeof date, "%sT00:00:00Z", p->date);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, date);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "atelier");
    snprintf(title, sizeof title, "%s for %s", p->design->title, p->model);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cr = cairo_create(s);
    rc = pdf_pages(cr, p, paper, &t);
    ok = cairo_status(cr) == CAIRO_STATUS_SUCCESS;
    cairo_destroy(cr);
    cairo_surface_finish(s);
    ok = ok && cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
    cairo_surface_destroy(s);
    if (rc || (!ok && !strbuf_err(&b))) {
        strbuf_release(&b);
        return rc ? rc : DRAFT_ERR_INTERNAL;
    }
    return draft_take(&b, out, n);
}

void draft_shutdown(void)
{
    /* fontconfig comes in through cairo, so FcFini is looked up, not linked */
    cairo_debug_reset_static_data();
    void *fc_fini = dlsym(RTLD_DEFAULT, "FcFini");
    if (fc_fini)
        ((void (*)(void))fc_fini)();
}
