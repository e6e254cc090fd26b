/*
 * erase.c - erasure of one account on request (DELETE /v1/account); the
 * retention sweeper erases expired ones in batches (sweep.c).
 *
 * Invariants: the account row goes in one transaction and the schema's ON
 * DELETE CASCADE takes everything it owns (sessions, tokens, picture,
 * unsent mail, models, avatars); in outbox mode its mail files go too
 * (mail_outbox_erase: files tagged with its id or its address).
 * On SQLite the WAL must then be truncated so no copy of an erased page
 * outlives the erasure (secure_delete clears the database file's own
 * pages). A reader holding an old snapshot (a backup tool) makes the
 * checkpoint fail: the erasure then counts as a pending scrub
 * (erase_scrubs_pending, the gauge atelier_erasure_scrubs_pending) and
 * erase_scrub, called every LIMIT_SCRUB_RETRY_S by the sweeper thread,
 * retries until a checkpoint truncates the WAL. The count drops only by
 * the erasures committed before the successful checkpoint began.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>

#include "account/account.h"
#include "account/mail.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "obs/metrics.h"
#include "privacy/erase.h"
#include "store/db.h"

static _Atomic int erase_pending;
/* Serialises a scrub's read-checkpoint-subtract with notes and other
 * scrubs (a request's and the sweeper's), so the count never goes below the
 * erasures still waiting and the gauge always shows the latest value. */
static pthread_mutex_t erase_scrub_lock = PTHREAD_MUTEX_INITIALIZER;

static void erase_pending_add(int n)
{
    int now = atomic_fetch_add(&erase_pending, n) + n;
    metrics_scrubs_pending(now);
}

int erase_scrubs_pending(void)
{
    return atomic_load(&erase_pending);
}

void erase_scrub_note(int n)
{
    if (n <= 0)
        return;
    pthread_mutex_lock(&erase_scrub_lock);
    erase_pending_add(n);
    pthread_mutex_unlock(&erase_scrub_lock);
}

int erase_scrub(struct db *db)
{
    int before, rc = 0;

    pthread_mutex_lock(&erase_scrub_lock);
    before = atomic_load(&erase_pending);
    if (before > 0 && (rc = db_checkpoint(db)) == 0)
        erase_pending_add(-before);
    pthread_mutex_unlock(&erase_scrub_lock);
    return rc;
}

int erase_account(struct db *db, const char *account_id)
{
    char email[POLICY_EMAIL_BUF];
    int rc, has_email;

    if (!db)
        return ERR_UNAVAILABLE;
    struct db_param p[] = {DB_TEXT(account_id)};
    has_email = account_email_of(db, account_id, email) == 0;
    if ((rc = db_begin(db)))
        return rc;
    if ((rc = db_query(db, STMT_ACCOUNT_DELETE, p, 1, NULL)) == 0)
        rc = db_commit(db);
    else
        db_rollback(db);
    if (rc == 0) {
        if (mail_outbox_erase(account_id, has_email ? email : NULL, NULL))
            log_warn("erase", "the outbox did not open: its files of an erased account remain");
        erase_scrub_note(1);
        erase_scrub(db);
    }
    sodium_memzero(email, sizeof email);
    return rc;
}
