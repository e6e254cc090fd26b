/*
 * draft_cli.c - `atelier draft <design> --measurements file.json ...`: read
 * a flat JSON object of measurements (FreeSewing's form, a whole set is
 * fine), keep the ones the design uses, draft for the body --breasts names
 * (default: the body the design is for), and write SVG or PDF to standard
 * output or a file, with the engine's warnings on stderr. Options: --sa,
 * --paper, --units and --date, and any pattern option of the engine's
 * vocabulary as --option NAME=VALUE (the fit options: one generic flag
 * rather than one per option, so an option added to draft_options[] needs
 * no change here), checked by draft_option_check exactly as the server
 * checks a query argument.
 *
 * Invariants: the body is decided by --breasts or the design, never by
 * which names the file holds; names the design does not use are ignored
 * whatever their value, names outside the vocabulary are refused;
 * nothing is written to the output unless the draft and the rendering
 * succeeded; every problem with the input is reported on stderr in one
 * line, all missing or unknown names at once. Exit 0 / 1 (invalid input
 * or failure) / 2 (usage).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atelier/draft.h"
#include "cli/draft_cli.h"

#define CLI_OPTIONS_MAX 32 /* --option arguments kept (more is a usage error) */

struct cli {
    const char *design, *file, *output, *name, *format, *paper, *breasts, *units, *date;
    double sa;
    const char *option[CLI_OPTIONS_MAX]; /* "name=value" of each --option */
    size_t noptions;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: atelier draft <design> --measurements FILE [--breasts true|false]\n"
               "         [--sa MM] [--format svg|pdf] [--paper a4|letter|full]\n"
               "         [--units metric|imperial] [--date YYYY-MM-DD]\n"
               "         [--option NAME=VALUE]... [--output FILE] [--name NAME]\n"
               "designs and their options (NAME=default):\n");
    for (int i = 0; i < draft_design_count(); i++) {
        const struct design *d = draft_design(i);
        fprintf(f, "  %-8s", d->name);
        for (int k = 0; k < DRAFT_OPTIONS_COUNT; k++) {
            const struct draft_option *o = &draft_options[k];
            if (!draft_option_applies(o, d) || !o->designs)
                continue;
            if (o->kind == DRAFT_OPTION_NUMBER)
                fprintf(f, " %s=%g", o->name, o->def);
            else
                fprintf(f, " %s=%s", o->name, o->choices[0]);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\nFILE is a JSON object of measurement names to numbers (mm; shoulderSlope in\n"
               "degrees), '-' for standard input; names the design does not use are ignored.\n"
               "--breasts defaults to the body the design is for. --option sets a fit option\n"
               "(eases in %%, lengths in mm; ranges: GET /v1/designs or docs/DRAFTING.md), once\n"
               "each. The pattern goes to standard output unless --output is given; warnings\n"
               "go to standard error.\n");
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v;

    if (!s || !*s)
        return -1;
    v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* --opt value or --opt=value; *i advances past what was used. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int parse_args(int argc, char **argv, struct cli *c)
{
    static const char *const names[] = {"--measurements", "--output", "--name",
                                        "--format",       "--paper",  "--breasts",
                                        "--units",        "--date",   "--sa"};
    const char **slot[] = {&c->file,  &c->output,  &c->name,  &c->format,
                           &c->paper, &c->breasts, &c->units, &c->date};
    const size_t nslots = sizeof slot / sizeof slot[0];
    const char *sa = NULL;

    memset(c, 0, sizeof *c);
    c->sa = DRAFT_SA_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        size_t k;
        if (argv[i][0] != '-' && !c->design) {
            c->design = argv[i];
            continue;
        }
        if ((v = opt_value(argc, argv, &i, "--option"))) {
            if (c->noptions >= CLI_OPTIONS_MAX || !strchr(v, '=')) {
                fprintf(stderr, "atelier draft: --option takes NAME=VALUE (at most %d)\n",
                        CLI_OPTIONS_MAX);
                return -1;
            }
            c->option[c->noptions++] = v;
            continue;
        }
        for (k = 0; k < sizeof names / sizeof names[0] && !v; k++)
            v = opt_value(argc, argv, &i, names[k]);
        if (!v) {
            fprintf(stderr, "atelier draft: unknown or incomplete option '%s'\n", argv[i]);
            return -1;
        }
        if (k - 1 < nslots)
            *slot[k - 1] = v;
        else
            sa = v;
    }
    if (!c->design || !c->file) {
        fprintf(stderr, "atelier draft: a design and --measurements are required\n");
        return -1;
    }
    if (sa && (parse_double(sa, &c->sa) || c->sa < 0.0 || c->sa > DRAFT_SA_MAX)) {
        fprintf(stderr, "atelier draft: --sa takes a number of mm from 0 to %g\n", DRAFT_SA_MAX);
        return -1;
    }
    if (!c->format)
        c->format = c->paper ? "pdf" : "svg";
    if (strcmp(c->format, "svg") && strcmp(c->format, "pdf")) {
        fprintf(stderr, "atelier draft: --format takes svg or pdf\n");
        return -1;
    }
    if (c->paper && strcmp(c->format, "pdf")) {
        fprintf(stderr, "atelier draft: --paper applies to --format pdf only\n");
        return -1;
    }
    if (c->breasts && strcmp(c->breasts, "true") && strcmp(c->breasts, "false")) {
        fprintf(stderr, "atelier draft: --breasts takes true or false\n");
        return -1;
    }
    enum draft_units u;
    if (c->units && draft_units_parse(c->units, &u)) {
        fprintf(stderr, "atelier draft: --units takes metric or imperial\n");
        return -1;
    }
    return 0;
}

/* 1 when the design reads the measurement (required or optional). */
static int design_uses(const struct design *d, const char *name)
{
    for (size_t i = 0; d->required[i]; i++)
        if (strcmp(d->required[i], name) == 0)
            return 1;
    for (size_t i = 0; d->optional && d->optional[i]; i++)
        if (strcmp(d->optional[i], name) == 0)
            return 1;
    return 0;
}

/* The JSON type of v in words, for messages about the measurements file. */
static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "text";
    case JSON_TRUE:
    case JSON_FALSE:
        return "true or false";
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    default:
        return "not a number";
    }
}

/* Fill in what the design uses from the JSON object; 1 on invalid input
 * (reported: the file, the key, its value's kind, what is expected). Ranges
 * are draft_run's to check, with its message. */
static int load_values(const char *file, json_t *root, const struct design *d,
                       struct draft_input *in)
{
    char unknown[DRAFT_MSG_MAX] = "";
    const char *key;
    json_t *v;
    size_t used = 0, nunknown = 0;

    json_object_foreach(root, key, v)
    {
        int i = measures_find(key);
        if (i < 0) {
            int w = snprintf(unknown + used, sizeof unknown - used, "%s%s", used ? ", " : "", key);
            if (w > 0 && (size_t)w < sizeof unknown - used)
                used += (size_t)w;
            nunknown++;
            continue;
        }
        if (!design_uses(d, key) || json_is_null(v))
            continue; /* another design's measurement, or not measured */
        if (!json_is_number(v)) {
            fprintf(stderr,
                    "atelier draft: in %s, %s is %s; it must be a number of %s (or null when "
                    "not measured)\n",
                    file, key, json_kind(v), measures_table[i].unit);
            return 1;
        }
        in->value[i] = json_number_value(v);
        in->have[i] = 1;
    }
    if (nunknown) {
        fprintf(stderr,
                "atelier draft: in %s, %s %s not %s of the vocabulary (GET /v1/measurements "
                "lists the names)\n",
                file, unknown, nunknown == 1 ? "is" : "are",
                nunknown == 1 ? "a measurement" : "measurements");
        return 1;
    }
    return 0;
}

/* Say where and how the text of file is not JSON, in words: jansson's own
 * text only for syntax (it names what was expected), never its position
 * when it has none (-1: the error is not about the text). */
static void json_error_report(const char *file, const json_error_t *e)
{
    const char *near = strstr(e->text, "near '\""), *end;

    switch (json_error_code(e)) {
    case json_error_duplicate_key:
        end = near ? strstr(near + 7, "\"'") : NULL;
        if (near && end)
            fprintf(stderr, "atelier draft: in %s, line %d: %.*s is given twice\n", file, e->line,
                    (int)(end - near - 7), near + 7);
        else
            fprintf(stderr, "atelier draft: in %s, line %d: a measurement is given twice\n", file,
                    e->line);
        return;
    case json_error_premature_end_of_input:
        fprintf(stderr, "atelier draft: %s ends before its JSON object is closed\n", file);
        return;
    case json_error_end_of_input_expected:
        fprintf(stderr, "atelier draft: in %s, line %d: more follows the JSON object\n", file,
                e->line);
        return;
    case json_error_invalid_utf8:
        fprintf(stderr, "atelier draft: %s is not UTF-8 text\n", file);
        return;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        fprintf(stderr, "atelier draft: %s holds a NUL character\n", file);
        return;
    case json_error_numeric_overflow:
        fprintf(stderr, "atelier draft: in %s, line %d: a number is too large\n", file, e->line);
        return;
    default:
        break;
    }
    if (e->line > 0)
        fprintf(stderr, "atelier draft: %s is not valid JSON: line %d, column %d: %s\n", file,
                e->line, e->column, e->text);
    else
        fprintf(stderr, "atelier draft: cannot read the measurements file %s\n", file);
}

/* The measurements file as a JSON value, or NULL with a message for
 * people: the file cannot be read (why, from errno), or where and how it
 * is not JSON (jansson's line and column; its position is -1 for errors
 * that are not about the text, which are never shown). */
static json_t *load_file(const char *path, const char *file)
{
    json_error_t jerr;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct stat st;
    json_t *root;

    if (f && f != stdin && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        fprintf(stderr, "atelier draft: the measurements file %s is a directory\n", file);
        return NULL;
    }
    if (!f) {
        fprintf(stderr, "atelier draft: cannot read the measurements file %s: %s\n", file,
                errno == ENOENT ? "it does not exist" : strerror(errno));
        return NULL;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (f != stdin)
        fclose(f);
    if (root)
        return root;
    json_error_report(file, &jerr);
    return NULL;
}

static int read_measurements(const struct cli *c, const struct design *d, struct draft_input *in)
{
    const char *file = strcmp(c->file, "-") == 0 ? "standard input" : c->file;
    json_t *root = load_file(c->file, file);
    int rc;

    if (!root)
        return 1;
    if (!json_is_object(root)) {
        fprintf(stderr,
                "atelier draft: %s holds %s; it must hold a JSON object of measurement names "
                "to numbers, such as {\"neck\": 380, \"chest\": 960}\n",
                file, json_is_number(root) ? "a number" : json_kind(root));
        json_decref(root);
        return 1;
    }
    rc = load_values(file, root, d, in);
    json_decref(root);
    if (rc)
        return rc;
    /* the body is what --breasts says, else what the design is for */
    in->breasts = c->breasts ? strcmp(c->breasts, "true") == 0 : d->needs_breasts == 1;
    return 0;
}

/* Check and apply each --option NAME=VALUE for design d (the engine's
 * option vocabulary, as the server checks them); 2 with a message on a
 * name d has not, an output option (--paper), a value out of range or
 * not among the choices, or a name given twice. */
static int apply_options(const struct cli *c, const struct design *d, struct draft_input *in)
{
    for (size_t k = 0; k < c->noptions; k++) {
        char name[64], field[80], msg[DRAFT_MSG_MAX], *end;
        const char *eq = strchr(c->option[k], '='), *val = eq + 1;
        size_t len = (size_t)(eq - c->option[k]);
        int i;
        double v;

        if (len == 0 || len >= sizeof name) {
            fprintf(stderr, "atelier draft: --option %s names no option; see --help\n",
                    c->option[k]);
            return 2;
        }
        memcpy(name, c->option[k], len);
        name[len] = '\0';
        for (size_t j = 0; j < k; j++)
            if (strncmp(c->option[j], c->option[k], len + 1) == 0) {
                fprintf(stderr, "atelier draft: --option %s given twice\n", name);
                return 2;
            }
        snprintf(field, sizeof field, "--option %s", name);
        i = draft_option_for(d, name);
        if (i >= 0 && draft_options[i].output) {
            fprintf(stderr, "atelier draft: %s: use --%s\n", field, name);
            return 2;
        }
        v = strtod(val, &end);
        int is_number = *val && !*end && i >= 0 && draft_options[i].kind == DRAFT_OPTION_NUMBER;
        if (draft_option_check(d, name, field, is_number, v, val, msg, sizeof msg)) {
            fprintf(stderr, "atelier draft: %s\n", msg);
            return 2;
        }
        if (is_number ? draft_option_apply(in, name, v) : draft_option_apply_choice(in, name, val))
            return 2;
    }
    return 0;
}

/* Base name of path without its extension, into buf. */
static void base_name(const char *path, char *buf, size_t n)
{
    const char *b = strrchr(path, '/');
    size_t len;

    b = b ? b + 1 : path;
    len = strcspn(b, ".");
    if (len >= n)
        len = n - 1;
    memcpy(buf, b, len);
    buf[len] = '\0';
}

static int write_out(const char *path, const char *data, size_t n)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    int ok;

    if (!f) {
        fprintf(stderr, "atelier draft: cannot write %s\n", path);
        return 1;
    }
    ok = fwrite(data, 1, n, f) == n;
    ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "atelier draft: writing %s failed\n", path ? path : "standard output");
    return ok ? 0 : 1;
}

static int render(const struct cli *c, const struct pattern *p)
{
    enum draft_paper paper = DRAFT_PAPER_FULL;
    char *data = NULL;
    size_t n = 0;
    int rc;

    if (c->paper && draft_paper_parse(c->paper, &paper)) {
        fprintf(stderr, "atelier draft: --paper takes a4, letter or full\n");
        return 2;
    }
    rc = strcmp(c->format, "pdf") == 0 ? draft_pdf(p, paper, &data, &n) : draft_svg(p, &data, &n);
    if (rc) {
        fprintf(stderr, "atelier draft: rendering failed: %s\n", draft_strerror(rc));
        return 1;
    }
    rc = write_out(c->output, data, n);
    free(data);
    return rc;
}

int draft_cli(int argc, char **argv)
{
    struct draft_input in;
    struct cli c;
    const struct design *d;
    struct pattern *p = NULL;
    char msg[DRAFT_MSG_MAX], name[DRAFT_NAME_MAX + 1];
    int rc;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    if (parse_args(argc, argv, &c)) {
        usage(stderr);
        return 2;
    }
    d = draft_find(c.design);
    if (!d) {
        fprintf(stderr, "atelier draft: %s is not a design; the designs are listed below\n",
                c.design);
        usage(stderr);
        return 2;
    }
    memset(&in, 0, sizeof in);
    rc = read_measurements(&c, d, &in);
    if (rc)
        return rc;
    base_name(c.file, name, sizeof name);
    in.sa = c.sa;
    in.model_name = c.name ? c.name : strcmp(c.file, "-") ? name : "model";
    in.date = c.date;
    if (c.units)
        draft_units_parse(c.units, &in.units);
    rc = apply_options(&c, d, &in);
    if (rc)
        return rc; /* the message names the option; --help lists them */
    rc = draft_run(d, &in, &p, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "atelier draft: %s\n", rc == DRAFT_ERR_INVALID ? msg : draft_strerror(rc));
        return 1;
    }
    for (size_t i = 0; i < p->nwarnings; i++)
        fprintf(stderr, "atelier draft: warning: %s: %s\n", p->warning[i].code,
                p->warning[i].message);
    rc = render(&c, p);
    draft_free(p);
    return rc;
}
