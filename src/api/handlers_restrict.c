/*
 * handlers_restrict.c - restriction of processing (GDPR article 18):
 * POST /v1/account/restrict {password} restricts the caller's account,
 * DELETE /v1/account/restrict {password} lifts it. What a restriction
 * changes is enforced elsewhere (account/restrict.h lists where).
 *
 * Invariants:
 *   - Both need a session and the password (a stolen session alone cannot
 *     change it; wrong passwords count against the login throttle); API
 *     keys cannot call them (no ROUTE_KEY_OK in routes.c).
 *   - Restricting revokes the account's pending reset and email-change
 *     links in the same transaction, so no link mailed before can change
 *     the account while it is restricted; its one mail is the confirmation
 *     (mail_enqueue_exempt), which says how to lift it.
 *   - Repeating either request changes nothing and mails nothing; the
 *     answer is the state, as GET /v1/account shows it.
 */
#include <stdio.h>

#include "account/account.h"
#include "account/mail.h"
#include "account/restrict.h"
#include "api/handlers.h"
#include "api/input.h"
#include "base/clock.h"
#include "base/err.h"
#include "store/db.h"

static int restrict_answer(struct req *rq, struct db *db, const char *id)
{
    int64_t since = 0;
    int rc = restrict_get(db, id, &since);

    if (rc)
        return rc;
    return resp_json(rq, 200, json_pack("{s:o}", "restriction", restrict_json(since)));
}

/* The password check both routes start with; the db goes to *db. */
static int restrict_password(struct req *rq, struct db **db, int restrict_it)
{
    static const char *const keys[] = {"password", NULL};
    json_t *b = req_json(rq);
    const char *pw;
    size_t pwn;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = h_password_member(
             rq, b, restrict_it ? "to restrict processing" : "to lift the restriction", &pw, &pwn)))
        return rc;
    if (!(*db = db_thread()))
        return ERR_UNAVAILABLE;
    return h_check_password(rq, *db, pw, pwn, "password");
}

static int restrict_revoke_links(struct db *db, const char *id)
{
    struct db_param reset[] = {DB_TEXT(id), DB_TEXT("reset")};
    struct db_param email[] = {DB_TEXT(id), DB_TEXT("email")};
    int rc = db_query(db, STMT_TOKEN_DELETE_KIND, reset, 2, NULL);

    return rc ? rc : db_query(db, STMT_TOKEN_DELETE_KIND, email, 2, NULL);
}

static int restrict_mail(struct db *db, const char *id, int restricted)
{
    char email[POLICY_EMAIL_BUF];
    int rc = account_email_of(db, id, email);

    if (rc)
        return rc;
    if (restricted)
        return mail_enqueue_exempt(
            db, id, email, "Processing of your atelier account is restricted",
            "At your request, the processing of your atelier account is now restricted (GDPR "
            "article 18). Your data stays stored: you can still log in, read and export it, "
            "and delete your account. Nothing else happens to it: no pattern drafting, no open "
            "data, no API keys, and no mail, this one aside.\n\n"
            "Since no mail is sent while the restriction lasts, a forgotten password cannot be "
            "reset until it is lifted: keep your password. To lift the restriction, log in and "
            "send DELETE /v1/account/restrict with your password.\n\n"
            "Your account is still erased after 365 days without a login.\n\n"
            "If you did not ask for this, change your password once you have lifted it.\n");
    return mail_enqueue(db, id, email, "The restriction of your atelier account was lifted",
                        "At your request, the restriction of processing of your atelier account "
                        "was lifted: it works as before. If you did not ask for this, change "
                        "your password now.\n");
}

static int restrict_change(struct req *rq, int restrict_it)
{
    const char *id = req_account(rq);
    struct db *db = NULL;
    int rc, changed;

    if ((rc = restrict_password(rq, &db, restrict_it)))
        return rc;
    if ((rc = db_begin(db)))
        return rc;
    changed = restrict_it ? restrict_set(db, id, clock_now()) : restrict_lift(db, id, clock_now());
    rc = changed < 0 ? changed : 0;
    if (!rc && changed && restrict_it)
        rc = restrict_revoke_links(db, id);
    if (!rc && changed)
        rc = restrict_mail(db, id, restrict_it);
    if (rc || (rc = db_commit(db))) {
        db_rollback(db);
        return rc;
    }
    if (changed)
        mail_kick();
    return restrict_answer(rq, db, id);
}

int h_restrict_post(struct req *rq)
{
    return restrict_change(rq, 1);
}

int h_restrict_delete(struct req *rq)
{
    return restrict_change(rq, 0);
}
