/*
 * design_skirt.c - a straight skirt for any body: a front cut on the fold,
 * a back cut as a mirrored pair (centre back seam with a zip and a vent),
 * two waist darts in each, and a waistband. Our own construction, on the
 * trouser block's proportions (seat and waist split front / back by
 * seatBack and waistBack, or 52 % and 50 % of them).
 *
 * Frame per panel: x = 0 the centre line (the front's fold, the back's
 * seam), x towards the side, y = 0 the waist level, y down. The seat line
 * is waistToSeat down, the hem waistToKnee + skirt_length. Each panel is
 * seat x (1 + seat_ease) / 4-ish wide on the seat line (its share of the
 * seat) and falls straight from there to the hem; above, the side seam
 * curves in to the side waist. The panel's waist suppression S (seat width
 * minus waist seam) is shared out continuously: each of the two darts
 * takes max(S, 0) / 3, at most a quarter of the shorter dart's length
 * (about 14 degrees: wider darts would point), the side seam the rest (solved: the side waist's
 * place makes the waist seam exactly waist x (1 + waist_ease) / 4-ish,
 * darts excluded). The first dart lies 40 % (back 42 %) of the waist seam
 * from the centre, the second 22 % further, so darts always fit the seam. A suppression under 0 (a
 * waist wider than the seat) gets no darts and a side seam that widens to the waist. Both side
 * waists are raised 6 % of waistToSeat (the hip's spring), then moved
 * apart, the back's up and the front's down as much, until the two side
 * seams are equal (solved; a few mm on the 20 sets). Darts stand
 * square to the waist, front tips 45 % and 38 % of waistToSeat down, back
 * 62 % and 52 %: fitted from the waist towards the seat, which they never
 * reach.
 *
 * The waist leaves the centre square (the fold; the back's seam, so the
 * two backs join smoothly) and runs straight to the first dart; each piece
 * after a dart leaves its leg turned by the dart's angle, so that sewn,
 * the waist runs on through every dart without a point; the last piece
 * curves to the side waist and meets the side seam square. The hem is
 * straight and square to the side seam, the fold and the vent.
 *
 * The back vent: on each back, from the hem up DRAFT_SKIRT_VENT_SHARE of
 * the hem's height below the seat line, DRAFT_SKIRT_VENT_WIDTH wide beyond
 * the centre back seam (its top cut at 45 degrees); a notch on the centre
 * back marks the end of the zip. The waistband (waistband option, mm; 0:
 * none) starts at the centre back with DRAFT_WAISTBAND_OVERLAP for the
 * fastening, notched at the side seams and the centre front.
 *
 * Invariants (tests/unit/test_draft.c): side seams pair (solved); dart
 * legs equal (constructed); 2 x (front + back width) at the seat line =
 * seat x (1 + seat_ease), the same at the hem; 2 x (front + back waist
 * seams, darts excluded) = waist x (1 + waist_ease); the waistband's seam
 * edge = that waist seam + the overlap; every joint square as above; every
 * point continuous in the measurements.
 */
#include "draft/draft_impl.h"

static const char *const skirt_required[] = {
    "seat", "waist", "waistToKnee", "waistToSeat", NULL,
};
static const char *const skirt_optional[] = {"seatBack", "waistBack", NULL};

#define D (&draft_design_skirt)

#define SIDE_RISE  0.06 /* the side waists above the waist level, x waistToSeat */
#define DART_SHARE (1.0 / 3.0)
#define DART_MIN   0.02 /* mm: narrower darts are not drawn (the seam that much longer) */
#define DART_MAX   0.25 /* the widest dart, in lengths of the shorter (about 14 degrees) */

/* One panel's waist and side, built for a side waist place and rise. */
struct panel {
    double seat_w, waist_w; /* the panel's share of the seat (with ease) and its waist seam */
    double f1, f2;          /* centre to the first dart, and between the darts, in waist seams */
    double l1, l2;          /* dart lengths */
    double intake;          /* each dart's */
    double rise;            /* the side waist above the waist level */
    double xw;              /* the side waist's x */
    /* built (panel_build): */
    struct vec b1, a1, b2, a2, tip1, tip2, sw, d2, d3;
    struct seg outer, hip; /* a2 to the side waist; side waist to the seat line */
    double seam;           /* waist seam, darts excluded */
};

struct skirt {
    double ys, yh; /* seat line, hem */
    struct panel front, back;
};

/* Closing a dart turns its leg a onto leg b about the tip: the piece after
 * a leaves it turned back by that angle. */
static struct vec after_dart(struct vec dir, struct vec tip, struct vec a, struct vec b)
{
    struct vec va = vec_sub(a, tip), vb = vec_sub(b, tip);
    return vec_rot(dir, -atan2(vec_cross(va, vb), vec_dot(va, vb)));
}

static void panel_build(struct panel *g, double ys)
{
    double half = 0.5 * g->intake, c;
    struct vec n2, mid2, down, seat = vec_xy(g->seat_w, ys);

    g->sw = vec_xy(g->xw, -g->rise);
    g->b1 = vec_xy(g->f1 * g->waist_w, 0.0);
    g->a1 = vec_xy(g->b1.x + g->intake, 0.0);
    g->tip1 = vec_xy(g->b1.x + half, g->l1);
    g->d2 = after_dart(vec_xy(1.0, 0.0), g->tip1, g->a1, g->b1);
    g->b2 = vec_mad(g->a1, g->d2, g->f2 * g->waist_w);
    mid2 = vec_mad(g->b2, g->d2, half);
    g->a2 = vec_mad(mid2, g->d2, half);
    n2 = vec_xy(-g->d2.y, g->d2.x); /* square to the waist, down */
    g->tip2 = vec_mad(mid2, n2, g->l2);
    g->d3 = after_dart(g->d2, g->tip2, g->a2, g->b2);
    /* the side seam leaves the side waist along its chord to the seat line
     * and arrives there straight down; the waist meets it square */
    down = vec_unit(vec_sub(seat, g->sw));
    g->hip = geom_seg_cubic(g->sw, vec_mad(g->sw, down, 0.3 * vec_dist(g->sw, seat)),
                            vec_xy(seat.x, ys - 0.4 * (ys - g->sw.y)), seat);
    c = vec_dist(g->a2, g->sw) / 3.0;
    g->outer = geom_seg_cubic(g->a2, vec_mad(g->a2, g->d3, c),
                              vec_mad(g->sw, vec_xy(down.y, -down.x), -c), g->sw);
    g->seam = g->b1.x + vec_dist(g->a1, g->b2) + geom_seg_length(&g->outer);
}

struct fit {
    struct panel *g;
    double ys;
};

static double by_side_x(double x, void *ctx)
{
    struct fit *f = ctx;
    f->g->xw = x;
    panel_build(f->g, f->ys);
    return f->g->seam;
}

/* The side waist's x for the waist seam; leaves g built. The pieces to
 * the darts are fixed shares of the seam, so only the last piece is
 * solved, and it grows with the side waist's distance. */
static int panel_waist(struct panel *g, double ys)
{
    struct fit f = {g, ys};
    double x0 = g->xw > 0.0 ? g->xw : g->seat_w - (g->seat_w - g->waist_w) / 3.0;
    double f0 = by_side_x(x0, &f) - g->waist_w, x1 = x0 - f0, x, lo, hi = g->seat_w + g->waist_w;

    /* secant steps from where it was (the seam grows about one for one
     * with the side waist's distance), then a bracketed solve if need be */
    for (int i = 0; i < 8 && isfinite(f0); i++) {
        if (fabs(f0) <= 0.002) {
            if (x0 < g->a2.x + 1.0)
                break;
            by_side_x(x0, &f);
            return 0;
        }
        double f1 = by_side_x(x1, &f) - g->waist_w, x2;
        if (!isfinite(f1) || f1 == f0)
            break;
        x2 = x1 - f1 * (x1 - x0) / (f1 - f0);
        x0 = x1;
        f0 = f1;
        x1 = x2;
    }
    g->xw = hi;
    panel_build(g, ys);
    lo = g->a2.x + 1.0;
    if (draft_solve(by_side_x, &f, lo, hi, g->waist_w, 0.002, &x))
        return -1;
    by_side_x(x, &f);
    return 0;
}

/* The back's side seam above the seat line minus the front's, the back's
 * side waist raised by delta / 2 and the front's lowered as much from
 * where the rule puts them (both waists refitted). */
static double by_rise_split(double delta, void *ctx)
{
    struct skirt *k = ctx;

    k->front.rise = SIDE_RISE * k->ys - 0.5 * delta;
    k->back.rise = SIDE_RISE * k->ys + 0.5 * delta;
    if (panel_waist(&k->front, k->ys) || panel_waist(&k->back, k->ys))
        return NAN;
    return geom_seg_length(&k->back.hip) - geom_seg_length(&k->front.hip);
}

static void panel_init(struct panel *g, double seat_w, double waist_w, double ys, int front)
{
    double s = seat_w - waist_w;

    g->seat_w = seat_w;
    g->waist_w = waist_w;
    g->f1 = front ? 0.40 : 0.42;
    g->f2 = 0.22;
    g->l1 = (front ? 0.45 : 0.62) * ys;
    g->l2 = (front ? 0.38 : 0.52) * ys;
    g->intake = fmin(DART_SHARE * fmax(s, 0.0), DART_MAX * g->l2);
    if (g->intake <= DART_MIN)
        g->intake = 0.0;
    g->rise = SIDE_RISE * ys;
}

static int skirt_frame(const struct draft_input *in, struct skirt *k, char *msg, size_t n)
{
    double seat = draft_m(in, "seat"), waist = draft_m(in, "waist");
    double sb = draft_has(in, "seatBack") ? draft_m(in, "seatBack") : 0.52 * seat;
    double wb = draft_has(in, "waistBack") ? draft_m(in, "waistBack") : 0.5 * waist;
    double se = 1.0 + 0.01 * draft_opt(in, D, "seat_ease");
    double we = 1.0 + 0.01 * draft_opt(in, D, "waist_ease");

    k->ys = draft_m(in, "waistToSeat");
    k->yh = draft_m(in, "waistToKnee") + draft_opt(in, D, "skirt_length");
    if (sb < 0.3 * seat || sb > 0.7 * seat)
        return draft_fail(msg, n, "seatBack must be between 30 %% and 70 %% of seat");
    if (wb < 0.3 * waist || wb > 0.7 * waist)
        return draft_fail(msg, n, "waistBack must be between 30 %% and 70 %% of waist");
    if (k->yh < k->ys + 100.0)
        return draft_fail(msg, n,
                          "waistToKnee (with skirt_length) leaves too little skirt below "
                          "waistToSeat");
    panel_init(&k->front, (seat - sb) / 2.0 * se, (waist - wb) / 2.0 * we, k->ys, 1);
    panel_init(&k->back, sb / 2.0 * se, wb / 2.0 * we, k->ys, 0);
    return 0;
}

/* Both waists, and the side seams made equal: the side waists move apart
 * from where the rule puts them (the back's up, the front's down, as
 * much), solved from no move outwards in steps of 2 % of waistToSeat
 * until the difference changes sign (where a waist stops fitting first,
 * nothing can match); leaves both panels built. */
static int skirt_fit(struct skirt *k, char *msg, size_t n)
{
    double f0 = by_rise_split(0.0, k), step = 0.02 * k->ys, prev = 0.0, d;

    if (!isfinite(f0))
        return draft_fail(msg, n, "waist and seat leave no room for the darts");
    if (fabs(f0) <= 0.002)
        return 0;
    { /* secant steps first: the difference grows about one for one */
        double x0 = 0.0, g0 = f0, x1 = -f0, g1;
        for (int i = 0; i < 8; i++) {
            g1 = by_rise_split(x1, k);
            if (!isfinite(g1) || g1 == g0)
                break;
            if (fabs(g1) <= 0.002)
                return 0;
            double x2 = x1 - g1 * (x1 - x0) / (g1 - g0);
            x0 = x1;
            g0 = g1;
            x1 = x2;
        }
    }
    step = f0 > 0.0 ? -step : step; /* the difference grows with the move */
    for (int i = 1; i <= 40; i++) {
        double x = i * step, fx = by_rise_split(x, k);
        if (isfinite(fx) && (fx < 0.0) == (f0 < 0.0)) {
            prev = x;
            continue;
        }
        /* a sign change, or the end of where both waists fit (repaired) */
        if (draft_solve(by_rise_split, k, prev, x, 0.0, 0.002, &d) ||
            !isfinite(by_rise_split(d, k)))
            break;
        return 0;
    }
    return draft_fail(msg, n, "the back side seam cannot match the front (seat and waist)");
}

/* The waist's edges from the side waist to the centre (the outline runs
 * that way): the curve, each dart (peaked for a dart pressed towards the
 * centre), the straight pieces. */
static int waist_edges(struct draft_part *pt, const struct panel *g, struct vec centre)
{
    struct vec peak;
    struct path *e = draft_edge_add(pt, "waist_side", 1.0, 0, g->sw);
    struct seg rev = g->outer;
    int darts = g->intake > 0.0;

    if (!e)
        return DRAFT_ERR_INTERNAL;
    for (int i = 0; i < 4; i++)
        rev.p[i] = g->outer.p[3 - i];
    geom_path_push(e, &rev);
    if (darts) {
        e = draft_edge_add(pt, "waist_dart2", 1.0, 0, g->a2);
        if (!e)
            return DRAFT_ERR_INTERNAL;
        if (draft_dart_peak(g->tip2, g->a2, g->b2, vec_mul(g->d2, -1.0), &peak) == 0)
            geom_path_line(e, peak);
        geom_path_line(e, g->b2);
        draft_dart_add(pt, g->tip2, g->a2, g->b2);
    }
    e = draft_edge_add(pt, "waist_mid", 1.0, 0, g->b2);
    geom_path_line(e, g->a1);
    if (darts) {
        e = draft_edge_add(pt, "waist_dart", 1.0, 0, g->a1);
        if (!e)
            return DRAFT_ERR_INTERNAL;
        if (draft_dart_peak(g->tip1, g->a1, g->b1, vec_xy(-1.0, 0.0), &peak) == 0)
            geom_path_line(e, peak);
        geom_path_line(e, g->b1);
        draft_dart_add(pt, g->tip1, g->a1, g->b1);
    }
    e = draft_edge_add(pt, "waist_centre", 1.0, 0, g->b1);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, centre);
    return 0;
}

static int panel_part(struct pattern *p, const struct skirt *k, const struct panel *g, int front)
{
    struct draft_part *pt =
        front ? draft_part_add(p, "front", "Front", 1) : draft_part_add(p, "back", "Back", 2);
    double vent = DRAFT_SKIRT_VENT_SHARE * (k->yh - k->ys), vw = DRAFT_SKIRT_VENT_WIDTH;
    struct vec seat = vec_xy(g->seat_w, k->ys);
    struct path *e;
    int rc;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    if (g->b1.x < 10.0 || (g->intake > 0.0 && vec_dist(g->a2, g->sw) < 15.0) ||
        vec_dist(g->a1, g->b2) < 5.0 || !(g->sw.x > g->a2.x + 5.0))
        return DRAFT_ERR_INVALID;
    if (front) {
        e = draft_edge_add(pt, "cf", 0.0, 1, vec_xy(0.0, 0.0));
        geom_path_line(e, vec_xy(0.0, k->yh));
        e = draft_edge_add(pt, "hem", DRAFT_SKIRT_HEM_FACTOR, 0, vec_xy(0.0, k->yh));
    } else {
        e = draft_edge_add(pt, "cb", 1.0, 0, vec_xy(0.0, 0.0));
        geom_path_line(e, vec_xy(0.0, k->yh - vent));
        e = draft_edge_add(pt, "vent_top", 1.0, 0, vec_xy(0.0, k->yh - vent));
        geom_path_line(e, vec_xy(-vw, k->yh - vent + vw));
        e = draft_edge_add(pt, "vent", 1.0, 0, vec_xy(-vw, k->yh - vent + vw));
        geom_path_line(e, vec_xy(-vw, k->yh));
        e = draft_edge_add(pt, "hem", DRAFT_SKIRT_HEM_FACTOR, 0, vec_xy(-vw, k->yh));
    }
    geom_path_line(e, vec_xy(g->seat_w, k->yh));
    e = draft_edge_add(pt, "side", 1.0, 0, vec_xy(g->seat_w, k->yh));
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, seat);
    {
        struct seg rev = g->hip;
        for (int i = 0; i < 4; i++)
            rev.p[i] = g->hip.p[3 - i];
        geom_path_push(e, &rev);
    }
    rc = waist_edges(pt, g, vec_xy(0.0, 0.0));
    if (rc)
        return rc;
    if (!front)
        draft_notch_add(pt, "cb", 0.85 * k->ys, DRAFT_NOTCH_BACK); /* the zip's end */
    draft_notch_add(pt, "side", k->yh - k->ys, front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK);
    draft_level_add(pt, "seat", k->ys);
    if (!front) {
        pt->grain_from = vec_xy(0.5 * g->seat_w, fmax(g->tip1.y, g->tip2.y) + 30.0);
        pt->grain_to = vec_xy(0.5 * g->seat_w, k->yh - 40.0);
    }
    pt->title_at = vec_xy(0.5 * g->seat_w, k->ys + 0.45 * (k->yh - k->ys));
    return 0;
}

static int skirt_draft(struct pattern *p, const struct draft_input *in, char *msg, size_t n)
{
    struct skirt k;
    double band = draft_opt(in, D, "waistband");
    int rc;

    if (skirt_frame(in, &k, msg, n) || skirt_fit(&k, msg, n))
        return DRAFT_ERR_INVALID;
    rc = panel_part(p, &k, &k.front, 1);
    if (!rc)
        rc = panel_part(p, &k, &k.back, 0);
    if (rc == DRAFT_ERR_INVALID)
        return draft_fail(msg, n, "waist and seat leave no room for the darts");
    if (!rc && band > 0.0) { /* from the zip at the centre back round to it */
        double f = k.front.waist_w, b = k.back.waist_w, ov = DRAFT_WAISTBAND_OVERLAP;
        const double at[] = {ov + b, ov + b + f, ov + b + 2.0 * f};
        const int kinds[] = {DRAFT_NOTCH_BACK, DRAFT_NOTCH_FRONT, DRAFT_NOTCH_BACK};
        rc = draft_band(p, "waistband", "Waistband", "waist", 2.0 * (f + b) + ov, band, at, kinds,
                        3);
    }
    return rc;
}

const struct design draft_design_skirt = {
    .name = "skirt",
    .title = "Straight skirt",
    .required = skirt_required,
    .optional = skirt_optional,
    .needs_breasts = -1,
    .draft = skirt_draft,
};
