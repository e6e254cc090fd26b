/*
 * driver.h - private to src/store: the interface the two storage drivers
 * implement (db_sqlite.c, db_pg.c), the headers every connection and cursor
 * starts with, and the SQL text of a statement. Nothing outside src/store
 * includes this file (tools/layers.py enforces it); callers see db.h only.
 */
#ifndef ATELIER_STORE_DRIVER_H
#define ATELIER_STORE_DRIVER_H

#include "store/db.h"

/* One statement of a batch (db_batch.c): what to run, and what it gave. */
struct db_batch_item {
    enum stmt id;
    const struct db_param *p;
    int n;
    int rc;               /* set by run_batch: ERR_OK or the statement's error */
    struct db_rows *rows; /* set by run_batch on success: a detached cursor the
                             caller frees with db_rows_free, on any thread */
    int64_t changes;      /* set by run_batch on success: rows a write changed */
};

struct db_driver {
    const char *name;
    int (*open)(const char *target, struct db **out);
    void (*close)(struct db *db);
    int (*query)(struct db *db, enum stmt id, const struct db_param *p, int n,
                 struct db_rows **rows, int64_t *changes);
    int (*exec_script)(struct db *db, const char *sql); /* migrations: several statements */
    int (*next)(struct db_rows *r);
    bool (*col_null)(struct db_rows *r, int col);
    int64_t (*col_int)(struct db_rows *r, int col);
    const void *(*col_bytes)(struct db_rows *r, int col, size_t *len);
    void (*rows_free)(struct db_rows *r);
    int (*try_lock)(struct db *db, int64_t key);
    int (*unlock)(struct db *db, int64_t key);
    int (*checkpoint)(struct db *db); /* NULL: nothing to scrub (PostgreSQL) */
    /* The driver's part of the maintenance thread's health check, after a
     * query answered (db_maint.c); NULL for none. SQLite: the file at the
     * configured path is still the one open. */
    int (*health)(struct db *db);
    /* Background upkeep on the maintenance thread's connection, after a WAL
     * hook's wake-up or once a tick (SQLite: checkpoints); NULL for none. */
    void (*maintain)(struct db *db, bool tick);
    /* Run items[0..n) (outside any transaction) in as few round trips as
     * the backend allows, each with the outcome db_query would have given
     * it: one statement's failure never undoes another's (what it rolled
     * back runs again alone). NULL when the backend has no cheaper way than
     * one by one (SQLite, in process). */
    void (*run_batch)(struct db *db, struct db_batch_item *items, int n);
};

/* db_maint.c: true once the server's maintenance thread runs. The SQLite
 * driver then leaves checkpoints to that thread on every connection it opens
 * (a WAL hook instead of wal_autocheckpoint), and wakes it through
 * db_maint_wake when the WAL has grown. */
bool db_maint_running(void);
void db_maint_wake(void);

/* Every connection struct starts with this header. read_scope is set while
 * db_read_begin's transaction is open on the connection: db.c then refuses
 * db_begin and every statement that is not a SELECT. */
struct db {
    const struct db_driver *drv;
    bool read_scope;
};

/* Every result cursor starts with this header: the connection it reads, so
 * db_next and friends can dispatch to that connection's driver. */
struct db_rows {
    struct db *db;
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* The checks every statement's parameters pass before a driver sees them
 * (db.c: a well-formed array, data behind every non-empty text or blob, no
 * NUL in text); db_batch_submit runs them too. ERR_OK or ERR_INTERNAL,
 * logged. */
int db_params_check(enum stmt id, const struct db_param *params, int n);

/* SQL of a statement for a backend (db_stmts.c). */
const char *db_stmt_sql(enum stmt id, enum db_backend b);

/* The statement only reads (its SQL starts with SELECT): what a read scope
 * allows (db.c) and what a batch need not run again (db_pg.c). */
bool db_stmt_reads(enum stmt id, enum db_backend b);

#endif
