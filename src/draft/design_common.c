/*
 * design_common.c - constructions the blocks share: the neckline fitted to
 * the neck measurement, the armhole through its pitch point, and the sleeve
 * whose cap is fitted to the armhole it is sewn into.
 *
 * Our own construction. Invariants: the neckline meets the centre line
 * square (so a part cut on the fold has no point at centre front/back) and
 * leaves the shoulder straight down; front and back armholes leave the side
 * seam square and meet the shoulder line square, so they run smoothly into
 * each other once sewn; the sleeve is symmetric about its centre line, its
 * two underarm seams are equal by construction, and its cap length is
 * solved to within 0.005 mm of (front + back armhole) x (1 + cap ease).
 * The cap is never flatter than DRAFT_CAP_MIN x its half width: the blocks
 * deepen an armhole too short for the arm (draft_sleeve_min_armhole).
 */
#include "draft/draft_impl.h"

struct seg draft_neck_curve(double width, double depth)
{
    return geom_seg_cubic(vec_xy(width, 0.0), vec_xy(width, GEOM_KAPPA * depth),
                          vec_xy(GEOM_KAPPA * width, depth), vec_xy(0.0, depth));
}

static double neck_len(double depth, void *ctx)
{
    struct seg s = draft_neck_curve(*(const double *)ctx, depth);
    return geom_seg_length(&s);
}

int draft_neck_fit(double target, double width, double back_depth, double *front_depth, char *msg,
                   size_t n)
{
    struct seg b = draft_neck_curve(width, back_depth);
    double want = target / 2.0 - geom_seg_length(&b);

    if (draft_solve(neck_len, &width, 0.5 * back_depth, 4.0 * width, want, 0.005, front_depth))
        return draft_fail(msg, n, "the neck measurement does not fit the neckline");
    return 0;
}

void draft_armhole_segs(struct vec armpit, struct vec pitch, struct vec shoulder, double slope,
                        struct seg s[2])
{
    double a = armpit.x - pitch.x, b = armpit.y - pitch.y, h = 0.4 * vec_dist(pitch, shoulder);

    s[0] = geom_seg_cubic(armpit, vec_xy(armpit.x - GEOM_KAPPA * a, armpit.y),
                          vec_xy(pitch.x, pitch.y + GEOM_KAPPA * b), pitch);
    s[1] = geom_seg_cubic(pitch, vec_xy(pitch.x, pitch.y - h),
                          vec_mad(shoulder, vec_xy(-sin(slope), cos(slope)), h), shoulder);
}

void draft_armhole(struct path *out, struct vec armpit, struct vec pitch, struct vec shoulder,
                   double slope, double *pitch_len)
{
    struct seg s[2];

    draft_armhole_segs(armpit, pitch, shoulder, slope, s);
    geom_path_push(out, &s[0]);
    geom_path_push(out, &s[1]);
    *pitch_len = geom_seg_length(&s[0]);
}

/* Half a sleeve cap in units of the half width (x) and the cap height (y),
 * from the top (0, 0) to the underarm (1, 1): round over the top, steep
 * through the middle, hollow towards the underarm. */
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

/* The front half (top to underarm) for half width b and height h; the
 * back half is its mirror image. */
static void cap_half(double b, double h, struct seg out[2])
{
    struct vec q[7];

    for (int i = 0; i < 7; i++)
        q[i] = vec_xy(b * cap_unit[i].x, h * cap_unit[i].y);
    out[0] = geom_seg_cubic(q[0], q[1], q[2], q[3]);
    out[1] = geom_seg_cubic(q[3], q[4], q[5], q[6]);
}

static double cap_len(double h, void *ctx)
{
    struct seg s[2];

    cap_half(*(const double *)ctx, h, s);
    return 2.0 * (geom_seg_length(&s[0]) + geom_seg_length(&s[1]));
}

static void mirror_rev(const struct seg *s, struct path *out)
{
    struct seg m = *s;

    for (int k = 0; k < 4; k++)
        m.p[k] = vec_xy(-s->p[3 - k].x, s->p[3 - k].y);
    geom_path_push(out, &m);
}

static int sleeve_edges(struct draft_part *pt, double b, double h,
                        const struct draft_sleeve_spec *s, double wrist)
{
    struct seg half[2];
    struct path *e;

    cap_half(b, h, half);
    e = draft_edge_add(pt, "cap", 1.0, 0, vec_xy(-b, h));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    mirror_rev(&half[1], e);
    mirror_rev(&half[0], e);
    geom_path_push(e, &half[0]);
    geom_path_push(e, &half[1]);
    e = draft_edge_add(pt, "underarm_front", 1.0, 0, vec_xy(b, h));
    geom_path_line(e, vec_xy(0.5 * wrist, s->length));
    e = draft_edge_add(pt, "wrist", 1.0, 0, vec_xy(0.5 * wrist, s->length));
    geom_path_line(e, vec_xy(-0.5 * wrist, s->length));
    e = draft_edge_add(pt, "underarm_back", 1.0, 0, vec_xy(-0.5 * wrist, s->length));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, vec_xy(-b, h));
    return 0;
}

double draft_sleeve_min_armhole(double width, double cap_ease)
{
    double b = 0.5 * width;
    return cap_len(DRAFT_CAP_MIN * b, &b) / (1.0 + cap_ease);
}

int draft_sleeve(struct pattern *p, const struct draft_sleeve_spec *s, char *msg, size_t n)
{
    double b = 0.5 * s->width, target = (s->armhole_front + s->armhole_back) * (1.0 + s->cap_ease);
    double wrist = fmin(s->wrist, 0.95 * s->width), h, cap;
    struct draft_part *pt;

    if (cap_len(0.1 * b, &b) > target)
        return draft_fail(msg, n,
                          "the sleeve is too wide for the armhole: biceps is too large "
                          "for this chest and shoulder");
    if (draft_solve(cap_len, &b, 0.1 * b, 3.0 * b, target, 0.005, &h))
        return draft_fail(msg, n, "no sleeve cap fits this armhole");
    if (s->length < h + 60.0)
        return draft_fail(msg, n, "shoulderToWrist is too short for the sleeve cap (%.0f mm high)",
                          h);
    pt = draft_part_add(p, "sleeve", "Sleeve", 2);
    if (!pt || sleeve_edges(pt, b, h, s, wrist))
        return DRAFT_ERR_INTERNAL;
    cap = cap_len(h, &b);
    draft_notch_add(pt, "cap", s->pitch_back * (1.0 + s->cap_ease), DRAFT_NOTCH_BACK);
    draft_notch_add(pt, "cap", s->armhole_back * (1.0 + s->cap_ease), DRAFT_NOTCH_FRONT);
    draft_notch_add(pt, "cap", cap - s->pitch_front * (1.0 + s->cap_ease), DRAFT_NOTCH_FRONT);
    draft_level_add(pt, "biceps", h);
    pt->grain_from = vec_xy(0.0, 0.45 * h);
    pt->grain_to = vec_xy(0.0, s->length - 40.0);
    pt->title_at = vec_xy(0.0, h + 0.3 * (s->length - h));
    return 0;
}
