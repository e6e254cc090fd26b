/*
 * handlers_mfa.c - two-factor login: setup, enable, disable, and new
 * recovery codes (POST /v1/account/mfa/setup, /enable, /recovery; DELETE
 * /v1/account/mfa). The code checks of login, password reset and email
 * change are in handlers_account.c (h_mfa_gate).
 *
 * Invariants:
 *   - Every route needs the session; setup, disable and new recovery codes
 *     also need the password (403 wrong_password), disable and new codes a
 *     code (403 wrong_code); wrong passwords and codes count toward the
 *     login throttle (429 beyond it).
 *   - The secret leaves the server once, in the setup answer (base32, the
 *     otpauth:// URI and its QR code drawn here); recovery codes once, in
 *     the answer that made them. Every copy this file holds is wiped.
 *   - Turning 2FA on or off and replacing the recovery codes are mailed to
 *     the account's address, queued in the same transaction as the change.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "account/mail.h"
#include "account/mfa.h"
#include "account/qr.h"
#include "api/handlers.h"
#include "api/input.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/util.h"
#include "store/db.h"

static int mfa_db(struct req *rq, struct db **db)
{
    *db = db_thread();
    if (!*db)
        return req_fail(rq, ERR_UNAVAILABLE, NULL, "the database does not answer");
    return 0;
}

static int mfa_fail_db(struct db *db, int rc)
{
    db_rollback(db);
    return rc ? rc : ERR_INTERNAL;
}

static int mfa_commit(struct db *db)
{
    int rc = db_commit(db);

    if (rc)
        return mfa_fail_db(db, rc);
    mail_kick();
    return 0;
}

static int mfa_not_on(struct req *rq)
{
    return req_fail(rq, ERR_CONFLICT, "mfa_not_enabled", "two-factor login is not on");
}

/* Mail the account's own address about a change of its 2FA (caller's
 * transaction). */
static int mfa_notice(struct db *db, const char *id, const char *subject, const char *body)
{
    char email[POLICY_EMAIL_BUF];
    int rc = account_email_of(db, id, email);

    return rc ? rc : mail_enqueue(db, id, email, subject, body);
}

/* {"recovery_codes": [...]} (and enabled: true when on is set); codes wiped. */
static int mfa_codes_answer(struct req *rq, char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF],
                            int enabled)
{
    json_t *list = json_array(), *body;

    for (int i = 0; i < LIMIT_MFA_RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(codes[i]));
    sodium_memzero(codes, sizeof(char[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF]));
    body = enabled ? json_pack("{s:b,s:o}", "enabled", 1, "recovery_codes", list)
                   : json_pack("{s:o}", "recovery_codes", list);
    return resp_json(rq, 200, body);
}

/* The password field and its check, then the 2FA state (a storage error
 * or 0). */
static int mfa_password(struct req *rq, json_t *b, struct db *db, const char *id)
{
    const char *pw;
    size_t pwn;
    int rc = input_string(rq, b, "password", 1, &pw, &pwn);

    return rc ? rc : h_verify_current(rq, db, id, pw, pwn, "password");
}

int h_mfa_setup(struct req *rq)
{
    static const char *const keys[] = {"password", NULL};
    json_t *b = req_json(rq), *acc = NULL;
    const char *id = req_account(rq), *username;
    char b32[TOTP_BASE32_LEN + 1] = "", uri[MFA_URI_BUF] = "", when[25], *svg = NULL;
    size_t svgn = 0;
    int64_t expires = 0;
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = mfa_db(rq, &db)) ||
        (rc = mfa_password(rq, b, db, id)))
        return rc;
    if (!(acc = account_json(db, id)))
        return ERR_NOT_FOUND;
    username = json_string_value(json_object_get(acc, "username"));
    rc = mfa_setup(db, id, username ? username : "", b32, uri, &expires);
    json_decref(acc);
    if (rc == ERR_CONFLICT)
        return req_fail(rq, ERR_CONFLICT, "mfa_enabled",
                        "two-factor login is already on; turn it off first to set up another "
                        "authenticator");
    if (rc)
        return rc;
    if ((rc = qr_svg(uri, &svg, &svgn)))
        goto out;
    clock_format_rfc3339(expires * 1000, when);
    rc = resp_json(rq, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s}", "secret", b32, "otpauth_uri", uri,
                             "qr_svg", svg, "algorithm", "SHA1", "digits", LIMIT_MFA_DIGITS,
                             "period", LIMIT_MFA_STEP_S, "expires_at", when));
out:
    sodium_memzero(b32, sizeof b32);
    sodium_memzero(uri, sizeof uri);
    if (svg)
        sodium_memzero(svg, svgn);
    free(svg);
    return rc;
}

int h_mfa_enable(struct req *rq)
{
    static const char *const keys[] = {"code", NULL};
    json_t *b = req_json(rq);
    const char *id = req_account(rq), *code;
    char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    struct db *db;
    int64_t now = clock_now();
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = h_mfa_code_field(rq, b, 1, 1, &code)) ||
        (rc = mfa_db(rq, &db)) || (rc = h_throttle_take(rq, id, 0, now)))
        return rc;
    if ((rc = db_begin(db))) {
        h_throttle_give_back(rq, id, 0, now);
        return mfa_fail_db(db, rc);
    }
    rc = mfa_enable(db, id, code, codes);
    if (rc != ERR_UNAUTHENTICATED) /* only a wrong code keeps its places */
        h_throttle_give_back(rq, id, 0, now);
    if (rc == 0)
        rc = mfa_notice(db, id, "Two-factor login is on",
                        "Two-factor login was turned on for your atelier account. From now on, "
                        "logging in, resetting the password and changing the address need a code "
                        "of your authenticator app or one of your recovery codes.\n\nIf this was "
                        "not you, reset your password now.\n");
    if (rc) {
        sodium_memzero(codes, sizeof codes);
        db_rollback(db);
        if (rc == ERR_CONFLICT)
            return req_fail(rq, ERR_CONFLICT, "mfa_enabled", "two-factor login is already on");
        if (rc == ERR_NOT_FOUND)
            return req_fail(rq, ERR_CONFLICT, "mfa_setup_required",
                            "no setup is pending (or it expired): POST /v1/account/mfa/setup "
                            "first");
        if (rc == ERR_UNAUTHENTICATED)
            return req_fail(rq, ERR_FORBIDDEN, "wrong_code",
                            "code is not the current code of the new secret");
        return rc;
    }
    if ((rc = mfa_commit(db))) {
        sodium_memzero(codes, sizeof codes);
        return rc;
    }
    return mfa_codes_answer(rq, codes, 1);
}

/* Password, 2FA on, then the code: the checks of disable and recovery. */
static int mfa_confirm(struct req *rq, struct db *db, json_t *b, const char *id)
{
    static const char *const keys[] = {"password", "code", NULL};
    struct mfa_state st;
    const char *code;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = h_mfa_code_field(rq, b, 1, 0, &code)) ||
        (rc = mfa_password(rq, b, db, id)) || (rc = mfa_state(db, id, clock_now(), &st)))
        return rc;
    if (!st.on)
        return mfa_not_on(rq);
    return h_mfa_gate(rq, db, id, code, 0);
}

int h_mfa_disable(struct req *rq)
{
    json_t *b = req_json(rq);
    const char *id = req_account(rq);
    struct db *db;
    int rc;

    if ((rc = mfa_db(rq, &db)) || (rc = mfa_confirm(rq, db, b, id)))
        return rc;
    if ((rc = db_begin(db)))
        return mfa_fail_db(db, rc);
    rc = mfa_disable(db, id);
    if (rc == ERR_NOT_FOUND) {
        db_rollback(db);
        return mfa_not_on(rq);
    }
    if (rc || (rc = mfa_notice(db, id, "Two-factor login is off",
                               "Two-factor login was turned off for your atelier account: the "
                               "password alone logs in again.\n\nIf this was not you, reset "
                               "your password now and turn two-factor login on again.\n")))
        return mfa_fail_db(db, rc);
    if ((rc = mfa_commit(db)))
        return rc;
    return resp_empty(rq, 204);
}

int h_mfa_recovery(struct req *rq)
{
    json_t *b = req_json(rq);
    const char *id = req_account(rq);
    char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    struct db *db;
    int rc;

    if ((rc = mfa_db(rq, &db)) || (rc = mfa_confirm(rq, db, b, id)))
        return rc;
    if ((rc = db_begin(db)))
        return mfa_fail_db(db, rc);
    rc = mfa_recovery_replace(db, id, codes);
    if (rc == ERR_NOT_FOUND) {
        db_rollback(db);
        return mfa_not_on(rq);
    }
    if (rc || (rc = mfa_notice(db, id, "New recovery codes",
                               "New recovery codes were made for the two-factor login of your "
                               "atelier account; the previous ones no longer work.\n\nIf this "
                               "was not you, reset your password now.\n"))) {
        sodium_memzero(codes, sizeof codes);
        return mfa_fail_db(db, rc);
    }
    if ((rc = mfa_commit(db))) {
        sodium_memzero(codes, sizeof codes);
        return rc;
    }
    return mfa_codes_answer(rq, codes, 0);
}
