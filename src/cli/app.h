/*
 * app.h - what every command that touches stored data does first: create
 * the data directory, load the server key, configure storage, migrate, and
 * prove that the key is the one the database was sealed with.
 */
#ifndef ATELIER_APP_H
#define ATELIER_APP_H

struct config;
struct db;

/* Prepare storage and keys for cfg. create_key: create <data>/secret.key
 * when missing (serve, migrate). On success *db is the caller's connection
 * (close it with db_close). Returns 0 or a negative err after logging why. */
int app_open(const struct config *cfg, int create_key, struct db **db);

/* Undo app_open's global state (key wiped). */
void app_close(struct db *db);

#endif
