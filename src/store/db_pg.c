/*
 * db_pg.c - the PostgreSQL driver behind db.h, over libpq.
 *
 * Invariants:
 *  - A connection belongs to one thread. Its client encoding is UTF8 (a
 *    connection option, so PQreset keeps it) and server notices are dropped.
 *  - Statements are prepared on first use per connection under the name
 *    "s<enum stmt>"; prepared[] records which ones this session has. A reset
 *    session has none, so prepared[] is cleared with every PQreset.
 *  - Parameters: integers go as decimal text, text as text (copied to add the
 *    terminating NUL), blobs in binary. Results are always requested in binary:
 *    db_col_int decodes int8/int4/int2/bool by type and length; text and bytea
 *    are their raw bytes (libpq NUL-terminates every value).
 *  - One result cursor per connection, embedded in it, holding the PGresult.
 *  - A lost connection makes the failing call return ERR_STORAGE_DOWN; the next call
 *    tries PQreset once. If the session was inside a transaction, that
 *    transaction is gone: every statement returns ERR_STORAGE_DOWN until the caller's
 *    ROLLBACK, which then succeeds without a round trip. Session advisory
 *    locks are gone too.
 *  - A batch (run_batch, for db_batch.c) goes in one pipeline: every
 *    statement sent, one sync point, the answers read in order. The batch
 *    is one implicit transaction, so its writes share one commit (one WAL
 *    flush with synchronous_commit on); when any statement fails, the
 *    writes and what was read after the first of them run again alone
 *    (pipe_redo), so no write is lost to another's failure. Its cursors are
 *    detached (their own allocation, pointing at no connection), so they can
 *    be read and freed on another thread. A statement the pipeline did not
 *    answer (aborted by an earlier error, or the connection lost) then runs
 *    alone, through pg_query and its retry (so does one whose session was
 *    terminated): a batch's outcome per statement is what db_query would
 *    have given. Once a lone run finds the server unreachable, the rest of
 *    the batch fails with it instead of each waiting for a connection.
 *    Batches are small, at most LIMIT_DB_BATCH statements of a few KiB
 *    at a time; and libpq reads what the server sends while its own sends
 *    would block, so the blocking connection cannot deadlock on full
 *    socket buffers.
 *  - Errors are logged with SQLSTATE, constraint and the primary message,
 *    except for data exceptions (class 22), whose messages can quote values.
 *    The connection URL is never logged.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/driver.h"
#include "base/log.h"
#include "base/util.h"

/* Built-in type OIDs (fixed by PostgreSQL's catalog). */
#define PG_BOOLOID 16
#define PG_INT8OID 20
#define PG_INT2OID 21
#define PG_INT4OID 23

#define PG_NUM_MAX 24 /* decimal int64 with sign and NUL */

struct pg_rows {
    struct db_rows base;
    PGresult *res; /* NULL when no cursor is open */
    int id;        /* its enum stmt, for logs */
    int row;       /* current row, -1 before the first */
    int nrows;
    bool detached; /* a batch's cursor: its own allocation, tied to no connection */
};

struct pg_db {
    struct db base;
    PGconn *conn;
    struct pg_rows rows;
    bool in_tx;   /* the session was in a transaction after the last call */
    bool tx_lost; /* a reset dropped that transaction; waiting for ROLLBACK */
    bool prepared[STMT__COUNT];
    int nparams[STMT__COUNT]; /* highest $N of each prepared statement */
};

/* Parameters in libpq's three arrays, plus storage for converted values. */
struct pg_params {
    const char **values;
    int *lengths;
    int *formats;
    char *store;
};

static void pg_notice(void *arg, const char *msg)
{
    /* Dropped: notices such as "relation already exists, skipping" are
     * expected, and a notice may quote data. */
}

/* First line of a libpq message, into buf. */
static const char *msg_line(const char *msg, char *buf, size_t size)
{
    size_t n = strcspn(msg != NULL ? msg : "", "\r\n");

    if (n >= size)
        n = size - 1;
    memcpy(buf, msg != NULL ? msg : "", n);
    buf[n] = '\0';
    return buf;
}

static bool state_is(const char *state, const char *want)
{
    return strncmp(state, want, strlen(want)) == 0;
}

/* Map and log a failed result (res may be NULL) of statement id (-1 for
 * scripts and locks). Constraint violations are normal flow: debug only. */
static int pg_fail(struct pg_db *c, int id, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *prim = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    enum log_level l = LOG_ERROR;
    char line[256];
    int rc = ERR_INTERNAL;

    if (PQstatus(c->conn) == CONNECTION_BAD) {
        log_error("db", "postgres connection lost: %s",
                  msg_line(PQerrorMessage(c->conn), line, sizeof line));
        return ERR_STORAGE_DOWN;
    }
    if (state == NULL)
        state = "";
    if (state_is(state, "23")) {
        rc = ERR_CONFLICT;
        l = LOG_DEBUG;
    } else if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03")) {
        rc = ERR_BUSY;
        l = LOG_WARN;
    } else if (state_is(state, "25006") || state_is(state, "53")) {
        rc = ERR_READONLY;
    } else if (state_is(state, "57P0")) {
        rc = ERR_STORAGE_DOWN; /* server shutting down or starting */
    }
    if (res == NULL)
        prim = msg_line(PQerrorMessage(c->conn), line, sizeof line);
    else if (prim == NULL || state_is(state, "22"))
        prim = "";
    log_msg(l, "db", "postgres statement %d failed: SQLSTATE %s%s%s %s", id,
            state[0] != '\0' ? state : "none", cons != NULL ? " constraint " : "",
            cons != NULL ? cons : "", prim);
    return rc;
}

/* Make the connection usable: reset a broken one (once per call), and
 * refuse work in a transaction that a reset dropped. */
static int conn_ready(struct pg_db *c)
{
    char line[256];

    if (PQstatus(c->conn) != CONNECTION_OK) {
        PQreset(c->conn);
        memset(c->prepared, 0, sizeof c->prepared);
        if (PQstatus(c->conn) != CONNECTION_OK) {
            log_error("db", "postgres reconnect failed: %s",
                      msg_line(PQerrorMessage(c->conn), line, sizeof line));
            return ERR_STORAGE_DOWN;
        }
        log_warn("db", "postgres connection re-established");
        c->tx_lost = c->in_tx;
        c->in_tx = false;
    }
    if (c->tx_lost) {
        log_error("db", "postgres transaction lost with the connection; roll back first");
        return ERR_STORAGE_DOWN;
    }
    return ERR_OK;
}

static void tx_track(struct pg_db *c)
{
    PGTransactionStatusType t = PQtransactionStatus(c->conn);

    if (PQstatus(c->conn) == CONNECTION_OK)
        c->in_tx = t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static void pg_close(struct db *db)
{
    struct pg_db *c = (struct pg_db *)db;

    if (c == NULL)
        return;
    PQclear(c->rows.res);
    PQfinish(c->conn);
    free(c);
}

static int pg_open(const char *target, struct db **out)
{
    /* Later keywords win over the URL's; earlier ones are defaults. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                "client_encoding", NULL};
    const char *const vals[] = {"10", "atelier", target, "UTF8", NULL};
    struct pg_db *c = NULL;
    char line[256];
    int rc = ERR_INTERNAL;

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        log_error("db", "out of memory opening the database");
        goto out;
    }
    c->base.drv = &db_pg_driver;
    c->rows.base.db = &c->base;
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn == NULL) {
        log_error("db", "out of memory connecting to postgres");
        goto out;
    }
    if (PQstatus(c->conn) != CONNECTION_OK) {
        log_error("db", "cannot connect to postgres: %s",
                  msg_line(PQerrorMessage(c->conn), line, sizeof line));
        rc = ERR_STORAGE_DOWN;
        goto out;
    }
    PQsetNoticeProcessor(c->conn, pg_notice, NULL);
    if (strcmp(pg_encoding_to_char(PQclientEncoding(c->conn)), "UTF8") != 0) {
        log_error("db", "postgres client encoding is not UTF8");
        goto out;
    }
    *out = &c->base;
    c = NULL;
    rc = ERR_OK;
out:
    pg_close(c ? &c->base : NULL);
    return rc;
}

/* Highest $N outside quotes: the number of parameters the SQL takes. */
static int sql_nparams(const char *sql)
{
    char quote = 0;
    int max = 0;

    for (; *sql != '\0'; sql++) {
        if (quote != 0) {
            if (*sql == quote)
                quote = 0;
        } else if (*sql == '\'' || *sql == '"') {
            quote = *sql;
        } else if (*sql == '$' && sql[1] >= '0' && sql[1] <= '9') {
            int v = 0;
            while (sql[1] >= '0' && sql[1] <= '9' && v < 100000)
                v = v * 10 + (*++sql - '0');
            if (v > max)
                max = v;
        }
    }
    return max;
}

static int stmt_prepare(struct pg_db *c, enum stmt id, char name[16])
{
    const char *sql = db_stmt_sql(id, DB_POSTGRES);
    PGresult *res = NULL;
    int rc = ERR_OK;

    snprintf(name, 16, "s%d", (int)id);
    if (sql == NULL) {
        log_error("db", "statement %d does not exist on postgres", (int)id);
        rc = ERR_INTERNAL;
        goto out;
    }
    if (c->prepared[id])
        goto out;
    res = PQprepare(c->conn, name, sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(c, (int)id, res);
        goto out;
    }
    c->prepared[id] = true;
    c->nparams[id] = sql_nparams(sql);
out:
    PQclear(res);
    return rc;
}

/* Convert p[0..n) into libpq's arrays in one allocation (free pp->values). */
static int params_build(enum stmt id, const struct db_param *p, int n, struct pg_params *pp)
{
    size_t head = 0, total = 0, off = 0;
    char *mem;
    int i;

    *pp = (struct pg_params){0};
    if (n == 0)
        return ERR_OK;
    /* pointers, then ints, then text and number storage */
    if (!size_mul((size_t)n, sizeof(char *) + 2 * sizeof(int) + PG_NUM_MAX, &head))
        return ERR_INTERNAL;
    total = head;
    for (i = 0; i < n; i++) {
        if (p[i].type == DB_TBLOB && p[i].n > INT_MAX) {
            log_error("db", "statement %d: parameter %d too large", (int)id, i + 1);
            return ERR_INTERNAL;
        }
        if (p[i].type == DB_TTEXT && !size_add(total, p[i].n + 1, &total))
            return ERR_INTERNAL;
    }
    mem = malloc(total);
    if (mem == NULL) {
        log_error("db", "out of memory binding statement %d", (int)id);
        return ERR_INTERNAL;
    }
    pp->values = (const char **)(void *)mem;
    pp->lengths = (int *)(void *)(mem + (size_t)n * sizeof(char *));
    pp->formats = pp->lengths + n;
    pp->store = (char *)(pp->formats + n);
    for (i = 0; i < n; i++) {
        char *s = pp->store + off;
        pp->lengths[i] = 0;
        pp->formats[i] = 0;
        switch (p[i].type) {
        case DB_TINT:
            snprintf(s, PG_NUM_MAX, "%" PRId64, p[i].i);
            pp->values[i] = s;
            off += PG_NUM_MAX;
            break;
        case DB_TTEXT:
            if (p[i].n > 0)
                memcpy(s, p[i].p, p[i].n);
            s[p[i].n] = '\0';
            pp->values[i] = s;
            off += p[i].n + 1;
            break;
        case DB_TBLOB:
            pp->values[i] = p[i].p != NULL ? p[i].p : "";
            pp->lengths[i] = (int)p[i].n;
            pp->formats[i] = 1;
            break;
        case DB_TNULL:
            pp->values[i] = NULL;
            break;
        default:
            log_error("db", "statement %d: parameter %d has an unknown type", (int)id, i + 1);
            free(mem);
            *pp = (struct pg_params){0};
            return ERR_INTERNAL;
        }
    }
    return ERR_OK;
}

/* Rows changed by a command; 0 for SELECT (whose tag counts rows read). */
static int64_t cmd_changes(PGresult *res)
{
    const char *tuples = PQcmdTuples(res);
    int64_t v = 0;

    if (strncmp(PQcmdStatus(res), "SELECT", 6) == 0 || tuples[0] == '\0')
        return 0;
    if (util_parse_i64(tuples, 0, INT64_MAX, &v) != 0)
        return 0;
    return v;
}

static int pg_query_once(struct db *db, enum stmt id, const struct db_param *p, int n,
                         struct db_rows **rows, int64_t *changes)
{
    struct pg_db *c = (struct pg_db *)db;
    struct pg_params pp = {0};
    PGresult *res = NULL;
    ExecStatusType st;
    char name[16];
    int rc;

    *changes = 0;
    if (c->rows.res != NULL) {
        log_error("db", "statement %d run while a result is still open", (int)id);
        return ERR_INTERNAL;
    }
    /* A transaction lost with its connection is already rolled back. */
    if (id == STMT_ROLLBACK && (c->tx_lost || PQstatus(c->conn) != CONNECTION_OK)) {
        c->tx_lost = false;
        c->in_tx = false;
        return ERR_OK;
    }
    rc = conn_ready(c);
    if (rc != ERR_OK)
        goto out;
    rc = stmt_prepare(c, id, name);
    if (rc != ERR_OK)
        goto out;
    if (n != c->nparams[id]) {
        log_error("db", "statement %d takes %d parameters, got %d", (int)id, c->nparams[id], n);
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = params_build(id, p, n, &pp);
    if (rc != ERR_OK)
        goto out;
    res = PQexecPrepared(c->conn, name, n, pp.values, pp.lengths, pp.formats, 1);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = pg_fail(c, (int)id, res);
        goto out;
    }
    /* COMMIT of a transaction that had failed succeeds as "ROLLBACK". */
    if (id == STMT_COMMIT && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        log_error("db", "postgres COMMIT rolled back a failed transaction");
        rc = ERR_INTERNAL;
        goto out;
    }
    *changes = cmd_changes(res);
    if (rows != NULL) {
        c->rows = (struct pg_rows){
            .base.db = db, .res = res, .id = (int)id, .row = -1, .nrows = PQntuples(res)};
        *rows = &c->rows.base;
        res = NULL;
    }
out:
    tx_track(c);
    PQclear(res);
    free(pp.values);
    return rc;
}

/* A statement outside a transaction that finds the session dead (server
 * restarted, connection terminated) is retried once on a fresh connection,
 * so the caller does not see the failure. Usually nothing of it ran; in the
 * rare case the server ran it and the answer was lost, the retry is
 * harmless for this project's statements (inserts collide on their random
 * primary key, updates and deletes are idempotent). Inside a transaction the
 * whole transaction is lost, so the error goes up. */
static int pg_query(struct db *db, enum stmt id, const struct db_param *p, int n,
                    struct db_rows **rows, int64_t *changes)
{
    struct pg_db *c = (struct pg_db *)db;
    bool was_in_tx = c->in_tx || c->tx_lost || id == STMT_COMMIT || id == STMT_ROLLBACK;
    int rc = pg_query_once(db, id, p, n, rows, changes);

    if (rc == ERR_STORAGE_DOWN && !was_in_tx && PQstatus(c->conn) == CONNECTION_BAD)
        rc = pg_query_once(db, id, p, n, rows, changes);
    return rc;
}

static int pg_exec_script(struct db *db, const char *sql)
{
    struct pg_db *c = (struct pg_db *)db;
    PGresult *res = NULL;
    ExecStatusType st;
    int rc;

    if (c->rows.res != NULL) {
        log_error("db", "script run while a result is still open");
        return ERR_INTERNAL;
    }
    rc = conn_ready(c);
    if (rc != ERR_OK)
        goto out;
    res = PQexec(c->conn, sql);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = pg_fail(c, -1, res);
out:
    tx_track(c);
    PQclear(res);
    return rc;
}

static int pg_next(struct db_rows *r)
{
    struct pg_rows *s = (struct pg_rows *)r;

    if (s->res == NULL)
        return ERR_INTERNAL;
    if (s->row + 1 >= s->nrows) {
        s->row = s->nrows;
        return 0;
    }
    s->row++;
    return 1;
}

static bool col_ok(struct pg_rows *s, int col)
{
    return s->res != NULL && s->row >= 0 && s->row < s->nrows && col >= 0 &&
           col < PQnfields(s->res);
}

static bool pg_col_null(struct db_rows *r, int col)
{
    struct pg_rows *s = (struct pg_rows *)r;

    return !col_ok(s, col) || PQgetisnull(s->res, s->row, col);
}

/* Big-endian two's complement of n bytes (n <= 8) as int64. */
static int64_t be_int(const unsigned char *v, int n)
{
    uint64_t u = (v[0] & 0x80) ? UINT64_MAX : 0;
    int i;

    for (i = 0; i < n; i++)
        u = (u << 8) | v[i];
    return u > (uint64_t)INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
}

static int64_t pg_col_int(struct db_rows *r, int col)
{
    struct pg_rows *s = (struct pg_rows *)r;
    const unsigned char *v;
    int len;
    Oid type;

    if (pg_col_null(r, col))
        return 0;
    v = (const unsigned char *)PQgetvalue(s->res, s->row, col);
    len = PQgetlength(s->res, s->row, col);
    type = PQftype(s->res, col);
    if ((type == PG_INT8OID && len == 8) || (type == PG_INT4OID && len == 4) ||
        (type == PG_INT2OID && len == 2))
        return be_int(v, len);
    if (type == PG_BOOLOID && len == 1)
        return v[0] != 0;
    log_error("db", "statement %d column %d (type %u) is not an integer", s->id, col,
              (unsigned)type);
    return 0;
}

static const void *pg_col_bytes(struct db_rows *r, int col, size_t *len)
{
    struct pg_rows *s = (struct pg_rows *)r;

    *len = 0;
    if (!col_ok(s, col))
        return NULL;
    *len = (size_t)PQgetlength(s->res, s->row, col);
    return PQgetvalue(s->res, s->row, col);
}

static void pg_rows_free(struct db_rows *r)
{
    struct pg_rows *s = (struct pg_rows *)r;

    PQclear(s->res);
    if (s->detached)
        free(s);
    else
        *s = (struct pg_rows){.base.db = r->db};
}

/* ---- batches: one pipeline, one round trip (run_batch) ---- */

/* The connection a detached cursor names: it gives the driver, nothing else. */
static struct db pg_detached_db = {.drv = &db_pg_driver};

#define PIPE_PENDING 1 /* an item's rc until the pipeline or a lone run answers it */

/* A cursor of its own over res (taken), or NULL when out of memory. */
static struct db_rows *rows_detached(PGresult *res, int id)
{
    struct pg_rows *s = malloc(sizeof *s);

    if (s == NULL) {
        log_error("db", "out of memory holding the result of statement %d", id);
        PQclear(res);
        return NULL;
    }
    *s = (struct pg_rows){.base.db = &pg_detached_db,
                          .res = res,
                          .id = id,
                          .row = -1,
                          .nrows = PQntuples(res),
                          .detached = true};
    return &s->base;
}

/* The outcome of a finished result for item it (res taken). */
static void pipe_answer(struct pg_db *c, struct db_batch_item *it, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_PIPELINE_ABORTED) { /* an earlier statement failed: run alone */
        PQclear(res);
        return;
    }
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        int rc = pg_fail(c, (int)it->id, res);
        if (rc != ERR_STORAGE_DOWN) /* a lost session: run alone, which reconnects */
            it->rc = rc;
        PQclear(res);
        return;
    }
    it->changes = cmd_changes(res);
    it->rows = rows_detached(res, (int)it->id);
    it->rc = it->rows != NULL ? ERR_OK : ERR_NOMEM;
}

/* Prepare what this session lacks (outside the pipeline: PQprepare waits)
 * and send every item, then one sync point: the number sent, which are the
 * first ones. */
static int pipe_send(struct pg_db *c, struct db_batch_item *items, int n)
{
    struct pg_params pp;
    char name[16];
    int i;

    for (i = 0; i < n; i++) {
        if (stmt_prepare(c, items[i].id, name) != ERR_OK || items[i].n != c->nparams[items[i].id])
            return 0; /* each runs alone, where the error is logged and returned */
    }
    if (!PQenterPipelineMode(c->conn))
        return 0;
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "s%d", (int)items[i].id);
        if (params_build(items[i].id, items[i].p, items[i].n, &pp) != ERR_OK)
            break;
        int ok =
            PQsendQueryPrepared(c->conn, name, items[i].n, pp.values, pp.lengths, pp.formats, 1);
        free(pp.values);
        if (!ok)
            break;
    }
    return PQpipelineSync(c->conn) ? i : 0;
}

/* Read the answers of the first sent items, in order, up to the sync
 * point. Returns 0 when the pipeline ended cleanly. Each statement's
 * results end with a NULL from PQgetResult; so at most 2 reads per item,
 * plus the sync, on a healthy connection. */
static int pipe_read(struct pg_db *c, struct db_batch_item *items, int sent)
{
    int i = 0, reads = 0, max_reads = 2 * sent + 2;
    bool answered = false;

    while (reads++ < max_reads) {
        PGresult *res = PQgetResult(c->conn);

        if (res == NULL) {
            if (PQstatus(c->conn) == CONNECTION_BAD)
                return -1;
            if (answered) {
                i++;
                answered = false;
            }
            continue;
        }
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return i == sent ? 0 : -1;
        }
        if (i >= sent || answered) { /* a second result for one statement */
            PQclear(res);
            return -1;
        }
        pipe_answer(c, &items[i], res);
        answered = true;
    }
    return -1;
}

/* A batch is one implicit transaction, committed at its sync point. When
 * anything in it failed (or the pipeline did not end cleanly), its writes
 * were rolled back with it, and what it read after its first write may
 * have seen them: every statement from the first write on that the
 * pipeline answered runs again alone (a statement's own error stands). */
static void pipe_redo(struct db_batch_item *items, int n, bool clean)
{
    int first = -1;
    bool failed = !clean;

    for (int i = 0; i < n; i++) {
        if (first < 0 && !db_stmt_reads(items[i].id, DB_POSTGRES))
            first = i;
        failed = failed || items[i].rc != ERR_OK;
    }
    if (first < 0 || !failed)
        return;
    for (int i = first; i < n; i++) {
        if (items[i].rc != ERR_OK)
            continue;
        pg_rows_free(items[i].rows);
        items[i].rows = NULL;
        items[i].changes = 0;
        items[i].rc = PIPE_PENDING;
    }
}

/* One statement alone, its cursor detached (what the pipeline left). */
static int pipe_alone(struct pg_db *c, struct db_batch_item *it)
{
    struct db_rows *rows = NULL;
    int64_t changes = 0;
    int rc = pg_query(&c->base, it->id, it->p, it->n, &rows, &changes);

    if (rc != ERR_OK)
        return rc;
    PGresult *res = c->rows.res;
    c->rows = (struct pg_rows){.base.db = &c->base};
    it->changes = changes;
    it->rows = rows_detached(res, (int)it->id);
    return it->rows != NULL ? ERR_OK : ERR_NOMEM;
}

static void pg_run_batch(struct db *db, struct db_batch_item *items, int n)
{
    struct pg_db *c = (struct pg_db *)db;
    int i, sent = 0;
    bool clean = false;

    for (i = 0; i < n; i++) {
        items[i].rc = PIPE_PENDING;
        items[i].rows = NULL;
        items[i].changes = 0;
    }
    if (c->rows.res == NULL && !c->in_tx && conn_ready(c) == ERR_OK &&
        (sent = pipe_send(c, items, n)) > 0 && pipe_read(c, items, sent) == 0) {
        (void)PQexitPipelineMode(c->conn);
        clean = true;
    } else if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(c->conn)) {
        /* answers still owed on a live connection: start a clean session */
        log_error("db", "postgres pipeline out of step; reconnecting");
        PQreset(c->conn);
        memset(c->prepared, 0, sizeof c->prepared);
    }
    pipe_redo(items, n, clean);
    /* Once a lone run finds the server unreachable, the rest fail as it
     * did rather than each wait for a connection of their own. */
    bool down = false;
    for (i = 0; i < n; i++) {
        if (items[i].rc != PIPE_PENDING)
            continue;
        items[i].rc = down ? ERR_STORAGE_DOWN : pipe_alone(c, &items[i]);
        down = items[i].rc == ERR_STORAGE_DOWN && PQstatus(c->conn) != CONNECTION_OK;
    }
}

/* Run a one-boolean lock function with key as its bigint argument. */
static int lock_call(struct pg_db *c, const char *sql, int64_t key)
{
    char num[PG_NUM_MAX];
    const char *vals[1] = {num};
    PGresult *res = NULL;
    int rc;

    rc = conn_ready(c);
    if (rc != ERR_OK)
        goto out;
    snprintf(num, sizeof num, "%" PRId64, key);
    res = PQexecParams(c->conn, sql, 1, NULL, vals, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
        PQgetlength(res, 0, 0) != 1) {
        rc = pg_fail(c, -1, res);
        goto out;
    }
    rc = PQgetvalue(res, 0, 0)[0] != 0;
out:
    tx_track(c);
    PQclear(res);
    return rc;
}

static int pg_try_lock(struct db *db, int64_t key)
{
    return lock_call((struct pg_db *)db, "SELECT pg_try_advisory_lock($1::bigint)", key);
}

static int pg_unlock(struct db *db, int64_t key)
{
    int rc = lock_call((struct pg_db *)db, "SELECT pg_advisory_unlock($1::bigint)", key);

    if (rc == 0) {
        log_warn("db", "postgres advisory lock was not held");
        return ERR_INTERNAL;
    }
    return rc < 0 ? rc : ERR_OK;
}

const struct db_driver db_pg_driver = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .exec_script = pg_exec_script,
    .next = pg_next,
    .col_null = pg_col_null,
    .col_int = pg_col_int,
    .col_bytes = pg_col_bytes,
    .rows_free = pg_rows_free,
    .try_lock = pg_try_lock,
    .unlock = pg_unlock,
    .run_batch = pg_run_batch,
};
