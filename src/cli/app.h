/*
 * app.h - what every command that touches stored data does first: create
 * the data directory, load the server key, configure storage, migrate, and
 * prove that the key is the one the database was sealed with.
 */
#ifndef ATELIER_APP_H
#define ATELIER_APP_H

#include <stdint.h>

struct config;
struct db;

/* The meta rows of the key check: under the database's key, and during a
 * rotation under the new key too (cli/rekey.c). */
#define APP_KEY_CHECK_NAME      "key_check"
#define APP_KEY_CHECK_NEXT_NAME "key_check_next"

/* What the database says about its keys: the key id of each key check (0
 * when the row is absent) and whether it opens under the loaded keys. */
struct app_key_state {
    uint32_t check_id, next_id;
    int check_opens, next_opens;
};

int app_key_state(struct db *db, struct app_key_state *st);

/* The key ids alone, nothing opened (a server's watch for a rotation). */
int app_key_ids(struct db *db, uint32_t *check_id, uint32_t *next_id);

/* Seal the key check under the write key into meta row name. */
int app_key_check_store(struct db *db, const char *name);

/* After migrations: store the key check of a new database, or prove the
 * loaded key against it; during a rotation load the new key too (see app.c).
 * Returns 0 or a negative err after logging why (ERR_FORBIDDEN: wrong key). */
int app_keys(struct db *db, const struct config *cfg);

/* Prepare storage and keys for cfg. create_key: create <data>/secret.key
 * when missing (serve, migrate). On success *db is the caller's connection
 * (close it with db_close). Returns 0 or a negative err after logging why. */
int app_open(const struct config *cfg, int create_key, struct db **db);

/* app_open without the key check (app_keys): for `atelier rekey`, which
 * judges the keys itself. */
int app_prepare(const struct config *cfg, int create_key, struct db **db);

/* Take the lock file <data_dir>/<name> (created mode 0600) for the rest of
 * the process: an exclusive flock, never waited for. Returns its descriptor
 * (close-on-exec; closing it releases the lock), -1 when another process
 * holds it, or -2 when it cannot be opened (errno says why). */
int app_lock_file(const char *data_dir, const char *name);

/* Undo app_open's global state (key wiped). */
void app_close(struct db *db);

#endif
