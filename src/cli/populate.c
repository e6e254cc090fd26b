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
 * Two threads (issue 13's speed goal: a million accounts and models in
 * about a minute): a maker thread generates person i (the body, its
 * measurements text, ids, lookups and every sealed field) into a ring of
 * POPULATE_RING slots, in order; the calling thread takes them in the same
 * order and writes them. Sealing is about a third of the work and SQLite's
 * inserts the rest, so the two overlap on two cores.
 *
 * Invariants: the rows are exactly what the API would store (sealed fields
 * bound to their ids; the account row that signup, confirmation and the
 * consent PATCH leave, in one statement), written in transactions of
 * LIMIT_POPULATE_BATCH accounts; on SQLite the connection's page cache is
 * LIMIT_POPULATE_CACHE_KIB, so that a batch's random index pages stay in
 * memory until its commit. Person i is made from the i-th draw of the seeded
 * generator whatever the threads do.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account/account.h"
#include "account/password.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/progress.h"
#include "base/seal.h"
#include "base/token.h"
#include "base/util.h"
#include "cli/populate.h"
#include "models/models.h"
#include "privacy/synth.h"
#include "store/db.h"

/* The longest measurements text: every name (at most 32 bytes) quoted, a
 * colon, a 64-bit integer and a comma, in braces. */
#define POPULATE_TEXT_MAX (MEASURES_COUNT * (32 + 4 + 20) + 3)
#define POPULATE_RING     1024 /* persons made ahead of the writer */
#define POPULATE_CHUNK    64   /* persons between two visits to the ring's lock */

/* One person, ready to insert: ids, lookups and sealed fields (malloc'd). */
struct person {
    char id[TOKEN_ID_LEN + 1], model[TOKEN_ID_LEN + 1];
    uint8_t lookup[SEAL_LOOKUP_BYTES], ulookup[SEAL_LOOKUP_BYTES];
    uint8_t *email, *username, *name, *breasts, *meas;
    size_t emailn, usernamen, namen, breastsn, measn;
};

struct populate_ctx {
    struct db *db;
    FILE *csv; /* --csv: the bodies as generated, or NULL */
    char hash[PASSWORD_HASH_MAX];
    char run[9]; /* distinguishes runs: usernames stay unique */
    int64_t now;
    unsigned n;
    struct rng rng;
    /* the ring: slot i % POPULATE_RING holds person i for made > i >= used;
     * the maker fills slots (freeing what they held), the writer reads them */
    pthread_mutex_t mu;
    pthread_cond_t more, room;
    struct person ring[POPULATE_RING];
    unsigned made, used;
    int stop;     /* the writer gave up: the maker stops */
    int make_err; /* the maker's error (it made nothing from then on) */
};

static void person_free(struct person *p)
{
    free(p->email);
    free(p->username);
    free(p->name);
    free(p->breasts);
    free(p->meas);
    memset(p, 0, sizeof *p);
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

/* The measurements as the API stores them: json_dumps(JSON_COMPACT |
 * JSON_SORT_KEYS) of an object of integers (models.c), written directly in
 * the vocabulary's order, which is the strcmp order JSON_SORT_KEYS sorts by
 * (tests/unit/test_measures.c checks the table's order). */
static int populate_measurements(struct populate_ctx *c, int *breasts, char text[POPULATE_TEXT_MAX])
{
    double v[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    size_t used = 1;

    synth_person(&c->rng, breasts, v, have);
    if (c->csv)
        populate_csv_row(c->csv, *breasts, v, have);
    text[0] = '{';
    for (int i = 0; i < MEASURES_COUNT; i++) {
        if (!have[i])
            continue;
        int k = snprintf(text + used, POPULATE_TEXT_MAX - used, "%s\"%s\":%lld",
                         used > 1 ? "," : "", measures_table[i].name, (long long)v[i]);
        if (k < 0 || (size_t)k >= POPULATE_TEXT_MAX - used)
            return ERR_INTERNAL;
        used += (size_t)k;
    }
    if (used + 2 > POPULATE_TEXT_MAX)
        return ERR_INTERNAL;
    memcpy(text + used, "}", 2);
    return 0;
}

/* Person i, made and sealed as signup and POST /v1/models would. */
static int person_make(struct populate_ctx *c, unsigned i, struct person *p)
{
    char email[96], username[POLICY_USERNAME_BUF], name[32], text[POPULATE_TEXT_MAX];
    int breasts, rc;

    person_free(p);
    snprintf(email, sizeof email, "p%s.%u@populate.invalid", c->run, i);
    snprintf(username, sizeof username, "p%s_%u", c->run, i);
    snprintf(name, sizeof name, "Synthetic body %u", i);
    token_id(p->id);
    token_id(p->model);
    account_email_lookup(email, p->lookup);
    if ((rc = populate_measurements(c, &breasts, text)) ||
        (rc = seal_text("accounts.email", p->id, email, &p->email, &p->emailn)) ||
        (rc = account_username_seal(p->id, username, p->ulookup, &p->username, &p->usernamen)) ||
        (rc = seal_text("models.name", p->model, name, &p->name, &p->namen)) ||
        (rc = seal_text("models.measurements", p->model, text, &p->meas, &p->measn)) ||
        (rc = models_breasts_seal(p->model, breasts, &p->breasts, &p->breastsn)))
        person_free(p);
    sodium_memzero(text, sizeof text);
    return rc;
}

static int person_insert(struct populate_ctx *c, const struct person *p)
{
    struct db_param a[] = {DB_TEXT(p->id),
                           DB_BLOB(p->lookup, sizeof p->lookup),
                           DB_BLOB(p->email, p->emailn),
                           DB_BLOB(p->ulookup, sizeof p->ulookup),
                           DB_BLOB(p->username, p->usernamen),
                           DB_TEXT(c->hash),
                           DB_INT(c->now)};
    struct db_param m[] = {DB_TEXT(p->model),
                           DB_TEXT(p->id),
                           DB_BLOB(p->name, p->namen),
                           DB_NULL,
                           DB_BLOB(p->breasts, p->breastsn),
                           DB_BLOB(p->meas, p->measn),
                           DB_INT(c->now)};
    int rc = db_query(c->db, STMT_POPULATE_ACCOUNT, a, 7, NULL);

    return rc ? rc : db_query(c->db, STMT_MODEL_INSERT, m, 7, NULL);
}

/* ---- the ring ---- */

/* The maker publishes what it made and looks for room every POPULATE_CHUNK
 * persons, and before it waits; the writer hands slots back likewise. Each
 * publishes before waiting, so they cannot both wait: the writer waits with
 * used == i >= made, the maker with made - used >= POPULATE_RING. */
static void *populate_maker(void *arg)
{
    struct populate_ctx *c = arg;
    unsigned i = 0, room = 0; /* room: used + POPULATE_RING, as last seen */
    int rc = 0, stop = 0;

    for (; i < c->n; i++) {
        if (i >= room || i % POPULATE_CHUNK == 0) {
            pthread_mutex_lock(&c->mu);
            c->made = i;
            pthread_cond_signal(&c->more);
            while (!c->stop && i - c->used >= POPULATE_RING)
                pthread_cond_wait(&c->room, &c->mu);
            room = c->used + POPULATE_RING;
            stop = c->stop;
            pthread_mutex_unlock(&c->mu);
            if (stop)
                break;
        }
        /* slot i % POPULATE_RING held person i - POPULATE_RING, written */
        if ((rc = person_make(c, i, &c->ring[i % POPULATE_RING])))
            break;
    }
    pthread_mutex_lock(&c->mu);
    c->made = i;
    c->make_err = rc;
    pthread_cond_signal(&c->more);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The writer at person i: hand back the slots before i, wait until person i
 * is made; *avail: the persons made so far. 0 or the maker's error. */
static int populate_sync(struct populate_ctx *c, unsigned i, unsigned *avail)
{
    int rc;

    pthread_mutex_lock(&c->mu);
    c->used = i;
    pthread_cond_signal(&c->room);
    while (c->made <= i && !c->make_err)
        pthread_cond_wait(&c->more, &c->mu);
    *avail = c->made;
    rc = c->made > i ? 0 : c->make_err;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int populate_batch(struct populate_ctx *c, unsigned from, unsigned to, unsigned *avail)
{
    int rc = db_begin(c->db);

    for (unsigned i = from; !rc && i < to; i++) {
        if (i >= *avail || i % POPULATE_CHUNK == 0)
            rc = populate_sync(c, i, avail);
        if (!rc)
            rc = person_insert(c, &c->ring[i % POPULATE_RING]);
    }
    if (rc) {
        db_rollback(c->db);
        return rc;
    }
    return db_commit(c->db);
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

static int populate_all(struct populate_ctx *c, int progress)
{
    pthread_t maker;
    unsigned avail = 0;
    int rc = 0;

    if (pthread_create(&maker, NULL, populate_maker, c) != 0)
        return ERR_NOMEM;
    for (unsigned from = 0; from < c->n && !rc; from += LIMIT_POPULATE_BATCH) {
        unsigned to = c->n - from > LIMIT_POPULATE_BATCH ? from + LIMIT_POPULATE_BATCH : c->n;
        if ((rc = populate_batch(c, from, to, &avail)))
            break;
        if (progress && to == c->n) /* the last count always shows, however soon */
            progress_step("atelier populate: %u of %u accounts created", to, c->n);
        else if (progress)
            progress_update("atelier populate: %u of %u accounts created", to, c->n);
    }
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->room);
    pthread_mutex_unlock(&c->mu);
    pthread_join(maker, NULL);
    for (unsigned k = 0; k < POPULATE_RING; k++)
        person_free(&c->ring[k]);
    progress_end();
    return rc;
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
    struct populate_ctx *c = calloc(1, sizeof *c);
    unsigned char run[4];
    int rc;

    if (!c)
        return ERR_NOMEM;
    c->db = db;
    c->now = clock_now();
    c->n = n;
    rng_seed(&c->rng, seed);
    randombytes_buf(run, sizeof run);
    util_hex(run, sizeof run, c->run);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->more, NULL);
    pthread_cond_init(&c->room, NULL);
    if (csv && csv[0] && !(c->csv = populate_csv_open(csv))) {
        rc = ERR_INVALID;
        goto out;
    }
    if ((rc = populate_hash(c->hash)))
        goto out;
    if (db_backend() == DB_SQLITE && (rc = db_query(db, STMT_POPULATE_CACHE, NULL, 0, NULL)))
        goto out;
    rc = populate_all(c, progress);
out:
    if (c->csv && fclose(c->csv) != 0 && !rc)
        rc = ERR_INTERNAL;
    pthread_cond_destroy(&c->room);
    pthread_cond_destroy(&c->more);
    pthread_mutex_destroy(&c->mu);
    sodium_memzero(c->hash, sizeof c->hash);
    free(c);
    return rc;
}
