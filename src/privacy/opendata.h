/*
 * opendata.h - the anonymized open data release (opendata.c) and what the
 * build reports.
 */
#ifndef ATELIER_OPENDATA_H
#define ATELIER_OPENDATA_H

#include <stddef.h>

struct db;

struct opendata_report {
    size_t accounts;                /* opted-in accounts with at least one model */
    size_t incomplete;              /* their newest model misses a published column */
    size_t implausible;             /* ... or holds an implausible value */
    size_t rows_with, rows_without; /* published rows per stratum */
};

/* Build and, when every gate passes, publish a release with group size k;
 * strata with fewer than min_stratum eligible models are not published.
 * Returns 0, ERR_INVALID with the reason in why (a gate failed, or no
 * stratum is large enough: nothing is published), or another err. */
int opendata_build(struct db *db, unsigned k, unsigned min_stratum, int progress,
                   struct opendata_report *r, char *why, size_t whyn);

#endif
