/*
 * db.c - the storage front end: configuration, dispatch to the configured
 * driver, per-thread connections and the migrations runner.
 *
 * Invariants:
 *  - db_configure runs once, before any connection is opened; afterwards the
 *    backend, driver and target (SQLite path or PostgreSQL URL) are read-only,
 *    so threads read them without locking. The target may hold a password and
 *    is never logged.
 *  - Every connection and every result cursor starts with a header naming
 *    its driver (struct db, struct db_rows), so dispatch never depends on the
 *    global configuration once a connection is open.
 *  - A thread's connection (db_thread) lives in a pthread key whose
 *    destructor closes it when the thread exits. The main thread's key
 *    destructor does not run at exit(): call db_thread_close() first.
 *  - Text parameters never contain NUL bytes (PostgreSQL cannot store them;
 *    refusing them here keeps the two backends identical).
 *  - db_migrate applies each pending migration in its own transaction that
 *    first takes the migrations lock (PostgreSQL: transaction-level advisory
 *    lock DB_MIGRATE_LOCK_KEY; SQLite: BEGIN IMMEDIATE is the lock), then
 *    creates schema_migrations if needed, re-reads the version and applies
 *    the next migration above it. Several processes may migrate at once: the
 *    later ones find nothing left to do. The upgrade hook (db_set_upgrade)
 *    runs in that transaction, before the migration's SQL.
 *  - Inside a read scope (db_read_begin .. db_read_end) a connection runs
 *    SELECT statements only: db_begin and every write are refused with
 *    ERR_INTERNAL and a "BUG:" log line, so a write can never nest in (and
 *    fail inside, or be committed by) a deferred read transaction.
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "store/driver.h"
#include "store/db_schema.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"

/* Advisory lock key serialising migrations on PostgreSQL ("atlmigr1"). Do
 * not use it with db_try_lock. */
#define DB_MIGRATE_LOCK_KEY INT64_C(0x61746c6d69677231)

#define DB_TARGET_MAX 4096

static struct {
    bool configured;
    enum db_backend backend;
    const struct db_driver *drv;
    char target[DB_TARGET_MAX];
} db_cfg;

static db_upgrade_fn db_upgrade; /* set before db_migrate, read-only after */

static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t db_key;
static int db_key_rc = -1;

static bool str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int db_configure(const char *url, const char *data_dir)
{
    int rc = ERR_INVALID;
    int n;

    db_cfg.configured = false;
    if (url == NULL || url[0] == '\0') {
        if (data_dir == NULL || data_dir[0] == '\0') {
            log_error("db", "no data directory for the SQLite database");
            goto out;
        }
        n = snprintf(db_cfg.target, sizeof db_cfg.target, "%s/atelier.db", data_dir);
        if (n < 0 || (size_t)n >= sizeof db_cfg.target) {
            log_error("db", "data directory path too long");
            goto out;
        }
        db_cfg.backend = DB_SQLITE;
        db_cfg.drv = &db_sqlite_driver;
    } else if (str_starts(url, "postgresql://") || str_starts(url, "postgres://") ||
               str_starts(url, "host=")) {
        if (util_strlcpy(db_cfg.target, url, sizeof db_cfg.target) != 0) {
            log_error("db", "database URL too long");
            goto out;
        }
        db_cfg.backend = DB_POSTGRES;
        db_cfg.drv = &db_pg_driver;
    } else {
        /* Not logged: the URL may carry a password. */
        log_error("db", "unsupported database URL (expected postgresql://, postgres:// or "
                        "host=...)");
        goto out;
    }
    db_cfg.configured = true;
    rc = 0;
out:
    return rc;
}

enum db_backend db_backend(void)
{
    return db_cfg.backend;
}

int db_open(struct db **out)
{
    *out = NULL;
    if (!db_cfg.configured) {
        log_error("db", "db_open before db_configure");
        return ERR_INTERNAL;
    }
    return db_cfg.drv->open(db_cfg.target, out);
}

void db_close(struct db *db)
{
    if (db != NULL)
        db->drv->close(db);
}

/* ---- per-thread connections ---- */

static void db_key_destroy(void *p)
{
    db_close(p);
}

static void db_key_init(void)
{
    db_key_rc = pthread_key_create(&db_key, db_key_destroy);
}

struct db *db_thread(void)
{
    struct db *db = NULL;

    if (pthread_once(&db_key_once, db_key_init) != 0 || db_key_rc != 0) {
        log_error("db", "cannot create the per-thread connection key");
        return NULL;
    }
    db = pthread_getspecific(db_key);
    if (db != NULL)
        return db;
    if (db_open(&db) != ERR_OK)
        return NULL;
    if (pthread_setspecific(db_key, db) != 0) {
        log_error("db", "cannot store the thread's connection");
        db_close(db);
        return NULL;
    }
    return db;
}

void db_thread_close(void)
{
    struct db *db;

    if (pthread_once(&db_key_once, db_key_init) != 0 || db_key_rc != 0)
        return;
    db = pthread_getspecific(db_key);
    if (db == NULL)
        return;
    (void)pthread_setspecific(db_key, NULL);
    db_close(db);
}

/* ---- statements and results ---- */

int db_params_check(enum stmt id, const struct db_param *params, int n)
{
    int i;

    if (n < 0 || (n > 0 && params == NULL)) {
        log_error("db", "statement %d: bad parameter array", (int)id);
        return ERR_INTERNAL;
    }
    for (i = 0; i < n; i++) {
        if (params[i].type != DB_TTEXT && params[i].type != DB_TBLOB)
            continue;
        if (params[i].n > 0 && params[i].p == NULL) {
            log_error("db", "statement %d: parameter %d has no data", (int)id, i + 1);
            return ERR_INTERNAL;
        }
        if (params[i].type == DB_TTEXT && params[i].n > 0 &&
            memchr(params[i].p, '\0', params[i].n) != NULL) {
            log_error("db", "statement %d: text parameter %d contains NUL", (int)id, i + 1);
            return ERR_INTERNAL;
        }
    }
    return ERR_OK;
}

static enum db_backend conn_backend(const struct db *db);

/* Inside a read scope only SELECT statements run (see the invariants). */
static int scope_check(struct db *db, enum stmt id)
{
    if (!db->read_scope || db_stmt_reads(id, conn_backend(db)))
        return ERR_OK;
    log_error("db", "BUG: statement %d refused inside a read scope", (int)id);
    return ERR_INTERNAL;
}

static atomic_uint_fast64_t db_statement_count;

uint64_t db_statements(void)
{
    return atomic_load_explicit(&db_statement_count, memory_order_relaxed);
}

/* The checks every statement passes, then the driver. */
static int db_run(struct db *db, enum stmt id, const struct db_param *params, int n,
                  struct db_rows **rows, int64_t *changes)
{
    int rc;

    if (db == NULL)
        return ERR_STORAGE_DOWN;
    if ((rc = db_params_check(id, params, n)) != ERR_OK || (rc = scope_check(db, id)) != ERR_OK)
        return rc;
    atomic_fetch_add_explicit(&db_statement_count, 1, memory_order_relaxed);
    return db->drv->query(db, id, params, n, rows, changes);
}

int db_query(struct db *db, enum stmt id, const struct db_param *params, int n,
             struct db_rows **rows)
{
    int64_t changes = 0;

    if (rows != NULL)
        *rows = NULL;
    return db_run(db, id, params, n, rows, &changes);
}

int64_t db_exec(struct db *db, enum stmt id, const struct db_param *params, int n)
{
    int64_t changes = 0;
    int rc = db_run(db, id, params, n, NULL, &changes);

    return rc < 0 ? rc : changes;
}

int db_next(struct db_rows *r)
{
    if (r == NULL)
        return ERR_INTERNAL;
    return r->db->drv->next(r);
}

bool db_col_null(struct db_rows *r, int col)
{
    if (r == NULL)
        return true;
    return r->db->drv->col_null(r, col);
}

int64_t db_col_int(struct db_rows *r, int col)
{
    if (r == NULL)
        return 0;
    return r->db->drv->col_int(r, col);
}

/* Bytes of a column: NULL for SQL NULL (or a bad column), otherwise never
 * NULL (empty values give ""), *len set either way. */
static const void *col_bytes(struct db_rows *r, int col, size_t *len)
{
    const void *p = NULL;
    size_t n = 0;

    if (r != NULL && !r->db->drv->col_null(r, col)) {
        p = r->db->drv->col_bytes(r, col, &n);
        if (p == NULL) {
            p = "";
            n = 0;
        }
    }
    if (len != NULL)
        *len = n;
    return p;
}

const char *db_col_text(struct db_rows *r, int col, size_t *len)
{
    return col_bytes(r, col, len);
}

const void *db_col_blob(struct db_rows *r, int col, size_t *len)
{
    return col_bytes(r, col, len);
}

void db_rows_free(struct db_rows *r)
{
    if (r != NULL)
        r->db->drv->rows_free(r);
}

/* ---- transactions ---- */

static int exec_status(struct db *db, enum stmt id)
{
    int64_t rc = db_exec(db, id, NULL, 0);
    return rc < 0 ? (int)rc : ERR_OK;
}

int db_begin(struct db *db)
{
    return exec_status(db, STMT_BEGIN);
}

int db_read_begin(void)
{
    struct db *db;

    if (db_backend() != DB_SQLITE || !(db = db_thread()) || db->read_scope)
        return 0;
    if (exec_status(db, STMT_BEGIN_READ) != ERR_OK)
        return 0;
    db->read_scope = true;
    return 1;
}

void db_read_end(void)
{
    struct db *db = db_thread();

    if (!db || !db->read_scope)
        return;
    db->read_scope = false;
    if (exec_status(db, STMT_COMMIT) != ERR_OK)
        exec_status(db, STMT_ROLLBACK);
}

int db_commit(struct db *db)
{
    return exec_status(db, STMT_COMMIT);
}

int db_rollback(struct db *db)
{
    return exec_status(db, STMT_ROLLBACK);
}

/* ---- migrations ---- */

static enum db_backend conn_backend(const struct db *db)
{
    return db->drv == &db_pg_driver ? DB_POSTGRES : DB_SQLITE;
}

/* The migration list must be strictly increasing with SQL for both backends:
 * a programmer error otherwise, reported before anything is applied. */
static int migrations_check(void)
{
    int64_t prev = 0;
    size_t i;

    for (i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        if (m->version <= prev || m->sqlite_sql == NULL || m->pg_sql == NULL) {
            log_error("db", "migration list is broken at entry %zu", i);
            return ERR_INTERNAL;
        }
        prev = m->version;
    }
    return ERR_OK;
}

static int version_read(struct db *db, int64_t *out)
{
    struct db_rows *r = NULL;
    int rc;

    rc = db_query(db, STMT_SCHEMA_VERSION, NULL, 0, &r);
    if (rc != ERR_OK)
        goto out;
    rc = db_next(r);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        log_error("db", "schema version query returned no row");
        rc = ERR_INTERNAL;
        goto out;
    }
    *out = db_col_int(r, 0);
    rc = ERR_OK;
out:
    db_rows_free(r);
    return rc;
}

static const struct db_migration *migration_after(int64_t version)
{
    size_t i;

    for (i = 0; i < db_migrations_count; i++)
        if (db_migrations[i].version > version)
            return &db_migrations[i];
    return NULL;
}

void db_set_upgrade(db_upgrade_fn fn)
{
    db_upgrade = fn;
}

/* Inside a transaction: lock, bootstrap, apply the next pending migration.
 * *done receives it, or NULL when the schema is up to date. */
static int migrate_in_tx(struct db *db, const struct db_migration **done)
{
    const struct db_migration *m;
    enum db_backend b = conn_backend(db);
    struct db_param lock = DB_INT(DB_MIGRATE_LOCK_KEY);
    struct db_param rec[2];
    int64_t version = 0;
    int64_t rc;

    *done = NULL;
    rc = db_exec(db, STMT_MIGRATE_LOCK, &lock, 1);
    if (rc < 0)
        goto out;
    rc = db->drv->exec_script(db, db_schema_bootstrap_sql(b));
    if (rc < 0)
        goto out;
    rc = version_read(db, &version);
    if (rc < 0)
        goto out;
    m = migration_after(version);
    if (m == NULL) {
        if (db_migrations_count > 0 && version > db_migrations[db_migrations_count - 1].version)
            log_warn("db", "database schema version %" PRId64 " is newer than this program's",
                     version);
        rc = ERR_OK;
        goto out;
    }
    if (db_upgrade != NULL && (rc = db_upgrade(db, m->version)) < 0) {
        log_error("db", "upgrade before migration %" PRId64 " failed", m->version);
        goto out;
    }
    rc = db->drv->exec_script(db, db_migration_sql(m, b));
    if (rc < 0) {
        log_error("db", "migration %" PRId64 " failed", m->version);
        goto out;
    }
    rec[0] = DB_INT(m->version);
    rec[1] = DB_INT(clock_now());
    rc = db_exec(db, STMT_SCHEMA_RECORD, rec, 2);
    if (rc < 0)
        goto out;
    *done = m;
    rc = ERR_OK;
out:
    return (int)rc;
}

/* One transaction: 1 when a migration was applied, 0 when none was pending,
 * or an enum err. */
static int migrate_step(struct db *db)
{
    const struct db_migration *m = NULL;
    int rc;

    rc = db_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = migrate_in_tx(db, &m);
    if (rc == ERR_OK)
        rc = db_commit(db);
    if (rc != ERR_OK) {
        (void)db_rollback(db);
        goto out;
    }
    if (m != NULL)
        log_info("db", "schema migration %" PRId64 " applied", m->version);
    rc = m != NULL;
out:
    return rc;
}

int db_migrate(struct db *db, int *applied)
{
    int count = 0;
    int rc;

    if (db == NULL) {
        rc = ERR_STORAGE_DOWN;
        goto out;
    }
    rc = migrations_check();
    if (rc != ERR_OK)
        goto out;
    for (;;) {
        rc = migrate_step(db);
        if (rc < 0)
            goto out;
        if (rc == 0)
            break;
        count++;
    }
    rc = ERR_OK;
out:
    if (applied != NULL)
        *applied = count;
    return rc;
}

int db_schema_version(struct db *db)
{
    int64_t v = 0;
    int rc;

    if (db == NULL)
        return ERR_STORAGE_DOWN;
    rc = version_read(db, &v);
    if (rc != ERR_OK)
        return rc;
    if (v < 0 || v > INT_MAX) {
        log_error("db", "schema version out of range");
        return ERR_INTERNAL;
    }
    return (int)v;
}

int db_schema_latest(void)
{
    return db_migrations_count > 0 ? (int)db_migrations[db_migrations_count - 1].version : 0;
}

int db_open_url(const char *url, struct db **out)
{
    *out = NULL;
    if (url == NULL)
        return ERR_INVALID;
    if (str_starts(url, "sqlite:") && url[7] != '\0')
        return db_sqlite_driver.open(url + 7, out);
    if (str_starts(url, "postgresql://") || str_starts(url, "postgres://") ||
        str_starts(url, "host="))
        return db_pg_driver.open(url, out);
    return ERR_INVALID;
}

/* ---- cluster-wide locks ---- */

int db_checkpoint(struct db *db)
{
    if (db == NULL)
        return ERR_STORAGE_DOWN;
    return db->drv->checkpoint ? db->drv->checkpoint(db) : ERR_OK;
}

int db_try_lock(struct db *db, int64_t key)
{
    if (db == NULL)
        return ERR_STORAGE_DOWN;
    return db->drv->try_lock(db, key);
}

int db_unlock(struct db *db, int64_t key)
{
    if (db == NULL)
        return ERR_STORAGE_DOWN;
    return db->drv->unlock(db, key);
}
