/*
 * render_svg.c - a drafted pattern as SVG in true scale: width and height
 * in mm and a viewBox in mm, so one user unit prints as one millimetre.
 *
 * What is drawn is decided once for all formats in render_draw.c; this file
 * is the SVG canvas (CSS classes per line style) and the output buffer.
 *
 * Invariants: every piece of user text goes through draft_buf_xml; numbers
 * are finite (draft_run refuses anything else) and written with a fixed
 * 2-decimal formatter into one growable buffer, never snprintf per number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"
#include "base/util.h"

/* ---- buffer -------------------------------------------------------- */

static int buf_reserve(struct draft_buf *b, size_t more)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return -1;
    if (!size_add(b->n, more, &need) || !size_add(need, 1, &need)) {
        b->failed = 1;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (!size_mul(cap, 2, &cap)) {
            b->failed = 1;
            return -1;
        }
    }
    p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void draft_buf_put(struct draft_buf *b, const void *s, size_t n)
{
    if (b->cap - b->n <= n && buf_reserve(b, n)) /* fast path: room for n + NUL */
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void draft_buf_str(struct draft_buf *b, const char *s)
{
    draft_buf_put(b, s, strlen(s));
}

/* Writes v with at most 2 decimals at q (room for 24 bytes); returns the
 * end. Integer arithmetic only: no locale, no snprintf. */
static char *put_num(char *q, double v)
{
    char tmp[24];
    int n = 0;
    int64_t k;
    uint64_t u;
    unsigned frac;

    if (!isfinite(v) || fabs(v) > 1e15)
        v = 0.0;
    k = (int64_t)(v * 100.0 + (v < 0.0 ? -0.5 : 0.5));
    if (k < 0)
        *q++ = '-';
    u = k < 0 ? (uint64_t)(-(k + 1)) + 1 : (uint64_t)k;
    frac = (unsigned)(u % 100);
    u /= 100;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *q++ = tmp[--n];
    if (frac) {
        *q++ = '.';
        *q++ = (char)('0' + frac / 10);
        if (frac % 10)
            *q++ = (char)('0' + frac % 10);
    }
    return q;
}

void draft_buf_num(struct draft_buf *b, double v)
{
    if (b->cap - b->n <= 24 && buf_reserve(b, 24))
        return;
    b->n = (size_t)(put_num(b->p + b->n, v) - b->p);
    b->p[b->n] = '\0';
}

void draft_buf_xml(struct draft_buf *b, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep = *s == '<'    ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '&'  ? "&amp;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        if (!rep)
            continue;
        draft_buf_put(b, run, (size_t)(s - run));
        draft_buf_str(b, rep);
        run = s + 1;
    }
    draft_buf_put(b, run, (size_t)(s - run));
}

int draft_buf_take(struct draft_buf *b, char **out, size_t *n)
{
    if (b->failed || !b->p) {
        free(b->p);
        memset(b, 0, sizeof *b);
        return DRAFT_ERR_NOMEM;
    }
    *out = b->p;
    *n = b->n;
    memset(b, 0, sizeof *b);
    return 0;
}

/* ---- the SVG canvas ------------------------------------------------ */

static const char *const style_class[] = {"seam", "sa", "dart", "help", "notch", "grain", "arrow"};
static const char *const font_class[] = {"t1", "t2", "note"};

static void pt2(struct draft_buf *b, struct vec p)
{
    char *q;

    if (b->cap - b->n <= 50 && buf_reserve(b, 50))
        return;
    q = put_num(b->p + b->n, p.x);
    *q++ = ' ';
    q = put_num(q, p.y);
    b->n = (size_t)(q - b->p);
    b->p[b->n] = '\0';
}

static void path_d(struct draft_buf *b, const struct path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->seg[i];
        if (i == 0 || vec_dist(s->p[0], p->seg[i - 1].p[3]) > 1e-6) {
            draft_buf_put(b, i ? " M" : "M", i ? 2 : 1);
            pt2(b, s->p[0]);
        }
        if (s->kind == SEG_LINE) {
            draft_buf_put(b, "L", 1);
        } else {
            draft_buf_put(b, "C", 1);
            pt2(b, s->p[1]);
            draft_buf_put(b, " ", 1);
            pt2(b, s->p[2]);
            draft_buf_put(b, " ", 1);
        }
        pt2(b, s->p[3]);
    }
    if (p->n && vec_dist(geom_path_start(p), geom_path_end(p)) < 1e-6)
        draft_buf_put(b, "Z", 1);
}

static void open_path(struct draft_buf *b, enum draft_style st)
{
    draft_buf_str(b, "<path class=\"");
    draft_buf_str(b, style_class[st]);
    draft_buf_str(b, "\" d=\"");
}

static void svg_group(void *ctx, const char *id, struct vec offset)
{
    struct draft_buf *b = ctx;

    draft_buf_str(b, "<g id=\"");
    draft_buf_xml(b, id);
    draft_buf_str(b, "\" transform=\"translate(");
    pt2(b, offset);
    draft_buf_str(b, ")\">\n");
}

static void svg_group_end(void *ctx)
{
    draft_buf_str(ctx, "</g>\n");
}

static void svg_path(void *ctx, enum draft_style st, const struct path *p)
{
    struct draft_buf *b = ctx;

    open_path(b, st);
    path_d(b, p);
    draft_buf_str(b, "\"/>\n");
}

static void svg_poly(void *ctx, enum draft_style st, const struct vec *v, size_t n, int close)
{
    struct draft_buf *b = ctx;

    open_path(b, st);
    for (size_t i = 0; i < n; i++) {
        draft_buf_put(b, i ? "L" : "M", 1);
        pt2(b, v[i]);
    }
    if (close)
        draft_buf_put(b, "Z", 1);
    draft_buf_str(b, "\"/>\n");
}

static void svg_text(void *ctx, enum draft_font f, int centred, struct vec at, double angle,
                     const char *text)
{
    struct draft_buf *b = ctx;

    draft_buf_str(b, "<text class=\"");
    draft_buf_str(b, font_class[f]);
    draft_buf_str(b, centred ? " mid\" x=\"" : "\" x=\"");
    draft_buf_num(b, at.x);
    draft_buf_str(b, "\" y=\"");
    draft_buf_num(b, at.y);
    if (angle != 0.0) {
        draft_buf_str(b, "\" transform=\"rotate(");
        draft_buf_num(b, angle);
        draft_buf_put(b, " ", 1);
        pt2(b, at);
        draft_buf_put(b, ")", 1);
    }
    draft_buf_str(b, "\">");
    draft_buf_xml(b, text);
    draft_buf_str(b, "</text>\n");
}

static void rect_d(struct draft_buf *b, struct vec o, double w, double h)
{
    draft_buf_put(b, "M", 1);
    pt2(b, o);
    draft_buf_put(b, "H", 1);
    draft_buf_num(b, o.x + w);
    draft_buf_put(b, "V", 1);
    draft_buf_num(b, o.y + h);
    draft_buf_put(b, "H", 1);
    draft_buf_num(b, o.x);
    draft_buf_put(b, "Z", 1);
}

static void svg_frame(void *ctx, struct vec o, double w, double h, double width)
{
    struct draft_buf *b = ctx;

    draft_buf_str(b, "<path class=\"box\" fill-rule=\"evenodd\" d=\"");
    rect_d(b, vec_xy(o.x - width, o.y - width), w + 2.0 * width, h + 2.0 * width);
    draft_buf_put(b, " ", 1);
    rect_d(b, o, w, h);
    draft_buf_str(b, "\"/>\n");
}

static const char svg_style[] =
    "<style>\n"
    ".seam{fill:none;stroke:#000;stroke-width:0.6}\n"
    ".sa{fill:none;stroke:#000;stroke-width:0.4;stroke-dasharray:4 2}\n"
    ".dart{fill:none;stroke:#000;stroke-width:0.4}\n"
    ".help{fill:none;stroke:#777;stroke-width:0.3;stroke-dasharray:6 2 1 2}\n"
    ".notch{fill:none;stroke:#000;stroke-width:0.5}\n"
    ".grain{fill:none;stroke:#000;stroke-width:0.5}\n"
    ".arrow{fill:#000;stroke:none}\n"
    ".box{fill:#000;stroke:none}\n"
    "text{font-family:sans-serif;fill:#000}\n"
    ".t1{font-size:6px;font-weight:bold}\n"
    ".t2{font-size:4px}\n"
    ".note{font-size:3px}\n"
    ".mid{text-anchor:middle}\n"
    "</style>\n";

int draft_svg(const struct pattern *p, char **out, size_t *n)
{
    struct draft_buf b = {0};
    struct draft_canvas c = {&b, svg_group, svg_group_end, svg_path, svg_poly, svg_text, svg_frame};

    if (!p || !out || !n)
        return DRAFT_ERR_INTERNAL;
    buf_reserve(&b, 16384); /* a pattern is 5-9 KB: no regrowth */
    draft_buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"");
    draft_buf_num(&b, p->width);
    draft_buf_str(&b, "mm\" height=\"");
    draft_buf_num(&b, p->height);
    draft_buf_str(&b, "mm\" viewBox=\"0 0 ");
    pt2(&b, vec_xy(p->width, p->height));
    draft_buf_str(&b, "\">\n<title>");
    draft_buf_xml(&b, p->design->title);
    draft_buf_str(&b, " for ");
    draft_buf_xml(&b, p->model);
    draft_buf_str(&b, "</title>\n");
    draft_buf_put(&b, svg_style, sizeof svg_style - 1);
    draft_draw(p, &c);
    draft_buf_str(&b, "</svg>\n");
    return draft_buf_take(&b, out, n);
}
