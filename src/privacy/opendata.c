/*
 * opendata.c - `atelier opendata build`: the anonymized open data release of
 * SPEC section 6.
 *
 * Pipeline:
 *   select   models of accounts with open-data consent, one per account (the
 *            most recently updated), complete for their stratum's columns (38
 *            with breasts, 30 without) and plausible (within every range and
 *            no value far from what the neck predicts, measures.c);
 *   mask     per stratum with at least min_stratum records: MDAV over all
 *            published columns jointly (anon.c), k >= 5, integer output;
 *   gate     k-anonymity on the output, record linkage, partial-knowledge
 *            linkage, information loss, correlation change (anon_gates_pass);
 *            any failure publishes nothing and says which gate failed;
 *   publish  rows shuffled with the CSPRNG, no ids, names, notes, dates or
 *            owner data; CSV, JSON and metadata stored as one release, which
 *            replaces the previous one only once it is complete.
 *
 * Invariants: nothing is stored unless every gate of every published stratum
 * passed; the release holds only the stratum flag and measurement values.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/seal.h"
#include "privacy/anon.h"
#include "base/clock.h"
#include "store/db.h"
#include "base/err.h"
#include "base/log.h"
#include "atelier/draft.h"
#include "models/models.h"
#include "privacy/opendata.h"
#include "base/token.h"
#include "base/util.h"

/* Records per stratum from which the scalable MDAV is used; plain MDAV
 * below (about 1 s at 20,000). */
#define OPENDATA_FAST_FROM 20000

struct stratum {
    const char *name; /* "with_breasts" / "without_breasts" */
    int breasts;
    int cols[MEASURES_COUNT]; /* measure index of each published column */
    size_t p;
    double *x; /* n x p originals */
    size_t n, cap;
    double *y; /* n x p released */
    struct anon_figures fig;
    int published;
};

static void stratum_init(struct stratum *s, int breasts)
{
    memset(s, 0, sizeof *s);
    s->breasts = breasts;
    s->name = breasts ? "with_breasts" : "without_breasts";
    for (int i = 0; i < MEASURES_COUNT; i++)
        if (breasts || !measures_table[i].breasts_only)
            s->cols[s->p++] = i;
}

static void stratum_release(struct stratum *s)
{
    free(s->x);
    free(s->y);
    anon_figures_free(&s->fig);
}

static int stratum_push(struct stratum *s, const double *row)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024, bytes;
        if (!size_mul(cap, s->p * sizeof(double), &bytes))
            return ERR_NOMEM;
        double *x = realloc(s->x, bytes);
        if (!x)
            return ERR_NOMEM;
        s->x = x;
        s->cap = cap;
    }
    memcpy(s->x + s->n * s->p, row, s->p * sizeof(double));
    s->n++;
    return 0;
}

/* ---- selection ---- */

/* 0 eligible (row filled), 1 incomplete, 2 implausible. */
static int opendata_row(const struct stratum *s, json_t *m, double *row)
{
    json_t *neck = json_object_get(m, "neck");

    for (size_t j = 0; j < s->p; j++) {
        int i = s->cols[j];
        json_t *v = json_object_get(m, measures_table[i].name);
        if (!json_is_number(v))
            return 1;
        row[j] = json_number_value(v);
        if (row[j] < measures_table[i].min || row[j] > measures_table[i].max)
            return 2;
        if (measures_implausible(i, s->breasts, json_number_value(neck), row[j]))
            return 2;
    }
    return 0;
}

static int opendata_take(struct stratum st[2], struct opendata_report *r, const char *model_id,
                         int breasts, const void *box, size_t n)
{
    char *text = NULL;
    double row[MEASURES_COUNT];
    int rc = seal_open_text("models.measurements", model_id, box, n, &text);

    if (rc)
        return rc;
    json_t *m = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(m)) {
        json_decref(m);
        return ERR_INTERNAL;
    }
    struct stratum *s = &st[breasts ? 0 : 1];
    int verdict = opendata_row(s, m, row);
    json_decref(m);
    if (verdict == 1)
        r->incomplete++;
    else if (verdict == 2)
        r->implausible++;
    else
        rc = stratum_push(s, row);
    return rc;
}

static int opendata_select(struct db *db, struct stratum st[2], struct opendata_report *r)
{
    struct db_rows *rows = NULL;
    char last[64] = "";
    int rc = db_query(db, STMT_OPENDATA_CANDIDATES, NULL, 0, &rows);

    if (rc)
        return rc;
    while ((rc = db_next(rows)) == 1) {
        const char *account = db_col_text(rows, 0, NULL);
        if (strcmp(account, last) == 0)
            continue; /* one model per account: the newest came first */
        util_strlcpy(last, account, sizeof last);
        r->accounts++;
        size_t n = 0, bn = 0;
        const char *model = db_col_text(rows, 1, NULL);
        const void *box = db_col_blob(rows, 3, &n), *bb = db_col_blob(rows, 2, &bn);
        int breasts = 0;
        if ((rc = models_breasts_open(model, bb, bn, &breasts)) ||
            (rc = opendata_take(st, r, model, breasts, box, n)))
            break;
    }
    db_rows_free(rows);
    return rc < 0 ? (rc) : 0;
}

/* ---- masking and gates ---- */

static int opendata_col(const struct stratum *s, const char *name)
{
    int i = measures_find(name);

    for (size_t j = 0; j < s->p; j++)
        if (s->cols[j] == i)
            return (int)j;
    return -1;
}

static int opendata_mask(struct stratum *s, unsigned k, char *why, size_t whyn)
{
    int partial[4] = {opendata_col(s, "chest"), opendata_col(s, "waist"), opendata_col(s, "seat"),
                      opendata_col(s, "hpsToWaistBack")};
    size_t groups = 0, bytes;
    uint64_t seed;
    int rc;

    if (!size_mul(s->n, s->p * sizeof(double), &bytes) || !(s->y = malloc(bytes)))
        return ERR_NOMEM;
    rc = anon_mdav(s->x, s->n, s->p, k,
                   s->n >= OPENDATA_FAST_FROM ? ANON_MDAV_FAST : ANON_MDAV_PLAIN, s->y, &groups);
    if (rc)
        return rc;
    /* The attacker's simulated tape error is seeded from the data itself, so
     * the same data always gets the same verdict. */
    crypto_generichash((unsigned char *)&seed, sizeof seed, (const unsigned char *)s->x, bytes,
                       NULL, 0);
    if ((rc = anon_measure(s->x, s->y, s->n, s->p, k, partial, seed, &s->fig)))
        return rc;
    char gate[256];
    if (!anon_gates_pass(&s->fig, gate, sizeof gate)) {
        snprintf(why, whyn, "stratum %s: %s", s->name, gate);
        return ERR_INVALID;
    }
    s->published = 1;
    return 0;
}

/* Fisher-Yates over row indices with the CSPRNG. */
static size_t *opendata_shuffle(size_t n)
{
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);

    if (!ord)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        size_t t = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = t;
    }
    return ord;
}

/* ---- output ---- */

static json_t *opendata_figures(const struct stratum *s)
{
    const struct anon_figures *f = &s->fig;
    json_t *mae = json_object();

    for (size_t j = 0; j < s->p; j++)
        json_object_set_new(mae, measures_table[s->cols[j]].name, json_real(f->mae[j]));
    return json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o}", "groups",
                     (json_int_t)f->groups, "min_group", (json_int_t)f->min_run,
                     "max_prosecutor_risk", f->max_risk, "record_linkage_pct", f->dbrl,
                     "partial_knowledge_linkage_pct", f->partial, "interval_disclosure_pct",
                     f->sdid, "information_loss_pct", f->il, "il1s", f->il1s, "correlation_change",
                     f->corr_change, "max_mean_difference", f->max_mean_diff, "mean_absolute_error",
                     mae);
}

static json_t *opendata_stratum_meta(const struct stratum *s, unsigned min)
{
    json_t *cols = json_array();

    for (size_t j = 0; j < s->p; j++)
        json_array_append_new(cols, json_string(measures_table[s->cols[j]].name));
    if (!s->published)
        return json_pack("{s:b,s:I,s:I,s:o,s:s}", "published", 0, "rows", (json_int_t)0, "eligible",
                         (json_int_t)s->n, "columns", cols, "reason",
                         s->n < min ? "fewer eligible models than the minimum" : "not masked");
    return json_pack("{s:b,s:I,s:I,s:o,s:o}", "published", 1, "rows", (json_int_t)s->n, "eligible",
                     (json_int_t)s->n, "columns", cols, "figures", opendata_figures(s));
}

static json_t *opendata_meta(const struct stratum st[2], const struct opendata_report *r,
                             const char *id, unsigned k, unsigned min)
{
    char date[25];

    clock_format_rfc3339(clock_now_ms(), date);
    return json_pack(
        "{s:s,s:s,s:I,s:I,s:s,s:{s:I,s:I,s:I},s:{s:o,s:o},s:{s:s,s:s,s:s,s:s,s:s,s:s},s:s}", "id",
        id, "date", date, "k", (json_int_t)k, "min_stratum", (json_int_t)min, "method",
        "multivariate microaggregation (MDAV) per stratum over all published columns, "
        "z-standardised; each value is its group's mean, rounded to whole mm (degrees for "
        "shoulderSlope); rows shuffled",
        "selection", "accounts_opted_in", (json_int_t)r->accounts, "incomplete",
        (json_int_t)r->incomplete, "implausible", (json_int_t)r->implausible, "strata",
        "with_breasts", opendata_stratum_meta(&st[0], min), "without_breasts",
        opendata_stratum_meta(&st[1], min), "gates", "k_anonymity", "every row occurs >= k times",
        "record_linkage", "<= 100/k + 1 %", "partial_knowledge_linkage",
        "<= 5 % (chest, waist, seat, hpsToWaistBack known within 10 mm)", "information_loss",
        "<= 25 % (SSE/SST)", "correlation_change", "<= 0.12 (mean absolute, column pairs)",
        "interval_disclosure", "<= 1 %", "note",
        "Fine for population statistics and size-range research; not a substitute for a "
        "person's own measurements.");
}

/* Write released row r of stratum s as one CSV line and one JSON object
 * (written as text: a release of 100,000 rows would cost hundreds of MiB as
 * jansson objects). */
static void opendata_row_out(const struct stratum *s, size_t r, FILE *csv, FILE *json, int first)
{
    const double *y = s->y + r * s->p;
    size_t j = 0;

    fputs(s->breasts ? "true" : "false", csv);
    fprintf(json, "%s{\"breasts\":%s", first ? "" : ",", s->breasts ? "true" : "false");
    for (int i = 0; i < MEASURES_COUNT; i++) {
        if (j < s->p && s->cols[j] == i) {
            fprintf(csv, ",%.0f", y[j]);
            fprintf(json, ",\"%s\":%.0f", measures_table[i].name, y[j]);
            j++;
        } else {
            fputc(',', csv);
        }
    }
    fputc('\n', csv);
    fputc('}', json);
}

/* All published rows of both strata in one CSPRNG shuffle, so that row
 * order tells nothing, not even the stratum. */
static int opendata_rows(const struct stratum st[2], FILE *csv, FILE *json)
{
    size_t n0 = st[0].published ? st[0].n : 0, n1 = st[1].published ? st[1].n : 0;
    size_t *ord = opendata_shuffle(n0 + n1);

    if (!ord)
        return ERR_NOMEM;
    for (size_t t = 0; t < n0 + n1; t++) {
        size_t r = ord[t];
        if (r < n0)
            opendata_row_out(&st[0], r, csv, json, t == 0);
        else
            opendata_row_out(&st[1], r - n0, csv, json, t == 0);
    }
    free(ord);
    return 0;
}

static int opendata_insert(struct db *db, const char *id, const char *meta, const char *csv,
                           size_t csvn, const char *json, size_t jsonn)
{
    struct db_param p[] = {DB_TEXT(id), DB_INT(clock_now()), DB_TEXT(meta), DB_BLOB(csv, csvn),
                           DB_BLOB(json, jsonn)};
    struct db_param keep[] = {DB_TEXT(id)};
    int rc;

    if ((rc = db_begin(db)) || (rc = db_query(db, STMT_OPENDATA_INSERT, p, 5, NULL)) ||
        (rc = db_query(db, STMT_OPENDATA_PRUNE, keep, 1, NULL)) || (rc = db_commit(db)))
        db_rollback(db);
    return rc;
}

static int opendata_store(struct db *db, const struct stratum st[2], json_t *meta, const char *id)
{
    char *csv = NULL, *json = NULL, *meta_text = json_dumps(meta, JSON_COMPACT);
    size_t csvn = 0, jsonn = 0;
    FILE *c = open_memstream(&csv, &csvn), *j = open_memstream(&json, &jsonn);
    int rc = c && j && meta_text ? 0 : ERR_NOMEM;

    if (!rc) {
        fputs("breasts", c);
        for (int i = 0; i < MEASURES_COUNT; i++)
            fprintf(c, ",%s", measures_table[i].name);
        fputc('\n', c);
        fprintf(j, "{\"release\":%s,\"rows\":[", meta_text);
        rc = opendata_rows(st, c, j);
        fputs("]}", j);
    }
    if (c)
        fclose(c);
    if (j)
        fclose(j);
    if (!rc && (!csv || !json))
        rc = ERR_NOMEM;
    if (!rc)
        rc = opendata_insert(db, id, meta_text, csv, csvn, json, jsonn);
    free(csv);
    free(json);
    free(meta_text);
    return rc;
}

static void opendata_progress(int on, const char *what)
{
    if (on)
        fprintf(stderr, "opendata: %s\n", what);
}

int opendata_build(struct db *db, unsigned k, unsigned min_stratum, int progress,
                   struct opendata_report *r, char *why, size_t whyn)
{
    struct stratum st[2];
    char id[TOKEN_ID_LEN + 1];
    int rc;

    memset(r, 0, sizeof *r);
    why[0] = 0;
    stratum_init(&st[0], 1);
    stratum_init(&st[1], 0);
    opendata_progress(progress, "selecting eligible models");
    if ((rc = opendata_select(db, st, r)))
        goto out;
    for (int s = 0; s < 2; s++) {
        if (st[s].n < min_stratum)
            continue;
        opendata_progress(progress, s == 0 ? "masking the stratum with breasts"
                                           : "masking the stratum without breasts");
        if ((rc = opendata_mask(&st[s], k, why, whyn)))
            goto out;
    }
    if (!st[0].published && !st[1].published) {
        snprintf(why, whyn, "no stratum has %u eligible models (with breasts: %zu, without: %zu)",
                 min_stratum, st[0].n, st[1].n);
        rc = ERR_INVALID;
        goto out;
    }
    token_id(id);
    json_t *meta = opendata_meta(st, r, id, k, min_stratum);
    opendata_progress(progress, "storing the release");
    rc = meta ? opendata_store(db, st, meta, id) : ERR_NOMEM;
    json_decref(meta);
    r->rows_with = st[0].published ? st[0].n : 0;
    r->rows_without = st[1].published ? st[1].n : 0;
out:
    if (rc && !why[0])
        snprintf(why, whyn, "%s", err_text(rc));
    stratum_release(&st[0]);
    stratum_release(&st[1]);
    return rc;
}
