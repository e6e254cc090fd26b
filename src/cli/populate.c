/*
 * populate.c - `atelier populate --models N [--seed S]`: a synthetic,
 * realistic population for demos, tests and benchmarks.
 *
 * Each of the N accounts is confirmed, has open-data consent, and owns one
 * model, synth_person of privacy/synth.c: with or without breasts at even
 * odds, 85 % complete for its stratum, 15 % sparse. Bodies depend only on
 * the seed. Accounts get addresses under populate.invalid (never
 * deliverable) and share one hash of a random password nobody knows, so
 * they can be counted but not logged into (hashing N passwords would take
 * N x 15 ms for nothing).
 *
 * --csv FILE writes the bodies as generated (synthetic, nobody's), so that
 * tests can compare a release with the population it was built from.
 *
 * Invariant: the rows are exactly what the API would store (sealed fields
 * bound to their ids), written in transactions of POPULATE_BATCH.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account/account.h"
#include "base/seal.h"
#include "base/clock.h"
#include "store/db.h"
#include "base/err.h"
#include "account/password.h"
#include "cli/populate.h"
#include "models/models.h"
#include "privacy/synth.h"
#include "base/policy.h"
#include "base/token.h"
#include "base/util.h"

#define POPULATE_BATCH 500

struct populate_ctx {
    struct db *db;
    FILE *csv; /* --csv: the bodies as generated, or NULL */
    char hash[PASSWORD_HASH_MAX];
    char run[9]; /* distinguishes runs: usernames stay unique */
    int64_t now;
};

static int populate_account(struct populate_ctx *c, unsigned i, char id[TOKEN_ID_LEN + 1])
{
    char email[96], username[POLICY_USERNAME_BUF];
    uint8_t lookup[SEAL_LOOKUP_BYTES], ulookup[SEAL_LOOKUP_BYTES], *box = NULL, *ubox = NULL;
    size_t boxn = 0, uboxn = 0;
    int rc;

    snprintf(email, sizeof email, "p%s.%u@populate.invalid", c->run, i);
    snprintf(username, sizeof username, "p%s_%u", c->run, i);
    token_id(id);
    account_email_lookup(email, lookup);
    if ((rc = seal_text("accounts.email", id, email, &box, &boxn)) ||
        (rc = account_username_seal(id, username, ulookup, &ubox, &uboxn)))
        goto out;
    struct db_param a[] = {DB_TEXT(id),          DB_BLOB(lookup, sizeof lookup),
                           DB_BLOB(box, boxn),   DB_BLOB(ulookup, sizeof ulookup),
                           DB_BLOB(ubox, uboxn), DB_TEXT(c->hash),
                           DB_INT(c->now)};
    struct db_param consent[] = {DB_TEXT(id), DB_INT(1), DB_INT(c->now)};
    rc = db_query(c->db, STMT_ACCOUNT_INSERT, a, 7, NULL);
    if (!rc)
        rc = db_query(c->db, STMT_ACCOUNT_SET_CONSENT, consent, 3, NULL);
out:
    free(box);
    free(ubox);
    return rc;
}

/* One body as a CSV line: breasts, then every measurement (empty when the
 * body has none), as the open data release lays its rows out. */
static void populate_csv_row(FILE *f, int breasts, const double *v, const unsigned char *have)
{
    fputs(breasts ? "true" : "false", f);
    for (int i = 0; i < MEASURES_COUNT; i++)
        if (have[i])
            fprintf(f, ",%.0f", v[i]);
        else
            fputc(',', f);
    fputc('\n', f);
}

static char *populate_measurements(struct populate_ctx *c, struct rng *r, int *breasts)
{
    double v[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    json_t *o = json_object();

    synth_person(r, breasts, v, have);
    if (c->csv)
        populate_csv_row(c->csv, *breasts, v, have);
    for (int i = 0; i < MEASURES_COUNT; i++)
        if (have[i])
            json_object_set_new(o, measures_table[i].name, json_integer((json_int_t)v[i]));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static int populate_model(struct populate_ctx *c, struct rng *r, unsigned i, const char *owner)
{
    char id[TOKEN_ID_LEN + 1], name[32];
    uint8_t *nb = NULL, *mb = NULL, *bb = NULL;
    size_t nn = 0, mn = 0, bn = 0;
    int breasts, rc;
    char *text = populate_measurements(c, r, &breasts);

    if (!text)
        return ERR_NOMEM;
    token_id(id);
    snprintf(name, sizeof name, "Synthetic body %u", i);
    if (!(rc = seal_text("models.name", id, name, &nb, &nn)) &&
        !(rc = seal_text("models.measurements", id, text, &mb, &mn)) &&
        !(rc = models_breasts_seal(id, breasts, &bb, &bn))) {
        struct db_param p[] = {DB_TEXT(id),     DB_TEXT(owner),  DB_BLOB(nb, nn), DB_NULL,
                               DB_BLOB(bb, bn), DB_BLOB(mb, mn), DB_INT(c->now)};
        rc = db_query(c->db, STMT_MODEL_INSERT, p, 7, NULL);
    }
    free(bb);
    free(text);
    free(nb);
    free(mb);
    return rc;
}

static int populate_batch(struct populate_ctx *c, struct rng *r, unsigned from, unsigned to)
{
    char id[TOKEN_ID_LEN + 1];
    int rc = db_begin(c->db);

    for (unsigned i = from; !rc && i < to; i++) {
        rc = populate_account(c, i, id);
        if (!rc)
            rc = populate_model(c, r, i, id);
    }
    if (rc) {
        db_rollback(c->db);
        return rc;
    }
    rc = db_commit(c->db);
    return rc;
}

static int populate_hash(char out[PASSWORD_HASH_MAX])
{
    char pw[33];
    unsigned char b[16];

    randombytes_buf(b, sizeof b);
    util_hex(b, sizeof b, pw);
    sodium_memzero(b, sizeof b);
    int rc = password_hash(pw, strlen(pw), out);
    sodium_memzero(pw, sizeof pw);
    return rc;
}

static int populate_all(struct populate_ctx *c, unsigned n, unsigned seed, int progress)
{
    unsigned char run[4];
    struct rng rng, *r = &rng;
    int rc;

    rng_seed(r, seed);
    randombytes_buf(run, sizeof run);
    util_hex(run, sizeof run, c->run);
    if ((rc = populate_hash(c->hash)))
        return rc;
    for (unsigned from = 0; from < n; from += POPULATE_BATCH) {
        unsigned to = n - from > POPULATE_BATCH ? from + POPULATE_BATCH : n;
        if ((rc = populate_batch(c, r, from, to)))
            return rc;
        if (progress)
            fprintf(stderr, "\rpopulate: %u/%u accounts", to, n);
    }
    if (progress)
        fputc('\n', stderr);
    return 0;
}

static FILE *populate_csv_open(const char *path)
{
    FILE *f = path && path[0] ? fopen(path, "w") : NULL;

    if (f) {
        fputs("breasts", f);
        for (int i = 0; i < MEASURES_COUNT; i++)
            fprintf(f, ",%s", measures_table[i].name);
        fputc('\n', f);
    }
    return f;
}

int populate_run(struct db *db, unsigned n, unsigned seed, const char *csv, int progress)
{
    struct populate_ctx c = {.db = db, .now = clock_now()};
    int rc;

    if (csv && csv[0] && !(c.csv = populate_csv_open(csv)))
        return ERR_INVALID;
    rc = populate_all(&c, n, seed, progress);
    if (c.csv && fclose(c.csv) != 0 && !rc)
        rc = ERR_INTERNAL;
    return rc;
}
