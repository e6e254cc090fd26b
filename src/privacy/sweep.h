/*
 * sweep.h - the retention rules of SPEC section 1, applied by code.
 *
 * One sweep, as of a time `now`:
 *   1. deletes this node's access-log files older than RETAIN_ACCESS_LOG_DAYS;
 *   2. mails, once, every account whose last login is RETAIN_INACTIVE_DAYS -
 *      RETAIN_NOTICE_DAYS old that it will be erased unless they log in
 *      (not a restricted account: it gets no mail);
 *   3. erases every account whose last login is RETAIN_INACTIVE_DAYS old,
 *      with everything it owns;
 *   4. erases pending signups older than RETAIN_UNCONFIRMED_DAYS;
 *   5. deletes expired sessions, links and API keys, and 2FA setups never
 *      enabled within LIMIT_MFA_SETUP_TTL_S;
 *   6. deletes this node's outbox files older than RETAIN_OUTBOX_DAYS.
 * Steps 2-5 touch the shared database and run on one node at a time
 * (PostgreSQL advisory lock); steps 1 and 6 run on every node for its own
 * files. The server's hourly thread runs steps 2-5 only when it takes the
 * period's lease (the row "sweep" of the table leases, until
 * SWEEP_LEASE_S from now): with several nodes the database is swept once
 * per period, by whichever node comes first, and by another one when that
 * node is gone (a node that found the lease taken tries again when it
 * ends). `atelier sweep` ignores the lease (an operator's request).
 * Erasure works in batches of SWEEP_BATCH accounts, one transaction each, so
 * a crash leaves every account either whole or gone, and the API's writers
 * get the database between batches.
 */
#ifndef ATELIER_SWEEP_H
#define ATELIER_SWEEP_H

#include <stdint.h>

struct config;
struct db;

#define SWEEP_BATCH      100
#define SWEEP_LOCK_KEY   0x61746c7377656570LL /* "atlsweep" */
#define SWEEP_INTERVAL_S 3600
#define SWEEP_LEASE_S    (SWEEP_INTERVAL_S - SWEEP_INTERVAL_S / 10) /* a little under a period */
#define SWEEP_LEASE_NAME "sweep"

struct sweep_report {
    int locked_elsewhere; /* another node held the lock or the period's lease: steps 2-5
                             skipped */
    int logs_deleted;
    int notices;
    int accounts_erased;
    int signups_erased;
    int sessions_deleted; /* expired sessions and API keys */
    int tokens_deleted;
    int mfa_setups_deleted; /* 2FA setups never enabled within LIMIT_MFA_SETUP_TTL_S */
    int outbox_deleted;
    double ms;
};

/* Run one sweep as of now_ms. With dry_run nothing is changed or mailed and
 * the report says what would have been. Returns 0 or a negative err. */
int sweep_run(struct db *db, const struct config *cfg, int64_t now_ms, int dry_run,
              struct sweep_report *r);

/* The hourly sweeper thread of `atelier serve`; between sweeps it retries
 * pending WAL scrubs of erasures (erase_scrub) every LIMIT_SCRUB_RETRY_S. */
int sweep_start(const struct config *cfg);
void sweep_stop(void);

#endif
