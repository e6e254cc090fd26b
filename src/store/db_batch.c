/*
 * db_batch.c - the storage batcher: statements handed over by threads that
 * do not want to wait for them, sent together on one connection in as few
 * round trips as the backend allows (PostgreSQL: one pipeline per batch,
 * db_pg.c run_batch), each answered through its caller's callback.
 *
 * Why: on PostgreSQL a statement alone costs a round trip and a context
 * switch on each side; sixteen in one pipeline cost about a third of the
 * CPU each (docs/PERFORMANCE.md, bench/pg_pipeline_bench). The HTTP layer
 * suspends a connection whose session check waits here, so its thread goes
 * on with other connections meanwhile.
 *
 * Invariants:
 *  - One thread and one connection of its own, started by `atelier serve`
 *    (db_batch_start) only when the driver has run_batch; stopped before
 *    the HTTP daemon (db_batch_stop).
 *  - db_batch_submit returns ERR_OK when the job is queued, and then its
 *    callback runs exactly once, on the batch thread, also when stopping:
 *    db_batch_stop answers every queued job before it returns. Any other
 *    return means nothing was queued, nothing will be called, and the caller
 *    runs the statement itself (db_query): batching is an optimisation,
 *    never a condition of being served.
 *  - Only single statements that need no transaction of the caller's
 *    (SELECT, INSERT, UPDATE, DELETE; never BEGIN, COMMIT or ROLLBACK), with
 *    at most DB_BATCH_PARAMS parameters that pass db_query's own checks
 *    (db_params_check), copied at submission: the caller's buffers may go
 *    as soon as it returns. A write's outcome is its own: the statements
 *    a failure rolled back run again alone (run_batch), and one left
 *    unanswered by a lost connection runs again, as db_query retries it:
 *    the project's writes are idempotent or collide on a random key.
 *  - The writes of one batch hold their row locks until it commits; two
 *    batches that lock the same rows in opposite orders deadlock until
 *    PostgreSQL aborts one (deadlock_timeout), whose statements then run
 *    again alone. Model writes, the only batched ones, take turns per model
 *    on a node (api/model_write.c), so this takes writers on two nodes.
 *  - The queue holds at most LIMIT_DB_BATCH_QUEUE jobs and a batch at most
 *    LIMIT_DB_BATCH, taken in submission order.
 *  - A callback owns the rows it is given (db_rows_free, on any thread).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/util.h"
#include "store/driver.h"

#define DB_BATCH_PARAMS 8

struct batch_job {
    struct batch_job *next;
    enum stmt id;
    int n;
    struct db_param p[DB_BATCH_PARAMS];
    db_batch_done_fn done;
    void *arg;
    unsigned char data[]; /* the text and blob parameters' bytes */
};

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;
static pthread_t batch_threads[LIMIT_DB_BATCH_THREADS];
static int batch_nthreads;                                       /* under batch_lock */
static bool batch_started;                                       /* under batch_lock */
static bool batch_stopping;                                      /* under batch_lock */
static struct batch_job *batch_head, **batch_tail = &batch_head; /* under batch_lock */
static int batch_queued;                                         /* under batch_lock */
static atomic_bool batch_on; /* started and not stopping: a hint for callers */
static atomic_uint_fast64_t batch_count, batch_statements;

/* One allocation holding the job and copies of its parameters' bytes. */
static struct batch_job *job_new(enum stmt id, const struct db_param *p, int n)
{
    size_t bytes = 0, total, off = 0;
    struct batch_job *j;

    for (int i = 0; i < n; i++) {
        if ((p[i].type == DB_TTEXT || p[i].type == DB_TBLOB) && !size_add(bytes, p[i].n, &bytes))
            return NULL;
    }
    if (!size_add(sizeof *j, bytes, &total) || !(j = calloc(1, total)))
        return NULL;
    j->id = id;
    j->n = n;
    for (int i = 0; i < n; i++) {
        j->p[i] = p[i];
        if (p[i].type == DB_TTEXT || p[i].type == DB_TBLOB) {
            /* even an empty one: nothing may point into the caller's memory */
            if (p[i].n > 0)
                memcpy(j->data + off, p[i].p, p[i].n);
            j->p[i].p = j->data + off;
            off += p[i].n;
        }
    }
    return j;
}

static bool stmt_batchable(enum stmt id)
{
    static const char *const verbs[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE "};
    const char *sql = db_stmt_sql(id, db_backend());

    for (size_t i = 0; sql && i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strncmp(sql, verbs[i], strlen(verbs[i])) == 0)
            return true;
    }
    return false;
}

int db_batch_submit(enum stmt id, const struct db_param *p, int n, db_batch_done_fn done, void *arg)
{
    struct batch_job *j;
    int rc = ERR_UNAVAILABLE;

    if (n > DB_BATCH_PARAMS || !done || !stmt_batchable(id)) {
        log_error("db", "BUG: statement %d cannot be batched", (int)id);
        return ERR_INTERNAL;
    }
    if (db_params_check(id, p, n) != ERR_OK) /* what db_query checks, before the copy */
        return ERR_INTERNAL;
    if (!(j = job_new(id, p, n)))
        return ERR_NOMEM;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&batch_lock);
    if (batch_started && !batch_stopping && batch_queued < LIMIT_DB_BATCH_QUEUE) {
        /* Only the first job of an empty queue wakes a thread: later ones
         * ride with it, or with the next thread that finds them queued (a
         * wake-up is a system call and a task switch). */
        if (!batch_head)
            pthread_cond_signal(&batch_cond);
        *batch_tail = j;
        batch_tail = &j->next;
        batch_queued++;
        j = NULL;
        rc = ERR_OK;
    }
    pthread_mutex_unlock(&batch_lock);
    free(j);
    return rc;
}

/* Run jobs[0..n) on db (NULL: the connection could not be opened) and
 * answer each. */
static void batch_run(struct db *db, struct batch_job **jobs, int n)
{
    struct db_batch_item items[LIMIT_DB_BATCH];

    for (int i = 0; i < n; i++)
        items[i] = (struct db_batch_item){
            .id = jobs[i]->id, .p = jobs[i]->p, .n = jobs[i]->n, .rc = ERR_STORAGE_DOWN};
    if (db)
        db->drv->run_batch(db, items, n);
    atomic_fetch_add_explicit(&batch_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&batch_statements, (uint64_t)n, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
        bool ok = items[i].rc == ERR_OK;
        jobs[i]->done(jobs[i]->arg, items[i].rc, ok ? items[i].rows : NULL,
                      ok ? items[i].changes : 0);
        free(jobs[i]);
    }
}

/* Up to LIMIT_DB_BATCH jobs off the queue's head (under batch_lock). */
static int batch_take(struct batch_job **jobs)
{
    int n = 0;

    while (batch_head && n < LIMIT_DB_BATCH) {
        jobs[n++] = batch_head;
        batch_head = batch_head->next;
        batch_queued--;
    }
    if (!batch_head)
        batch_tail = &batch_head;
    return n;
}

static void *batch_main(void *unused)
{
    struct batch_job *jobs[LIMIT_DB_BATCH];

    (void)unused;
    (void)pthread_setname_np(pthread_self(), "db-batch"); /* top -H, perf */
    pthread_mutex_lock(&batch_lock);
    for (;;) {
        while (!batch_head && !batch_stopping)
            pthread_cond_wait(&batch_cond, &batch_lock);
        int n = batch_take(jobs);
        if (n == 0)
            break; /* stopping, and nothing left */
        pthread_mutex_unlock(&batch_lock);
        batch_run(db_thread(), jobs, n);
        pthread_mutex_lock(&batch_lock);
    }
    pthread_mutex_unlock(&batch_lock);
    db_thread_close();
    return NULL;
}

int db_batch_start(void)
{
    int rc = ERR_OK;

    if (db_backend() != DB_POSTGRES || !db_pg_driver.run_batch)
        return ERR_OK; /* nothing to gain: everyone runs their own */
    pthread_mutex_lock(&batch_lock);
    if (!batch_started) {
        batch_stopping = false;
        for (batch_nthreads = 0; batch_nthreads < LIMIT_DB_BATCH_THREADS; batch_nthreads++) {
            if (pthread_create(&batch_threads[batch_nthreads], NULL, batch_main, NULL) != 0)
                break;
        }
        batch_started = batch_nthreads > 0;
        if (batch_nthreads < LIMIT_DB_BATCH_THREADS)
            log_error("db", "started %d of %d storage batch threads", batch_nthreads,
                      LIMIT_DB_BATCH_THREADS);
        atomic_store(&batch_on, batch_started);
        rc = batch_started ? ERR_OK : ERR_INTERNAL;
    }
    pthread_mutex_unlock(&batch_lock);
    return rc;
}

void db_batch_stop(void)
{
    pthread_mutex_lock(&batch_lock);
    if (!batch_started) {
        pthread_mutex_unlock(&batch_lock);
        return;
    }
    batch_stopping = true; /* refuses new jobs; the queued ones are answered */
    atomic_store(&batch_on, false);
    pthread_cond_broadcast(&batch_cond);
    pthread_mutex_unlock(&batch_lock);
    for (int i = 0; i < batch_nthreads; i++)
        pthread_join(batch_threads[i], NULL);
    pthread_mutex_lock(&batch_lock);
    batch_started = false;
    pthread_mutex_unlock(&batch_lock);
}

bool db_batch_running(void)
{
    return atomic_load_explicit(&batch_on, memory_order_relaxed);
}

void db_batch_counts(uint64_t *batches, uint64_t *statements)
{
    *batches = atomic_load_explicit(&batch_count, memory_order_relaxed);
    *statements = atomic_load_explicit(&batch_statements, memory_order_relaxed);
}
