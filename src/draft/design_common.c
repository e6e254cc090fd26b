/*
 * design_common.c - constructions the blocks share: the neckline fitted to
 * the neck measurement, the armhole through its pitch point, and the sleeve
 * whose cap is fitted to the armhole it is sewn into.
 *
 * Our own construction. Invariants: every curve that runs on across a seam
 * leaves that seam square, so two pieces sewn together make one smooth
 * curve (180 degrees across the seam), and a curve meets a fold square (90
 * degrees): the neckline leaves the shoulder line square and meets the
 * centre line square; front and back armholes leave the side seam square
 * and meet the shoulder line square; the sleeve cap and the wrist leave
 * both underarm seams square. The sleeve is symmetric about its centre
 * line, its two underarm seams are equal by construction, and its cap
 * length is solved to within 0.005 mm of (front + back armhole) x (1 + cap
 * ease). The cap is never flatter than DRAFT_CAP_MIN x its half width: the
 * blocks deepen an armhole too short for the arm (draft_sleeve_min_armhole).
 * A sleeve shorter than its wrist (sleeve_length, the T-shirt's short
 * sleeve) is cut from the same straight taper, so its hem is wider; at the
 * wrist's length it is the wrist. Bands (the waistband of the trouser and
 * the skirt, the T-shirt's neckband) are straight, cut on the fold, their
 * seam edge exactly the length asked.
 */
#include "draft/draft_impl.h"

struct seg draft_neck_curve(double width, double depth, double slope)
{
    struct vec hps = vec_xy(width, 0.0), square = vec_xy(-sin(slope), cos(slope));

    return geom_seg_cubic(hps, vec_mad(hps, square, GEOM_KAPPA * depth),
                          vec_xy(GEOM_KAPPA * width, depth), vec_xy(0.0, depth));
}

struct neck_ctx {
    double width, slope;
};

static double neck_len(double depth, void *ctx)
{
    const struct neck_ctx *c = ctx;
    struct seg s = draft_neck_curve(c->width, depth, c->slope);
    return geom_seg_length(&s);
}

int draft_neck_fit(double target, double width, double back_depth, double slope,
                   double *front_depth, char *msg, size_t n)
{
    struct neck_ctx c = {width, slope};
    struct seg b = draft_neck_curve(width, back_depth, slope);
    double want = target / 2.0 - geom_seg_length(&b);

    if (draft_solve(neck_len, &c, 0.5 * back_depth, 4.0 * width, want, 0.005, front_depth))
        return draft_fail(msg, n, "the neck measurement does not fit the neckline");
    return 0;
}

void draft_armhole_segs(struct vec armpit, struct vec side, struct vec pitch, struct vec shoulder,
                        double slope, struct seg s[2])
{
    double a = armpit.x - pitch.x, b = armpit.y - pitch.y, h = 0.4 * vec_dist(pitch, shoulder);
    struct vec in = vec_xy(-side.y, side.x); /* square to the side seam, inwards */

    s[0] = geom_seg_cubic(armpit, vec_mad(armpit, in, GEOM_KAPPA * a),
                          vec_xy(pitch.x, pitch.y + GEOM_KAPPA * b), pitch);
    s[1] = geom_seg_cubic(pitch, vec_xy(pitch.x, pitch.y - h),
                          vec_mad(shoulder, vec_xy(-sin(slope), cos(slope)), h), shoulder);
}

void draft_armhole(struct path *out, struct vec armpit, struct vec side, struct vec pitch,
                   struct vec shoulder, double slope, double *pitch_len)
{
    struct seg s[2];

    draft_armhole_segs(armpit, side, pitch, shoulder, slope, s);
    geom_path_push(out, &s[0]);
    geom_path_push(out, &s[1]);
    *pitch_len = geom_seg_length(&s[0]);
}

/* Half a sleeve cap in units of the half width (x) and the cap height (y),
 * from the top (0, 0) to the underarm (1, 1): round over the top, steep
 * through the middle, hollow towards the underarm. The last handle is
 * turned square to the underarm seam (cap_half). */
static const struct vec cap_unit[7] = {
    /* the inflection (0.5, 0.55) with both handles along (0.3, 1), so the
     * two curves meet smoothly */
    {0.0, 0.0},
    {0.28, 0.0},
    {0.5 - 0.23 * 0.3, 0.55 - 0.23},
    {0.5, 0.55},
    {0.5 + 0.21 * 0.3, 0.55 + 0.21},
    {0.72, 1.0},
    {1.0, 1.0},
};

/* Handle of the wrist curve, in half wrist widths: about a circular arc. */
#define WRIST_HANDLE (2.0 / 3.0)

/* What the sleeve's outline depends on besides the cap height. */
struct sleeve_shape {
    double b;        /* half width at the biceps line */
    double wx;       /* half width at the wrist */
    double length;   /* cap top to the hem, on the centre line */
    double wrist_at; /* cap top to the wrist: more than length on a shortened sleeve */
    double underarm; /* > 0: the hem this far below the biceps line instead */
};

/* Cap top to the hem for cap height h. */
static double sleeve_len(const struct sleeve_shape *c, double h)
{
    return c->underarm > 0.0 ? h + c->underarm : c->length;
}

/* Half width of the hem for cap height h: the wrist's, or on a sleeve
 * shorter than wrist_at where the straight taper from the biceps line to
 * the wrist crosses the hem (continuous in everything: at length =
 * wrist_at it is the wrist's). */
static double sleeve_hem_half(const struct sleeve_shape *c, double h)
{
    double len = sleeve_len(c, h);

    if (!(c->wrist_at > len) || !(c->wrist_at > h))
        return c->wx;
    return c->b + (c->wx - c->b) * fmax(len - h, 0.0) / (c->wrist_at - h);
}

/* The front underarm seam for cap height h: from (b, h) to the wrist
 * corner (*corner), along the returned unit direction. The wrist curve
 * leaves both underarm seams square, so (the sleeve narrowing to the
 * wrist) it rises towards the centre line, where it lies at length: its
 * corners sit lower by 0.75 x its handle's rise, which depends weakly on
 * the underarm's direction (fixed-point steps, at least three, until
 * converged; the direction returned is exactly that of the seam drawn). */
static struct vec sleeve_underarm(const struct sleeve_shape *c, double h, struct vec *corner)
{
    double wx = sleeve_hem_half(c, h), k = WRIST_HANDLE * wx, len = sleeve_len(c, h), yc = len;
    struct vec d = vec_unit(vec_xy(wx - c->b, yc - h));

    for (int i = 0; i < 3 || (i < 30 && fabs(len - 0.75 * k * d.x - yc) > 1e-9); i++) {
        yc = len - 0.75 * k * d.x;
        d = vec_unit(vec_xy(wx - c->b, yc - h));
    }
    *corner = vec_xy(wx, yc);
    return d;
}

/* The front half (top to underarm) for cap height h, arriving at the
 * underarm square to the underarm seam (direction d, down the seam); the
 * back half is its mirror image. */
static void cap_half(double b, double h, struct vec d, struct seg out[2])
{
    struct vec q[7];

    for (int i = 0; i < 7; i++)
        q[i] = vec_xy(b * cap_unit[i].x, h * cap_unit[i].y);
    q[5] = vec_mad(q[6], vec_xy(d.y, -d.x), -(1.0 - cap_unit[5].x) * b);
    out[0] = geom_seg_cubic(q[0], q[1], q[2], q[3]);
    out[1] = geom_seg_cubic(q[3], q[4], q[5], q[6]);
}

static double cap_len(double h, void *ctx)
{
    const struct sleeve_shape *c = ctx;
    struct vec corner, d = sleeve_underarm(c, h, &corner);
    struct seg s[2];

    cap_half(c->b, h, d, s);
    return 2.0 * (geom_seg_length(&s[0]) + geom_seg_length(&s[1]));
}

static void mirror_rev(const struct seg *s, struct path *out)
{
    struct seg m = *s;

    for (int k = 0; k < 4; k++)
        m.p[k] = vec_xy(-s->p[3 - k].x, s->p[3 - k].y);
    geom_path_push(out, &m);
}

static int sleeve_edges(struct draft_part *pt, const struct sleeve_shape *c, double h,
                        double hem_factor)
{
    struct vec corner, d = sleeve_underarm(c, h, &corner);
    struct vec out = vec_xy(-d.y, d.x), c1 = vec_mad(corner, out, WRIST_HANDLE * corner.x);
    double b = c->b;
    struct seg half[2];
    struct path *e;

    cap_half(b, h, d, half);
    e = draft_edge_add(pt, "cap", 1.0, 0, vec_xy(-b, h));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    mirror_rev(&half[1], e);
    mirror_rev(&half[0], e);
    geom_path_push(e, &half[0]);
    geom_path_push(e, &half[1]);
    e = draft_edge_add(pt, "underarm_front", 1.0, 0, vec_xy(b, h));
    geom_path_line(e, corner);
    e = draft_edge_add(pt, "wrist", hem_factor, 0, corner);
    geom_path_cubic(e, c1, vec_xy(-c1.x, c1.y), vec_xy(-corner.x, corner.y));
    e = draft_edge_add(pt, "underarm_back", 1.0, 0, vec_xy(-corner.x, corner.y));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, vec_xy(-b, h));
    return 0;
}

static struct sleeve_shape sleeve_shape(const struct draft_sleeve_spec *s)
{
    struct sleeve_shape c = {0.5 * s->width, 0.5 * fmin(s->wrist, 0.95 * s->width), s->length,
                             s->wrist_at > 0.0 ? s->wrist_at : s->length, s->underarm};
    return c;
}

double draft_sleeve_hem(const struct draft_sleeve_spec *s, double h)
{
    struct sleeve_shape c = sleeve_shape(s);
    return 2.0 * sleeve_hem_half(&c, h);
}

double draft_sleeve_min_armhole(const struct draft_sleeve_spec *s)
{
    struct sleeve_shape c = sleeve_shape(s);
    return cap_len(DRAFT_CAP_MIN * c.b, &c) / (1.0 + s->cap_ease);
}

int draft_sleeve(struct pattern *p, const struct draft_sleeve_spec *s, char *msg, size_t n)
{
    struct sleeve_shape c = sleeve_shape(s);
    double b = c.b, target = (s->armhole_front + s->armhole_back) * (1.0 + s->cap_ease), h, cap;
    double length;
    struct draft_part *pt;

    if (cap_len(0.1 * b, &c) > target)
        return draft_fail(msg, n,
                          "the sleeve is too wide for the armhole: biceps is too large "
                          "for this chest and shoulder");
    if (draft_solve(cap_len, &c, 0.1 * b, 3.0 * b, target, 0.005, &h))
        return draft_fail(msg, n, "no sleeve cap fits this armhole");
    length = sleeve_len(&c, h);
    if (length < h + 60.0)
        return draft_fail(msg, n, "shoulderToWrist is too short for the sleeve cap (%.0f mm high)",
                          h);
    pt = draft_part_add(p, "sleeve", "Sleeve", 2);
    if (!pt || sleeve_edges(pt, &c, h, s->hem_factor > 0.0 ? s->hem_factor : 1.0))
        return DRAFT_ERR_INTERNAL;
    cap = cap_len(h, &c);
    draft_notch_add(pt, "cap", s->pitch_back * (1.0 + s->cap_ease), DRAFT_NOTCH_BACK);
    draft_notch_add(pt, "cap", s->armhole_back * (1.0 + s->cap_ease), DRAFT_NOTCH_FRONT);
    draft_notch_add(pt, "cap", cap - s->pitch_front * (1.0 + s->cap_ease), DRAFT_NOTCH_FRONT);
    draft_level_add(pt, "biceps", h);
    pt->grain_from = vec_xy(0.0, 0.45 * h);
    pt->grain_to = vec_xy(0.0, length - 40.0);
    pt->title_at = vec_xy(0.0, h + 0.3 * (length - h));
    return 0;
}

int draft_band(struct pattern *p, const char *name, const char *title, const char *seam,
               double length, double width, const double *at, const int *kinds, size_t n)
{
    struct draft_part *pt = draft_part_add(p, name, title, 1);
    struct path *e;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    e = draft_edge_add(pt, seam, 1.0, 0, vec_xy(0.0, width));
    geom_path_line(e, vec_xy(length, width));
    e = draft_edge_add(pt, "end", 1.0, 0, vec_xy(length, width));
    geom_path_line(e, vec_xy(length, 0.0));
    e = draft_edge_add(pt, "fold", 0.0, 1, vec_xy(length, 0.0));
    geom_path_line(e, vec_xy(0.0, 0.0));
    e = draft_edge_add(pt, "start", 1.0, 0, vec_xy(0.0, 0.0));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, vec_xy(0.0, width));
    for (size_t i = 0; i < n; i++)
        draft_notch_add(pt, seam, at[i], kinds[i]);
    /* a band is narrower than a title block: the title goes under it,
     * clear of its allowance */
    pt->title_at = vec_xy(0.5 * length, width + p->sa + 30.0);
    return 0;
}
