/*
 * render_svg.c - a drafted pattern as SVG in true scale: width and height
 * in mm and a viewBox in mm, so one user unit prints as one millimetre.
 *
 * What is drawn is decided once for all formats in render_draw.c; this file
 * is the SVG canvas (CSS classes per line style) writing into a strbuf.
 *
 * Invariants: every piece of user text goes through strbuf_xml; numbers
 * are finite (draft_run refuses anything else) and written by strbuf_fixed
 * with at most SVG_DECIMALS decimals, never snprintf per number; the
 * buffer is sized once for a whole pattern (no regrowth on the hot path).
 */
#include "atelier/draft.h"
#include "draft/draft_impl.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/strbuf.h"

#define SVG_DECIMALS 2     /* 0.01 mm */
#define SVG_PRESIZE  16384 /* a pattern is 5-9 KB */

int draft_take(struct strbuf *b, char **out, size_t *n)
{
    int rc = strbuf_take(b, out, n);

    if (rc == 0)
        return DRAFT_OK;
    return rc == ERR_NOMEM ? DRAFT_ERR_NOMEM : DRAFT_ERR_INTERNAL;
}

/* ---- the SVG canvas ------------------------------------------------ */

static const char *const style_class[] = {"seam",  "sa",    "dart",  "help",
                                          "notch", "grain", "arrow", "tip"};
static const char *const font_class[] = {"t1", "t2", "note"};

static void pt2(struct strbuf *b, struct vec p)
{
    strbuf_fixed(b, p.x, SVG_DECIMALS);
    strbuf_putc(b, ' ');
    strbuf_fixed(b, p.y, SVG_DECIMALS);
}

static void path_d(struct strbuf *b, const struct path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->seg[i];
        if (i == 0 || vec_dist(s->p[0], p->seg[i - 1].p[3]) > 1e-6) {
            strbuf_put(b, i ? " M" : "M", i ? 2 : 1);
            pt2(b, s->p[0]);
        }
        if (s->kind == SEG_LINE) {
            strbuf_putc(b, 'L');
        } else {
            strbuf_putc(b, 'C');
            pt2(b, s->p[1]);
            strbuf_putc(b, ' ');
            pt2(b, s->p[2]);
            strbuf_putc(b, ' ');
        }
        pt2(b, s->p[3]);
    }
    if (p->n && vec_dist(geom_path_start(p), geom_path_end(p)) < 1e-6)
        strbuf_putc(b, 'Z');
}

static void open_path(struct strbuf *b, enum draft_style st)
{
    strbuf_puts(b, "<path class=\"");
    strbuf_puts(b, style_class[st]);
    strbuf_puts(b, "\" d=\"");
}

static void svg_group(void *ctx, const char *id, struct vec offset)
{
    struct strbuf *b = ctx;

    strbuf_puts(b, "<g id=\"");
    strbuf_xml(b, id);
    strbuf_puts(b, "\" transform=\"translate(");
    pt2(b, offset);
    strbuf_puts(b, ")\">\n");
}

static void svg_group_end(void *ctx)
{
    strbuf_puts(ctx, "</g>\n");
}

static void svg_path(void *ctx, enum draft_style st, const struct path *p)
{
    struct strbuf *b = ctx;

    open_path(b, st);
    path_d(b, p);
    strbuf_puts(b, "\"/>\n");
}

static void svg_poly(void *ctx, enum draft_style st, const struct vec *v, size_t n, int close)
{
    struct strbuf *b = ctx;

    open_path(b, st);
    for (size_t i = 0; i < n; i++) {
        strbuf_put(b, i ? "L" : "M", 1);
        pt2(b, v[i]);
    }
    if (close)
        strbuf_putc(b, 'Z');
    strbuf_puts(b, "\"/>\n");
}

static void svg_text(void *ctx, enum draft_font f, int centred, struct vec at, double angle,
                     const char *text)
{
    struct strbuf *b = ctx;

    strbuf_puts(b, "<text class=\"");
    strbuf_puts(b, font_class[f]);
    strbuf_puts(b, centred ? " mid\" x=\"" : "\" x=\"");
    strbuf_fixed(b, at.x, SVG_DECIMALS);
    strbuf_puts(b, "\" y=\"");
    strbuf_fixed(b, at.y, SVG_DECIMALS);
    if (angle != 0.0) {
        strbuf_puts(b, "\" transform=\"rotate(");
        strbuf_fixed(b, angle, SVG_DECIMALS);
        strbuf_putc(b, ' ');
        pt2(b, at);
        strbuf_putc(b, ')');
    }
    strbuf_puts(b, "\">");
    strbuf_xml(b, text);
    strbuf_puts(b, "</text>\n");
}

static void rect_d(struct strbuf *b, struct vec o, double w, double h)
{
    strbuf_putc(b, 'M');
    pt2(b, o);
    strbuf_putc(b, 'H');
    strbuf_fixed(b, o.x + w, SVG_DECIMALS);
    strbuf_putc(b, 'V');
    strbuf_fixed(b, o.y + h, SVG_DECIMALS);
    strbuf_putc(b, 'H');
    strbuf_fixed(b, o.x, SVG_DECIMALS);
    strbuf_putc(b, 'Z');
}

static void svg_frame(void *ctx, struct vec o, double w, double h, double width)
{
    struct strbuf *b = ctx;

    strbuf_puts(b, "<path class=\"box\" fill-rule=\"evenodd\" d=\"");
    rect_d(b, vec_xy(o.x - width, o.y - width), w + 2.0 * width, h + 2.0 * width);
    strbuf_putc(b, ' ');
    rect_d(b, o, w, h);
    strbuf_puts(b, "\"/>\n");
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
    ".tip{fill:none;stroke:#000;stroke-width:0.4}\n"
    ".box{fill:#000;stroke:none}\n"
    "text{font-family:sans-serif;fill:#000}\n"
    ".t1{font-size:6px;font-weight:bold}\n"
    ".t2{font-size:4px}\n"
    ".note{font-size:3px}\n"
    ".mid{text-anchor:middle}\n"
    "</style>\n";

int draft_svg(const struct pattern *p, char **out, size_t *n)
{
    struct strbuf b = STRBUF_INIT(LIMIT_SVG_BYTES);
    struct draft_canvas c = {&b, svg_group, svg_group_end, svg_path, svg_poly, svg_text, svg_frame};

    if (!p || !out || !n)
        return DRAFT_ERR_INTERNAL;
    strbuf_reserve(&b, SVG_PRESIZE); /* a failure is sticky: seen at the end */
    strbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"");
    strbuf_fixed(&b, p->width, SVG_DECIMALS);
    strbuf_puts(&b, "mm\" height=\"");
    strbuf_fixed(&b, p->height, SVG_DECIMALS);
    strbuf_puts(&b, "mm\" viewBox=\"0 0 ");
    pt2(&b, vec_xy(p->width, p->height));
    strbuf_puts(&b, "\">\n<title>");
    strbuf_xml(&b, p->design->title);
    strbuf_puts(&b, " for ");
    strbuf_xml(&b, p->model);
    strbuf_puts(&b, "</title>\n");
    strbuf_put(&b, svg_style, sizeof svg_style - 1);
    draft_draw(p, &c);
    strbuf_puts(&b, "</svg>\n");
    return draft_take(&b, out, n);
}
