/*
 * upgrade.c - seals the values older versions stored in clear (issue 12):
 * accounts.username (sealed to accounts.username:<id> plus its keyed
 * lookup), signups.username (signups.username:<hex token hash>) and
 * models.breasts (models.breasts:<id>).
 *
 * Invariants:
 *   - Runs only inside migration UPGRADE_SEAL_VERSION's transaction, after
 *     the key check (cli/app.c), between migration 7 (which adds the sealed
 *     columns) and that migration's SQL (which drops the clear ones and
 *     fails if any row is left unsealed). A failure rolls everything back.
 *   - Values are sealed exactly as the services seal new ones
 *     (account_username_seal, models_breasts_seal), so nothing downstream
 *     can tell an upgraded row from a new one.
 *   - Each batch selects rows not yet sealed, so the loop ends when a batch
 *     comes back empty; a row that cannot be sealed stops the upgrade.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/token.h"
#include "base/util.h"
#include "cli/upgrade.h"
#include "models/models.h"
#include "store/db.h"

#define UPGRADE_BATCH 256

/* One clear value read from a batch: the row's key and its value. */
struct upgrade_row {
    char id[POLICY_ID_BUF];             /* accounts, models */
    uint8_t th[TOKEN_HASH_BYTES];       /* signups */
    char username[POLICY_USERNAME_BUF]; /* accounts, signups */
    int breasts;                        /* models */
};

/* Seal one row read by statement st and write it back. */
static int upgrade_row_seal(struct db *db, enum stmt st, const struct upgrade_row *r)
{
    char hx[2 * TOKEN_HASH_BYTES + 1];
    uint8_t lookup[SEAL_LOOKUP_BYTES], *box = NULL;
    size_t boxn = 0;
    int rc;

    if (st == STMT_UPGRADE_ACCOUNTS) {
        if ((rc = account_username_seal(r->id, r->username, lookup, &box, &boxn)) == 0) {
            struct db_param p[] = {DB_TEXT(r->id), DB_BLOB(lookup, sizeof lookup),
                                   DB_BLOB(box, boxn)};
            rc = db_query(db, STMT_UPGRADE_ACCOUNT_SEAL, p, 3, NULL);
        }
    } else if (st == STMT_UPGRADE_SIGNUPS) {
        util_hex(r->th, sizeof r->th, hx);
        if ((rc = seal_text("signups.username", hx, r->username, &box, &boxn)) == 0) {
            struct db_param p[] = {DB_BLOB(r->th, sizeof r->th), DB_BLOB(box, boxn)};
            rc = db_query(db, STMT_UPGRADE_SIGNUP_SEAL, p, 2, NULL);
        }
    } else if ((rc = models_breasts_seal(r->id, r->breasts, &box, &boxn)) == 0) {
        struct db_param p[] = {DB_TEXT(r->id), DB_BLOB(box, boxn)};
        rc = db_query(db, STMT_UPGRADE_MODEL_SEAL, p, 2, NULL);
    }
    free(box);
    return rc;
}

/* Copy the current row of a batch of statement st into r. */
static int upgrade_row_read(struct db_rows *rows, enum stmt st, struct upgrade_row *r)
{
    const char *text;
    size_t n = 0;

    if (st == STMT_UPGRADE_MODELS) {
        r->breasts = db_col_int(rows, 1) != 0;
        return util_strlcpy(r->id, db_col_text(rows, 0, NULL), sizeof r->id) ? ERR_INTERNAL : 0;
    }
    text = db_col_text(rows, 1, NULL);
    if (!text || util_strlcpy(r->username, text, sizeof r->username))
        return ERR_INTERNAL;
    if (st == STMT_UPGRADE_ACCOUNTS)
        return util_strlcpy(r->id, db_col_text(rows, 0, NULL), sizeof r->id) ? ERR_INTERNAL : 0;
    const void *th = db_col_blob(rows, 0, &n);
    if (n != sizeof r->th)
        return ERR_INTERNAL;
    memcpy(r->th, th, n);
    return 0;
}

/* Read one batch of statement st, then seal it (no cursor is open while
 * rows are written); *n receives how many rows the batch held. */
static int upgrade_batch(struct db *db, enum stmt st, struct upgrade_row *batch, size_t *n)
{
    struct db_param lim = DB_INT(UPGRADE_BATCH);
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, &lim, 1, &rows);

    *n = 0;
    while (rc == 0 && *n < UPGRADE_BATCH && (rc = db_next(rows)) == 1)
        rc = upgrade_row_read(rows, st, &batch[(*n)++]);
    db_rows_free(rows);
    for (size_t i = 0; rc >= 0 && i < *n; i++)
        rc = upgrade_row_seal(db, st, &batch[i]);
    return rc < 0 ? rc : 0;
}

static int upgrade_table(struct db *db, enum stmt st, const char *what)
{
    struct upgrade_row *batch = calloc(UPGRADE_BATCH, sizeof *batch);
    size_t n = 0, total = 0;
    int rc = batch ? 0 : ERR_NOMEM;

    while (rc == 0) {
        rc = upgrade_batch(db, st, batch, &n);
        total += n;
        if (n == 0)
            break;
    }
    if (batch)
        sodium_memzero(batch, UPGRADE_BATCH * sizeof *batch);
    free(batch);
    if (rc == 0 && total > 0)
        log_info("upgrade", "sealed %zu %s", total, what);
    return rc;
}

int upgrade_seal_clear(struct db *db)
{
    int rc;

    if ((rc = upgrade_table(db, STMT_UPGRADE_ACCOUNTS, "account usernames")) ||
        (rc = upgrade_table(db, STMT_UPGRADE_SIGNUPS, "signup usernames")) ||
        (rc = upgrade_table(db, STMT_UPGRADE_MODELS, "models' breasts flags")))
        log_error("upgrade", "sealing the clear columns failed; nothing was changed");
    return rc;
}
