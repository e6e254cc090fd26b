/*
 * db.h - storage: one small interface, two implementations.
 *
 * Callers name a prepared statement by its enum stmt (db_stmts.h), pass typed
 * parameters and read typed columns. The SQL text lives once, in db_stmts.c,
 * written with PostgreSQL's $1..$N placeholders; the SQLite driver rewrites
 * them to ?1..?N when it prepares. No SQL is ever built from input.
 *
 *   db.c          dispatch, per-thread connections, migrations runner
 *   db_sqlite.c   SQLite: WAL, synchronous=NORMAL, secure_delete=ON,
 *                 busy_timeout, foreign_keys, defensive; statement cache
 *   db_pg.c       PostgreSQL via libpq; statements prepared once per
 *                 connection, binary results; run_batch sends a batch
 *                 as one pipeline
 *   db_batch.c    the storage batcher (below)
 *
 * Column types are restricted to what both handle identically: 64-bit
 * integers (booleans are 0/1, times are Unix seconds), UTF-8 text, and blobs.
 *
 * A connection belongs to one thread. db_thread() hands each thread its own,
 * opened on first use and closed when the thread exits.
 *
 * At most one result (struct db_rows) may be open per connection at a time;
 * db_rows_free() must be called before the next db_query on that connection.
 */
#ifndef ATELIER_DB_H
#define ATELIER_DB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include "base/err.h"
#include "store/db_stmts.h"

enum db_backend { DB_SQLITE = 0, DB_POSTGRES = 1 };

/* Results are enum err (base/err.h), one error space with the rest of the
 * server: ERR_OK; ERR_CONFLICT for a unique or foreign-key violation;
 * ERR_BUSY for a lock timeout or serialization failure (retry);
 * ERR_READONLY for a read-only or full database; ERR_STORAGE_DOWN when the
 * connection is lost or cannot be opened; ERR_INTERNAL for anything else
 * (logged). Callers pass them on unchanged. */

enum db_type { DB_TNULL = 0, DB_TINT, DB_TTEXT, DB_TBLOB };

struct db_param {
    enum db_type type;
    int64_t i;
    const void *p;
    size_t n;
};

#define DB_INT(v)        ((struct db_param){.type = DB_TINT, .i = (int64_t)(v)})
#define DB_TEXT(s)       ((struct db_param){.type = DB_TTEXT, .p = (s), .n = strlen(s)})
#define DB_TEXTN(s, len) ((struct db_param){.type = DB_TTEXT, .p = (s), .n = (len)})
#define DB_BLOB(b, len)  ((struct db_param){.type = DB_TBLOB, .p = (b), .n = (len)})
#define DB_NULL          ((struct db_param){.type = DB_TNULL})

struct db;
struct db_rows;

/* Settings shared by all connections; set once before any thread opens one.
 * url: "" or NULL for SQLite at <data_dir>/atelier.db, else a postgresql://
 * or postgres:// URL (or libpq "key=value" string starting with "host="). */
int db_configure(const char *url, const char *data_dir);

enum db_backend db_backend(void);

/* Open a new connection with the configured settings. */
int db_open(struct db **out);
void db_close(struct db *db);

/* The calling thread's connection (opened on first use); NULL when it cannot
 * be opened (logged). Closed automatically at thread exit. */
struct db *db_thread(void);

/* Close the calling thread's connection now (e.g. before fork or exit). */
void db_thread_close(void);

/* Run a statement. rows may be NULL when no result is wanted; otherwise
 * *rows receives a cursor to read with db_next and free with db_rows_free.
 * Returns ERR_OK or a enum err. */
int db_query(struct db *db, enum stmt id, const struct db_param *params, int n,
             struct db_rows **rows);

/* Statements run by this process since it started, on every connection
 * (for the metrics: on PostgreSQL each one is a round trip). */
uint64_t db_statements(void);

/* Shorthand: run a statement with no result wanted; returns the number of
 * rows changed (>= 0) or a enum err. */
int64_t db_exec(struct db *db, enum stmt id, const struct db_param *params, int n);

/* Advance to the next row: 1 when a row is there, 0 at the end, or a enum err. */
int db_next(struct db_rows *r);
bool db_col_null(struct db_rows *r, int col);
int64_t db_col_int(struct db_rows *r, int col);
/* Text and blob pointers stay valid until the next db_next or db_rows_free. */
const char *db_col_text(struct db_rows *r, int col, size_t *len);
const void *db_col_blob(struct db_rows *r, int col, size_t *len);
void db_rows_free(struct db_rows *r);

/* Transactions. db_begin takes the write lock at once (SQLite BEGIN
 * IMMEDIATE) so read-then-write transactions cannot deadlock. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* A read scope on the calling thread's connection: on SQLite, one deferred
 * transaction so that several reads of one request share one snapshot and
 * one WAL read lock (each implicit transaction costs a stat, two fcntl
 * locks and a contended mutex). Nothing on PostgreSQL, where BEGIN and
 * COMMIT would add two round trips. db_read_end must follow on the same
 * thread. Returns 1 when a scope was opened, 0 otherwise (also when one is
 * already open). Inside the scope only SELECT statements run: db_begin and
 * every write on that connection return ERR_INTERNAL (a bug, logged). */
int db_read_begin(void);
void db_read_end(void);

/* A step of the program run inside each migration's transaction, before
 * its SQL, with the version about to be applied: the conversions SQL cannot
 * do (sealing values under the server key). Returns 0 or an enum err, which
 * rolls the migration back. Set it before db_migrate; NULL for none. */
typedef int (*db_upgrade_fn)(struct db *db, int64_t version);
void db_set_upgrade(db_upgrade_fn fn);

/* Bring the schema to the latest version (idempotent; safe to run from
 * several nodes at once on PostgreSQL, serialised by an advisory lock).
 * *applied receives the number of migrations applied (may be NULL). */
int db_migrate(struct db *db, int *applied);

/* Current schema version, or a enum err. */
int db_schema_version(struct db *db);

/* The schema version this program's migrations reach. */
int db_schema_latest(void);

/* Open a connection to a database other than the configured one (the copy
 * of `atelier migrate --from --to`): "sqlite:PATH" (the database file; it is
 * created when missing: the caller checks first if it must exist) or a
 * PostgreSQL URL as db_configure takes. The configuration is not changed;
 * the connection works with every function taking a struct db. Returns
 * ERR_OK, ERR_INVALID for another form (not logged: it may hold a password),
 * or the driver's error. */
int db_open_url(const char *url, struct db **out);

/* After erasing personal data: on SQLite, checkpoint and truncate the WAL so
 * that no copy of an erased page outlives the erasure (secure_delete clears
 * the pages of the database file itself). No-op on PostgreSQL. Never waits:
 * returns ERR_OK (the WAL is empty) or ERR_BUSY when a reader or writer holds
 * it (or a transaction is open on db); the caller retries later
 * (privacy/erase.c: erase_scrub). */
int db_checkpoint(struct db *db);

/* The server's storage maintenance thread (db_maint.c). Every
 * LIMIT_HEALTH_POLL_MS it checks that the database answers and keeps the
 * result for db_health; on SQLite it also runs the WAL checkpoints, so that
 * request threads never do (db_sqlite.c). Start it before any other thread
 * opens a connection; stop it at shutdown. */
int db_maint_start(void);
void db_maint_stop(void);

/* The database's health as of the last check (no storage work): ERR_OK, or
 * ERR_STORAGE_DOWN when the last check failed. Without the maintenance
 * thread (commands, unit tests) it checks now on the calling thread. */
int db_health(void);

/* The storage batcher (db_batch.c): statements of threads that must not
 * wait for them, sent together on one connection (PostgreSQL: one pipeline,
 * one round trip and one commit per batch; a statement's outcome is still
 * its own). Started by `atelier serve` on PostgreSQL
 * (db_batch_start does nothing on SQLite, where a statement costs no round
 * trip); stopped before the HTTP daemon: db_batch_stop answers every queued
 * job first.
 *
 * db_batch_submit copies the parameters and returns ERR_OK when the job is
 * queued: done(arg, rc, rows, changes) is then called exactly once, on the
 * batch thread, with what db_query (rows) and db_exec (changes) would have
 * given (rows, possibly empty, only when rc is ERR_OK; the callee frees them
 * with db_rows_free, on any thread). Any other
 * return (not running, queue full, out of memory) queued nothing: the caller
 * runs the statement itself. db_batch_running is a cheap hint for callers
 * that would otherwise prepare a job in vain. db_batch_counts: batches sent
 * and the statements they carried, since start-up (for /metrics). */
typedef void (*db_batch_done_fn)(void *arg, int rc, struct db_rows *rows, int64_t changes);
int db_batch_start(void);
void db_batch_stop(void);
bool db_batch_running(void);
int db_batch_submit(enum stmt id, const struct db_param *p, int n, db_batch_done_fn done,
                    void *arg);
void db_batch_counts(uint64_t *batches, uint64_t *statements);

/* Try to take the cluster-wide lock named by key (PostgreSQL advisory lock,
 * session level); on SQLite always succeeds. 1 taken, 0 held elsewhere. */
int db_try_lock(struct db *db, int64_t key);
int db_unlock(struct db *db, int64_t key);

#endif
