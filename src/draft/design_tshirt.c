/*
 * design_tshirt.c - a knit T-shirt for any body: front and back cut on the
 * fold, a short or long sleeve and a neckband. Our own construction, on
 * the blocks: the body block's frame, armhole, hem and sleeve
 * (design_common.c), and for a body with breasts the bodice block's
 * widths with its darts rotated out.
 *
 * Frame: x = 0 the centre line (the fold), y = 0 the HPS level, y down.
 * At the chest line the back is highBust x (1 + chest_ease) / 4 wide and
 * the front the rest of chest x (1 + chest_ease) / 2, as on the bodice (a
 * body without breasts, or without highBust: both chest x (1 + ease) / 4).
 * The bodice takes the bust's extra length in a side dart and suppresses
 * the waist with darts; rotated to the hem, those darts become width below
 * the bust, which a straight knit front already has (it falls from the
 * full bust), so nothing is sewn: the front keeps the width and the centre
 * front its length, hpsToWaistFront to the waist (the back
 * hpsToWaistBack). Knit ease is small or negative (chest_ease, hips_ease:
 * options.c); the fabric's stretch does the rest, so the sleeve cap is not
 * eased (DRAFT_TSHIRT_CAP_EASE) and the neckband is cut shorter than the
 * neckline (DRAFT_TSHIRT_BAND_RATIO) and stretched on.
 *
 * Below the armhole each side seam runs straight to the hem, widening by
 * the same run front and back when hips x (1 + hips_ease) needs more than
 * the chest line (exactly that girth on the line through the hem corners),
 * so the two side seams are equal; their hem corners lie at one height,
 * where the back's circular hem (as on the body block) meets its side. The hem leaves each fold
 * square and meets the side seam square; the front's centre lies hpsToWaistFront - hpsToWaistBack
 * lower than the back's, the hem curving to the common corner.
 *
 * The neckline is wider and deeper than the block's: width neck / 5, back
 * depth neck / 16 + 6 mm, the front depth solved so the whole neckline is
 * neck x (1 + DRAFT_TSHIRT_NECK_EASE). The neckband's seam edge is that
 * neckline x DRAFT_TSHIRT_BAND_RATIO, notched where it meets the shoulder
 * seams and the centre front (stretched evenly).
 *
 * Fit options (options.c): chest_ease, hips_ease, body_length (the hem
 * below waistToHips), sleeve (short: an underarm seam
 * DRAFT_TSHIRT_SHORT_SLEEVE x shoulderToWrist long; long: to the wrist),
 * sleeve_length (added to either, the hem following the sleeve's taper),
 * armhole_depth.
 *
 * Invariants (tests/unit/test_draft.c): side and shoulder seams pair by
 * construction; 2 x (front + back width) at the chest line is chest x (1 +
 * chest_ease); on the line through the hem corners it is max(that, hips x
 * (1 + hips_ease)); the neckline is fitted within 0.01 mm and the band is
 * its ratio;
 * the sleeve cap equals the two armholes; every curve leaves the seam it
 * crosses square and meets the fold square; the armhole deepens
 * continuously with the arm.
 */
#include "draft/draft_impl.h"

static const char *const tshirt_required[] = {
    "biceps",
    "chest",
    "hpsToWaistBack",
    "neck",
    "shoulderSlope",
    "shoulderToShoulder",
    "shoulderToWrist",
    "waistToArmpit",
    "waistToHips",
    "wrist",
    NULL,
};
/* hips widens the hem; highBust and hpsToWaistFront shape the front of a
 * body with breasts (without them it is drafted like the back); waist is
 * only read for a warning (checks.c) */
static const char *const tshirt_optional[] = {"hips", "highBust", "hpsToWaistFront", "waist", NULL};

#define D (&draft_design_tshirt)

struct tshirt {
    double slope;      /* shoulder slope, radians */
    double nw, bd, fd; /* neck width, back and front neck depth */
    double ya, yw, yh; /* armhole depth, back waist, back hem at the fold */
    double yhf;        /* front hem at the fold */
    double wf, wb;     /* widths at the chest line */
    double need;       /* each side seam's widening from the chest line to the corners */
    double run;        /* the side's widening down to yh (tshirt_hem) */
    double corner_y;   /* both hem corners */
    struct vec hps, sp, side;
};

/* The side's widening at the hem corners for its angle phi from the
 * vertical: the corner raised above yh by x tan(phi / 2). */
static double corner_need(double phi, void *ctx)
{
    const struct tshirt *t = ctx;
    return tan(phi) * (t->yh - (t->wb + t->need) * tan(0.5 * phi) - t->ya);
}

/* Both hem corners at one height, each need wider than the chest line:
 * where the back's hem, a circular arc centred on the fold (leaving it
 * square and meeting the side square, as on the body block), meets its
 * side. The side's angle phi solves tan(phi) (corner_y - ya) = need, with
 * corner_y = yh - x tan(phi / 2) (x the corner's); the corner stays at
 * least 40 mm under the armpit, else -1 (hips too large for the chest). */
static int tshirt_hem(struct tshirt *t)
{
    double x = t->wb + t->need, top = fmin(2.0 * atan((t->yh - t->ya - 40.0) / x), 1.4);
    double phi = 0.0, prev = 0.0;
    int found = t->need <= 0.0;

    /* the first angle that widens enough, scanned up to where the corner
     * comes 40 mm under the armpit (or 80 degrees) */
    for (int i = 1; !found && top > 0.0 && i <= 70; i++) {
        double a = top * i / 70.0;
        if (corner_need(a, t) >= t->need) {
            if (draft_solve(corner_need, t, prev, a, t->need, 1e-6, &phi))
                return -1;
            found = 1;
        }
        prev = a;
    }
    if (!found)
        return -1;
    t->corner_y = t->yh - x * tan(0.5 * phi);
    t->run = tan(phi) * (t->yh - t->ya);
    t->side = vec_xy(sin(phi), cos(phi));
    return 0;
}

static struct vec tshirt_corner(const struct tshirt *t, int front)
{
    return vec_xy((front ? t->wf : t->wb) + t->need, t->corner_y);
}

static int tshirt_frame(const struct draft_input *in, struct tshirt *t, char *msg, size_t n)
{
    double neck = draft_m(in, "neck"), chest = draft_m(in, "chest");
    double s2s = draft_m(in, "shoulderToShoulder"), hips = draft_m(in, "hips");
    double ease = 1.0 + 0.01 * draft_opt(in, D, "chest_ease");
    double high = in->breasts && draft_has(in, "highBust") ? draft_m(in, "highBust") : chest;

    t->slope = draft_m(in, "shoulderSlope") * GEOM_PI / 180.0;
    t->nw = neck / 5.0;
    t->bd = neck / 16.0 + 6.0;
    if (draft_neck_fit(neck * (1.0 + DRAFT_TSHIRT_NECK_EASE), t->nw, t->bd, t->slope, &t->fd, msg,
                       n))
        return DRAFT_ERR_INVALID;
    t->yw = draft_m(in, "hpsToWaistBack");
    t->ya =
        t->yw - draft_m(in, "waistToArmpit") + 0.025 * chest + draft_opt(in, D, "armhole_depth");
    t->yh = t->yw + draft_m(in, "waistToHips") + draft_opt(in, D, "body_length");
    t->yhf = t->yh;
    if (in->breasts && draft_has(in, "hpsToWaistFront"))
        t->yhf += draft_m(in, "hpsToWaistFront") - t->yw;
    t->wb = high * ease / 4.0;
    t->wf = chest * ease / 2.0 - t->wb;
    t->need = fmax(
        0.0, 0.5 * (hips * (1.0 + 0.01 * draft_opt(in, D, "hips_ease")) / 2.0 - (t->wf + t->wb)));
    t->hps = vec_xy(t->nw, 0.0);
    t->sp = vec_xy(0.5 * s2s, (0.5 * s2s - t->nw) * tan(t->slope));
    if (t->sp.x < t->nw + 30.0)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck");
    if (fmin(t->wb, t->wf) < t->nw + 50.0)
        return draft_fail(msg, n, "chest (with chest_ease) is too small for this neck");
    if (t->ya < t->sp.y + 60.0 || t->ya < t->fd + 20.0)
        return draft_fail(msg, n,
                          "waistToArmpit leaves no room for the armhole under the "
                          "shoulder (compare hpsToWaistBack)");
    if (t->yh < t->ya + 60.0)
        return draft_fail(msg, n,
                          "hpsToWaistBack, waistToArmpit and body_length leave no body below "
                          "the armhole");
    if (tshirt_hem(t))
        return draft_fail(msg, n,
                          "hips is too large for this chest: the hem would rise to the "
                          "armhole");
    return 0;
}

static struct vec tshirt_pitch(const struct tshirt *t, double ya, int front)
{
    double w = front ? t->wf : t->wb;
    double across = fmin(fmin((front ? 0.92 : 0.96) * t->sp.x, w - 15.0), t->sp.x - 2.0);
    return vec_xy(across, t->sp.y + (front ? 0.55 : 0.5) * (ya - t->sp.y));
}

/* Front + back armhole length for armhole depth ya. */
static double tshirt_armholes(double ya, void *ctx)
{
    const struct tshirt *t = ctx;
    struct tshirt at = *t;
    struct vec side;
    struct seg s[2];
    double l = 0.0;

    at.ya = ya;
    if (tshirt_hem(&at))
        return NAN;
    side = at.side;
    for (int front = 0; front < 2; front++) {
        draft_armhole_segs(vec_xy(front ? t->wf : t->wb, ya), side, tshirt_pitch(t, ya, front),
                           t->sp, t->slope, s);
        l += geom_seg_length(&s[0]) + geom_seg_length(&s[1]);
    }
    return l;
}

/* The sleeve, its armholes still unknown. */
static void tshirt_sleeve(const struct draft_input *in, struct draft_sleeve_spec *s)
{
    double s2w = draft_m(in, "shoulderToWrist");
    int longs = draft_opt(in, D, "sleeve") > 0.5;

    s->width = draft_m(in, "biceps") * (1.0 + DRAFT_TSHIRT_BICEPS_EASE);
    s->wrist_at = s2w;
    s->length = s2w + draft_opt(in, D, "sleeve_length");
    s->underarm = longs ? 0.0 : DRAFT_TSHIRT_SHORT_SLEEVE * s2w + draft_opt(in, D, "sleeve_length");
    s->wrist = 1.3 * draft_m(in, "wrist");
    s->cap_ease = DRAFT_TSHIRT_CAP_EASE;
    s->hem_factor = DRAFT_TSHIRT_HEM_FACTOR;
}

/* Deepen the armhole if the arm needs more than it has (continuously). */
static int tshirt_fit_arm(const struct draft_input *in, struct tshirt *t, char *msg, size_t n)
{
    struct draft_sleeve_spec s;
    double need, ya;

    tshirt_sleeve(in, &s);
    need = draft_sleeve_min_armhole(&s) + 0.5; /* 0.5: the solver's tolerance, and more */
    if (tshirt_armholes(t->ya, t) >= need)
        return 0;
    if (draft_solve(tshirt_armholes, t, t->ya, t->yh - 60.0, need, 0.25, &ya))
        return draft_fail(msg, n, "biceps is too large for this chest and shoulder");
    t->ya = ya;
    if (tshirt_hem(t))
        return draft_fail(msg, n,
                          "hips is too large for this chest: the hem would rise to the "
                          "armhole");
    return 0;
}

static int tshirt_part(struct pattern *p, const struct tshirt *t, int front, double *armhole,
                       double *pitch_len, double *neck_len)
{
    struct draft_part *pt =
        draft_part_add(p, front ? "front" : "back", front ? "Front" : "Back", 1);
    double w = front ? t->wf : t->wb, yh = front ? t->yhf : t->yh;
    struct vec pitch = tshirt_pitch(t, t->ya, front), corner = tshirt_corner(t, front);
    struct seg neck = draft_neck_curve(t->nw, front ? t->fd : t->bd, t->slope);
    double k = corner.x / 3.0;
    struct path *e;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    if (pitch.x < t->nw + 5.0)
        return DRAFT_ERR_INVALID;
    e = draft_edge_add(pt, front ? "cf" : "cb", 0.0, 1, vec_xy(0.0, front ? t->fd : t->bd));
    geom_path_line(e, vec_xy(0.0, yh));
    e = draft_edge_add(pt, "hem", DRAFT_TSHIRT_HEM_FACTOR, 0, vec_xy(0.0, yh));
    geom_path_cubic(e, vec_xy(k, yh), vec_mad(corner, vec_xy(t->side.y, -t->side.x), -k), corner);
    e = draft_edge_add(pt, "side", 1.0, 0, corner);
    geom_path_line(e, vec_xy(w, t->ya));
    e = draft_edge_add(pt, "armhole", 1.0, 0, vec_xy(w, t->ya));
    draft_armhole(e, vec_xy(w, t->ya), t->side, pitch, t->sp, t->slope, pitch_len);
    *armhole = geom_path_length(e);
    e = draft_edge_add(pt, "shoulder", 1.0, 0, t->sp);
    geom_path_line(e, t->hps);
    e = draft_edge_add(pt, "neck", 1.0, 0, t->hps);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_push(e, &neck);
    *neck_len = geom_seg_length(&neck);
    draft_notch_add(pt, "armhole", *pitch_len, front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK);
    draft_level_add(pt, "chest", t->ya);
    draft_level_add(pt, "waist", t->yw);
    pt->title_at = vec_xy(0.5 * w, 0.5 * (t->ya + t->corner_y));
    return 0;
}

static int tshirt_draft(struct pattern *p, const struct draft_input *in, char *msg, size_t n)
{
    struct tshirt t;
    struct draft_sleeve_spec s;
    double fn, bn, band;
    int rc;

    if (tshirt_frame(in, &t, msg, n) || tshirt_fit_arm(in, &t, msg, n))
        return DRAFT_ERR_INVALID;
    if (t.yhf < t.ya + 60.0)
        return draft_fail(msg, n,
                          "hpsToWaistFront is too short for hpsToWaistBack: the front would end "
                          "above the armhole");
    rc = tshirt_part(p, &t, 1, &s.armhole_front, &s.pitch_front, &fn);
    if (!rc)
        rc = tshirt_part(p, &t, 0, &s.armhole_back, &s.pitch_back, &bn);
    if (rc == DRAFT_ERR_INVALID)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck and chest");
    if (rc)
        return rc;
    tshirt_sleeve(in, &s);
    rc = draft_sleeve(p, &s, msg, n);
    if (rc)
        return rc;
    /* the band's seam starts at the centre back (its ends sewn together
     * there): back neck, front neck to the centre front, and round */
    band = DRAFT_TSHIRT_BAND_RATIO;
    {
        const double at[] = {band * bn, band * (bn + fn), band * (bn + 2.0 * fn)};
        const int kinds[] = {DRAFT_NOTCH_BACK, DRAFT_NOTCH_FRONT, DRAFT_NOTCH_BACK};
        return draft_band(p, "neckband", "Neckband", "neck", band * 2.0 * (fn + bn),
                          DRAFT_TSHIRT_BAND_WIDTH, at, kinds, 3);
    }
}

const struct design draft_design_tshirt = {
    .name = "tshirt",
    .title = "T-shirt",
    .required = tshirt_required,
    .optional = tshirt_optional,
    .needs_breasts = -1,
    .draft = tshirt_draft,
};
