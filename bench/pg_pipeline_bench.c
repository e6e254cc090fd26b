/*
 * pg_pipeline_bench.c - what one authenticated model read costs PostgreSQL
 * and its client when the statements of several requests share a round trip
 * (bench/run.sh, PIPELINE=1; docs/PERFORMANCE.md). Not a test.
 *
 *   pg_pipeline_bench URL MODEL_ID COUNT BATCH...
 *
 * Runs the server's own joined session-and-model read (STMT_SESSION_AUTH_MODEL,
 * its PostgreSQL text from src/store/db_stmts.c) COUNT times for each BATCH:
 * 1 is what the server does today (PQexecPrepared, one round trip each); n
 * sends n of them in libpq's pipeline mode, then one sync. It reads the
 * session of MODEL_ID's account from the database, so the statement returns
 * the row a request would. Prints, per batch: wall time, the client's CPU
 * (getrusage) and the PostgreSQL backend's CPU (/proc/PID/stat, 10 ms ticks)
 * per statement.
 *
 * Invariant: every statement is checked to return exactly one row; anything
 * else stops the run with exit status 1.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "store/driver.h"

#define HASH_HEX_MAX 160

/* utime + stime of a process in clock ticks, or -1. */
static long proc_ticks(int pid)
{
    char path[64], buf[1024];
    long ut = 0, st = 0;
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
        return -1;
    return ut + st;
}

static double self_cpu(void)
{
    struct rusage r;

    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
}

/* One row, or a message on stderr and -1. */
static int one_row(PGresult *r, PGconn *c)
{
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        return 0;
    fprintf(stderr, "pg_pipeline_bench: statement returned %d row(s): %s\n", PQntuples(r),
            PQerrorMessage(c));
    return -1;
}

/* count statements one round trip each. */
static int run_plain(PGconn *c, const char *const vals[3], int count)
{
    for (int i = 0; i < count; i++) {
        PGresult *r = PQexecPrepared(c, "q", 3, vals, NULL, NULL, 1);
        int rc = one_row(r, c);
        PQclear(r);
        if (rc)
            return rc;
    }
    return 0;
}

/* count statements, batch of them per pipeline sync. */
static int run_pipelined(PGconn *c, const char *const vals[3], int count, int batch)
{
    if (!PQenterPipelineMode(c))
        return -1;
    for (int i = 0; i < count; i += batch) {
        for (int k = 0; k < batch; k++)
            if (!PQsendQueryPrepared(c, "q", 3, vals, NULL, NULL, 1))
                return -1;
        if (!PQpipelineSync(c))
            return -1;
        for (;;) {
            PGresult *r = PQgetResult(c);
            if (!r)
                continue; /* the end of one statement's results */
            ExecStatusType st = PQresultStatus(r);
            int rc = st == PGRES_PIPELINE_SYNC ? 1 : one_row(r, c);
            PQclear(r);
            if (rc < 0)
                return rc;
            if (rc == 1)
                break;
        }
    }
    return PQexitPipelineMode(c) ? 0 : -1;
}

/* The session token hash of model_id's account and the backend's pid. */
static int fixture(PGconn *c, const char *model_id, char hash[HASH_HEX_MAX], int *pid)
{
    const char *vals[1] = {model_id};
    PGresult *r = PQexecParams(c,
                               "SELECT '\\x' || encode(s.token_hash, 'hex'), pg_backend_pid()"
                               " FROM sessions s JOIN models m ON m.account_id = s.account_id"
                               " WHERE m.id = $1 ORDER BY s.expires_at DESC LIMIT 1",
                               1, NULL, vals, NULL, NULL, 0);
    int rc = one_row(r, c);

    if (!rc && strlen(PQgetvalue(r, 0, 0)) >= HASH_HEX_MAX)
        rc = -1;
    if (!rc) {
        strcpy(hash, PQgetvalue(r, 0, 0));
        *pid = atoi(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

static int measure(PGconn *c, const char *const vals[3], int pid, int count, int batch)
{
    double hz = (double)sysconf(_SC_CLK_TCK);
    long b0 = proc_ticks(pid);
    double c0 = self_cpu(), w0 = (double)clock_mono_ns() / 1e9;
    int rc = batch <= 1 ? run_plain(c, vals, count) : run_pipelined(c, vals, count, batch);
    double wall = (double)clock_mono_ns() / 1e9 - w0, cpu = self_cpu() - c0;
    long b1 = proc_ticks(pid);

    if (rc) {
        fprintf(stderr, "pg_pipeline_bench: batch %d failed: %s\n", batch, PQerrorMessage(c));
        return rc;
    }
    printf("batch %3d: per statement wall %6.1f us, client CPU %5.1f us, PostgreSQL backend CPU "
           "%5.1f us (%d statements)\n",
           batch, wall / count * 1e6, cpu / count * 1e6,
           b0 < 0 || b1 < 0 ? -1.0 : (double)(b1 - b0) / hz * 1e6 / count, count);
    return 0;
}

int main(int argc, char **argv)
{
    char hash[HASH_HEX_MAX], now[32];
    const char *vals[3] = {hash, now, NULL};
    int pid = 0, count, rc = 1;
    PGconn *c = NULL;
    PGresult *r = NULL;

    if (argc < 5 || (count = atoi(argv[3])) <= 0) {
        fprintf(stderr, "usage: pg_pipeline_bench URL MODEL_ID COUNT BATCH...\n");
        return 2;
    }
    c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK || fixture(c, argv[2], hash, &pid)) {
        fprintf(stderr, "pg_pipeline_bench: %s", PQerrorMessage(c));
        goto out;
    }
    r = PQprepare(c, "q", db_stmt_sql(STMT_SESSION_AUTH_MODEL, DB_POSTGRES), 3, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "pg_pipeline_bench: prepare: %s", PQerrorMessage(c));
        goto out;
    }
    snprintf(now, sizeof now, "%lld", (long long)clock_now()); /* the server's clock */
    vals[2] = argv[2];
    for (int i = 4; i < argc; i++)
        if (measure(c, vals, pid, count, atoi(argv[i])))
            goto out;
    rc = 0;
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}
