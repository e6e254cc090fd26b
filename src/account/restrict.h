/*
 * restrict.h - restriction of processing (GDPR article 18): an account's
 * owner can ask that their data be kept but not processed, and lift it.
 *
 * While an account is restricted (accounts.restricted_at set):
 *   - the auth hook (api/auth.c) lets its sessions call only the routes
 *     flagged ROUTE_RESTRICTED_OK (read, export, erase, log out, lift), and
 *     refuses its API keys on every route (403 restricted);
 *   - mail_enqueue drops every mail of the account (mail.c), but for the
 *     confirmation of the restriction (mail_enqueue_exempt); the sweeper
 *     sends it no inactivity notice (STMT_SWEEP_NOTICE_DUE);
 *   - open data builds leave it out (STMT_DP_CHARGE, STMT_DP_MEMBERS);
 *   - retention still applies: it is erased 365 days after its last login.
 */
#ifndef ATELIER_RESTRICT_H
#define ATELIER_RESTRICT_H

#include <stdint.h>

#include <jansson.h>

struct db;

/* Since when account id is restricted: *since in Unix seconds, 0 when it
 * is not. Returns 0, ERR_NOT_FOUND (no such account) or a storage error. */
int restrict_get(struct db *db, const char *account_id, int64_t *since);

/* Restrict account id as of now (Unix seconds), in the caller's
 * transaction. Returns 1 when it was not restricted before, 0 when it
 * already was (nothing changes), or a negative err. */
int restrict_set(struct db *db, const char *account_id, int64_t now);

/* Lift the restriction of account id, in the caller's transaction. Returns
 * 1 when it was restricted, 0 when it was not, or a negative err. */
int restrict_lift(struct db *db, const char *account_id, int64_t now);

/* The restriction as the API and the export show it:
 * {"restricted": bool, "since": RFC 3339 time or null}. */
json_t *restrict_json(int64_t since);

#endif
