/*
 * populate.h - the synthetic population command (populate.c).
 */
#ifndef ATELIER_POPULATE_H
#define ATELIER_POPULATE_H

struct db;

/* Create n confirmed, opted-in accounts with one synthetic model each.
 * progress: show a counter on stderr. Returns 0 or a negative err. */
int populate_run(struct db *db, unsigned n, unsigned seed, int progress);

#endif
