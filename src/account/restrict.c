/*
 * restrict.c - restriction of processing (see restrict.h for what it
 * changes elsewhere).
 *
 * Invariants: the state is one column, accounts.restricted_at (Unix
 * seconds, NULL when not restricted), changed only by restrict_set and
 * restrict_lift, each a conditional UPDATE so that a repeated request
 * changes nothing and reports so; every reader asks restrict_get or reads
 * the column in its own statement (STMT_SESSION_AUTH, STMT_APIKEY_AUTH, the
 * open data and sweep statements), so there is no cached copy to go stale.
 */
#include "account/restrict.h"
#include "base/clock.h"
#include "base/err.h"
#include "store/db.h"

int restrict_get(struct db *db, const char *account_id, int64_t *since)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    int rc;

    *since = 0;
    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, STMT_ACCOUNT_RESTRICTION, p, 1, &rows)))
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        *since = db_col_null(rows, 0) ? 0 : db_col_int(rows, 0);
        if (*since < 0) /* never written so; read as restricted, never as free */
            *since = 1;
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOT_FOUND;
    }
    db_rows_free(rows);
    return rc;
}

/* Run a conditional UPDATE: 1 when it changed the row, 0 when not. */
static int restrict_change(struct db *db, enum stmt st, const char *account_id, int64_t now)
{
    struct db_param p[] = {DB_TEXT(account_id), DB_INT(now > 0 ? now : 1)};
    int64_t n = db_exec(db, st, p, 2);

    if (n < 0)
        return (int)n;
    return n > 0;
}

int restrict_set(struct db *db, const char *account_id, int64_t now)
{
    return restrict_change(db, STMT_ACCOUNT_RESTRICT, account_id, now);
}

int restrict_lift(struct db *db, const char *account_id, int64_t now)
{
    return restrict_change(db, STMT_ACCOUNT_UNRESTRICT, account_id, now);
}

json_t *restrict_json(int64_t since)
{
    char buf[25];

    if (since <= 0 || clock_format_rfc3339(since * 1000, buf))
        return json_pack("{s:b,s:n}", "restricted", since > 0, "since");
    return json_pack("{s:b,s:s}", "restricted", 1, "since", buf);
}
