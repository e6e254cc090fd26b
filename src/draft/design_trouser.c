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
 *      line, then the centre waist moves down) or the centre waist rises;
 *   2. front: the waist direction that puts the side waist at y = 0;
 *   3. back: the centre seam's rise and lean follow the ratio of the cross
 *      seams (from the front's at 0.88 to the tailoring tilt at 1.12);
 *      extension and fork drop together (2-D Newton, falling back to a
 *      bracketed search along the inseams' balance) so that the back cross
 *      seam is crossSeam - crossSeamFront and the back inseam equals the
 *      front inseam. The back extension is at least the front's and the
 *      back fork no higher than the front fork: past those limits the
 *      centre back waist moves down (to BACK_DROP), then both legs share a
 *      shorter extension, the centre front waist rising (share_ext); a
 *      back inseam short even with the forks level (a narrow back) moves
 *      the back crease towards the side instead of raising the fork;
 *   4. back: a waist dart takes a third of the back's waist suppression,
 *      and the waist, that much longer than its seam, turns about the
 *      centre back until the back outseam equals the front's.
 * Each rule is continuous: where one branch ends the next begins with the
 * same pattern, so every point is a continuous function of the body.
 *
 * Fit options (options.c): seat_ease, waist_ease, leg_length (the hem
 * above or below the floor), leg_shape (the hem 1, 0.8 or 1.25 knee widths
 * wide, the leg seams straight from the knee; a shaped hem is curved to
 * leave both leg seams square), waistband (a straight band, folded, the
 * two waist seams plus DRAFT_WAISTBAND_OVERLAP long: draft_band).
 *
 * Invariants: waist seams (darts excluded) are exactly waist x (1 + ease)
 * / 2 for front plus back; seat widths are exactly seat x (1 + ease) / 2
 * for front plus back; knee widths add up to knee x (1 + ease); inseams
 * and outseams pair up; the back crotch extension is at least the front's
 * and the back fork no higher; the waist meets the side seam and the
 * centre seam square, the crotch curve meets the inseam square, the hem
 * both leg seams, and the back waist runs on through its sewn dart.
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
/* The back's centre seam follows the ratio of the cross seams (back /
 * front): at BACK_RATIO_HI or more, the centre back waist rises BACK_RISE
 * x waistToSeat above the side waist and the seam leans BACK_SLANT degrees,
 * as in tailoring; at BACK_RATIO_LO or less, like the front (no rise,
 * FRONT_SLANT x waistToSeat); in proportion between (a ramp wide enough
 * that 1 mm of cross seam tilts the seam little). */
#define BACK_RATIO_LO 0.88
#define BACK_RATIO_HI 1.12
#define BACK_RISE     0.08
#define BACK_SLANT    10.0
#define FRONT_SLANT   0.04
/* The lowest the centre back waist goes below the side waist, in
 * waistToSeat, to give the back the front's crotch extension; past it the
 * front's extension shrinks and its centre waist rises (share_ext). */
#define BACK_DROP 0.1
/* The back waist dart's share of the back's waist suppression, and the
 * largest dart, in back waist seams; a dart narrower than DART_MIN mm is
 * not drawn (the seam is that much longer). */
#define BACK_DART (1.0 / 3.0)
#define DART_MAX  0.35
#define DART_MIN  0.02

struct leg {
    double seat_w, waist_w, knee_w; /* widths of this leg's panel */
    double rise, slant;             /* centre waist: raised by rise, inset by slant */
    double rise0;                   /* the rise the back starts from (trouser_frame) */
    double ext, fork_y;             /* crotch extension, fork level */
    double dart;                    /* back waist dart intake (0: none) */
    double shift;                   /* crease off the side-fork middle, x (seat + ext) */
    double theta;                   /* direction of the waist chord, centre to side */
    struct vec woff;                /* side waist minus centre waist (leg_waist) */
    struct vec cw, xs, xside, f, kin, kout, hin, hout, wside, u;
};

struct trouser {
    double ys, yc, yk, yh; /* seat line, crotch level, knee, hem (the floor by default) */
    double hem_k;          /* hem width in knee widths (leg_shape) */
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
    g->hin = vec_xy(kh * t->hem_k, t->yh);
    g->hout = vec_xy(-kh * t->hem_k, t->yh);
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

/* Side waist for the chord direction theta, the waist curve exactly the
 * waist seam plus the dart long: the curve for a unit chord, scaled. */
static void leg_waist(struct leg *g)
{
    struct vec dir = vec_xy(cos(g->theta), sin(g->theta));
    struct seg unit = waist_curve(g, vec_add(g->cw, dir));

    g->woff = vec_mul(dir, (g->waist_w + g->dart) / geom_seg_length(&unit));
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
    return geom_seg_length(&s) + vec_dist(g->kin, g->hin);
}

static double leg_outseam_len(const struct leg *g)
{
    struct seg a = leg_thigh(g), b = leg_hip(g);
    return vec_dist(g->hout, g->kout) + geom_seg_length(&a) + geom_seg_length(&b);
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

/* The front's extension for its cross seam; past its sensible range the
 * centre waist moves instead, except that a seam too long even at the
 * shortest extension first raises the fork, as far as just under the seat
 * line (then the centre waist goes down). */
static int leg_fit_cross(const struct trouser *t, struct leg *g, double target)
{
    struct fit f = {t, g};
    double lo = EXT_MIN * g->seat_w, hi = EXT_MAX * g->seat_w, x, r0 = g->rise;
    double top = t->ys + 10.0, fy = g->fork_y;

    if (by_ext(lo, &f) > target) {
        if (fy > top) {
            if (by_fork(top, &f) <= target) {
                if (draft_solve(by_fork, &f, top, fy, target, 0.01, &x))
                    return -1;
                by_fork(x, &f);
                return 0;
            }
            fy = top; /* the fork as high as it goes, and the centre waist lower */
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

/* The back's balance: for an extension, the fork drop below the front
 * fork and the crease shift that make the back inseam equal to the
 * front's. */
struct back_fit {
    struct trouser *t;
    double ext, drop; /* held while the drop, or the shift, is solved */
    double drop_hi;   /* the deepest drop allowed */
    double shift;     /* the crease shift asked for (back_balance's caller) */
};

/* Back inseam for extension ext and the fork drop below the front fork. */
static double back_inseam_at(struct trouser *t, double ext, double drop)
{
    struct leg *g = &t->back;

    g->ext = ext;
    g->fork_y = t->front.fork_y + drop;
    leg_points(t, g);
    return leg_inseam_len(g);
}

static double by_drop_inseam(double drop, void *ctx)
{
    struct back_fit *b = ctx;
    return back_inseam_at(b->t, b->ext, drop);
}

static double by_shift_inseam(double shift, void *ctx)
{
    struct back_fit *b = ctx;
    b->t->back.shift = shift;
    return back_inseam_at(b->t, b->ext, b->drop);
}

/* The back cross seam with extension ext, the inseams balanced: by the
 * fork's drop (0 to drop_hi) at the crease shift asked for; where even no
 * drop leaves the back inseam short (a narrow back), the fork level with
 * the front's and the crease moved towards the side (the fork further
 * from it); where the deepest drop leaves it long, the fork at its lowest
 * and the crease moved towards the fork. Continuous in ext (each regime
 * starts where the previous ends), and the cross seam grows with ext
 * (translation moves nothing of it). Leaves the back drafted so. */
static double by_ext_balanced(double ext, void *ctx)
{
    struct back_fit *b = ctx;
    struct trouser *t = b->t;
    double x;

    b->ext = ext;
    t->back.shift = b->shift;
    if (back_inseam_at(t, ext, 0.0) < t->in_f) {
        b->drop = 0.0;
        if (draft_solve(by_shift_inseam, b, b->shift, 0.45, t->in_f, 0.005, &x))
            return NAN;
        by_shift_inseam(x, b);
    } else if (back_inseam_at(t, ext, b->drop_hi) > t->in_f) {
        b->drop = b->drop_hi;
        if (draft_solve(by_shift_inseam, b, -0.25, b->shift, t->in_f, 0.005, &x))
            return NAN;
        by_shift_inseam(x, b);
    } else {
        if (draft_solve(by_drop_inseam, b, 0.0, b->drop_hi, t->in_f, 0.005, &x))
            return NAN;
        back_inseam_at(t, ext, x);
    }
    return leg_cross_len(&t->back);
}

/* Residuals of the back for extension x[0] and fork drop x[1] (below the
 * front fork): cross seam and inseam minus their targets. */
static int back_residual(struct trouser *t, const double *x, double *r)
{
    r[1] = back_inseam_at(t, x[0], x[1]) - t->in_f;
    r[0] = leg_cross_len(&t->back) - t->cross_b;
    return isfinite(r[0]) && isfinite(r[1]) ? 0 : -1;
}

/* Newton on both back unknowns at once (a few steps from a good start);
 * 0 when both residuals are under tolerance with the extension in
 * [ext_lo, ext_hi] and the drop in [0, drop_hi]. */
static int back_newton(struct trouser *t, double ext_lo, double ext_hi, double drop_hi)
{
    struct leg *g = &t->back;
    double x[2] = {fmax(t->front.ext * g->seat_w / t->front.seat_w, ext_lo), 0.0}, r[2], ra[2],
           rb[2];
    const double h = 1e-3;

    for (int it = 0; it < 12; it++) {
        double xa[2] = {x[0] + h, x[1]}, xb[2] = {x[0], x[1] + h};
        if (back_residual(t, x, r))
            return -1;
        if (fabs(r[0]) < 0.002 && fabs(r[1]) < 0.004)
            return x[0] >= ext_lo && x[0] <= ext_hi && x[1] >= 0.0 && x[1] <= drop_hi ? 0 : -1;
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

/* Back extension, fork drop, crease and centre waist for the back cross
 * seam and an inseam equal to the front's (by_ext_balanced). The extension
 * is at least the front's (and EXT_MIN x the seat width, at most EXT_MAX
 * x); the fork is no higher than the front fork and at most 80 mm (or
 * halfway to the knee) lower. Along the inseams' balance the cross seam
 * grows with the extension: it is solved there with the centre waist where
 * the cross seams' ratio puts it (trouser_frame); past either end of the
 * extension's range the extension stays at that end and the centre back
 * waist moves instead: down at most BACK_DROP x waistToSeat with share
 * (returning 1 when that is not enough: the back cannot reach the front's
 * extension, see share_ext), 0.4 x without. The crease shift the caller
 * set is where the balance starts. Every branch meets the next where it
 * ends: no jumps. 0, 1, or -1 when nothing fits. */
static int back_balance(struct trouser *t, int share)
{
    struct leg *g = &t->back;
    struct back_fit b = {t, 0.0, 0.0, fmin(0.5 * (t->yk - t->front.fork_y), 80.0), g->shift};
    struct fit f = {t, g};
    double lo = fmax(t->front.ext, EXT_MIN * g->seat_w), hi = fmax(EXT_MAX * g->seat_w, lo), x, r;
    double deepest = (share ? BACK_DROP : 0.4) * t->ys;

    g->rise = g->rise0;
    if (back_newton(t, lo, hi, b.drop_hi) == 0)
        return 0;
    g->shift = b.shift;
    if (!isfinite(r = by_ext_balanced(lo, &b)))
        return -1;
    if (r > t->cross_b) {
        x = lo;
    } else if ((r = by_ext_balanced(hi, &b)) < t->cross_b) {
        x = hi;
    } else {
        if (draft_solve(by_ext_balanced, &b, lo, hi, t->cross_b, 0.005, &x))
            return -1;
        return isfinite(by_ext_balanced(x, &b)) ? 0 : -1;
    }
    if (!isfinite(by_ext_balanced(x, &b)))
        return -1;
    if (share && r > t->cross_b && by_rise(-deepest, &f) > t->cross_b)
        return 1; /* the back cannot reach the front's extension */
    if (r > t->cross_b ? draft_solve(by_rise, &f, -deepest, g->rise0, t->cross_b, 0.01, &x)
                       : draft_solve(by_rise, &f, g->rise0, 0.6 * t->ys, t->cross_b, 0.01, &x))
        return -1;
    by_rise(x, &f);
    return 0;
}

/* The front's inseam and outseam, the back's targets, once its cross seam
 * is fitted: the waist turned so the side waist is at waist level. */
static int front_finish(struct trouser *t)
{
    double th;

    if (draft_solve(by_theta_y, &t->front, GEOM_PI - 1.2, GEOM_PI + 1.2, 0.0, 0.05, &th))
        return -1;
    by_theta_y(th, &t->front);
    t->in_f = leg_inseam_len(&t->front);
    t->out_f = leg_outseam_len(&t->front);
    return 0;
}

/* For share_ext: the back cross seam when both legs have the extension
 * ext, the front's centre waist raised to keep its cross seam and the
 * back's lowered below BACK_DROP as much, its fork balancing the inseams
 * (from the crease where trouser_fit's first balance starts). */
static double by_shared_ext(double ext, void *ctx)
{
    struct trouser *t = ctx;
    struct fit f = {t, &t->front};
    struct back_fit b = {t, 0.0, 0.0, fmin(0.5 * (t->yk - t->front.fork_y), 80.0),
                         BACK_CREASE_SHIFT};
    double rise;

    t->front.ext = ext;
    if (draft_solve(by_rise, &f, t->front.rise0, 0.6 * t->ys, t->cross_f, 0.005, &rise))
        return NAN;
    by_rise(rise, &f);
    t->in_f = leg_inseam_len(&t->front);
    t->back.rise = -BACK_DROP * t->ys - (rise - t->front.rise0);
    return by_ext_balanced(ext, &b);
}

/* A back cross seam too short for the front's crotch extension even with
 * the centre back waist BACK_DROP below the side: both legs take the same,
 * shorter extension, solved for the back cross seam, the front's centre
 * waist rising to keep its cross seam and the back's dropping as much
 * further (the difference shared). At the shortest extension (EXT_MIN),
 * or when the back's own shortest is the front's, only the centre back
 * goes on down. Where this branch starts (the back just at its lowest) it
 * gives what back_balance gives. */
static int share_ext(struct trouser *t)
{
    double lo = EXT_MIN * fmax(t->front.seat_w, t->back.seat_w), hi = t->front.ext, ext, c;
    struct fit f = {t, &t->back};

    t->back.shift = BACK_CREASE_SHIFT;
    if (!(lo < hi))
        return back_balance(t, 0) ? -1 : front_finish(t);
    if (!isfinite(c = by_shared_ext(lo, t)))
        return -1;
    if (c > t->cross_b) {
        if (draft_solve(by_rise, &f, -0.5 * t->ys, t->back.rise, t->cross_b, 0.01, &c))
            return -1;
        by_rise(c, &f);
    } else if (draft_solve(by_shared_ext, t, lo, hi, t->cross_b, 0.005, &ext) ||
               !isfinite(by_shared_ext(ext, t))) {
        return -1;
    }
    return front_finish(t);
}

/* Hem width in knee widths, by leg_shape: straight, slim, wide. */
static const double hem_widths[] = {1.0, 0.8, 1.25};

static int trouser_frame(const struct draft_input *in, struct trouser *t, char *msg, size_t n)
{
    double seat = draft_m(in, "seat"), waist = draft_m(in, "waist"), cs = draft_m(in, "crossSeam");
    double sb = draft_has(in, "seatBack") ? draft_m(in, "seatBack") : 0.52 * seat;
    double wb = draft_has(in, "waistBack") ? draft_m(in, "waistBack") : 0.5 * waist;
    double knee = draft_m(in, "knee") * (1.0 + DRAFT_TROUSER_KNEE_EASE);
    double seat_ease = 0.01 * draft_opt(in, &draft_design_trouser, "seat_ease");
    double waist_ease = 0.01 * draft_opt(in, &draft_design_trouser, "waist_ease");

    t->yc = 1.04 * draft_m(in, "waistToUpperLeg");
    t->ys = fmin(draft_m(in, "waistToSeat"), 0.88 * t->yc);
    t->yk = draft_m(in, "waistToKnee");
    t->yh = draft_m(in, "waistToFloor") + draft_opt(in, &draft_design_trouser, "leg_length");
    t->hem_k = hem_widths[(int)draft_opt(in, &draft_design_trouser, "leg_shape")];
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
                          "waistToUpperLeg, waistToKnee and waistToFloor (with leg_length) "
                          "must each be well below the previous one");
    if (t->cross_f < 0.35 * cs || t->cross_f > 0.65 * cs)
        return draft_fail(msg, n, "crossSeamFront must be between 35 %% and 65 %% of crossSeam");
    t->front = (struct leg){.seat_w = (seat - sb) / 2.0 * (1.0 + seat_ease),
                            .waist_w = (waist - wb) / 2.0 * (1.0 + waist_ease),
                            .knee_w = 0.46 * knee,
                            .slant = FRONT_SLANT * t->ys,
                            .fork_y = t->yc,
                            .theta = GEOM_PI};
    /* the back's centre seam follows the ratio of the cross seams */
    double q = t->cross_b / t->cross_f;
    double k = fmin(fmax((q - BACK_RATIO_LO) / (BACK_RATIO_HI - BACK_RATIO_LO), 0.0), 1.0);
    double lean = atan(FRONT_SLANT) + k * (BACK_SLANT * GEOM_PI / 180.0 - atan(FRONT_SLANT));
    t->back = (struct leg){.seat_w = sb / 2.0 * (1.0 + seat_ease),
                           .waist_w = wb / 2.0 * (1.0 + waist_ease),
                           .knee_w = 0.54 * knee,
                           .rise = k * BACK_RISE * t->ys,
                           .shift = BACK_CREASE_SHIFT,
                           .theta = GEOM_PI};
    t->back.rise0 = t->back.rise;
    t->back.slant = tan(lean) * (t->ys + t->back.rise);
    return 0;
}

/* Back outseam and waist dart, by one continuous rule. The back's waist
 * suppression is what the waist curve from the centre back to the side
 * waist straight over the seat's side has more than the waist seam; the
 * back waist dart takes BACK_DART of it (at most DART_MAX of the seam,
 * none when there is no suppression), the side seam the rest: the waist
 * curve is the seam plus the dart long, turned about the centre back so
 * that the outseam equals the front's. The outseam follows the side
 * waist's height one for one, so a small change moves it little (its
 * horizontal place, with the hip near vertical, would move far). */
static int back_outseam(struct trouser *t)
{
    struct leg *g = &t->back;
    struct seg w = waist_curve(g, vec_xy(g->xside.x, 0.0));
    double th, suppression = geom_seg_length(&w) - g->waist_w;

    g->dart = fmin(fmax(BACK_DART * suppression, 0.0), DART_MAX * g->waist_w);
    if (draft_solve(by_theta_out, g, GEOM_PI - 1.2, GEOM_PI + 1.2, t->out_f, 0.005, &th))
        return -1;
    by_theta_out(th, g);
    return 0;
}

static int trouser_fit(struct trouser *t, char *msg, size_t n)
{
    int rc;

    if (leg_fit_cross(t, &t->front, t->cross_f))
        return draft_fail(msg, n, "crossSeamFront cannot be reached from these heights and seat");
    t->front.rise0 = t->front.rise;
    if (front_finish(t))
        return draft_fail(msg, n, "the front waist cannot reach the side (waist and seat)");
    if (t->front.xs.y - t->front.wside.y < 20.0)
        return draft_fail(msg, n, "waistToSeat is too short for this waist");
    rc = back_balance(t, 1);
    if (rc == 1)
        rc = share_ext(t);
    if (rc)
        return draft_fail(msg, n,
                          "crossSeam and crossSeamFront cannot be balanced between front "
                          "and back inseams");
    if (back_outseam(t) || t->back.xs.y - t->back.wside.y < 20.0)
        return draft_fail(msg, n, "the back outseam cannot match the front (seat and waist)");
    return 0;
}

/* The back waist with its dart: the curve split around its middle (by arc
 * length), legs to a tip straight below the middle of the opening, the
 * edge over the dart peaked for a dart pressed towards the centre back.
 * The centre piece is the curve's; the side piece is redrawn to leave the
 * side square (as the curve does) and to arrive at its leg turned by the
 * dart's angle, so that once the dart is sewn the waist runs on through it
 * without a point; the opening is then adjusted (a few steps, the seam
 * changing as fast as the opening) so the two pieces are the waist seam. */
static int back_waist_dart(struct draft_part *pt, const struct trouser *t, const struct leg *g)
{
    struct seg w = waist_curve(g, g->wside), side, centre;
    double total = geom_seg_length(&w), intake = g->dart;
    struct vec a, b, tip, peak;
    struct path *e;

    for (int it = 0; it < 6; it++) {
        double ta = geom_seg_t_at_length(&w, 0.5 * (total - intake));
        double tb = geom_seg_t_at_length(&w, 0.5 * (total + intake));
        struct vec mid, down, va, vb, tan_a;
        double c, seam;

        centre = geom_seg_sub(&w, tb, 1.0);
        a = geom_seg_eval(&w, ta);
        b = centre.p[0];
        mid = vec_lerp(a, b, 0.5);
        down = vec_perp(vec_unit(vec_sub(b, a)));
        if (down.y < 0.0)
            down = vec_mul(down, -1.0);
        tip = vec_mad(mid, down, fmin(120.0, 0.45 * (t->ys - mid.y)));
        va = vec_sub(a, tip);
        vb = vec_sub(b, tip);
        tan_a = vec_rot(geom_seg_tangent(&centre, 0.0), -atan2(vec_cross(va, vb), vec_dot(va, vb)));
        c = vec_dist(g->wside, a) / 3.0;
        side =
            geom_seg_cubic(g->wside, vec_xy(g->wside.x + c, g->wside.y), vec_mad(a, tan_a, -c), a);
        seam = geom_seg_length(&side) + geom_seg_length(&centre);
        if (fabs(seam - g->waist_w) < 0.001)
            break;
        intake += seam - g->waist_w;
    }
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
    if (g->dart > DART_MIN) {
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
    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (t->hem_k == 1.0) {
        geom_path_line(e, g->hout);
    } else { /* square to both leg seams, which slant below the knee */
        struct vec ui = vec_unit(vec_sub(g->hin, g->kin)), uo = vec_unit(vec_sub(g->hout, g->kout));
        double k = vec_dist(g->hin, g->hout) / 3.0;
        geom_path_cubic(e, vec_mad(g->hin, vec_xy(-ui.y, ui.x), k),
                        vec_mad(g->hout, vec_xy(-uo.y, uo.x), -k), g->hout);
    }
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
    double band = draft_opt(in, &draft_design_trouser, "waistband");
    int rc;

    if (trouser_frame(in, &t, msg, n) || trouser_fit(&t, msg, n))
        return DRAFT_ERR_INVALID;
    rc = leg_part(p, &t, &t.front, 1);
    if (!rc)
        rc = leg_part(p, &t, &t.back, 0);
    if (!rc && band > 0.0) { /* from the fly's underlap round to the front */
        double f = t.front.waist_w, b = t.back.waist_w, ov = DRAFT_WAISTBAND_OVERLAP;
        const double at[] = {ov + f, ov + f + b, ov + f + 2.0 * b};
        const int kinds[] = {DRAFT_NOTCH_FRONT, DRAFT_NOTCH_BACK, DRAFT_NOTCH_FRONT};
        rc = draft_band(p, "waistband", "Waistband", "waist", 2.0 * (f + b) + ov, band, at, kinds,
                        3);
    }
    return rc;
}

const struct design draft_design_trouser = {
    .name = "trouser",
    .title = "Trouser block",
    .required = trouser_required,
    .optional = trouser_optional,
    .needs_breasts = -1,
    .draft = trouser_draft,
};
