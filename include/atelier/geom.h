/*
 * geom.h - the drafting engine's geometry kernel: 2-D vectors, segments (a
 * straight line or a cubic Bezier), paths made of segments, and the
 * operations a pattern needs: evaluation, arc length, parameter at a length,
 * split, intersections, bounding boxes, closest point, signed area and the
 * seam-allowance offset.
 *
 * Units are millimetres; the y axis points down (SVG convention). Nothing
 * here allocates except struct path, which owns a growable array of
 * segments; a path whose growth failed is marked failed and every later
 * append is a no-op, so a caller builds a path and checks geom_path_ok() once.
 */
#ifndef ATELIER_GEOM_H
#define ATELIER_GEOM_H

#include <math.h>
#include <stddef.h>

#define GEOM_PI 3.14159265358979323846
/* Handle length of a quarter circle of radius 1 drawn as one cubic. */
#define GEOM_KAPPA 0.5522847498307936

struct vec {
    double x, y;
};

static inline struct vec vec_xy(double x, double y)
{
    struct vec v = {x, y};
    return v;
}

static inline struct vec vec_add(struct vec a, struct vec b)
{
    return vec_xy(a.x + b.x, a.y + b.y);
}

static inline struct vec vec_sub(struct vec a, struct vec b)
{
    return vec_xy(a.x - b.x, a.y - b.y);
}

static inline struct vec vec_mul(struct vec a, double k)
{
    return vec_xy(a.x * k, a.y * k);
}

/* a + k * b */
static inline struct vec vec_mad(struct vec a, struct vec b, double k)
{
    return vec_xy(a.x + b.x * k, a.y + b.y * k);
}

static inline double vec_dot(struct vec a, struct vec b)
{
    return a.x * b.x + a.y * b.y;
}

static inline double vec_cross(struct vec a, struct vec b)
{
    return a.x * b.y - a.y * b.x;
}

static inline double vec_len(struct vec a)
{
    return sqrt(a.x * a.x + a.y * a.y);
}

static inline double vec_dist(struct vec a, struct vec b)
{
    return vec_len(vec_sub(a, b));
}

static inline struct vec vec_lerp(struct vec a, struct vec b, double t)
{
    return vec_xy(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
}

/* The vector turned a quarter: (-y, x). For a direction of travel t this is
 * the normal that geom_path_offset() moves along for a positive distance. */
static inline struct vec vec_perp(struct vec a)
{
    return vec_xy(-a.y, a.x);
}

/* Unit vector along a, or (0, 0) for a zero vector. */
static inline struct vec vec_unit(struct vec a)
{
    double l = vec_len(a);
    return l > 0.0 ? vec_mul(a, 1.0 / l) : vec_xy(0.0, 0.0);
}

/* a rotated by angle radians (x towards y: clockwise on screen). */
static inline struct vec vec_rot(struct vec a, double angle)
{
    double c = cos(angle), s = sin(angle);
    return vec_xy(a.x * c - a.y * s, a.x * s + a.y * c);
}

/* p rotated by angle radians about centre o. */
static inline struct vec vec_rot_about(struct vec p, struct vec o, double angle)
{
    return vec_add(o, vec_rot(vec_sub(p, o), angle));
}

struct bbox {
    double x0, y0, x1, y1; /* empty when x0 > x1 */
};

void geom_bbox_empty(struct bbox *b);
void geom_bbox_add(struct bbox *b, struct vec p);
void geom_bbox_union(struct bbox *b, const struct bbox *o);
/* 1 when the boxes overlap, growing both by eps. */
int geom_bbox_overlap(const struct bbox *a, const struct bbox *b, double eps);

enum seg_kind { SEG_LINE = 0, SEG_CUBIC = 1 };

/* A line from p[0] to p[3] (p[1], p[2] at its thirds, so cubic formulas
 * hold) or a cubic Bezier with control points p[0..3]. tag is free for the
 * owner: geom_path_offset() sets it to the index of the source segment, or -1 for
 * a corner join. */
struct seg {
    int kind;
    int tag;
    struct vec p[4];
};

struct seg geom_seg_line(struct vec a, struct vec b);
struct seg geom_seg_cubic(struct vec a, struct vec c1, struct vec c2, struct vec b);
struct vec geom_seg_eval(const struct seg *s, double t);
struct vec geom_seg_deriv(const struct seg *s, double t);
/* Unit tangent at t; at an end whose handle is zero it uses the next
 * distinct control point, so it is defined for every non-degenerate segment. */
struct vec geom_seg_tangent(const struct seg *s, double t);
/* de Casteljau split at t. */
void geom_seg_split(const struct seg *s, double t, struct seg *a, struct seg *b);
/* The part of s between t0 and t1 (0 <= t0 <= t1 <= 1). */
struct seg geom_seg_sub(const struct seg *s, double t0, double t1);
/* Arc length (adaptive Gauss-Legendre, absolute error well under 1e-6 mm). */
double geom_seg_length(const struct seg *s);
double geom_seg_length_to(const struct seg *s, double t);
/* Parameter where the arc length from the start equals len (clamped). */
double geom_seg_t_at_length(const struct seg *s, double len);
/* Tight box (extremes from the derivative's roots) and the control box. */
struct bbox geom_seg_bbox(const struct seg *s);
struct bbox geom_seg_hull(const struct seg *s);
/* Distance from q to the segment; *t (may be NULL) gets the closest t. */
double geom_seg_closest(const struct seg *s, struct vec q, double *t);
/* Parameters in [0, 1] where y(t) == y (x(t) == x); at most 3, ascending. */
int geom_seg_cross_y(const struct seg *s, double y, double *t);
int geom_seg_cross_x(const struct seg *s, double x, double *t);

struct seg_hit {
    double ta, tb;
    struct vec p;
};
/* Intersections of two segments (line/line analytically, line/curve by the
 * cubic's roots, curve/curve by subdivision with bounding boxes refined by
 * Newton). Returns the count stored, at most max. */
int geom_seg_intersect(const struct seg *a, const struct seg *b, struct seg_hit *hits, int max);

/* Infinite lines a0-a1 and b0-b1: 0 when parallel, else 1 with the point at
 * a0 + ta (a1 - a0) = b0 + tb (b1 - b0). ta/tb may be NULL. */
int geom_line_intersect(struct vec a0, struct vec a1, struct vec b0, struct vec b1, struct vec *p,
                        double *ta, double *tb);

/* A path: consecutive segments (each starting where the previous ended). */
struct path {
    struct seg *seg;
    size_t n, cap;
    struct vec cur; /* the pen: end of the last segment, or the geom_path_move point */
    int failed;     /* an allocation failed; the path is incomplete */
};

void geom_path_init(struct path *p);
void geom_path_free(struct path *p);
void geom_path_clear(struct path *p);
void geom_path_move(struct path *p, struct vec at);
void geom_path_line(struct path *p, struct vec to);
void geom_path_cubic(struct path *p, struct vec c1, struct vec c2, struct vec to);
/* Append a segment as it is (moves the pen to its end). */
void geom_path_push(struct path *p, const struct seg *s);
/* Append every segment of src. */
void geom_path_append(struct path *dst, const struct path *src);
/* 1 when no allocation failed and every coordinate is finite. */
int geom_path_ok(const struct path *p);
struct vec geom_path_start(const struct path *p);
struct vec geom_path_end(const struct path *p);
double geom_path_length(const struct path *p);
/* Point (and unit tangent, may be NULL) at arc length s from the start. */
struct vec geom_path_at(const struct path *p, double s, struct vec *tangent);
/* out = the piece of p from arc length s0 to s1 (0 <= s0 <= s1). */
void geom_path_sub(const struct path *p, double s0, double s1, struct path *out);
/* out = p backwards. */
void geom_path_reverse(const struct path *p, struct path *out);
struct bbox geom_path_bbox(const struct path *p);
/* Distance from q to the path; *s (may be NULL) gets the arc length there. */
double geom_path_closest(const struct path *p, struct vec q, double *s);
/* Signed area enclosed by the path and the chord back to its start (exact
 * for cubics); positive when the interior is on the side of vec_perp. */
double geom_path_area(const struct path *p);
/* x of every crossing of the horizontal line at y (at most max). */
int geom_path_cross_y(const struct path *p, double y, double *xs, int max);

/* Offset of p for a seam allowance. Segment i moves by dist[i] (or by d
 * when dist is NULL) along vec_perp of its tangent; a dist of 0 copies it.
 * Curves are fitted piecewise within 0.005 mm of the true offset; corners
 * that open a gap are mitred, and clipped (bevelled) beyond mitre_limit x
 * the distance; corners that overlap, and the loops of tight inner curves,
 * are cut away. closed joins the last segment to the first. Output segments
 * carry tag = source index, or -1 on joins. Returns 0, or -1 when out of
 * memory or the result is not finite. */
int geom_path_offset(const struct path *p, double d, const double *dist, int closed,
                     double mitre_limit, struct path *out);

/* 1 when the path crosses or touches itself anywhere but where consecutive
 * segments meet (and, when closed, where the last meets the first). */
int geom_path_self_intersects(const struct path *p, int closed);

/* For an open offset that starts and ends on a fold line (through a and
 * b): cut the start back to its last crossing of the line in the first
 * half of the path, and the end at its first crossing in the second half,
 * so that nothing reaches past the fold. Returns 0, or -1 when out of
 * memory (p is then unchanged). */
int geom_path_trim_at_line(struct path *p, struct vec a, struct vec b);

#endif
