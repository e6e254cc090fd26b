/*
 * opendata.c - `atelier opendata build`: the differentially private open data
 * release (docs/OPENDATA.md; the mechanism is dpmech.c, the accounting
 * zcdp.c, the noise dgauss.c).
 *
 * Pipeline:
 *   cadence  at most one build per calendar quarter (UTC), unless the
 *            operator says --ignore-cadence (the release then says so);
 *   charge   in one transaction with the build's row: every opted-in
 *            account with a model whose ledger stays within the cap is
 *            charged rho and marked with the build's id; the others are
 *            left out of this build entirely. Charging comes before any
 *            noise is drawn, so a build that fails or publishes nothing has
 *            still been paid for, and it is never re-run for better noise;
 *   select   for each charged account still opted in: its most recently
 *            updated model that is complete and plausible for its stratum
 *            (ties: updated_at, then id); without one, the account counts
 *            as incomplete or implausible according to its newest model;
 *   noise    four noisy counts, then per stratum whose noisy eligible count
 *            reaches --min-stratum the noisy statistics (dp_stratum_noise);
 *            the originals are then wiped and freed;
 *   post     the model and the synthetic rows (post-processing only);
 *   publish  metadata (data-independent parameters and DP outputs only)
 *            and the CSV of the rows of both strata in one CSPRNG shuffle,
 *            stored as one release that replaces the previous one; the
 *            JSON document is written from them on request (opendata_json).
 *
 * Speed (issue 13, item 8; docs/PERFORMANCE.md): the connection's page
 * cache is LIMIT_OPENDATA_CACHE_KIB; the selection reads each account's
 * models newest first through an index, without sorting the sealed rows;
 * nothing is held twice while storing but the CSV.
 *
 * One build at a time: the whole build holds the advisory lock
 * OPENDATA_LOCK_KEY (PostgreSQL, across nodes); a second one is refused
 * before it charges anything.
 *
 * Invariants: nothing computed from the originals leaves this file except
 * through dgauss noise; no exact count, clipped share or comparison with
 * the originals is published, printed or logged; the ledger never passes
 * the cap (the statement's WHERE and the table's CHECK).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "atelier/draft.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/progress.h"
#include "base/rng.h"
#include "base/seal.h"
#include "base/util.h"
#include "models/models.h"
#include "privacy/dgauss.h"
#include "privacy/dpmech.h"
#include "privacy/opendata.h"
#include "privacy/zcdp.h"
#include "store/db.h"

#define OPENDATA_METHOD_VERSION "dp-log-gaussian-factor-1"
#define OPENDATA_DELTA          1e-9

static const char *const opendata_cell_name[4] = {
    "incomplete", "implausible", "eligible_with_breasts", "eligible_without_breasts"};

struct originals {
    float *x; /* n x p */
    size_t n, cap, p;
};

struct build {
    struct dp_stratum st[2]; /* [0] with breasts, [1] without */
    struct originals orig[2];
    int64_t exact[4]; /* never leaves this file: only noisy[] does */
    int published[2];
};

int opendata_published(struct db *db, int64_t *at)
{
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_OPENDATA_PUBLISHED, NULL, 0, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        *at = db_col_null(rows, 0) ? -1 : db_col_int(rows, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_INTERNAL; /* an aggregate always has a row */
    }
    db_rows_free(rows);
    return rc;
}

int64_t opendata_quarter(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm))
        return 0;
    return (int64_t)(tm.tm_year + 1900) * 4 + tm.tm_mon / LIMIT_OPENDATA_CADENCE_MONTHS;
}

static void opendata_progress(const struct opendata_opts *o, const char *what)
{
    if (o->progress)
        progress_step("atelier opendata build: %s", what);
}

/* ---- cadence and charge ---- */

static int opendata_cadence(struct db *db, int64_t quarter, int ignore, char *why, size_t whyn)
{
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_DP_LAST_BUILD, NULL, 0, &rows);

    if (rc)
        return rc;
    if ((rc = db_next(rows)) == 1 && !db_col_null(rows, 0) && db_col_int(rows, 0) >= quarter &&
        !ignore) {
        int64_t next = db_col_int(rows, 0) + 1;
        snprintf(why, whyn,
                 "a release was already built in %lld-Q%lld; the next build may run from the "
                 "first day of %lld-Q%lld (releases are at most quarterly)",
                 (long long)(quarter / 4), (long long)(quarter % 4 + 1), (long long)(next / 4),
                 (long long)(next % 4 + 1));
        rc = ERR_CONFLICT;
    } else if (rc == 1) {
        rc = 0;
    }
    db_rows_free(rows);
    return rc;
}

/* STMT_DP_CHARGE writes the ledger in account order (its ORDER BY a.id):
 * its primary key then grows at its end instead of at random places, and
 * the pages it touches stay in the cache (at 300,000 accounts the charge
 * read a third of the pages it read in the accounts' order). */
static int opendata_charge(struct db *db, const struct opendata_opts *o, const char *id, char *why,
                           size_t whyn)
{
    int64_t now = clock_now(), quarter = opendata_quarter(now);
    struct db_param build[] = {DB_TEXT(id), DB_INT(now), DB_INT(o->rho_milli),
                               DB_INT(o->ignore_cadence ? 1 : 0), DB_INT(quarter)};
    struct db_param charge[] = {DB_INT(o->rho_milli), DB_TEXT(id), DB_INT(o->cap_milli)};
    int rc;

    if ((rc = db_begin(db)))
        return rc;
    if ((rc = opendata_cadence(db, quarter, o->ignore_cadence, why, whyn)) ||
        (rc = db_query(db, STMT_DP_BUILD_INSERT, build, 5, NULL)) ||
        (rc = db_query(db, STMT_DP_CHARGE, charge, 3, NULL)) || (rc = db_commit(db))) {
        db_rollback(db);
        if (rc == ERR_CONFLICT && !why[0])
            snprintf(why, whyn, "another build of this quarter ran at the same time");
    }
    return rc;
}

/* ---- selection ---- */

static int originals_push(struct originals *t, const float *row)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024, bytes;
        if (!size_mul(cap, t->p * sizeof(float), &bytes))
            return ERR_NOMEM;
        float *x = realloc(t->x, bytes);
        if (!x)
            return ERR_NOMEM;
        t->x = x;
        t->cap = cap;
    }
    memcpy(t->x + t->n * t->p, row, t->p * sizeof(float));
    t->n++;
    return 0;
}

static void originals_wipe(struct originals *t)
{
    if (t->x)
        sodium_memzero(t->x, t->cap * t->p * sizeof(float));
    free(t->x);
    t->x = NULL;
    t->n = t->cap = 0;
}

/* One model's verdict: OPENDATA_INCOMPLETE, OPENDATA_IMPLAUSIBLE, or the
 * stratum's eligible cell with row filled. */
static int opendata_verdict(const struct dp_stratum *s, const double value[MEASURES_COUNT],
                            const unsigned char have[MEASURES_COUNT], float *row)
{
    int neck = measures_find("neck");
    double nv = have[neck] ? value[neck] : 0.0;

    for (size_t j = 0; j < s->p; j++) {
        int i = s->cols[j];
        if (!have[i])
            return OPENDATA_INCOMPLETE;
        double x = value[i];
        if (x < measures_table[i].min || x > measures_table[i].max ||
            measures_implausible(i, s->breasts, nv, x))
            return OPENDATA_IMPLAUSIBLE;
        row[j] = (float)x;
    }
    return s->breasts ? OPENDATA_WITH_BREASTS : OPENDATA_WITHOUT_BREASTS;
}

/* The account being read: its first (newest) model's verdict and whether
 * an eligible model was taken already. */
struct member {
    char id[64];
    int newest, taken;
};

static void member_close(struct build *b, struct member *m)
{
    if (m->id[0] && !m->taken)
        b->exact[m->newest]++;
    m->id[0] = 0;
}

/* The stored text is scanned in place (models_scan), not parsed into a
 * jansson tree (an allocation per measurement, a million models). */
static int opendata_model(struct build *b, struct member *m, const char *model, int breasts,
                          const void *box, size_t n)
{
    char *text = NULL;
    double value[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    float row[MEASURES_COUNT];
    int rc = seal_open_text("models.measurements", model, box, n, &text);

    if (rc)
        return rc;
    int scanned = models_scan(text, value, have);
    sodium_memzero(text, strlen(text));
    free(text);
    if (scanned != 0)
        rc = ERR_INTERNAL;
    int k = breasts ? 0 : 1, verdict = rc ? -1 : opendata_verdict(&b->st[k], value, have, row);
    if (verdict >= OPENDATA_WITH_BREASTS) {
        m->taken = 1;
        b->exact[verdict]++;
        rc = originals_push(&b->orig[k], row);
    } else if (verdict >= 0 && m->newest < 0) {
        m->newest = verdict;
    }
    sodium_memzero(row, sizeof row);
    sodium_memzero(value, sizeof value);
    return rc;
}

static int opendata_select(struct db *db, struct build *b, const char *id)
{
    struct db_param p[] = {DB_TEXT(id)};
    struct db_rows *rows = NULL;
    struct member m = {.id = "", .newest = -1};
    int rc = db_query(db, STMT_DP_MEMBERS, p, 1, &rows);

    if (rc)
        return rc;
    while ((rc = db_next(rows)) == 1) {
        const char *account = db_col_text(rows, 0, NULL);
        if (strcmp(account, m.id) != 0) {
            member_close(b, &m);
            util_strlcpy(m.id, account, sizeof m.id);
            m.newest = -1;
            m.taken = 0;
        }
        if (m.taken)
            continue;
        size_t n = 0, bn = 0;
        const char *model = db_col_text(rows, 1, NULL);
        const void *box = db_col_blob(rows, 3, &n), *bb = db_col_blob(rows, 2, &bn);
        int breasts = 0;
        if ((rc = models_breasts_open(model, bb, bn, &breasts)) ||
            (rc = opendata_model(b, &m, model, breasts, box, n)))
            break;
    }
    if (rc == 0)
        member_close(b, &m);
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* ---- noise ---- */

static int opendata_noise(struct build *b, const struct opendata_opts *o, struct opendata_report *r)
{
    uint64_t sigma2 = b->st[0].plan.sigma2[ZCDP_Q_COUNTS];
    int rc = 0;

    r->noise_drawn = 1;
    for (int c = 0; c < 4; c++) {
        int64_t z;
        if ((rc = dgauss_sample(sigma2, &z)))
            return rc;
        r->noisy[c] = b->exact[c] + z;
        b->exact[c] = 0;
    }
    for (int k = 0; k < 2; k++) {
        struct dp_stratum *s = &b->st[k];
        s->n_noisy = r->noisy[k == 0 ? OPENDATA_WITH_BREASTS : OPENDATA_WITHOUT_BREASTS];
        if (s->n_noisy < (int64_t)o->min_stratum)
            continue;
        s->x = b->orig[k].x;
        s->n = b->orig[k].n;
        rc = dp_stratum_noise(s);
        s->x = NULL;
        if (rc)
            return rc;
        b->published[k] = 1;
    }
    return 0;
}

static int opendata_post(struct build *b, char *why, size_t whyn)
{
    uint64_t seed;
    struct rng r;
    int rc = 0;

    randombytes_buf(&seed, sizeof seed);
    rng_seed(&r, seed);
    for (int k = 0; k < 2 && !rc; k++) {
        if (!b->published[k] || (rc = dp_stratum_fit(&b->st[k], &r)))
            continue;
        if (!(rc = dp_stratum_rows(&b->st[k], &r)))
            continue;
        snprintf(why, whyn,
                 "the model of the stratum %s breasts gives too few plausible rows (a stratum "
                 "this small drowns in its noise: raise --min-stratum); the ledger was charged",
                 k == 0 ? "with" : "without");
    }
    return rc;
}

/* ---- metadata ---- */

static json_t *json_ints(const int64_t *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static json_t *json_reals(const double *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *opendata_plan_json(const struct zcdp_plan *pl)
{
    json_t *sigma2 = json_object(), *delta2 = json_object();

    for (int q = 0; q < ZCDP_Q__N; q++) {
        json_object_set_new(sigma2, zcdp_query_name[q], json_integer((json_int_t)pl->sigma2[q]));
        json_object_set_new(delta2, zcdp_query_name[q], json_integer((json_int_t)pl->delta2[q]));
    }
    return json_pack("{s:I,s:o,s:o}", "b2", (json_int_t)pl->b2, "sensitivity2", delta2, "sigma2",
                     sigma2);
}

static json_t *opendata_columns_json(const struct dp_stratum *s)
{
    json_t *cols = json_array();

    for (size_t j = 0; j < s->p; j++) {
        const struct measure *m = &measures_table[s->cols[j]];
        int slope = strcmp(m->name, "shoulderSlope") == 0;
        json_array_append_new(
            cols,
            json_pack("{s:s,s:s,s:f,s:f,s:s,s:f,s:f}", "name", m->name, "unit", m->unit, "min",
                      m->min, "max", m->max, "transform",
                      slope ? "u = (x - centre) / scale" : "u = ln(x / centre) / scale", "centre",
                      slope ? DP_SLOPE_MID : (s->breasts ? m->base_breasts : m->base_flat), "scale",
                      slope ? DP_SLOPE_SCALE : DP_LOG_SCALE));
    }
    return cols;
}

static json_t *opendata_hists_json(const struct dp_stratum *s)
{
    json_t *h = json_object();

    for (int i = 0; i < ZCDP_HISTS; i++)
        json_object_set_new(h, measures_table[s->cols[s->hist_col[i]]].name,
                            json_pack("{s:i,s:i,s:o}", "lower_mm", s->hist_lo[i], "bin_mm",
                                      ZCDP_BIN_MM, "counts",
                                      json_ints(s->hist[i], s->hist_bins[i])));
    return h;
}

/* The model: the factor form (loadings, uniquenesses) fitted to the noisy
 * moments, and the covariance the rows were drawn from (after the clipping
 * correction), upper triangle row-major, all in transformed units. */
static json_t *opendata_model_json(const struct dp_stratum *s)
{
    json_t *load = json_array(), *cov = json_array();

    for (size_t j = 0; j < s->p; j++) {
        json_array_append_new(load, json_reals(s->loadings + j * s->k, s->k));
        for (size_t k = j; k < s->p; k++)
            json_array_append_new(cov, json_real(s->sigma_u[j * s->p + k]));
    }
    return json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}", "space", "u (the transform of each column)",
                     "factors", (json_int_t)s->k, "mean", json_reals(s->mu_u, s->p), "loadings",
                     load, "uniquenesses", json_reals(s->psi, s->p), "covariance", cov);
}

static json_t *opendata_stratum_json(const struct build *b, int k, unsigned min)
{
    const struct dp_stratum *s = &b->st[k];
    json_t *o = json_pack("{s:b,s:I,s:I,s:o,s:o}", "published", b->published[k], "noisy_count",
                          (json_int_t)s->n_noisy, "rows", (json_int_t)s->nrows, "columns",
                          opendata_columns_json(s), "budget", opendata_plan_json(&s->plan));

    if (!b->published[k]) {
        json_object_set_new(o, "reason",
                            json_sprintf("the noisy count is below the publish threshold %u", min));
        return o;
    }
    size_t tri = s->p * (s->p + 1) / 2;
    json_object_set_new(o, "noisy_statistics",
                        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "stage1_sum", json_ints(s->s1, s->p),
                                  "stage1_abs_sum", json_ints(s->a1, s->p), "centre",
                                  json_reals(s->m, s->p), "scale", json_reals(s->s, s->p), "sum",
                                  json_ints(s->S, s->p), "second_moments", json_ints(s->G, tri)));
    json_object_set_new(o, "model", opendata_model_json(s));
    json_object_set_new(o, "histograms", opendata_hists_json(s));
    return o;
}

static json_t *opendata_privacy_json(const struct opendata_opts *o)
{
    double rho = o->rho_milli / 1000.0, cap = o->cap_milli / 1000.0;
    json_t *split = json_object();

    for (int q = 0; q < ZCDP_Q__N; q++)
        json_object_set_new(split, zcdp_query_name[q], json_real(zcdp_share_pct[q] / 100.0));
    return json_pack(
        "{s:s,s:s,s:s,s:f,s:o,s:f,s:{s:f,s:f,s:f},s:{s:f,s:f,s:f},s:f,s:f,s:s,s:b}", "definition",
        "rho-zero-concentrated differential privacy (zCDP)", "unit",
        "the account: everything one account stores counts as one person", "neighbouring",
        "one account added or removed", "rho", rho, "split", split, "rho_cap_per_account", cap,
        "epsilon", "delta", OPENDATA_DELTA, "bun_steinke", zcdp_eps_bs(rho, OPENDATA_DELTA),
        "canonne_kamath_steinke", zcdp_eps_cks(rho, OPENDATA_DELTA), "epsilon_lifetime_cap",
        "delta", OPENDATA_DELTA, "bun_steinke", zcdp_eps_bs(cap, OPENDATA_DELTA),
        "canonne_kamath_steinke", zcdp_eps_cks(cap, OPENDATA_DELTA), "membership_auc_bound",
        zcdp_auc_bound(rho), "membership_tpr_bound_at_5pct_fpr", zcdp_tpr_bound(rho, 0.05),
        "cadence", "at most one build per calendar quarter", "cadence_ignored", o->ignore_cadence);
}

static json_t *opendata_meta(const struct build *b, const struct opendata_opts *o,
                             const struct opendata_report *r)
{
    char date[11];
    json_t *counts = json_object();

    clock_format_date(clock_now_ms(), date);
    for (int c = 0; c < 4; c++)
        json_object_set_new(counts, opendata_cell_name[c], json_integer((json_int_t)r->noisy[c]));
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:{s:i,s:i,s:f,s:i,s:s,s:i,s:i,s:i,s:i},s:o,s:{s:o,s:o},s:s}", "id",
        r->id, "date", date, "method",
        "per stratum: noisy sufficient statistics of clamped, log-transformed, norm-clipped "
        "measurement vectors (exact discrete Gaussian noise), a factor model fitted to them, "
        "and synthetic rows sampled from the model; rows of both strata shuffled together",
        "method_version", OPENDATA_METHOD_VERSION, "privacy", opendata_privacy_json(o), "mechanism",
        "q", ZCDP_Q, "c", ZCDP_C, "log_scale", DP_LOG_SCALE, "publish_threshold",
        (int)o->min_stratum, "rank_rule",
        "keep eigenvalues above 2 tau sqrt(p), tau = sigma_G / (q^2 n); shrink each kept one",
        "factor_iterations", DP_FACTOR_ITERS, "debias_steps", DP_DEBIAS_STEPS, "debias_draws",
        DP_DEBIAS_DRAWS, "histogram_bin_mm", ZCDP_BIN_MM, "noisy_counts", counts, "strata",
        "with_breasts", opendata_stratum_json(b, 0, o->min_stratum), "without_breasts",
        opendata_stratum_json(b, 1, o->min_stratum), "note",
        "Synthetic rows: fine for population statistics, sizing and grading research; no row "
        "is a person, and none is a substitute for a person's own measurements.");
}

/* ---- output ---- */

/* Uniform integers below a bound from libsodium, drawn 1,024 at a time
 * (randombytes_uniform per row was one system call per row); the
 * rejection rule is randombytes_uniform's. */
struct draws {
    uint32_t v[1024];
    size_t left;
};

static uint32_t draws_below(struct draws *d, uint32_t n)
{
    uint32_t min = (0u - n) % n, r;

    do {
        if (!d->left) {
            randombytes_buf(d->v, sizeof d->v);
            d->left = sizeof d->v / sizeof d->v[0];
        }
        r = d->v[--d->left];
    } while (r < min);
    return r % n;
}

static size_t *opendata_shuffle(size_t n)
{
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    struct draws d = {.left = 0};

    if (!ord)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = draws_below(&d, (uint32_t)i);
        size_t t = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = t;
    }
    sodium_memzero(&d, sizeof d);
    return ord;
}

/* v in decimal at o; returns the bytes written (at most 11). */
static size_t opendata_int(char *o, int32_t v)
{
    char t[12];
    size_t n = 0, k = 0;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;

    do {
        t[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        o[k++] = '-';
    while (n)
        o[k++] = t[--n];
    return k;
}

/* Synthetic row r of stratum s as one CSV line. */
static void opendata_row_out(const struct dp_stratum *s, size_t r, FILE *csv)
{
    const int32_t *y = s->rows + r * s->p;
    char line[8 + MEASURES_COUNT * 12];
    size_t j = 0, n = 0;

    memcpy(line, s->breasts ? "true" : "false", s->breasts ? 4 : 5);
    n = s->breasts ? 4 : 5;
    for (int i = 0; i < MEASURES_COUNT; i++) {
        line[n++] = ',';
        if (j < s->p && s->cols[j] == i)
            n += opendata_int(line + n, y[j++]);
    }
    line[n++] = '\n';
    fwrite(line, 1, n, csv);
}

static int opendata_rows(const struct build *b, FILE *csv)
{
    size_t n0 = b->published[0] ? b->st[0].nrows : 0, n1 = b->published[1] ? b->st[1].nrows : 0;
    size_t *ord = opendata_shuffle(n0 + n1);

    if (!ord)
        return ERR_NOMEM;
    for (size_t t = 0; t < n0 + n1; t++) {
        size_t r = ord[t];
        if (r < n0)
            opendata_row_out(&b->st[0], r, csv);
        else
            opendata_row_out(&b->st[1], r - n0, csv);
    }
    free(ord);
    return 0;
}

static int opendata_insert(struct db *db, const char *id, const char *meta, const char *csv,
                           size_t csvn)
{
    struct db_param p[] = {DB_TEXT(id), DB_INT(clock_now()), DB_TEXT(meta), DB_BLOB(csv, csvn)};
    struct db_param keep[] = {DB_TEXT(id)};
    int rc;

    if ((rc = db_begin(db)) || (rc = db_query(db, STMT_OPENDATA_INSERT, p, 4, NULL)) ||
        (rc = db_query(db, STMT_OPENDATA_PRUNE, keep, 1, NULL)) ||
        (rc = db_query(db, STMT_DP_BUILD_PUBLISH, keep, 1, NULL)) || (rc = db_commit(db)))
        db_rollback(db);
    return rc;
}

/* The release is stored as its metadata and its rows as CSV, the one
 * compact form; the JSON document is written from them on request
 * (opendata_json). Storing the JSON too cost four times the CSV in memory
 * during the build, twice over (the text and SQLite's copy of it). */
static int opendata_store(struct db *db, const struct build *b, json_t *meta, const char *id)
{
    char *csv = NULL, *meta_text = json_dumps(meta, JSON_COMPACT);
    size_t csvn = 0;
    FILE *c = open_memstream(&csv, &csvn);
    int rc = c && meta_text ? 0 : ERR_NOMEM;

    if (!rc) {
        fputs("breasts", c);
        for (int i = 0; i < MEASURES_COUNT; i++)
            fprintf(c, ",%s", measures_table[i].name);
        fputc('\n', c);
        rc = opendata_rows(b, c);
    }
    if (c && fclose(c) != 0 && !rc)
        rc = ERR_NOMEM;
    if (!rc && !csv)
        rc = ERR_NOMEM;
    if (!rc)
        rc = opendata_insert(db, id, meta_text, csv, csvn);
    free(csv);
    free(meta_text);
    return rc;
}

/* ---- the JSON document, from the stored release ---- */

/* The CSV's next field from *p (up to a comma or the end of the line at
 * end): its bytes and length; *p moves past the comma. Returns 1 when the
 * line goes on after it, 0 when it was the line's last field. */
static int csv_field(const char **p, const char *end, const char **f, size_t *n)
{
    const char *s = *p, *q = s;

    while (q < end && *q != ',' && *q != '\n')
        q++;
    *f = s;
    *n = (size_t)(q - s);
    if (q < end && *q == ',') {
        *p = q + 1;
        return 1;
    }
    *p = q < end ? q + 1 : q;
    return 0;
}

/* A cell of the rows: "true"/"false" in the first column, else empty or
 * an optional minus and digits (integer mm). */
static int csv_cell_ok(const char *f, size_t n, int first)
{
    if (first)
        return (n == 4 && memcmp(f, "true", 4) == 0) || (n == 5 && memcmp(f, "false", 5) == 0);
    size_t i = n && f[0] == '-' ? 1 : 0;
    if (n && i == n)
        return 0;
    for (; i < n; i++)
        if (f[i] < '0' || f[i] > '9')
            return 0;
    return 1;
}

/* One pass over the rows: with out NULL, count the bytes of their JSON
 * (checking the CSV); else write them. Each row is an object of its
 * non-empty cells in column order, as the build used to write it. */
static int opendata_json_rows(const char *csv, size_t csvn, const char *const *names,
                              const size_t *namen, size_t cols, char *out, size_t *len)
{
    const char *p = csv, *end = csv + csvn;
    size_t n = 0, rows = 0;

    while (p < end && *p != '\n')
        p++; /* the header */
    if (p < end)
        p++;
    while (p < end) {
        const char *f;
        size_t fn, col = 0;
        int more = 1;
        if (out)
            memcpy(out + n, rows ? ",{" : "{", rows ? 2 : 1);
        n += rows ? 2 : 1;
        for (col = 0; more; col++) {
            more = csv_field(&p, end, &f, &fn);
            if (col >= cols || !csv_cell_ok(f, fn, col == 0))
                return ERR_INTERNAL;
            if (!fn)
                continue;
            /* ,"name":value (the first without its comma) */
            size_t need = (col ? 1 : 0) + namen[col] + 3 + fn;
            if (need > SIZE_MAX / 2 - n)
                return ERR_NOMEM;
            if (out) {
                char *o = out + n;
                if (col)
                    *o++ = ',';
                *o++ = '"';
                memcpy(o, names[col], namen[col]);
                o += namen[col];
                memcpy(o, "\":", 2);
                o += 2;
                memcpy(o, f, fn);
            }
            n += need;
        }
        if (col != cols)
            return ERR_INTERNAL;
        if (out)
            out[n] = '}';
        n++;
        rows++;
    }
    *len = n;
    return 0;
}

int opendata_json(const char *meta, size_t metan, const char *csv, size_t csvn, char **out,
                  size_t *outn)
{
    static const char head[] = "{\"release\":", mid[] = ",\"rows\":[", tail[] = "]}";
    const char *names[MEASURES_COUNT + 1], *p = csv, *end = csv + csvn, *f;
    size_t namen[MEASURES_COUNT + 1], cols = 0, fn, body = 0, total;
    int more = 1, rc;

    *out = NULL;
    *outn = 0;
    /* The header names the columns ("breasts", then the vocabulary of the
     * build): plain identifiers, written into the document as they are. */
    while (more) {
        more = csv_field(&p, end, &f, &fn);
        if (cols == MEASURES_COUNT + 1 || !fn)
            return ERR_INTERNAL;
        for (size_t i = 0; i < fn; i++)
            if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= 'A' && f[i] <= 'Z')))
                return ERR_INTERNAL;
        names[cols] = f;
        namen[cols++] = fn;
    }
    if ((rc = opendata_json_rows(csv, csvn, names, namen, cols, NULL, &body)))
        return rc;
    if (!size_add(sizeof head - 1, metan, &total) || !size_add(total, sizeof mid - 1, &total) ||
        !size_add(total, body, &total) || !size_add(total, sizeof tail - 1, &total))
        return ERR_NOMEM;
    char *o = malloc(total + 1);
    if (!o)
        return ERR_NOMEM;
    size_t n = 0;
    memcpy(o, head, sizeof head - 1);
    n += sizeof head - 1;
    memcpy(o + n, meta, metan);
    n += metan;
    memcpy(o + n, mid, sizeof mid - 1);
    n += sizeof mid - 1;
    opendata_json_rows(csv, csvn, names, namen, cols, o + n, &body);
    n += body;
    memcpy(o + n, tail, sizeof tail);
    *out = o;
    *outn = total;
    return 0;
}

/* ---- the build ---- */

static int opendata_init(struct build *b, const struct opendata_opts *o)
{
    int rc;

    memset(b, 0, sizeof *b);
    for (int k = 0; k < 2; k++) {
        if ((rc = dp_stratum_init(&b->st[k], k == 0, o->rho_milli)))
            return rc;
        b->orig[k].p = b->st[k].p;
    }
    return 0;
}

static void opendata_free(struct build *b)
{
    for (int k = 0; k < 2; k++) {
        originals_wipe(&b->orig[k]);
        dp_stratum_free(&b->st[k]);
    }
    sodium_memzero(b->exact, sizeof b->exact);
}

static int opendata_publish(struct db *db, struct build *b, const struct opendata_opts *o,
                            struct opendata_report *r, char *why, size_t whyn)
{
    if (!b->published[0] && !b->published[1]) {
        snprintf(why, whyn,
                 "no stratum's noisy count reached %u; the ledger was charged and the build "
                 "counts for the cadence (noisy counts: %lld eligible with breasts, %lld without, "
                 "%lld incomplete, %lld implausible)",
                 o->min_stratum, (long long)r->noisy[OPENDATA_WITH_BREASTS],
                 (long long)r->noisy[OPENDATA_WITHOUT_BREASTS],
                 (long long)r->noisy[OPENDATA_INCOMPLETE],
                 (long long)r->noisy[OPENDATA_IMPLAUSIBLE]);
        return ERR_INVALID;
    }
    opendata_progress(o, "fitting the model and sampling the rows");
    int rc = opendata_post(b, why, whyn);
    if (rc)
        return rc;
    json_t *meta = opendata_meta(b, o, r);
    opendata_progress(o, "storing the release");
    rc = meta ? opendata_store(db, b, meta, r->id) : ERR_NOMEM;
    json_decref(meta);
    for (int k = 0; k < 2 && !rc; k++)
        r->rows[k] = b->published[k] ? b->st[k].nrows : 0;
    return rc;
}

int opendata_build(struct db *db, const struct opendata_opts *o, struct opendata_report *r,
                   char *why, size_t whyn)
{
    struct build b;
    int rc, locked = 0;

    memset(r, 0, sizeof *r);
    why[0] = 0;
    if (o->rho_milli > o->cap_milli) {
        snprintf(why, whyn, "--rho (%u.%03u) is above --rho-cap (%u.%03u)", o->rho_milli / 1000,
                 o->rho_milli % 1000, o->cap_milli / 1000, o->cap_milli % 1000);
        return ERR_INVALID;
    }
    if ((rc = opendata_init(&b, o)))
        goto out;
    if ((locked = db_try_lock(db, OPENDATA_LOCK_KEY)) != 1) {
        rc = locked < 0 ? locked : ERR_CONFLICT;
        if (locked == 0)
            snprintf(why, whyn,
                     "another atelier opendata build is running on this database (on this node "
                     "or another); this one charged nothing: run it again when that one ended");
        locked = 0;
        goto out;
    }
    if (db_backend() == DB_SQLITE && (rc = db_query(db, STMT_OPENDATA_CACHE, NULL, 0, NULL)))
        goto out;
    token_id(r->id);
    opendata_progress(o, "charging the ledger");
    if ((rc = opendata_charge(db, o, r->id, why, whyn)))
        goto out;
    opendata_progress(o, "selecting each included person's model");
    if ((rc = opendata_select(db, &b, r->id)))
        goto out;
    opendata_progress(o, "drawing the noise");
    rc = opendata_noise(&b, o, r);
    for (int k = 0; k < 2; k++)
        originals_wipe(&b.orig[k]);
    if (!rc)
        rc = opendata_publish(db, &b, o, r, why, whyn);
out:
    if (locked)
        db_unlock(db, OPENDATA_LOCK_KEY);
    if (rc && !why[0])
        snprintf(why, whyn, "%s", err_text(rc));
    opendata_free(&b);
    return rc;
}
