/*
 * populate.h - the synthetic population command (populate.c).
 */
#ifndef ATELIER_POPULATE_H
#define ATELIER_POPULATE_H

struct db;

/* Create n confirmed, opted-in accounts with one synthetic model each.
 * csv: a file to write the bodies to as generated (NULL or "": none).
 * progress: show a counter on stderr. Returns 0, ERR_INVALID (the file
 * cannot be created) or another negative err. */
int populate_run(struct db *db, unsigned n, unsigned seed, const char *csv, int progress);

#endif
