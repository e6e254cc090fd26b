/*
 * handlers_account.c - signup, confirmation, login, logout, password reset
 * and change, email change, and account deletion.
 *
 * Invariants:
 *   - Signup and password-forgot answer the same, whatever exists: what
 *     differs is only the mail, which reaches the address's owner alone.
 *     Every signup path hashes the password, so timing does not tell either.
 *   - Login has one failure answer (401 invalid_credentials), costs exactly
 *     one argon2id verification whatever failed (unknown name, wrong or
 *     over-long password), and is throttled per account (or per normalised
 *     unknown name) and client together, per account over all clients (a
 *     higher ceiling than one client may reach), and per client IP.
 *   - Every route that mails (signup, password forgot, email change) is
 *     limited per recipient address and per client before any work.
 *   - Links are single use: their rows are deleted in the transaction that
 *     uses them. A reset revokes every session; a password change every
 *     other session. A password change, a reset and a confirmed email
 *     change revoke every pending reset and email-change link of the
 *     account; a confirmed email change also revokes every session but the
 *     one that asked for it (issue 12).
 *   - A signup link confirms only with the password chosen at signup.
 *   - An email change mails the same whatever the new address: a notice to
 *     the current address, one mail to the new one (a link when it is free).
 *   - Mail is queued in the same transaction as the change it reports.
 *   - An account that restricts processing (account/restrict.h) gets no
 *     mail: password forgot then stores no link and sends nothing, and
 *     answers exactly as for any address; mail_enqueue drops the others.
 *   - Two-factor login (issue 14): on an account with 2FA on, login,
 *     password reset and email change need a code too (h_mfa_gate). A
 *     missing code is 401 mfa_required, and login says so only once the
 *     password was verified (the argon2id verification runs whatever the
 *     request holds). A wrong code counts toward the login throttle like a
 *     wrong password: on login it is the same 401 invalid_credentials, on
 *     the routes that already know the account (session, reset link) 403
 *     wrong_code, as a wrong password there is 403 wrong_password.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "account/mfa.h"
#include "privacy/erase.h"
#include "base/seal.h"
#include "base/clock.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "api/handlers.h"
#include "api/input.h"
#include "api/websession.h"
#include "account/mail.h"
#include "account/password.h"
#include "base/policy.h"
#include "account/ratelimit.h"
#include "account/restrict.h"
#include "base/util.h"

#define LINK_MAX 1024

static int h_throttled(struct req *rq, unsigned wait);

/* ---- shared steps ---- */

static int h_db(struct req *rq, struct db **db)
{
    *db = db_thread();
    if (!*db)
        return req_fail(rq, ERR_UNAVAILABLE, NULL, "the database does not answer");
    return 0;
}

/* Roll back and pass on the error of a step (storage or service). */
static int h_fail_db(struct db *db, int rc)
{
    db_rollback(db);
    return rc ? rc : ERR_INTERNAL;
}

static int h_commit(struct req *rq, struct db *db)
{
    int rc = db_commit(db);

    if (rc)
        return h_fail_db(db, rc);
    mail_kick();
    return 0;
}

/* Validate email/username/password fields shared by several handlers. */
static int h_email_field(struct req *rq, json_t *b, const char *key, char out[POLICY_EMAIL_BUF])
{
    const char *s;
    size_t n;
    int rc = input_string(rq, b, key, 1, &s, &n);

    if (rc)
        return rc;
    if (account_email_normalise(s, n, out))
        return input_fail(rq, key,
                          "%s must be an address with a single @, at most %d bytes, without "
                          "spaces or quotes",
                          key, LIMIT_EMAIL_MAX);
    return 0;
}

static int h_password_field(struct req *rq, json_t *b, const char *key, const char *username,
                            const char *email, const char **pw, size_t *n)
{
    const char *words[] = {username, email, NULL};
    char why[256];
    int rc = input_string(rq, b, key, 1, pw, n);

    if (rc)
        return rc;
    if (password_check(*pw, *n, username || email ? words : NULL, why, sizeof why))
        return input_fail(rq, key, "%s %s", key, why);
    return 0;
}

/* The user's own words for zxcvbn: username and address of an account. */
static int h_account_words(struct db *db, const char *id, char username[POLICY_USERNAME_BUF],
                           char email[POLICY_EMAIL_BUF])
{
    json_t *a = account_json(db, id);
    int rc = ERR_NOT_FOUND;

    if (a) {
        const char *u = json_string_value(json_object_get(a, "username"));
        const char *e = json_string_value(json_object_get(a, "email"));
        util_strlcpy(username, u ? u : "", POLICY_USERNAME_BUF);
        util_strlcpy(email, e ? e : "", POLICY_EMAIL_BUF);
        rc = 0;
    }
    json_decref(a);
    return rc;
}

/* Queue a mail that carries a link (a secret until it is used), then wipe
 * the link and the body that held it. */
static int h_enqueue_link(struct db *db, const char *account_id, const char *to,
                          const char *subject, char *body, size_t bodyn, char *link, size_t linkn)
{
    int rc = mail_enqueue(db, account_id, to, subject, body);

    sodium_memzero(body, bodyn);
    sodium_memzero(link, linkn);
    return rc;
}

static int h_accepted(struct req *rq, const char *message)
{
    return resp_json(rq, 202, json_pack("{s:s}", "message", message));
}

static int h_throttled_why(struct req *rq, unsigned wait, const char *why)
{
    char s[16];

    snprintf(s, sizeof s, "%u", wait);
    resp_header(rq, "Retry-After", s);
    return req_fail(rq, ERR_RATE_LIMITED, NULL, "%s; try again in %u s", why, wait);
}

/* The limits of a request that may mail `email`: per client and per
 * recipient (keyed by a keyed hash of the address). Counted whether or not
 * a mail goes out, so the answer tells nothing about the address. */
static int h_mail_limit(struct req *rq, const char *email)
{
    uint8_t h[SEAL_LOOKUP_BYTES];
    char key[2 * SEAL_LOOKUP_BYTES + 1];
    int64_t now = clock_now();
    unsigned wait;

    seal_lookup("mail-limit", email, strlen(email), h);
    util_hex(h, sizeof h, key);
    if ((wait = ratelimit_take(RL_MAIL_CLIENT, req_ip(rq), now)))
        return h_throttled_why(rq, wait, "too many mailing requests");
    if ((wait = ratelimit_take(RL_MAIL_RECIPIENT, key, now))) {
        ratelimit_give_back(RL_MAIL_CLIENT, req_ip(rq), now);
        return h_throttled_why(rq, wait, "too many mailing requests");
    }
    return 0;
}

/* Revoke every pending reset and email-change link of account id. */
static int h_revoke_links(struct db *db, const char *id)
{
    struct db_param reset[] = {DB_TEXT(id), DB_TEXT("reset")};
    struct db_param email[] = {DB_TEXT(id), DB_TEXT("email")};
    int rc = db_query(db, STMT_TOKEN_DELETE_KIND, reset, 2, NULL);

    return rc ? rc : db_query(db, STMT_TOKEN_DELETE_KIND, email, 2, NULL);
}

/* ---- signup ---- */

static int h_signup_pending(struct db *db, const struct config *cfg, const char *email,
                            const char *username, const char *hash)
{
    char token[TOKEN_SECRET_LEN + 1], hx[2 * TOKEN_HASH_BYTES + 1], link[LINK_MAX], body[2048];
    uint8_t th[TOKEN_HASH_BYTES], lookup[SEAL_LOOKUP_BYTES], *box = NULL, *ubox = NULL;
    size_t boxn = 0, uboxn = 0;
    int64_t now = clock_now();
    int rc;

    token_secret(token, th);
    util_hex(th, sizeof th, hx);
    account_email_lookup(email, lookup);
    if ((rc = seal_text("signups.email", hx, email, &box, &boxn)) ||
        (rc = seal_text("signups.username", hx, username, &ubox, &uboxn))) {
        free(box);
        return rc;
    }
    struct db_param p[] = {DB_BLOB(th, sizeof th),
                           DB_BLOB(lookup, sizeof lookup),
                           DB_BLOB(box, boxn),
                           DB_BLOB(ubox, uboxn),
                           DB_TEXT(hash),
                           DB_INT(now),
                           DB_INT(now + LIMIT_CONFIRM_TTL_S)};
    rc = db_query(db, STMT_SIGNUP_INSERT, p, 7, NULL);
    free(box);
    free(ubox);
    if (rc)
        return rc;
    account_link(cfg, "confirm", token, link, sizeof link);
    snprintf(body, sizeof body,
             "Welcome to atelier, %s.\n\nTo confirm your address and activate your account, "
             "open this link within 24 hours:\n\n%s\n\nIf you did not sign up, ignore this "
             "mail; nothing will be kept.\n",
             username, link);
    sodium_memzero(token, sizeof token);
    return h_enqueue_link(db, NULL, email, "Confirm your atelier account", body, sizeof body, link,
                          sizeof link);
}

/* 0 when login (an address or a username) names an account, its id in id;
 * ERR_NOT_FOUND or a storage error otherwise. */
static int h_account_of(struct db *db, const char *login, char id[POLICY_ID_BUF])
{
    char *hash = NULL;
    int rc = account_find_login(db, login, id, &hash);

    free(hash);
    return rc;
}

static int h_signup_store(struct db *db, const struct config *cfg, const char *email,
                          const char *username, const char *hash)
{
    char id[POLICY_ID_BUF];
    int rc;

    if ((rc = h_account_of(db, email, id)) == 0)
        return mail_enqueue(db, id, email, "Someone tried to sign up with your address",
                            "Someone tried to create an atelier account with this address, "
                            "which already has one.\n\nIf it was you, log in, or reset your "
                            "password if you forgot it. If not, ignore this mail.\n");
    if (rc == ERR_NOT_FOUND && (rc = h_account_of(db, username, id)) == 0)
        return mail_enqueue(db, NULL, email, "Choose another username",
                            "Someone (probably you) tried to create an atelier account with "
                            "this address, but the username chosen is taken. Please sign up "
                            "again with another username.\n");
    if (rc != ERR_NOT_FOUND)
        return rc;
    return h_signup_pending(db, cfg, email, username, hash);
}

int h_signup(struct req *rq)
{
    static const char *const keys[] = {"email", "username", "password", NULL};
    json_t *b = req_json(rq);
    char email[POLICY_EMAIL_BUF], username[POLICY_USERNAME_BUF], hash[PASSWORD_HASH_MAX];
    const char *s, *pw;
    size_t n, pwn;
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = h_email_field(rq, b, "email", email)) ||
        (rc = input_string(rq, b, "username", 1, &s, &n)))
        return rc;
    if (account_username_normalise(s, n, username))
        return input_fail(rq, "username", "username must be %d to %d of a-z 0-9 _ . -",
                          LIMIT_USERNAME_MIN, LIMIT_USERNAME_MAX);
    if ((rc = h_password_field(rq, b, "password", username, email, &pw, &pwn)) ||
        (rc = h_mail_limit(rq, email)))
        return rc;
    if ((rc = password_hash(pw, pwn, hash)) || (rc = h_db(rq, &db)))
        return rc;
    if ((rc = db_begin(db)))
        return h_fail_db(db, rc);
    if ((rc = h_signup_store(db, req_config(rq), email, username, hash)))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    return h_accepted(rq, "check your inbox for a confirmation link");
}

/* ---- confirm ---- */

struct pending {
    uint8_t lookup[SEAL_LOOKUP_BYTES];
    char email[POLICY_EMAIL_BUF];
    char username[POLICY_USERNAME_BUF];
    char hash[PASSWORD_HASH_MAX];
    int64_t expires_at;
};

/* Take (delete) the pending signup of token hash th; 0, ERR_NOT_FOUND. */
static int h_take_signup(struct db *db, const uint8_t th[TOKEN_HASH_BYTES], struct pending *pd)
{
    struct db_param p[] = {DB_BLOB(th, TOKEN_HASH_BYTES)};
    struct db_rows *rows = NULL;
    char hx[2 * TOKEN_HASH_BYTES + 1], *email = NULL, *username = NULL;
    int rc = db_query(db, STMT_SIGNUP_TAKE, p, 1, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        size_t n = 0, un = 0;
        const void *box = db_col_blob(rows, 1, &n), *ubox = db_col_blob(rows, 2, &un);
        util_hex(th, TOKEN_HASH_BYTES, hx);
        rc = seal_open_text("signups.email", hx, box, n, &email);
        if (rc == 0)
            rc = seal_open_text("signups.username", hx, ubox, un, &username);
        if (rc == 0) {
            util_strlcpy(pd->email, email, sizeof pd->email);
            util_strlcpy(pd->username, username, sizeof pd->username);
            util_strlcpy(pd->hash, db_col_text(rows, 3, NULL), sizeof pd->hash);
            pd->expires_at = db_col_int(rows, 4);
            account_email_lookup(pd->email, pd->lookup);
        }
        free(email);
        free(username);
    } else if (rc == 0) {
        rc = ERR_NOT_FOUND;
    }
    db_rows_free(rows);
    return rc;
}

static int h_create_account(struct db *db, struct pending *pd, char id[TOKEN_ID_LEN + 1])
{
    uint8_t *box = NULL, *ubox = NULL, ulookup[SEAL_LOOKUP_BYTES];
    size_t boxn = 0, uboxn = 0;
    int64_t now = clock_now();
    int rc;

    token_id(id);
    if ((rc = account_taken_elsewhere(db, pd->email, NULL)) ||
        (rc = account_taken_elsewhere(db, pd->username, NULL)))
        return rc;
    if ((rc = seal_text("accounts.email", id, pd->email, &box, &boxn)) ||
        (rc = account_username_seal(id, pd->username, ulookup, &ubox, &uboxn))) {
        free(box);
        return rc;
    }
    struct db_param p[] = {DB_TEXT(id),          DB_BLOB(pd->lookup, sizeof pd->lookup),
                           DB_BLOB(box, boxn),   DB_BLOB(ulookup, sizeof ulookup),
                           DB_BLOB(ubox, uboxn), DB_TEXT(pd->hash),
                           DB_INT(now)};
    rc = db_query(db, STMT_ACCOUNT_INSERT, p, 7, NULL);
    free(box);
    free(ubox);
    if (rc)
        return rc;
    /* The address's other pending signups, hashed under either key. */
    uint8_t lookups[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES];
    int keys = seal_lookups("email", pd->email, strlen(pd->email), lookups);
    for (int k = 0; k < keys && rc == 0; k++) {
        struct db_param q[] = {DB_BLOB(lookups[k], sizeof lookups[k])};
        rc = db_query(db, STMT_SIGNUP_DELETE_EMAIL, q, 1, NULL);
    }
    return rc;
}

static int h_confirm_signup(struct req *rq, struct db *db, struct pending *pd, int cookie)
{
    char id[TOKEN_ID_LEN + 1], token[TOKEN_SECRET_LEN + 1], when[25];
    int64_t expires;
    int rc;

    if (pd->expires_at <= clock_now()) {
        if (db_commit(db)) /* the expired link is gone either way */
            db_rollback(db);
        return req_fail(rq, ERR_BAD_REQUEST, "invalid_token",
                        "this link is invalid or has expired");
    }
    rc = h_create_account(db, pd, id);
    if (rc == ERR_CONFLICT) {
        db_rollback(db);
        return req_fail(rq, ERR_CONFLICT, "already_taken",
                        "this address or username has been taken meanwhile; sign up again");
    }
    if (rc || (rc = account_session_create(db, id, token, &expires)))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    json_t *acc = account_json(db, id);
    clock_format_rfc3339(expires * 1000, when); /* the session's end, as login says it */
    if (cookie) {                               /* the token goes to the HttpOnly cookie only */
        if ((rc = websession_set(rq, token, expires)) == 0)
            rc = resp_json(rq, 200, json_pack("{s:s,s:o*}", "expires_at", when, "account", acc));
        else
            json_decref(acc);
    } else {
        rc = resp_json(
            rq, 200,
            json_pack("{s:s,s:s,s:o*}", "token", token, "expires_at", when, "account", acc));
    }
    sodium_memzero(token, sizeof token);
    return rc;
}

/* An email change link: payload is the new address. */
static int h_confirm_email(struct req *rq, struct db *db, const uint8_t th[TOKEN_HASH_BYTES])
{
    struct db_param p[] = {DB_BLOB(th, TOKEN_HASH_BYTES), DB_TEXT("email")};
    struct db_rows *rows = NULL;
    char hx[2 * TOKEN_HASH_BYTES + 1], id[POLICY_ID_BUF] = "", old[POLICY_EMAIL_BUF], *email = NULL;
    char keep[POLICY_ID_BUF] = "";
    int64_t expires = 0;
    int rc = db_query(db, STMT_TOKEN_TAKE, p, 2, &rows);

    if (rc)
        return h_fail_db(db, rc);
    if (db_next(rows) == 1) {
        size_t n = 0;
        const void *box = db_col_blob(rows, 1, &n);
        util_hex(th, TOKEN_HASH_BYTES, hx);
        util_strlcpy(id, db_col_text(rows, 0, NULL), sizeof id);
        expires = db_col_int(rows, 2);
        if (!db_col_null(rows, 3))
            util_strlcpy(keep, db_col_text(rows, 3, NULL), sizeof keep);
        if (seal_open_text("tokens.payload", hx, box, n, &email))
            email = NULL;
    }
    db_rows_free(rows);
    if (!email || expires <= clock_now()) {
        free(email);
        if (db_commit(db))
            db_rollback(db);
        return req_fail(rq, ERR_BAD_REQUEST, "invalid_token",
                        "this link is invalid or has expired");
    }
    rc = account_email_of(db, id, old);
    uint8_t lookup[SEAL_LOOKUP_BYTES], *box = NULL;
    size_t boxn = 0;
    account_email_lookup(email, lookup);
    if (rc == 0)
        rc = account_taken_elsewhere(db, email, id);
    if (rc == 0)
        rc = seal_text("accounts.email", id, email, &box, &boxn);
    if (rc == 0) {
        struct db_param u[] = {DB_TEXT(id), DB_BLOB(lookup, sizeof lookup), DB_BLOB(box, boxn),
                               DB_INT(clock_now())};
        rc = db_query(db, STMT_ACCOUNT_SET_EMAIL, u, 4, NULL);
    }
    free(box);
    free(email);
    if (rc == ERR_CONFLICT) {
        db_rollback(db);
        return req_fail(rq, ERR_CONFLICT, "already_taken",
                        "this address belongs to another account now");
    }
    if (rc == 0 && (rc = h_revoke_links(db, id)) == 0) {
        struct db_param others[] = {DB_TEXT(id), DB_TEXT(keep)};
        rc = db_query(db, STMT_SESSION_DELETE_OTHERS, others, 2, NULL);
    }
    if (rc || (rc = mail_enqueue(db, id, old, "Your atelier address was changed",
                                 "The address of your atelier account was changed. If you did "
                                 "not ask for this, reset your password now.\n")))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    return resp_json(rq, 200, json_pack("{s:o*}", "account", account_json(db, id)));
}

/* A signup link confirms only with the password chosen at signup, so that
 * whoever signed up someone else's address cannot have its owner activate
 * an account whose password they know. Checked before the write
 * transaction (argon2id is slow); wrong guesses count against the client's
 * login throttle. 0 when th is a pending signup and the password is its
 * own, ERR_NOT_FOUND when th is no pending signup, else an error. */
static int h_signup_password(struct req *rq, struct db *db, json_t *b,
                             const uint8_t th[TOKEN_HASH_BYTES])
{
    struct db_param p[] = {DB_BLOB(th, TOKEN_HASH_BYTES)};
    struct db_rows *rows = NULL;
    char hash[PASSWORD_HASH_MAX] = "";
    const char *pw;
    size_t n;
    int64_t now = clock_now();
    unsigned wait;
    int rc = db_query(db, STMT_SIGNUP_PEEK, p, 1, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1)
        util_strlcpy(hash, db_col_text(rows, 0, NULL), sizeof hash);
    db_rows_free(rows);
    if (rc != 1)
        return rc == 0 ? ERR_NOT_FOUND : rc;
    if ((rc = input_string(rq, b, "password", 1, &pw, &n)))
        return rc;
    if ((wait = ratelimit_take(RL_LOGIN_IP, req_ip(rq), now)))
        return h_throttled(rq, wait);
    if (n <= LIMIT_PASSWORD_MAX && password_verify(hash, pw, n) == 0) {
        ratelimit_give_back(RL_LOGIN_IP, req_ip(rq), now);
        return 0;
    }
    return req_fail(rq, ERR_FORBIDDEN, "wrong_password",
                    "password is not the one chosen at signup");
}

int h_confirm(struct req *rq)
{
    static const char *const keys[] = {"token", "password", "cookie", NULL};
    json_t *b = req_json(rq);
    uint8_t th[TOKEN_HASH_BYTES];
    struct pending pd;
    const char *token;
    struct db *db;
    int rc, cookie = 0, has_cookie = 0;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = input_string(rq, b, "token", 1, &token, NULL)) ||
        (rc = input_bool(rq, b, "cookie", 0, &cookie, &has_cookie)))
        return rc;
    if (cookie && (rc = websession_check_login(rq)))
        return rc;
    if (token_hash(token, th))
        return req_fail(rq, ERR_BAD_REQUEST, "invalid_token",
                        "this link is invalid or has expired");
    if ((rc = h_db(rq, &db)))
        return rc;
    rc = h_signup_password(rq, db, b, th);
    if (rc && rc != ERR_NOT_FOUND)
        return rc;
    if ((rc = db_begin(db)))
        return h_fail_db(db, rc);
    rc = h_take_signup(db, th, &pd);
    if (rc == 0) {
        rc = h_confirm_signup(rq, db, &pd, cookie);
        sodium_memzero(&pd, sizeof pd);
        return rc;
    }
    if (rc != ERR_NOT_FOUND)
        return h_fail_db(db, rc);
    return h_confirm_email(rq, db, th);
}

/* ---- login and logout ---- */

static int h_throttled(struct req *rq, unsigned wait)
{
    return h_throttled_why(rq, wait, "too many failed logins");
}

/* The login throttle keys of an attempt: `who` is the account ("a:" id),
 * or, when no account has the name, its normalised form (what
 * account_find_login looks up), as a keyed hash; `pair` is `who` together
 * with the client. Any spelling of a name throttles alike, whether or not
 * an account has it, and no name is kept in memory in clear. */
struct login_keys {
    char who[80];
    char pair[192];
};

static void h_login_keys(struct req *rq, const char *login, const char *id, struct login_keys *k)
{
    char norm[POLICY_EMAIL_BUF], hx[2 * SEAL_LOOKUP_BYTES + 1];
    uint8_t h[SEAL_LOOKUP_BYTES];
    size_t n = strlen(login);

    if (id[0]) {
        snprintf(k->who, sizeof k->who, "a:%s", id);
    } else {
        const char *form = norm;
        if (account_email_normalise(login, n, norm) && account_username_normalise(login, n, norm))
            form = login; /* no account can have it */
        seal_lookup("login", form, strlen(form), h);
        util_hex(h, sizeof h, hx);
        snprintf(k->who, sizeof k->who, "n:%s", hx);
        sodium_memzero(norm, sizeof norm);
    }
    snprintf(k->pair, sizeof k->pair, "%s|%s", k->who, req_ip(rq));
}

/* An attempt takes its places before the password or code is checked
 * (ratelimit_take: guesses in flight together cannot all pass one check):
 * the client's (with_ip), the account's with this client, the account's
 * over every client. 0, with all taken; or the seconds to wait, with none. A
 * failed attempt keeps them: they are its failures. Any other outcome gives
 * them back (h_login_give_back). */
static unsigned h_login_take(struct req *rq, const struct login_keys *k, int with_ip, int64_t now)
{
    unsigned wait;

    if (with_ip && (wait = ratelimit_take(RL_LOGIN_IP, req_ip(rq), now)))
        return wait;
    if (!(wait = ratelimit_take(RL_LOGIN_ACCOUNT, k->pair, now))) {
        if (!(wait = ratelimit_take(RL_LOGIN_ACCOUNT_ALL, k->who, now)))
            return 0;
        ratelimit_give_back(RL_LOGIN_ACCOUNT, k->pair, now);
    }
    if (with_ip)
        ratelimit_give_back(RL_LOGIN_IP, req_ip(rq), now);
    return wait;
}

static void h_login_give_back(struct req *rq, const struct login_keys *k, int with_ip, int64_t now)
{
    if (with_ip)
        ratelimit_give_back(RL_LOGIN_IP, req_ip(rq), now);
    ratelimit_give_back(RL_LOGIN_ACCOUNT, k->pair, now);
    ratelimit_give_back(RL_LOGIN_ACCOUNT_ALL, k->who, now);
}

static int h_login_ok(struct req *rq, struct db *db, const char *id, const char *pw, size_t pwn,
                      const char *hash, int cookie)
{
    char token[TOKEN_SECRET_LEN + 1], newhash[PASSWORD_HASH_MAX], when[25];
    int64_t expires;
    int rc, rehash = password_needs_rehash(hash) && password_hash(pw, pwn, newhash) == 0;

    if ((rc = db_begin(db)))
        return h_fail_db(db, rc);
    if ((rc = account_session_create(db, id, token, &expires)))
        return h_fail_db(db, rc);
    if (rehash) {
        struct db_param p[] = {DB_TEXT(id), DB_TEXT(newhash), DB_INT(clock_now())};
        if ((rc = db_query(db, STMT_ACCOUNT_SET_PASSWORD, p, 3, NULL)))
            return h_fail_db(db, rc);
    }
    if ((rc = h_commit(rq, db)))
        return rc;
    clock_format_rfc3339(expires * 1000, when);
    if (cookie) { /* the token goes to the HttpOnly cookie only */
        if ((rc = websession_set(rq, token, expires)) == 0)
            rc = resp_json(rq, 200, json_pack("{s:s}", "expires_at", when));
    } else
        rc = resp_json(rq, 200, json_pack("{s:s,s:s}", "token", token, "expires_at", when));
    sodium_memzero(token, sizeof token);
    return rc;
}

/* Exactly one argon2id verification, whatever is wrong: an unknown name or
 * a password over LIMIT_PASSWORD_MAX bytes is checked against the dummy
 * hash (the password cut to the limit), so failures cost alike. */
static int h_login_verify(const char *hash, const char *pw, size_t pwn)
{
    if (hash && pwn <= LIMIT_PASSWORD_MAX)
        return password_verify(hash, pw, pwn);
    password_dummy_verify(pw, pwn > LIMIT_PASSWORD_MAX ? LIMIT_PASSWORD_MAX : pwn);
    return ERR_UNAUTHENTICATED;
}

/* The second factor of a login whose password was right: 0 when the
 * account has no 2FA or code is good (and now used up), 1 when the code is
 * missing, ERR_UNAUTHENTICATED when it is wrong, or a storage error. */
static int h_login_second(struct db *db, const char *id, const struct mfa_state *st,
                          const char *code)
{
    int rc;

    if (!st->on)
        return 0;
    if (!code)
        return 1;
    rc = mfa_verify(db, id, code);
    return rc == ERR_NOT_FOUND ? 0 : rc; /* turned off meanwhile */
}

/* What one login attempt checks, once its places are taken. */
struct login_try {
    const char *id, *hash, *pw, *code;
    size_t pwn;
    int cookie;
};

/* The password, then the second factor, then the session. *failed is set
 * when the credentials were wrong (the attempt keeps its places). */
static int h_login_try(struct req *rq, struct db *db, const struct login_keys *k,
                       const struct login_try *t, int64_t now, int *failed)
{
    struct mfa_state st;
    int rc;

    *failed = 0;
    /* Read for every attempt, known name or not, so the work is the same. */
    if ((rc = mfa_state(db, t->id, now, &st)))
        return rc;
    if (h_login_verify(t->hash, t->pw, t->pwn) == 0) {
        rc = h_login_second(db, t->id, &st, t->code);
        if (rc == 1)
            return req_fail(rq, ERR_UNAUTHENTICATED, "mfa_required",
                            "this account uses two-factor login: send code, the %d digits of "
                            "the authenticator app or a recovery code",
                            LIMIT_MFA_DIGITS);
        if (rc == 0) {
            ratelimit_reset(RL_LOGIN_ACCOUNT, k->pair);
            return h_login_ok(rq, db, t->id, t->pw, t->pwn, t->hash, t->cookie);
        }
        if (rc != ERR_UNAUTHENTICATED)
            return rc;
    }
    *failed = 1;
    return req_fail(rq, ERR_UNAUTHENTICATED, "invalid_credentials",
                    t->code ? "the login, the password or the code is wrong"
                            : "the login or the password is wrong");
}

int h_login(struct req *rq)
{
    static const char *const keys[] = {"login", "password", "code", "cookie", NULL};
    json_t *b = req_json(rq);
    const char *login;
    char id[POLICY_ID_BUF] = "", *hash = NULL;
    struct login_try t = {0};
    struct login_keys k;
    struct db *db;
    int64_t now = clock_now();
    unsigned wait;
    int rc, failed, has_cookie = 0;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = input_string(rq, b, "login", 1, &login, NULL)) ||
        (rc = input_string(rq, b, "password", 1, &t.pw, &t.pwn)) ||
        (rc = h_mfa_code_field(rq, b, 0, 0, &t.code)) ||
        (rc = input_bool(rq, b, "cookie", 0, &t.cookie, &has_cookie)) || (rc = h_db(rq, &db)))
        return rc;
    if (t.cookie && (rc = websession_check_login(rq)))
        return rc;
    /* the client's place first: a locked-out client is refused before any
     * lookup; then the account's (h_login_take) */
    if ((wait = ratelimit_take(RL_LOGIN_IP, req_ip(rq), now)))
        return h_throttled(rq, wait);
    rc = account_find_login(db, login, id, &hash);
    if (rc && rc != ERR_NOT_FOUND) {
        ratelimit_give_back(RL_LOGIN_IP, req_ip(rq), now);
        return rc; /* the layer answers with err_text */
    }
    h_login_keys(rq, login, id, &k);
    if ((wait = h_login_take(rq, &k, 0, now))) {
        ratelimit_give_back(RL_LOGIN_IP, req_ip(rq), now);
        free(hash);
        return h_throttled(rq, wait);
    }
    t.id = id;
    t.hash = hash;
    rc = h_login_try(rq, db, &k, &t, now, &failed);
    free(hash);
    if (!failed)
        h_login_give_back(rq, &k, 1, now);
    return rc;
}

int h_logout(struct req *rq)
{
    struct db *db;
    int rc;

    if ((rc = h_db(rq, &db)))
        return rc;
    struct db_param p[] = {DB_TEXT(req_session(rq))};
    if ((rc = db_query(db, STMT_SESSION_DELETE, p, 1, NULL)))
        return rc;
    if (req_cookie(rq, WEBSESSION_COOKIE))
        websession_clear(rq);
    return resp_empty(rq, 204);
}

/* Check the password of the logged-in account before a sensitive change.
 * Failures count against the same per-account throttle as logins, so a
 * stolen session cannot be used to guess the password. Answers 403/429. */
int h_verify_current(struct req *rq, struct db *db, const char *id, const char *pw, size_t n,
                     const char *field)
{
    struct login_keys k;
    int64_t now = clock_now();
    unsigned wait;

    h_login_keys(rq, "", id, &k);
    if ((wait = h_login_take(rq, &k, 0, now)))
        return h_throttled(rq, wait);
    int rc = n <= LIMIT_PASSWORD_MAX ? account_check_password(db, id, pw, n) : ERR_UNAUTHENTICATED;
    if (rc != ERR_UNAUTHENTICATED) { /* 0, or a storage error: not a wrong password */
        h_login_give_back(rq, &k, 0, now);
        return rc;
    }
    return req_fail(rq, ERR_FORBIDDEN, "wrong_password", "%s is wrong", field);
}

/* ---- the second factor (issue 14) ---- */

int h_mfa_code_field(struct req *rq, json_t *b, int required, int totp_only, const char **code)
{
    const char *s;
    size_t n;
    int rc = input_string(rq, b, "code", required, &s, &n);
    enum mfa_code_kind kind;

    *code = NULL;
    if (rc || !s)
        return rc;
    kind = mfa_code_kind(s, n);
    if (totp_only && kind != MFA_CODE_TOTP)
        return input_fail(rq, "code", "code must be the %d digits of the authenticator app",
                          LIMIT_MFA_DIGITS);
    if (kind == MFA_CODE_BAD)
        return input_fail(rq, "code",
                          "code must be the %d digits of the authenticator app or a recovery "
                          "code (xxxxx-xxxxx: a-z and 2-7)",
                          LIMIT_MFA_DIGITS);
    *code = s;
    return 0;
}

int h_throttle_take(struct req *rq, const char *id, int with_ip, int64_t now)
{
    struct login_keys k;
    unsigned wait;

    h_login_keys(rq, "", id, &k);
    if ((wait = h_login_take(rq, &k, with_ip, now)))
        return h_throttled(rq, wait);
    return 0;
}

void h_throttle_give_back(struct req *rq, const char *id, int with_ip, int64_t now)
{
    struct login_keys k;

    h_login_keys(rq, "", id, &k);
    h_login_give_back(rq, &k, with_ip, now);
}

int h_mfa_gate(struct req *rq, struct db *db, const char *id, const char *code, int with_ip)
{
    struct mfa_state st;
    int64_t now = clock_now();
    int rc = mfa_state(db, id, now, &st);

    if (rc || !st.on)
        return rc;
    if (!code)
        return req_fail(rq, ERR_UNAUTHENTICATED, "mfa_required",
                        "this account uses two-factor login: send code, the %d digits of the "
                        "authenticator app or a recovery code",
                        LIMIT_MFA_DIGITS);
    if ((rc = h_throttle_take(rq, id, with_ip, now)))
        return rc;
    rc = mfa_verify(db, id, code);
    if (rc != ERR_UNAUTHENTICATED) { /* 0, turned off meanwhile, or storage */
        h_throttle_give_back(rq, id, with_ip, now);
        return rc == ERR_NOT_FOUND ? 0 : rc;
    }
    return req_fail(rq, ERR_FORBIDDEN, "wrong_code", "code is wrong or was already used");
}

/* ---- password forgot / reset / change ---- */

/* 1 when account id restricts processing (account/restrict.h), 0 when
 * not, or a negative err. */
static int h_restricted(struct db *db, const char *id)
{
    int64_t since = 0;
    int rc = restrict_get(db, id, &since);

    return rc ? rc : since > 0;
}

static int h_forgot_mail(struct req *rq, struct db *db, const char *id, const char *email)
{
    char token[TOKEN_SECRET_LEN + 1], link[LINK_MAX], body[2048];
    uint8_t th[TOKEN_HASH_BYTES];
    int64_t now = clock_now();
    int rc;

    token_secret(token, th);
    struct db_param del[] = {DB_TEXT(id), DB_TEXT("reset")};
    struct db_param ins[] = {
        DB_BLOB(th, sizeof th),         DB_TEXT(id), DB_TEXT("reset"), DB_NULL, DB_INT(now),
        DB_INT(now + LIMIT_RESET_TTL_S)};
    account_link(req_config(rq), "reset", token, link, sizeof link);
    snprintf(body, sizeof body,
             "Someone (probably you) asked to reset the password of your atelier account.\n\n"
             "To choose a new password, open this link within one hour:\n\n%s\n\n"
             "If you did not ask for this, ignore this mail; your password stays as it is.\n",
             link);
    sodium_memzero(token, sizeof token);
    if ((rc = db_query(db, STMT_TOKEN_DELETE_KIND, del, 2, NULL)) ||
        (rc = db_query(db, STMT_TOKEN_INSERT, ins, 6, NULL))) {
        sodium_memzero(body, sizeof body);
        sodium_memzero(link, sizeof link);
        return rc;
    }
    return h_enqueue_link(db, id, email, "Reset your atelier password", body, sizeof body, link,
                          sizeof link);
}

int h_password_forgot(struct req *rq)
{
    static const char *const keys[] = {"email", NULL};
    json_t *b = req_json(rq);
    char email[POLICY_EMAIL_BUF], id[POLICY_ID_BUF];
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = h_email_field(rq, b, "email", email)) ||
        (rc = h_mail_limit(rq, email)) || (rc = h_db(rq, &db)))
        return rc;
    rc = h_account_of(db, email, id);
    if (rc == 0 && (rc = h_restricted(db, id)) > 0) {
        rc = 0; /* restricted: no mail, no link, and the same answer (see top) */
    } else if (rc == 0) {
        if ((rc = db_begin(db)) || (rc = h_forgot_mail(rq, db, id, email)))
            return h_fail_db(db, rc);
        if ((rc = h_commit(rq, db)))
            return rc;
    } else if (rc && rc != ERR_NOT_FOUND) {
        return rc; /* the layer answers with err_text */
    }
    return h_accepted(rq, "if an account has this address, a reset link is on its way");
}

/* The account a live reset link belongs to, without using the link up. */
static int h_peek_reset(struct db *db, const uint8_t th[TOKEN_HASH_BYTES], char id[POLICY_ID_BUF])
{
    struct db_param p[] = {DB_BLOB(th, TOKEN_HASH_BYTES), DB_TEXT("reset"), DB_INT(clock_now())};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_TOKEN_PEEK, p, 3, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1)
        util_strlcpy(id, db_col_text(rows, 0, NULL), POLICY_ID_BUF);
    db_rows_free(rows);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

static int h_set_password(struct req *rq, struct db *db, const char *id, const char *hash,
                          const char *keep_session)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(hash), DB_INT(clock_now())};
    struct db_param all[] = {DB_TEXT(id)};
    struct db_param others[] = {DB_TEXT(id), DB_TEXT(keep_session ? keep_session : "")};
    int rc = db_query(db, STMT_ACCOUNT_SET_PASSWORD, p, 3, NULL);

    if (rc == 0)
        rc = keep_session ? db_query(db, STMT_SESSION_DELETE_OTHERS, others, 2, NULL)
                          : db_query(db, STMT_SESSION_DELETE_ALL, all, 1, NULL);
    if (rc == 0)
        rc = h_revoke_links(db, id);
    return rc;
}

int h_password_reset(struct req *rq)
{
    static const char *const keys[] = {"token", "password", "code", NULL};
    json_t *b = req_json(rq);
    char id[POLICY_ID_BUF], username[POLICY_USERNAME_BUF], email[POLICY_EMAIL_BUF],
        hash[PASSWORD_HASH_MAX];
    uint8_t th[TOKEN_HASH_BYTES];
    const char *token, *pw, *code;
    size_t pwn;
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = input_string(rq, b, "token", 1, &token, NULL)) ||
        (rc = h_mfa_code_field(rq, b, 0, 0, &code)) || (rc = h_db(rq, &db)))
        return rc;
    rc = token_hash(token, th) ? ERR_NOT_FOUND : h_peek_reset(db, th, id);
    if (rc == 0)
        rc = h_account_words(db, id, username, email);
    if (rc == ERR_NOT_FOUND)
        return req_fail(rq, ERR_BAD_REQUEST, "invalid_token",
                        "this link is invalid or has expired");
    if (rc)
        return rc;
    /* The link stays valid until the reset succeeds: a missing or wrong
     * code leaves it for the next try (throttled like logins). */
    if ((rc = h_password_field(rq, b, "password", username, email, &pw, &pwn)) ||
        (rc = h_mfa_gate(rq, db, id, code, 1)) || (rc = password_hash(pw, pwn, hash)))
        return rc;
    if ((rc = db_begin(db)))
        return h_fail_db(db, rc);
    struct db_param p[] = {DB_BLOB(th, sizeof th), DB_TEXT("reset")};
    int64_t taken = db_exec(db, STMT_TOKEN_DELETE, p, 2);
    if (taken < 0)
        return h_fail_db(db, (int)taken);
    if (taken != 1) {
        db_rollback(db); /* used meanwhile by a concurrent request */
        return req_fail(rq, ERR_BAD_REQUEST, "invalid_token", "this link has been used");
    }
    if ((rc = h_set_password(rq, db, id, hash, NULL)))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    return resp_empty(rq, 204);
}

int h_password_change(struct req *rq)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    json_t *b = req_json(rq);
    const char *id = req_account(rq), *cur, *pw;
    char username[POLICY_USERNAME_BUF], email[POLICY_EMAIL_BUF], hash[PASSWORD_HASH_MAX];
    size_t curn, pwn;
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = input_string(rq, b, "current_password", 1, &cur, &curn)) || (rc = h_db(rq, &db)))
        return rc;
    if ((rc = h_verify_current(rq, db, id, cur, curn, "current_password")) ||
        (rc = input_string(rq, b, "new_password", 1, &pw, &pwn)))
        return rc;
    /* A change to the same password changes nothing, and revoking the other
     * sessions on it would only look like a change (issue 18). */
    if (pwn == curn && sodium_memcmp(pw, cur, pwn) == 0)
        return input_fail(rq, "new_password",
                          "new_password is the current password; choose a different one");
    if ((rc = h_account_words(db, id, username, email)) ||
        (rc = h_password_field(rq, b, "new_password", username, email, &pw, &pwn)) ||
        (rc = password_hash(pw, pwn, hash)))
        return rc;
    if ((rc = db_begin(db)) || (rc = h_set_password(rq, db, id, hash, req_session(rq))))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    return resp_empty(rq, 204);
}

/* ---- email change ---- */

/* The link to a free new address; it remembers the session that asked. */
static int h_email_change_link(struct req *rq, struct db *db, const char *id, const char *email)
{
    char token[TOKEN_SECRET_LEN + 1], hx[2 * TOKEN_HASH_BYTES + 1], link[LINK_MAX], body[2048];
    uint8_t th[TOKEN_HASH_BYTES], *box = NULL;
    size_t boxn = 0;
    int64_t now = clock_now();
    int rc;

    token_secret(token, th);
    util_hex(th, sizeof th, hx);
    if ((rc = seal_text("tokens.payload", hx, email, &box, &boxn)))
        return rc;
    struct db_param ins[] = {
        DB_BLOB(th, sizeof th),  DB_TEXT(id), DB_TEXT("email"),
        DB_BLOB(box, boxn),      DB_INT(now), DB_INT(now + LIMIT_CONFIRM_TTL_S),
        DB_TEXT(req_session(rq))};
    rc = db_query(db, STMT_TOKEN_INSERT_SESSION, ins, 7, NULL);
    free(box);
    if (rc)
        return rc;
    account_link(req_config(rq), "confirm", token, link, sizeof link);
    snprintf(body, sizeof body,
             "To make this the address of your atelier account, open this link within 24 "
             "hours:\n\n%s\n\nIf you did not ask for this, ignore this mail.\n",
             link);
    sodium_memzero(token, sizeof token);
    return h_enqueue_link(db, id, email, "Confirm your new atelier address", body, sizeof body,
                          link, sizeof link);
}

/* The same mails whatever the new address: one to it (a link when it is
 * free, a notice to its owner when taken) and one to the current address,
 * so the requester's inbox does not tell whether the address is taken. */
static int h_email_change_mail(struct req *rq, struct db *db, const char *id, const char *email,
                               const char *other)
{
    char old[POLICY_EMAIL_BUF];
    int rc = account_email_of(db, id, old);

    if (rc)
        return rc;
    if (other[0])
        rc = mail_enqueue(db, other, email, "Someone tried to use your address",
                          "Someone tried to move another atelier account to this address, "
                          "which already has one. Nothing was changed.\n");
    else
        rc = h_email_change_link(rq, db, id, email);
    if (rc)
        return rc;
    return mail_enqueue(db, id, old, "A change of your atelier address was requested",
                        "Someone logged in to your atelier account asked to change its address. "
                        "The change happens only when the new address is confirmed. If it was "
                        "not you, change your password now.\n");
}

int h_email_change(struct req *rq)
{
    static const char *const keys[] = {"email", "password", "code", NULL};
    json_t *b = req_json(rq);
    const char *id = req_account(rq), *pw, *code;
    char email[POLICY_EMAIL_BUF], other[POLICY_ID_BUF] = "";
    size_t pwn;
    struct db *db;
    int rc, taken;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = h_email_field(rq, b, "email", email)) ||
        (rc = input_string(rq, b, "password", 1, &pw, &pwn)) ||
        (rc = h_mfa_code_field(rq, b, 0, 0, &code)) || (rc = h_db(rq, &db)))
        return rc;
    if ((rc = h_verify_current(rq, db, id, pw, pwn, "password")) ||
        (rc = h_mfa_gate(rq, db, id, code, 0)) || (rc = h_mail_limit(rq, email)))
        return rc;
    rc = h_account_of(db, email, other);
    if (rc && rc != ERR_NOT_FOUND)
        return rc;
    taken = rc == 0;
    if (taken && strcmp(other, id) == 0)
        return input_fail(rq, "email", "email is already the address of this account");
    if (!taken)
        other[0] = '\0';
    if ((rc = db_begin(db)) || (rc = h_email_change_mail(rq, db, id, email, other)))
        return h_fail_db(db, rc);
    if ((rc = h_commit(rq, db)))
        return rc;
    return h_accepted(rq, "check the new address for a confirmation link");
}

/* ---- deletion ---- */

int h_account_delete(struct req *rq)
{
    static const char *const keys[] = {"password", NULL};
    json_t *b = req_json(rq);
    const char *id = req_account(rq), *pw;
    size_t pwn;
    struct db *db;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = h_password_member(rq, b, "to delete the account", &pw, &pwn)) || (rc = h_db(rq, &db)))
        return rc;
    if ((rc = h_verify_current(rq, db, id, pw, pwn, "password")))
        return rc;
    if ((rc = erase_account(db, id)))
        return rc; /* the layer answers with err_text */
    if (req_cookie(rq, WEBSESSION_COOKIE))
        websession_clear(rq);
    return resp_empty(rq, 204);
}

/* ---- shared with other handlers ---- */

int h_password_member(struct req *rq, json_t *b, const char *to, const char **pw, size_t *n)
{
    if (!json_object_get(b, "password")) /* b is NULL when the body is empty */
        return input_fail(rq, "password",
                          "password is required %s: send {\"password\": \"...\"} as the JSON "
                          "body, with Content-Type: application/json",
                          to);
    return input_string(rq, b, "password", 1, pw, n);
}

int h_check_password(struct req *rq, struct db *db, const char *pw, size_t n, const char *field)
{
    return h_verify_current(rq, db, req_account(rq), pw, n, field);
}
