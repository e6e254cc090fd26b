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
 *   draft_bench dims CSV MODEL... [-- NAME=VALUE...]
 *                                 the key dimensions of the T-shirt and
 *                                 the skirt for those sets, as JSON, with
 *                                 options (docs/DRAFTING.md compares them
 *                                 with tools/freesewing_dims.mjs)
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

/* ---- dims: the key dimensions of the garments, for the comparison with
 * FreeSewing in docs/DRAFTING.md (tools/freesewing_dims.mjs prints
 * FreeSewing's, with the same keys) ---- */

static double edge_len(const struct pattern *p, const char *part, const char *edge)
{
    return draft_edge_length(draft_part_find(p, part), edge);
}

static double level_width(const struct pattern *p, const char *part, const char *level)
{
    const struct draft_part *pt = draft_part_find(p, part);
    double w = 0.0;

    for (size_t i = 0; pt && i < pt->nlevels; i++)
        if (strcmp(pt->level[i].name, level) == 0)
            draft_width_at(pt, pt->level[i].y, &w);
    return w;
}

static double level_at(const struct pattern *p, const char *part, const char *level)
{
    const struct draft_part *pt = draft_part_find(p, part);

    for (size_t i = 0; pt && i < pt->nlevels; i++)
        if (strcmp(pt->level[i].name, level) == 0)
            return pt->level[i].y;
    return 0.0;
}

static struct vec edge_end(const struct pattern *p, const char *part, const char *edge, int end)
{
    const struct draft_edge *e = draft_edge_find(draft_part_find(p, part), edge);
    return end ? geom_path_end(&e->path) : geom_path_start(&e->path);
}

/* Sum of a part's waist seam pieces (darts excluded). */
static double waist_seam(const struct pattern *p, const char *part)
{
    const struct draft_part *pt = draft_part_find(p, part);
    double l = 0.0;

    for (size_t i = 0; i < pt->nedges; i++)
        if (strncmp(pt->edge[i].name, "waist", 5) == 0 &&
            strncmp(pt->edge[i].name, "waist_dart", 10))
            l += geom_path_length(&pt->edge[i].path);
    return l;
}

static void print_tshirt(const struct pattern *p)
{
    const struct draft_part *sl = draft_part_find(p, "sleeve");
    const struct draft_edge *w = draft_edge_find(sl, "wrist");
    struct vec mid = geom_path_at(&w->path, 0.5 * geom_path_length(&w->path), NULL);
    double h = level_at(p, "sleeve", "biceps");

    printf("  \"tshirt\": {\"chest_girth\": %.1f, \"hem_girth\": %.1f, \"cb_length\": %.1f, "
           "\"cf_length\": %.1f, \"armhole_depth\": %.1f, \"front_neck_depth\": %.1f, "
           "\"back_neck_depth\": %.1f, \"neckline\": %.1f, \"neckband\": %.1f, "
           "\"sleeve_width\": %.1f, \"cap_height\": %.1f, \"sleeve_length\": %.1f, "
           "\"sleeve_hem\": %.1f, \"cap\": %.1f}",
           2.0 * (level_width(p, "front", "chest") + level_width(p, "back", "chest")),
           2.0 * (edge_end(p, "front", "side", 0).x + edge_end(p, "back", "side", 0).x),
           edge_end(p, "back", "cb", 1).y, edge_end(p, "front", "cf", 1).y,
           level_at(p, "back", "chest"), edge_end(p, "front", "cf", 0).y,
           edge_end(p, "back", "cb", 0).y,
           2.0 * (edge_len(p, "front", "neck") + edge_len(p, "back", "neck")),
           edge_len(p, "neckband", "neck"), level_width(p, "sleeve", "biceps"), h, mid.y,
           2.0 * edge_end(p, "sleeve", "wrist", 0).x, edge_len(p, "sleeve", "cap"));
}

static void print_skirt(const struct pattern *p)
{
    const struct draft_part *f = draft_part_find(p, "front"), *b = draft_part_find(p, "back");
    double yh = edge_end(p, "front", "cf", 1).y, fw, bw;

    draft_width_at(f, yh - 1.0, &fw);
    draft_width_at(b, yh - 1.0, &bw);
    printf("  \"skirt\": {\"waist_girth\": %.1f, \"seat_girth\": %.1f, \"hem_girth\": %.1f, "
           "\"length\": %.1f, \"darts_per_panel\": %zu, \"front_dart\": %.1f, "
           "\"back_dart\": %.1f, \"front_dart_depth\": %.1f, \"back_dart_depth\": %.1f, "
           "\"side_rise\": %.1f, \"vent\": %.1f, \"waistband_length\": %.1f, "
           "\"waistband_width\": %.1f}",
           2.0 * (waist_seam(p, "front") + waist_seam(p, "back")),
           2.0 * (level_width(p, "front", "seat") + level_width(p, "back", "seat")),
           2.0 * (fw + bw - DRAFT_SKIRT_VENT_WIDTH), yh, f->ndarts,
           f->ndarts ? vec_dist(f->dart[f->ndarts - 1].a, f->dart[f->ndarts - 1].b) : 0.0,
           b->ndarts ? vec_dist(b->dart[b->ndarts - 1].a, b->dart[b->ndarts - 1].b) : 0.0,
           f->ndarts ? f->dart[f->ndarts - 1].tip.y : 0.0,
           b->ndarts ? b->dart[b->ndarts - 1].tip.y : 0.0, -edge_end(p, "front", "side", 1).y,
           edge_len(p, "back", "vent") + DRAFT_SKIRT_VENT_WIDTH,
           draft_part_find(p, "waistband") ? edge_len(p, "waistband", "waist") : 0.0,
           draft_part_find(p, "waistband") ? 2.0 * edge_len(p, "waistband", "end") : 0.0);
}

/* The key dimensions of the T-shirt and the skirt drafted for each set
 * named, as JSON; options as NAME=VALUE after "--". */
static int dims(const char *csv, int argc, char **argv)
{
    int sep = argc;

    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--") == 0)
            sep = i;
    printf("{\n");
    for (int i = 0; i < sep; i++) {
        printf("%s \"%s\": {\n", i ? ",\n" : "", argv[i]);
        for (int g = 0; g < 2; g++) {
            const struct design *d = draft_find(g ? "skirt" : "tshirt");
            struct draft_input in;
            struct pattern *p;
            char msg[DRAFT_MSG_MAX];
            if (load_set(csv, argv[i], &in))
                return fprintf(stderr, "draft_bench: no set %s in %s\n", argv[i], csv), 1;
            in.sa = 0.0;
            in.date = "2026-12-01";
            for (int k = sep + 1; k < argc; k++) {
                char name[64], *eq = strchr(argv[k], '='), *end;
                if (!eq || eq - argv[k] >= 64)
                    return fprintf(stderr, "draft_bench: NAME=VALUE, not %s\n", argv[k]), 2;
                snprintf(name, sizeof name, "%.*s", (int)(eq - argv[k]), argv[k]);
                if (draft_option_for(d, name) < 0)
                    continue;
                double v = strtod(eq + 1, &end);
                if (*end ? draft_option_apply_choice(&in, name, eq + 1)
                         : draft_option_apply(&in, name, v))
                    return fprintf(stderr, "draft_bench: bad option %s\n", argv[k]), 2;
            }
            if (draft_run(d, &in, &p, msg, sizeof msg))
                return fprintf(stderr, "draft_bench: %s %s: %s\n", argv[i], d->name, msg), 1;
            if (g) {
                printf(",\n");
                print_skirt(p);
            } else {
                print_tshirt(p);
            }
            draft_free(p);
        }
        printf("\n }");
    }
    printf("\n}\n");
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
    if (argc >= 4 && strcmp(argv[1], "dims") == 0)
        return dims(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: draft_bench warm CSV [N] | json CSV MODEL | cold N CMD ARG... | "
                    "cli DESIGN --measurements FILE ... | dims CSV MODEL... [-- NAME=VALUE...]\n");
    return 2;
}
