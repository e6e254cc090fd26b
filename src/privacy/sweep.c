/*
 * sweep.c - the retention sweeper (see sweep.h for the rules).
 *
 * Invariants:
 *   - Every erasure is one transaction per batch; an account is never half
 *     erased (the schema's ON DELETE CASCADE removes what it owns in the
 *     same statement).
 *   - The inactivity notice is mailed at most once per period of
 *     inactivity: notice_sent_at is set in the transaction that queues the
 *     mail, and a login clears it. An account that restricts processing
 *     gets none (no mail while restricted: account/restrict.h); the
 *     erasure after RETAIN_INACTIVE_DAYS still applies to it.
 *   - A dry run takes the same paths inside one transaction and rolls it
 *     back, so its counts are exactly what a real run would do.
 *   - The report holds counts only, never personal data.
 *   - The hourly thread sweeps the database only under the period's lease
 *     (STMT_LEASE_TAKE: one atomic statement, so of several nodes exactly
 *     one takes each period); the metric sweep_database_runs counts the
 *     database parts this process ran.
 */
#include <limits.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs/accesslog.h"
#include "account/account.h"
#include "base/clock.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "base/log.h"
#include "account/mail.h"
#include "obs/metrics.h"
#include "base/policy.h"
#include "privacy/erase.h"
#include "privacy/sweep.h"
#include "base/token.h"
#include "base/util.h"

static int sweep_rc(int rc)
{
    return rc;
}

/* Inside a dry run everything shares the outer transaction. */
static int sweep_begin(struct db *db, int dry_run)
{
    return dry_run ? 0 : db_begin(db);
}

static int sweep_end(struct db *db, int dry_run, int rc)
{
    if (dry_run)
        return rc;
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

/* Collect up to SWEEP_BATCH ids (column 0) of a query into ids. */
static int sweep_ids(struct db *db, enum stmt st, int64_t cutoff, char ids[][POLICY_ID_BUF], int *n)
{
    struct db_param p[] = {DB_INT(cutoff), DB_INT(SWEEP_BATCH)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, p, 2, &rows);

    *n = 0;
    if (rc)
        return rc;
    while (*n < SWEEP_BATCH && (rc = db_next(rows)) == 1)
        util_strlcpy(ids[(*n)++], db_col_text(rows, 0, NULL), POLICY_ID_BUF);
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

static int sweep_notice_one(struct db *db, const char *id, int64_t now)
{
    char email[POLICY_EMAIL_BUF], body[1024];
    int rc = account_email_of(db, id, email);

    if (rc == ERR_INTERNAL || rc == ERR_NOT_FOUND) {
        /* an address that does not open (damaged row, foreign key): mark
         * the notice as done so one account cannot stop every sweep; the
         * erasure a month later still applies */
        log_warn("sweep", "an account due a notice has no readable address; skipped");
        struct db_param p[] = {DB_TEXT(id), DB_INT(now)};
        return db_query(db, STMT_SWEEP_NOTICE_MARK, p, 2, NULL);
    }
    if (rc)
        return rc;
    snprintf(body, sizeof body,
             "You have not logged in to atelier for almost %d days.\n\n"
             "Under our privacy policy, an account is erased %d days after its last login, "
             "with its models and pictures. Yours will be erased in %d days unless you log in "
             "before then. If you want it erased, there is nothing to do.\n",
             RETAIN_INACTIVE_DAYS - RETAIN_NOTICE_DAYS, RETAIN_INACTIVE_DAYS, RETAIN_NOTICE_DAYS);
    if ((rc = mail_enqueue(
             db, id, email,
             "Your atelier account will be erased in " POLICY_STR(RETAIN_NOTICE_DAYS) " days",
             body)))
        return rc;
    struct db_param p[] = {DB_TEXT(id), DB_INT(now)};
    return db_query(db, STMT_SWEEP_NOTICE_MARK, p, 2, NULL);
}

static int sweep_notices(struct db *db, int64_t now, int dry_run, struct sweep_report *r)
{
    int64_t cutoff = now - (RETAIN_INACTIVE_DAYS - RETAIN_NOTICE_DAYS) * POLICY_DAY_S;
    char ids[SWEEP_BATCH][POLICY_ID_BUF];
    int n, rc;

    do {
        if ((rc = sweep_begin(db, dry_run)))
            return rc;
        rc = sweep_ids(db, STMT_SWEEP_NOTICE_DUE, cutoff, ids, &n);
        for (int i = 0; !rc && i < n; i++)
            rc = sweep_notice_one(db, ids[i], now);
        if ((rc = sweep_end(db, dry_run, rc)))
            return rc;
        r->notices += n;
        if (!dry_run && n)
            mail_kick();
    } while (n == SWEEP_BATCH);
    return 0;
}

/* Delete a batch of accounts; their addresses (read first: they tag the
 * outbox files) go to emails[i], "" when unreadable. */
static int sweep_erase_batch(struct db *db, char ids[][POLICY_ID_BUF], int n,
                             char emails[][POLICY_EMAIL_BUF])
{
    int rc = 0;

    for (int i = 0; !rc && i < n; i++) {
        struct db_param p[] = {DB_TEXT(ids[i])};
        if (account_email_of(db, ids[i], emails[i]))
            emails[i][0] = 0;
        rc = db_query(db, STMT_ACCOUNT_DELETE, p, 1, NULL);
    }
    return rc;
}

static int sweep_erase(struct db *db, int64_t now, int dry_run, struct sweep_report *r)
{
    int64_t cutoff = now - RETAIN_INACTIVE_DAYS * POLICY_DAY_S;
    char ids[SWEEP_BATCH][POLICY_ID_BUF], emails[SWEEP_BATCH][POLICY_EMAIL_BUF];
    int n, rc;

    do {
        if ((rc = sweep_begin(db, dry_run)))
            return rc;
        rc = sweep_ids(db, STMT_SWEEP_INACTIVE, cutoff, ids, &n);
        if (!rc)
            rc = sweep_erase_batch(db, ids, n, emails);
        if ((rc = sweep_end(db, dry_run, rc)))
            return rc;
        for (int i = 0; !dry_run && i < n; i++)
            if (mail_outbox_erase(ids[i], emails[i], NULL))
                log_warn("sweep", "the outbox did not open: files of an erased account remain");
        sodium_memzero(emails, sizeof emails);
        r->accounts_erased += n;
        if (n == SWEEP_BATCH) {
            struct timespec pause = {0, 2000000}; /* let API writers in */
            nanosleep(&pause, NULL);
        }
    } while (n == SWEEP_BATCH);
    return 0;
}

/* One DELETE ... WHERE col <= $1; the count goes to *count. */
static int sweep_delete(struct db *db, enum stmt st, int64_t cutoff, int *count)
{
    struct db_param p[] = {DB_INT(cutoff)};
    int64_t n = db_exec(db, st, p, 1);

    if (n < 0)
        return (int)n;
    *count += (int)n;
    return 0;
}

static int sweep_database(struct db *db, int64_t now, int dry_run, struct sweep_report *r)
{
    int rc;

    /* Erase first: an account past the limit gets no notice. Each stage runs
     * even when an earlier one failed; the first error is returned. */
    int first = sweep_erase(db, now, dry_run, r);
    rc = sweep_notices(db, now, dry_run, r);
    first = first ? first : rc;
    if ((rc = sweep_begin(db, dry_run)))
        return first ? first : rc;
    rc = sweep_delete(db, STMT_SWEEP_SIGNUPS, now - RETAIN_UNCONFIRMED_DAYS * POLICY_DAY_S,
                      &r->signups_erased);
    if (!rc)
        rc = sweep_delete(db, STMT_SWEEP_SESSIONS, now, &r->sessions_deleted);
    if (!rc)
        rc = sweep_delete(db, STMT_SWEEP_TOKENS, now, &r->tokens_deleted);
    if (!rc) { /* the shared throttles' rows outside every window: no personal data */
        int n = 0;
        rc = sweep_delete(db, STMT_SWEEP_THROTTLE, now, &n);
    }
    if (!rc) /* expired API keys count with the sessions: both are credentials */
        rc = sweep_delete(db, STMT_SWEEP_APIKEYS, now * 1000, &r->sessions_deleted);
    if (!rc)
        rc = sweep_delete(db, STMT_SWEEP_MFA_SETUPS, now - LIMIT_MFA_SETUP_TTL_S,
                          &r->mfa_setups_deleted);
    rc = sweep_end(db, dry_run, rc);
    return first ? first : rc;
}

static void sweep_count(const struct sweep_report *r)
{
    metrics_event(EV_SWEEP_RUNS, 1);
    metrics_event(EV_SWEEP_LOGS_DELETED, (uint64_t)r->logs_deleted);
    metrics_event(EV_SWEEP_NOTICES_MAILED, (uint64_t)r->notices);
    metrics_event(EV_SWEEP_ACCOUNTS_ERASED, (uint64_t)r->accounts_erased);
    metrics_event(EV_SWEEP_UNCONFIRMED_ERASED, (uint64_t)r->signups_erased);
    metrics_event(EV_SWEEP_SESSIONS_DELETED, (uint64_t)(r->sessions_deleted + r->tokens_deleted));
}

/* The shared-database part, under the cluster-wide lock. */
static int sweep_locked(struct db *db, int64_t now, int dry_run, struct sweep_report *r)
{
    int rc, got = db_try_lock(db, SWEEP_LOCK_KEY);

    if (got < 0)
        return sweep_rc(got);
    if (got == 0) {
        r->locked_elsewhere = 1;
        return 0;
    }
    if (dry_run && (rc = db_begin(db)) != 0) {
        db_unlock(db, SWEEP_LOCK_KEY);
        return sweep_rc(rc);
    }
    rc = sweep_database(db, now, dry_run, r);
    if (!dry_run)
        metrics_event(EV_SWEEP_DATABASE_RUNS, 1);
    if (dry_run)
        db_rollback(db);
    else if (r->accounts_erased) {
        erase_scrub_note(1); /* no erased page may linger in the WAL */
        erase_scrub(db);
    }
    db_unlock(db, SWEEP_LOCK_KEY);
    return sweep_rc(rc);
}

/* One sweep; the database part only when with_db (else reported as done
 * elsewhere). */
static int sweep_do(struct db *db, const struct config *cfg, int64_t now_ms, int dry_run,
                    int with_db, struct sweep_report *r)
{
    char logdir[PATH_MAX + 8];
    uint64_t t0 = clock_mono_ns();
    int rc;

    memset(r, 0, sizeof *r);
    snprintf(logdir, sizeof logdir, "%s/logs", cfg->data_dir);
    rc = accesslog_prune(logdir, now_ms, RETAIN_ACCESS_LOG_DAYS, dry_run, &r->logs_deleted);
    if (rc == 0 && with_db)
        rc = sweep_locked(db, now_ms / 1000, dry_run, r);
    else if (!with_db)
        r->locked_elsewhere = 1;
    if (rc == 0)
        rc = mail_outbox_prune(cfg->data_dir, now_ms, dry_run, &r->outbox_deleted);
    uint64_t dur = clock_mono_ns() - t0;
    r->ms = (double)dur / 1e6;
    if (!dry_run) {
        sweep_count(r);
        metrics_sweep(clock_now_ms(), dur, rc == 0, !r->locked_elsewhere);
    }
    log_info("sweep",
             "%s%s: logs_deleted=%d notices=%d accounts_erased=%d signups_erased=%d "
             "sessions_deleted=%d tokens_deleted=%d mfa_setups_deleted=%d outbox_deleted=%d in "
             "%.1f ms%s",
             dry_run ? "dry run" : "run", rc ? " FAILED" : "", r->logs_deleted, r->notices,
             r->accounts_erased, r->signups_erased, r->sessions_deleted, r->tokens_deleted,
             r->mfa_setups_deleted, r->outbox_deleted, r->ms,
             r->locked_elsewhere ? " (database part done by another node)" : "");
    return rc;
}

int sweep_run(struct db *db, const struct config *cfg, int64_t now_ms, int dry_run,
              struct sweep_report *r)
{
    return sweep_do(db, cfg, now_ms, dry_run, 1, r);
}

/* Seconds until the lease `name` ends (>= 1), as the table says; or
 * SWEEP_INTERVAL_S when it cannot be read. */
static int sweep_lease_left(struct db *db, int64_t now_ms)
{
    struct db_param p[] = {DB_TEXT(SWEEP_LEASE_NAME)};
    struct db_rows *rows = NULL;
    int64_t left = (int64_t)SWEEP_INTERVAL_S * 1000;

    if (db_query(db, STMT_LEASE_UNTIL, p, 1, &rows) == 0) {
        if (db_next(rows) == 1)
            left = db_col_int(rows, 0) - now_ms;
        db_rows_free(rows);
    }
    left = left / 1000 + 1;
    return left < 1 ? 1 : left > SWEEP_INTERVAL_S ? SWEEP_INTERVAL_S : (int)left;
}

/* The thread's sweep: the database part only under this period's lease.
 * holder names this process in the lease row (a random id, no host).
 * Returns the seconds until the next sweep: a period after one that swept
 * the database (or could not read the lease), else the end of the lease
 * another process holds, so that the database is swept again as soon as
 * the period has passed, by this node if the holder is gone (or was this
 * node's previous process, restarted). */
static int sweep_periodic(struct db *db, const struct config *cfg, const char *holder,
                          struct sweep_report *r)
{
    int64_t now_ms = clock_now_ms();
    struct db_param p[] = {DB_TEXT(SWEEP_LEASE_NAME), DB_TEXT(holder),
                           DB_INT(now_ms + (int64_t)SWEEP_LEASE_S * 1000), DB_INT(now_ms)};
    int64_t taken = db_exec(db, STMT_LEASE_TAKE, p, 4);

    if (taken < 0) /* storage down: the local part still runs */
        log_warn("sweep", "the sweep lease could not be read (%s)", err_text((int)taken));
    sweep_do(db, cfg, now_ms, 0, taken == 1, r);
    if (taken != 0)
        return SWEEP_INTERVAL_S;
    int left = sweep_lease_left(db, now_ms);
    log_info("sweep", "this period's database sweep is another node's; next try in %d s", left);
    return left;
}

/* ---- the hourly thread ---- */

static pthread_t sweep_thread;
static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweep_cond = PTHREAD_COND_INITIALIZER;
static int sweep_running;
static const struct config *sweep_cfg;

/* Wait (sweep_lock held) until due, or the next scrub retry while erasures
 * wait for the WAL; 1 when the sweep is due. */
static int sweep_wait(const struct timespec *due)
{
    struct timespec now, wake = *due;

    clock_gettime(CLOCK_REALTIME, &now);
    if (erase_scrubs_pending() > 0 && now.tv_sec + LIMIT_SCRUB_RETRY_S < due->tv_sec) {
        wake = now;
        wake.tv_sec += LIMIT_SCRUB_RETRY_S;
    }
    /* a wake-up before the deadline is spurious unless sweep_stop() sent it */
    while (sweep_running && pthread_cond_timedwait(&sweep_cond, &sweep_lock, &wake) != ETIMEDOUT)
        ;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > due->tv_sec || (now.tv_sec == due->tv_sec && now.tv_nsec >= due->tv_nsec);
}

static void *sweep_main(void *unused)
{
    int delay = (int)sweep_cfg->sweep_delay_s; /* --sweep-delay, 10 s by default */
    char holder[TOKEN_ID_LEN + 1];

    (void)unused;
    token_id(holder);
    erase_scrub_note(1); /* a previous process may have left erased pages in the WAL */
    pthread_mutex_lock(&sweep_lock);
    while (sweep_running) {
        struct timespec due;
        clock_gettime(CLOCK_REALTIME, &due);
        due.tv_sec += delay;
        while (sweep_running && !sweep_wait(&due)) {
            pthread_mutex_unlock(&sweep_lock);
            struct db *db = db_thread();
            if (db)
                erase_scrub(db);
            pthread_mutex_lock(&sweep_lock);
        }
        if (!sweep_running)
            break;
        pthread_mutex_unlock(&sweep_lock);
        struct db *db = db_thread();
        struct sweep_report r;
        if (db) {
            delay = sweep_periodic(db, sweep_cfg, holder, &r);
        } else { /* no connection: a failed run, as /metrics must say */
            metrics_sweep(clock_now_ms(), 0, 0, 0);
            delay = SWEEP_INTERVAL_S;
        }
        pthread_mutex_lock(&sweep_lock);
    }
    pthread_mutex_unlock(&sweep_lock);
    db_thread_close();
    return NULL;
}

int sweep_start(const struct config *cfg)
{
    sweep_cfg = cfg;
    sweep_running = 1;
    if (pthread_create(&sweep_thread, NULL, sweep_main, NULL) != 0) {
        sweep_running = 0;
        return ERR_INTERNAL;
    }
    return 0;
}

void sweep_stop(void)
{
    pthread_mutex_lock(&sweep_lock);
    if (!sweep_running) {
        pthread_mutex_unlock(&sweep_lock);
        return;
    }
    sweep_running = 0;
    pthread_cond_signal(&sweep_cond);
    pthread_mutex_unlock(&sweep_lock);
    pthread_join(sweep_thread, NULL);
}
