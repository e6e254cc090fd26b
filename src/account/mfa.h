/*
 * mfa.h - two-factor login: an account's TOTP secret and recovery codes.
 *
 * States of an account's 2FA (table account_mfa, one row at most):
 *
 *   off --setup--> PENDING --enable (a valid code)--> ON --disable--> off
 *                    |  ^ setup again replaces the secret
 *                    +--LIMIT_MFA_SETUP_TTL_S--> off (enable refused; the sweeper deletes it)
 *
 * While ON, every login, password reset and email change needs a code: a
 * TOTP code (LIMIT_MFA_DIGITS digits, a later time step than the last one
 * accepted) or an unused recovery code. The secret is sealed at rest
 * (account_mfa.secret:<account id>) and leaves the server only once, in the
 * setup answer; recovery codes leave it only once, when made, and are
 * stored as BLAKE2b hashes keyed by the account's secret (mfa_recovery_hash),
 * not by the server key: a key rotation reseals the secret without changing
 * it, so the codes outlive it, and the database alone (without the server
 * key that opens the secret) does not let anyone test a code offline.
 */
#ifndef ATELIER_MFA_H
#define ATELIER_MFA_H

#include <stddef.h>
#include <stdint.h>

#include "account/totp.h"
#include "base/policy.h"

struct db;

/* A recovery code: two groups of 5 characters of a-z and 2-7 (base32, 50
 * random bits) joined by '-', e.g. "k3vqa-7mxtd"; read case-insensitively. */
#define MFA_RECOVERY_LEN 11
#define MFA_RECOVERY_BUF (MFA_RECOVERY_LEN + 1)
#define MFA_URI_BUF      512 /* the otpauth:// URI (issuer, username, secret) */

enum mfa_code_kind { MFA_CODE_BAD = 0, MFA_CODE_TOTP, MFA_CODE_RECOVERY };

struct mfa_state {
    int on;                /* enabled */
    int pending;           /* a setup waits for its first code and has not expired */
    int64_t created_at;    /* when the current secret was made */
    int64_t enabled_at;    /* when it was enabled (on only) */
    int64_t last_step;     /* the last time step whose code was accepted, -1 none */
    int64_t recovery_left; /* unused recovery codes */
};

/* What a client sent as a code: LIMIT_MFA_DIGITS ASCII digits, a recovery
 * code, or neither (MFA_CODE_BAD). */
enum mfa_code_kind mfa_code_kind(const char *s, size_t n);

#define MFA_CODE_HASH_BYTES 32

/* The stored hash of a recovery code (read case-insensitively) of an
 * account whose TOTP secret is secret[0..n): BLAKE2b-256 of "<account
 * id>:<code in lowercase>" keyed with BLAKE2b-256("atelier recovery" ||
 * secret). The key is wiped before returning. */
void mfa_recovery_hash(const char *account_id, const uint8_t *secret, size_t n, const char *code,
                       uint8_t h[MFA_CODE_HASH_BYTES]);

/* The 2FA state of an account as of now (all zero, last_step -1, when it
 * has none). 0 or a storage error. */
int mfa_state(struct db *db, const char *account_id, int64_t now, struct mfa_state *st);

/* Start (or restart) a setup: a new random secret, stored sealed and pending.
 * b32 gets the secret in base32, uri its otpauth:// URI (issuer "atelier",
 * label the username), *expires_at the end of the setup. The caller wipes
 * b32 and uri. 0, ERR_CONFLICT when 2FA is on, or an error. */
int mfa_setup(struct db *db, const char *account_id, const char *label,
              char b32[TOTP_BASE32_LEN + 1], char uri[MFA_URI_BUF], int64_t *expires_at);

/* Enable a pending setup with a TOTP code of its secret, in the caller's
 * transaction; on success the account gets LIMIT_MFA_RECOVERY_CODES new
 * recovery codes, written to codes (wipe them once sent). 0; ERR_CONFLICT when 2FA is already on;
 * ERR_NOT_FOUND when no setup is pending (none, or expired);
 * ERR_UNAUTHENTICATED when the code is wrong; or a storage error. */
int mfa_enable(struct db *db, const char *account_id, const char *code,
               char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF]);

/* Check a code of an account whose 2FA is on, and use it up: a TOTP code
 * moves the last step used to its step, a recovery code is deleted. The
 * use is one conditional statement, so of two concurrent requests with the
 * same code one at most succeeds. 0; ERR_UNAUTHENTICATED when the code is
 * wrong, replayed or used; ERR_NOT_FOUND when 2FA is off; or an error. */
int mfa_verify(struct db *db, const char *account_id, const char *code);

/* Turn 2FA off (one statement; may run in the caller's transaction): the
 * secret and every recovery code are deleted. 0,
 * ERR_NOT_FOUND when it was not on, or an error. */
int mfa_disable(struct db *db, const char *account_id);

/* Replace every recovery code of an account whose 2FA is on with
 * LIMIT_MFA_RECOVERY_CODES new ones, written to codes, in the caller's
 * transaction (the account's row locked first). 0, ERR_NOT_FOUND when 2FA
 * is off, or an error. */
int mfa_recovery_replace(struct db *db, const char *account_id,
                         char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF]);

#endif
