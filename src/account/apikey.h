/*
 * apikey.h - API keys for scripts: scoped, expiring bearer credentials of
 * an account, shown once and stored as hashes.
 *
 * A key is "atk_" followed by a token secret (token.h: 43 characters of
 * base64url, 256 random bits), sent as "Authorization: Bearer <key>" like a
 * session token; the prefix tells the two apart. Storage holds the id, the
 * BLAKE2b-256 hash of the secret (the lookup), the name sealed to
 * api_keys.name:<id>, the scope ("read" or "write"), and the creation,
 * expiry and last-use times in ms. What a key may call is decided by the
 * auth hook (api/auth.c) from the route's flags, not here.
 */
#ifndef ATELIER_APIKEY_H
#define ATELIER_APIKEY_H

#include <stdint.h>

#include <jansson.h>

#include "base/policy.h"
#include "base/token.h"

#define APIKEY_PREFIX     "atk_"
#define APIKEY_PREFIX_LEN 4
#define APIKEY_LEN        (APIKEY_PREFIX_LEN + TOKEN_SECRET_LEN)

struct db;

enum apikey_scope { APIKEY_READ = 1, APIKEY_WRITE = 2 };

/* What the auth hook learns of a presented key. */
struct apikey_auth {
    char id[POLICY_ID_BUF];
    char account[POLICY_ID_BUF];
    enum apikey_scope scope;
    int restricted; /* the account restricts processing */
    int touch_due;  /* last use older than LIMIT_APIKEY_TOUCH_S (or never) */
};

/* Whether a bearer credential is meant as an API key (has the prefix). */
int apikey_is_key(const char *bearer);

/* The unexpired key of a presented secret as of now_ms. Returns 0,
 * ERR_UNAUTHENTICATED (malformed, unknown, deleted or expired: one answer
 * for all), ERR_UNAVAILABLE when db is NULL, or a storage error. */
int apikey_find(struct db *db, const char *key, int64_t now_ms, struct apikey_auth *out);

/* Record the last use of key id at now_ms, unless it was recorded less than
 * LIMIT_APIKEY_TOUCH_S ago. Runs outside any read scope (http_set_done). */
int apikey_touch(struct db *db, const char *id, int64_t now_ms);

/* Create a key of account_id in its own transaction: at most
 * LIMIT_APIKEYS_PER_ACCOUNT unexpired keys (ERR_CONFLICT beyond), counted
 * under the account's row lock. id, key (the secret, shown once: the
 * caller wipes it) and *created_ms are set on success. */
int apikey_create(struct db *db, const char *account_id, const char *name, enum apikey_scope scope,
                  int64_t expires_ms, char id[POLICY_ID_BUF], char key[APIKEY_LEN + 1],
                  int64_t *created_ms);

/* Append the keys of account_id, oldest first, to the array out:
 * {id, name, scope, created_at, expires_at, last_used_at}; never the key
 * or its hash. Returns 0 or a negative err. */
int apikey_list(struct db *db, const char *account_id, json_t *out);

/* Delete key id of account_id: 0, or ERR_NOT_FOUND (no such key of this
 * account: another account's key is not told apart). */
int apikey_delete(struct db *db, const char *account_id, const char *id);

/* The scope's name, and back (0 for an unknown name). */
const char *apikey_scope_name(enum apikey_scope scope);
enum apikey_scope apikey_scope_parse(const char *name);

#endif
