/*
 * anon_bench.c - time and quality of anon_mdav + anon_measure on the
 * synthetic reference population of measurements-anonymization section 5.1
 * (with-breasts stratum, p = 38, k = 5).
 *
 * Usage: anon_bench N plain|fast [check]
 *   prints wall time of anon_mdav and anon_measure (clock_gettime), peak RSS
 *   (getrusage ru_maxrss) and every figure. "check" also recomputes DBRL and
 *   the partial-knowledge figure by brute force (O(n G p)) and compares.
 * Built and run by bench/anon.sh; not part of the test suite.
 */
#include "privacy/anon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define P 38

/* alphabetical column order of @freesewing/config measurements */
static const double base_f[P] = {245, 270, 480, 100, 160, 925,  740, 370,  270, 315, 565, 865, 440,
                                 900, 275, 395, 400, 765, 380,  340, 1010, 520, 13,  340, 415, 590,
                                 780, 570, 750, 380, 170, 1050, 125, 600,  250, 80,  285, 165};
static const double ratio[P] = {1.0,  1.0, 0.5,  0.5,  0.5,  1.0,  0.6,  0.6,  0.65, 0.25,
                                0.35, 1.0, 0.5,  1.0,  0.65, 0.65, 0.65, 0.25, 0.65, 1.0,
                                0.6,  0.6, 0.0,  0.5,  0.65, 0.3,  1.0,  0.45, 0.85, 0.85,
                                0.65, 0.4, 0.65, 0.65, 0.65, 0.65, 0.65, 0.5};
/* 1 girth, 2 vertical, 0 neither */
static const int kind[P] = {1, 1, 1, 0, 0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 2, 2, 2, 1,
                            0, 1, 1, 0, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1};
#define COL_CHEST 5
#define COL_HPSWB 15
#define COL_NECK  19
#define COL_SEAT  20
#define COL_SLOPE 22
#define COL_WAIST 28

static uint64_t rs[4];
static int has_spare;
static double spare;

static uint64_t sm64(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t v, int s)
{
    return (v << s) | (v >> (64 - s));
}

static void rseed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rs[i] = sm64(&seed);
    has_spare = 0;
}

static uint64_t rnext(void)
{
    uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
    rs[2] ^= rs[0];
    rs[3] ^= rs[1];
    rs[1] ^= rs[2];
    rs[0] ^= rs[3];
    rs[2] ^= t;
    rs[3] = rotl(rs[3], 45);
    return r;
}

static double rnorm(void)
{
    if (has_spare) {
        has_spare = 0;
        return spare;
    }
    double u1 = 1.0 - (double)(rnext() >> 11) * 0x1.0p-53;
    double u2 = (double)(rnext() >> 11) * 0x1.0p-53;
    double r = sqrt(-2.0 * log(u1)), th = 6.283185307179586476925 * u2;
    spare = r * sin(th);
    has_spare = 1;
    return r * cos(th);
}

static void generate(double *x, size_t n, uint64_t seed)
{
    const double n0 = base_f[COL_NECK];
    rseed(seed);
    for (size_t i = 0; i < n; i++) {
        double z = rnorm(), w = rnorm(), h = rnorm();
        double neck = n0 * (1.0 + 0.07 * z);
        for (int m = 0; m < P; m++) {
            if (m == COL_SLOPE)
                continue;
            double v = base_f[m] * (1.0 + ratio[m] * (neck - n0) / n0);
            double f = 1.0 + 0.035 * rnorm();
            if (kind[m] == 1)
                f += 0.06 * w;
            else if (kind[m] == 2)
                f += 0.04 * h;
            x[i * P + m] = round(v * f);
        }
        x[i * P + COL_SLOPE] = round(13.0 + 3.0 * rnorm());
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static long peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Brute-force linkage over distinct rows (row multiplicities split ties). */
static double brute_link(const double *x, const double *y, size_t n, const int *cols, size_t nc,
                         const double *noise)
{
    double *mean = calloc(P, sizeof(double)), *sd = calloc(P, sizeof(double));
    size_t *rep = malloc(n * sizeof(size_t)), *cnt = calloc(n, sizeof(size_t));
    size_t *of = malloc(n * sizeof(size_t)), g = 0;
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < P; j++)
            mean[j] += x[i * P + j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < P; j++)
            sd[j] += (x[i * P + j] - mean[j]) * (x[i * P + j] - mean[j]);
    for (int j = 0; j < P; j++)
        sd[j] = sqrt(sd[j] / (double)(n - 1));
    for (size_t i = 0; i < n; i++) { /* quadratic dedupe is fine for a check */
        size_t t;
        for (t = 0; t < g; t++)
            if (!memcmp(y + rep[t] * P, y + i * P, P * sizeof(double)))
                break;
        if (t == g)
            rep[g++] = i;
        cnt[t]++;
        of[i] = t;
    }
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        double *d = malloc(g * sizeof(double));
        for (size_t t = 0; t < g; t++) {
            double s = 0.0;
            for (size_t a = 0; a < nc; a++) {
                int j = cols[a];
                if (!(sd[j] > 0))
                    continue;
                double v = x[i * P + j] + (noise ? noise[i * 4 + a] : 0.0);
                double u = (v - mean[j]) / sd[j] - (y[rep[t] * P + j] - mean[j]) / sd[j];
                s += u * u;
            }
            d[t] = s;
            if (s < best)
                best = s;
        }
        if (d[of[i]] <= best + 1e-9) {
            double w = 0;
            for (size_t t = 0; t < g; t++)
                if (d[t] <= best + 1e-9)
                    w += (double)cnt[t];
            total += 1.0 / w;
        }
        free(d);
    }
    free(mean);
    free(sd);
    free(rep);
    free(cnt);
    free(of);
    return 100.0 * total / (double)n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s N plain|fast [check]\n", argv[0]);
        return 2;
    }
    size_t n = (size_t)strtoul(argv[1], NULL, 10), k = 5, groups = 0;
    enum anon_method method = strcmp(argv[2], "plain") == 0 ? ANON_MDAV_PLAIN : ANON_MDAV_FAST;
    int check = argc > 3 && strcmp(argv[3], "check") == 0;
    const int qcols[4] = {COL_CHEST, COL_WAIST, COL_SEAT, COL_HPSWB};
    double *x = malloc(n * P * sizeof(double)), *y = malloc(n * P * sizeof(double));
    if (!x || !y)
        return 1;
    generate(x, n, 1);

    double t0 = now(), c0 = cpu_s();
    int rc = anon_mdav(x, n, P, k, method, y, &groups);
    double t1 = now(), c1 = cpu_s();
    if (rc) {
        fprintf(stderr, "anon_mdav: %d\n", rc);
        return 1;
    }
    struct anon_figures f;
    rc = anon_measure(x, y, n, P, k, qcols, 42, &f);
    double t2 = now(), c2 = cpu_s();
    if (rc) {
        fprintf(stderr, "anon_measure: %d\n", rc);
        return 1;
    }
    char why[160];
    int pass = anon_gates_pass(&f, why, sizeof(why));
    double mae_max = 0;
    for (size_t j = 0; j < P; j++)
        if (f.mae[j] > mae_max)
            mae_max = f.mae[j];
    printf("n=%zu p=%d k=%zu method=%s\n", n, P, k, argv[2]);
    printf("  mdav     %.3f s wall  %.3f s cpu   groups %zu\n", t1 - t0, c1 - c0, groups);
    printf("  measure  %.3f s wall  %.3f s cpu\n", t2 - t1, c2 - c1);
    printf("  total    %.3f s wall  %.3f s cpu   peak RSS %.1f MB\n", t2 - t0, c2 - c0,
           (double)peak_kb() / 1024.0);
    printf("  distinct %zu  min_run %zu  max_risk %.3f\n", f.groups, f.min_run, f.max_risk);
    printf("  IL %.2f %%  IL1s %.3f  corr_change %.4f  max_mean_diff %.3f mm\n", f.il, f.il1s,
           f.corr_change, f.max_mean_diff);
    printf("  DBRL %.2f %%  partial %.2f %%  SDID %.2f %%\n", f.dbrl, f.partial, f.sdid);
    printf("  MAE chest %.1f waist %.1f seat %.1f hpsToWaistBack %.1f shoulderSlope %.2f "
           "(max %.1f) mm\n",
           f.mae[COL_CHEST], f.mae[COL_WAIST], f.mae[COL_SEAT], f.mae[COL_HPSWB], f.mae[COL_SLOPE],
           mae_max);
    printf("  gates %s%s%s\n", pass ? "pass" : "FAIL", pass ? "" : ": ", why);
    if (check) {
        int all[P];
        for (int j = 0; j < P; j++)
            all[j] = j;
        double *noise = malloc(n * 4 * sizeof(double));
        rseed(42);
        for (size_t i = 0; i < n * 4; i++)
            noise[i] = 10.0 * rnorm();
        double b1 = brute_link(x, y, n, all, P, NULL);
        double b2 = brute_link(x, y, n, qcols, 4, noise);
        printf("  check: brute DBRL %.6f (tree %.6f)  brute partial %.6f (tree %.6f)  %s\n", b1,
               f.dbrl, b2, f.partial,
               fabs(b1 - f.dbrl) < 1e-9 && fabs(b2 - f.partial) < 1e-9 ? "OK" : "MISMATCH");
        free(noise);
    }
    anon_figures_free(&f);
    free(x);
    free(y);
    return 0;
}
