/*
 * design_bodice.c - the bodice block for bodies with breasts: a back with a
 * waist dart, a front with a side bust dart and a waist dart (both cut on
 * the fold), and a sleeve. Our own construction.
 *
 * Frame: x = 0 the centre line, y = 0 the HPS level, y down. At the bust
 * line the back is highBust x (1 + ease) / 4 wide and the front takes the
 * rest of chest x (1 + ease) / 2, so the front is wider by the bust
 * prominence. The side bust dart opens the lower side of the front about a
 * tip near the bust point, by (chest - highBust) / 2 at the side seam. Side
 * seams taper by the same slope front and back; the taper t and the waist
 * darts share the waist suppression: t is chosen, then the darts take what
 * is left so the waist seam is exactly waist x (1 + ease).
 *
 * Invariants: back side = front side above + below the dart (constructed);
 * shoulders equal; both legs of every dart equal; the cutting edge over
 * each dart has the peak that lies flat once the dart is sewn and pressed;
 * 2 x (front + back width) at the bust line = chest x (1 + bust ease);
 * 2 x (waist seams without darts) = waist x (1 + waist ease); neckline and
 * sleeve cap fitted as in design_common.c (the armhole deepened when the
 * arm needs it).
 */
#include "draft/draft_impl.h"

static const char *const bodice_required[] = {
    "biceps",          "bustSpan",        "chest",         "highBust",      "hpsToBust",
    "hpsToWaistBack",  "hpsToWaistFront", "neck",          "shoulderSlope", "shoulderToShoulder",
    "shoulderToWrist", "waist",           "waistToArmpit", "wrist",         NULL,
};
static const char *const bodice_optional[] = {NULL};

struct bodice {
    double slope, nw, bd, fd;   /* shoulder slope (rad), neck width and depths */
    double ya, yb, yw, ywf_min; /* armhole depth, bust line, back waist, front length */
    double bust_raw;            /* hpsToBust */
    double wb, wf, dart;        /* widths at the bust line; side dart opening */
    double half_waist;          /* waist x (1 + ease) / 2 */
    struct vec hps, sp, bp;
    /* from the taper t: */
    double t, theta, ywf, chord_f, chord_b;
    struct vec ab, af, u, l, tip, ws, wbs, lower_dir;
};

/* Armhole depth ya and the bust line: at hpsToBust, but at least 10 mm
 * under the armhole and 60 mm above the waist (room for the darts); -1
 * when the armhole leaves no such room. */
static int bodice_levels(struct bodice *b, double ya)
{
    b->ya = ya;
    b->yb = fmin(fmax(b->bust_raw, ya + 10.0), b->yw - 60.0);
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
    if (draft_neck_fit(neck * (1.0 + DRAFT_BODICE_NECK_EASE), b->nw, b->bd, &b->fd, msg, n))
        return DRAFT_ERR_INVALID;
    b->yw = draft_m(in, "hpsToWaistBack");
    b->bust_raw = draft_m(in, "hpsToBust");
    b->ywf_min = draft_m(in, "hpsToWaistFront");
    b->wb = high * (1.0 + DRAFT_BODICE_BUST_EASE) / 4.0;
    b->wf = chest * (1.0 + DRAFT_BODICE_BUST_EASE) / 2.0 - b->wb;
    b->dart = fmax(0.5 * (chest - high), 6.0);
    b->half_waist = draft_m(in, "waist") * (1.0 + DRAFT_BODICE_WAIST_EASE) / 2.0;
    b->hps = vec_xy(b->nw, 0.0);
    b->sp = vec_xy(0.5 * s2s, (0.5 * s2s - b->nw) * tan(b->slope));
    b->bp.x = fmin(0.5 * draft_m(in, "bustSpan"), 0.6 * b->wf);
    if (b->sp.x < b->nw + 30.0)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck");
    if (fmin(b->wb, b->wf) < b->nw + 60.0)
        return draft_fail(msg, n, "highBust or chest is too small for this neck");
    if (bodice_levels(b, b->yw - draft_m(in, "waistToArmpit") + 0.02 * high))
        return draft_fail(msg, n,
                          "waistToArmpit leaves too little between the armhole and the waist "
                          "(compare hpsToWaistBack)");
    if (b->ya < b->sp.y + 60.0 || b->ya < b->fd + 20.0)
        return draft_fail(msg, n,
                          "waistToArmpit leaves no room for the armhole under the "
                          "shoulder (compare hpsToWaistBack)");
    return 0;
}

/* Side seams, side dart and front waist corner for the taper b->t. */
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
    b->ywf = fmax(b->ywf_min, b->ws.y);
    b->chord_f = b->bp.x + vec_dist(b->ws, vec_xy(b->bp.x, b->ywf));
    b->chord_b = b->wbs.x;
    return b->ws.x > b->bp.x + 20.0 && b->wbs.x > 40.0 ? 0 : -1;
}

static double bodice_excess(double t, void *ctx)
{
    struct bodice *b = ctx;

    b->t = t;
    if (bodice_sides(b))
        return NAN;
    return b->chord_f + b->chord_b - b->half_waist;
}

/* Choose the taper; *intake gets each waist dart's intake (front = back). */
static int bodice_taper(struct bodice *b, double *intake, char *msg, size_t n)
{
    double e0 = bodice_excess(0.0, b), t, e = 0.0;

    if (!isfinite(e0))
        return draft_fail(msg, n, "chest and highBust make a bust dart this body cannot take");
    *intake = 0.0;
    if (e0 <= 6.0) { /* little or no suppression: taper (or flare) only, no darts */
        double lo = e0 > 0.0 ? 0.0 : -(fabs(e0) + 50.0), hi = e0 > 0.0 ? e0 : 0.0;
        if (draft_solve(bodice_excess, b, lo, hi, 0.0, 0.005, &t))
            return draft_fail(msg, n, "waist is too large for this bust");
        e = bodice_excess(t, b); /* leaves b drafted for this t */
        return isfinite(e) ? 0 : draft_fail(msg, n, "waist is too large for this bust");
    }
    t = e0 / 6.0;
    for (int i = 0; i < 12; i++) {
        e = bodice_excess(t, b);
        if (!isfinite(e) || e < 0.0)
            break;
        /* a dart takes at most a quarter of its waist seam, and the front
         * one must stay 10 mm clear of the centre front */
        double cap = fmin(0.25 * fmin(b->chord_f, b->chord_b), 2.0 * (b->bp.x - 10.0));
        if (0.5 * e <= cap) {
            *intake = 0.5 * e;
            return 0;
        }
        t += 0.5 * (0.5 * e - cap) + 1.0;
    }
    return draft_fail(msg, n, "waist is too small for this bust and high bust");
}

/* Waist edges with a dart centred at m (CF leg b towards the centre, side
 * leg a towards w_side), pressed towards the centre. */
static int waist_edges(struct draft_part *pt, struct vec centre, struct vec m, struct vec w_side,
                       double intake, double tip_y)
{
    struct vec bl = vec_xy(m.x - 0.5 * intake, m.y);
    struct vec al = vec_mad(m, vec_unit(vec_sub(w_side, m)), 0.5 * intake), v, mid, tip, peak;
    struct path *e = draft_edge_add(pt, "waist_centre", 1.0, 0, centre);

    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (intake <= 0.0) {
        geom_path_line(e, m);
        e = draft_edge_add(pt, "waist_side", 1.0, 0, m);
        geom_path_line(e, w_side);
        return e ? 0 : DRAFT_ERR_INTERNAL;
    }
    v = vec_unit(vec_sub(al, bl));
    mid = vec_lerp(al, bl, 0.5);
    if (v.x < 0.3 || mid.y - tip_y < 20.0 || bl.x < centre.x + 5.0 ||
        vec_dist(m, w_side) < 0.5 * intake + 5.0)
        return DRAFT_ERR_INVALID;
    tip = vec_mad(mid, vec_xy(v.y, -v.x), (mid.y - tip_y) / v.x);
    geom_path_line(e, bl);
    e = draft_edge_add(pt, "waist_dart", 1.0, 0, bl);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (draft_dart_peak(tip, al, bl, vec_xy(-1.0, 0.0), &peak) == 0)
        geom_path_line(e, peak);
    geom_path_line(e, al);
    e = draft_edge_add(pt, "waist_side", 1.0, 0, al);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, w_side);
    draft_dart_add(pt, tip, al, bl);
    return 0;
}

static struct vec bodice_pitch(const struct bodice *b, struct vec armpit, int front)
{
    double across = fmin(fmin((front ? 0.92 : 0.96) * b->sp.x, armpit.x - 15.0), b->sp.x - 2.0);
    return vec_xy(across, b->sp.y + 0.5 * (b->ya - b->sp.y));
}

/* Front + back armhole for armhole depth ya (with the taper refitted). */
static double bodice_armholes(double ya, void *ctx)
{
    struct bodice *b = ctx;
    struct seg s[2];
    double intake, l = 0.0;

    if (bodice_levels(b, ya) || bodice_taper(b, &intake, NULL, 0))
        return NAN;
    for (int front = 0; front < 2; front++) {
        struct vec armpit = front ? b->af : b->ab;
        draft_armhole_segs(armpit, bodice_pitch(b, armpit, front), b->sp, b->slope, s);
        l += geom_seg_length(&s[0]) + geom_seg_length(&s[1]);
    }
    return l;
}

/* Deepen the armhole if the arm needs more than it has; leaves b drafted
 * (levels, taper) for the final depth. */
static int bodice_fit_arm(const struct draft_input *in, struct bodice *b, double *intake, char *msg,
                          size_t n)
{
    double width = draft_m(in, "biceps") * (1.0 + DRAFT_SLEEVE_BICEPS_EASE);
    double need = draft_sleeve_min_armhole(width, DRAFT_SLEEVE_CAP_EASE), ya0 = b->ya, ya;

    if (bodice_armholes(ya0, b) >= need)
        return bodice_taper(b, intake, msg, n);
    if (draft_solve(bodice_armholes, b, ya0, b->yw - 70.0, need + 0.5, 0.25, &ya) ||
        bodice_levels(b, ya))
        return draft_fail(msg, n, "biceps is too large for this bust and shoulder");
    return bodice_taper(b, intake, msg, n);
}

static int bodice_upper(struct draft_part *pt, const struct bodice *b, struct vec armpit, int front,
                        double *armhole, double *pitch_len)
{
    struct vec pitch = bodice_pitch(b, armpit, front);
    double across = pitch.x;
    struct seg neck = draft_neck_curve(b->nw, front ? b->fd : b->bd);
    struct path *e = draft_edge_add(pt, "armhole", 1.0, 0, armpit);

    if (!e)
        return DRAFT_ERR_INTERNAL;
    if (across < b->nw + 5.0)
        return DRAFT_ERR_INVALID;
    draft_armhole(e, armpit, pitch, b->sp, b->slope, pitch_len);
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

static int bodice_back(struct pattern *p, const struct bodice *b, double intake, double *armhole,
                       double *pitch)
{
    struct draft_part *pt = draft_part_add(p, "back", "Back", 1);
    struct vec m = vec_xy(0.5 * b->wbs.x, b->yw);
    struct path *e;
    int rc;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    e = draft_edge_add(pt, "cb", 0.0, 1, vec_xy(0.0, b->bd));
    geom_path_line(e, vec_xy(0.0, b->yw));
    rc = waist_edges(pt, vec_xy(0.0, b->yw), m, b->wbs, intake, b->yb + 0.2 * (b->yw - b->yb));
    if (rc)
        return rc;
    e = draft_edge_add(pt, "side", 1.0, 0, b->wbs);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_line(e, b->ab);
    return bodice_upper(pt, b, b->ab, 0, armhole, pitch);
}

static int bodice_front(struct pattern *p, const struct bodice *b, double intake, double *armhole,
                        double *pitch)
{
    struct draft_part *pt = draft_part_add(p, "front", "Front", 1);
    struct vec m = vec_xy(b->bp.x, b->ywf), peak;
    struct path *e;
    int rc;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    e = draft_edge_add(pt, "cf", 0.0, 1, vec_xy(0.0, b->fd));
    geom_path_line(e, vec_xy(0.0, b->ywf));
    rc = waist_edges(pt, vec_xy(0.0, b->ywf), m, b->ws, intake,
                     b->bp.y + fmin(25.0, 0.3 * (b->ywf - b->bp.y)));
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
    double intake;
    int rc;

    if (bodice_frame(in, &b, msg, n) || bodice_fit_arm(in, &b, &intake, msg, n))
        return DRAFT_ERR_INVALID;
    rc = bodice_front(p, &b, intake, &s.armhole_front, &s.pitch_front);
    if (!rc)
        rc = bodice_back(p, &b, intake, &s.armhole_back, &s.pitch_back);
    if (rc == DRAFT_ERR_INVALID)
        return draft_fail(msg, n,
                          "bustSpan, waist and shoulderToShoulder do not leave room "
                          "for the darts and the armhole");
    if (rc)
        return rc;
    s.width = draft_m(in, "biceps") * (1.0 + DRAFT_SLEEVE_BICEPS_EASE);
    s.length = draft_m(in, "shoulderToWrist");
    s.wrist = 1.5 * draft_m(in, "wrist");
    s.cap_ease = DRAFT_SLEEVE_CAP_EASE;
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
