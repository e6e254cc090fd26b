/*
 * design_body.c - the body block for bodies without breasts: front and
 * back cut on the fold, and a sleeve. Our own construction.
 *
 * Frame: x = 0 is the centre line (the fold), y = 0 the level of the high
 * point of the shoulder (HPS), y down. Front and back share the frame:
 * quarter width chest x (1 + chest_ease) / 4 from the armhole level down to
 * the hem (wider at the hem only if optional hips need it), the same
 * shoulder line, neck width and armhole depth. They differ in neck depth
 * (the front depth is solved so that the whole neckline is neck x (1 +
 * neck ease)) and in the across width and pitch height of the armhole.
 * The armhole is deepened when it is too short for the arm's sleeve.
 * The optional waist is not drafted: checks.c reads it to warn when the
 * block cannot close over it.
 *
 * Fit options (options.c): chest_ease, hips_ease, body_length (the hem
 * below waistToHips), sleeve_length (cut from the sleeve's taper),
 * armhole_depth (added before the armhole is deepened for the arm).
 *
 * Invariants (tests/unit/test_draft.c checks them): front and back side
 * seams and shoulder seams are equal by construction; 4 x the quarter width
 * at the chest line is exactly chest x (1 + chest_ease); the
 * neckline is fitted within 0.01 mm; the sleeve cap is fitted to the two
 * armholes (design_common.c); every curve leaves the seam it crosses
 * square (neckline and armhole at the shoulder, armhole and hem at the
 * side) and meets the fold square, so sewn they run on smoothly; the
 * armhole deepens continuously with the arm.
 */
#include "draft/draft_impl.h"

static const char *const body_required[] = {
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
static const char *const body_optional[] = {"hips", "waist", NULL};

struct body {
    double slope;      /* shoulder slope, radians */
    double nw, bd, fd; /* neck width, back and front neck depth */
    double ya, yw, yh; /* armhole depth, waist, hem (at the fold) */
    double w, wh;      /* quarter width at the chest and at the hem */
    struct vec hps, sp;
    struct vec hem_side, side; /* hem corner at the side seam; unit side direction, down */
};

/* The hem corner: the side seam runs straight from the armpit towards
 * (wh, yh); the hem leaves it square and meets the fold square, so (the
 * body widening to the hem) it rises towards the side. The corner sits on
 * the side line, raised by the sagitta of the circular arc through it
 * centred on the fold: x = wh / (1 + tan(phi / 2) tan(phi)), phi the side's
 * angle from the vertical. */
static void body_hem(struct body *b)
{
    double run = b->wh - b->w, drop = b->yh - b->ya, tphi = run / drop;
    double thalf = run / (drop + hypot(drop, run)), x = b->wh / (1.0 + thalf * tphi);

    b->hem_side = vec_xy(x, b->yh - x * thalf);
    b->side = vec_unit(vec_xy(run, drop));
}

static int body_frame(const struct draft_input *in, struct body *b, char *msg, size_t n)
{
    double neck = draft_m(in, "neck"), chest = draft_m(in, "chest");
    double s2s = draft_m(in, "shoulderToShoulder"), hips = draft_m(in, "hips");

    b->slope = draft_m(in, "shoulderSlope") * GEOM_PI / 180.0;
    b->nw = neck * (1.0 + DRAFT_BODY_NECK_EASE) / 5.6;
    b->bd = neck / 16.0;
    if (draft_neck_fit(neck * (1.0 + DRAFT_BODY_NECK_EASE), b->nw, b->bd, b->slope, &b->fd, msg, n))
        return DRAFT_ERR_INVALID;
    b->yw = draft_m(in, "hpsToWaistBack");
    b->ya = b->yw - draft_m(in, "waistToArmpit") + 0.025 * chest +
            draft_opt(in, &draft_design_body, "armhole_depth");
    b->yh = b->yw + draft_m(in, "waistToHips") + draft_opt(in, &draft_design_body, "body_length");
    b->w = chest * (1.0 + 0.01 * draft_opt(in, &draft_design_body, "chest_ease")) / 4.0;
    b->wh = fmax(b->w, hips * (1.0 + 0.01 * draft_opt(in, &draft_design_body, "hips_ease")) / 4.0);
    b->hps = vec_xy(b->nw, 0.0);
    b->sp = vec_xy(0.5 * s2s, (0.5 * s2s - b->nw) * tan(b->slope));
    if (b->sp.x < b->nw + 30.0)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck");
    if (b->w < b->nw + 60.0)
        return draft_fail(msg, n, "chest is too small for this neck");
    if (b->ya < b->sp.y + 60.0 || b->ya < b->fd + 20.0)
        return draft_fail(msg, n,
                          "waistToArmpit leaves no room for the armhole under the "
                          "shoulder (compare hpsToWaistBack)");
    if (b->yh < b->ya + 40.0)
        return draft_fail(msg, n,
                          "hpsToWaistBack and waistToArmpit leave no body below the "
                          "armhole");
    body_hem(b);
    return 0;
}

struct body_half {
    double armhole, pitch; /* armhole length, and from the armpit to the pitch notch */
};

static struct vec body_pitch(const struct body *b, double ya, int front)
{
    double across = fmin(fmin((front ? 0.92 : 0.96) * b->sp.x, b->w - 15.0), b->sp.x - 2.0);
    return vec_xy(across, b->sp.y + (front ? 0.55 : 0.5) * (ya - b->sp.y));
}

/* Front + back armhole length for armhole depth ya. */
static double body_armholes(double ya, void *ctx)
{
    const struct body *b = ctx;
    struct seg s[2];
    double l = 0.0;

    for (int front = 0; front < 2; front++) {
        draft_armhole_segs(vec_xy(b->w, ya), vec_unit(vec_xy(b->wh - b->w, b->yh - ya)),
                           body_pitch(b, ya, front), b->sp, b->slope, s);
        l += geom_seg_length(&s[0]) + geom_seg_length(&s[1]);
    }
    return l;
}

/* The sleeve, its armholes still unknown. */
static void body_sleeve(const struct draft_input *in, struct draft_sleeve_spec *s)
{
    s->hem_factor = 1.0;
    s->underarm = 0.0;
    s->width = draft_m(in, "biceps") * (1.0 + DRAFT_SLEEVE_BICEPS_EASE);
    s->wrist_at = draft_m(in, "shoulderToWrist");
    s->length = s->wrist_at + draft_opt(in, &draft_design_body, "sleeve_length");
    s->wrist = 1.5 * draft_m(in, "wrist");
    s->cap_ease = DRAFT_SLEEVE_CAP_EASE;
}

/* Deepen the armhole if the arm needs more than it has (continuously: at
 * the depth where the armholes are just long enough, nothing moves). */
static int body_fit_arm(const struct draft_input *in, struct body *b, char *msg, size_t n)
{
    struct draft_sleeve_spec s;
    double need, ya;

    body_sleeve(in, &s);
    need = draft_sleeve_min_armhole(&s) + 0.5; /* 0.5: the solver's tolerance, and more */
    if (body_armholes(b->ya, b) >= need)
        return 0;
    if (draft_solve(body_armholes, b, b->ya, b->yh - 40.0, need, 0.25, &ya))
        return draft_fail(msg, n, "biceps is too large for this chest and shoulder");
    b->ya = ya;
    body_hem(b);
    return 0;
}

static int body_part(struct pattern *p, const struct body *b, int front, struct body_half *h)
{
    struct draft_part *pt =
        draft_part_add(p, front ? "front" : "back", front ? "Front" : "Back", 1);
    double depth = front ? b->fd : b->bd;
    struct vec pitch = body_pitch(b, b->ya, front);
    double across = pitch.x;
    struct seg neck = draft_neck_curve(b->nw, depth, b->slope);
    double k = b->hem_side.x / 3.0;
    struct path *e;

    if (!pt)
        return DRAFT_ERR_INTERNAL;
    if (across < b->nw + 5.0)
        return DRAFT_ERR_INVALID;
    e = draft_edge_add(pt, front ? "cf" : "cb", 0.0, 1, vec_xy(0.0, depth));
    geom_path_line(e, vec_xy(0.0, b->yh));
    e = draft_edge_add(pt, "hem", 1.0, 0, vec_xy(0.0, b->yh));
    geom_path_cubic(e, vec_xy(k, b->yh), vec_mad(b->hem_side, vec_xy(b->side.y, -b->side.x), -k),
                    b->hem_side);
    e = draft_edge_add(pt, "side", 1.0, 0, b->hem_side);
    geom_path_line(e, vec_xy(b->w, b->ya));
    e = draft_edge_add(pt, "armhole", 1.0, 0, vec_xy(b->w, b->ya));
    draft_armhole(e, vec_xy(b->w, b->ya), b->side, pitch, b->sp, b->slope, &h->pitch);
    h->armhole = geom_path_length(e);
    e = draft_edge_add(pt, "shoulder", 1.0, 0, b->sp);
    geom_path_line(e, b->hps);
    e = draft_edge_add(pt, "neck", 1.0, 0, b->hps);
    if (!e)
        return DRAFT_ERR_INTERNAL;
    geom_path_push(e, &neck);
    draft_notch_add(pt, "armhole", h->pitch, front ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK);
    draft_level_add(pt, "chest", b->ya);
    draft_level_add(pt, "waist", b->yw);
    pt->title_at = vec_xy(0.5 * b->w, 0.5 * (b->ya + b->yh));
    return 0;
}

static int body_draft(struct pattern *p, const struct draft_input *in, char *msg, size_t n)
{
    struct body b;
    struct body_half fh, bh;
    struct draft_sleeve_spec s;

    int rc;

    if (body_frame(in, &b, msg, n) || body_fit_arm(in, &b, msg, n))
        return DRAFT_ERR_INVALID;
    rc = body_part(p, &b, 1, &fh);
    if (!rc)
        rc = body_part(p, &b, 0, &bh);
    if (rc == DRAFT_ERR_INVALID)
        return draft_fail(msg, n, "shoulderToShoulder is too narrow for this neck and chest");
    if (rc)
        return rc;
    body_sleeve(in, &s);
    s.armhole_front = fh.armhole;
    s.armhole_back = bh.armhole;
    s.pitch_front = fh.pitch;
    s.pitch_back = bh.pitch;
    return draft_sleeve(p, &s, msg, n);
}

const struct design draft_design_body = {
    .name = "body",
    .title = "Body block",
    .required = body_required,
    .optional = body_optional,
    .needs_breasts = 0,
    .draft = body_draft,
};
