/*
 * erase.c - erasure of one account on request (DELETE /v1/account); the
 * retention sweeper erases expired ones in batches (sweep.c).
 *
 * Invariants: the account row goes in one transaction and the schema's ON
 * DELETE CASCADE takes everything it owns (sessions, tokens, picture,
 * unsent mail, models, avatars); on SQLite the WAL is then checkpointed so
 * no copy of an erased page outlives the erasure (secure_delete clears the
 * database file's own pages).
 */
#include "base/err.h"
#include "privacy/erase.h"
#include "store/db.h"

int erase_account(struct db *db, const char *account_id)
{
    if (!db)
        return ERR_UNAVAILABLE;
    struct db_param p[] = {DB_TEXT(account_id)};
    int rc = db_begin(db);

    if (rc)
        return rc;
    if ((rc = db_query(db, STMT_ACCOUNT_DELETE, p, 1, NULL)) == 0)
        rc = db_commit(db);
    else
        db_rollback(db);
    if (rc == 0)
        db_checkpoint(db);
    return rc;
}
