/*
 * test_anon.c - MDAV microaggregation and the release figures and gates
 * (src/privacy/anon.c; reference: measurements-anonymization 4.8, 5 and 6.1).
 *
 * Fixtures: the 20 adult @freesewing/models@4.10.2 sets (MIT, (c) Joost De
 * Cock) are copied below; the synthetic reference population of section 5.1
 * is privacy/synth.c's, the one `atelier populate` writes, with fixed seeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/anon.h"
#include "privacy/synth.h"
#include "base/err.h"
#include "base/rng.h"

#define P 38

/* column indices, the same in measures_table[] order (the synthetic population)
 * and in the fixture's @freesewing/config order (which has heel before head:
 * only columns 9 and 10 differ); test_synthetic_gates checks them */
#define COL_CHEST 5
#define COL_HPSWB 15
#define COL_NECK  19
#define COL_SEAT  20
#define COL_SLOPE 22
#define COL_WAIST 28

static const int qcols[4] = {COL_CHEST, COL_WAIST, COL_SEAT, COL_HPSWB};

/* @freesewing/models@4.10.2 adult sets: cisFemaleAdult28..46 (with breasts),
 * cisMaleAdult32..50; mm, shoulderSlope in degrees. */
static const double models[20][P] = {
    /* cisFemaleAdult28 */ {202, 222, 438, 91,  146, 762, 662, 331, 239, 301, 530, 712, 401,
                            741, 243, 350, 354, 731, 336, 280, 903, 465, 13,  310, 367, 559,
                            642, 525, 638, 323, 151, 976, 111, 531, 221, 71,  252, 150},
    /* cisFemaleAdult30 */ {216, 238, 452, 94,  151, 816,  688, 344, 249, 306, 542, 763, 414,
                            794, 254, 365, 369, 743, 351,  300, 939, 483, 13,  320, 383, 569,
                            688, 540, 675, 342, 157, 1001, 115, 554, 231, 74,  263, 155},
    /* cisFemaleAdult32 */ {231, 254, 466, 97,  155, 871,  714, 357, 260, 310, 553, 814, 427,
                            847, 264, 380, 385, 754, 365,  320, 974, 502, 13,  330, 399, 580,
                            734, 555, 713, 361, 164, 1025, 120, 577, 240, 77,  274, 160},
    /* cisFemaleAdult34 */ {245, 270, 480, 100, 160, 925,  740, 370,  270, 315, 565, 865, 440,
                            900, 275, 395, 400, 765, 380,  340, 1010, 520, 13,  340, 415, 590,
                            780, 570, 750, 380, 170, 1050, 125, 600,  250, 80,  285, 165},
    /* cisFemaleAdult36 */ {259, 286, 494, 103, 165, 979,  766, 383,  280, 320, 577, 916, 453,
                            953, 286, 410, 415, 776, 395,  360, 1046, 538, 13,  350, 431, 600,
                            826, 585, 788, 399, 177, 1075, 130, 623,  260, 83,  296, 170},
    /* cisFemaleAdult38 */ {274,  302, 508, 106, 169, 1034, 792, 396,  291, 324, 588, 967, 466,
                            1006, 296, 425, 431, 788, 409,  380, 1081, 557, 13,  360, 447, 611,
                            872,  600, 825, 418, 183, 1099, 135, 646,  269, 86,  307, 175},
    /* cisFemaleAdult40 */ {288,  318, 522, 109, 174, 1088, 818, 409,  301, 329, 600, 1018, 479,
                            1059, 307, 440, 446, 799, 424,  400, 1117, 575, 13,  370, 463,  621,
                            918,  615, 863, 437, 190, 1124, 139, 669,  279, 89,  318, 180},
    /* cisFemaleAdult42 */ {303,  334, 536, 112, 179, 1143, 844, 422,  311, 334, 612, 1069, 492,
                            1112, 317, 455, 461, 810, 438,  420, 1153, 593, 13,  380, 478,  632,
                            964,  630, 900, 456, 196, 1149, 144, 692,  288, 92,  329, 184},
    /* cisFemaleAdult44 */ {317,  349, 551, 115, 184, 1197, 871, 435,  322, 338, 623, 1119, 505,
                            1165, 328, 471, 476, 821, 453,  440, 1188, 612, 13,  390, 494,  642,
                            1009, 645, 938, 475, 203, 1174, 149, 715,  298, 95,  339, 189},
    /* cisFemaleAdult46 */ {331,  365, 565, 118, 188, 1251, 897, 448,  332, 343, 635, 1170, 518,
                            1218, 338, 486, 492, 833, 467,  460, 1224, 630, 13,  400, 510,  652,
                            1055, 661, 975, 494, 209, 1198, 154, 738,  307, 98,  350, 194},
    /* cisMaleAdult32 */ {198, 295, 516, 55,  175, 842,  788, 371, 305, 346, 557, 867, 525,
                          707, 251, 422, 413, 749, 368,  320, 923, 507, 13,  332, 404, 600,
                          825, 581, 701, 355, 188, 1087, 117, 574, 242, 49,  305, 161},
    /* cisMaleAdult34 */ {210, 313, 531, 57,  180, 895,  815, 384, 317, 351, 568, 922, 540,
                          752, 261, 438, 429, 759, 382,  340, 956, 525, 13,  341, 419, 610,
                          877, 595, 738, 373, 196, 1111, 121, 596, 252, 51,  317, 166},
    /* cisMaleAdult36 */ {223, 332, 545, 58,  185, 947,  843, 397, 328, 355, 579, 976, 555,
                          796, 270, 454, 444, 770, 396,  360, 988, 542, 13,  351, 435, 620,
                          928, 610, 774, 392, 203, 1136, 126, 618, 261, 53,  328, 170},
    /* cisMaleAdult38 */ {235, 350, 560, 60,  190, 1000, 870, 410,  340, 360, 590, 1030, 570,
                          840, 280, 470, 460, 780, 410,  380, 1020, 560, 13,  360, 450,  630,
                          980, 625, 810, 410, 210, 1160, 130, 640,  270, 55,  340, 175},
    /* cisMaleAdult40 */ {247,  368, 575, 62,  195, 1053, 897, 423,  352, 365, 601, 1084, 585,
                          884,  290, 486, 476, 790, 424,  400, 1052, 578, 13,  369, 465,  640,
                          1032, 640, 846, 428, 217, 1184, 134, 662,  279, 57,  352, 180},
    /* cisMaleAdult42 */ {260,  387, 589, 63,  200, 1105, 925, 436,  363, 369, 612, 1138, 600,
                          928,  299, 502, 491, 801, 438,  420, 1084, 595, 13,  379, 481,  650,
                          1083, 655, 882, 447, 224, 1209, 139, 684,  288, 59,  363, 184},
    /* cisMaleAdult44 */ {272,  405, 604, 65,  205, 1158, 952, 449,  375, 374, 623, 1193, 615,
                          973,  309, 518, 507, 811, 452,  440, 1117, 613, 13,  388, 496,  660,
                          1135, 669, 919, 465, 232, 1233, 143, 706,  298, 61,  375, 189},
    /* cisMaleAdult46 */ {284,  424, 619, 66,  210, 1211, 980, 462,  387, 379, 633, 1247, 630,
                          1017, 318, 534, 523, 821, 466,  460, 1149, 631, 13,  398, 512,  670,
                          1186, 684, 955, 483, 239, 1258, 148, 728,  307, 63,  387, 193},
    /* cisMaleAdult48 */ {297,  442, 634, 68,  215, 1263, 1007, 475,  398, 384, 644, 1301, 645,
                          1061, 328, 550, 539, 831, 480,  480,  1181, 648, 13,  407, 527,  680,
                          1238, 699, 991, 502, 246, 1282, 152,  749,  316, 64,  398, 198},
    /* cisMaleAdult50 */ {309,  461, 648,  69,  220, 1316, 1035, 488,  410, 388, 655, 1355, 660,
                          1105, 337, 566,  554, 842, 494,  500,  1213, 666, 13,  417, 542,  690,
                          1289, 714, 1027, 520, 253, 1307, 157,  771,  325, 66,  410, 203},
};

/* ---- synthetic reference population (section 5.1, with breasts) ---- */

/* The bodies of `atelier populate` (privacy/synth.c), with breasts: all 38
 * columns, in measures_table[] order. */
static double *population(size_t n, uint64_t seed)
{
    struct rng r;
    double *x = malloc(n * P * sizeof(double));

    assert_non_null(x);
    assert_int_equal(synth_columns(1), P);
    rng_seed(&r, seed);
    synth_table(&r, 1, n, x);
    return x;
}

/* ---- checks on a release ---- */

static const double *sort_rows;
static size_t sort_p;

static int row_cmp(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    for (size_t j = 0; j < sort_p; j++) {
        double u = sort_rows[ia * sort_p + j], v = sort_rows[ib * sort_p + j];
        if (u != v)
            return u < v ? -1 : 1;
    }
    return (ia > ib) - (ia < ib);
}

/* Runs of identical rows: smallest and largest run, number of runs. */
static void runs(const double *y, size_t n, size_t p, size_t *min_run, size_t *max_run,
                 size_t *nruns)
{
    size_t *ord = malloc(n * sizeof(size_t));
    assert_non_null(ord);
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    sort_rows = y;
    sort_p = p;
    qsort(ord, n, sizeof(size_t), row_cmp);
    *min_run = SIZE_MAX;
    *max_run = 0;
    *nruns = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && memcmp(y + ord[e] * p, y + ord[i] * p, p * sizeof(double)) == 0)
            e++;
        if (e - i < *min_run)
            *min_run = e - i;
        if (e - i > *max_run)
            *max_run = e - i;
        (*nruns)++;
        i = e;
    }
    free(ord);
}

static void assert_means_kept(const double *x, const double *y, size_t n, size_t p)
{
    for (size_t j = 0; j < p; j++) {
        double mx = 0, my = 0;
        for (size_t i = 0; i < n; i++) {
            mx += x[i * p + j];
            my += y[i * p + j];
        }
        assert_true(fabs(mx - my) / (double)n <= 0.5 + 1e-9);
    }
}

/* Brute-force DBRL hit of record i (ties split over released rows). */
static double dbrl_hit(const double *x, const double *y, size_t n, size_t p, size_t i)
{
    double *mean = calloc(p, sizeof(double)), *sd = calloc(p, sizeof(double));
    double *d = malloc(n * sizeof(double)), best = INFINITY, w = 0.0;
    assert_true(mean && sd && d);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < p; j++)
            mean[j] += x[r * p + j] / (double)n;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < p; j++)
            sd[j] += (x[r * p + j] - mean[j]) * (x[r * p + j] - mean[j]);
    for (size_t j = 0; j < p; j++)
        sd[j] = sqrt(sd[j] / (double)(n - 1));
    for (size_t r = 0; r < n; r++) { /* every released row, duplicates included */
        double s = 0.0;
        for (size_t j = 0; j < p; j++)
            if (sd[j] > 0) {
                double u = (x[i * p + j] - y[r * p + j]) / sd[j];
                s += u * u;
            }
        d[r] = s;
        if (s < best)
            best = s;
    }
    for (size_t r = 0; r < n; r++)
        if (d[r] <= best + 1e-9)
            w += 1.0;
    double hit = d[i] <= best + 1e-9 ? 1.0 / w : 0.0;
    free(mean);
    free(sd);
    free(d);
    return hit;
}

/* Textbook MDAV written the slow, obvious way (section 4.8): recomputes
 * everything from the alive set each step. Same arithmetic as anon.c for the
 * centroid (mean of the original values, standardised) and distances (column
 * order), so even exact ties must resolve identically. */
static double zdist(const double *z, size_t p, size_t i, const double *v)
{
    double s = 0.0;
    for (size_t j = 0; j < p; j++) {
        double t = z[i * p + j] - v[j];
        s += t * t;
    }
    return s;
}

static size_t naive_far(const double *z, size_t n, size_t p, const char *alive, const double *v,
                        const size_t *excl, size_t ne)
{
    size_t best = SIZE_MAX;
    double bd = -1.0;
    for (size_t i = 0; i < n; i++) {
        int skip = !alive[i];
        for (size_t e = 0; e < ne; e++)
            skip |= excl[e] == i;
        if (skip)
            continue;
        double d = zdist(z, p, i, v);
        if (d > bd) { /* strict: ties keep the lower index */
            bd = d;
            best = i;
        }
    }
    return best;
}

/* g[0] = c, g[1..k) = the k-1 nearest alive others by (distance, index) */
static void naive_group(const double *z, size_t n, size_t p, const char *alive, size_t c, size_t k,
                        size_t *g)
{
    g[0] = c;
    for (size_t m = 1; m < k; m++) {
        size_t best = SIZE_MAX;
        double bd = INFINITY;
        for (size_t i = 0; i < n; i++) {
            int taken = !alive[i];
            for (size_t e = 0; e < m; e++)
                taken |= g[e] == i;
            if (taken)
                continue;
            double d = zdist(z, p, i, &z[c * p]);
            if (d < bd) {
                bd = d;
                best = i;
            }
        }
        g[m] = best;
    }
}

static void naive_emit(const double *x, size_t p, const size_t *g, size_t m, double *y)
{
    for (size_t j = 0; j < p; j++) {
        double a = 0.0;
        for (size_t i = 0; i < m; i++)
            a += x[g[i] * p + j];
        for (size_t i = 0; i < m; i++)
            y[g[i] * p + j] = round(a / (double)m) + 0.0;
    }
}

/* x has no constant column */
static void naive_mdav(const double *x, size_t n, size_t p, size_t k, double *y)
{
    double *mean = calloc(p, sizeof(double)), *sd = calloc(p, sizeof(double));
    double *z = malloc(n * p * sizeof(double)), *c = malloc(p * sizeof(double));
    char *alive = malloc(n);
    size_t *g = malloc(n * sizeof(size_t)), nr = n;
    assert_true(mean && sd && z && c && alive && g);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            mean[j] += x[i * p + j];
    for (size_t j = 0; j < p; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            sd[j] += (x[i * p + j] - mean[j]) * (x[i * p + j] - mean[j]);
    for (size_t j = 0; j < p; j++)
        sd[j] = sqrt(sd[j] / (double)(n - 1));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            z[i * p + j] = (x[i * p + j] - mean[j]) / sd[j];
    memset(alive, 1, n);
    while (nr >= 2 * k) {
        for (size_t j = 0; j < p; j++) {
            double a = 0.0;
            for (size_t i = 0; i < n; i++)
                if (alive[i])
                    a += x[i * p + j];
            c[j] = (a / (double)nr - mean[j]) / sd[j];
        }
        size_t r = naive_far(z, n, p, alive, c, NULL, 0);
        size_t s = naive_far(z, n, p, alive, &z[r * p], &r, 1);
        naive_group(z, n, p, alive, r, k, g);
        int two = nr >= 3 * k;
        if (two) {
            for (size_t e = 0; e < k; e++)
                if (g[e] == s)
                    s = naive_far(z, n, p, alive, &z[r * p], g, k);
        }
        naive_emit(x, p, g, k, y);
        for (size_t e = 0; e < k; e++)
            alive[g[e]] = 0;
        nr -= k;
        if (two) {
            naive_group(z, n, p, alive, s, k, g);
            naive_emit(x, p, g, k, y);
            for (size_t e = 0; e < k; e++)
                alive[g[e]] = 0;
            nr -= k;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (alive[i])
            g[m++] = i;
    naive_emit(x, p, g, m, y);
    free(mean);
    free(sd);
    free(z);
    free(c);
    free(alive);
    free(g);
}

/* ---- tests ---- */

static void test_plain_is_textbook(void **state)
{
    (void)state;
    const size_t sizes[] = {7, 12, 29, 60, 151, 300};
    const int ranges[] = {3, 10, 1000};
    struct rng r;
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t k = 2; k <= 6 && k <= sizes[a]; k += 2) {
                size_t n = sizes[a], p = 1 + (a + b) % 4, groups;
                double *x = malloc(n * p * sizeof(double)), *y = malloc(n * p * sizeof(double));
                double *w = malloc(n * p * sizeof(double));
                assert_true(x && y && w);
                rng_seed(&r, 31 * a + 7 * b + k);
                for (size_t i = 0; i < n * p; i++)
                    x[i] = (double)(rng_next(&r) % (uint64_t)ranges[b]);
                for (size_t j = 0; j < p; j++) { /* no constant column */
                    x[j] = 0;
                    x[p + j] = 1;
                }
                assert_int_equal(anon_mdav(x, n, p, k, ANON_MDAV_PLAIN, y, &groups), 0);
                naive_mdav(x, n, p, k, w);
                assert_memory_equal(y, w, n * p * sizeof(double));
                free(x);
                free(y);
                free(w);
            }
}

/* DBRL and the partial figure against brute force, on a release with many
 * ties (x coarse, y = x rounded to 10) and on an MDAV release. The attacker's
 * tape error is the documented stream: 10 mm * rng_normal of rng.h seeded
 * with the figure's seed, drawn in record then column order. */
static double brute_linkage(const double *x, const double *y, size_t n, size_t p, const int *cols,
                            const double *noise)
{
    double *mean = calloc(p, sizeof(double)), *sd = calloc(p, sizeof(double));
    double *d = malloc(n * sizeof(double)), total = 0.0;
    assert_true(mean && sd && d);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < p; j++)
            mean[j] += x[r * p + j];
    for (size_t j = 0; j < p; j++)
        mean[j] /= (double)n;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < p; j++)
            sd[j] += (x[r * p + j] - mean[j]) * (x[r * p + j] - mean[j]);
    for (size_t j = 0; j < p; j++)
        sd[j] = sqrt(sd[j] / (double)(n - 1));
    size_t nc = cols ? 4 : p;
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY, w = 0.0;
        for (size_t r = 0; r < n; r++) {
            double s = 0.0;
            for (size_t a = 0; a < nc; a++) {
                size_t j = cols ? (size_t)cols[a] : a;
                double v = x[i * p + j] + (noise ? noise[i * 4 + a] : 0.0);
                double u = (v - mean[j]) / sd[j] - (y[r * p + j] - mean[j]) / sd[j];
                s += u * u;
            }
            d[r] = s;
            if (s < best)
                best = s;
        }
        for (size_t r = 0; r < n; r++)
            if (d[r] <= best + 1e-9)
                w += 1.0;
        if (d[i] <= best + 1e-9)
            total += 1.0 / w;
    }
    free(mean);
    free(sd);
    free(d);
    return 100.0 * total / (double)n;
}

static void test_linkage_brute_force(void **state)
{
    (void)state;
    const size_t n = 400, p = 6;
    const int cols[4] = {0, 2, 3, 5};
    struct rng r;
    double *x = malloc(n * p * sizeof(double)), *y = malloc(n * p * sizeof(double));
    double *noise = malloc(n * 4 * sizeof(double));
    assert_true(x && y && noise);
    rng_seed(&r, 77);
    for (size_t i = 0; i < n * p; i++)
        x[i] = 500.0 + 10.0 * (double)(rng_next(&r) % 9) + (double)(rng_next(&r) % 3);
    rng_seed(&r, 5);
    for (size_t i = 0; i < n * 4; i++)
        noise[i] = 10.0 * rng_normal(&r);
    struct anon_figures f;
    for (int v = 0; v < 2; v++) {
        size_t groups;
        if (v == 0)
            for (size_t i = 0; i < n * p; i++)
                y[i] = 10.0 * round(x[i] / 10.0);
        else
            assert_int_equal(anon_mdav(x, n, p, 3, ANON_MDAV_FAST, y, &groups), 0);
        assert_int_equal(anon_measure(x, y, n, p, 3, cols, 5, &f), 0);
        assert_true(fabs(f.dbrl - brute_linkage(x, y, n, p, NULL, NULL)) < 1e-9);
        assert_true(fabs(f.partial - brute_linkage(x, y, n, p, cols, noise)) < 1e-9);
        anon_figures_free(&f);
    }
    free(x);
    free(y);
    free(noise);
}

static void test_models_fixture(void **state)
{
    (void)state;
    double y[10 * P];
    for (int s = 0; s < 2; s++) {
        const double *x = &models[10 * s][0];
        size_t groups = 0;
        assert_int_equal(anon_mdav(x, 10, P, 5, ANON_MDAV_PLAIN, y, &groups), 0);
        assert_int_equal(groups, 2);
        /* sizes 28..36 (32..40) and 38..46 (42..50): rank-1 table, split in the middle */
        for (int i = 1; i < 5; i++) {
            assert_memory_equal(&y[i * P], &y[0], P * sizeof(double));
            assert_memory_equal(&y[(5 + i) * P], &y[5 * P], P * sizeof(double));
        }
        assert_true(memcmp(&y[0], &y[5 * P], P * sizeof(double)) != 0);
        /* e.g. the neck means: (280+300+320+340+360)/5 = 320 */
        assert_true(y[COL_NECK] == (s == 0 ? 320.0 : 360.0));
        assert_true(y[COL_SLOPE] == 13.0);

        struct anon_figures f;
        assert_int_equal(anon_measure(x, y, 10, P, 5, qcols, 1, &f), 0);
        assert_int_equal(f.groups, 2);
        assert_int_equal(f.min_run, 5);
        assert_true(fabs(f.max_risk - 0.2) < 1e-12);
        /* with the 1 mm rounding of the release: 24.265 % / 24.300 %, IL1s 0.273 */
        assert_true(fabs(f.il - 24.3) <= 0.1);
        assert_true(fabs(f.il1s - 0.273) < 0.001);
        assert_true(fabs(f.dbrl - 20.0) < 1e-9);
        assert_true(f.max_mean_diff <= 0.5);
        assert_true(f.mae != NULL);
        anon_figures_free(&f);
        assert_null(f.mae);

        /* the reference's 24.26 % / 24.27 % and IL1s 0.274 are the figures
         * of the unrounded group means: same formulas, same numbers */
        double yu[10 * P];
        for (int g = 0; g < 2; g++)
            for (int j = 0; j < P; j++) {
                double a = 0;
                for (int i = 5 * g; i < 5 * g + 5; i++)
                    a += x[i * P + j];
                for (int i = 5 * g; i < 5 * g + 5; i++)
                    yu[i * P + j] = a / 5.0;
            }
        assert_int_equal(anon_measure(x, yu, 10, P, 5, qcols, 1, &f), 0);
        assert_true(fabs(f.il - (s == 0 ? 24.26 : 24.27)) < 0.005);
        assert_true(fabs(f.il1s - 0.274) < 0.0005);
        assert_true(fabs(f.dbrl - 20.0) < 1e-9);
        assert_true(f.max_mean_diff < 1e-9);
        anon_figures_free(&f);

        /* FAST on a table this small is the same computation */
        double y2[10 * P];
        assert_int_equal(anon_mdav(x, 10, P, 5, ANON_MDAV_FAST, y2, &groups), 0);
        assert_memory_equal(y, y2, sizeof(y));
    }
}

static void test_tiny_exact(void **state)
{
    (void)state;
    /*
     * 6 records x 2 columns, k = 3. n = 6 < 3k, so one MDAV step of the
     * 2k <= |R| < 3k kind. Column means 124/6 = 20.667 and 186/6 = 31;
     * sample SDs sqrt(563.33/5) = 10.61 and sqrt(612/5) = 11.06. Squared
     * z-distances to the centroid: r0 1.998, r1 1.655, r2 1.353, r3 1.435,
     * r4 1.610, r5 1.951, so r = record 0; its 2 nearest are records 1 and 2.
     * Group {0,1,2}: mean (33/3, 63/3) = (11, 21). The rest {3,4,5}:
     * (91/3, 123/3) = (30.33, 41) -> (30, 41).
     */
    const double x[6 * 2] = {10, 20, 12, 20, 11, 23, 30, 40, 31, 40, 30, 43};
    const double want[6 * 2] = {11, 21, 11, 21, 11, 21, 30, 41, 30, 41, 30, 41};
    double y[6 * 2];
    size_t groups = 0;
    for (int m = 0; m < 2; m++) {
        assert_int_equal(anon_mdav(x, 6, 2, 3, (enum anon_method)m, y, &groups), 0);
        assert_int_equal(groups, 2);
        assert_memory_equal(y, want, sizeof(want));
    }

    /*
     * Ties and rounding, 1 column, k = 2, n = 5: the centroid is 5 (z = 0);
     * 0 and 10 are equally far, the lowest index wins. {0,1,5,9,10}: group
     * {0,1} -> 0.5 -> 1 (half away from zero), rest {5,9,10} -> 8.
     * Mirrored order {10,9,5,1,0}: record 0 is 10 -> {10,9} -> 9.5 -> 10,
     * rest {5,1,0} -> 2. Negated: {0,-1,-5,-9,-10} -> -0.5 -> -1, -8.
     */
    const double a[5] = {0, 1, 5, 9, 10}, wa[5] = {1, 1, 8, 8, 8};
    const double b[5] = {10, 9, 5, 1, 0}, wb[5] = {10, 10, 2, 2, 2};
    const double c[5] = {0, -1, -5, -9, -10}, wc[5] = {-1, -1, -8, -8, -8};
    double o[5];
    assert_int_equal(anon_mdav(a, 5, 1, 2, ANON_MDAV_PLAIN, o, &groups), 0);
    assert_int_equal(groups, 2);
    assert_memory_equal(o, wa, sizeof(o));
    assert_int_equal(anon_mdav(b, 5, 1, 2, ANON_MDAV_PLAIN, o, &groups), 0);
    assert_memory_equal(o, wb, sizeof(o));
    assert_int_equal(anon_mdav(c, 5, 1, 2, ANON_MDAV_PLAIN, o, &groups), 0);
    assert_memory_equal(o, wc, sizeof(o));

    /* the main loop: {1..9}, k = 3: r = 1 (tie with 9, lowest index), s = 9,
     * then {4,5,6} is left */
    const double d9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w9[9] = {2, 2, 2, 5, 5, 5, 8, 8, 8};
    double o9[9];
    assert_int_equal(anon_mdav(d9, 9, 1, 3, ANON_MDAV_PLAIN, o9, &groups), 0);
    assert_int_equal(groups, 3);
    assert_memory_equal(o9, w9, sizeof(o9));

    /* n < 2k: everything is one group; a constant column stays as it is */
    const double e[3 * 2] = {1, 7, 2, 7, 4, 7}, we[3 * 2] = {2, 7, 2, 7, 2, 7};
    double oe[3 * 2];
    assert_int_equal(anon_mdav(e, 3, 2, 2, ANON_MDAV_PLAIN, oe, &groups), 0);
    assert_int_equal(groups, 1);
    assert_memory_equal(oe, we, sizeof(oe));
}

static void test_metrics_hand(void **state)
{
    (void)state;
    struct anon_figures f;
    /* SSE/SST on {1..6}, k = 3: groups {1,2,3}, {4,5,6}; SSE = 4, SST = 17.5
     * (raw units; the ratio is the same in z-units), IL = 22.857 %.
     * IL1s = 4 / (6 sqrt(2) sqrt(3.5)) = 0.25198. Every record's nearest
     * released value is its own (3 rows each): DBRL = 1/3. Released SD
     * sqrt(13.5/5) = 1.643, c s' = 0.082: only 2 and 5 are within, SDID 1/3. */
    const double x[6] = {1, 2, 3, 4, 5, 6};
    double y[6];
    size_t groups;
    assert_int_equal(anon_mdav(x, 6, 1, 3, ANON_MDAV_PLAIN, y, &groups), 0);
    assert_int_equal(anon_measure(x, y, 6, 1, 3, NULL, 1, &f), 0);
    assert_int_equal(f.groups, 2);
    assert_int_equal(f.min_run, 3);
    assert_true(fabs(f.il - 100.0 * 4.0 / 17.5) < 1e-9);
    assert_true(fabs(f.il1s - 4.0 / (6.0 * sqrt(2.0) * sqrt(3.5))) < 1e-12);
    assert_true(fabs(f.dbrl - 100.0 / 3.0) < 1e-9);
    assert_true(fabs(f.sdid - 100.0 / 3.0) < 1e-9);
    assert_true(f.corr_change == 0.0 && f.partial == 0.0 && f.max_mean_diff < 1e-12);
    assert_true(fabs(f.mae[0] - 4.0 / 6.0) < 1e-12);
    anon_figures_free(&f);

    /* DBRL ties: x {0,2,2,4} released as {1,1,3,3}. Records 0 and 3 are
     * nearest to their own value (2 rows: 1/2); records 1 and 2 are equally
     * near to 1 and 3 (4 rows: 1/4). DBRL = (1/2+1/4+1/4+1/2)/4 = 37.5 %. */
    const double xt[4] = {0, 2, 2, 4}, yt[4] = {1, 1, 3, 3};
    assert_int_equal(anon_measure(xt, yt, 4, 1, 2, NULL, 1, &f), 0);
    assert_true(fabs(f.dbrl - 37.5) < 1e-9);
    assert_int_equal(f.min_run, 2);
    anon_figures_free(&f);

    /* correlation change: column 2 = column 1 in x (r = 1); in y column 2 is
     * reversed (r' = -1): mean |r - r'| = 2 */
    const double xc[4 * 2] = {1, 1, 2, 2, 3, 3, 4, 4}, yc[4 * 2] = {1, 4, 2, 3, 3, 2, 4, 1};
    assert_int_equal(anon_measure(xc, yc, 4, 2, 2, NULL, 1, &f), 0);
    assert_true(fabs(f.corr_change - 2.0) < 1e-12);
    assert_int_equal(f.min_run, 1);
    assert_true(fabs(f.max_mean_diff) < 1e-12);
    anon_figures_free(&f);
}

static void check_random(size_t n, size_t p, size_t k, enum anon_method m, uint64_t seed, int range)
{
    struct rng r;
    double *x = malloc(n * p * sizeof(double)), *y = malloc(n * p * sizeof(double));
    double *y2 = malloc(n * p * sizeof(double));
    assert_true(x && y && y2);
    rng_seed(&r, seed);
    for (size_t i = 0; i < n * p; i++)
        x[i] = (double)(rng_next(&r) % (uint64_t)range);
    size_t groups = 0, groups2 = 0, lo, hi, nr;
    assert_int_equal(anon_mdav(x, n, p, k, m, y, &groups), 0);
    assert_int_equal(groups, n / k);
    runs(y, n, p, &lo, &hi, &nr);
    assert_true(lo >= k);
    if (range > 100) { /* no two groups share a rounded mean */
        assert_int_equal(nr, groups);
        assert_true(hi <= (n < 2 * k ? n : 2 * k - 1));
    }
    assert_means_kept(x, y, n, p);
    /* deterministic */
    assert_int_equal(anon_mdav(x, n, p, k, m, y2, &groups2), 0);
    assert_memory_equal(y, y2, n * p * sizeof(double));
    free(x);
    free(y);
    free(y2);
}

static void test_kanon_random(void **state)
{
    (void)state;
    const size_t ks[2] = {3, 5};
    for (int m = 0; m < 2; m++) {
        for (int a = 0; a < 2; a++) {
            size_t k = ks[a];
            for (size_t n = k; n <= 5 * k; n++)
                check_random(n, 4, k, (enum anon_method)m, 1000 + n, 1000);
            check_random(100, 4, k, (enum anon_method)m, 7, 1000);
            check_random(1001, 5, k, (enum anon_method)m, 8, 100000);
            check_random(1001, 3, k, (enum anon_method)m, 9, 4); /* many ties */
        }
    }
    /* blocks of the FAST partition, uneven size */
    check_random(5003, 6, 5, ANON_MDAV_FAST, 10, 100000);

    /* constant columns take no part in distances and stay as they are; with
     * every column constant the table is released unchanged */
    const size_t n = 3000;
    double *x = malloc(n * 3 * sizeof(double)), *y = malloc(n * 3 * sizeof(double));
    assert_true(x && y);
    for (int all = 0; all < 2; all++)
        for (int m = 0; m < 2; m++) {
            for (size_t i = 0; i < n; i++) {
                x[i * 3] = 170;
                x[i * 3 + 1] = all ? 5 : (double)(i * 7919 % 1000);
                x[i * 3 + 2] = -3;
            }
            size_t groups, lo, hi, nr;
            assert_int_equal(anon_mdav(x, n, 3, 5, (enum anon_method)m, y, &groups), 0);
            assert_int_equal(groups, n / 5);
            runs(y, n, 3, &lo, &hi, &nr);
            assert_true(lo >= 5);
            for (size_t i = 0; i < n; i++) {
                assert_true(y[i * 3] == 170 && y[i * 3 + 2] == -3);
                if (all)
                    assert_true(y[i * 3 + 1] == 5);
            }
            assert_means_kept(x, y, n, 3);
        }
    free(x);
    free(y);
}

static void test_planted_outlier(void **state)
{
    (void)state;
    const size_t n = 1000, out = 500;
    double *x = population(n, 3), *y = malloc(n * P * sizeof(double));
    assert_non_null(y);
    for (int j = 0; j < P; j++)
        x[out * P + j] = round(x[out * P + j] * 1.4);
    size_t groups;
    assert_int_equal(anon_mdav(x, n, P, 5, ANON_MDAV_PLAIN, y, &groups), 0);
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(y + i * P, y + out * P, P * sizeof(double)) == 0)
            same++;
    assert_true(same >= 5);
    assert_true(dbrl_hit(x, y, n, P, out) <= 0.2 + 1e-12);
    free(x);
    free(y);
}

static void test_synthetic_gates(void **state)
{
    (void)state;
    const size_t n = 1000;
    double *x = population(n, 1), *y = malloc(n * P * sizeof(double));
    assert_non_null(y);
    size_t groups;
    assert_int_equal(measures_find("chest"), COL_CHEST);
    assert_int_equal(measures_find("hpsToWaistBack"), COL_HPSWB);
    assert_int_equal(measures_find("neck"), COL_NECK);
    assert_int_equal(measures_find("seat"), COL_SEAT);
    assert_int_equal(measures_find("shoulderSlope"), COL_SLOPE);
    assert_int_equal(measures_find("waist"), COL_WAIST);
    assert_int_equal(anon_mdav(x, n, P, 5, ANON_MDAV_PLAIN, y, &groups), 0);
    assert_int_equal(groups, 200);
    struct anon_figures f;
    char why[160] = "x";
    assert_int_equal(anon_measure(x, y, n, P, 5, qcols, 42, &f), 0);
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 1);
    assert_string_equal(why, "");
    assert_int_equal(f.min_run, 5);
    assert_true(fabs(f.il - 20.8) <= 1.5);
    assert_true(fabs(f.dbrl - 19.0) <= 2.0);
    assert_true(f.partial > 0.0 && f.partial < 5.0);
    assert_true(f.corr_change < 0.12);
    assert_true(f.sdid <= 1.0);
    assert_true(f.max_mean_diff <= 0.5);
    assert_true(f.il1s > 0.2 && f.il1s < 0.3);
    assert_true(f.mae[COL_CHEST] > 15.0 && f.mae[COL_CHEST] < 40.0);
    /* same seed, same figures */
    struct anon_figures f2;
    assert_int_equal(anon_measure(x, y, n, P, 5, qcols, 42, &f2), 0);
    assert_true(f2.partial == f.partial && f2.dbrl == f.dbrl && f2.il == f.il);
    anon_figures_free(&f2);
    anon_figures_free(&f);

    /* the identity release (x is already whole mm) fails, on k-anonymity */
    assert_int_equal(anon_measure(x, x, n, P, 5, qcols, 42, &f), 0);
    assert_int_equal(f.min_run, 1);
    assert_true(f.dbrl > 99.0);
    assert_true(f.partial > 20.0);
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "k-anonymity"));
    assert_string_equal(why, "k-anonymity: smallest group 1 < k=5");
    anon_figures_free(&f);
    free(x);
    free(y);
}

static void test_fast_vs_plain(void **state)
{
    (void)state;
    const size_t n = 3000;
    double *x = population(n, 2);
    double *yp = malloc(n * P * sizeof(double)), *yf = malloc(n * P * sizeof(double));
    assert_true(yp && yf);
    size_t gp, gf, lo, hi, nr;
    assert_int_equal(anon_mdav(x, n, P, 5, ANON_MDAV_PLAIN, yp, &gp), 0);
    assert_int_equal(anon_mdav(x, n, P, 5, ANON_MDAV_FAST, yf, &gf), 0);
    assert_int_equal(gp, 600);
    assert_int_equal(gf, 600);
    runs(yf, n, P, &lo, &hi, &nr);
    assert_true(lo >= 5 && hi <= 9);
    assert_means_kept(x, yf, n, P);
    struct anon_figures fp, ff;
    assert_int_equal(anon_measure(x, yp, n, P, 5, qcols, 1, &fp), 0);
    assert_int_equal(anon_measure(x, yf, n, P, 5, qcols, 1, &ff), 0);
    assert_true(ff.il - fp.il <= 1.0);
    assert_int_equal(ff.min_run, 5);
    assert_true(ff.dbrl <= 21.0);
    anon_figures_free(&fp);
    anon_figures_free(&ff);
    free(x);
    free(yp);
    free(yf);
}

static void test_bad_input(void **state)
{
    (void)state;
    const double x[4] = {1, 2, 3, 4};
    double y[4];
    size_t g;
    assert_int_equal(anon_mdav(x, 4, 1, 1, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(x, 4, 1, 5, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(x, 4, 0, 2, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(NULL, 4, 1, 2, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(x, 4, 1, 2, ANON_MDAV_PLAIN, NULL, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(x, 4, 1, 2, (enum anon_method)7, y, &g), ERR_INVALID);
    assert_int_equal(anon_mdav(x, SIZE_MAX / 2, 4, 2, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);
    const double bad[4] = {1, NAN, 3, 4};
    assert_int_equal(anon_mdav(bad, 4, 1, 2, ANON_MDAV_PLAIN, y, &g), ERR_INVALID);

    struct anon_figures f;
    const int cols_bad[4] = {0, 1, 2, 9};
    assert_int_equal(anon_measure(x, x, 4, 1, 2, cols_bad, 1, &f), ERR_INVALID);
    assert_null(f.mae);
    assert_int_equal(anon_measure(x, x, 0, 1, 2, NULL, 1, &f), ERR_INVALID);
    assert_int_equal(anon_measure(x, bad, 4, 1, 2, NULL, 1, &f), ERR_INVALID);
    assert_int_equal(anon_measure(bad, x, 4, 1, 2, NULL, 1, &f), ERR_INVALID);
    const int cols_skip[4] = {0, -1, 0, 0};
    assert_int_equal(anon_measure(x, x, 4, 1, 2, cols_skip, 1, &f), 0);
    assert_true(f.partial == 0.0);
    anon_figures_free(&f);
    anon_figures_free(NULL);
}

static void test_gate_messages(void **state)
{
    (void)state;
    struct anon_figures f;
    char why[160];
    memset(&f, 0, sizeof(f));
    f.n = 1000;
    f.k = 5;
    f.min_run = 5;
    f.dbrl = 19.0;
    f.partial = 3.0;
    f.il = 20.0;
    f.corr_change = 0.1;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 1);
    assert_int_equal(anon_gates_pass(&f, NULL, 0), 1);

    f.min_run = 3;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_string_equal(why, "k-anonymity: smallest group 3 < k=5");
    f.min_run = 5;
    f.dbrl = 23.1;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_string_equal(why, "record linkage 23.1% > 21.0%");
    f.dbrl = 19.0;
    f.partial = 6.2;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "partial"));
    f.partial = 3.0;
    f.sdid = 1.5;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "interval disclosure"));
    f.sdid = 0.0;
    f.max_mean_diff = 0.7;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "mean difference"));
    f.max_mean_diff = 0.5;
    f.il = 25.5;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_string_equal(why, "information loss 25.5% > 25.0%");
    f.il = 20.0;
    f.corr_change = NAN;
    assert_int_equal(anon_gates_pass(&f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "correlation"));
    f.corr_change = 0.1;
    f.k = 1;
    assert_int_equal(anon_gates_pass(&f, why, 8), 0); /* truncated, terminated */
    assert_int_equal(strlen(why), 7);
    assert_int_equal(anon_gates_pass(NULL, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_is_textbook), cmocka_unit_test(test_linkage_brute_force),
        cmocka_unit_test(test_models_fixture),    cmocka_unit_test(test_tiny_exact),
        cmocka_unit_test(test_metrics_hand),      cmocka_unit_test(test_kanon_random),
        cmocka_unit_test(test_planted_outlier),   cmocka_unit_test(test_synthetic_gates),
        cmocka_unit_test(test_fast_vs_plain),     cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_gate_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
