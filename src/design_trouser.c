/*
 * design_trouser.c - the trouser block for any body: a front and a back
 * leg, each cut as a mirrored pair. Our own construction.
 *
 * Frame per leg: x = 0 the crease (grainline), y = 0 the waist level, y
 * down. The seat line is split at the crease's centring: the leg's seat
 * width runs from the side to the centre seam, and the crotch extension
 * from there to the fork; the crease sits halfway between side and fork.
 * Below the knee the leg falls straight to the floor.
 *
 * Fitting, in this order (every loop is draft_solve to 0.01 mm or better):
 *   1. front: the crotch extension so the front cross seam (centre waist
 *      down the straight, round the curve to the fork) = crossSeamFront;
 *   2. back: extension and fork drop together (2-D Newton, falling back
 *      to a bracketed drop search that refits the extension at each try)
 *      so that the back cross seam is crossSeam - crossSeamFront and the
 *      back inseam equals the front inseam (the back fork sits lower, as
 *      in tailoring);
 *   3. back: the turn of the waist line about the centre back so that the
 *      back outseam equals the front outseam.
 * When the extension alone cannot reach a cross seam length (extreme
 * bodies), the centre waist is raised or lowered instead.
 *
 * Invariants: waist seams are exactly waist x (1 + ease) / 2 for front plus
 * back; seat widths are exactly seat x (1 + ease) / 2 for front plus back;
 * knee widths add up to knee x (1 + ease); inseams and outseams pair up.
 */
#include "draft_impl.h"
#include "err.h"

static const char *const trouser_required[] = {
    "crossSeam",   "crossSeamFront",  "knee", "seat", "waist", "waistToFloor", "waistToKnee",
    "waistToSeat", "waistToUpperLeg", NULL,
};
static const char *const trouser_optional[] = {"seatBack", "waistBack", NULL};

struct leg {
    double seat_w, waist_w, knee_w; /* widths of this leg's panel */
    double rise, slant;             /* centre waist: raised by rise, inset by slant */
    double ext, fork_y, phi;        /* crotch extension, fork level, waist turn (rad) */
    struct vec cw, xs, xside, f, kin, kout, hin, hout, wside, u, down;
};

struct trouser {
    double ys, yc, yk, yh; /* seat line, crotch level, knee, floor */
    double cross_f, cross_b;
    struct leg front, back;
};

static void leg_points(const struct trouser *t, struct leg *g)
{
    double xs_c = 0.5 * (g->seat_w - g->ext), kh = 0.5 * g->knee_w;

    g->xs = vec_xy(xs_c, t->ys);
    g->xside = vec_xy(xs_c - g->seat_w, t->ys);
    g->f = vec_xy(xs_c + g->ext, g->fork_y);
    g->cw = vec_xy(xs_c - g->slant, -g->rise);
    g->u = vec_unit(vec_sub(g->xs, g->cw));
    g->down = vec_rot(g->u, g->phi);
    g->wside = vec_mad(g->cw, vec_rot(vec_xy(-g->u.y, g->u.x), g->phi), g->waist_w);
    g->kin = vec_xy(kh, t->yk);
    g->kout = vec_xy(-kh, t->yk);
    g->hin = vec_xy(kh, t->yh);
    g->hout = vec_xy(-kh, t->yh);
}

static struct seg leg_crotch(const struct leg *g)
{
    double dy = g->f.y - g->xs.y;
    return seg_cubic(g->xs, vec_mad(g->xs, g->u, 0.55 * dy), vec_xy(g->f.x - 0.6 * g->ext, g->f.y),
                     g->f);
}

static struct seg leg_inseam(const struct leg *g)
{
    double dy = g->kin.y - g->f.y;
    return seg_cubic(g->f, vec_xy(g->f.x, g->f.y + 0.3 * dy), vec_xy(g->kin.x, g->kin.y - 0.4 * dy),
                     g->kin);
}

static struct seg leg_thigh(const struct leg *g)
{
    double dy = g->kout.y - g->xside.y;
    return seg_cubic(g->kout, vec_xy(g->kout.x, g->kout.y - 0.35 * dy),
                     vec_xy(g->xside.x, g->xside.y + 0.35 * dy), g->xside);
}

static struct seg leg_hip(const struct leg *g)
{
    double dy = g->xside.y - g->wside.y;
    return seg_cubic(g->xside, vec_xy(g->xside.x, g->xside.y - 0.35 * dy),
                     vec_mad(g->wside, g->down, 0.4 * dy), g->wside);
}

static double leg_cross_len(const struct leg *g)
{
    struct seg c = leg_crotch(g);
    return vec_dist(g->cw, g->xs) + seg_length(&c);
}

static double leg_inseam_len(const struct leg *g)
{
    struct seg s = leg_inseam(g);
    return seg_length(&s) + (g->hin.y - g->kin.y);
}

static double leg_outseam_len(const struct leg *g)
{
    struct seg a = leg_thigh(g), b = leg_hip(g);
    return (g->hout.y - g->kout.y) + seg_length(&a) + seg_length(&b);
}

struct fit {
    const struct trouser *t;
    struct leg *g;
    double target;
};

static double by_ext(double ext, void *ctx)
{
    struct fit *f = ctx;
    f->g->ext = ext;
    leg_points(f->t, f->g);
    return leg_cross_len(f->g);
}

static double by_rise(double rise, void *ctx)
{
    struct fit *f = ctx;
    f->g->rise = rise;
    leg_points(f->t, f->g);
    return leg_cross_len(f->g);
}

/* Extension (or, past its sensible range, the rise) for the cross seam. */
static int leg_fit_cross(const struct trouser *t, struct leg *g, double target)
{
    struct fit f = {t, g, target};
    double lo = 0.1 * g->seat_w, hi = 1.2 * g->seat_w, x, r0 = g->rise;

    if (by_ext(lo, &f) > target) {
        if (draft_solve(by_rise, &f, -0.4 * t->ys, r0, target, 0.002, &x))
            return -1;
        by_rise(x, &f);
    } else if (by_ext(hi, &f) < target) {
        if (draft_solve(by_rise, &f, r0, 0.6 * t->ys, target, 0.002, &x))
            return -1;
        by_rise(x, &f);
    } else {
        if (draft_solve(by_ext, &f, lo, hi, target, 0.002, &x))
            return -1;
        by_ext(x, &f);
    }
    return g->xs.y - g->wside.y > 20.0 ? 0 : -1;
}

struct back_fit {
    struct trouser *t;
    double rise0;
};

static double back_inseam(double drop, void *ctx)
{
    struct back_fit *b = ctx;
    struct leg *g = &b->t->back;

    g->fork_y = b->t->yc + drop;
    g->rise = b->rise0;
    if (leg_fit_cross(b->t, g, b->t->cross_b))
        return NAN;
    return leg_inseam_len(g);
}

static double back_outseam(double phi, void *ctx)
{
    struct trouser *t = ctx;

    t->back.phi = phi;
    leg_points(t, &t->back);
    return t->back.xs.y - t->back.wside.y > 20.0 ? leg_outseam_len(&t->back) : NAN;
}

static int trouser_frame(const struct draft_input *in, struct trouser *t, char *msg, size_t n)
{
    double seat = draft_m(in, "seat"), waist = draft_m(in, "waist"), cs = draft_m(in, "crossSeam");
    double sb = draft_has(in, "seatBack") ? draft_m(in, "seatBack") : 0.52 * seat;
    double wb = draft_has(in, "waistBack") ? draft_m(in, "waistBack") : 0.5 * waist;
    double knee = draft_m(in, "knee") * (1.0 + DRAFT_TROUSER_KNEE_EASE);

    t->yc = 1.04 * draft_m(in, "waistToUpperLeg");
    t->ys = fmin(draft_m(in, "waistToSeat"), 0.88 * t->yc);
    t->yk = draft_m(in, "waistToKnee");
    t->yh = draft_m(in, "waistToFloor");
    t->cross_f = draft_m(in, "crossSeamFront");
    t->cross_b = cs - t->cross_f;
    if (sb < 0.3 * seat || sb > 0.7 * seat)
        return draft_fail(msg, n, "seatBack must be between 30 %% and 70 %% of seat");
    if (wb < 0.3 * waist || wb > 0.7 * waist)
        return draft_fail(msg, n, "waistBack must be between 30 %% and 70 %% of waist");
    if (t->ys < 0.4 * t->yc)
        return draft_fail(msg, n, "waistToSeat is too short for waistToUpperLeg");
    if (t->yk < t->yc + 80.0 || t->yh < t->yk + 80.0)
        return draft_fail(msg, n,
                          "waistToUpperLeg, waistToKnee and waistToFloor must each be "
                          "well below the previous one");
    if (t->cross_f < 0.25 * cs || t->cross_f > 0.75 * cs)
        return draft_fail(msg, n, "crossSeamFront must be between 25 %% and 75 %% of crossSeam");
    t->front = (struct leg){.seat_w = (seat - sb) / 2.0 * (1.0 + DRAFT_TROUSER_SEAT_EASE),
                            .waist_w = (waist - wb) / 2.0 * (1.0 + DRAFT_TROUSER_WAIST_EASE),
                            .knee_w = 0.46 * knee,
                            .slant = 0.04 * t->ys,
                            .fork_y = t->yc};
    t->back = (struct leg){.seat_w = sb / 2.0 * (1.0 + DRAFT_TROUSER_SEAT_EASE),
                           .waist_w = wb / 2.0 * (1.0 + DRAFT_TROUSER_WAIST_EASE),
                           .knee_w = 0.54 * knee,
                           .rise = 0.08 * t->ys};
    t->back.slant = tan(10.0 * GEOM_PI / 180.0) * (t->ys + t->back.rise);
    return 0;
}

/* Residuals of the back for extension x[0] and fork drop x[1]: cross seam
 * and inseam minus their targets. */
static int back_residual(struct trouser *t, const double *x, double in_f, double *r)
{
    struct leg *g = &t->back;

    g->ext = x[0];
    g->fork_y = t->yc + x[1];
    leg_points(t, g);
    r[0] = leg_cross_len(g) - t->cross_b;
    r[1] = leg_inseam_len(g) - in_f;
    return isfinite(r[0]) && isfinite(r[1]) ? 0 : -1;
}

/* Newton on both back unknowns at once (a few steps from a good start);
 * 0 when both residuals are under tolerance with a sensible extension. */
static int back_newton(struct trouser *t, double in_f, double drop_lo, double drop_hi)
{
    struct leg *g = &t->back;
    double x[2] = {t->front.ext * g->seat_w / t->front.seat_w, 0.0}, r[2], ra[2], rb[2];
    const double h = 1e-3;

    for (int it = 0; it < 12; it++) {
        double xa[2] = {x[0] + h, x[1]}, xb[2] = {x[0], x[1] + h};
        if (back_residual(t, x, in_f, r))
            return -1;
        if (fabs(r[0]) < 0.002 && fabs(r[1]) < 0.004)
            return x[0] >= 0.1 * g->seat_w && x[0] <= 1.2 * g->seat_w && x[1] >= drop_lo &&
                           x[1] <= drop_hi && g->xs.y - g->wside.y > 20.0
                       ? 0
                       : -1;
        if (back_residual(t, xa, in_f, ra) || back_residual(t, xb, in_f, rb))
            return -1;
        double j00 = (ra[0] - r[0]) / h, j01 = (rb[0] - r[0]) / h;
        double j10 = (ra[1] - r[1]) / h, j11 = (rb[1] - r[1]) / h, det = j00 * j11 - j01 * j10;
        if (!(fabs(det) > 1e-12))
            return -1;
        double dx = (r[0] * j11 - r[1] * j01) / det, dy = (j00 * r[1] - j10 * r[0]) / det;
        double k = fmax(fabs(dx), fabs(dy)) > 50.0 ? 50.0 / fmax(fabs(dx), fabs(dy)) : 1.0;
        x[0] -= k * dx;
        x[1] -= k * dy;
    }
    return -1;
}

static int trouser_fit(struct trouser *t, char *msg, size_t n)
{
    struct back_fit bf = {t, t->back.rise};
    double drop, phi, in_f, out_f;

    if (leg_fit_cross(t, &t->front, t->cross_f))
        return draft_fail(msg, n, "crossSeamFront cannot be reached from these heights and seat");
    in_f = leg_inseam_len(&t->front);
    out_f = leg_outseam_len(&t->front);
    /* the back fork moves up at most 20 % of the crotch depth, and stays
     * well under the seat line; down at most 80 mm or halfway to the knee */
    double drop_lo = fmax(-0.2 * t->yc, -0.8 * (t->yc - t->ys));
    double drop_hi = fmin(0.5 * (t->yk - t->yc), 80.0);
    if (back_newton(t, in_f, drop_lo, drop_hi)) { /* the slow, bracketed way */
        if (draft_solve(back_inseam, &bf, drop_lo, drop_hi, in_f, 0.005, &drop))
            return draft_fail(msg, n,
                              "crossSeam and crossSeamFront cannot be balanced between "
                              "front and back inseams");
        back_inseam(drop, &bf);
    }
    if (draft_solve(back_outseam, t, -0.6, 0.6, out_f, 0.005, &phi))
        return draft_fail(msg, n, "the back outseam cannot match the front (seat and waist)");
    back_outseam(phi, t);
    return 0;
}

static int leg_part(struct pattern *p, const struct trouser *t, const struct leg *g, int front)
{
    struct draft_part *pt =
        draft_part_add(p, front ? "front" : "back", front ? "Front" : "Back", 2);
    struct seg crotch = leg_crotch(g), inseam = leg_inseam(g), thigh = leg_thigh(g),
               hip = leg_hip(g);
    struct path *e;
    int kind = front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK;

    if (!pt)
        return ERR_INTERNAL;
    e = draft_edge_add(pt, "waist", 1.0, 0, g->wside);
    path_line(e, g->cw);
    e = draft_edge_add(pt, "cross", 1.0, 0, g->cw);
    path_line(e, g->xs);
    path_push(e, &crotch);
    e = draft_edge_add(pt, "inseam", 1.0, 0, g->f);
    path_push(e, &inseam);
    path_line(e, g->hin);
    e = draft_edge_add(pt, "hem", DRAFT_TROUSER_HEM_FACTOR, 0, g->hin);
    path_line(e, g->hout);
    e = draft_edge_add(pt, "outseam", 1.0, 0, g->hout);
    if (!e)
        return ERR_INTERNAL;
    path_line(e, g->kout);
    path_push(e, &thigh);
    path_push(e, &hip);
    draft_notch_add(pt, "inseam", seg_length(&inseam), kind);
    draft_notch_add(pt, "outseam", t->yh - t->yk, kind);
    draft_level_add(pt, "seat", t->ys);
    draft_level_add(pt, "knee", t->yk);
    pt->grain_from = vec_xy(0.0, fmax(g->cw.y, g->wside.y) + 60.0);
    pt->grain_to = vec_xy(0.0, t->yh - 60.0);
    pt->title_at = vec_xy(0.0, t->yc + 0.4 * (t->yk - t->yc));
    return 0;
}

static int trouser_draft(struct pattern *p, const struct draft_input *in, char *msg, size_t n)
{
    struct trouser t;
    int rc;

    if (trouser_frame(in, &t, msg, n) || trouser_fit(&t, msg, n))
        return ERR_INVALID;
    rc = leg_part(p, &t, &t.front, 1);
    return rc ? rc : leg_part(p, &t, &t.back, 0);
}

const struct design draft_design_trouser = {
    .name = "trouser",
    .title = "Trouser block",
    .required = trouser_required,
    .optional = trouser_optional,
    .needs_breasts = -1,
    .draft = trouser_draft,
};
