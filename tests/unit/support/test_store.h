/*
 * test_store.h - a migrated SQLite database in a fresh directory under
 * $ATELIER_TEST_TMP (or /tmp), with the seal key loaded: the set-up of the
 * unit tests that need storage. Tests only.
 */
#ifndef ATELIER_TEST_STORE_H
#define ATELIER_TEST_STORE_H

#include <limits.h>

struct db;

/* Create DIR/<tag>-XXXXXX, load key_hex, open and migrate the database
 * there. dir receives the directory. Returns 0 or -1. */
int test_store_open(const char *tag, const char *key_hex, char dir[PATH_MAX], struct db **db);

/* Close the database, forget the key, remove the directory. 0 or -1. */
int test_store_close(struct db *db, const char *dir);

#endif
