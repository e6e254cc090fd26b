/*
 * account.c - the account service (see account.h for the states).
 *
 * Invariants:
 *   - Addresses and usernames are stored only sealed (bound to their row)
 *     and found only through account_email_lookup / account_username_lookup,
 *     keyed BLAKE2b hashes of the normalised form. During a key rotation a
 *     lookup tries the hash under each loaded key (seal_lookups), and a
 *     write that must be unique checks the old key's hash first
 *     (account_taken_elsewhere): the UNIQUE index sees one key's hashes only.
 *   - Session tokens leave this module once, to the client; storage holds
 *     their BLAKE2b hash. At most LIMIT_SESSIONS_PER_ACCOUNT live per account.
 *   - account_session_find accepts only unexpired sessions; anything else is
 *     the same 401, whatever was wrong with the token.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account/account.h"
#include "account/mfa.h"
#include "base/clock.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "account/password.h"
#include "account/restrict.h"
#include "base/policy.h"
#include "base/util.h"

/* Characters allowed in the local part: printable ASCII without the ones
 * that change a header's meaning or need quoting. */
static int account_local_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>[]:;@\\,\"", c);
}

static int account_domain_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.';
}

int account_email_normalise(const char *in, size_t n, char out[POLICY_EMAIL_BUF])
{
    const char *at;

    if (n == 0 || n > LIMIT_EMAIL_MAX || memchr(in, 0, n))
        return ERR_INVALID;
    at = memchr(in, '@', n);
    if (!at || at == in || at == in + n - 1 || memchr(at + 1, '@', (size_t)(in + n - at - 1)))
        return ERR_INVALID;
    for (const char *p = in; p < at; p++)
        if (!account_local_char((unsigned char)*p))
            return ERR_INVALID;
    for (const char *p = at + 1; p < in + n; p++)
        if (!account_domain_char((unsigned char)*p))
            return ERR_INVALID;
    if (at[1] == '.' || in[n - 1] == '.' || strstr(at, ".."))
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = 0;
    return 0;
}

int account_username_normalise(const char *in, size_t n, char out[POLICY_USERNAME_BUF])
{
    if (n < LIMIT_USERNAME_MIN || n > LIMIT_USERNAME_MAX)
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)in[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return ERR_INVALID;
        out[i] = c;
    }
    out[n] = 0;
    return 0;
}

void account_email_lookup(const char *email, uint8_t out[SEAL_LOOKUP_BYTES])
{
    seal_lookup("email", email, strlen(email), out); /* base/sealed.h: ACCOUNTS_EMAIL */
}

void account_username_lookup(const char *username, uint8_t out[SEAL_LOOKUP_BYTES])
{
    seal_lookup("username", username, strlen(username), out); /* ACCOUNTS_USERNAME */
}

int account_username_seal(const char *id, const char *username, uint8_t lookup[SEAL_LOOKUP_BYTES],
                          uint8_t **box, size_t *boxn)
{
    account_username_lookup(username, lookup);
    return seal_text("accounts.username", id, username, box, boxn);
}

static int account_find(struct db *db, enum stmt st, struct db_param key, char id[POLICY_ID_BUF],
                        char **hash)
{
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, &key, 1, &rows);

    *hash = NULL;
    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        util_strlcpy(id, db_col_text(rows, 0, NULL), POLICY_ID_BUF);
        *hash = xstrdup(db_col_text(rows, 1, NULL));
        rc = 0;
    } else {
        rc = rc == 0 ? ERR_NOT_FOUND : rc;
    }
    db_rows_free(rows);
    return rc;
}

/* Find by the lookup of value under each loaded key: during a key rotation
 * a row not yet resealed still holds the old key's hash. */
static int account_find_lookup(struct db *db, enum stmt st, const char *domain, const char *value,
                               char id[POLICY_ID_BUF], char **hash)
{
    uint8_t lookup[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES];
    int keys = seal_lookups(domain, value, strlen(value), lookup), rc = ERR_NOT_FOUND;

    for (int k = 0; k < keys && rc == ERR_NOT_FOUND; k++)
        rc = account_find(db, st, DB_BLOB(lookup[k], sizeof lookup[k]), id, hash);
    return rc;
}

int account_find_login(struct db *db, const char *login, char id[POLICY_ID_BUF], char **hash)
{
    size_t n = strlen(login);
    char norm[POLICY_EMAIL_BUF];

    if (strchr(login, '@')) {
        if (account_email_normalise(login, n, norm))
            return ERR_NOT_FOUND;
        return account_find_lookup(db, STMT_ACCOUNT_BY_EMAIL, "email", norm, id, hash);
    }
    if (account_username_normalise(login, n, norm))
        return ERR_NOT_FOUND;
    return account_find_lookup(db, STMT_ACCOUNT_BY_USERNAME, "username", norm, id, hash);
}

int account_taken_elsewhere(struct db *db, const char *login, const char *self)
{
    uint32_t ids[SEAL_MAX_KEYS];
    char id[POLICY_ID_BUF], *hash = NULL;
    int rc;

    if (seal_key_ids(ids) < 2)
        return 0; /* one key: the UNIQUE lookup columns decide alone */
    rc = account_find_login(db, login, id, &hash);
    free(hash);
    if (rc == ERR_NOT_FOUND)
        return 0;
    if (rc)
        return rc;
    return self && strcmp(id, self) == 0 ? 0 : ERR_CONFLICT;
}

int account_session_create(struct db *db, const char *account_id, char token[TOKEN_SECRET_LEN + 1],
                           int64_t *expires_at)
{
    char sid[TOKEN_ID_LEN + 1];
    uint8_t hash[TOKEN_HASH_BYTES];
    int64_t now_ms = clock_now_ms(), now = now_ms / 1000;
    int rc;

    token_id(sid);
    token_secret(token, hash);
    *expires_at = now + LIMIT_SESSION_TTL_S;
    struct db_param ins[] = {DB_TEXT(sid), DB_TEXT(account_id), DB_BLOB(hash, sizeof hash),
                             DB_INT(now_ms), DB_INT(*expires_at)};
    struct db_param evict[] = {DB_TEXT(account_id), DB_INT(LIMIT_SESSIONS_PER_ACCOUNT)};
    struct db_param login[] = {DB_TEXT(account_id), DB_INT(now)};
    if ((rc = db_query(db, STMT_SESSION_INSERT, ins, 5, NULL)) ||
        (rc = db_query(db, STMT_SESSION_EVICT, evict, 2, NULL)) ||
        (rc = db_query(db, STMT_ACCOUNT_LOGIN, login, 2, NULL)))
        return rc;
    return 0;
}

int account_session_find(struct db *db, const char *token, char account_id[POLICY_ID_BUF],
                         char session_id[POLICY_ID_BUF], int64_t *restricted_since)
{
    struct db_rows *rows = NULL;
    int rc = account_session_find_join(db, token, STMT_SESSION_AUTH, NULL, 0, account_id,
                                       session_id, restricted_since, &rows);

    db_rows_free(rows);
    return rc;
}

#define SESSION_JOIN_EXTRA 4 /* parameters a joined query may add */

int account_session_join_params(const char *token, uint8_t hash[TOKEN_HASH_BYTES],
                                const struct db_param *extra, int n, struct db_param *p)
{
    if (n < 0 || n > SESSION_JOIN_EXTRA)
        return ERR_INTERNAL;
    if (token_hash(token, hash))
        return ERR_UNAUTHENTICATED;
    p[0] = DB_BLOB(hash, TOKEN_HASH_BYTES);
    p[1] = DB_INT(clock_now());
    for (int i = 0; i < n; i++)
        p[2 + i] = extra[i];
    return 0;
}

int account_session_join_read(struct db_rows *rows, char account_id[POLICY_ID_BUF],
                              char session_id[POLICY_ID_BUF], int64_t *restricted_since,
                              struct db_rows **out)
{
    int rc = db_next(rows);

    *out = NULL;
    if (restricted_since)
        *restricted_since = 0;
    if (rc == 1 && (util_strlcpy(account_id, db_col_text(rows, 1, NULL), POLICY_ID_BUF) ||
                    util_strlcpy(session_id, db_col_text(rows, 0, NULL), POLICY_ID_BUF)))
        rc = ERR_INTERNAL;
    if (rc == 1 && restricted_since && !db_col_null(rows, 2)) {
        int64_t since = db_col_int(rows, 2);
        *restricted_since = since > 0 ? since : 1; /* set means restricted, whatever its value */
    }
    if (rc == 1) {
        *out = rows;
        return 0;
    }
    db_rows_free(rows);
    return rc < 0 ? rc : ERR_UNAUTHENTICATED;
}

int account_session_find_join(struct db *db, const char *token, enum stmt st,
                              const struct db_param *extra, int n, char account_id[POLICY_ID_BUF],
                              char session_id[POLICY_ID_BUF], int64_t *restricted_since,
                              struct db_rows **out)
{
    uint8_t hash[TOKEN_HASH_BYTES];
    struct db_param p[2 + SESSION_JOIN_EXTRA];
    struct db_rows *rows = NULL;
    int rc;

    *out = NULL;
    if (restricted_since)
        *restricted_since = 0;
    if ((rc = account_session_join_params(token, hash, extra, n, p)))
        return rc;
    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, st, p, 2 + n, &rows)))
        return rc;
    return account_session_join_read(rows, account_id, session_id, restricted_since, out);
}

static json_t *account_time(int64_t s)
{
    char buf[25];

    if (clock_format_rfc3339(s * 1000, buf))
        return json_null();
    return json_string(buf);
}

/* Sealed column col of rows opened as text, or JSON null when NULL. */
static json_t *account_sealed_string(struct db_rows *rows, int col, const char *tc, const char *id)
{
    size_t n = 0;
    const void *box = db_col_null(rows, col) ? NULL : db_col_blob(rows, col, &n);
    char *text = NULL;

    if (!box || seal_open_text(tc, id, box, n, &text))
        return json_null();
    json_t *s = json_string(text);
    free(text);
    return s ? s : json_null();
}

static json_t *account_social(struct db_rows *rows, int col, const char *id)
{
    size_t n = 0;
    const void *box = db_col_null(rows, col) ? NULL : db_col_blob(rows, col, &n);
    char *text = NULL;

    if (!box || seal_open_text("accounts.social", id, box, n, &text))
        return json_object();
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    return json_is_object(o) ? o : (json_decref(o), json_object());
}

json_t *account_json(struct db *db, const char *account_id)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    json_t *o = NULL;
    char units[4];
    int rc;

    if (db_query(db, STMT_ACCOUNT_GET, p, 1, &rows))
        return NULL;
    if (db_next(rows) == 1) {
        o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:b,s:{s:b},s:o,s:o}", "id", account_id, "email",
                      account_sealed_string(rows, 1, "accounts.email", account_id), "username",
                      account_sealed_string(rows, 2, "accounts.username", account_id), "bio",
                      account_sealed_string(rows, 3, "accounts.bio", account_id), "social",
                      account_social(rows, 4, account_id), "has_picture", (int)db_col_int(rows, 8),
                      "consent", "open_data", (int)db_col_int(rows, 5), "created_at",
                      account_time(db_col_int(rows, 6)), "last_login_at",
                      account_time(db_col_int(rows, 7)));
    }
    db_rows_free(rows);
    if (o && (rc = account_units(db, account_id, units)) == 0)
        json_object_set_new(o, "units", json_string(units));
    else if (o) {
        json_decref(o);
        o = NULL;
    }
    if (o) { /* restriction of processing (restrict.h): whether, and since when */
        int64_t since = 0;
        if (restrict_get(db, account_id, &since)) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "restriction", restrict_json(since));
    }
    if (o) { /* two-factor login (mfa.h): whether it is on, codes left */
        struct mfa_state st;
        if (mfa_state(db, account_id, clock_now(), &st)) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "two_factor",
                            json_pack("{s:b,s:I}", "enabled", st.on, "recovery_codes_left",
                                      (json_int_t)(st.on ? st.recovery_left : 0)));
    }
    return o;
}

int account_units(struct db *db, const char *account_id, char out[4])
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_ACCOUNT_UNITS_GET, p, 1, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1)
        rc = util_strlcpy(out, db_col_text(rows, 0, NULL), 4);
    else
        rc = rc == 0 ? ERR_NOT_FOUND : rc;
    db_rows_free(rows);
    return rc;
}

int account_email_of(struct db *db, const char *account_id, char out[POLICY_EMAIL_BUF])
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    char *email = NULL;
    int rc = db_query(db, STMT_ACCOUNT_GET, p, 1, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) { /* open the address only, not every sealed field */
        size_t n = 0;
        const void *box = db_col_blob(rows, 1, &n);
        rc = seal_open_text("accounts.email", account_id, box, n, &email);
    } else {
        rc = rc == 0 ? ERR_NOT_FOUND : rc;
    }
    db_rows_free(rows);
    if (rc == 0)
        rc = util_strlcpy(out, email, POLICY_EMAIL_BUF);
    free(email);
    return rc;
}

int account_check_password(struct db *db, const char *account_id, const char *pw, size_t n)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    char *hash = NULL;
    int rc;

    if ((rc = db_query(db, STMT_ACCOUNT_GET, p, 1, &rows)))
        return rc;
    if (db_next(rows) == 1)
        hash = xstrdup(db_col_text(rows, 9, NULL));
    db_rows_free(rows);
    if (!hash)
        return ERR_NOT_FOUND;
    rc = password_verify(hash, pw, n);
    free(hash);
    return rc;
}

void account_link(const struct config *cfg, const char *path, const char *token, char *out,
                  size_t n)
{
    if (cfg->public_url[0])
        snprintf(out, n, "%s/%s?token=%s", cfg->public_url, path, token);
    else
        snprintf(out, n, "http://%s:%u/%s?token=%s", cfg->listen_host, cfg->port, path, token);
}
