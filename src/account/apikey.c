/*
 * apikey.c - API keys (see apikey.h).
 *
 * Invariants:
 *   - The secret leaves this module once, to the creator; storage holds its
 *     BLAKE2b-256 hash (token_hash, the same as sessions), so a copy of the
 *     database authenticates nothing. The hash is not keyed: the secret has
 *     256 random bits, so it cannot be guessed offline, and an unkeyed hash
 *     survives a rotation of the server key (`atelier rekey`), which could
 *     not recompute it (the secret is not kept).
 *   - apikey_find accepts only an unexpired key (expires_ms > now, to the
 *     millisecond); a malformed, unknown, deleted or expired key is the same
 *     ERR_UNAUTHENTICATED.
 *   - The name is sealed, bound to the key's id.
 *   - At most LIMIT_APIKEYS_PER_ACCOUNT unexpired keys per account, counted
 *     and inserted under the account's row lock.
 *   - The last use is written at most once per LIMIT_APIKEY_TOUCH_S per key
 *     (a conditional UPDATE), so a busy script does not turn every read into
 *     a write.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "account/apikey.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/seal.h"
#include "base/util.h"
#include "store/db.h"

int apikey_is_key(const char *bearer)
{
    return strncmp(bearer, APIKEY_PREFIX, APIKEY_PREFIX_LEN) == 0;
}

const char *apikey_scope_name(enum apikey_scope scope)
{
    return scope == APIKEY_WRITE ? "write" : "read";
}

enum apikey_scope apikey_scope_parse(const char *name)
{
    if (strcmp(name, "read") == 0)
        return APIKEY_READ;
    if (strcmp(name, "write") == 0)
        return APIKEY_WRITE;
    return 0;
}

int apikey_find(struct db *db, const char *key, int64_t now_ms, struct apikey_auth *out)
{
    uint8_t hash[TOKEN_HASH_BYTES];
    struct db_rows *rows = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (!apikey_is_key(key) || token_hash(key + APIKEY_PREFIX_LEN, hash))
        return ERR_UNAUTHENTICATED;
    if (!db)
        return ERR_UNAVAILABLE;
    struct db_param p[] = {DB_BLOB(hash, sizeof hash), DB_INT(now_ms)};
    if ((rc = db_query(db, STMT_APIKEY_AUTH, p, 2, &rows)))
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        if (util_strlcpy(out->id, db_col_text(rows, 0, NULL), sizeof out->id) ||
            util_strlcpy(out->account, db_col_text(rows, 1, NULL), sizeof out->account))
            rc = ERR_INTERNAL;
        out->scope = apikey_scope_parse(db_col_text(rows, 2, NULL));
        if (!out->scope) /* the schema's CHECK makes this impossible; refuse anyway */
            rc = ERR_INTERNAL;
        out->touch_due = db_col_null(rows, 3) ||
                         db_col_int(rows, 3) <= now_ms - (int64_t)LIMIT_APIKEY_TOUCH_S * 1000;
        out->restricted = !db_col_null(rows, 4);
    }
    db_rows_free(rows);
    if (rc < 0)
        return rc;
    return rc == 1 ? 0 : ERR_UNAUTHENTICATED;
}

int apikey_touch(struct db *db, const char *id, int64_t now_ms)
{
    struct db_param p[] = {DB_TEXT(id), DB_INT(now_ms),
                           DB_INT(now_ms - (int64_t)LIMIT_APIKEY_TOUCH_S * 1000)};
    int64_t n;

    if (!db)
        return ERR_UNAVAILABLE;
    n = db_exec(db, STMT_APIKEY_TOUCH, p, 3);
    return n < 0 ? (int)n : 0;
}

/* 0 when account_id may hold one more key as of now_ms, else ERR_CONFLICT. */
static int apikey_count_ok(struct db *db, const char *account_id, int64_t now_ms)
{
    struct db_param p[] = {DB_TEXT(account_id), DB_INT(now_ms)};
    struct db_rows *rows = NULL;
    int64_t n = 0;
    int rc = db_query(db, STMT_APIKEY_COUNT, p, 2, &rows);

    if (rc)
        return rc;
    if ((rc = db_next(rows)) == 1)
        n = db_col_int(rows, 0);
    db_rows_free(rows);
    if (rc < 0)
        return rc;
    return n >= LIMIT_APIKEYS_PER_ACCOUNT ? ERR_CONFLICT : 0;
}

static int apikey_store(struct db *db, const char *account_id, const char *name,
                        enum apikey_scope scope, int64_t now_ms, int64_t expires_ms, const char *id,
                        const uint8_t hash[TOKEN_HASH_BYTES])
{
    uint8_t *box = NULL;
    size_t boxn = 0;
    int rc = seal_text("api_keys.name", id, name, &box, &boxn);

    if (rc)
        return rc;
    struct db_param p[] = {DB_TEXT(id),
                           DB_TEXT(account_id),
                           DB_BLOB(hash, TOKEN_HASH_BYTES),
                           DB_BLOB(box, boxn),
                           DB_TEXT(apikey_scope_name(scope)),
                           DB_INT(now_ms),
                           DB_INT(expires_ms)};
    rc = db_query(db, STMT_APIKEY_INSERT, p, 7, NULL);
    free(box);
    return rc;
}

int apikey_create(struct db *db, const char *account_id, const char *name, enum apikey_scope scope,
                  int64_t expires_ms, char id[POLICY_ID_BUF], char key[APIKEY_LEN + 1],
                  int64_t *created_ms)
{
    char secret[TOKEN_SECRET_LEN + 1];
    uint8_t hash[TOKEN_HASH_BYTES];
    struct db_param lock[] = {DB_TEXT(account_id)};
    int64_t now_ms = clock_now_ms();
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    token_id(id);
    token_secret(secret, hash);
    memcpy(key, APIKEY_PREFIX, APIKEY_PREFIX_LEN);
    memcpy(key + APIKEY_PREFIX_LEN, secret, TOKEN_SECRET_LEN + 1);
    sodium_memzero(secret, sizeof secret);
    *created_ms = now_ms;
    if ((rc = db_begin(db)))
        goto out;
    if ((rc = db_query(db, STMT_ACCOUNT_LOCK, lock, 1, NULL)) ||
        (rc = apikey_count_ok(db, account_id, now_ms)) ||
        (rc = apikey_store(db, account_id, name, scope, now_ms, expires_ms, id, hash))) {
        db_rollback(db);
        goto out;
    }
    rc = db_commit(db);
out:
    if (rc)
        sodium_memzero(key, APIKEY_LEN + 1);
    return rc;
}

static json_t *apikey_time(struct db_rows *rows, int col)
{
    char buf[25];

    if (db_col_null(rows, col) || clock_format_rfc3339(db_col_int(rows, col), buf))
        return json_null();
    return json_string(buf);
}

/* One row of STMT_APIKEY_LIST as JSON; a name that does not open shows as
 * null rather than hiding the key. */
static json_t *apikey_row_json(struct db_rows *rows)
{
    const char *id = db_col_text(rows, 0, NULL);
    size_t n = 0;
    const void *box = db_col_blob(rows, 1, &n);
    char *name = NULL;
    json_t *jname = box && seal_open_text("api_keys.name", id, box, n, &name) == 0
                        ? json_string(name)
                        : json_null();

    free(name);
    return json_pack("{s:s,s:o,s:s,s:o,s:o,s:o}", "id", id, "name", jname ? jname : json_null(),
                     "scope", db_col_text(rows, 2, NULL), "created_at", apikey_time(rows, 3),
                     "expires_at", apikey_time(rows, 4), "last_used_at", apikey_time(rows, 5));
}

int apikey_list(struct db *db, const char *account_id, json_t *out)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, STMT_APIKEY_LIST, p, 1, &rows)))
        return rc;
    while ((rc = db_next(rows)) == 1) {
        json_t *k = apikey_row_json(rows);
        if (!k || json_array_append_new(out, k)) {
            rc = ERR_NOMEM;
            break;
        }
    }
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int apikey_delete(struct db *db, const char *account_id, const char *id)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(account_id)};
    int64_t n;

    if (!db)
        return ERR_UNAVAILABLE;
    n = db_exec(db, STMT_APIKEY_DELETE, p, 2);
    if (n < 0)
        return (int)n;
    return n > 0 ? 0 : ERR_NOT_FOUND;
}
