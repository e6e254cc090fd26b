/*
 * db_maint.c - the server's storage maintenance thread: the cached health
 * behind GET /healthz, and on SQLite the WAL checkpoints that request threads
 * no longer run.
 *
 * Invariants:
 *  - One thread, started by `atelier serve` before any other thread opens a
 *    connection (db_maint_start) and joined at shutdown (db_maint_stop). It
 *    owns its connection (db_thread), opened again after a failure.
 *  - Every LIMIT_HEALTH_POLL_MS it runs the driver's health check and stores
 *    the result (the schema version can be read, plus the driver's own
 *    check); db_health reads it without any storage work, so /healthz
 *    costs no round trip. A database that goes away is reported at the next
 *    check, one that comes back likewise; both changes are logged.
 *    db_maint_start runs the first check before it returns.
 *  - The SQLite driver wakes the thread (db_maint_wake) from its WAL hook
 *    when the WAL has grown past LIMIT_WAL_CHECKPOINT_PAGES; the driver's
 *    maintain step (checkpoints) runs after every wake-up and every tick.
 *  - After a failed check the thread closes its connection, so the next
 *    check opens a new one (a restarted PostgreSQL, a SQLite file put back).
 *  - Without the thread (commands, unit tests) db_health checks at once on
 *    the calling thread's connection.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "store/driver.h"

static pthread_mutex_t maint_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t maint_cond;
static pthread_t maint_thread;
static bool maint_started; /* under maint_lock */
static bool maint_stop;    /* under maint_lock */
static bool maint_woken;   /* under maint_lock */
static atomic_bool maint_on;
#define MAINT_UNCHECKED 1 /* maint_health before the first check (no enum err is positive) */
static atomic_int maint_health = MAINT_UNCHECKED;

bool db_maint_running(void)
{
    return atomic_load_explicit(&maint_on, memory_order_acquire);
}

void db_maint_wake(void)
{
    pthread_mutex_lock(&maint_lock);
    maint_woken = true;
    pthread_cond_signal(&maint_cond);
    pthread_mutex_unlock(&maint_lock);
}

/* One health check on db (NULL: the connection could not be opened): the
 * schema version can be read, and the driver's own check passes. */
static int maint_check(struct db *db)
{
    if (db == NULL || db_schema_version(db) < 0)
        return ERR_STORAGE_DOWN;
    if (db->drv->health != NULL && db->drv->health(db) != ERR_OK)
        return ERR_STORAGE_DOWN;
    return ERR_OK;
}

static void maint_health_set(int rc)
{
    int old = atomic_exchange(&maint_health, rc);

    if (old == MAINT_UNCHECKED && rc == ERR_OK)
        return;
    if (old != rc && rc != ERR_OK)
        log_warn("db", "health check failed: GET /healthz answers 503 until the database answers");
    else if (old != rc)
        log_info("db", "health check passes again");
}

static void *maint_main(void *unused)
{
    uint64_t next_tick = clock_mono_ns() + (uint64_t)LIMIT_HEALTH_POLL_MS * 1000000u;

    (void)unused;
    pthread_mutex_lock(&maint_lock);
    while (!maint_stop) {
        struct timespec ts;
        uint64_t now = clock_mono_ns();
        bool tick = now >= next_tick;

        if (!tick && !maint_woken) {
            uint64_t wait_ns = next_tick - now;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)(wait_ns / 1000000000u);
            ts.tv_nsec += (long)(wait_ns % 1000000000u);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&maint_cond, &maint_lock, &ts);
            continue;
        }
        maint_woken = false;
        pthread_mutex_unlock(&maint_lock);
        struct db *db = db_thread();
        if (tick) {
            next_tick = now + (uint64_t)LIMIT_HEALTH_POLL_MS * 1000000u;
            int rc = maint_check(db);
            maint_health_set(rc);
            if (rc != ERR_OK && db != NULL) { /* the next check on a new connection */
                db_thread_close();
                db = NULL;
            }
        }
        if (db != NULL && db->drv->maintain != NULL)
            db->drv->maintain(db, tick);
        pthread_mutex_lock(&maint_lock);
    }
    pthread_mutex_unlock(&maint_lock);
    db_thread_close();
    return NULL;
}

int db_maint_start(void)
{
    pthread_condattr_t attr;
    int rc = ERR_INTERNAL;

    pthread_mutex_lock(&maint_lock);
    if (maint_started) {
        rc = ERR_OK;
        goto out;
    }
    if (pthread_condattr_init(&attr) != 0)
        goto out;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&maint_cond, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        goto out;
    }
    pthread_condattr_destroy(&attr);
    /* The first check, so /healthz is right from the first request; on its
     * own connection, closed again (the thread opens its own). */
    struct db *db = NULL;
    maint_health_set(db_open(&db) == ERR_OK ? maint_check(db) : ERR_STORAGE_DOWN);
    db_close(db);
    maint_stop = false;
    maint_woken = false;
    atomic_store(&maint_on, true);
    if (pthread_create(&maint_thread, NULL, maint_main, NULL) != 0) {
        atomic_store(&maint_on, false);
        pthread_cond_destroy(&maint_cond);
        log_error("db", "cannot start the storage maintenance thread");
        goto out;
    }
    maint_started = true;
    rc = ERR_OK;
out:
    pthread_mutex_unlock(&maint_lock);
    return rc;
}

void db_maint_stop(void)
{
    pthread_mutex_lock(&maint_lock);
    if (!maint_started) {
        pthread_mutex_unlock(&maint_lock);
        return;
    }
    maint_stop = true;
    pthread_cond_signal(&maint_cond);
    pthread_mutex_unlock(&maint_lock);
    pthread_join(maint_thread, NULL);
    pthread_mutex_lock(&maint_lock);
    maint_started = false;
    atomic_store(&maint_on, false);
    pthread_cond_destroy(&maint_cond);
    pthread_mutex_unlock(&maint_lock);
}

int db_health(void)
{
    if (db_maint_running())
        return atomic_load(&maint_health);
    return maint_check(db_thread());
}
