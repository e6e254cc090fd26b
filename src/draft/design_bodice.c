/*
 * design_bodice.c - the bodice block for bodies with breasts: a back with a
 * waist dart, a front with a side bust dart and a waist dart (both cut on
 * the fold), and a sleeve. Our own construction.
 *
 * Fit options (options.c): bust_ease, waist_ease, sleeve_length (cut from
 * the sleeve's taper), armhole_depth.
 *
 * Frame: x = 0 the centre line, y = 0 the HPS level, y down. At the bust
 * line the back is highBust x (1 + ease) / 4 wide and the front takes the
 * rest of chest x (1 + ease) / 2, so the front is wider by the bust
 * prominence. The back waist lies at hpsToWaistBack, the centre front waist
 * at hpsToWaistFront. The side bust dart opens the lower side of the front
 * about a tip near the bust point, by (chest - highBust) / 2 at the side
 * seam: the bust's extra length. Opening it turns the lower side, and the
 * side waist with it, down and out, so the front waist falls from the
 * centre front to the side by what the dart takes up, and rises back level
 * once the dart is sewn; the centre front keeps its length. Side seams
 * taper by the same slope front and back; the taper t and the waist darts
 * share the waist suppression by one continuous rule (bodice_taper), and
 * the darts take what the taper leaves, so the waist seam is exactly waist
 * x (1 + ease).
 *
 * The waist leaves each fold square, runs straight to its dart, and from
 * the dart curves to the side seam, which it meets square; it leaves the
 * dart's side leg turned by the dart's angle, so that once the dart is sewn
 * the waist runs on through it without a point. Front and back waists,
 * sewn at the side, make one smooth line; so do the armholes (which leave
 * the side seam square), the necklines and the sleeve (design_common.c).
 *
 * Invariants: back side = front side above + below the dart (constructed);
 * shoulders equal; both legs of every dart equal; the cutting edge over
 * each dart has the peak that lies flat once the dart is sewn and pressed;
 * the centre front is hpsToWaistFront long from the HPS level; 2 x (front
 * + back width) at the bust line = chest x (1 + bust ease); 2 x (waist
 * seams without darts) = waist x (1 + waist ease); every joint square as
 * above; every point a continuous function of the measurements (no branch
 * switches a dart on or off with a jump); neckline and sleeve cap fitted
 * as in design_common.c (the armhole deepened when the arm needs it).
 */
#include "draft/draft_impl.h"

static const char *const bodice_required[] = {
    "biceps",          "bustSpan",        "chest",         "highBust",      "hpsToBust",
    "hpsToWaistBack",  "hpsToWaistFront", "neck",          "shoulderSlope", "shoulderToShoulder",
    "shoulderToWrist", "waist",           "waistToArmpit", "wrist",         NULL,
};
static const char *const bodice_optional[] = {NULL};

/* Suppression (waist of the block without darts minus the waist) that the
 * taper alone takes; beyond it each waist dart takes DART_SHARE of the
 * rest, and the taper what the darts leave. */
#define TAPER_ONLY 6.0
#define DART_SHARE (1.0 / 3.0)
/* Darts narrower than this are not drawn (the seam is 2 x as much longer). */
#define DART_MIN 0.02

/* One waist, from the fold to the side seam: straight from the fold to
 * the dart (legs bl on the fold's side, al on the side's), then a curve
 * from al to the side waist. */
struct waist {
    struct vec centre, bl, al, tip, side;
    struct seg outer; /* al to the side waist */
    double len;       /* the seam: centre to bl + outer */
    double intake, tip_y;
    struct vec m; /* the middle of the dart on the waist line */
};

struct bodice {
    double slope, nw, bd, fd; /* shoulder slope (rad), neck width and depths */
    double ya, yb, yw, ywf;   /* armhole depth, bust line, back and front waist */
    double bust_raw;          /* hpsToBust */
    double wb, wf, dart;      /* widths at the bust line; side dart opening */
    double half_waist;        /* waist x (1 + ease) / 2 */
    double want;              /* each waist dart's intake by the rule (bodice_taper) */
    struct vec hps, sp, bp;
    /* from the taper t: */
    double t, theta, chord_f, chord_b;
    struct vec ab, af, u, l, tip, ws, wbs, lower_dir;
    /* from the taper and the dart intake: */
    struct waist front, back;
};

/* Armhole depth ya and the bust line: at hpsToBust, but at least 10 mm
 * under the armhole, 60 mm above the back waist and 40 mm above the centre
 * front waist (room for the darts); -1 when the armhole leaves no such
 * room. */
static int bodice_levels(struct bodice *b, double ya)
{
    b->ya = ya;
    b->yb = fmin(fmax(b->bust_raw, ya + 10.0), fmin(b->yw - 60.0, b->ywf - 40.0));
    b->bp.y = b->yb;
    return b->yb < ya + 10.0 ? -1 : 0;
}

static int bodice_frame(const struct draft_input *in, struct bodice *b, char *msg, size_t n)
{
    double neck = draft_m(in, "neck"), chest = draft_m(in, "chest");
    double high = draft_m(in, "highBust"), s2s = draft_m(in, "shoulderToShoulder");

    b->slope = draft_m(in, "shoulderSlope") * GEOM_PI / 180.0;
    b->nw = neck * (1.0 + DRAFT_BODICE_NECK_EASE) / 5.6;
    b->bd = neck / 16.0;
    if (draft_neck_fit(neck * (1.0 + DRAFT_BODICE_NECK_EASE), b->nw, b->bd, b->slope, &b->fd, msg,
                       n))
        return DRAFT_ERR_INVALID;
    b->yw = draft_m(in, "hpsToWaistBack");
    b->ywf = draft_m(in, "hpsToWaistFront");
    b->bust_raw = draft_m(in, "hpsToBust");
    b->wb = high * (1.0 + 0.01 * draft_opt(in, &draft_design_bodice, "bust_ease")) / 4.0;
    b->wf = chest * (1.0 + 0.01 * draft_opt(in, &draft_design_bodice, "bust_ease")) / 2.0 - b->wb;
    b->dart = fmax(0.5 * (chest - high), 6.0);
    b->half_waist = draft_m(in, "waist") *
                    (1.0 + 0.01 * draft_opt(in, &draft_design_bodice, "waist_ease")) / 2.0;
    b->hps = vec_xy(b->nw, 0.0);
    b->sp = vec_xy(0.5 * s2s, (0.5 * s2s - b->nw) * tan(b->slope));
    b->bp.x = fmin(0.5 * draft_m(in, "bustSpan"), 0.6 * b->wf);
    if (b->sp.x < b->nw + 30.0)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck");
    if (fmin(b->wb, b->wf) < b->nw + 60.0)
        return draft_fail(msg, n, "highBust or chest is too small for this neck");
    if (bodice_levels(b, b->yw - draft_m(in, "waistToArmpit") + 0.02 * high +
                             draft_opt(in, &draft_design_bodice, "armhole_depth")))
        return draft_fail(msg, n,
                          "waistToArmpit leaves too little between the armhole and the waist "
                          "(compare hpsToWaistBack and hpsToWaistFront)");
    if (b->ya < b->sp.y + 60.0 || b->ya < b->fd + 20.0)
        return draft_fail(msg, n,
                          "waistToArmpit leaves no room for the armhole under the "
                          "shoulder (compare hpsToWaistBack)");
    return 0;
}

/* Side seams, side dart and the side waists for the taper b->t. */
static int bodice_sides(struct bodice *b)
{
    double span = b->yw - b->yb, k = b->t / span, yd = b->yb + fmin(30.0, 0.25 * span);
    struct vec dc = vec_unit(vec_xy(-b->t, span)), to_u;
    double r, s, lower;

    b->ab = vec_xy(b->wb + k * (b->yb - b->ya), b->ya);
    b->wbs = vec_xy(b->wb - b->t, b->yw);
    b->af = vec_xy(b->wf + k * (b->yb - b->ya), b->ya);
    b->u = vec_xy(b->wf - k * (yd - b->yb), yd);
    to_u = vec_sub(b->u, b->bp);
    b->tip = vec_mad(b->bp, vec_unit(to_u), fmin(25.0, 0.3 * vec_len(to_u)));
    r = vec_dist(b->u, b->tip);
    s = b->dart / (2.0 * r);
    if (!(r > 20.0) || s > 0.45)
        return -1;
    b->theta = 2.0 * asin(s);
    b->l = vec_rot_about(b->u, b->tip, b->theta);
    b->lower_dir = vec_rot(dc, b->theta);
    lower = vec_dist(b->ab, b->wbs) - vec_dist(b->af, b->u);
    if (!(lower > 20.0))
        return -1;
    b->ws = vec_mad(b->l, b->lower_dir, lower);
    b->chord_f = b->bp.x + vec_dist(b->ws, vec_xy(b->bp.x, b->ywf));
    b->chord_b = b->wbs.x;
    return b->ws.x > b->bp.x + 20.0 && b->wbs.x > 40.0 ? 0 : -1;
}

/* The waist from centre (on the fold) to side, with a dart of the given
 * intake centred at m (its fold-side leg level with the centre, its other
 * leg towards the side, the tip on the legs' bisector at tip_y). up is the
 * unit direction up the side seam from side. The curve from the dart to
 * the side leaves the dart's side leg turned by the dart's angle (so that,
 * sewn, the dart leaves no point in the waist) and arrives square to the
 * side seam. */
static void waist_build(struct waist *w, struct vec centre, struct vec m, struct vec side,
                        struct vec up, double intake, double tip_y)
{
    struct vec v, mid, ta = vec_xy(1.0, 0.0), out = vec_xy(-up.y, up.x);
    double c;

    w->centre = centre;
    w->m = m;
    w->side = side;
    w->intake = intake;
    w->tip_y = tip_y;
    w->bl = vec_xy(m.x - 0.5 * intake, m.y);
    w->al = vec_mad(m, vec_unit(vec_sub(side, m)), 0.5 * intake);
    v = vec_unit(vec_sub(w->al, w->bl));
    mid = vec_lerp(w->al, w->bl, 0.5);
    w->tip = intake > 0.0 && v.x > 0.0 ? vec_mad(mid, vec_xy(v.y, -v.x), (mid.y - tip_y) / v.x)
                                       : vec_xy(m.x, tip_y);
    if (intake > 0.0) { /* closing turns leg a onto leg b: the curve leaves a turned back */
        struct vec va = vec_sub(w->al, w->tip), vb = vec_sub(w->bl, w->tip);
        ta = vec_rot(ta, -atan2(vec_cross(va, vb), vec_dot(va, vb)));
    }
    c = vec_dist(side, w->al) / 3.0;
    w->outer = geom_seg_cubic(w->al, vec_mad(w->al, ta, c), vec_mad(side, out, -c), side);
    w->len = (w->bl.x - centre.x) + geom_seg_length(&w->outer);
}

/* Both waists for the current sides and a dart intake (front = back). */
static double bodice_waists(struct bodice *b, double intake)
{
    waist_build(&b->front, vec_xy(0.0, b->ywf), vec_xy(b->bp.x, b->ywf), b->ws,
                vec_unit(vec_sub(b->l, b->ws)), intake,
                b->bp.y + fmin(25.0, 0.3 * (b->ywf - b->bp.y)));
    waist_build(&b->back, vec_xy(0.0, b->yw), vec_xy(0.5 * b->wbs.x, b->yw), b->wbs,
                vec_unit(vec_sub(b->ab, b->wbs)), intake, b->yb + 0.2 * (b->yw - b->yb));
    return b->front.len + b->back.len;
}

/* Each dart's intake for the taper t: the rule's, but at most a quarter of
 * its waist seam, and the front one 10 mm clear of the centre front. */
static double dart_cap(const struct bodice *b)
{
    return fmin(0.25 * fmin(b->chord_f, b->chord_b), 2.0 * (b->bp.x - 10.0));
}

/* Waist seams minus their target for the taper t, with the darts the rule
 * gives at that taper; leaves b drafted for t. */
static double bodice_excess(double t, void *ctx)
{
    struct bodice *b = ctx;

    b->t = t;
    if (bodice_sides(b))
        return NAN;
    return bodice_waists(b, fmin(b->want, fmax(dart_cap(b), 0.0))) - b->half_waist;
}

/* Choose the taper and the darts. The suppression e0 (the waists of the
 * block with no taper and no darts, minus the waist seam) is shared by one
 * continuous rule: up to TAPER_ONLY mm the taper takes it all (a negative
 * e0 flares the sides); beyond, each waist dart takes DART_SHARE of the
 * rest, capped (dart_cap), and the taper t is solved so that the waist
 * seams are exactly on target. Leaves b drafted for the solution. */
static int bodice_taper(struct bodice *b, char *msg, size_t n)
{
    double e0, t, est, lo, hi;

    b->want = 0.0;
    b->t = 0.0;
    if (bodice_sides(b))
        return draft_fail(msg, n, "chest and highBust make a bust dart this body cannot take");
    e0 = bodice_waists(b, 0.0) - b->half_waist;
    b->want = DART_SHARE * fmax(e0 - TAPER_ONLY, 0.0);
    est = 0.5 * e0 - fmin(b->want, fmax(dart_cap(b), 0.0));
    lo = est - 8.0;
    hi = est + 8.0;
    if (!(bodice_excess(lo, b) > 0.0 && bodice_excess(hi, b) < 0.0)) { /* far off: widen */
        lo = -(fabs(e0) + 80.0);
        hi = fabs(e0) + 80.0;
    }
    if (draft_solve(bodice_excess, b, lo, hi, 0.0, 0.005, &t) || !isfinite(bodice_excess(t, b)))
        return draft_fail(msg, n,
                          e0 < 0.0 ? "waist is too large for this bust"
                                   : "waist is too small for this bust and high bust");
    return 0;
}

static struct vec bodice_pitch(const struct bodice *b, struct vec armpit, int front)
{
    double across = fmin(fmin((front ? 0.92 : 0.96) * b->sp.x, armpit.x - 15.0), b->sp.x - 2.0);
    return vec_xy(across, b->sp.y + 0.5 * (b->ya - b->sp.y));
}

/* The side seam's unit direction down from the armpit. */
static struct vec bodice_side_dir(const struct bodice *b, int front)
{
    return front ? vec_unit(vec_sub(b->u, b->af)) : vec_unit(vec_sub(b->wbs, b->ab));
}

/* Front + back armhole for armhole depth ya (with the taper refitted). */
static double bodice_armholes(double ya, void *ctx)
{
    struct bodice *b = ctx;
    struct seg s[2];
    double l = 0.0;

    if (bodice_levels(b, ya) || bodice_taper(b, NULL, 0))
        return NAN;
    for (int front = 0; front < 2; front++) {
        struct vec armpit = front ? b->af : b->ab;
        draft_armhole_segs(armpit, bodice_side_dir(b, front), bodice_pitch(b, armpit, front), b->sp,
                           b->slope, s);
        l += geom_seg_length(&s[0]) + geom_seg_length(&s[1]);
    }
    return l;
}

/* The sleeve, its armholes still unknown. */
static void bodice_sleeve(const struct draft_input *in, struct draft_sleeve_spec *s)
{
    s->hem_factor = 1.0;
    s->underarm = 0.0;
    s->width = draft_m(in, "biceps") * (1.0 + DRAFT_SLEEVE_BICEPS_EASE);
    s->wrist_at = draft_m(in, "shoulderToWrist");
    s->length = s->wrist_at + draft_opt(in, &draft_design_bodice, "sleeve_length");
    s->wrist = 1.5 * draft_m(in, "wrist");
    s->cap_ease = DRAFT_SLEEVE_CAP_EASE;
}

/* Deepen the armhole if the arm needs more than it has (continuously);
 * leaves b drafted (levels, taper, darts) for the final depth. */
static int bodice_fit_arm(const struct draft_input *in, struct bodice *b, char *msg, size_t n)
{
    struct draft_sleeve_spec s;
    double need, ya0 = b->ya, ya, have;

    bodice_sleeve(in, &s);
    need = draft_sleeve_min_armhole(&s) + 0.5; /* 0.5: the solver's tolerance, and more */
    have = bodice_armholes(ya0, b);
    if (!isfinite(have))
        return bodice_levels(b, ya0) ? DRAFT_ERR_INVALID : bodice_taper(b, msg, n);
    if (have >= need)
        return 0;
    if (draft_solve(bodice_armholes, b, ya0, fmin(b->yw - 70.0, b->ywf - 50.0), need, 0.25, &ya) ||
        bodice_levels(b, ya))
        return draft_fail(msg, n, "biceps is too large for this bust and shoulder");
    return bodice_taper(b, msg, n);
}

/* The waist's edges: to the dart, the dart (peaked for a dart pressed
 * towards the centre), and on to the side. Checks there is room for the
 * dart: DRAFT_ERR_INVALID when not. */
static int waist_edges(struct draft_part *pt, const struct waist *w)
{
    struct vec v = vec_unit(vec_sub(w->al, w->bl)), mid = vec_lerp(w->al, w->bl, 0.5), peak;
    struct path *e = draft_edge_add(pt, "waist_centre", 1.0, 0, w->centre);
    int dart = w->intake > DART_MIN;

    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (dart && (v.x < 0.3 || mid.y - w->tip_y < 20.0 || w->bl.x < w->centre.x + 5.0 ||
                 vec_dist(w->m, w->side) < 0.5 * w->intake + 5.0))
        return DRAFT_ERR_INVALID;
    geom_path_line(e, w->bl);
    if (dart) {
        e = draft_edge_add(pt, "waist_dart", 1.0, 0, w->bl);
        if (!e)
            return DRAFT_ERR_INTERNAL;
        if (draft_dart_peak(w->tip, w->al, w->bl, vec_xy(-1.0, 0.0), &peak) == 0)
            geom_path_line(e, peak);
        geom_path_line(e, w->al);
        draft_dart_add(pt, w->tip, w->al, w->bl);
    }
    e = draft_edge_add(pt, "waist_side", 1.0, 0, w->al);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_push(e, &w->outer);
    return 0;
}

static int bodice_upper(struct draft_part *pt, const struct bodice *b, struct vec armpit, int front,
                        double *armhole, double *pitch_len)
{
    struct vec pitch = bodice_pitch(b, armpit, front);
    double across = pitch.x;
    struct seg neck = draft_neck_curve(b->nw, front ? b->fd : b->bd, b->slope);
    struct path *e = draft_edge_add(pt, "armhole", 1.0, 0, armpit);

    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (across < b->nw + 5.0)
        return DRAFT_ERR_INVALID;
    draft_armhole(e, armpit, bodice_side_dir(b, front), pitch, b->sp, b->slope, pitch_len);
    *armhole = geom_path_length(e);
    e = draft_edge_add(pt, "shoulder", 1.0, 0, b->sp);
    geom_path_line(e, b->hps);
    e = draft_edge_add(pt, "neck", 1.0, 0, b->hps);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_push(e, &neck);
    draft_notch_add(pt, "armhole", *pitch_len, front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK);
    draft_level_add(pt, "bust", b->yb);
    pt->title_at = vec_xy(0.45 * across, 0.5 * (b->fd + b->ya) + 10.0);
    return 0;
}

static int bodice_back(struct pattern *p, const struct bodice *b, double *armhole, double *pitch)
{
    struct draft_part *pt = draft_part_add(p, "back", "Back", 1);
    struct path *e;
    int rc;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    e = draft_edge_add(pt, "cb", 0.0, 1, vec_xy(0.0, b->bd));
    geom_path_line(e, vec_xy(0.0, b->yw));
    rc = waist_edges(pt, &b->back);
    if (rc)
        return rc;
    e = draft_edge_add(pt, "side", 1.0, 0, b->wbs);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, b->ab);
    return bodice_upper(pt, b, b->ab, 0, armhole, pitch);
}

static int bodice_front(struct pattern *p, const struct bodice *b, double *armhole, double *pitch)
{
    struct draft_part *pt = draft_part_add(p, "front", "Front", 1);
    struct vec peak;
    struct path *e;
    int rc;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    e = draft_edge_add(pt, "cf", 0.0, 1, vec_xy(0.0, b->fd));
    geom_path_line(e, vec_xy(0.0, b->ywf));
    rc = waist_edges(pt, &b->front);
    if (rc)
        return rc;
    e = draft_edge_add(pt, "side_lower", 1.0, 0, b->ws);
    geom_path_line(e, b->l);
    e = draft_edge_add(pt, "side_dart", 1.0, 0, b->l);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (draft_dart_peak(b->tip, b->u, b->l, b->lower_dir, &peak) == 0)
        geom_path_line(e, peak);
    geom_path_line(e, b->u);
    e = draft_edge_add(pt, "side_upper", 1.0, 0, b->u);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, b->af);
    draft_dart_add(pt, b->tip, b->u, b->l);
    return bodice_upper(pt, b, b->af, 1, armhole, pitch);
}

static int bodice_draft(struct pattern *p, const struct draft_input *in, char *msg, size_t n)
{
    struct bodice b;
    struct draft_sleeve_spec s;
    int rc;

    if (bodice_frame(in, &b, msg, n) || bodice_fit_arm(in, &b, msg, n))
        return DRAFT_ERR_INVALID;
    if (b.front.intake <= DART_MIN) /* too narrow to sew: no dart, the seam as long */
        bodice_waists(&b, 0.0);
    rc = bodice_front(p, &b, &s.armhole_front, &s.pitch_front);
    if (!rc)
        rc = bodice_back(p, &b, &s.armhole_back, &s.pitch_back);
    if (rc == DRAFT_ERR_INVALID)
        return draft_fail(msg, n,
                          "bustSpan, waist and shoulderToShoulder do not leave room "
                          "for the darts and the armhole");
    if (rc)
        return rc;
    bodice_sleeve(in, &s);
    return draft_sleeve(p, &s, msg, n);
}

const struct design draft_design_bodice = {
    .name = "bodice",
    .title = "Bodice block",
    .required = bodice_required,
    .optional = bodice_optional,
    .needs_breasts = 1,
    .draft = bodice_draft,
};
