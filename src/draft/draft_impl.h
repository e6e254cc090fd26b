/*
 * draft_impl.h - internal to the drafting engine (draft.c, design_*.c,
 * render_*.c): the designs of the registry, part builders, the 1-D solver
 * used by every fitting loop, and the constructions the blocks share (neck
 * curve, armhole, sleeve, dart peak). Not for handlers: use draft.h.
 */
#ifndef ATELIER_DRAFT_IMPL_H
#define ATELIER_DRAFT_IMPL_H

#include <stddef.h>

#include "atelier/draft.h"
#include "base/strbuf.h"

extern const struct design draft_design_body;
extern const struct design draft_design_bodice;
extern const struct design draft_design_trouser;
extern const struct design draft_design_tshirt;
extern const struct design draft_design_skirt;

/* Value of a measurement by name; 0 when absent or unknown. */
double draft_m(const struct draft_input *in, const char *name);
int draft_has(const struct draft_input *in, const char *name);
/* Fit option name of design d (draft_options): the value set in in, else
 * the row's default; a choice is its index. draft_run has checked set
 * values against d's range. 0 when d has no such option. */
double draft_opt(const struct draft_input *in, const struct design *d, const char *name);

/* Writes the sentence into msg and returns DRAFT_ERR_INVALID. */
int draft_fail(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Builders. draft_part_add returns NULL when the pattern is full;
 * draft_edge_add returns the new edge's path with its pen at start (NULL when
 * the part is full). A fold edge gets no allowance. */
struct draft_part *draft_part_add(struct pattern *p, const char *name, const char *title, int cut);
struct path *draft_edge_add(struct draft_part *pt, const char *name, double sa_factor, int fold,
                            struct vec start);
/* A notch on the named edge, along mm from its start; resolved when the
 * part is finished. Returns 0 or -1 when full or the edge is unknown. */
int draft_notch_add(struct draft_part *pt, const char *edge, double along, int kind);
void draft_dart_add(struct draft_part *pt, struct vec tip, struct vec a, struct vec b);
void draft_level_add(struct draft_part *pt, const char *name, double y);

/* Find x in [lo, hi] with |f(x) - target| <= tol, f monotone there
 * (Illinois regula falsi, 60 steps at most). f returns NAN where the
 * construction fails; such an end of the bracket moves to the edge of the
 * region where f is defined (bisection). 0, or -1 when target is not
 * between f(lo) and f(hi) or f fails inside. */
typedef double (*draft_fn)(double x, void *ctx);
int draft_solve(draft_fn f, void *ctx, double lo, double hi, double target, double tol, double *x);

/* Peak of the seam edge over a dart pressed towards leg b: the point on
 * the dart's bisector where the edge must turn so that, once the legs
 * tip-a and tip-b are sewn and the dart pressed towards b, the edge over
 * the folded dart lies along the seam past b (beyond_b: its direction
 * away from the dart, before closing). Returns
 * 0, or -1 when there is no such peak (the caller then runs the edge
 * straight from a to b). */
int draft_dart_peak(struct vec tip, struct vec a, struct vec b, struct vec beyond_b,
                    struct vec *peak);

/* Neckline from the high point of the shoulder (width, 0) to the centre
 * line (0, depth), leaving the HPS square to the shoulder line (which falls
 * at slope rad) and meeting the centre line square, so that front and back
 * necklines sewn at the shoulder, and the two halves at the fold, run on
 * smoothly. */
struct seg draft_neck_curve(double width, double depth, double slope);
/* Front depth such that 2 x (back + front neck) = target within 0.01 mm. */
int draft_neck_fit(double target, double width, double back_depth, double slope,
                   double *front_depth, char *msg, size_t n);

/* The two cubics of draft_armhole. */
void draft_armhole_segs(struct vec armpit, struct vec side, struct vec pitch, struct vec shoulder,
                        double slope, struct seg s[2]);
/* Armhole from the armpit (leaving square to the side seam, whose unit
 * direction down from the armpit is side) through the pitch point (passing
 * vertically) to the shoulder point (meeting the shoulder line, of slope
 * angle rad, square). Appends two cubics to out; *pitch_len gets the
 * length from the armpit to the pitch point. */
void draft_armhole(struct path *out, struct vec armpit, struct vec side, struct vec pitch,
                   struct vec shoulder, double slope, double *pitch_len);

struct draft_sleeve_spec {
    double width;                       /* at the biceps line */
    double length;                      /* cap top to the hem */
    double wrist;                       /* width at the wrist */
    double wrist_at;                    /* cap top to the wrist (0: length): a sleeve
                                         * shorter than that is cut from the same taper,
                                         * its hem wider than the wrist */
    double underarm;                    /* > 0: the hem this far below the biceps line,
                                         * whatever length says (a short sleeve) */
    double hem_factor;                  /* hem allowance in sa (0: 1) */
    double armhole_front, armhole_back; /* seam lengths on the bodies */
    double pitch_front, pitch_back;     /* armpit to pitch notch on the bodies */
    double cap_ease;                    /* cap = (front + back) x (1 + cap_ease) */
};
/* Width of the sleeve's hem (the wrist, or wider on a shorter sleeve) for
 * cap height h. */
double draft_sleeve_hem(const struct draft_sleeve_spec *s, double h);
/* The lowest cap a sleeve gets, in half widths at the biceps line. */
#define DRAFT_CAP_MIN 0.45
/* Front + back armhole length below which the sleeve s (width, wrist,
 * length, cap_ease) would need a cap lower than DRAFT_CAP_MIN: the blocks
 * deepen such armholes. */
double draft_sleeve_min_armhole(const struct draft_sleeve_spec *s);
/* Adds the "sleeve" part: cap height solved so the cap length is on target
 * within 0.01 mm; the cap and the wrist leave the underarm seams square
 * (the wrist's middle at length). DRAFT_ERR_INVALID with a message when it
 * cannot fit. */
int draft_sleeve(struct pattern *p, const struct draft_sleeve_spec *s, char *msg, size_t n);

/* Adds a band part (name, title: "waistband", "neckband"): a straight
 * strip cut on the fold (folded lengthwise, finished width wide), its
 * seam edge (named seam) length long (the seam it is sewn to, plus a
 * fastening's overlap, or stretched), then the short "end", the fold and
 * the short "start", with a notch of kinds[k] at at[k] mm along the seam
 * edge for each of the n seams it meets. DRAFT_ERR_INTERNAL when the
 * pattern is full. */
int draft_band(struct pattern *p, const char *name, const char *title, const char *seam,
               double length, double width, const double *at, const int *kinds, size_t n);

/* strbuf_take for the renderers (render_svg.c): a pattern past its
 * output bound is the engine's failure (DRAFT_ERR_INTERNAL), not a request
 * too large; out of memory is DRAFT_ERR_NOMEM. */
int draft_take(struct strbuf *b, char **out, size_t *n);

/* Notches every design gets from its drafted edges (marks.c): dart legs,
 * side seams, crotch, waist. Run after the design, before the parts are
 * finished. */
void draft_marks(struct pattern *p);
/* Title block of part i placed (title.c): needs the part's seam line,
 * grainline or fold, levels and darts; sets title_at and title_box. */
void draft_title_place(const struct pattern *p, struct draft_part *pt, size_t i);
/* The model's name as titles show it (cut to 40 characters, "..."). */
void draft_title_name(const struct pattern *p, char *out, size_t n);
/* A length as labels print it: "10 mm", or "5/8 in", "0.39 in". */
void draft_length_label(char *out, size_t n, double mm, enum draft_units units);
/* Warnings of a finished pattern (checks.c). */
void draft_checks(struct pattern *p, const struct draft_input *in);

/* Room for notch ticks when the pattern has no allowance. */
#define DRAFT_NOTCH_TICK 6.0

/* What the renderers draw, independent of the output format: draft_draw
 * walks a pattern and calls a canvas (render_svg.c, render_pdf.c), so the
 * SVG and the PDF show exactly the same lines and text. Coordinates are mm
 * in the current group (a part's own frame, or the layout). */
enum draft_style {
    DRAFT_STYLE_SEAM,  /* solid seam line */
    DRAFT_STYLE_SA,    /* dashed cutting line */
    DRAFT_STYLE_DART,  /* dart legs */
    DRAFT_STYLE_HELP,  /* dash-dot girth lines */
    DRAFT_STYLE_NOTCH, /* notch ticks */
    DRAFT_STYLE_GRAIN, /* grainline, fold bracket */
    DRAFT_STYLE_ARROW, /* filled arrowheads */
    DRAFT_STYLE_TIP    /* the circle marking a dart's tip */
};
enum draft_font { DRAFT_FONT_TITLE, DRAFT_FONT_TEXT, DRAFT_FONT_NOTE };

struct draft_canvas {
    void *ctx;
    void (*group)(void *ctx, const char *id, struct vec offset);
    void (*group_end)(void *ctx);
    void (*path)(void *ctx, enum draft_style st, const struct path *p);
    void (*poly)(void *ctx, enum draft_style st, const struct vec *v, size_t n, int close);
    /* centred: x is the middle of the text, else its start; angle in degrees */
    void (*text)(void *ctx, enum draft_font f, int centred, struct vec at, double angle,
                 const char *s);
    /* a black frame of the given width around the w x h rectangle at o */
    void (*frame)(void *ctx, struct vec o, double w, double h, double width);
};
void draft_draw(const struct pattern *p, const struct draft_canvas *c);

#endif
