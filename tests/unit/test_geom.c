/*
 * test_geom.c - the drafting engine's geometry kernel against known
 * answers: arc lengths of straight cubics, of a parabola (closed form) and
 * of the quarter-circle cubic (a 200 000-step polyline); split and
 * parameter-at-length; line/line, line/curve and curve/curve intersections;
 * tight bounding boxes; signed area; and the seam-allowance offset:
 * sampled pieces lie at the requested distance (p95 <= 0.2 mm and in fact
 * far tighter), corners are mitred or clipped but never come closer than
 * the distance, and a curve tighter than the allowance leaves no loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "atelier/geom.h"

static double polyline_length(const struct seg *s, int steps)
{
    double l = 0.0;
    struct vec prev = geom_seg_eval(s, 0.0);

    for (int i = 1; i <= steps; i++) {
        struct vec p = geom_seg_eval(s, (double)i / steps);
        l += vec_dist(prev, p);
        prev = p;
    }
    return l;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double rnd(double lo, double hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static struct seg random_cubic(void)
{
    return geom_seg_cubic(vec_xy(rnd(0, 300), rnd(0, 300)), vec_xy(rnd(0, 300), rnd(0, 300)),
                          vec_xy(rnd(0, 300), rnd(0, 300)), vec_xy(rnd(0, 300), rnd(0, 300)));
}

static void test_length_straight(void **state)
{
    (void)state;
    struct seg l = geom_seg_line(vec_xy(1, 2), vec_xy(31, 42));
    /* a straight cubic with uneven speed is still as long as its chord */
    struct seg c = geom_seg_cubic(vec_xy(0, 0), vec_xy(90, 0), vec_xy(95, 0), vec_xy(100, 0));
    assert_true(fabs(geom_seg_length(&l) - 50.0) < 1e-12);
    assert_true(fabs(geom_seg_length(&c) - 100.0) < 1e-6);
    assert_true(fabs(geom_seg_length_to(&l, 0.5) - 25.0) < 1e-12);
}

static void test_length_parabola(void **state)
{
    (void)state;
    /* quadratic (0,0) (50,100) (100,0) raised to a cubic: y = 2x - x^2/50,
     * length = 25 (2 sqrt 5 + asinh 2) */
    struct vec p0 = {0, 0}, p1 = {50, 100}, p2 = {100, 0};
    struct seg c = geom_seg_cubic(p0, vec_lerp(p0, p1, 2.0 / 3.0), vec_lerp(p2, p1, 2.0 / 3.0), p2);
    double exact = 25.0 * (2.0 * sqrt(5.0) + asinh(2.0));
    assert_true(fabs(geom_seg_length(&c) - exact) < 1e-6);
}

static void test_length_quarter_circle(void **state)
{
    (void)state;
    double r = 100.0;
    struct seg c = geom_seg_cubic(vec_xy(r, 0), vec_xy(r, GEOM_KAPPA * r),
                                  vec_xy(GEOM_KAPPA * r, r), vec_xy(0, r));
    double ref = polyline_length(&c, 200000), l = geom_seg_length(&c);
    assert_true(fabs(l - ref) < 1e-5);
    /* and the cubic is a good circle: within 0.03 % of r pi / 2 */
    assert_true(fabs(l - r * GEOM_PI / 2.0) < 3e-4 * r * GEOM_PI / 2.0);
}

static void test_length_random_vs_polyline(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        struct seg c = random_cubic();
        double ref = polyline_length(&c, 20000), l = geom_seg_length(&c);
        /* the polyline is short by about L k^2/(24 n^2); allow for it */
        assert_true(fabs(l - ref) < 1e-3 + 1e-5 * l);
    }
}

static void test_split_and_length_at(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        struct seg c = random_cubic(), a, b;
        double t = rnd(0.05, 0.95), total = geom_seg_length(&c);
        geom_seg_split(&c, t, &a, &b);
        assert_true(fabs(geom_seg_length(&a) + geom_seg_length(&b) - total) < 1e-6);
        assert_true(vec_dist(a.p[3], geom_seg_eval(&c, t)) < 1e-9);
        assert_true(vec_dist(b.p[0], geom_seg_eval(&c, t)) < 1e-9);
        double s = rnd(0.0, total), u = geom_seg_t_at_length(&c, s);
        assert_true(fabs(geom_seg_length_to(&c, u) - s) < 1e-6);
        struct seg mid = geom_seg_sub(&c, 0.25, 0.75);
        assert_true(vec_dist(mid.p[0], geom_seg_eval(&c, 0.25)) < 1e-9);
        assert_true(vec_dist(mid.p[3], geom_seg_eval(&c, 0.75)) < 1e-9);
    }
}

static void test_path_length_and_sub(void **state)
{
    (void)state;
    struct path p, a;
    geom_path_init(&p);
    geom_path_init(&a);
    geom_path_move(&p, vec_xy(0, 0));
    geom_path_line(&p, vec_xy(100, 0));
    geom_path_cubic(&p, vec_xy(100 + 100 * GEOM_KAPPA, 0), vec_xy(200, 100 - 100 * GEOM_KAPPA),
                    vec_xy(200, 100));
    geom_path_line(&p, vec_xy(200, 200));
    double total = geom_path_length(&p);
    assert_true(fabs(total - (200.0 + geom_seg_length(&p.seg[1]))) < 1e-9);
    geom_path_sub(&p, 50.0, total - 50.0, &a);
    assert_true(fabs(geom_path_length(&a) - (total - 100.0)) < 1e-6);
    assert_true(vec_dist(geom_path_start(&a), vec_xy(50, 0)) < 1e-9);
    assert_true(vec_dist(geom_path_end(&a), vec_xy(200, 150)) < 1e-6);
    struct vec t, q = geom_path_at(&p, 100.0 + geom_seg_length(&p.seg[1]) / 2.0, &t);
    /* halfway round the quarter circle: 45 degrees */
    assert_true(fabs(t.x - t.y) < 1e-3);
    assert_true(fabs(vec_dist(q, vec_xy(100, 100)) - 100.0) < 0.03);
    geom_path_free(&p);
    geom_path_free(&a);
}

static void test_intersections(void **state)
{
    (void)state;
    struct seg_hit h[9];
    struct seg a = geom_seg_line(vec_xy(0, 0), vec_xy(100, 100)),
               b = geom_seg_line(vec_xy(0, 100), vec_xy(100, 0));
    assert_int_equal(geom_seg_intersect(&a, &b, h, 9), 1);
    assert_true(vec_dist(h[0].p, vec_xy(50, 50)) < 1e-9);
    assert_true(fabs(h[0].ta - 0.5) < 1e-12 && fabs(h[0].tb - 0.5) < 1e-12);
    struct seg far = geom_seg_line(vec_xy(200, 0), vec_xy(300, 100));
    assert_int_equal(geom_seg_intersect(&a, &far, h, 9), 0);

    /* an arch crossed by a horizontal line: two points at y = 50 */
    struct seg arch =
        geom_seg_cubic(vec_xy(0, 0), vec_xy(0, 100), vec_xy(100, 100), vec_xy(100, 0));
    struct seg hl = geom_seg_line(vec_xy(-10, 50), vec_xy(110, 50));
    int n = geom_seg_intersect(&hl, &arch, h, 9);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        assert_true(fabs(h[i].p.y - 50.0) < 1e-9);
        assert_true(vec_dist(geom_seg_eval(&arch, h[i].tb), h[i].p) < 1e-9);
    }
    assert_true(fabs(h[0].p.x + h[1].p.x - 100.0) < 1e-9); /* symmetric */

    /* a wave and its mirror about y = 50: x = 100 t on both, so they meet
     * where y(t) - 50 = 300 t (1 - t) (1 - 2 t) = 0: t = 0, 1/2, 1 */
    struct seg s1 = geom_seg_cubic(vec_xy(0, 50), vec_xy(100.0 / 3, 150), vec_xy(200.0 / 3, -50),
                                   vec_xy(100, 50));
    struct seg s2 = geom_seg_cubic(vec_xy(0, 50), vec_xy(100.0 / 3, -50), vec_xy(200.0 / 3, 150),
                                   vec_xy(100, 50));
    n = geom_seg_intersect(&s1, &s2, h, 9);
    assert_int_equal(n, 3);
    int centre = 0;
    for (int i = 0; i < n; i++) {
        assert_true(vec_dist(geom_seg_eval(&s1, h[i].ta), geom_seg_eval(&s2, h[i].tb)) < 1e-6);
        centre += vec_dist(h[i].p, vec_xy(50, 50)) < 1e-6;
    }
    assert_int_equal(centre, 1);
    struct vec p;
    assert_int_equal(
        geom_line_intersect(vec_xy(0, 0), vec_xy(1, 0), vec_xy(0, 1), vec_xy(1, 1), &p, NULL, NULL),
        0);
}

static void test_bbox_area_cross(void **state)
{
    (void)state;
    struct seg arch =
        geom_seg_cubic(vec_xy(0, 0), vec_xy(0, 100), vec_xy(100, 100), vec_xy(100, 0));
    struct bbox b = geom_seg_bbox(&arch);
    assert_true(fabs(b.x0) < 1e-12 && fabs(b.x1 - 100) < 1e-12);
    assert_true(fabs(b.y0) < 1e-12 && fabs(b.y1 - 75.0) < 1e-9);

    struct path sq;
    geom_path_init(&sq);
    geom_path_move(&sq, vec_xy(0, 0));
    geom_path_line(&sq, vec_xy(100, 0));
    geom_path_line(&sq, vec_xy(100, 50));
    geom_path_line(&sq, vec_xy(0, 50));
    geom_path_line(&sq, vec_xy(0, 0));
    assert_true(fabs(geom_path_area(&sq) - 5000.0) < 1e-9);
    double xs[8];
    int n = geom_path_cross_y(&sq, 20.0, xs, 8);
    assert_int_equal(n, 2);
    assert_true(fabs(fmin(xs[0], xs[1])) < 1e-12 && fabs(fmax(xs[0], xs[1]) - 100) < 1e-12);
    /* a circle of four cubics: area close to pi r^2 */
    struct path c;
    geom_path_init(&c);
    double r = 50, k = GEOM_KAPPA * r;
    geom_path_move(&c, vec_xy(r, 0));
    geom_path_cubic(&c, vec_xy(r, k), vec_xy(k, r), vec_xy(0, r));
    geom_path_cubic(&c, vec_xy(-k, r), vec_xy(-r, k), vec_xy(-r, 0));
    geom_path_cubic(&c, vec_xy(-r, -k), vec_xy(-k, -r), vec_xy(0, -r));
    geom_path_cubic(&c, vec_xy(k, -r), vec_xy(r, -k), vec_xy(r, 0));
    assert_true(fabs(geom_path_area(&c) - GEOM_PI * r * r) < 1e-3 * GEOM_PI * r * r);
    assert_true(fabs(geom_path_closest(&c, vec_xy(0, 0), NULL) - r) < 0.03);
    geom_path_free(&sq);
    geom_path_free(&c);
}

/* Distance statistics of an offset: every piece from a source segment
 * sampled 16 times; joins must never come closer than d. */
struct off_stats {
    double p95, max, join_min;
    int n;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void offset_stats(const struct path *src, const struct path *off, double d,
                         struct off_stats *st)
{
    size_t cap = off->n * 16 + 1, n = 0;
    double *err = calloc(cap, sizeof *err);

    assert_non_null(err);
    st->join_min = 1e300;
    for (size_t i = 0; i < off->n; i++)
        for (int k = 0; k < 16; k++) {
            struct vec q = geom_seg_eval(&off->seg[i], (k + 0.5) / 16.0);
            double dist = geom_path_closest(src, q, NULL);
            if (off->seg[i].tag >= 0)
                err[n++] = fabs(dist - d);
            else
                st->join_min = fmin(st->join_min, dist);
        }
    qsort(err, n, sizeof *err, cmp_double);
    st->n = (int)n;
    st->p95 = n ? err[(size_t)(0.95 * (double)(n - 1))] : 0.0;
    st->max = n ? err[n - 1] : 0.0;
    free(err);
}

static int self_intersections(const struct path *p)
{
    int count = 0;
    struct seg_hit h[9];

    for (size_t i = 0; i < p->n; i++)
        for (size_t j = i + 1; j < p->n; j++) {
            int n = geom_seg_intersect(&p->seg[i], &p->seg[j], h, 9);
            for (int k = 0; k < n; k++) {
                int shared = (j == i + 1 && vec_dist(h[k].p, p->seg[i].p[3]) < 1e-6) ||
                             (i == 0 && j == p->n - 1 && vec_dist(h[k].p, p->seg[0].p[0]) < 1e-6);
                count += !shared;
            }
        }
    return count;
}

/* A bodice-like outline: straight lines, a deep armhole-like curve and a
 * neck-like curve, clockwise on screen (positive area). */
static void outline(struct path *p)
{
    geom_path_move(p, vec_xy(0, 80));
    geom_path_cubic(p, vec_xy(40, 80), vec_xy(70, 40), vec_xy(70, 0));
    geom_path_line(p, vec_xy(220, 40));
    geom_path_cubic(p, vec_xy(200, 120), vec_xy(200, 200), vec_xy(280, 240));
    geom_path_line(p, vec_xy(280, 600));
    geom_path_line(p, vec_xy(0, 600));
    geom_path_line(p, vec_xy(0, 80));
}

static void test_offset_distance(void **state)
{
    (void)state;
    double ds[] = {5.0, 10.0, 25.0};
    for (int i = 0; i < 3; i++) {
        struct path p, o;
        struct off_stats st;
        geom_path_init(&p);
        geom_path_init(&o);
        outline(&p);
        assert_true(geom_path_area(&p) > 0.0);
        /* outwards = against vec_perp for a positive area */
        assert_int_equal(geom_path_offset(&p, -ds[i], NULL, 1, 2.0, &o), 0);
        offset_stats(&p, &o, ds[i], &st);
        assert_true(st.n > 100);
        assert_true(st.p95 <= 0.2);
        assert_true(st.p95 <= 0.01); /* the fit itself is within 0.005 mm */
        assert_true(st.max <= 0.05);
        assert_true(st.join_min >= ds[i] - 1e-6);
        assert_int_equal(self_intersections(&o), 0);
        assert_true(vec_dist(geom_path_start(&o), geom_path_end(&o)) < 1e-9);
        assert_true(geom_path_area(&o) > geom_path_area(&p));
        geom_path_free(&p);
        geom_path_free(&o);
    }
}

static void test_offset_corners(void **state)
{
    (void)state;
    struct path sq, o, tri, ot;
    geom_path_init(&sq);
    geom_path_init(&o);
    geom_path_init(&tri);
    geom_path_init(&ot);
    geom_path_move(&sq, vec_xy(0, 0));
    geom_path_line(&sq, vec_xy(100, 0));
    geom_path_line(&sq, vec_xy(100, 100));
    geom_path_line(&sq, vec_xy(0, 100));
    geom_path_line(&sq, vec_xy(0, 0));
    assert_int_equal(geom_path_offset(&sq, -10.0, NULL, 1, 2.0, &o), 0);
    /* square corners are mitred: the box grows by exactly 10 all round */
    struct bbox b = geom_path_bbox(&o);
    assert_true(fabs(b.x0 + 10) < 1e-9 && fabs(b.y0 + 10) < 1e-9);
    assert_true(fabs(b.x1 - 110) < 1e-9 && fabs(b.y1 - 110) < 1e-9);
    assert_true(fabs(geom_path_area(&o) - 120.0 * 120.0) < 1e-6);

    /* a 20-degree spike: mitre clipped at 2 x d from the tip (bevel) */
    geom_path_move(&tri, vec_xy(0, 0));
    geom_path_line(&tri, vec_xy(200, -35.27));
    geom_path_line(&tri, vec_xy(200, 35.27));
    geom_path_line(&tri, vec_xy(0, 0));
    assert_int_equal(
        geom_path_offset(&tri, geom_path_area(&tri) > 0 ? -10.0 : 10.0, NULL, 1, 2.0, &ot), 0);
    struct off_stats st;
    offset_stats(&tri, &ot, 10.0, &st);
    assert_true(st.max < 1e-6);
    assert_true(st.join_min >= 10.0 - 1e-6);
    struct bbox bt = geom_path_bbox(&ot);
    assert_true(fabs(bt.x0 + 20.0) < 1e-6); /* clipped: 2 x 10 beyond the tip */
    assert_int_equal(self_intersections(&ot), 0);
    geom_path_free(&sq);
    geom_path_free(&o);
    geom_path_free(&tri);
    geom_path_free(&ot);
}

static void test_offset_tight_curve(void **state)
{
    (void)state;
    /* a notch of radius 4 cut into a square: an allowance of 10 must jump
     * over it without a loop */
    for (int inner = 0; inner < 2; inner++) {
        struct path p, o;
        double r = 4.0, k = GEOM_KAPPA * r;
        geom_path_init(&p);
        geom_path_init(&o);
        geom_path_move(&p, vec_xy(0, 0));
        geom_path_line(&p, vec_xy(100 - r, 0));
        geom_path_cubic(&p, vec_xy(100 - r, k), vec_xy(100 - k, r), vec_xy(100, r));
        geom_path_cubic(&p, vec_xy(100 + k, r), vec_xy(100 + r, k), vec_xy(100 + r, 0));
        geom_path_line(&p, vec_xy(200, 0));
        geom_path_line(&p, vec_xy(200, 100));
        geom_path_line(&p, vec_xy(0, 100));
        geom_path_line(&p, vec_xy(0, 0));
        double d = geom_path_area(&p) > 0 ? -10.0 : 10.0;
        assert_int_equal(geom_path_offset(&p, inner ? -d : d, NULL, 1, 2.0, &o), 0);
        assert_int_equal(self_intersections(&o), 0);
        for (size_t i = 0; i < o.n; i++)
            for (int s = 0; s <= 8; s++)
                assert_true(geom_path_closest(&p, geom_seg_eval(&o.seg[i], s / 8.0), NULL) >=
                            10.0 - 0.01);
        geom_path_free(&p);
        geom_path_free(&o);
    }
}

static void test_offset_open_and_per_segment(void **state)
{
    (void)state;
    struct path p, o;
    double dist[3] = {10.0, 30.0, 10.0};
    geom_path_init(&p);
    geom_path_init(&o);
    geom_path_move(&p, vec_xy(0, 0));
    geom_path_line(&p, vec_xy(0, 100));
    geom_path_line(&p, vec_xy(100, 100));
    geom_path_line(&p, vec_xy(100, 0));
    /* open: the ends are the offset end points; each side its own distance */
    assert_int_equal(geom_path_offset(&p, 0.0, dist, 0, 4.0, &o), 0);
    assert_true(vec_dist(geom_path_start(&o), vec_xy(-10, 0)) < 1e-9);
    assert_true(vec_dist(geom_path_end(&o), vec_xy(110, 0)) < 1e-9);
    struct bbox b = geom_path_bbox(&o);
    assert_true(fabs(b.y1 - 130.0) < 1e-9);
    assert_int_equal(self_intersections(&o), 0);
    geom_path_free(&p);
    geom_path_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_straight),
        cmocka_unit_test(test_length_parabola),
        cmocka_unit_test(test_length_quarter_circle),
        cmocka_unit_test(test_length_random_vs_polyline),
        cmocka_unit_test(test_split_and_length_at),
        cmocka_unit_test(test_path_length_and_sub),
        cmocka_unit_test(test_intersections),
        cmocka_unit_test(test_bbox_area_cross),
        cmocka_unit_test(test_offset_distance),
        cmocka_unit_test(test_offset_corners),
        cmocka_unit_test(test_offset_tight_curve),
        cmocka_unit_test(test_offset_open_and_per_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
