/*
 * account.h - the account service: validation of profile fields, lookups,
 * sessions and the bearer-token check, and the sealed-field helpers shared
 * by the account handlers.
 *
 * Account states:
 *
 *   (pending signup) --confirm--> ACTIVE --DELETE /v1/account--> erased
 *          |                        |
 *          +--7 days--> erased      +--365 days without login--> erased
 *
 * A pending signup is a row of `signups`, not an account: it holds the
 * sealed address, the sealed username and the password hash, and becomes an account
 * only when its link is followed. So an address that was never confirmed
 * never owns an account, and someone who signs up with another person's
 * address cannot take over the account that person later confirms.
 */
#ifndef ATELIER_ACCOUNT_H
#define ATELIER_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/policy.h"
#include "base/seal.h"
#include "base/token.h"
#include "store/db.h"

struct config;
struct db;

/* Normalise (lowercase) and validate an address into out. 0 or ERR_INVALID. */
int account_email_normalise(const char *in, size_t n, char out[POLICY_EMAIL_BUF]);

/* Case-fold and validate a username into out (POLICY_USERNAME_BUF bytes). 0 or ERR_INVALID. */
int account_username_normalise(const char *in, size_t n, char out[POLICY_USERNAME_BUF]);

/* Keyed lookup hash of a normalised address. */
void account_email_lookup(const char *email, uint8_t out[SEAL_LOOKUP_BYTES]);

/* Keyed lookup hash of a normalised username (accounts.username_lookup,
 * UNIQUE: how logins and the uniqueness of usernames find it). */
void account_username_lookup(const char *username, uint8_t out[SEAL_LOOKUP_BYTES]);

/* The stored form of account id's username: its lookup and its value sealed
 * to accounts.username:id (*box malloc'd). 0 or seal_text's error. */
int account_username_seal(const char *id, const char *username, uint8_t lookup[SEAL_LOOKUP_BYTES],
                          uint8_t **box, size_t *boxn);

/* Find an account by username or address (login). On success *id is set
 * (TOKEN_ID_LEN + 1 bytes) and *hash gets the malloc'd password hash.
 * Returns 0, ERR_NOT_FOUND or a storage error. */
int account_find_login(struct db *db, const char *login, char id[POLICY_ID_BUF], char **hash);

/* During a key rotation, whether login (a normalised address or username)
 * already belongs to an account other than self (may be NULL) under either
 * key: ERR_CONFLICT, 0 when free, or a storage error. Outside a rotation it
 * answers 0 at once: the UNIQUE lookup columns refuse duplicates. Call it
 * before writing an address or a username. */
int account_taken_elsewhere(struct db *db, const char *login, const char *self);

/* Create a session for account id, evicting the oldest beyond the limit,
 * and record the login time. Runs in the caller's transaction. */
int account_session_create(struct db *db, const char *account_id, char token[TOKEN_SECRET_LEN + 1],
                           int64_t *expires_at);

/* The session of a bearer token that has not expired: its account and
 * session ids, and (when restricted_since is not NULL) since when its
 * account restricts processing (Unix seconds, 0 when it does not: read in
 * the same statement, account/restrict.h). 0, ERR_UNAUTHENTICATED,
 * ERR_UNAVAILABLE when db is NULL, or a storage error. */
int account_session_find(struct db *db, const char *token, char account_id[POLICY_ID_BUF],
                         char session_id[POLICY_ID_BUF], int64_t *restricted_since);

/* The same check joined to a caller's query, so that both cost one
 * statement: st returns the columns of STMT_SESSION_AUTH first and takes
 * $1 token hash, $2 now, then extra[0..n) as $3... On 0, *rows is on the
 * session's row, for the caller to read its own columns (from 3 on) and
 * free; on an error *rows is NULL. */
int account_session_find_join(struct db *db, const char *token, enum stmt st,
                              const struct db_param *extra, int n, char account_id[POLICY_ID_BUF],
                              char session_id[POLICY_ID_BUF], int64_t *restricted_since,
                              struct db_rows **rows);

/* account_session_find_join in two halves, for a caller that sends the
 * statement itself (db_batch_submit). _params: the statement's parameters
 * into p (room for 2 + n; p[0] points into hash); ERR_UNAUTHENTICATED for a
 * malformed token. _read: the same outcome from the statement's rows, which
 * it takes (kept in *rows on 0, freed otherwise). */
int account_session_join_params(const char *token, uint8_t hash[TOKEN_HASH_BYTES],
                                const struct db_param *extra, int n, struct db_param *p);
int account_session_join_read(struct db_rows *rows, char account_id[POLICY_ID_BUF],
                              char session_id[POLICY_ID_BUF], int64_t *restricted_since,
                              struct db_rows **out);

/* The account as the API shows it (GET /v1/account), with its units, its
 * restriction of processing (restrict_json) and whether two-factor login
 * is on (two_factor), or NULL. */
json_t *account_json(struct db *db, const char *account_id);

/* The units the account's pages show measurements in: "mm", "cm" or "in"
 * (the site, issue 16). 0, ERR_NOT_FOUND or a storage error. */
int account_units(struct db *db, const char *account_id, char out[4]);

/* Read the stored address of an account into out. */
int account_email_of(struct db *db, const char *account_id, char out[POLICY_EMAIL_BUF]);

/* Verify password for account id (ERR_UNAUTHENTICATED when wrong). */
int account_check_password(struct db *db, const char *account_id, const char *pw, size_t n);

/* A link for mails: <public-url>/<path>?token=<token>. */
void account_link(const struct config *cfg, const char *path, const char *token, char *out,
                  size_t n);

#endif
