/*
 * geom.c - the geometry kernel of the drafting engine (see geom.h).
 *
 * Invariants: a segment always stores four points; a line keeps p[1] and
 * p[2] at its thirds so that every cubic formula (evaluation, derivative,
 * split) is exact for it too, and line-only fast paths are optional. Arc
 * lengths use 16-point Gauss-Legendre on each half, refined until the halves
 * agree with the whole. Root finding on [0, 1] splits a cubic at its critical
 * points and brackets each monotone piece, so no root is lost to a bad
 * starting guess. The offset fits each curve piece with a cubic whose end
 * points, end tangents and midpoint are exact, checks at six more points
 * that it lies |d| from the curve (closest points by Newton), and halves
 * the piece until the error is under OFF_TOL.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "atelier/geom.h"
#include "base/util.h"

#define OFF_TOL         0.005 /* mm: fitted offset vs true offset */
#define OFF_DEPTH       10    /* at most 2^10 pieces per source segment */
#define LEN_TOL         1e-7  /* mm: 8- vs 16-point rule, bounds the 16-point error */
#define LOOP_MAX_PASSES 64

/* ---- boxes ------------------------------------------------------------ */

void geom_bbox_empty(struct bbox *b)
{
    b->x0 = b->y0 = DBL_MAX;
    b->x1 = b->y1 = -DBL_MAX;
}

void geom_bbox_add(struct bbox *b, struct vec p)
{
    if (p.x < b->x0)
        b->x0 = p.x;
    if (p.x > b->x1)
        b->x1 = p.x;
    if (p.y < b->y0)
        b->y0 = p.y;
    if (p.y > b->y1)
        b->y1 = p.y;
}

void geom_bbox_union(struct bbox *b, const struct bbox *o)
{
    if (o->x0 > o->x1)
        return;
    geom_bbox_add(b, vec_xy(o->x0, o->y0));
    geom_bbox_add(b, vec_xy(o->x1, o->y1));
}

int geom_bbox_overlap(const struct bbox *a, const struct bbox *b, double eps)
{
    return a->x0 <= b->x1 + eps && b->x0 <= a->x1 + eps && a->y0 <= b->y1 + eps &&
           b->y0 <= a->y1 + eps;
}

/* ---- polynomials on [0, 1] ----------------------------------------------- */

/* c[0] + c[1] t + c[2] t^2 + c[3] t^3 */
static double poly3(const double *c, double t)
{
    return ((c[3] * t + c[2]) * t + c[1]) * t + c[0];
}

static double poly3d(const double *c, double t)
{
    return (3.0 * c[3] * t + 2.0 * c[2]) * t + c[1];
}

/* Real roots of a t^2 + b t + c strictly inside (0, 1), ascending. */
static int quad_roots01(double a, double b, double c, double *r)
{
    double s = fabs(a) + fabs(b) + fabs(c), x[2];
    int n = 0, k = 0;

    if (s == 0.0)
        return 0;
    if (fabs(a) <= 1e-14 * s) {
        if (fabs(b) <= 1e-14 * s)
            return 0;
        x[n++] = -c / b;
    } else {
        double disc = b * b - 4.0 * a * c;
        if (disc < 0.0)
            return 0;
        double q = -0.5 * (b + copysign(sqrt(disc), b));
        x[n++] = q / a;
        if (q != 0.0)
            x[n++] = c / q;
    }
    if (n == 2 && x[0] > x[1]) {
        double t = x[0];
        x[0] = x[1];
        x[1] = t;
    }
    for (int i = 0; i < n; i++)
        if (x[i] > 0.0 && x[i] < 1.0 && (k == 0 || x[i] > r[k - 1]))
            r[k++] = x[i];
    return k;
}

/* Root of a monotone cubic between lo and hi, where f changes sign. */
static double bracket_root(const double *c, double lo, double hi, double flo, double eps)
{
    double t = 0.5 * (lo + hi);

    for (int i = 0; i < 100 && hi - lo > 1e-15; i++) {
        double f = poly3(c, t), d;
        if (fabs(f) <= eps)
            break;
        if ((f < 0.0) == (flo < 0.0)) {
            lo = t;
            flo = f;
        } else {
            hi = t;
        }
        d = poly3d(c, t);
        double tn = d != 0.0 ? t - f / d : lo - 1.0;
        t = (tn > lo && tn < hi) ? tn : 0.5 * (lo + hi);
    }
    return t;
}

static int push_root(double *r, int n, double t)
{
    if (n > 0 && t - r[n - 1] < 1e-9)
        return n;
    if (n < 3)
        r[n++] = t;
    return n;
}

/* Roots of the cubic c in [0, 1], ascending, at most 3. */
static int cubic_roots01(const double *c, double *r)
{
    double knot[4], scale = fabs(c[0]) + fabs(c[1]) + fabs(c[2]) + fabs(c[3]);
    double eps = 1e-13 * scale;
    int nk = 0, n = 0;

    knot[nk++] = 0.0;
    nk += quad_roots01(3.0 * c[3], 2.0 * c[2], c[1], knot + 1);
    knot[nk++] = 1.0;
    for (int i = 0; i + 1 < nk; i++) {
        double lo = knot[i], hi = knot[i + 1], flo = poly3(c, lo), fhi = poly3(c, hi);
        if (fabs(flo) <= eps)
            n = push_root(r, n, lo);
        else if (fabs(fhi) > eps && (flo < 0.0) != (fhi < 0.0))
            n = push_root(r, n, bracket_root(c, lo, hi, flo, eps));
    }
    if (fabs(poly3(c, 1.0)) <= eps)
        n = push_root(r, n, 1.0);
    return n;
}

/* Power-basis coefficients of one coordinate of a segment. */
static void seg_coef(const struct seg *s, int y, double *c)
{
    double p0 = y ? s->p[0].y : s->p[0].x, p1 = y ? s->p[1].y : s->p[1].x;
    double p2 = y ? s->p[2].y : s->p[2].x, p3 = y ? s->p[3].y : s->p[3].x;

    c[0] = p0;
    c[1] = 3.0 * (p1 - p0);
    c[2] = 3.0 * (p0 - 2.0 * p1 + p2);
    c[3] = -p0 + 3.0 * (p1 - p2) + p3;
}

/* ---- segments ---------------------------------------------------------- */

struct seg geom_seg_line(struct vec a, struct vec b)
{
    struct seg s;

    s.kind = SEG_LINE;
    s.tag = 0;
    s.p[0] = a;
    s.p[1] = vec_lerp(a, b, 1.0 / 3.0);
    s.p[2] = vec_lerp(a, b, 2.0 / 3.0);
    s.p[3] = b;
    return s;
}

struct seg geom_seg_cubic(struct vec a, struct vec c1, struct vec c2, struct vec b)
{
    struct seg s;

    s.kind = SEG_CUBIC;
    s.tag = 0;
    s.p[0] = a;
    s.p[1] = c1;
    s.p[2] = c2;
    s.p[3] = b;
    return s;
}

struct vec geom_seg_eval(const struct seg *s, double t)
{
    if (s->kind == SEG_LINE)
        return vec_lerp(s->p[0], s->p[3], t);
    double mt = 1.0 - t, a = mt * mt * mt, b = 3.0 * mt * mt * t, c = 3.0 * mt * t * t;
    double d = t * t * t;
    return vec_xy(a * s->p[0].x + b * s->p[1].x + c * s->p[2].x + d * s->p[3].x,
                  a * s->p[0].y + b * s->p[1].y + c * s->p[2].y + d * s->p[3].y);
}

struct vec geom_seg_deriv(const struct seg *s, double t)
{
    if (s->kind == SEG_LINE)
        return vec_sub(s->p[3], s->p[0]);
    double mt = 1.0 - t, a = 3.0 * mt * mt, b = 6.0 * mt * t, c = 3.0 * t * t;
    return vec_xy(
        a * (s->p[1].x - s->p[0].x) + b * (s->p[2].x - s->p[1].x) + c * (s->p[3].x - s->p[2].x),
        a * (s->p[1].y - s->p[0].y) + b * (s->p[2].y - s->p[1].y) + c * (s->p[3].y - s->p[2].y));
}

static double seg_scale(const struct seg *s)
{
    struct bbox b = geom_seg_hull(s);
    return (b.x1 - b.x0) + (b.y1 - b.y0);
}

struct vec geom_seg_tangent(const struct seg *s, double t)
{
    struct vec d = geom_seg_deriv(s, t);
    double l2 = vec_dot(d, d), tiny;

    if (l2 > 1e-18) /* coordinates are mm: a speed this large is no cusp */
        return vec_mul(d, 1.0 / sqrt(l2));
    tiny = 1e-12 * (seg_scale(s) + 1e-300);
    if (sqrt(l2) > tiny)
        return vec_unit(d);
    if (t <= 0.0 || t >= 1.0) {
        int end = t >= 1.0;
        for (int k = 2; k <= 3; k++) {
            d = end ? vec_sub(s->p[3], s->p[3 - k]) : vec_sub(s->p[k], s->p[0]);
            if (vec_len(d) > tiny)
                return vec_unit(d);
        }
        return vec_xy(1.0, 0.0);
    }
    d = vec_sub(geom_seg_eval(s, fmin(1.0, t + 1e-6)), geom_seg_eval(s, fmax(0.0, t - 1e-6)));
    return vec_len(d) > 0.0 ? vec_unit(d) : vec_xy(1.0, 0.0);
}

void geom_seg_split(const struct seg *s, double t, struct seg *a, struct seg *b)
{
    struct vec p01 = vec_lerp(s->p[0], s->p[1], t), p12 = vec_lerp(s->p[1], s->p[2], t);
    struct vec p23 = vec_lerp(s->p[2], s->p[3], t), q0 = vec_lerp(p01, p12, t);
    struct vec q1 = vec_lerp(p12, p23, t), m = vec_lerp(q0, q1, t);
    struct seg l, r;

    if (s->kind == SEG_LINE) {
        l = geom_seg_line(s->p[0], m);
        r = geom_seg_line(m, s->p[3]);
    } else {
        l = geom_seg_cubic(s->p[0], p01, q0, m);
        r = geom_seg_cubic(m, q1, p23, s->p[3]);
    }
    l.tag = r.tag = s->tag;
    if (a)
        *a = l;
    if (b)
        *b = r;
}

struct seg geom_seg_sub(const struct seg *s, double t0, double t1)
{
    struct seg left, out;

    if (t1 >= 1.0)
        left = *s;
    else
        geom_seg_split(s, t1 <= 0.0 ? 0.0 : t1, &left, NULL);
    if (t0 <= 0.0 || t1 <= 0.0)
        return left;
    geom_seg_split(&left, t0 >= t1 ? 1.0 : t0 / t1, NULL, &out);
    return out;
}

/* 16-point Gauss-Legendre on [-1, 1]: positive nodes and their weights. */
static const double gl_x[8] = {0.0950125098376374, 0.2816035507792589, 0.4580167776572274,
                               0.6178762444026438, 0.7554044083550030, 0.8656312023878318,
                               0.9445750230732326, 0.9894009349916499};
static const double gl_w[8] = {0.1894506104550685, 0.1826034150449236, 0.1691565193950025,
                               0.1495959888165767, 0.1246289712555339, 0.0951585116824928,
                               0.0622535239386479, 0.0271524594117541};

/* 8-point Gauss-Legendre, for the error estimate of the 16-point rule. */
static const double gl8_x[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                0.9602898564975363};
static const double gl8_w[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                0.1012285362903763};

/* The derivative as a polynomial, B'(t) = c + t (b + t a), precomputed
 * once per curve for the quadrature. */
struct dpoly {
    double ax, bx, cx, ay, by, cy;
};

static struct dpoly dpoly_of(const struct seg *s)
{
    struct vec d0 = vec_sub(s->p[1], s->p[0]), d1 = vec_sub(s->p[2], s->p[1]);
    struct vec d2 = vec_sub(s->p[3], s->p[2]);
    struct dpoly q = {3.0 * (d0.x - 2.0 * d1.x + d2.x), 6.0 * (d1.x - d0.x), 3.0 * d0.x,
                      3.0 * (d0.y - 2.0 * d1.y + d2.y), 6.0 * (d1.y - d0.y), 3.0 * d0.y};
    return q;
}

static inline double speed(const struct dpoly *q, double t)
{
    double x = q->cx + t * (q->bx + t * q->ax), y = q->cy + t * (q->by + t * q->ay);
    return sqrt(x * x + y * y);
}

static double gl16(const struct dpoly *q, double a, double b)
{
    double h = 0.5 * (b - a), m = 0.5 * (a + b), sum = 0.0;

    for (int i = 0; i < 8; i++) {
        double x = h * gl_x[i];
        sum += gl_w[i] * (speed(q, m + x) + speed(q, m - x));
    }
    return sum * h;
}

static double gl8(const struct dpoly *q, double a, double b)
{
    double h = 0.5 * (b - a), m = 0.5 * (a + b), sum = 0.0;

    for (int i = 0; i < 4; i++) {
        double x = h * gl8_x[i];
        sum += gl8_w[i] * (speed(q, m + x) + speed(q, m - x));
    }
    return sum * h;
}

/* 16-point rule on [a, b] where it agrees with the 8-point rule (so its own
 * error is far smaller still), halving the interval elsewhere. */
static double len_rec(const struct dpoly *q, double a, double b, int depth)
{
    double g16 = gl16(q, a, b), m = 0.5 * (a + b);

    if (depth >= 12 || fabs(g16 - gl8(q, a, b)) <= LEN_TOL)
        return g16;
    return len_rec(q, a, m, depth + 1) + len_rec(q, m, b, depth + 1);
}

double geom_seg_length_to(const struct seg *s, double t)
{
    if (t <= 0.0)
        return 0.0;
    if (t > 1.0)
        t = 1.0;
    if (s->kind == SEG_LINE)
        return vec_dist(s->p[0], s->p[3]) * t;
    struct dpoly q = dpoly_of(s);
    return len_rec(&q, 0.0, t, 0);
}

double geom_seg_length(const struct seg *s)
{
    return geom_seg_length_to(s, 1.0);
}

double geom_seg_t_at_length(const struct seg *s, double len)
{
    double total = geom_seg_length(s), lo = 0.0, hi = 1.0, t, at = 0.0, base = 0.0;
    struct dpoly q = dpoly_of(s);

    if (!(len > 0.0) || !(total > 0.0))
        return 0.0;
    if (len >= total)
        return 1.0;
    if (s->kind == SEG_LINE)
        return len / total;
    t = len / total;
    /* Newton on the length, integrating only the step from the last t. */
    for (int i = 0; i < 40; i++) {
        double f, d;
        at = base + len_rec(&q, lo, t, 6);
        f = at - len;
        if (fabs(f) < 1e-9)
            break;
        if (f < 0.0) {
            lo = t;
            base = at;
        } else {
            hi = t;
        }
        d = speed(&q, t);
        double tn = d > 0.0 ? t - f / d : -1.0;
        t = (tn > lo && tn < hi) ? tn : 0.5 * (lo + hi);
        if (hi - lo < 1e-15)
            break;
    }
    return t;
}

struct bbox geom_seg_hull(const struct seg *s)
{
    struct bbox b;

    geom_bbox_empty(&b);
    for (int i = 0; i < 4; i++)
        geom_bbox_add(&b, s->p[i]);
    return b;
}

struct bbox geom_seg_bbox(const struct seg *s)
{
    struct bbox b;
    double c[4], r[2];

    geom_bbox_empty(&b);
    geom_bbox_add(&b, s->p[0]);
    geom_bbox_add(&b, s->p[3]);
    if (s->kind == SEG_LINE)
        return b;
    for (int y = 0; y < 2; y++) {
        seg_coef(s, y, c);
        int n = quad_roots01(3.0 * c[3], 2.0 * c[2], c[1], r);
        for (int i = 0; i < n; i++)
            geom_bbox_add(&b, geom_seg_eval(s, r[i]));
    }
    return b;
}

static double box_dist(const struct bbox *b, struct vec q)
{
    double dx = fmax(0.0, fmax(b->x0 - q.x, q.x - b->x1));
    double dy = fmax(0.0, fmax(b->y0 - q.y, q.y - b->y1));
    return sqrt(dx * dx + dy * dy);
}

static int seg_flat(const struct seg *s, double tol);

struct closest {
    struct vec q;
    double best, t;
};

/* Subdivide, skipping halves whose control box is farther than the best
 * so far; pieces flat to 1e-3 mm are measured on their chord (Newton then
 * polishes the answer). */
static void closest_rec(const struct seg *s, double t0, double t1, struct closest *c, int depth)
{
    struct bbox b = geom_seg_hull(s);
    struct seg l, r;

    if (box_dist(&b, c->q) >= c->best)
        return;
    if (depth >= 40 || seg_flat(s, 1e-3)) {
        struct vec d = vec_sub(s->p[3], s->p[0]);
        double l2 = vec_dot(d, d), u = l2 > 0.0 ? vec_dot(vec_sub(c->q, s->p[0]), d) / l2 : 0.0;
        u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
        double dist = vec_dist(c->q, vec_mad(s->p[0], d, u));
        if (dist < c->best) {
            c->best = dist;
            c->t = t0 + (t1 - t0) * u;
        }
        return;
    }
    geom_seg_split(s, 0.5, &l, &r);
    double m = 0.5 * (t0 + t1);
    if (vec_dist(c->q, l.p[3]) < c->best) {
        c->best = vec_dist(c->q, l.p[3]);
        c->t = m;
    }
    if (vec_dist(c->q, l.p[0]) <= vec_dist(c->q, r.p[3])) {
        closest_rec(&l, t0, m, c, depth + 1);
        closest_rec(&r, m, t1, c, depth + 1);
    } else {
        closest_rec(&r, m, t1, c, depth + 1);
        closest_rec(&l, t0, m, c, depth + 1);
    }
}

double geom_seg_closest(const struct seg *s, struct vec q, double *tout)
{
    struct closest c = {q, vec_dist(q, s->p[0]), 0.0};

    if (s->kind == SEG_LINE) {
        struct vec d = vec_sub(s->p[3], s->p[0]);
        double l2 = vec_dot(d, d), bt = l2 > 0.0 ? vec_dot(vec_sub(q, s->p[0]), d) / l2 : 0.0;
        bt = bt < 0.0 ? 0.0 : bt > 1.0 ? 1.0 : bt;
        if (tout)
            *tout = bt;
        return vec_dist(q, geom_seg_eval(s, bt));
    }
    if (vec_dist(q, s->p[3]) < c.best) {
        c.best = vec_dist(q, s->p[3]);
        c.t = 1.0;
    }
    closest_rec(s, 0.0, 1.0, &c, 0);
    /* polish: Newton on (B(t) - q) . B'(t) = 0 from the flat piece's
     * answer, kept only while it helps */
    for (int i = 0; i < 8; i++) {
        struct vec r = vec_sub(geom_seg_eval(s, c.t), q), d1 = geom_seg_deriv(s, c.t);
        struct vec a2 = vec_add(vec_sub(s->p[2], vec_mul(s->p[1], 2.0)), s->p[0]);
        struct vec b2 = vec_add(vec_sub(s->p[3], vec_mul(s->p[2], 2.0)), s->p[1]);
        double gd = vec_dot(d1, d1) + vec_dot(r, vec_mul(vec_lerp(a2, b2, c.t), 6.0));
        if (!(gd > 0.0))
            break;
        double tn = c.t - vec_dot(r, d1) / gd;
        tn = tn < 0.0 ? 0.0 : tn > 1.0 ? 1.0 : tn;
        double dn = vec_dist(q, geom_seg_eval(s, tn));
        if (!(dn < c.best))
            break;
        c.best = dn;
        c.t = tn;
    }
    if (tout)
        *tout = c.t;
    return c.best;
}

static int seg_cross(const struct seg *s, int y, double v, double *t)
{
    double c[4];

    seg_coef(s, y, c);
    c[0] -= v;
    return cubic_roots01(c, t);
}

int geom_seg_cross_y(const struct seg *s, double y, double *t)
{
    return seg_cross(s, 1, y, t);
}

int geom_seg_cross_x(const struct seg *s, double x, double *t)
{
    return seg_cross(s, 0, x, t);
}

/* ---- intersections ------------------------------------------------------ */

int geom_line_intersect(struct vec a0, struct vec a1, struct vec b0, struct vec b1, struct vec *p,
                        double *ta, double *tb)
{
    struct vec da = vec_sub(a1, a0), db = vec_sub(b1, b0), w = vec_sub(b0, a0);
    double den = vec_cross(da, db), ua, ub;

    if (fabs(den) <= 1e-12 * vec_len(da) * vec_len(db) || den == 0.0)
        return 0;
    ua = vec_cross(w, db) / den;
    ub = vec_cross(w, da) / den;
    if (p)
        *p = vec_mad(a0, da, ua);
    if (ta)
        *ta = ua;
    if (tb)
        *tb = ub;
    return 1;
}

static int add_hit(struct seg_hit *h, int n, int max, double ta, double tb, struct vec p)
{
    for (int i = 0; i < n; i++)
        if (vec_dist(h[i].p, p) < 1e-7)
            return n;
    if (n >= max)
        return n;
    h[n].ta = ta < 0.0 ? 0.0 : ta > 1.0 ? 1.0 : ta;
    h[n].tb = tb < 0.0 ? 0.0 : tb > 1.0 ? 1.0 : tb;
    h[n].p = p;
    return n + 1;
}

static int hit_line_line(const struct seg *a, const struct seg *b, struct seg_hit *h, int max)
{
    double ta, tb, e = 1e-9;
    struct vec p;

    if (!geom_line_intersect(a->p[0], a->p[3], b->p[0], b->p[3], &p, &ta, &tb))
        return 0;
    if (ta < -e || ta > 1 + e || tb < -e || tb > 1 + e)
        return 0;
    return add_hit(h, 0, max, ta, tb, p);
}

/* Line l against cubic c; hits report (t on line, t on cubic). */
static int hit_line_cubic(const struct seg *l, const struct seg *c, struct seg_hit *h, int max)
{
    struct vec d = vec_sub(l->p[3], l->p[0]);
    double l2 = vec_dot(d, d), cx[4], cy[4], f[4], r[3];
    int n = 0, k;

    if (!(l2 > 0.0))
        return 0;
    seg_coef(c, 0, cx);
    seg_coef(c, 1, cy);
    for (int i = 0; i < 4; i++) /* cross(d, B(t) - l0) */
        f[i] = d.x * cy[i] - d.y * cx[i];
    f[0] -= d.x * l->p[0].y - d.y * l->p[0].x;
    k = cubic_roots01(f, r);
    for (int i = 0; i < k; i++) {
        struct vec p = geom_seg_eval(c, r[i]);
        double tl = vec_dot(vec_sub(p, l->p[0]), d) / l2;
        if (tl >= -1e-9 && tl <= 1 + 1e-9)
            n = add_hit(h, n, max, tl, r[i], p);
    }
    return n;
}

/* Newton on A(ta) - B(tb) = 0 from a subdivision guess. */
static int refine_hit(const struct seg *a, const struct seg *b, double *ta, double *tb)
{
    for (int i = 0; i < 12; i++) {
        struct vec f = vec_sub(geom_seg_eval(a, *ta), geom_seg_eval(b, *tb));
        if (vec_len(f) < 1e-10)
            return 1;
        struct vec da = geom_seg_deriv(a, *ta), db = vec_mul(geom_seg_deriv(b, *tb), -1.0);
        double det = vec_cross(da, db);
        if (fabs(det) < 1e-14)
            break;
        double dta = vec_cross(f, db) / det, dtb = vec_cross(da, f) / det;
        *ta -= dta;
        *tb -= dtb;
        if (*ta < -0.01 || *ta > 1.01 || *tb < -0.01 || *tb > 1.01)
            return 0;
    }
    return vec_dist(geom_seg_eval(a, *ta), geom_seg_eval(b, *tb)) < 1e-6;
}

struct cc_ctx {
    const struct seg *a, *b;
    struct seg_hit *h;
    int n, max, budget;
};

static int seg_flat(const struct seg *s, double tol)
{
    struct vec d = vec_sub(s->p[3], s->p[0]);
    double l = vec_len(d);

    if (l <= 0.0)
        return vec_dist(s->p[1], s->p[0]) < tol && vec_dist(s->p[2], s->p[0]) < tol;
    return fabs(vec_cross(d, vec_sub(s->p[1], s->p[0]))) / l < tol &&
           fabs(vec_cross(d, vec_sub(s->p[2], s->p[0]))) / l < tol;
}

static void cc_rec(struct cc_ctx *x, const struct seg *a, double a0, double a1, const struct seg *b,
                   double b0, double b1, int depth)
{
    struct bbox ba = geom_seg_hull(a), bb = geom_seg_hull(b);

    if (x->budget-- <= 0 || !geom_bbox_overlap(&ba, &bb, 1e-9))
        return;
    if (depth >= 30 || (seg_flat(a, 1e-4) && seg_flat(b, 1e-4))) {
        double ta, tb;
        struct vec p;
        if (!geom_line_intersect(a->p[0], a->p[3], b->p[0], b->p[3], &p, &ta, &tb) || ta < -0.1 ||
            ta > 1.1 || tb < -0.1 || tb > 1.1)
            return;
        ta = a0 + (a1 - a0) * ta;
        tb = b0 + (b1 - b0) * tb;
        if (refine_hit(x->a, x->b, &ta, &tb) && ta >= -1e-9 && ta <= 1 + 1e-9 && tb >= -1e-9 &&
            tb <= 1 + 1e-9)
            x->n = add_hit(x->h, x->n, x->max, ta, tb, geom_seg_eval(x->a, ta));
        return;
    }
    struct seg l, r;
    if ((ba.x1 - ba.x0) + (ba.y1 - ba.y0) >= (bb.x1 - bb.x0) + (bb.y1 - bb.y0)) {
        double m = 0.5 * (a0 + a1);
        geom_seg_split(a, 0.5, &l, &r);
        cc_rec(x, &l, a0, m, b, b0, b1, depth + 1);
        cc_rec(x, &r, m, a1, b, b0, b1, depth + 1);
    } else {
        double m = 0.5 * (b0 + b1);
        geom_seg_split(b, 0.5, &l, &r);
        cc_rec(x, a, a0, a1, &l, b0, m, depth + 1);
        cc_rec(x, a, a0, a1, &r, m, b1, depth + 1);
    }
}

int geom_seg_intersect(const struct seg *a, const struct seg *b, struct seg_hit *hits, int max)
{
    struct bbox ba = geom_seg_hull(a), bb = geom_seg_hull(b);

    if (max <= 0 || !geom_bbox_overlap(&ba, &bb, 1e-9))
        return 0;
    if (a->kind == SEG_LINE && b->kind == SEG_LINE)
        return hit_line_line(a, b, hits, max);
    if (a->kind == SEG_LINE)
        return hit_line_cubic(a, b, hits, max);
    if (b->kind == SEG_LINE) {
        int n = hit_line_cubic(b, a, hits, max);
        for (int i = 0; i < n; i++) {
            double t = hits[i].ta;
            hits[i].ta = hits[i].tb;
            hits[i].tb = t;
        }
        return n;
    }
    struct cc_ctx x = {a, b, hits, 0, max, 20000};
    cc_rec(&x, a, 0.0, 1.0, b, 0.0, 1.0, 0);
    return x.n;
}

/* Crossings of a and b where b starts at a's end, away from that joint:
 * subdividing down to a shared point would cost ~30 levels for nothing.
 * The last 2 % of a is tested against b without its first 2 %, which
 * leaves out only the joint itself. Parameters refer to a and b. */
static int seg_intersect_joined(const struct seg *a, const struct seg *b, struct seg_hit *h,
                                int max)
{
    const double e = 0.02;
    struct seg a0, a1, b1;
    int n, m;

    if (a->kind == SEG_LINE || b->kind == SEG_LINE)
        return geom_seg_intersect(a, b, h, max);
    a0 = geom_seg_sub(a, 0.0, 1.0 - e);
    a1 = geom_seg_sub(a, 1.0 - e, 1.0);
    b1 = geom_seg_sub(b, e, 1.0);
    n = geom_seg_intersect(&a0, b, h, max);
    for (int k = 0; k < n; k++)
        h[k].ta *= 1.0 - e;
    m = geom_seg_intersect(&a1, &b1, h + n, max - n);
    for (int k = n; k < n + m; k++) {
        h[k].ta = 1.0 - e + h[k].ta * e;
        h[k].tb = e + h[k].tb * (1.0 - e);
    }
    return n + m;
}

/* geom_seg_intersect for segments i < j of a path, joined ones without their
 * joint (next: j follows i; wrap: i (the first) follows j (the last)). */
static int pair_intersect(const struct path *p, size_t i, size_t j, int next, int wrap,
                          struct seg_hit *h)
{
    int k;

    if (next)
        return seg_intersect_joined(&p->seg[i], &p->seg[j], h, 9);
    if (!wrap)
        return geom_seg_intersect(&p->seg[i], &p->seg[j], h, 9);
    k = seg_intersect_joined(&p->seg[j], &p->seg[i], h, 9);
    for (int m = 0; m < k; m++) {
        double t = h[m].ta;
        h[m].ta = h[m].tb;
        h[m].tb = t;
    }
    return k;
}

/* ---- paths -------------------------------------------------------------- */

void geom_path_init(struct path *p)
{
    memset(p, 0, sizeof *p);
}

void geom_path_free(struct path *p)
{
    free(p->seg);
    geom_path_init(p);
}

void geom_path_clear(struct path *p)
{
    p->n = 0;
    p->failed = 0;
    p->cur = vec_xy(0.0, 0.0);
}

void geom_path_move(struct path *p, struct vec at)
{
    p->cur = at;
}

static int path_grow(struct path *p)
{
    size_t cap = p->cap ? p->cap * 2 : 16, bytes;
    struct seg *s;

    if (!size_mul(cap, sizeof *s, &bytes)) {
        p->failed = 1;
        return -1;
    }
    s = realloc(p->seg, bytes);
    if (!s) {
        p->failed = 1;
        return -1;
    }
    p->seg = s;
    p->cap = cap;
    return 0;
}

void geom_path_push(struct path *p, const struct seg *s)
{
    if (p->failed || (p->n == p->cap && path_grow(p)))
        return;
    p->seg[p->n++] = *s;
    p->cur = s->p[3];
}

void geom_path_line(struct path *p, struct vec to)
{
    struct seg s = geom_seg_line(p->cur, to);
    geom_path_push(p, &s);
}

void geom_path_cubic(struct path *p, struct vec c1, struct vec c2, struct vec to)
{
    struct seg s = geom_seg_cubic(p->cur, c1, c2, to);
    geom_path_push(p, &s);
}

void geom_path_append(struct path *dst, const struct path *src)
{
    for (size_t i = 0; i < src->n; i++)
        geom_path_push(dst, &src->seg[i]);
}

int geom_path_ok(const struct path *p)
{
    if (p->failed)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        for (int k = 0; k < 4; k++)
            if (!isfinite(p->seg[i].p[k].x) || !isfinite(p->seg[i].p[k].y))
                return 0;
    return 1;
}

struct vec geom_path_start(const struct path *p)
{
    return p->n ? p->seg[0].p[0] : p->cur;
}

struct vec geom_path_end(const struct path *p)
{
    return p->n ? p->seg[p->n - 1].p[3] : p->cur;
}

double geom_path_length(const struct path *p)
{
    double l = 0.0;

    for (size_t i = 0; i < p->n; i++)
        l += geom_seg_length(&p->seg[i]);
    return l;
}

struct vec geom_path_at(const struct path *p, double s, struct vec *tangent)
{
    if (!p->n) {
        if (tangent)
            *tangent = vec_xy(1.0, 0.0);
        return p->cur;
    }
    for (size_t i = 0; i < p->n; i++) {
        double l = geom_seg_length(&p->seg[i]);
        if (s <= l || i + 1 == p->n) {
            double t = geom_seg_t_at_length(&p->seg[i], s);
            if (tangent)
                *tangent = geom_seg_tangent(&p->seg[i], t);
            return geom_seg_eval(&p->seg[i], t);
        }
        s -= l;
    }
    return geom_path_end(p);
}

void geom_path_sub(const struct path *p, double s0, double s1, struct path *out)
{
    double at = 0.0;

    for (size_t i = 0; i < p->n; i++) {
        const struct seg *g = &p->seg[i];
        double l = geom_seg_length(g), e = at + l;
        if (e > s0 && at < s1 && l > 0.0) {
            double t0 = s0 > at ? geom_seg_t_at_length(g, s0 - at) : 0.0;
            double t1 = s1 < e ? geom_seg_t_at_length(g, s1 - at) : 1.0;
            struct seg piece = geom_seg_sub(g, t0, t1);
            geom_path_push(out, &piece);
        }
        at = e;
    }
}

void geom_path_reverse(const struct path *p, struct path *out)
{
    for (size_t i = p->n; i-- > 0;) {
        struct seg s = p->seg[i], r = s;
        for (int k = 0; k < 4; k++)
            r.p[k] = s.p[3 - k];
        geom_path_push(out, &r);
    }
}

struct bbox geom_path_bbox(const struct path *p)
{
    struct bbox b;

    geom_bbox_empty(&b);
    for (size_t i = 0; i < p->n; i++) {
        struct bbox s = geom_seg_bbox(&p->seg[i]);
        geom_bbox_union(&b, &s);
    }
    return b;
}

double geom_path_closest(const struct path *p, struct vec q, double *s)
{
    double best = DBL_MAX, at = 0.0, bs = 0.0;

    for (size_t i = 0; i < p->n; i++) {
        struct bbox b = geom_seg_hull(&p->seg[i]);
        double dx = fmax(0.0, fmax(b.x0 - q.x, q.x - b.x1));
        double dy = fmax(0.0, fmax(b.y0 - q.y, q.y - b.y1)), t;
        if (sqrt(dx * dx + dy * dy) < best) {
            double d = geom_seg_closest(&p->seg[i], q, &t);
            if (d < best) {
                best = d;
                bs = at + (s ? geom_seg_length_to(&p->seg[i], t) : 0.0);
            }
        }
        if (s)
            at += geom_seg_length(&p->seg[i]);
    }
    if (s)
        *s = bs;
    return best;
}

/* Integral of (x dy - y dx) / 2 along a segment; 3-point Gauss-Legendre is
 * exact for this degree-5 polynomial. */
static double seg_area(const struct seg *s)
{
    static const double x[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
    static const double w[3] = {0.5555555555555556, 0.8888888888888888, 0.5555555555555556};
    double sum = 0.0;

    for (int i = 0; i < 3; i++) {
        double t = 0.5 * (x[i] + 1.0);
        struct vec p = geom_seg_eval(s, t), d = geom_seg_deriv(s, t);
        sum += w[i] * (p.x * d.y - p.y * d.x);
    }
    return 0.25 * sum;
}

double geom_path_area(const struct path *p)
{
    double a = 0.0;

    for (size_t i = 0; i < p->n; i++)
        a += seg_area(&p->seg[i]);
    if (p->n) {
        struct seg close = geom_seg_line(geom_path_end(p), geom_path_start(p));
        a += seg_area(&close);
    }
    return a;
}

int geom_path_cross_y(const struct path *p, double y, double *xs, int max)
{
    int n = 0;
    double t[3];

    for (size_t i = 0; i < p->n; i++) {
        int k = geom_seg_cross_y(&p->seg[i], y, t);
        for (int j = 0; j < k && n < max; j++)
            xs[n++] = geom_seg_eval(&p->seg[i], t[j]).x;
    }
    return n;
}

/* ---- offset ------------------------------------------------------------- */

static struct vec off_point(const struct seg *s, double t, double d)
{
    return vec_mad(geom_seg_eval(s, t), vec_perp(geom_seg_tangent(s, t)), d);
}

/* One cubic through the exact offset end points, with the end tangents of s
 * (t0, t1) and the exact offset midpoint (tangent tm there). */
static struct seg off_fit(const struct seg *s, double d, struct vec t0, struct vec tm,
                          struct vec t1)
{
    struct vec a = vec_mad(s->p[0], vec_perp(t0), d), b = vec_mad(s->p[3], vec_perp(t1), d);
    struct vec mid = vec_mad(geom_seg_eval(s, 0.5), vec_perp(tm), d);
    struct vec rhs = vec_mul(vec_sub(mid, vec_lerp(a, b, 0.5)), 8.0 / 3.0);
    double cr = vec_cross(t0, t1), chord = vec_dist(a, b), ha = -1.0, hb = -1.0;

    if (fabs(cr) > 1e-3) {
        ha = vec_cross(rhs, t1) / cr;
        hb = -vec_cross(t0, rhs) / cr;
    }
    if (!(ha >= 0.0 && hb >= 0.0 && ha <= 2.0 * chord && hb <= 2.0 * chord)) {
        double base = vec_dist(s->p[0], s->p[3]);
        double k = base > 0.0 ? chord / base : 1.0;
        ha = vec_dist(s->p[0], s->p[1]) * k;
        hb = vec_dist(s->p[3], s->p[2]) * k;
    }
    return geom_seg_cubic(a, vec_mad(a, t0, ha), vec_mad(b, t1, -hb), b);
}

static struct vec seg_deriv2(const struct seg *s, double t)
{
    struct vec a = vec_add(vec_sub(s->p[2], vec_mul(s->p[1], 2.0)), s->p[0]);
    struct vec b = vec_add(vec_sub(s->p[3], vec_mul(s->p[2], 2.0)), s->p[1]);

    if (s->kind == SEG_LINE)
        return vec_xy(0.0, 0.0);
    return vec_mul(vec_lerp(a, b, t), 6.0);
}

/* How far the fitted piece c is, at its parameter t, from lying |d| away
 * from the source s: the closest point of s is found by Newton from the
 * same parameter (the pieces are short, so it is the right one). */
static double off_error(const struct seg *s, const struct seg *c, double t, double d)
{
    struct vec q = geom_seg_eval(c, t);
    double u = t;

    for (int i = 0; i < 2; i++) { /* from so close a start, two steps are plenty */
        struct vec r = vec_sub(geom_seg_eval(s, u), q), d1 = geom_seg_deriv(s, u);
        double gd = vec_dot(d1, d1) + vec_dot(r, seg_deriv2(s, u));
        if (!(gd > 0.0))
            break;
        u -= vec_dot(r, d1) / gd;
        u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
    }
    return fabs(vec_dist(geom_seg_eval(s, u), q) - fabs(d));
}

/* 1 when the true offset runs against the curve at t: there the radius of
 * curvature is under |d| on the offset side (a swallowtail to be cut). */
static int off_reversed(const struct seg *s, double t, double d)
{
    double h = 1e-4, a = fmax(0.0, t - h), b = fmin(1.0, t + h);
    struct vec o = vec_sub(off_point(s, b, d), off_point(s, a, d));
    return vec_dot(o, geom_seg_deriv(s, t)) < 0.0;
}

static void off_line_piece(const struct seg *s, double d, int tag, struct path *out)
{
    struct seg l = geom_seg_line(off_point(s, 0.0, d), off_point(s, 1.0, d));
    l.tag = tag;
    geom_path_push(out, &l);
}

/* Offset of cubic s, whose unit end tangents t0 and t1 the caller knows. */
static void off_cubic(const struct seg *s, double d, int tag, int depth, struct vec t0,
                      struct vec t1, struct path *out)
{
    static const double probe[4] = {0.5 - 0.3535, 0.3, 0.7, 0.5 + 0.3535};
    struct vec tm = geom_seg_tangent(s, 0.5);
    /* a piece turning more than 60 degrees is always halved: a sharp bend
     * between probes could otherwise go unseen */
    int bends = vec_dot(t0, t1) < 0.5 || vec_dot(t0, tm) < 0.5;
    struct seg c;
    double err = 0.0;

    if (!bends) {
        c = off_fit(s, d, t0, tm, t1);
        for (int i = 0; i < 4 && err <= OFF_TOL; i++)
            err = fmax(err, off_error(s, &c, probe[i], d));
        if (err <= OFF_TOL) {
            c.tag = tag;
            geom_path_push(out, &c);
            return;
        }
    }
    if (off_reversed(s, 0.25, d) && off_reversed(s, 0.5, d) && off_reversed(s, 0.75, d) &&
        off_reversed(s, 0.0, d) && off_reversed(s, 1.0, d)) {
        off_line_piece(s, d, tag, out); /* wholly inside a loop: a chord will do */
        return;
    }
    if (depth < OFF_DEPTH && seg_scale(s) > 0.02) {
        struct seg l, r;
        geom_seg_split(s, 0.5, &l, &r);
        off_cubic(&l, d, tag, depth + 1, t0, tm, out);
        off_cubic(&r, d, tag, depth + 1, tm, t1, out);
        return;
    }
    off_line_piece(s, d, tag, out); /* a cusp: no cubic fits, a chord is safe */
}

static void off_seg(const struct seg *s, double d, int tag, struct path *out)
{
    struct seg o = *s;

    if (d != 0.0 && s->kind == SEG_LINE) {
        struct vec n = vec_mul(vec_perp(vec_unit(vec_sub(s->p[3], s->p[0]))), d);
        o = geom_seg_line(vec_add(s->p[0], n), vec_add(s->p[3], n));
    } else if (d != 0.0) {
        off_cubic(s, d, tag, 0, geom_seg_tangent(s, 0.0), geom_seg_tangent(s, 1.0), out);
        return;
    }
    o.tag = tag;
    geom_path_push(out, &o);
}

static void join_line(struct path *out, struct vec a, struct vec b)
{
    struct seg s;

    if (vec_dist(a, b) < 1e-9)
        return;
    s = geom_seg_line(a, b);
    s.tag = -1;
    geom_path_push(out, &s);
}

struct corner {
    struct vec c, e, t1, s, t2; /* seam corner; end and tangent before; start and tangent after */
    double d1, d2;
};

/* Mitre clipped where it reaches lim from the corner: a bevel square to
 * the mitre direction, so every point of the join stays lim or more away. */
static void join_clipped(struct path *out, const struct corner *k, struct vec u, double lim)
{
    double a = vec_dot(k->t1, u), b = vec_dot(k->t2, u);
    double la = a > 1e-12 ? (lim - vec_dot(vec_sub(k->e, k->c), u)) / a : -1.0;
    double lb = b < -1e-12 ? (lim - vec_dot(vec_sub(k->s, k->c), u)) / b : 1.0;

    if (la < 0.0 || lb > 0.0) {
        join_line(out, k->e, k->s);
        return;
    }
    join_line(out, k->e, vec_mad(k->e, k->t1, la));
    join_line(out, vec_mad(k->e, k->t1, la), vec_mad(k->s, k->t2, lb));
    join_line(out, vec_mad(k->s, k->t2, lb), k->s);
}

static void join_corner(struct path *out, const struct corner *k, double limit)
{
    double side = k->d1 != 0.0 ? k->d1 : k->d2, cr = vec_cross(k->t1, k->t2), ta, tb;
    double lim = limit * fmax(fabs(k->d1), fabs(k->d2));
    struct vec m;

    if (vec_dist(k->e, k->s) < 1e-9)
        return;
    if (cr * side >= 0.0 && vec_dot(k->t1, k->t2) > -0.999) {
        join_line(out, k->e, k->s); /* overlap: the loop pass trims it */
        return;
    }
    if (geom_line_intersect(k->e, vec_add(k->e, k->t1), k->s, vec_add(k->s, k->t2), &m, &ta, &tb) &&
        ta > 0.0 && tb < 0.0) {
        if (vec_dist(m, k->c) <= lim) {
            join_line(out, k->e, m);
            join_line(out, m, k->s);
        } else {
            join_clipped(out, k, vec_unit(vec_sub(m, k->c)), lim);
        }
        return;
    }
    /* a turn of about 180 degrees: square caps */
    join_line(out, k->e, vec_mad(k->e, k->t1, fabs(side)));
    join_line(out, vec_mad(k->e, k->t1, fabs(side)), vec_mad(k->s, k->t2, -fabs(side)));
    join_line(out, vec_mad(k->s, k->t2, -fabs(side)), k->s);
}

struct piece_key {
    double x0;
    size_t i;
};

static int key_cmp(const void *a, const void *b)
{
    double x = ((const struct piece_key *)a)->x0, y = ((const struct piece_key *)b)->x0;
    return x < y ? -1 : x > y;
}

struct loop {
    size_t i, j;
    double ti, tj, removed;
    struct vec p;
    int wrap; /* 1: remove from (j, tj) around to (i, ti) */
};

/* Rough arc length: mean of chord and control polygon. */
static double seg_rough_len(const struct seg *s)
{
    double poly =
        vec_dist(s->p[0], s->p[1]) + vec_dist(s->p[1], s->p[2]) + vec_dist(s->p[2], s->p[3]);
    return 0.5 * (poly + vec_dist(s->p[0], s->p[3]));
}

/* 1 when every leg of the control polygon advances along the chord: the
 * piece is monotone in that direction and cannot loop on itself. */
static int seg_forward(const struct seg *s)
{
    struct vec c = vec_sub(s->p[3], s->p[0]);

    if (vec_dot(c, c) <= 0.0)
        return 0;
    for (int k = 0; k < 3; k++)
        if (vec_dot(vec_sub(s->p[k + 1], s->p[k]), c) < 0.0)
            return 0;
    return 1;
}

static int seg_pair_plain(const struct seg *a, const struct seg *b);

static void loop_consider(const struct path *p, const double *pre, int closed, size_t i, size_t j,
                          struct loop *best)
{
    struct seg_hit h[9];
    size_t n = p->n;
    int adjacent = j == i + 1 || (closed && i == 0 && j == n - 1), k;
    double total = pre[n];

    if (adjacent) { /* pieces meeting end to start cross only if they fold back */
        const struct seg *x = j == i + 1 ? &p->seg[i] : &p->seg[j];
        const struct seg *y = j == i + 1 ? &p->seg[j] : &p->seg[i];
        if (seg_pair_plain(x, y))
            return;
    }
    k = pair_intersect(p, i, j, j == i + 1, adjacent && j != i + 1, h);

    for (int m = 0; m < k; m++) {
        if (j == i + 1 && vec_dist(h[m].p, p->seg[i].p[3]) < 1e-6)
            continue;
        if (closed && i == 0 && j == n - 1 && vec_dist(h[m].p, p->seg[0].p[0]) < 1e-6)
            continue;
        double a = pre[i] + h[m].ta * (pre[i + 1] - pre[i]);
        double b = pre[j] + h[m].tb * (pre[j + 1] - pre[j]);
        double fwd = b - a, back = closed ? total - fwd : DBL_MAX;
        double rem = fmin(fwd, back);
        if (rem < best->removed) {
            best->i = i;
            best->j = j;
            best->ti = h[m].ta;
            best->tj = h[m].tb;
            best->p = h[m].p;
            best->removed = rem;
            best->wrap = back < fwd;
        }
    }
}

/* The self-intersection whose loop is shortest; 0 when there is none. */
static int loop_find(const struct path *p, int closed, struct piece_key *key, struct bbox *box,
                     double *pre, struct loop *best)
{
    size_t n = p->n;

    pre[0] = 0.0;
    for (size_t i = 0; i < n; i++) {
        box[i] = geom_seg_hull(&p->seg[i]);
        key[i].x0 = box[i].x0;
        key[i].i = i;
        pre[i + 1] = pre[i] + seg_rough_len(&p->seg[i]);
    }
    qsort(key, n, sizeof *key, key_cmp);
    best->removed = DBL_MAX;
    for (size_t a = 0; a < n; a++) {
        size_t ia = key[a].i;
        for (size_t b = a + 1; b < n && key[b].x0 <= box[ia].x1 + 1e-9; b++) {
            size_t ib = key[b].i;
            if (!geom_bbox_overlap(&box[ia], &box[ib], 1e-9))
                continue;
            loop_consider(p, pre, closed, ia < ib ? ia : ib, ia < ib ? ib : ia, best);
        }
    }
    return best->removed < DBL_MAX;
}

static void loop_cut(const struct path *p, const struct loop *l, struct path *out)
{
    struct seg a, b;

    if (l->wrap) { /* keep (i, ti) .. (j, tj) */
        a = geom_seg_sub(&p->seg[l->i], l->ti, 1.0);
        a.p[0] = l->p;
        geom_path_push(out, &a);
        for (size_t k = l->i + 1; k < l->j; k++)
            geom_path_push(out, &p->seg[k]);
        b = geom_seg_sub(&p->seg[l->j], 0.0, l->tj);
        b.p[3] = l->p;
        geom_path_push(out, &b);
        return;
    }
    for (size_t k = 0; k < l->i; k++)
        geom_path_push(out, &p->seg[k]);
    a = geom_seg_sub(&p->seg[l->i], 0.0, l->ti);
    a.p[3] = l->p;
    if (vec_dist(a.p[0], a.p[3]) > 1e-9)
        geom_path_push(out, &a);
    b = geom_seg_sub(&p->seg[l->j], l->tj, 1.0);
    b.p[0] = l->p;
    if (vec_dist(b.p[0], b.p[3]) > 1e-9)
        geom_path_push(out, &b);
    for (size_t k = l->j + 1; k < p->n; k++)
        geom_path_push(out, &p->seg[k]);
}

static int loops_remove(struct path *p, int closed)
{
    struct piece_key *key = NULL;
    struct bbox *box = NULL;
    double *pre = NULL;
    size_t cap = 0;
    int rc = 0;

    for (int pass = 0; pass < LOOP_MAX_PASSES && p->n > 1; pass++) {
        struct loop l;
        struct path next;
        if (p->n + 1 > cap) {
            size_t b1, b2, b3;
            cap = p->n + 1;
            if (!size_mul(cap, sizeof *key, &b1) || !size_mul(cap, sizeof *box, &b2) ||
                !size_mul(cap, sizeof *pre, &b3)) {
                rc = -1;
                break;
            }
            free(key);
            free(box);
            free(pre);
            key = malloc(b1);
            box = malloc(b2);
            pre = malloc(b3);
            if (!key || !box || !pre) {
                rc = -1;
                break;
            }
        }
        if (!loop_find(p, closed, key, box, pre, &l))
            break;
        geom_path_init(&next);
        loop_cut(p, &l, &next);
        if (next.failed) {
            geom_path_free(&next);
            rc = -1;
            break;
        }
        geom_path_free(p);
        *p = next;
    }
    free(key);
    free(box);
    free(pre);
    return rc;
}

/* At a corner where the offsets overlap, cut piece a (ending there) and
 * piece b (starting there) at their crossing. 1 when they cross. */
static int trim_concave(const struct corner *k, struct seg *a, struct seg *b)
{
    double side = k->d1 != 0.0 ? k->d1 : k->d2;
    struct seg_hit h[9];
    int n, best = -1;

    if (vec_dist(k->e, k->s) < 1e-9 || vec_cross(k->t1, k->t2) * side < 0.0 ||
        vec_dot(k->t1, k->t2) <= -0.999)
        return 0;
    n = geom_seg_intersect(a, b, h, 9);
    for (int m = 0; m < n; m++)
        if (best < 0 || h[m].ta > h[best].ta)
            best = m;
    if (best < 0)
        return 0;
    *a = geom_seg_sub(a, 0.0, h[best].ta);
    a->p[3] = h[best].p;
    *b = geom_seg_sub(b, h[best].tb, 1.0);
    b->p[0] = h[best].p;
    return 1;
}

/* Join the offset pieces of the previous segment (ending raw) to those of
 * the next (cur, about to be appended; NULL: the first pieces of raw). */
static void join_pieces(struct path *raw, struct path *cur, const struct corner *k, double limit)
{
    struct seg *b = cur ? &cur->seg[0] : &raw->seg[0];

    if (!raw->n || (cur && !cur->n))
        return;
    if (trim_concave(k, &raw->seg[raw->n - 1], b))
        return;
    join_corner(raw, k, limit);
}

int geom_path_offset(const struct path *p, double d, const double *dist, int closed,
                     double mitre_limit, struct path *out)
{
    struct path raw, cur;
    struct corner k;
    size_t first = 0, prev = 0;
    int have = 0, rc;

    geom_path_init(&raw);
    geom_path_init(&cur);
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->seg[i];
        double di = dist ? dist[i] : d;
        if (vec_dist(s->p[0], s->p[3]) + vec_dist(s->p[0], s->p[1]) + vec_dist(s->p[2], s->p[3]) <
            1e-9)
            continue;
        geom_path_clear(&cur);
        off_seg(s, di, (int)i, &cur);
        if (have && cur.n) {
            k.c = s->p[0];
            k.e = geom_path_end(&raw);
            k.t1 = geom_seg_tangent(&p->seg[prev], 1.0);
            k.d1 = dist ? dist[prev] : d;
            k.t2 = geom_seg_tangent(s, 0.0);
            k.s = cur.seg[0].p[0];
            k.d2 = di;
            join_pieces(&raw, &cur, &k, mitre_limit);
        } else if (!have) {
            first = i;
        }
        geom_path_append(&raw, &cur);
        prev = i;
        have = 1;
    }
    if (have && closed && raw.n) {
        const struct seg *s = &p->seg[first];
        k.c = s->p[0];
        k.e = geom_path_end(&raw);
        k.t1 = geom_seg_tangent(&p->seg[prev], 1.0);
        k.d1 = dist ? dist[prev] : d;
        k.t2 = geom_seg_tangent(s, 0.0);
        k.d2 = dist ? dist[first] : d;
        k.s = raw.seg[0].p[0];
        join_pieces(&raw, NULL, &k, mitre_limit);
    }
    rc = raw.failed || cur.failed ? -1 : loops_remove(&raw, closed);
    if (rc == 0)
        geom_path_append(out, &raw);
    geom_path_free(&raw);
    geom_path_free(&cur);
    if (rc == 0 && !geom_path_ok(out))
        rc = -1;
    return rc;
}

int geom_path_trim_at_line(struct path *p, struct vec a, struct vec b)
{
    struct vec dir = vec_unit(vec_sub(b, a));
    struct seg line = geom_seg_line(vec_mad(a, dir, -1e5), vec_mad(a, dir, 1e5));
    double at = 0.0, total = 0.0, start = -1.0, end = DBL_MAX, st = 0.0, et = 1.0;
    size_t si = 0, ei = p->n ? p->n - 1 : 0;
    struct seg_hit h[9];
    struct path out;

    if (p->n == 0 || vec_len(dir) == 0.0)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        total += seg_rough_len(&p->seg[i]);
    for (size_t i = 0; i < p->n; i++) {
        double l = seg_rough_len(&p->seg[i]);
        int n = geom_seg_intersect(&p->seg[i], &line, h, 9);
        for (int k = 0; k < n; k++) {
            double pos = at + h[k].ta * l;
            if (pos < 0.5 * total && pos > start) {
                start = pos;
                si = i;
                st = h[k].ta;
            } else if (pos >= 0.5 * total && pos < end) {
                end = pos;
                ei = i;
                et = h[k].ta;
            }
        }
        at += l;
    }
    if ((si == 0 && st <= 1e-12) && (ei == p->n - 1 && et >= 1.0 - 1e-12))
        return 0;
    geom_path_init(&out);
    for (size_t i = si; i <= ei; i++) {
        struct seg piece = geom_seg_sub(&p->seg[i], i == si ? st : 0.0, i == ei ? et : 1.0);
        if (vec_dist(piece.p[0], piece.p[3]) > 1e-9 || piece.kind == SEG_CUBIC)
            geom_path_push(&out, &piece);
    }
    if (out.failed) {
        geom_path_free(&out);
        return -1;
    }
    geom_path_free(p);
    *p = out;
    return 0;
}

/* 1 when adjacent pieces a then b (b starting where a ends) can meet only
 * at their shared point: both monotone along chords that point the same
 * way, and no reversal at the joint. */
static int seg_pair_plain(const struct seg *a, const struct seg *b)
{
    /* end directions from the control points: only signs matter here, and
     * a forward piece has its first distinct control leg along its chord */
    struct vec ea = vec_sub(a->p[3], a->p[2]), sb = vec_sub(b->p[1], b->p[0]);

    if (vec_dot(ea, ea) == 0.0)
        ea = vec_sub(a->p[3], a->p[1]);
    if (vec_dot(sb, sb) == 0.0)
        sb = vec_sub(b->p[2], b->p[0]);
    return seg_forward(a) && seg_forward(b) &&
           vec_dot(vec_sub(a->p[3], a->p[0]), vec_sub(b->p[3], b->p[0])) > 0.0 &&
           vec_dot(ea, sb) > 0.0;
}

int geom_path_self_intersects(const struct path *p, int closed)
{
    struct seg_hit h[9];
    size_t n = p->n;

    for (size_t i = 0; i < n; i++) {
        struct bbox bi = geom_seg_bbox(&p->seg[i]);
        for (size_t j = i + 1; j < n; j++) {
            struct bbox bj = geom_seg_bbox(&p->seg[j]);
            int next = j == i + 1, wrap = closed && i == 0 && j == n - 1;
            if (!geom_bbox_overlap(&bi, &bj, 1e-9))
                continue;
            if ((next && seg_pair_plain(&p->seg[i], &p->seg[j])) ||
                (wrap && seg_pair_plain(&p->seg[j], &p->seg[i])))
                continue;
            int k = pair_intersect(p, i, j, next, wrap && !next, h);
            for (int m = 0; m < k; m++) {
                if (next && vec_dist(h[m].p, p->seg[i].p[3]) < 1e-6)
                    continue;
                if (wrap && vec_dist(h[m].p, p->seg[0].p[0]) < 1e-6)
                    continue;
                return 1;
            }
        }
    }
    return 0;
}
