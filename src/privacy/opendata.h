/*
 * opendata.h - `atelier opendata build`: the differentially private open data
 * release (opendata.c; the design in docs/OPENDATA.md).
 */
#ifndef ATELIER_OPENDATA_H
#define ATELIER_OPENDATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/token.h"

struct db;

/* Advisory lock key of a running build ("atlopdat"): one build at a time
 * across nodes (PostgreSQL; on SQLite `atelier opendata build` also locks
 * <data>/opendata.lock). */
#define OPENDATA_LOCK_KEY INT64_C(0x61746c6f70646174)

struct opendata_opts {
    unsigned rho_milli;   /* budget of this release per person (250: rho = 0.25) */
    unsigned cap_milli;   /* lifetime budget per account (<= 1000) */
    unsigned min_stratum; /* publish a stratum from this noisy count on */
    int ignore_cadence;   /* build even if this quarter already has a build */
    int progress;         /* say each step on stderr */
};

/* What a build tells its operator: DP outputs only, never an exact count. */
enum opendata_cell {
    OPENDATA_INCOMPLETE = 0,
    OPENDATA_IMPLAUSIBLE = 1,
    OPENDATA_WITH_BREASTS = 2,
    OPENDATA_WITHOUT_BREASTS = 3,
};

struct opendata_report {
    char id[TOKEN_ID_LEN + 1];
    int noise_drawn;  /* the ledger was charged and the quarter's build spent */
    int64_t noisy[4]; /* noisy counts per enum opendata_cell */
    size_t rows[2];   /* published rows: [0] with breasts, [1] without */
};

/* Build a release: check the cadence, charge every included account's ledger,
 * draw the noise, fit, sample and publish the strata whose noisy count
 * reaches min_stratum, holding OPENDATA_LOCK_KEY throughout. Returns 0;
 * ERR_CONFLICT (this quarter already has a build, or another build holds
 * the lock: nothing done, why says which); ERR_INVALID with the reason in why (noise drawn but
 * no stratum published, or bad options); or another err. */
int opendata_build(struct db *db, const struct opendata_opts *o, struct opendata_report *r,
                   char *why, size_t whyn);

/* The document GET /v1/opendata/measurements.json serves, from what a
 * release stores (its metadata text and its rows as CSV):
 * {"release":META,"rows":[{"breasts":true,"ankle":245,...},...]}, each row
 * an object of its non-empty cells in the CSV's column order. *out is
 * malloc'd (*outn bytes, then a NUL). Returns 0, ERR_INTERNAL when the CSV
 * is not a release's, or ERR_NOMEM. */
int opendata_json(const char *meta, size_t metan, const char *csv, size_t csvn, char **out,
                  size_t *outn);

/* When the current release was published (Unix seconds) into *at, -1 when
 * there is none, for /metrics. Returns 0 or an err. */
int opendata_published(struct db *db, int64_t *at);

/* The quarter index of a time (seconds): year * 4 + quarter - 1, UTC. */
int64_t opendata_quarter(int64_t t);

#endif
