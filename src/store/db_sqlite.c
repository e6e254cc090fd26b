/*
 * db_sqlite.c - the SQLite driver behind db.h.
 *
 * Invariants:
 *  - A connection belongs to one thread (opened SQLITE_OPEN_NOMUTEX) and is
 *    configured the same way every time it is opened: defensive mode on,
 *    extension loading off, untrusted schema, then WAL, synchronous=NORMAL,
 *    secure_delete=ON, busy_timeout=5000, foreign_keys=ON, temp_store=MEMORY.
 *  - The database file is created by this driver with mode 0600 before
 *    SQLite opens it (its -wal and -shm files inherit that mode). The mode
 *    of an existing file is never changed: a file open to others is
 *    reported with the command that fixes it.
 *  - A database this process can only read is refused at open, naming the
 *    file and the fix, rather than failing every write later. Creation
 *    runs under a process-wide mutex and the creating descriptor is closed
 *    before any connection of this process can open the file, because closing
 *    a descriptor drops every POSIX lock the process holds on that file.
 *    Only the first connection of a process may create it: once one was
 *    opened, a missing file is ERR_STORAGE_DOWN (a database moved away or
 *    deleted under a running server is a failure, never a new empty one).
 *  - Each connection caches its prepared statements in an array indexed by
 *    enum stmt, prepared on first use (SQLITE_PREPARE_PERSISTENT) from the
 *    db_stmts.c SQL with $N rewritten to ?N.
 *  - One result cursor per connection, embedded in it: db_query steps the
 *    statement once (so errors surface there), db_next hands out that row
 *    first, db_rows_free resets the statement and clears its bindings.
 *  - Bound values are copied (SQLITE_TRANSIENT) when a cursor outlives the
 *    call; otherwise they are used in place and cleared before returning.
 *  - Errors are logged with SQLite's message, which names tables, columns
 *    and constraints but never parameter values.
 *  - Writers of this process queue on one mutex (sqlite_write_lock) instead
 *    of sleeping in SQLite's busy handler: a connection takes it before
 *    BEGIN IMMEDIATE or before a write statement run outside a transaction,
 *    and gives it back once the connection is in autocommit mode again with
 *    no cursor open (after COMMIT or ROLLBACK, after the write, or when a
 *    RETURNING cursor is freed). A thread holds it through at most one
 *    connection. busy_timeout stays for other processes (`atelier sweep`,
 *    `rekey`, ...) and for the checkpoints below.
 *  - In the server (db_maint_running() when the connection opens) no
 *    request connection checkpoints: a WAL hook replaces wal_autocheckpoint
 *    and wakes the maintenance thread once the WAL holds
 *    LIMIT_WAL_CHECKPOINT_PAGES pages. Then that thread runs a RESTART
 *    checkpoint under the write mutex, waiting at most
 *    LIMIT_WAL_RESTART_WAIT_MS for readers of older frames: the next commit
 *    writes the WAL from its start again. (A PASSIVE checkpoint never
 *    catches up with steady writes: commits land while it copies, so the
 *    WAL was never complete and never restarted, and it grew by megabytes a
 *    second while the thread checkpointed without pause.) On a tick with
 *    commits but a smaller WAL it runs a PASSIVE checkpoint (which never
 *    blocks anyone), so commits reach the database file within about
 *    LIMIT_HEALTH_POLL_MS; and a TRUNCATE one, under the write mutex and
 *    without waiting, when a tick finds no commit since its previous step
 *    and the WAL file has reached LIMIT_WAL_TRUNCATE_BYTES. Commands keep
 *    SQLite's autocheckpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/driver.h"
#include "base/log.h"
#include "base/policy.h"

#define SQLITE_BUSY_MS 5000

struct sqlite_rows {
    struct db_rows base;
    sqlite3_stmt *stmt; /* NULL when no cursor is open */
    int id;             /* its enum stmt, for logs */
    bool pending;       /* a row was stepped but not yet handed out */
    bool has_row;       /* the columns of the current row are readable */
    bool done;          /* stepping is finished */
};

struct sqlite_db {
    struct db base;
    sqlite3 *h;
    struct sqlite_rows rows;
    sqlite3_stmt *cache[STMT__COUNT];
    bool writing;     /* holds sqlite_write_lock */
    const char *path; /* the configured path (db.c's, lives as long as the process) */
    dev_t dev;        /* the file opened there */
    ino_t ino;
    uint64_t seen_commits; /* the maintenance connection: sqlite_commits at its last step */
    bool ckpt_failing;     /* and whether its last checkpoint failed (logged once) */
};

static pthread_mutex_t sqlite_file_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sqlite_write_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t sqlite_commits; /* commits seen by WAL hooks */
static atomic_bool sqlite_ckpt_asked;       /* the maintenance thread was woken */
static char sqlite_opened[PATH_MAX]; /* a connection opened this path (under sqlite_file_lock) */

/* Take the process's write mutex for c (see the invariants). */
static void write_enter(struct sqlite_db *c)
{
    if (c->writing)
        return;
    pthread_mutex_lock(&sqlite_write_lock);
    c->writing = true;
}

/* Give it back once c has nothing left in flight. */
static void write_leave(struct sqlite_db *c)
{
    if (!c->writing || c->rows.stmt != NULL || !sqlite3_get_autocommit(c->h))
        return;
    c->writing = false;
    pthread_mutex_unlock(&sqlite_write_lock);
}

/* The WAL hook of server connections: runs after each commit with the
 * number of pages in the WAL. */
static int wal_note(void *arg, sqlite3 *h, const char *name, int pages)
{
    (void)arg;
    (void)h;
    (void)name;
    atomic_fetch_add(&sqlite_commits, 1);
    if (pages >= LIMIT_WAL_CHECKPOINT_PAGES && !atomic_exchange(&sqlite_ckpt_asked, true))
        db_maint_wake();
    return SQLITE_OK;
}

static int sqlite_map(int src)
{
    switch (src & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return ERR_OK;
    case SQLITE_CONSTRAINT:
        return ERR_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_BUSY;
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_IOERR:
        return ERR_READONLY;
    case SQLITE_CANTOPEN:
        return ERR_STORAGE_DOWN;
    default:
        return ERR_INTERNAL;
    }
}

/* Map and log a failure of statement id (-1 for scripts and setup).
 * Constraint violations are normal flow (e.g. a taken name): debug only. */
static int sqlite_fail(struct sqlite_db *c, int id, int src)
{
    int rc = sqlite_map(src);
    enum log_level l = rc == ERR_CONFLICT ? LOG_DEBUG : rc == ERR_BUSY ? LOG_WARN : LOG_ERROR;

    log_msg(l, "db", "sqlite statement %d failed: %s (%d)", id, sqlite3_errmsg(c->h),
            sqlite3_extended_errcode(c->h));
    return rc;
}

static int sqlite_mode_warned; /* once a process; guarded by sqlite_file_lock */

/* Whether a connection of this process opened path already (set: record
 * that one did). */
static bool path_opened(const char *path, bool set)
{
    bool known;

    pthread_mutex_lock(&sqlite_file_lock);
    known = strcmp(sqlite_opened, path) == 0;
    if (set && !known && strlen(path) < sizeof sqlite_opened)
        memcpy(sqlite_opened, path, strlen(path) + 1);
    pthread_mutex_unlock(&sqlite_file_lock);
    return known;
}

/* Create the database file with mode 0600 if it is missing; warn about an
 * existing file that others may read (the operator decides: no chmod here). */
static int file_prepare(const char *path)
{
    struct stat st;
    int rc = ERR_STORAGE_DOWN;
    int fd;

    pthread_mutex_lock(&sqlite_file_lock);
    if (stat(path, &st) == 0) {
        if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 && !sqlite_mode_warned++)
            log_warn("db",
                     "the database file %s has mode %04o: other users may read it; "
                     "`chmod 600 %s` makes it private (atelier does not change it)",
                     path, (unsigned)(st.st_mode & 07777), path);
        rc = ERR_OK;
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("db", "cannot create database file %s: %s", path, strerror(errno));
        goto out;
    }
    /* The umask may have removed bits; 0600 is wanted exactly. */
    if (fchmod(fd, 0600) != 0)
        log_warn("db", "fchmod of the database file failed: %s", strerror(errno));
    close(fd);
    rc = ERR_OK;
out:
    pthread_mutex_unlock(&sqlite_file_lock);
    return rc;
}

/* sqlite3_exec callback: note whether journal_mode came back as "wal". */
static int pragma_row(void *arg, int n, char **vals, char **names)
{
    bool *wal = arg;
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], "journal_mode") == 0)
            *wal = vals[i] != NULL && strcmp(vals[i], "wal") == 0;
    return 0;
}

static int conn_setup(struct sqlite_db *c)
{
    static const char pragmas[] = "PRAGMA busy_timeout=5000;"
                                  "PRAGMA journal_mode=WAL;"
                                  "PRAGMA synchronous=NORMAL;"
                                  "PRAGMA secure_delete=ON;"
                                  "PRAGMA foreign_keys=ON;"
                                  "PRAGMA temp_store=MEMORY;";
    bool wal = false;
    int src;

    sqlite3_extended_result_codes(c->h, 1);
    src = sqlite3_db_config(c->h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    if (src == SQLITE_OK)
        src = sqlite3_db_config(c->h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    if (src == SQLITE_OK)
        src = sqlite3_db_config(c->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    if (src == SQLITE_OK)
        src = sqlite3_enable_load_extension(c->h, 0);
    if (src == SQLITE_OK)
        src = sqlite3_busy_timeout(c->h, SQLITE_BUSY_MS);
    if (src == SQLITE_OK)
        src = sqlite3_exec(c->h, pragmas, pragma_row, &wal, NULL);
    if (src != SQLITE_OK)
        return sqlite_fail(c, -1, src);
    if (!wal) {
        log_error("db", "sqlite: cannot switch the database to WAL mode");
        return ERR_INTERNAL;
    }
    if (db_maint_running())
        sqlite3_wal_hook(c->h, wal_note, NULL); /* replaces wal_autocheckpoint */
    return ERR_OK;
}

static void sqlite_close(struct db *db)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    int i;

    if (c == NULL)
        return;
    if (c->rows.stmt != NULL)
        sqlite3_reset(c->rows.stmt);
    c->rows.stmt = NULL;
    if (c->h != NULL && !sqlite3_get_autocommit(c->h))
        (void)sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
    if (c->h != NULL)
        write_leave(c);
    for (i = 0; i < STMT__COUNT; i++)
        sqlite3_finalize(c->cache[i]);
    if (c->h != NULL) {
        /* Never wait for another writer just to refresh statistics. */
        sqlite3_busy_timeout(c->h, 0);
        (void)sqlite3_exec(c->h, "PRAGMA analysis_limit=400; PRAGMA optimize;", NULL, NULL, NULL);
        if (sqlite3_close(c->h) != SQLITE_OK)
            log_error("db", "sqlite close failed: %s", sqlite3_errmsg(c->h));
    }
    free(c);
}

static int sqlite_open(const char *path, struct db **out)
{
    struct sqlite_db *c = NULL;
    int src;
    int rc;

    *out = NULL;
    /* Only the first connection of a process may create the file: later
     * ones finding it gone report the storage down instead of starting an
     * empty database under the server. */
    bool known = path_opened(path, false);

    if (known) {
        struct stat st;
        if (stat(path, &st) != 0) {
            log_error("db", "the database file %s is gone: %s", path, strerror(errno));
            rc = ERR_STORAGE_DOWN;
            goto out;
        }
        rc = ERR_OK;
    } else {
        rc = file_prepare(path);
    }
    if (rc != ERR_OK)
        goto out;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        log_error("db", "out of memory opening the database");
        rc = ERR_INTERNAL;
        goto out;
    }
    c->base.drv = &db_sqlite_driver;
    c->rows.base.db = &c->base;
    src = sqlite3_open_v2(
        path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (known ? 0 : SQLITE_OPEN_CREATE),
        NULL);
    if (src != SQLITE_OK) {
        log_error("db", "cannot open database %s: %s", path,
                  c->h != NULL ? sqlite3_errmsg(c->h) : sqlite3_errstr(src));
        rc = sqlite_map(src) == ERR_INTERNAL ? ERR_STORAGE_DOWN : sqlite_map(src);
        goto out;
    }
    if (sqlite3_db_readonly(c->h, "main") == 1) {
        log_error("db",
                  "the database file %s is read-only for this process (its mode, owner, an "
                  "immutable flag or a read-only mount): atelier must write it; make it writable "
                  "for the user atelier runs as (chown, chmod u+w, chattr -i, or mount it "
                  "read-write)",
                  path);
        rc = ERR_READONLY;
        goto out;
    }
    rc = conn_setup(c);
    if (rc != ERR_OK)
        goto out;
    struct stat st;
    if (stat(path, &st) != 0) {
        log_error("db", "cannot stat the database file: %s", strerror(errno));
        rc = ERR_STORAGE_DOWN;
        goto out;
    }
    c->path = path;
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    (void)path_opened(path, true);
    *out = &c->base;
    c = NULL;
out:
    sqlite_close(c ? &c->base : NULL);
    return rc;
}

/* Copy sql to a new string with every $N placeholder outside quotes turned
 * into ?N (same length). SQLite numbers "$N" by order of appearance, "?N"
 * by N, which is what the PostgreSQL-style SQL means. */
static char *sql_rewrite(const char *sql)
{
    size_t n = strlen(sql);
    char *out = malloc(n + 1);
    char quote = 0;
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        char ch = sql[i];
        if (quote != 0) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            ch = '?';
        }
        out[i] = ch;
    }
    out[n] = '\0';
    return out;
}

static int stmt_get(struct sqlite_db *c, enum stmt id, sqlite3_stmt **out)
{
    const char *sql = db_stmt_sql(id, DB_SQLITE);
    const char *tail = NULL;
    char *text = NULL;
    int src;
    int rc = ERR_INTERNAL;

    *out = NULL;
    if (sql == NULL) {
        log_error("db", "statement %d has no SQLite SQL", (int)id);
        goto out;
    }
    if (c->cache[id] != NULL) {
        *out = c->cache[id];
        rc = ERR_OK;
        goto out;
    }
    text = sql_rewrite(sql);
    if (text == NULL) {
        log_error("db", "out of memory preparing statement %d", (int)id);
        goto out;
    }
    src = sqlite3_prepare_v3(c->h, text, -1, SQLITE_PREPARE_PERSISTENT, &c->cache[id], &tail);
    if (src != SQLITE_OK) {
        rc = sqlite_fail(c, (int)id, src);
        goto out;
    }
    if (c->cache[id] == NULL || tail[strspn(tail, " \t\r\n;")] != '\0') {
        log_error("db", "statement %d must be exactly one SQL statement", (int)id);
        sqlite3_finalize(c->cache[id]);
        c->cache[id] = NULL;
        goto out;
    }
    *out = c->cache[id];
    rc = ERR_OK;
out:
    free(text);
    return rc;
}

static int params_bind(struct sqlite_db *c, sqlite3_stmt *st, enum stmt id,
                       const struct db_param *p, int n, bool copy)
{
    sqlite3_destructor_type how = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
    int src = SQLITE_OK;
    int i;

    if (n != sqlite3_bind_parameter_count(st)) {
        log_error("db", "statement %d takes %d parameters, got %d", (int)id,
                  sqlite3_bind_parameter_count(st), n);
        return ERR_INTERNAL;
    }
    for (i = 0; i < n && src == SQLITE_OK; i++) {
        /* A NULL pointer would bind SQL NULL: empty values point at "". */
        const void *v = p[i].p != NULL ? p[i].p : "";
        switch (p[i].type) {
        case DB_TINT:
            src = sqlite3_bind_int64(st, i + 1, p[i].i);
            break;
        case DB_TTEXT:
            src = sqlite3_bind_text64(st, i + 1, v, p[i].n, how, SQLITE_UTF8);
            break;
        case DB_TBLOB:
            src = sqlite3_bind_blob64(st, i + 1, v, p[i].n, how);
            break;
        case DB_TNULL:
            src = sqlite3_bind_null(st, i + 1);
            break;
        default:
            log_error("db", "statement %d: parameter %d has an unknown type", (int)id, i + 1);
            return ERR_INTERNAL;
        }
    }
    if (src != SQLITE_OK)
        return sqlite_fail(c, (int)id, src);
    return ERR_OK;
}

static int sqlite_query(struct db *db, enum stmt id, const struct db_param *p, int n,
                        struct db_rows **rows, int64_t *changes)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    sqlite3_stmt *st = NULL;
    int src;
    int rc;

    *changes = 0;
    if (c->rows.stmt != NULL) {
        log_error("db", "statement %d run while a result is still open", (int)id);
        return ERR_INTERNAL;
    }
    rc = stmt_get(c, id, &st);
    if (rc != ERR_OK)
        return rc;
    rc = params_bind(c, st, id, p, n, rows != NULL);
    if (rc != ERR_OK)
        goto out;
    if (sqlite3_get_autocommit(c->h) && (id == STMT_BEGIN || !sqlite3_stmt_readonly(st)))
        write_enter(c);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && rows != NULL) {
        c->rows = (struct sqlite_rows){.base.db = db, .stmt = st, .id = id, .pending = true};
        *rows = &c->rows.base;
        return ERR_OK;
    }
    while (src == SQLITE_ROW)
        src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = sqlite_fail(c, (int)id, src);
        goto out;
    }
    /* sqlite3_changes64 keeps the count of the last write: not ours. */
    *changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(c->h);
    if (rows != NULL) {
        c->rows = (struct sqlite_rows){.base.db = db, .stmt = st, .id = id, .done = true};
        *rows = &c->rows.base;
        return ERR_OK;
    }
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    write_leave(c);
    return rc;
}

static int sqlite_exec_script(struct db *db, const char *sql)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    int src;

    if (c->rows.stmt != NULL) {
        log_error("db", "script run while a result is still open");
        return ERR_INTERNAL;
    }
    if (sqlite3_get_autocommit(c->h))
        write_enter(c);
    src = sqlite3_exec(c->h, sql, NULL, NULL, NULL);
    write_leave(c);
    if (src != SQLITE_OK)
        return sqlite_fail(c, -1, src);
    return ERR_OK;
}

static int sqlite_next(struct db_rows *r)
{
    struct sqlite_rows *s = (struct sqlite_rows *)r;
    int src;

    if (s->stmt == NULL)
        return ERR_INTERNAL;
    if (s->pending) {
        s->pending = false;
        s->has_row = true;
        return 1;
    }
    s->has_row = false;
    if (s->done)
        return 0;
    src = sqlite3_step(s->stmt);
    if (src == SQLITE_ROW) {
        s->has_row = true;
        return 1;
    }
    s->done = true;
    if (src == SQLITE_DONE)
        return 0;
    return sqlite_fail((struct sqlite_db *)r->db, s->id, src);
}

static bool col_ok(struct sqlite_rows *s, int col)
{
    return s->stmt != NULL && s->has_row && col >= 0 && col < sqlite3_column_count(s->stmt);
}

static bool sqlite_col_null(struct db_rows *r, int col)
{
    struct sqlite_rows *s = (struct sqlite_rows *)r;

    return !col_ok(s, col) || sqlite3_column_type(s->stmt, col) == SQLITE_NULL;
}

static int64_t sqlite_col_int(struct db_rows *r, int col)
{
    struct sqlite_rows *s = (struct sqlite_rows *)r;

    return col_ok(s, col) ? sqlite3_column_int64(s->stmt, col) : 0;
}

static const void *sqlite_col_bytes(struct db_rows *r, int col, size_t *len)
{
    struct sqlite_rows *s = (struct sqlite_rows *)r;
    const void *p;

    *len = 0;
    if (!col_ok(s, col))
        return NULL;
    /* Text through column_text, so it is NUL-terminated. */
    if (sqlite3_column_type(s->stmt, col) == SQLITE_BLOB)
        p = sqlite3_column_blob(s->stmt, col);
    else
        p = sqlite3_column_text(s->stmt, col);
    *len = (size_t)sqlite3_column_bytes(s->stmt, col);
    return p;
}

static void sqlite_rows_free(struct db_rows *r)
{
    struct sqlite_rows *s = (struct sqlite_rows *)r;

    if (s->stmt == NULL)
        return;
    sqlite3_reset(s->stmt);
    sqlite3_clear_bindings(s->stmt);
    *s = (struct sqlite_rows){.base.db = r->db};
    write_leave((struct sqlite_db *)r->db);
}

/* An SQLite deployment is a single node: cluster-wide locks are for
 * several servers sharing one PostgreSQL database. */
static int sqlite_try_lock(struct db *db, int64_t key)
{
    return 1;
}

static int sqlite_unlock(struct db *db, int64_t key)
{
    return ERR_OK;
}

/* TRUNCATE checkpoint that never waits: with the busy handler off, a reader
 * holding an old snapshot (or a writer) makes it return ERR_BUSY at once
 * instead of blocking new writers for busy_timeout. Only a truncated WAL
 * is sure to hold no copy of an erased page. */
static int sqlite_checkpoint(struct db *db)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    int src;

    if (!sqlite3_get_autocommit(c->h) || c->rows.stmt != NULL)
        return ERR_BUSY; /* inside a transaction: the caller retries later */
    sqlite3_busy_timeout(c->h, 0);
    write_enter(c); /* this process's writers wait on the mutex meanwhile */
    src = sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    write_leave(c);
    sqlite3_busy_timeout(c->h, SQLITE_BUSY_MS);
    if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
        return ERR_BUSY;
    return src == SQLITE_OK ? ERR_OK : sqlite_fail(c, -1, src);
}

/* The file at the configured path is still the one this connection opened
 * (a deleted or replaced database would lose every write at the next
 * start). */
static int sqlite_health(struct db *db)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    struct stat st;

    if (stat(c->path, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino)
        return ERR_STORAGE_DOWN;
    return ERR_OK;
}

/* The maintenance thread's checkpoints (see the invariants): PASSIVE after
 * commits, TRUNCATE after a tick without any. Neither waits. */
static void sqlite_maintain(struct db *db, bool tick)
{
    struct sqlite_db *c = (struct sqlite_db *)db;
    uint64_t commits = atomic_load(&sqlite_commits);
    bool idle = tick && commits == c->seen_commits;
    char wal[PATH_MAX];
    struct stat st;
    int src = SQLITE_OK;

    if (!sqlite3_get_autocommit(c->h) || c->rows.stmt != NULL)
        return;
    bool full = atomic_exchange(&sqlite_ckpt_asked, false);
    if (!idle && commits == c->seen_commits)
        return; /* woken with nothing new */
    c->seen_commits = commits;
    sqlite3_busy_timeout(c->h, 0);
    if (full) {
        /* the WAL reached LIMIT_WAL_CHECKPOINT_PAGES: copy what can be
         * copied while writers go on; then, with the process's writers
         * held, wait a moment for readers of older frames, copy the frames
         * committed meanwhile, and make the next commit start the WAL again
         * (the writers wait for the few frames and syncs of that step only) */
        (void)sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        write_enter(c);
        sqlite3_busy_timeout(c->h, LIMIT_WAL_RESTART_WAIT_MS);
        src = sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        write_leave(c);
    } else if (!idle) {
        src = sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (snprintf(wal, sizeof wal, "%s-wal", c->path) < (int)sizeof wal &&
               stat(wal, &st) == 0 && st.st_size >= (off_t)LIMIT_WAL_TRUNCATE_BYTES) {
        write_enter(c);
        src = sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        write_leave(c);
    }
    sqlite3_busy_timeout(c->h, SQLITE_BUSY_MS);
    /* busy: a reader or another process; retried at the next step. Other
     * failures (a full disk) are logged when they start, not every tick. */
    if (src != SQLITE_OK && (src & 0xff) != SQLITE_BUSY && (src & 0xff) != SQLITE_LOCKED) {
        if (!c->ckpt_failing)
            (void)sqlite_fail(c, -1, src);
        c->ckpt_failing = true;
    } else if (src == SQLITE_OK) {
        c->ckpt_failing = false;
    }
}

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .query = sqlite_query,
    .exec_script = sqlite_exec_script,
    .next = sqlite_next,
    .col_null = sqlite_col_null,
    .col_int = sqlite_col_int,
    .col_bytes = sqlite_col_bytes,
    .rows_free = sqlite_rows_free,
    .try_lock = sqlite_try_lock,
    .unlock = sqlite_unlock,
    .checkpoint = sqlite_checkpoint,
    .health = sqlite_health,
    .maintain = sqlite_maintain,
};
