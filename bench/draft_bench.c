/*
 * draft_bench.c - timing of the drafting engine, for bench/draft.sh.
 *
 *   draft_bench warm CSV [N]      per design: median of N (default 2000)
 *                                 draft + SVG render, warm (after N/10
 *                                 untimed runs), on a representative adult
 *                                 set from CSV (cisMaleAdult38 for body and
 *                                 trouser, cisFemaleAdult36 for bodice, both
 *                                 for the tshirt and the skirt);
 *                                 also draft alone and the PDF renders
 *   draft_bench json CSV MODEL    that set as a measurements file (stdout)
 *   draft_bench cold N CMD ARG... median wall time of N fresh processes
 *                                 running CMD (stdout to /dev/null)
 *   draft_bench cli DESIGN ARG... the CLI itself (draft_cli), a
 *                                 stand-in main for `atelier draft` until
 *                                 main.c dispatches it
 *
 * Not part of the test suite. Times are CLOCK_MONOTONIC wall clock.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atelier/draft.h"
#include "cli/draft_cli.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The row of CSV named model into in; 0 or -1. */
static int load_set(const char *csv, const char *model, struct draft_input *in)
{
    char line[4096], cols[64][48];
    int ncol = 0, found = -1;
    FILE *f = fopen(csv, "r");

    memset(in, 0, sizeof *in);
    if (!f || !fgets(line, sizeof line, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    for (char *t = strtok(line, ",\r\n"); t && ncol < 64; t = strtok(NULL, ",\r\n"))
        snprintf(cols[ncol++], sizeof cols[0], "%s", t);
    while (found < 0 && fgets(line, sizeof line, f)) {
        int c = 0;
        char *t = strtok(line, ",\r\n");
        if (!t || strcmp(t, model))
            continue;
        found = 0;
        for (t = strtok(NULL, ",\r\n"), c = 1; t && c < ncol; t = strtok(NULL, ",\r\n"), c++) {
            int k = measures_find(cols[c]);
            if (k >= 0) {
                in->value[k] = atof(t);
                in->have[k] = 1;
            }
        }
    }
    fclose(f);
    in->breasts = strstr(model, "Female") != NULL;
    in->sa = 10.0;
    in->model_name = model;
    return found;
}

static int warm(const char *csv, int n)
{
    /* each design on a set of the body it is for; the garments for any
     * body on both */
    static const struct {
        const char *design, *set;
    } runs[] = {
        {"body", "cisMaleAdult38"},   {"bodice", "cisFemaleAdult36"}, {"trouser", "cisMaleAdult38"},
        {"tshirt", "cisMaleAdult38"}, {"tshirt", "cisFemaleAdult36"}, {"skirt", "cisFemaleAdult36"},
        {"skirt", "cisMaleAdult38"},
    };
    double *t = malloc(sizeof *t * (size_t)n), *td = malloc(sizeof *td * (size_t)n);

    if (!t || !td)
        return 1;
    printf("warm, median of %d after %d untimed (sa 10 mm):\n", n, n / 10);
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        const struct design *ds = draft_find(runs[r].design);
        const char *set = runs[r].set;
        struct draft_input in;
        double tp[3] = {0};
        size_t bytes = 0;
        if (!ds || load_set(csv, set, &in))
            return fprintf(stderr, "draft_bench: no set %s in %s\n", set, csv), 1;
        for (int i = -n / 10; i < n; i++) {
            struct pattern *p;
            char msg[DRAFT_MSG_MAX], *svg;
            double t0 = now(), t1, t2;
            if (draft_run(ds, &in, &p, msg, sizeof msg))
                return fprintf(stderr, "draft_bench: %s: %s\n", ds->name, msg), 1;
            t1 = now();
            if (draft_svg(p, &svg, &bytes))
                return 1;
            t2 = now();
            free(svg);
            if (i >= 0) {
                t[i] = t2 - t0;
                td[i] = t1 - t0;
            }
            if (i == n - 1) /* PDF renders, once each (cairo, fonts warm by now) */
                for (int paper = 0; paper < 3; paper++) {
                    char *pdf;
                    size_t pn;
                    double p0 = now();
                    if (draft_pdf(p, (enum draft_paper)paper, &pdf, &pn) == 0)
                        free(pdf);
                    tp[paper] = now() - p0;
                }
            draft_free(p);
        }
        printf("  %-8s %-17s draft+svg %7.1f us   draft %7.1f us   svg %zu bytes   "
               "pdf full/a4/letter %.1f/%.1f/%.1f ms\n",
               ds->name, set, median(t, n) * 1e6, median(td, n) * 1e6, bytes, tp[0] * 1e3,
               tp[1] * 1e3, tp[2] * 1e3);
    }
    free(t);
    free(td);
    return 0;
}

static int json(const char *csv, const char *model)
{
    struct draft_input in;
    int first = 1;

    if (load_set(csv, model, &in))
        return fprintf(stderr, "draft_bench: no set %s in %s\n", model, csv), 1;
    printf("{");
    for (int i = 0; i < MEASURES_COUNT; i++)
        if (in.have[i] && (in.breasts || !measures_table[i].breasts_only)) {
            printf("%s\"%s\": %g", first ? "" : ", ", measures_table[i].name, in.value[i]);
            first = 0;
        }
    printf("}\n");
    return 0;
}

extern char **environ;

/* Median wall time of n fresh processes (posix_spawn: the parent's own size
 * does not count), stdout to /dev/null. */
static int cold(int n, char **argv)
{
    double *t = malloc(sizeof *t * (size_t)n);
    posix_spawn_file_actions_t fa;

    if (!t || posix_spawn_file_actions_init(&fa) ||
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0))
        return 1;
    for (int i = 0; i < n; i++) {
        int status;
        pid_t pid;
        double t0 = now();
        if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) || waitpid(pid, &status, 0) < 0 ||
            !WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "draft_bench: %s failed\n", argv[0]);
            return 1;
        }
        t[i] = now() - t0;
    }
    printf("cold, median of %d processes: %.2f ms  (%s", n, median(t, n) * 1e3, argv[0]);
    for (int i = 1; argv[i]; i++)
        printf(" %s", argv[i]);
    printf(")\n");
    posix_spawn_file_actions_destroy(&fa);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "warm") == 0)
        return warm(argv[2], argc > 3 ? atoi(argv[3]) > 0 ? atoi(argv[3]) : 2000 : 2000);
    if (argc == 4 && strcmp(argv[1], "json") == 0)
        return json(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "cold") == 0 && atoi(argv[2]) > 0)
        return cold(atoi(argv[2]), argv + 3);
    if (argc >= 2 && strcmp(argv[1], "cli") == 0)
        return draft_cli(argc - 1, argv + 1);
    fprintf(stderr, "usage: draft_bench warm CSV [N] | json CSV MODEL | cold N CMD ARG... | "
                    "cli DESIGN --measurements FILE ...\n");
    return 2;
}
