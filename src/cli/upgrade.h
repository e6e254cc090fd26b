/*
 * upgrade.h - conversions of stored data that SQL cannot do, run by the
 * migration runner's hook (db_set_upgrade, installed by cli/app.c).
 */
#ifndef ATELIER_UPGRADE_H
#define ATELIER_UPGRADE_H

#include <stdint.h>

struct db;

/* The migration before which upgrade_seal_clear must run (issue 12). */
#define UPGRADE_SEAL_VERSION 8

/* Seal every clear accounts.username, signups.username and models.breasts
 * into the columns migration 6 added, in batches, inside the caller's
 * transaction (the migration's). Returns 0 or an enum err. */
int upgrade_seal_clear(struct db *db);

#endif
