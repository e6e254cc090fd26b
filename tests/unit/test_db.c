/*
 * test_db.c - the storage layer (db.h) against both backends.
 *
 * Every check runs on SQLite in a fresh temporary directory (under
 * $ATELIER_TEST_TMP, else /tmp), and again on PostgreSQL when
 * ATELIER_TEST_PG_URL names a throwaway database (scripts/pg.sh start ...).
 * The PostgreSQL group DROPS AND RECREATES the schema "public" of that
 * database. Without the variable the group is not registered and a line says
 * so; it is never counted as passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/driver.h" /* white-box: the store's own test */
#include "store/db_schema.h"
#include "base/err.h"
#include "base/policy.h"

#define LOCK_KEY INT64_C(424242)

struct env {
    enum db_backend backend;
    const char *url;    /* PostgreSQL only */
    char dir[PATH_MAX]; /* SQLite only: the data directory */
    struct db *db;
};

static struct env env_sqlite = {.backend = DB_SQLITE};
static struct env env_pg = {.backend = DB_POSTGRES};

/* ---- helpers ---- */

static int64_t latest_version(void)
{
    return db_migrations[db_migrations_count - 1].version;
}

static struct db *env_db(void **state)
{
    struct env *e = *state;
    int applied = -1;

    assert_int_equal(db_migrate(e->db, &applied), ERR_OK);
    return e->db;
}

/* Value of key, or NULL when absent; *len receives its size. */
static void *meta_get(struct db *db, const char *key, size_t *len)
{
    struct db_param k = DB_TEXT(key);
    struct db_rows *r = NULL;
    const void *p;
    void *copy = NULL;
    int rc;

    *len = 0;
    assert_int_equal(db_query(db, STMT_META_GET, &k, 1, &r), ERR_OK);
    rc = db_next(r);
    assert_true(rc == 0 || rc == 1);
    if (rc == 1) {
        p = db_col_blob(r, 0, len);
        assert_non_null(p);
        copy = malloc(*len + 1);
        assert_non_null(copy);
        memcpy(copy, p, *len);
        assert_int_equal(db_next(r), 0);
    }
    db_rows_free(r);
    return copy;
}

static int64_t meta_put(struct db *db, const char *key, const void *v, size_t n)
{
    struct db_param p[2] = {DB_TEXT(key), DB_BLOB(v, n)};
    return db_exec(db, STMT_META_PUT, p, 2);
}

static void mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t i;

    assert_true(strlen(path) < sizeof buf);
    memcpy(buf, path, strlen(path) + 1);
    for (i = 1; buf[i] != '\0'; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        assert_true(mkdir(buf, 0700) == 0 || errno == EEXIST);
        buf[i] = '/';
    }
    assert_true(mkdir(buf, 0700) == 0 || errno == EEXIST);
}

/* ---- backend-independent checks ---- */

static void test_stmt_table(void **state)
{
    int i;

    for (i = 0; i < STMT__COUNT; i++) {
        assert_non_null(db_stmt_sql((enum stmt)i, DB_SQLITE));
        if (i != STMT_SQLITE_PRAGMAS && i != STMT_SQLITE_CHECKPOINT && i != STMT_BEGIN_READ &&
            i != STMT_POPULATE_CACHE && i != STMT_OPENDATA_CACHE)
            assert_non_null(db_stmt_sql((enum stmt)i, DB_POSTGRES));
    }
    assert_null(db_stmt_sql(STMT_SQLITE_PRAGMAS, DB_POSTGRES));
    assert_null(db_stmt_sql(STMT_SQLITE_CHECKPOINT, DB_POSTGRES));
    assert_null(db_stmt_sql(STMT_POPULATE_CACHE, DB_POSTGRES));
    assert_null(db_stmt_sql(STMT_OPENDATA_CACHE, DB_POSTGRES));
    assert_null(db_stmt_sql(STMT__COUNT, DB_SQLITE));
    assert_string_equal(db_stmt_sql(STMT_BEGIN, DB_SQLITE), "BEGIN IMMEDIATE");
    assert_string_equal(db_stmt_sql(STMT_BEGIN, DB_POSTGRES), "BEGIN");
}

static void test_migration_list(void **state)
{
    int64_t prev = 0;
    size_t i;

    assert_true(db_migrations_count >= 1);
    assert_int_equal(db_migrations[0].version, 1);
    for (i = 0; i < db_migrations_count; i++) {
        assert_true(db_migrations[i].version > prev);
        assert_non_null(db_migration_sql(&db_migrations[i], DB_SQLITE));
        assert_non_null(db_migration_sql(&db_migrations[i], DB_POSTGRES));
        prev = db_migrations[i].version;
    }
}

/* Storage failures are enum err values a client sees as 503, never as a
 * success or an internal error; a constraint violation is a 409. */
static void test_err_map(void **state)
{
    const int storage[] = {ERR_BUSY, ERR_READONLY, ERR_STORAGE_DOWN};

    for (size_t i = 0; i < sizeof storage / sizeof storage[0]; i++) {
        assert_int_equal(err_status(storage[i]), 503);
        assert_string_equal(err_code(storage[i]), "unavailable");
    }
    assert_int_equal(err_status(ERR_CONFLICT), 409);
    assert_int_equal(err_status(ERR_INTERNAL), 500);
}

static void test_configure(void **state)
{
    struct db *db = (struct db *)1;

    assert_int_equal(db_configure("mysql://x", "/tmp"), ERR_INVALID);
    assert_int_equal(db_open(&db), ERR_INTERNAL); /* not configured */
    assert_null(db);
    assert_int_equal(db_configure("", NULL), ERR_INVALID);
    assert_int_equal(db_configure("", "/tmp"), 0);
    assert_int_equal(db_backend(), DB_SQLITE);
    assert_int_equal(db_configure(NULL, "/tmp"), 0);
    assert_int_equal(db_backend(), DB_SQLITE);
    assert_int_equal(db_configure("postgresql://u@h/d", NULL), 0);
    assert_int_equal(db_backend(), DB_POSTGRES);
    assert_int_equal(db_configure("postgres://u@h/d", NULL), 0);
    assert_int_equal(db_backend(), DB_POSTGRES);
    assert_int_equal(db_configure("host=/tmp port=1 dbname=x", NULL), 0);
    assert_int_equal(db_backend(), DB_POSTGRES);
}

/* ---- checks run on each backend ---- */

struct migrator {
    int rc;
    int applied;
};

static void *migrate_thread(void *arg)
{
    struct migrator *m = arg;
    struct db *db = NULL;

    m->rc = db_open(&db);
    if (m->rc == ERR_OK)
        m->rc = db_migrate(db, &m->applied);
    db_close(db);
    return NULL;
}

/* Runs first, on an empty database: two migrators race, then a third run
 * finds nothing to do. */
static void test_migrate(void **state)
{
    struct env *e = *state;
    struct migrator m[2] = {{-1, -1}, {-1, -1}};
    pthread_t t[2];
    int applied = -1;
    int i;

    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, migrate_thread, &m[i]), 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(m[0].rc, ERR_OK);
    assert_int_equal(m[1].rc, ERR_OK);
    assert_int_equal(m[0].applied + m[1].applied, (int)db_migrations_count);

    assert_int_equal(db_migrate(e->db, &applied), ERR_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(db_migrate(e->db, NULL), ERR_OK);
    assert_int_equal(db_schema_version(e->db), latest_version());
}

static void test_schema_list(void **state)
{
    struct db *db = env_db(state);
    struct db_rows *r = NULL;
    size_t n = 0;

    assert_int_equal(db_query(db, STMT_SCHEMA_LIST, NULL, 0, &r), ERR_OK);
    while (db_next(r) == 1) {
        assert_true(n < db_migrations_count);
        assert_int_equal(db_col_int(r, 0), db_migrations[n].version);
        assert_true(db_col_int(r, 1) > 1700000000); /* applied_at, Unix seconds */
        n++;
    }
    db_rows_free(r);
    assert_int_equal(n, db_migrations_count);
}

static void test_ping(void **state)
{
    struct db *db = env_db(state);
    struct db_rows *r = NULL;
    size_t len = 99;

    assert_int_equal(db_query(db, STMT_PING, NULL, 0, &r), ERR_OK);
    assert_int_equal(db_next(r), 1);
    assert_false(db_col_null(r, 0));
    assert_int_equal(db_col_int(r, 0), 1);
    /* out-of-range columns read as NULL */
    assert_true(db_col_null(r, 1));
    assert_true(db_col_null(r, -1));
    assert_null(db_col_text(r, 1, &len));
    assert_int_equal(len, 0);
    assert_int_equal(db_next(r), 0);
    assert_int_equal(db_next(r), 0);
    db_rows_free(r);
    db_rows_free(NULL);
    assert_int_equal(db_exec(db, STMT_PING, NULL, 0), 0);
}

static void test_meta_roundtrip(void **state)
{
    static const char evil[] = "'; DROP TABLE meta; --";
    static const unsigned char bin[] = {0, 'a', 0, 0xff, 0x80, '\\', 'x', 0};
    struct db *db = env_db(state);
    size_t len = 0;
    char *v;

    assert_int_equal(meta_put(db, "text", "hello, wörld", strlen("hello, wörld")), 1);
    assert_int_equal(meta_put(db, evil, evil, strlen(evil)), 1);
    assert_int_equal(meta_put(db, "bin", bin, sizeof bin), 1);
    assert_int_equal(meta_put(db, "empty", "", 0), 1);

    v = meta_get(db, "text", &len);
    assert_non_null(v);
    assert_int_equal(len, strlen("hello, wörld"));
    assert_memory_equal(v, "hello, wörld", len);
    free(v);

    v = meta_get(db, evil, &len);
    assert_non_null(v);
    assert_int_equal(len, strlen(evil));
    assert_memory_equal(v, evil, len);
    free(v);

    v = meta_get(db, "bin", &len);
    assert_non_null(v);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(v, bin, sizeof bin);
    free(v);

    v = meta_get(db, "empty", &len);
    assert_non_null(v); /* present, not NULL */
    assert_int_equal(len, 0);
    free(v);

    assert_null(meta_get(db, "absent", &len));
    assert_int_equal(len, 0);
    /* the table survived the hostile key and value */
    assert_int_equal(db_schema_version(db), latest_version());
}

static void test_meta_upsert(void **state)
{
    struct db *db = env_db(state);
    size_t len = 0;
    char *v;

    assert_int_equal(meta_put(db, "up", "one", 3), 1);
    assert_int_equal(meta_put(db, "up", "second", 6), 1);
    v = meta_get(db, "up", &len);
    assert_non_null(v);
    assert_int_equal(len, 6);
    assert_memory_equal(v, "second", 6);
    free(v);
}

static void test_constraint(void **state)
{
    struct db *db = env_db(state);
    struct db_param p[2] = {DB_INT(1), DB_INT(1)};
    int64_t rc;

    rc = db_exec(db, STMT_SCHEMA_RECORD, p, 2);
    assert_int_equal(rc, ERR_CONFLICT);
    /* the connection is still usable */
    assert_int_equal(db_exec(db, STMT_PING, NULL, 0), 0);
}

static void test_transactions(void **state)
{
    struct db *db = env_db(state);
    struct db_param dup[2] = {DB_INT(1), DB_INT(1)};
    size_t len = 0;
    char *v;

    assert_int_equal(db_begin(db), ERR_OK);
    assert_int_equal(meta_put(db, "tx", "rolled back", 11), 1);
    assert_int_equal(db_rollback(db), ERR_OK);
    assert_null(meta_get(db, "tx", &len));

    assert_int_equal(db_begin(db), ERR_OK);
    assert_int_equal(meta_put(db, "tx", "committed", 9), 1);
    assert_int_equal(db_commit(db), ERR_OK);
    v = meta_get(db, "tx", &len);
    assert_non_null(v);
    assert_memory_equal(v, "committed", 9);
    free(v);

    /* a failure inside a transaction, then rollback, leaves nothing */
    assert_int_equal(db_begin(db), ERR_OK);
    assert_int_equal(meta_put(db, "tx2", "x", 1), 1);
    assert_int_equal(db_exec(db, STMT_SCHEMA_RECORD, dup, 2), ERR_CONFLICT);
    assert_int_equal(db_rollback(db), ERR_OK);
    assert_null(meta_get(db, "tx2", &len));
    assert_int_equal(db_exec(db, STMT_PING, NULL, 0), 0);
}

/* A read scope runs SELECTs only: db_begin and every write on the thread's
 * connection are refused while it is open, and work again after it. On
 * PostgreSQL no scope is opened, so nothing is refused. */
static void test_read_scope(void **state)
{
    struct env *e = *state;
    struct db *t;
    size_t len = 0;
    char *v;

    env_db(state);
    t = db_thread();
    assert_non_null(t);
    if (e->backend != DB_SQLITE) {
        assert_int_equal(db_read_begin(), 0);
        return;
    }
    assert_int_equal(db_read_begin(), 1);
    assert_int_equal(db_read_begin(), 0); /* never nested */
    assert_int_equal(db_exec(t, STMT_PING, NULL, 0), 0);
    assert_null(meta_get(t, "scope", &len));
    assert_int_equal(db_begin(t), ERR_INTERNAL);
    assert_int_equal(meta_put(t, "scope", "x", 1), ERR_INTERNAL);
    db_read_end();
    db_read_end(); /* twice is harmless */
    assert_int_equal(db_begin(t), ERR_OK);
    assert_int_equal(meta_put(t, "scope", "y", 1), 1);
    assert_int_equal(db_commit(t), ERR_OK);
    v = meta_get(t, "scope", &len);
    assert_non_null(v);
    assert_memory_equal(v, "y", 1);
    free(v);
    db_thread_close();
}

static void test_int64_extremes(void **state)
{
    static const int64_t want[][2] = {
        {INT64_MIN, INT64_MAX},
        {INT64_MIN + 1, -1},
        {-1, 0},
        {0, INT64_MIN},
        {INT32_MAX + INT64_C(1), INT32_MIN - INT64_C(1)},
        {INT64_MAX, INT64_MIN + 1},
    };
    struct db *db = env_db(state);
    struct db_rows *r = NULL;
    size_t i, found = 0;

    assert_int_equal(db_begin(db), ERR_OK);
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct db_param p[2] = {DB_INT(want[i][0]), DB_INT(want[i][1])};
        assert_int_equal(db_exec(db, STMT_SCHEMA_RECORD, p, 2), 1);
    }
    assert_int_equal(db_query(db, STMT_SCHEMA_LIST, NULL, 0, &r), ERR_OK);
    while (db_next(r) == 1) {
        int64_t v = db_col_int(r, 0), at = db_col_int(r, 1);
        for (i = 0; i < sizeof want / sizeof want[0]; i++) {
            if (want[i][0] == v) {
                assert_true(want[i][1] == at);
                found++;
            }
        }
    }
    db_rows_free(r);
    assert_int_equal(found, sizeof want / sizeof want[0]);
    assert_int_equal(db_rollback(db), ERR_OK);
    assert_int_equal(db_schema_version(db), latest_version());
}

static void test_misuse(void **state)
{
    struct db *db = env_db(state);
    struct db_param nul = DB_TEXTN("a\0b", 3);
    struct db_param one = DB_INT(1);
    struct db_rows *r = NULL;
    struct db_rows *r2 = (struct db_rows *)1;

    /* text with NUL bytes is refused on both backends */
    assert_int_equal(db_query(db, STMT_META_GET, &nul, 1, NULL), ERR_INTERNAL);
    /* wrong parameter count */
    assert_int_equal(db_exec(db, STMT_META_GET, NULL, 0), ERR_INTERNAL);
    assert_int_equal(db_exec(db, STMT_PING, &one, 1), ERR_INTERNAL);
    /* only one open result per connection */
    assert_int_equal(db_query(db, STMT_PING, NULL, 0, &r), ERR_OK);
    assert_int_equal(db_query(db, STMT_PING, NULL, 0, &r2), ERR_INTERNAL);
    assert_null(r2);
    db_rows_free(r);
    assert_int_equal(db_exec(db, STMT_PING, NULL, 0), 0);
}

static void test_sqlite_pragmas(void **state)
{
    struct env *e = *state;
    struct db *db = env_db(state);
    struct db_rows *r = NULL;
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char path[PATH_MAX + 16];

    if (e->backend == DB_POSTGRES) {
        /* a SQLite-only statement is refused, not sent */
        assert_int_equal(db_query(db, STMT_SQLITE_PRAGMAS, NULL, 0, &r), ERR_INTERNAL);
        assert_null(r);
        return;
    }
    assert_int_equal(db_query(db, STMT_SQLITE_PRAGMAS, NULL, 0, &r), ERR_OK);
    assert_int_equal(db_next(r), 1);
    assert_int_equal(db_col_int(r, 0), 1); /* secure_delete */
    assert_int_equal(db_col_int(r, 1), 1); /* synchronous NORMAL */
    assert_string_equal(db_col_text(r, 2, NULL), "wal");
    assert_int_equal(db_col_int(r, 3), 1);    /* foreign_keys */
    assert_int_equal(db_col_int(r, 4), 5000); /* busy_timeout */
    assert_int_equal(db_col_int(r, 5), 2);    /* temp_store MEMORY */
    db_rows_free(r);

    /* WAL is a property of the file: a second, plain connection sees it */
    snprintf(path, sizeof path, "%s/atelier.db", e->dir);
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_file_mode(void **state)
{
    static const char *const names[] = {"atelier.db", "atelier.db-wal", "atelier.db-shm"};
    struct env *e = *state;
    char path[PATH_MAX + 32];
    struct stat st;
    size_t i;

    env_db(state);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", e->dir, names[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
    }
}

struct worker {
    pthread_barrier_t *barrier;
    struct db *db;
    bool same;
    int ping;
};

static void *worker_thread(void *arg)
{
    struct worker *w = arg;

    w->db = db_thread();
    w->same = w->db != NULL && db_thread() == w->db;
    w->ping = (int)db_exec(w->db, STMT_PING, NULL, 0);
    /* both threads hold their connections at the same time */
    pthread_barrier_wait(w->barrier);
    return NULL;
}

static void test_thread_connections(void **state)
{
    pthread_barrier_t barrier;
    struct worker w[2];
    pthread_t t[2];
    struct db *mine;
    int i;

    env_db(state);
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (i = 0; i < 2; i++) {
        w[i] = (struct worker){.barrier = &barrier, .ping = -1};
        assert_int_equal(pthread_create(&t[i], NULL, worker_thread, &w[i]), 0);
    }
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (i = 0; i < 2; i++) {
        assert_non_null(w[i].db);
        assert_true(w[i].same);
        assert_int_equal(w[i].ping, 0);
    }
    assert_ptr_not_equal(w[0].db, w[1].db);

    mine = db_thread();
    assert_non_null(mine);
    assert_ptr_equal(db_thread(), mine);
    db_thread_close();
    db_thread_close(); /* twice is harmless */
}

static void test_advisory_lock(void **state)
{
    struct env *e = *state;
    struct db *a = env_db(state);
    struct db *b = NULL;

    assert_int_equal(db_open(&b), ERR_OK);
    assert_int_equal(db_try_lock(a, LOCK_KEY), 1);
    if (e->backend == DB_POSTGRES) {
        assert_int_equal(db_try_lock(b, LOCK_KEY), 0);
        assert_int_equal(db_try_lock(b, LOCK_KEY + 1), 1); /* other keys are free */
        assert_int_equal(db_unlock(b, LOCK_KEY + 1), ERR_OK);
        assert_int_equal(db_unlock(a, LOCK_KEY), ERR_OK);
        assert_int_equal(db_try_lock(b, LOCK_KEY), 1);
        assert_int_equal(db_try_lock(a, LOCK_KEY), 0);
        assert_int_equal(db_unlock(b, LOCK_KEY), ERR_OK);
        assert_int_equal(db_unlock(b, LOCK_KEY), ERR_INTERNAL); /* not held any more */
    } else {
        assert_int_equal(db_try_lock(b, LOCK_KEY), 1); /* single node: always */
        assert_int_equal(db_unlock(a, LOCK_KEY), ERR_OK);
        assert_int_equal(db_unlock(b, LOCK_KEY), ERR_OK);
    }
    db_close(b);
}

/* PostgreSQL: a connection killed by the server reports ERR_STORAGE_DOWN once, is
 * reset on the next call, and a transaction it was in must be rolled back
 * before the connection is used again. */
static void test_pg_reconnect(void **state)
{
    static const char kill_others[] =
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()";
    struct db *a = env_db(state);
    struct db *b = NULL;
    size_t len = 0;
    char *v;

    assert_int_equal(db_open(&b), ERR_OK);

    /* outside a transaction */
    assert_int_equal(db_exec(a, STMT_PING, NULL, 0), 0);
    assert_int_equal(b->drv->exec_script(b, kill_others), ERR_OK);
    /* outside a transaction, a statement that finds its session dead is
     * retried once on a fresh connection: the caller sees no failure */
    assert_int_equal(db_exec(a, STMT_PING, NULL, 0), 0);
    assert_int_equal(db_exec(a, STMT_PING, NULL, 0), 0);
    v = meta_get(a, "up", &len); /* statements are prepared again */
    assert_non_null(v);
    free(v);

    /* inside one */
    assert_int_equal(db_begin(a), ERR_OK);
    assert_int_equal(meta_put(a, "lost", "x", 1), 1);
    assert_int_equal(b->drv->exec_script(b, kill_others), ERR_OK);
    assert_int_equal(meta_put(a, "lost", "y", 1), ERR_STORAGE_DOWN);
    assert_int_equal(db_commit(a), ERR_STORAGE_DOWN); /* reset, but the transaction is gone */
    assert_int_equal(db_exec(a, STMT_PING, NULL, 0), ERR_STORAGE_DOWN);
    assert_int_equal(db_rollback(a), ERR_OK);
    assert_int_equal(db_exec(a, STMT_PING, NULL, 0), 0);
    assert_null(meta_get(a, "lost", &len));
    db_close(b);
}

/* ---- the storage batcher (db_batch.c, run_batch) ---- */

#define BATCH_KEYS 12

static void batch_keys_put(struct db *db)
{
    char key[32], val[32];

    for (int i = 0; i < BATCH_KEYS; i++) {
        snprintf(key, sizeof key, "batch%d", i);
        snprintf(val, sizeof val, "value %d", i);
        assert_true(meta_put(db, key, val, strlen(val)) >= 0);
    }
}

/* The value in a META_GET cursor, checked to be "value i"; frees rows. */
static void batch_expect(struct db_rows *rows, int i)
{
    char want[32];
    size_t len = 0;

    snprintf(want, sizeof want, "value %d", i);
    assert_int_equal(db_next(rows), 1);
    const void *v = db_col_blob(rows, 0, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    assert_int_equal(db_next(rows), 0);
    db_rows_free(rows);
}

/* One pipeline: every statement answered with its own rows, in order; a
 * statement that fails in the middle fails alone (the ones after it, which
 * the server aborted, are run again); the cursors outlive later use of the
 * connection. */
static void test_pg_batch_pipeline(void **state)
{
    struct db *db = env_db(state);
    char keys[BATCH_KEYS][32];
    struct db_param p[BATCH_KEYS];
    struct db_batch_item items[BATCH_KEYS];
    static const char bad[] = "batch\xff\xfe"; /* not UTF-8: the server refuses it */

    assert_non_null(db->drv->run_batch);
    batch_keys_put(db);
    for (int i = 0; i < BATCH_KEYS; i++) {
        snprintf(keys[i], sizeof keys[i], "batch%d", i);
        p[i] = DB_TEXT(keys[i]);
        items[i] = (struct db_batch_item){.id = STMT_META_GET, .p = &p[i], .n = 1};
    }
    p[5] = DB_TEXT(bad);
    db->drv->run_batch(db, items, BATCH_KEYS);
    assert_int_equal(db_exec(db, STMT_PING, NULL, 0), 0); /* the connection is usable */
    for (int i = 0; i < BATCH_KEYS; i++) {
        if (i == 5) {
            assert_int_equal(items[i].rc, ERR_INTERNAL);
            continue;
        }
        assert_int_equal(items[i].rc, ERR_OK);
        batch_expect(items[i].rows, i);
    }
}

/* Writes in a pipeline: the batch is one transaction, but one write that
 * fails undoes neither the writes before it nor the reads around it (what
 * its failure rolled back runs again alone); a read after a write sees it;
 * each write's rows changed are its own. */
static void test_pg_batch_writes(void **state)
{
    static const char bad[] = "batch\xff\xfe"; /* not UTF-8: the server refuses it */
    struct db *db = env_db(state), *other = NULL;
    char one[32], two[32]; /* this run's own: a value left by an earlier run proves nothing */
    snprintf(one, sizeof one, "one %ld", (long)getpid());
    snprintf(two, sizeof two, "two %ld", (long)getpid());
    struct db_param put1[2] = {DB_TEXT("wbatch1"), DB_BLOB(one, strlen(one))};
    struct db_param putbad[2] = {DB_TEXT(bad), DB_BLOB("bad", 3)};
    struct db_param put2[2] = {DB_TEXT("wbatch2"), DB_BLOB(two, strlen(two))};
    struct db_param get1 = DB_TEXT("wbatch1"), get2 = DB_TEXT("wbatch2");
    struct db_batch_item items[] = {
        {.id = STMT_META_PUT, .p = put1, .n = 2},   {.id = STMT_META_GET, .p = &get1, .n = 1},
        {.id = STMT_META_PUT, .p = putbad, .n = 2}, {.id = STMT_META_GET, .p = &get1, .n = 1},
        {.id = STMT_META_PUT, .p = put2, .n = 2},   {.id = STMT_META_GET, .p = &get2, .n = 1},
    };
    const char *seen[] = {NULL, one, NULL, one, NULL, two};
    size_t len = 0;
    void *v = NULL;

    db->drv->run_batch(db, items, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(items[i].rc, i == 2 ? ERR_INTERNAL : ERR_OK);
        if (items[i].rc != ERR_OK)
            continue;
        assert_int_equal(items[i].changes, items[i].id == STMT_META_PUT ? 1 : 0);
        assert_int_equal(db_next(items[i].rows), seen[i] != NULL);
        if (seen[i]) {
            const void *b = db_col_blob(items[i].rows, 0, &len);
            assert_int_equal(len, strlen(seen[i]));
            assert_memory_equal(b, seen[i], len);
        }
        db_rows_free(items[i].rows);
    }
    /* committed: another session sees both good writes */
    assert_int_equal(db_open(&other), ERR_OK);
    assert_non_null(v = meta_get(other, "wbatch1", &len));
    assert_int_equal(len, strlen(one));
    assert_memory_equal(v, one, len);
    free(v);
    assert_non_null(v = meta_get(other, "wbatch2", &len));
    assert_int_equal(len, strlen(two));
    assert_memory_equal(v, two, len);
    free(v);
    db_close(other);
}

/* The batch's connection killed: every statement still answered, through
 * a fresh one (as db_query's retry does). */
static void test_pg_batch_reconnect(void **state)
{
    static const char kill_others[] =
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()";
    struct db *db = env_db(state), *other = NULL;
    struct db_param p[3] = {DB_TEXT("batch0"), DB_TEXT("batch1"), DB_TEXT("batch2")};
    struct db_batch_item items[3];

    batch_keys_put(db);
    assert_int_equal(db_open(&other), ERR_OK);
    assert_int_equal(other->drv->exec_script(other, kill_others), ERR_OK);
    for (int i = 0; i < 3; i++)
        items[i] = (struct db_batch_item){.id = STMT_META_GET, .p = &p[i], .n = 1};
    db->drv->run_batch(db, items, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(items[i].rc, ERR_OK);
        batch_expect(items[i].rows, i);
    }
    db_close(other);
}

struct batch_answers {
    pthread_mutex_t lock;
    int answered, wrong;
};

struct batch_job_arg {
    struct batch_answers *a;
    int i;
};

static void batch_done(void *arg, int rc, struct db_rows *rows, int64_t changes)
{
    struct batch_job_arg *j = arg;
    char want[32];
    size_t len = 0;
    int ok = rc == ERR_OK && db_next(rows) == 1;

    snprintf(want, sizeof want, "value %d", j->i);
    const void *v = ok ? db_col_blob(rows, 0, &len) : NULL;
    ok = ok && len == strlen(want) && memcmp(v, want, len) == 0;
    db_rows_free(rows);
    pthread_mutex_lock(&j->a->lock);
    j->a->answered++;
    j->a->wrong += !ok;
    pthread_mutex_unlock(&j->a->lock);
    free(j);
}

#define BATCH_SUBMITTERS 4
#define BATCH_JOBS       200 /* per submitter */

static void *batch_submitter(void *arg)
{
    struct batch_answers *a = arg;
    char key[32];
    long refused = 0;

    for (int k = 0; k < BATCH_JOBS; k++) {
        struct batch_job_arg *j = malloc(sizeof *j);
        if (!j)
            return (void *)-1L;
        *j = (struct batch_job_arg){.a = a, .i = k % BATCH_KEYS};
        snprintf(key, sizeof key, "batch%d", j->i);
        struct db_param p = DB_TEXT(key); /* the batcher copies it */
        if (db_batch_submit(STMT_META_GET, &p, 1, batch_done, j) != ERR_OK) {
            free(j);
            refused++;
        }
    }
    return (void *)refused;
}

/* Jobs from several threads, each answered once with its own row, stop
 * answering what is still queued; what cannot be batched is refused. */
static void test_pg_batch_threads(void **state)
{
    struct batch_answers a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t t[BATCH_SUBMITTERS];
    struct db_param p = DB_TEXT("batch0");
    long refused = 0;
    uint64_t b0, s0, b1, s1;

    batch_keys_put(env_db(state));
    db_batch_counts(&b0, &s0);
    assert_int_equal(db_batch_submit(STMT_META_GET, &p, 1, batch_done, NULL), ERR_UNAVAILABLE);
    assert_int_equal(db_batch_start(), ERR_OK);
    assert_true(db_batch_running());
    assert_int_equal(db_batch_submit(STMT_BEGIN, NULL, 0, batch_done, NULL), ERR_INTERNAL);
    struct db_param nul = DB_TEXTN("batch\0x", 7); /* db_query's checks apply too */
    assert_int_equal(db_batch_submit(STMT_META_GET, &nul, 1, batch_done, NULL), ERR_INTERNAL);
    for (int i = 0; i < BATCH_SUBMITTERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, batch_submitter, &a), 0);
    for (int i = 0; i < BATCH_SUBMITTERS; i++) {
        void *r = NULL;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_true((long)r >= 0);
        refused += (long)r;
    }
    db_batch_stop(); /* at once: queued jobs are answered before it returns */
    assert_false(db_batch_running());
    assert_int_equal(refused, 0);
    assert_int_equal(a.answered, BATCH_SUBMITTERS * BATCH_JOBS);
    assert_int_equal(a.wrong, 0);
    db_batch_counts(&b1, &s1);
    assert_int_equal(s1 - s0, BATCH_SUBMITTERS * BATCH_JOBS);
    assert_true(b1 > b0 && b1 - b0 <= s1 - s0);
    assert_int_equal(db_batch_submit(STMT_META_GET, &p, 1, batch_done, NULL), ERR_UNAVAILABLE);
}

/* A bounded queue: while the batcher's threads wait (the table locked by
 * another session), jobs queue up to LIMIT_DB_BATCH_QUEUE, beyond which a
 * submit is refused and queues nothing (the caller runs its own); once the
 * lock goes, every queued job is answered with its own row. */
static void test_pg_batch_queue_bound(void **state)
{
    struct batch_answers a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct db *db = env_db(state), *locker = NULL;
    int accepted = 0, rc = ERR_OK;

    batch_keys_put(db);
    assert_int_equal(db_open(&locker), ERR_OK);
    assert_int_equal(
        locker->drv->exec_script(locker, "BEGIN; LOCK TABLE meta IN ACCESS EXCLUSIVE MODE"),
        ERR_OK);
    assert_int_equal(db_batch_start(), ERR_OK);
    while (rc == ERR_OK &&
           accepted <= LIMIT_DB_BATCH_QUEUE + LIMIT_DB_BATCH_THREADS * LIMIT_DB_BATCH) {
        struct batch_job_arg *j = malloc(sizeof *j);
        char key[32];
        assert_non_null(j);
        *j = (struct batch_job_arg){.a = &a, .i = accepted % BATCH_KEYS};
        snprintf(key, sizeof key, "batch%d", j->i);
        struct db_param p = DB_TEXT(key);
        if ((rc = db_batch_submit(STMT_META_GET, &p, 1, batch_done, j)) == ERR_OK)
            accepted++;
        else
            free(j);
    }
    assert_int_equal(rc, ERR_UNAVAILABLE);
    assert_true(accepted >= LIMIT_DB_BATCH_QUEUE);
    assert_true(accepted <= LIMIT_DB_BATCH_QUEUE + LIMIT_DB_BATCH_THREADS * LIMIT_DB_BATCH);
    assert_int_equal(locker->drv->exec_script(locker, "COMMIT"), ERR_OK);
    db_batch_stop();
    assert_int_equal(a.answered, accepted);
    assert_int_equal(a.wrong, 0);
    db_close(locker);
}

/* SQLite has no round trip to save: no batcher, callers run their own. */
static void test_sqlite_no_batcher(void **state)
{
    struct db *db = env_db(state);
    struct db_param p = DB_TEXT("batch0");

    assert_null(db->drv->run_batch);
    assert_int_equal(db_batch_start(), ERR_OK);
    assert_false(db_batch_running());
    assert_int_equal(db_batch_submit(STMT_META_GET, &p, 1, batch_done, NULL), ERR_UNAVAILABLE);
    db_batch_stop();
}

/* ---- groups ---- */

static int sqlite_setup(void **state)
{
    const char *base = getenv("ATELIER_TEST_TMP");
    char tmpl[PATH_MAX];

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    mkdir_p(base);
    if (snprintf(tmpl, sizeof tmpl, "%s/test_db.XXXXXX", base) >= (int)sizeof tmpl)
        return -1;
    if (mkdtemp(tmpl) == NULL)
        return -1;
    memcpy(env_sqlite.dir, tmpl, strlen(tmpl) + 1);
    if (db_configure("", env_sqlite.dir) != 0 || db_open(&env_sqlite.db) != ERR_OK)
        return -1;
    *state = &env_sqlite;
    return 0;
}

static int sqlite_teardown(void **state)
{
    static const char *const names[] = {"atelier.db", "atelier.db-wal", "atelier.db-shm"};
    char path[PATH_MAX + 32];
    size_t i;

    db_close(env_sqlite.db);
    env_sqlite.db = NULL;
    db_thread_close();
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", env_sqlite.dir, names[i]);
        unlink(path);
    }
    return rmdir(env_sqlite.dir) == 0 ? 0 : -1;
}

static int pg_setup(void **state)
{
    if (db_configure(env_pg.url, NULL) != 0 || db_open(&env_pg.db) != ERR_OK)
        return -1;
    /* a clean slate: this database is a throwaway */
    if (env_pg.db->drv->exec_script(env_pg.db, "DROP SCHEMA IF EXISTS public CASCADE;"
                                               "CREATE SCHEMA public;") != ERR_OK)
        return -1;
    *state = &env_pg;
    return 0;
}

static int pg_teardown(void **state)
{
    db_close(env_pg.db);
    env_pg.db = NULL;
    db_thread_close();
    return 0;
}

#define BACKEND_TESTS                                                                              \
    cmocka_unit_test(test_migrate), cmocka_unit_test(test_schema_list),                            \
        cmocka_unit_test(test_ping), cmocka_unit_test(test_meta_roundtrip),                        \
        cmocka_unit_test(test_meta_upsert), cmocka_unit_test(test_constraint),                     \
        cmocka_unit_test(test_transactions), cmocka_unit_test(test_read_scope),                    \
        cmocka_unit_test(test_int64_extremes), cmocka_unit_test(test_misuse),                      \
        cmocka_unit_test(test_sqlite_pragmas), cmocka_unit_test(test_thread_connections),          \
        cmocka_unit_test(test_advisory_lock)

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_stmt_table),
        cmocka_unit_test(test_migration_list),
        cmocka_unit_test(test_err_map),
        cmocka_unit_test(test_configure),
    };
    const struct CMUnitTest sqlite_tests[] = {BACKEND_TESTS, cmocka_unit_test(test_file_mode),
                                              cmocka_unit_test(test_sqlite_no_batcher)};
    const struct CMUnitTest pg_tests[] = {BACKEND_TESTS,
                                          cmocka_unit_test(test_pg_reconnect),
                                          cmocka_unit_test(test_pg_batch_pipeline),
                                          cmocka_unit_test(test_pg_batch_writes),
                                          cmocka_unit_test(test_pg_batch_reconnect),
                                          cmocka_unit_test(test_pg_batch_threads),
                                          cmocka_unit_test(test_pg_batch_queue_bound)};
    int failed = 0;

    failed += cmocka_run_group_tests_name("db_common", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("db_sqlite", sqlite_tests, sqlite_setup, sqlite_teardown);
    env_pg.url = getenv("ATELIER_TEST_PG_URL");
    if (env_pg.url != NULL && env_pg.url[0] != '\0') {
        failed += cmocka_run_group_tests_name("db_postgres", pg_tests, pg_setup, pg_teardown);
    } else {
        printf("[ NOT RUN  ] db_postgres: ATELIER_TEST_PG_URL is not set; the PostgreSQL "
               "tests were not run (scripts/pg.sh start DIR PORT prints a URL)\n");
    }
    return failed == 0 ? 0 : 1;
}
