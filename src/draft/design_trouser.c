/*
 * design_trouser.c - the trouser block for any body: a front and a back
 * leg, each cut as a mirrored pair. Our own construction.
 *
 * Frame per leg: x = 0 the crease (grainline), y = 0 the waist level at
 * the side, y down. On the seat line the leg's seat width runs from the
 * side to the centre seam, and the crotch extension from there to the
 * fork; the crease sits halfway between side and fork. Below the knee the
 * leg falls straight to the floor. The waist is a curve that leaves the
 * centre seam square (so left and right halves join smoothly) and meets the
 * side seam square; its chord direction fixes where the side waist lies,
 * and for a given direction the curve is the same shape at any size, so
 * the chord that makes the waist seam exactly its target is found in one
 * length evaluation.
 *
 * Fitting, in this order (every loop is draft_solve to 0.01 mm or better):
 *   1. front: the crotch extension so the front cross seam (centre waist
 *      down the straight, round the curve to the fork) = crossSeamFront;
 *      past a sensible extension the fork rises (to just under the seat
 *      line) or the centre waist moves;
 *   2. front: the waist direction that puts the side waist at y = 0;
 *   3. back: extension and fork drop together (2-D Newton, falling back
 *      to a bracketed drop search that refits the extension at each try)
 *      so that the back cross seam is crossSeam - crossSeamFront and the
 *      back inseam equals the front inseam (the back fork sits lower, as
 *      in tailoring);
 *   4. back: the side waist at y = 0 where the back outseam equals the
 *      front outseam; the back waist curve to it is longer than the waist
 *      seam by the intake of a back waist dart (the suppression a full
 *      seat needs). If that takes a dart over 40 % of the seam, the back
 *      crease moves towards the side (step 3 redone for each try) until a
 *      30 % dart matches. With no sensible dart, the back waist turns about
 *      the centre back instead.
 *
 * Invariants: waist seams (darts excluded) are exactly waist x (1 + ease)
 * / 2 for front plus back; seat widths are exactly seat x (1 + ease) / 2 for front plus back;
 * knee widths add up to knee x (1 + ease); inseams and outseams pair up.
 */
#include "draft/draft_impl.h"

static const char *const trouser_required[] = {
    "crossSeam",   "crossSeamFront",  "knee", "seat", "waist", "waistToFloor", "waistToKnee",
    "waistToSeat", "waistToUpperLeg", NULL,
};
static const char *const trouser_optional[] = {"seatBack", "waistBack", NULL};

#define EXT_MIN 0.1 /* crotch extension, in seat widths of the leg */
#define EXT_MAX 0.6
/* The back crease sits 45 % of the way from side to fork (the front's at
 * half way): the back thigh runs straighter, as in tailoring. */
#define BACK_CREASE_SHIFT 0.05

struct leg {
    double seat_w, waist_w, knee_w; /* widths of this leg's panel */
    double rise, slant;             /* centre waist: raised by rise, inset by slant */
    double ext, fork_y;             /* crotch extension, fork level */
    double dart;                    /* back waist dart intake (0: none) */
    double shift;                   /* crease off the side-fork middle, x (seat + ext) */
    double theta;                   /* direction of the waist chord, centre to side */
    struct vec woff;                /* side waist minus centre waist (leg_waist) */
    struct vec cw, xs, xside, f, kin, kout, hin, hout, wside, u;
};

struct trouser {
    double ys, yc, yk, yh; /* seat line, crotch level, knee, floor */
    double cross_f, cross_b;
    double in_f, out_f; /* front inseam and outseam: the back's targets */
    struct leg front, back;
};

/* Every point; the side waist keeps its offset from the centre waist. */
static void leg_points(const struct trouser *t, struct leg *g)
{
    double xs_c = 0.5 * (g->seat_w - g->ext) + g->shift * (g->seat_w + g->ext);
    double kh = 0.5 * g->knee_w;

    g->xs = vec_xy(xs_c, t->ys);
    g->xside = vec_xy(xs_c - g->seat_w, t->ys);
    g->f = vec_xy(xs_c + g->ext, g->fork_y);
    g->cw = vec_xy(xs_c - g->slant, -g->rise);
    g->u = vec_unit(vec_sub(g->xs, g->cw));
    g->kin = vec_xy(kh, t->yk);
    g->kout = vec_xy(-kh, t->yk);
    g->hin = vec_xy(kh, t->yh);
    g->hout = vec_xy(-kh, t->yh);
    g->wside = vec_add(g->cw, g->woff);
}

/* The waist from the side point to the centre waist: leaving the side
 * horizontally, arriving square to the centre seam. */
static struct seg waist_curve(const struct leg *g, struct vec side)
{
    double c = 0.35 * vec_dist(side, g->cw);
    return geom_seg_cubic(side, vec_xy(side.x + c, side.y),
                          vec_mad(g->cw, vec_xy(-g->u.y, g->u.x), c), g->cw);
}

/* Side waist for the chord direction theta, the waist seam exactly
 * waist_w long: the curve for a unit chord, scaled. */
static void leg_waist(struct leg *g)
{
    struct vec dir = vec_xy(cos(g->theta), sin(g->theta));
    struct seg unit = waist_curve(g, vec_add(g->cw, dir));

    g->woff = vec_mul(dir, g->waist_w / geom_seg_length(&unit));
    g->wside = vec_add(g->cw, g->woff);
}

static struct seg leg_crotch(const struct leg *g)
{
    double dy = g->f.y - g->xs.y;
    return geom_seg_cubic(g->xs, vec_mad(g->xs, g->u, 0.55 * dy),
                          vec_xy(g->f.x - 0.6 * g->ext, g->f.y), g->f);
}

static struct seg leg_inseam(const struct leg *g)
{
    double dy = g->kin.y - g->f.y;
    return geom_seg_cubic(g->f, vec_xy(g->f.x, g->f.y + 0.3 * dy),
                          vec_xy(g->kin.x, g->kin.y - 0.4 * dy), g->kin);
}

static struct seg leg_thigh(const struct leg *g)
{
    double dy = g->kout.y - g->xside.y;
    return geom_seg_cubic(g->kout, vec_xy(g->kout.x, g->kout.y - 0.35 * dy),
                          vec_xy(g->xside.x, g->xside.y + 0.35 * dy), g->xside);
}

static struct seg leg_hip(const struct leg *g)
{
    double dy = g->xside.y - g->wside.y;
    return geom_seg_cubic(g->xside, vec_xy(g->xside.x, g->xside.y - 0.35 * dy),
                          vec_xy(g->wside.x, g->wside.y + 0.4 * dy), g->wside);
}

static double leg_cross_len(const struct leg *g)
{
    struct seg c = leg_crotch(g);
    return vec_dist(g->cw, g->xs) + geom_seg_length(&c);
}

static double leg_inseam_len(const struct leg *g)
{
    struct seg s = leg_inseam(g);
    return geom_seg_length(&s) + (g->hin.y - g->kin.y);
}

static double leg_outseam_len(const struct leg *g)
{
    struct seg a = leg_thigh(g), b = leg_hip(g);
    return (g->hout.y - g->kout.y) + geom_seg_length(&a) + geom_seg_length(&b);
}

struct fit {
    const struct trouser *t;
    struct leg *g;
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

static double by_fork(double y, void *ctx)
{
    struct fit *f = ctx;
    f->g->fork_y = y;
    leg_points(f->t, f->g);
    return leg_cross_len(f->g);
}

/* Extension for the cross seam; past its sensible range the centre waist
 * moves instead. With fork_free, a seam too long even at the shortest
 * extension first raises the fork, as far as just under the seat line. */
static int leg_fit_cross(const struct trouser *t, struct leg *g, double target, int fork_free)
{
    struct fit f = {t, g};
    double lo = EXT_MIN * g->seat_w, hi = EXT_MAX * g->seat_w, x, r0 = g->rise;
    double top = t->ys + 10.0, fy = g->fork_y;

    if (by_ext(lo, &f) > target) {
        if (fork_free && fy > top && by_fork(top, &f) <= target) {
            if (draft_solve(by_fork, &f, top, fy, target, 0.01, &x))
                return -1;
            by_fork(x, &f);
            return 0;
        }
        by_fork(fy, &f);
        if (draft_solve(by_rise, &f, -0.4 * t->ys, r0, target, 0.01, &x))
            return -1;
        by_rise(x, &f);
    } else if (by_ext(hi, &f) < target) {
        if (draft_solve(by_rise, &f, r0, 0.6 * t->ys, target, 0.01, &x))
            return -1;
        by_rise(x, &f);
    } else {
        if (draft_solve(by_ext, &f, lo, hi, target, 0.01, &x))
            return -1;
        by_ext(x, &f);
    }
    return 0;
}

/* Side waist height, and outseam length, for a waist chord direction. */
static double by_theta_y(double theta, void *ctx)
{
    struct leg *g = ctx;
    g->theta = theta;
    leg_waist(g);
    return g->wside.y;
}

static double by_theta_out(double theta, void *ctx)
{
    struct leg *g = ctx;
    g->theta = theta;
    leg_waist(g);
    return g->xs.y - g->wside.y > 20.0 ? leg_outseam_len(g) : NAN;
}

/* Outseam with the side waist at (x, 0): the waist curve then decides the
 * dart (see trouser_fit). */
static double by_side_x(double x, void *ctx)
{
    struct leg *g = ctx;
    g->wside = vec_xy(x, 0.0);
    g->woff = vec_sub(g->wside, g->cw);
    return leg_outseam_len(g);
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
    if (leg_fit_cross(b->t, g, b->t->cross_b, 0))
        return NAN;
    return leg_inseam_len(g);
}

/* Residuals of the back for extension x[0] and fork drop x[1]: cross seam
 * and inseam minus their targets. */
static int back_residual(struct trouser *t, const double *x, double *r)
{
    struct leg *g = &t->back;

    g->ext = x[0];
    g->fork_y = t->yc + x[1];
    leg_points(t, g);
    r[0] = leg_cross_len(g) - t->cross_b;
    r[1] = leg_inseam_len(g) - t->in_f;
    return isfinite(r[0]) && isfinite(r[1]) ? 0 : -1;
}

/* Newton on both back unknowns at once (a few steps from a good start);
 * 0 when both residuals are under tolerance inside the allowed ranges. */
static int back_newton(struct trouser *t, double drop_lo, double drop_hi)
{
    struct leg *g = &t->back;
    double x[2] = {t->front.ext * g->seat_w / t->front.seat_w, 0.0}, r[2], ra[2], rb[2];
    const double h = 1e-3;

    for (int it = 0; it < 12; it++) {
        double xa[2] = {x[0] + h, x[1]}, xb[2] = {x[0], x[1] + h};
        if (back_residual(t, x, r))
            return -1;
        if (fabs(r[0]) < 0.002 && fabs(r[1]) < 0.004)
            return x[0] >= EXT_MIN * g->seat_w && x[0] <= EXT_MAX * g->seat_w && x[1] >= drop_lo &&
                           x[1] <= drop_hi
                       ? 0
                       : -1;
        if (back_residual(t, xa, ra) || back_residual(t, xb, rb))
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

/* Back extension and fork drop for the back cross seam and the inseam.
 * The back fork moves up at most 20 % of the crotch depth and stays under
 * the seat line; down at most 80 mm or halfway to the knee. */
static int back_balance(struct trouser *t)
{
    double lo = fmax(-0.2 * t->yc, t->ys + 5.0 - t->yc), hi = fmin(0.5 * (t->yk - t->yc), 80.0);
    struct back_fit bf = {t, t->back.rise};
    double drop;

    if (back_newton(t, lo, hi) == 0)
        return 0;
    if (draft_solve(back_inseam, &bf, lo, hi, t->in_f, 0.005, &drop)) /* the slow, sure way */
        return -1;
    back_inseam(drop, &bf);
    return 0;
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
    if (t->cross_f < 0.35 * cs || t->cross_f > 0.65 * cs)
        return draft_fail(msg, n, "crossSeamFront must be between 35 %% and 65 %% of crossSeam");
    t->front = (struct leg){.seat_w = (seat - sb) / 2.0 * (1.0 + DRAFT_TROUSER_SEAT_EASE),
                            .waist_w = (waist - wb) / 2.0 * (1.0 + DRAFT_TROUSER_WAIST_EASE),
                            .knee_w = 0.46 * knee,
                            .slant = 0.04 * t->ys,
                            .fork_y = t->yc,
                            .theta = GEOM_PI};
    t->back = (struct leg){.seat_w = sb / 2.0 * (1.0 + DRAFT_TROUSER_SEAT_EASE),
                           .waist_w = wb / 2.0 * (1.0 + DRAFT_TROUSER_WAIST_EASE),
                           .knee_w = 0.54 * knee,
                           .rise = 0.08 * t->ys,
                           .shift = BACK_CREASE_SHIFT,
                           .theta = GEOM_PI};
    t->back.slant = tan(10.0 * GEOM_PI / 180.0) * (t->ys + t->back.rise);
    return 0;
}

static double waist_len_at(double x, void *ctx)
{
    const struct leg *g = ctx;
    struct seg w = waist_curve(g, vec_xy(x, 0.0));
    return geom_seg_length(&w);
}

/* Back outseam for a crease shift s (the back rebalanced for it), with the
 * side waist at waist level where the back waist dart takes 30 % of the
 * waist seam. */
static double back_outseam_dart30(double s, void *ctx)
{
    struct trouser *t = ctx;
    struct leg *g = &t->back;
    double x;

    g->shift = s;
    if (back_balance(t) || draft_solve(waist_len_at, g, g->xside.x - g->seat_w,
                                       g->cw.x - 0.3 * g->waist_w, 1.3 * g->waist_w, 0.01, &x))
        return NAN;
    return by_side_x(x, g);
}

/* Side waist at waist level where the outseams match; the back waist curve
 * to it is longer than the seam by a dart's intake. 0 when that dart is
 * sensible (3 mm up to 40 % of the seam). */
static int back_dart(struct trouser *t)
{
    struct leg *g = &t->back;
    double x, hi = g->cw.x - 0.3 * g->waist_w;

    if (draft_solve(by_side_x, g, g->xside.x, hi, t->out_f, 0.02, &x))
        return -1;
    struct seg w = waist_curve(g, vec_xy(x, 0.0));
    double intake = geom_seg_length(&w) - g->waist_w;
    if (intake < 3.0 || intake > 0.4 * g->waist_w)
        return -1;
    by_side_x(x, g);
    g->dart = intake;
    return 0;
}

/* Back outseam. First with the side waist at waist level and a back waist
 * dart taking the suppression a full seat needs; if the dart would be too
 * big, the back crease moves towards the side until a 30 % dart matches
 * (the thigh then runs straighter, the back rebalanced each time);
 * with no sensible dart, the back waist turns about the centre back. */
static int back_outseam(struct trouser *t)
{
    struct leg *g = &t->back;
    double th, s, smax = BACK_CREASE_SHIFT + (g->kout.x - g->xside.x) / (g->seat_w + g->ext);

    g->dart = 0.0;
    if (back_dart(t) == 0)
        return 0;
    if (smax > BACK_CREASE_SHIFT && back_outseam_dart30(BACK_CREASE_SHIFT, t) > t->out_f &&
        draft_solve(back_outseam_dart30, t, BACK_CREASE_SHIFT, smax, t->out_f, 0.05, &s) == 0) {
        back_outseam_dart30(s, t);
        if (back_dart(t) == 0)
            return 0;
    }
    if (g->shift != BACK_CREASE_SHIFT) {
        g->shift = BACK_CREASE_SHIFT;
        if (back_balance(t))
            return -1;
    }
    if (draft_solve(by_theta_out, g, GEOM_PI - 1.2, GEOM_PI + 1.2, t->out_f, 0.005, &th))
        return -1;
    by_theta_out(th, g);
    return 0;
}

static int trouser_fit(struct trouser *t, char *msg, size_t n)
{
    double th;

    if (leg_fit_cross(t, &t->front, t->cross_f, 1))
        return draft_fail(msg, n, "crossSeamFront cannot be reached from these heights and seat");
    if (draft_solve(by_theta_y, &t->front, GEOM_PI - 1.2, GEOM_PI + 1.2, 0.0, 0.05, &th))
        return draft_fail(msg, n, "the front waist cannot reach the side (waist and seat)");
    by_theta_y(th, &t->front);
    t->in_f = leg_inseam_len(&t->front);
    t->out_f = leg_outseam_len(&t->front);
    if (t->front.xs.y - t->front.wside.y < 20.0)
        return draft_fail(msg, n, "waistToSeat is too short for this waist");
    if (back_balance(t))
        return draft_fail(msg, n,
                          "crossSeam and crossSeamFront cannot be balanced between front "
                          "and back inseams");
    if (back_outseam(t) || t->back.xs.y - t->back.wside.y < 20.0)
        return draft_fail(msg, n, "the back outseam cannot match the front (seat and waist)");
    return 0;
}

/* The back waist with its dart: the curve split around its middle (by arc
 * length), legs to a tip straight below the middle of the opening, the
 * edge over the dart peaked for a dart pressed towards the centre back. */
static int back_waist_dart(struct draft_part *pt, const struct trouser *t, const struct leg *g)
{
    struct seg w = waist_curve(g, g->wside), side, centre;
    double total = geom_seg_length(&w), ta = geom_seg_t_at_length(&w, 0.5 * (total - g->dart));
    double tb = geom_seg_t_at_length(&w, 0.5 * (total + g->dart));
    struct vec a, b, mid, down, tip, peak;
    struct path *e;

    side = geom_seg_sub(&w, 0.0, ta);
    centre = geom_seg_sub(&w, tb, 1.0);
    a = side.p[3];
    b = centre.p[0];
    mid = vec_lerp(a, b, 0.5);
    down = vec_perp(vec_unit(vec_sub(b, a)));
    if (down.y < 0.0)
        down = vec_mul(down, -1.0);
    tip = vec_mad(mid, down, fmin(120.0, 0.45 * (t->ys - mid.y)));
    e = draft_edge_add(pt, "waist_side", 1.0, 0, g->wside);
    geom_path_push(e, &side);
    e = draft_edge_add(pt, "waist_dart", 1.0, 0, a);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (draft_dart_peak(tip, a, b, geom_seg_tangent(&centre, 0.0), &peak) == 0)
        geom_path_line(e, peak);
    geom_path_line(e, b);
    e = draft_edge_add(pt, "waist_centre", 1.0, 0, b);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_push(e, &centre);
    draft_dart_add(pt, tip, a, b);
    return 0;
}

static int leg_part(struct pattern *p, const struct trouser *t, const struct leg *g, int front)
{
    struct draft_part *pt =
        draft_part_add(p, front ? "front" : "back", front ? "Front" : "Back", 2);
    struct seg waist = waist_curve(g, g->wside), crotch = leg_crotch(g), inseam = leg_inseam(g);
    struct seg thigh = leg_thigh(g), hip = leg_hip(g);
    struct path *e;
    int kind = front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    if (g->dart > 0.0) {
        int rc = back_waist_dart(pt, t, g);
        if (rc)
            return rc;
    } else {
        e = draft_edge_add(pt, "waist", 1.0, 0, g->wside);
        geom_path_push(e, &waist);
    }
    e = draft_edge_add(pt, "cross", 1.0, 0, g->cw);
    geom_path_line(e, g->xs);
    geom_path_push(e, &crotch);
    e = draft_edge_add(pt, "inseam", 1.0, 0, g->f);
    geom_path_push(e, &inseam);
    geom_path_line(e, g->hin);
    e = draft_edge_add(pt, "hem", DRAFT_TROUSER_HEM_FACTOR, 0, g->hin);
    geom_path_line(e, g->hout);
    e = draft_edge_add(pt, "outseam", 1.0, 0, g->hout);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, g->kout);
    geom_path_push(e, &thigh);
    geom_path_push(e, &hip);
    draft_notch_add(pt, "inseam", geom_seg_length(&inseam), kind);
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
        return DRAFT_ERR_INVALID;
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
