/*
 * dp_bench.c - utility and cost of the differentially private release
 * (src/privacy/dpmech.c) on the project's body generator
 * (src/privacy/synth.c), for bench/dp.sh: the design's section 6 table rerun
 * by this code.
 *
 *   dp_bench quality --n N --runs R [--rho 0.25[,0.1,...]] [--seed S]
 *       R runs per stratum of N persons: each run draws a population, a
 *       fresh sample of the same size (the sampling-error floor), and one
 *       release per rho from the population; prints one Markdown row for
 *       the fresh sample and one per rho, averaged over the runs of both
 *       strata (tests/unit/support/dp_metrics: the figures of the unit
 *       tests);
 *   dp_bench spread --n N --runs R [--rho 0.25] [--seed S]
 *       R releases per stratum of N persons (a new population each), each
 *       judged on its own: the quantiles over the runs of every figure that
 *       a test gates a single release on (max |dmean|, the SD ratios, |dr|,
 *       the slope, the TV of the rows). A test that draws real noise sets
 *       its bounds from these, not from an average;
 *   dp_bench cost --n N [--rho 0.25] [--seed S]
 *       one release of N persons with breasts (p = 38, the larger stratum)
 *       held as floats, as opendata.c holds them: wall (and CPU) time of the
 *       noise, the model and the rows, and the process's peak RSS before and
 *       after (run it in a fresh process per N).
 *
 * Noise comes from libsodium's default randombytes (real randomness, as in
 * production); populations and post-processing draws from rng.h seeded by S
 * (a random seed when not given), printed so that the populations can be
 * drawn again. Invariant: nothing here changes the release code's inputs
 * beyond what opendata.c gives it (rows, n, a noisy count drawn with the
 * counts query's sigma2). Not part of the test suite.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/rng.h"
#include "privacy/dgauss.h"
#include "privacy/dpmech.h"
#include "privacy/synth.h"
#include "privacy/zcdp.h"
#include "support/dp_metrics.h"

#define BENCH_RHOS_MAX 8
#define BENCH_CHUNK    4096 /* rows per synth_table call when building floats */

struct bench_opts {
    const char *mode;
    size_t n;
    int runs;
    uint32_t rho[BENCH_RHOS_MAX];
    int nrho;
    uint64_t seed;
};

/* Sums over the runs of both strata of one release kind. */
struct bench_acc {
    int count;
    double dmean_med, dmean_max, sd_med, sd_min, sd_max, dr_mean, dr_max;
    double tv_rows, tv_hist, slope, slope_max, tail;
    int has_hist;
};

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double bench_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double bench_peak_mib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void bench_fail(const char *what)
{
    fprintf(stderr, "dp_bench: %s\n", what);
    exit(1);
}

static void *bench_alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        bench_fail("out of memory");
    return p;
}

static void bench_usage(void)
{
    fprintf(stderr, "usage: dp_bench quality --n N --runs R [--rho 0.25[,0.1,...]] [--seed S]\n"
                    "       dp_bench spread --n N --runs R [--rho 0.25] [--seed S]\n"
                    "       dp_bench cost --n N [--rho 0.25] [--seed S]\n");
    exit(2);
}

static void bench_parse(int argc, char **argv, struct bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 1;
    if (argc < 2)
        bench_usage();
    o->mode = argv[1];
    randombytes_buf(&o->seed, sizeof o->seed);
    o->seed &= (UINT64_C(1) << 53) - 1; /* printable and re-typable */
    for (int i = 2; i < argc; i += 2) { /* --flag value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            bench_usage();
        if (strcmp(a, "--n") == 0)
            o->n = strtoul(v, NULL, 10);
        else if (strcmp(a, "--runs") == 0)
            o->runs = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--rho") == 0) {
            char buf[256], *save = NULL;
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok_r(buf, ",", &save); t && o->nrho < BENCH_RHOS_MAX;
                 t = strtok_r(NULL, ",", &save))
                o->rho[o->nrho++] = (uint32_t)lround(1000.0 * atof(t));
        } else
            bench_usage();
    }
    if (o->nrho == 0)
        o->rho[o->nrho++] = 250;
    if (o->n < 2 || o->runs < 1)
        bench_usage();
}

/* n bodies of a stratum as floats, drawn in chunks (no n x p doubles). */
static float *bench_floats(struct rng *r, int breasts, size_t n)
{
    size_t p = synth_columns(breasts);
    float *x = bench_alloc(n * p, sizeof *x);
    double *chunk = bench_alloc(BENCH_CHUNK * p, sizeof *chunk);

    for (size_t i = 0; i < n; i += BENCH_CHUNK) {
        size_t c = n - i < BENCH_CHUNK ? n - i : BENCH_CHUNK;
        synth_table(r, breasts, c, chunk);
        for (size_t k = 0; k < c * p; k++)
            x[i * p + k] = (float)chunk[k];
    }
    free(chunk);
    return x;
}

/* One release: the counts query simulated (n + N_Z(0, sigma2 counts)), then
 * noise, model and rows; the phases' wall times into t[0..3) and CPU times
 * into t[3..6) when t is not NULL. */
static void bench_release(struct dp_stratum *s, const float *x, size_t n, struct rng *r, double *t)
{
    int64_t z;
    double t0 = bench_now(), c0 = bench_cpu(), t1, t2, c1, c2;

    if (dgauss_sample(s->plan.sigma2[ZCDP_Q_COUNTS], &z))
        bench_fail("dgauss_sample");
    s->x = x;
    s->n = n;
    s->n_noisy = (int64_t)n + z;
    if (s->n_noisy < 1 || dp_stratum_noise(s))
        bench_fail("dp_stratum_noise");
    t1 = bench_now();
    c1 = bench_cpu();
    if (dp_stratum_fit(s, r))
        bench_fail("dp_stratum_fit");
    t2 = bench_now();
    c2 = bench_cpu();
    if (dp_stratum_rows(s, r))
        bench_fail("dp_stratum_rows");
    if (t) {
        t[0] = t1 - t0;
        t[1] = t2 - t1;
        t[2] = bench_now() - t2;
        t[3] = c1 - c0;
        t[4] = c2 - c1;
        t[5] = bench_cpu() - c2;
    }
}

static void bench_add(struct bench_acc *a, const struct dpm_report *rep, double tv_hist)
{
    if (a->count == 0) {
        a->sd_min = INFINITY;
        a->sd_max = -INFINITY;
    }
    a->count++;
    a->dmean_med += rep->dmean_med;
    a->dmean_max += rep->dmean_max;
    a->sd_med += rep->sd_med;
    a->sd_min = fmin(a->sd_min, rep->sd_min);
    a->sd_max = fmax(a->sd_max, rep->sd_max);
    a->dr_mean += rep->dr_mean;
    a->dr_max += rep->dr_max;
    a->tv_rows += rep->tv_rows;
    if (tv_hist >= 0.0) {
        a->tv_hist += tv_hist;
        a->has_hist = 1;
    }
    a->slope += rep->slope_pct;
    a->slope_max = fmax(a->slope_max, rep->slope_pct);
    a->tail += rep->tail_pct;
}

static void bench_row(size_t n, const char *label, const struct bench_acc *a)
{
    double c = a->count;
    char hist[32] = "–";

    if (a->has_hist)
        snprintf(hist, sizeof hist, "%.3f", a->tv_hist / c);
    printf("| %zu | %s | %.2f / %.1f | %.3f [%.3f, %.3f] | %.3f / %.3f | %.3f / %s | %.1f (%.1f) "
           "| %.2f |\n",
           n, label, a->dmean_med / c, a->dmean_max / c, a->sd_med / c, a->sd_min, a->sd_max,
           a->dr_mean / c, a->dr_max / c, a->tv_rows / c, hist, a->slope / c, a->slope_max,
           a->tail / c);
    fflush(stdout);
}

/* The figures of a table (m x p doubles) against the originals. */
static void bench_compare(const struct dp_stratum *s, const double *orig, size_t n,
                          const double *rel, size_t m, struct dpm_report *rep)
{
    size_t chest = (size_t)s->hist_col[0], waist = (size_t)s->hist_col[1];

    if (dpm_compare(orig, n, rel, m, s->p, chest, s->hist_lo[0], ZCDP_BIN_MM, s->hist_bins[0],
                    chest, waist, rep))
        bench_fail("dpm_compare");
}

static double *bench_doubles(const float *x, size_t np)
{
    double *d = bench_alloc(np, sizeof *d);

    for (size_t i = 0; i < np; i++)
        d[i] = x[i];
    return d;
}

static int bench_quality(const struct bench_opts *o)
{
    struct bench_acc fresh = {0}, dp[BENCH_RHOS_MAX];
    struct rng r;
    double t0 = bench_now();

    memset(dp, 0, sizeof dp);
    rng_seed(&r, o->seed);
    for (int run = 0; run < o->runs; run++)
        for (int breasts = 1; breasts >= 0; breasts--) {
            size_t p = synth_columns(breasts);
            struct dpm_report rep;
            float *xf = bench_floats(&r, breasts, o->n), *ff = bench_floats(&r, breasts, o->n);
            double *xd = bench_doubles(xf, o->n * p), *fd = bench_doubles(ff, o->n * p);
            double ho[DP_HIST_BINS_MAX], hd[DP_HIST_BINS_MAX];

            for (int k = 0; k < o->nrho; k++) {
                struct dp_stratum s;
                if (dp_stratum_init(&s, breasts, o->rho[k]))
                    bench_fail("dp_stratum_init (rho out of range?)");
                if (k == 0) {
                    bench_compare(&s, xd, o->n, fd, o->n, &rep);
                    bench_add(&fresh, &rep, -1.0);
                }
                bench_release(&s, xf, o->n, &r, NULL);
                double *rel = dpm_to_double(s.rows, s.nrows, p);
                if (!rel)
                    bench_fail("out of memory");
                bench_compare(&s, xd, o->n, rel, s.nrows, &rep);
                dpm_hist(xd, o->n, p, (size_t)s.hist_col[0], s.hist_lo[0], ZCDP_BIN_MM,
                         s.hist_bins[0], ho);
                dpm_hist_dp(s.hist[0], s.hist_bins[0], (double)s.plan.sigma2[ZCDP_Q_HIST], hd);
                bench_add(&dp[k], &rep, dpm_tv(ho, hd, s.hist_bins[0]));
                free(rel);
                dp_stratum_free(&s);
            }
            free(xf);
            free(ff);
            free(xd);
            free(fd);
        }
    bench_row(o->n, "fresh sample", &fresh);
    for (int k = 0; k < o->nrho; k++) {
        char label[32];
        snprintf(label, sizeof label, "DP ρ=%g", o->rho[k] / 1000.0);
        bench_row(o->n, label, &dp[k]);
    }
    fprintf(stderr, "dp_bench quality: n %zu, %d runs x 2 strata, seed %llu, %.1f s\n", o->n,
            o->runs, (unsigned long long)o->seed, bench_now() - t0);
    return 0;
}

/* The figures a single release is gated on, one array of runs each. */
enum { SP_DMEAN, SP_SD_MIN, SP_SD_MAX, SP_DR_MEAN, SP_DR_MAX, SP_SLOPE, SP_TV_ROWS, SP_COUNT };

static const char *const sp_names[SP_COUNT] = {"max |dmean| mm", "min SD ratio", "max SD ratio",
                                               "mean |dr|",      "max |dr|",     "slope error %",
                                               "TV rows"};

static int sp_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Quantile q of the sorted v[0..n) (nearest rank). */
static double sp_q(const double *v, int n, double q)
{
    int i = (int)ceil(q * n) - 1;

    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void sp_print(size_t n, int breasts, double *v[SP_COUNT], int runs)
{
    for (int k = 0; k < SP_COUNT; k++) {
        qsort(v[k], (size_t)runs, sizeof *v[k], sp_cmp);
        printf("| %zu | %s | %s | %.4g | %.4g | %.4g | %.4g | %.4g | %.4g |\n", n,
               breasts ? "with" : "without", sp_names[k], v[k][0], sp_q(v[k], runs, 0.01),
               sp_q(v[k], runs, 0.5), sp_q(v[k], runs, 0.9), sp_q(v[k], runs, 0.99),
               v[k][runs - 1]);
    }
    fflush(stdout);
}

static int bench_spread(const struct bench_opts *o)
{
    struct rng r;
    double *v[SP_COUNT], t0 = bench_now();

    for (int k = 0; k < SP_COUNT; k++)
        v[k] = bench_alloc((size_t)o->runs, sizeof *v[k]);
    rng_seed(&r, o->seed);
    printf("| n | breasts | figure | min | p1 | p50 | p90 | p99 | max |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (int breasts = 1; breasts >= 0; breasts--) {
        size_t p = synth_columns(breasts);
        for (int run = 0; run < o->runs; run++) {
            struct dp_stratum s;
            struct dpm_report rep;
            float *xf = bench_floats(&r, breasts, o->n);
            double *xd = bench_doubles(xf, o->n * p);
            if (dp_stratum_init(&s, breasts, o->rho[0]))
                bench_fail("dp_stratum_init (rho out of range?)");
            bench_release(&s, xf, o->n, &r, NULL);
            double *rel = dpm_to_double(s.rows, s.nrows, p);
            if (!rel)
                bench_fail("out of memory");
            bench_compare(&s, xd, o->n, rel, s.nrows, &rep);
            v[SP_DMEAN][run] = rep.dmean_max;
            v[SP_SD_MIN][run] = rep.sd_min;
            v[SP_SD_MAX][run] = rep.sd_max;
            v[SP_DR_MEAN][run] = rep.dr_mean;
            v[SP_DR_MAX][run] = rep.dr_max;
            v[SP_SLOPE][run] = rep.slope_pct;
            v[SP_TV_ROWS][run] = rep.tv_rows;
            free(rel);
            dp_stratum_free(&s);
            free(xf);
            free(xd);
        }
        sp_print(o->n, breasts, v, o->runs);
    }
    for (int k = 0; k < SP_COUNT; k++)
        free(v[k]);
    fprintf(stderr, "dp_bench spread: n %zu, rho %g, %d runs x 2 strata, seed %llu, %.1f s\n", o->n,
            o->rho[0] / 1000.0, o->runs, (unsigned long long)o->seed, bench_now() - t0);
    return 0;
}

static int bench_cost(const struct bench_opts *o)
{
    struct dp_stratum s;
    struct rng r;
    double t[6];

    rng_seed(&r, o->seed);
    if (dp_stratum_init(&s, 1, o->rho[0]))
        bench_fail("dp_stratum_init");
    float *x = bench_floats(&r, 1, o->n);
    double before = bench_peak_mib();
    bench_release(&s, x, o->n, &r, t);
    double after = bench_peak_mib();
    printf("| %zu | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %.1f | %.1f | %.1f |\n",
           o->n, t[0], t[3], t[1], t[4], t[2], t[5], t[0] + t[1] + t[2], t[3] + t[4] + t[5],
           (double)(o->n * s.p * sizeof *x) / 1048576.0, before, after);
    fprintf(stderr, "dp_bench cost: n %zu, rho %g, seed %llu, rows %zu\n", o->n, o->rho[0] / 1000.0,
            (unsigned long long)o->seed, s.nrows);
    free(x);
    dp_stratum_free(&s);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;

    if (sodium_init() < 0)
        bench_fail("sodium_init");
    bench_parse(argc, argv, &o);
    if (strcmp(o.mode, "quality") == 0)
        return bench_quality(&o);
    if (strcmp(o.mode, "spread") == 0)
        return bench_spread(&o);
    if (strcmp(o.mode, "cost") == 0)
        return bench_cost(&o);
    bench_usage();
    return 2;
}
