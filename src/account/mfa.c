/*
 * mfa.c - two-factor login: setup, enabling, code checks, recovery codes
 * (see mfa.h for the states).
 *
 * Invariants:
 *   - The secret is stored only sealed, bound to account_mfa.secret and the
 *     account id; every plaintext copy here is wiped (sodium_memzero,
 *     seal_free) before returning.
 *   - Recovery codes are stored only as keyed BLAKE2b hashes of the account
 *     id and the normalised code, keyed by a key derived from the account's
 *     TOTP secret (mfa_recovery_hash), never by the server key: `atelier
 *     rekey` reseals the secret but cannot recompute hashes of codes it does
 *     not have, so a hash keyed by the server key would stop every code at
 *     the first rotation. The secret is sealed, so the database alone still
 *     does not let anyone test a code offline.
 *   - A code is used up by a single conditional statement (a later step
 *     than last_step, or the deletion of the recovery code's row), so a
 *     code is accepted at most once even under concurrent requests.
 *   - Enabling writes the secret's first step, the recovery codes and the
 *     enabled time in the caller's transaction, and only for the very
 *     secret whose code was checked (a setup made meanwhile makes it fail).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "account/mfa.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/seal.h"
#include "store/db.h"

#define MFA_SEAL_FIELD "account_mfa.secret"
#define MFA_ISSUER     "atelier"

static const char mfa_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static int mfa_recovery_char(unsigned char c)
{
    c = (unsigned char)tolower(c);
    return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

enum mfa_code_kind mfa_code_kind(const char *s, size_t n)
{
    size_t i;

    if (!s)
        return MFA_CODE_BAD;
    if (n == LIMIT_MFA_DIGITS) {
        for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        return i == n ? MFA_CODE_TOTP : MFA_CODE_BAD;
    }
    if (n != MFA_RECOVERY_LEN)
        return MFA_CODE_BAD;
    for (i = 0; i < n; i++) {
        if (i == 5 ? s[i] != '-' : !mfa_recovery_char((unsigned char)s[i]))
            return MFA_CODE_BAD;
    }
    return MFA_CODE_RECOVERY;
}

void mfa_recovery_hash(const char *account_id, const uint8_t *secret, size_t n, const char *code,
                       uint8_t h[MFA_CODE_HASH_BYTES])
{
    static const char domain[] = "atelier recovery";
    char buf[POLICY_ID_BUF + 1 + MFA_RECOVERY_BUF];
    uint8_t key[crypto_generichash_KEYBYTES];
    crypto_generichash_state st;
    size_t k = (size_t)snprintf(buf, sizeof buf, "%s:", account_id);

    if (k >= sizeof buf)
        k = sizeof buf - 1;
    for (size_t i = 0; code[i] && i < MFA_RECOVERY_LEN && k + 1 < sizeof buf; i++)
        buf[k++] = (char)tolower((unsigned char)code[i]);
    buf[k] = '\0';
    crypto_generichash_init(&st, NULL, 0, sizeof key);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof domain - 1);
    crypto_generichash_update(&st, secret, n);
    crypto_generichash_final(&st, key, sizeof key);
    crypto_generichash(h, MFA_CODE_HASH_BYTES, (const uint8_t *)buf, k, key, sizeof key);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(key, sizeof key);
    sodium_memzero(buf, sizeof buf);
}

/* A new random recovery code. */
static void mfa_code_new(char out[MFA_RECOVERY_BUF])
{
    for (size_t i = 0; i < MFA_RECOVERY_LEN; i++)
        out[i] = i == 5 ? '-' : mfa_alphabet[randombytes_uniform(32)];
    out[MFA_RECOVERY_LEN] = '\0';
}

/* Replace the account's recovery codes with new ones, hashed under its
 * secret (caller's transaction). */
static int mfa_codes_store(struct db *db, const char *account_id, const uint8_t *secret, size_t n,
                           int64_t now, char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF])
{
    struct db_param del[] = {DB_TEXT(account_id)};
    uint8_t h[MFA_CODE_HASH_BYTES];
    int rc = db_query(db, STMT_MFA_CODES_DELETE, del, 1, NULL);

    for (int i = 0; rc == 0 && i < LIMIT_MFA_RECOVERY_CODES; i++) {
        mfa_code_new(codes[i]);
        mfa_recovery_hash(account_id, secret, n, codes[i], h);
        struct db_param p[] = {DB_TEXT(account_id), DB_BLOB(h, sizeof h), DB_INT(now)};
        rc = db_query(db, STMT_MFA_CODE_INSERT, p, 3, NULL);
        /* two equal codes of 50 random bits: ERR_CONFLICT, never in practice */
    }
    return rc;
}

/* The account's row: the sealed secret (malloc'd copy, may be NULL) and
 * the state. 0 (st->created_at == 0 when there is no row) or an error. */
static int mfa_load(struct db *db, const char *account_id, int64_t now, struct mfa_state *st,
                    uint8_t **box, size_t *boxn)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    struct db_rows *rows = NULL;
    int rc;

    memset(st, 0, sizeof *st);
    st->last_step = -1;
    if (box)
        *box = NULL;
    if ((rc = db_query(db, STMT_MFA_GET, p, 1, &rows)))
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        size_t n = 0;
        const void *b = db_col_blob(rows, 0, &n);
        st->created_at = db_col_int(rows, 1);
        st->on = !db_col_null(rows, 2);
        st->enabled_at = st->on ? db_col_int(rows, 2) : 0;
        st->pending = !st->on && now < st->created_at + LIMIT_MFA_SETUP_TTL_S;
        st->last_step = db_col_int(rows, 3);
        st->recovery_left = db_col_int(rows, 4);
        if (box && b && n > 0) {
            *box = malloc(n);
            if (!*box)
                rc = ERR_NOMEM;
            else
                memcpy(*box, b, n);
            *boxn = n;
        }
    }
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int mfa_state(struct db *db, const char *account_id, int64_t now, struct mfa_state *st)
{
    return mfa_load(db, account_id, now, st, NULL, NULL);
}

int mfa_setup(struct db *db, const char *account_id, const char *label,
              char b32[TOTP_BASE32_LEN + 1], char uri[MFA_URI_BUF], int64_t *expires_at)
{
    uint8_t secret[LIMIT_MFA_SECRET_BYTES], *box = NULL;
    size_t boxn = 0;
    int64_t now = clock_now(), n;
    int rc;

    b32[0] = uri[0] = '\0';
    randombytes_buf(secret, sizeof secret);
    if (totp_base32(secret, sizeof secret, b32, TOTP_BASE32_LEN + 1) != TOTP_BASE32_LEN ||
        (rc = totp_uri(MFA_ISSUER, label, b32, uri, MFA_URI_BUF)) != 0) {
        rc = ERR_INTERNAL;
        goto out;
    }
    if ((rc = seal_field(MFA_SEAL_FIELD, account_id, secret, sizeof secret, &box, &boxn)))
        goto out;
    struct db_param p[] = {DB_TEXT(account_id), DB_BLOB(box, boxn), DB_INT(now)};
    n = db_exec(db, STMT_MFA_SETUP, p, 3);
    if (n < 0)
        rc = (int)n;
    else if (n == 0)
        rc = ERR_CONFLICT; /* 2FA is on: a setup does not replace it */
    *expires_at = now + LIMIT_MFA_SETUP_TTL_S;
out:
    sodium_memzero(secret, sizeof secret);
    free(box);
    if (rc) {
        sodium_memzero(b32, TOTP_BASE32_LEN + 1);
        sodium_memzero(uri, MFA_URI_BUF);
    }
    return rc;
}

/* The secret of the sealed box of an account (free it with seal_free). */
static int mfa_open(const char *account_id, const uint8_t *box, size_t boxn, uint8_t **secret,
                    size_t *n)
{
    *secret = NULL;
    *n = 0;
    return seal_open_field(MFA_SEAL_FIELD, account_id, box, boxn, secret, n);
}

int mfa_enable(struct db *db, const char *account_id, const char *code,
               char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF])
{
    struct mfa_state st;
    uint8_t *box = NULL, *secret = NULL;
    size_t boxn = 0, sn = 0;
    int64_t now = clock_now(), step = -1, n;
    int rc = mfa_load(db, account_id, now, &st, &box, &boxn);

    if (rc)
        goto out;
    if (st.on || !st.pending || !box) {
        rc = st.on ? ERR_CONFLICT : ERR_NOT_FOUND;
        goto out;
    }
    if (mfa_code_kind(code, strlen(code)) != MFA_CODE_TOTP) {
        rc = ERR_UNAUTHENTICATED;
        goto out;
    }
    if ((rc = mfa_open(account_id, box, boxn, &secret, &sn)) ||
        (rc = totp_check(secret, sn, code, now, st.last_step, &step)))
        goto out;
    struct db_param p[] = {DB_TEXT(account_id), DB_INT(now), DB_INT(step), DB_BLOB(box, boxn)};
    n = db_exec(db, STMT_MFA_ENABLE, p, 4);
    if (n < 0)
        rc = (int)n;
    else if (n == 0)
        rc = ERR_NOT_FOUND; /* enabled or set up again meanwhile */
    else                    /* the codes are keyed by the very secret that was enabled */
        rc = mfa_codes_store(db, account_id, secret, sn, now, codes);
    if (rc)
        sodium_memzero(codes, sizeof(char[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF]));
out:
    seal_free(secret, sn);
    free(box);
    return rc;
}

int mfa_verify(struct db *db, const char *account_id, const char *code)
{
    struct mfa_state st;
    uint8_t *box = NULL, *secret = NULL, h[MFA_CODE_HASH_BYTES];
    size_t boxn = 0, sn = 0;
    int64_t step = -1, n;
    enum mfa_code_kind kind = code ? mfa_code_kind(code, strlen(code)) : MFA_CODE_BAD;
    int rc = mfa_load(db, account_id, clock_now(), &st, &box, &boxn);

    if (rc)
        goto out;
    if (!st.on || !box) {
        rc = ERR_NOT_FOUND;
        goto out;
    }
    if (kind != MFA_CODE_BAD && (rc = mfa_open(account_id, box, boxn, &secret, &sn)))
        goto out;
    if (kind == MFA_CODE_RECOVERY) {
        mfa_recovery_hash(account_id, secret, sn, code, h);
        struct db_param p[] = {DB_TEXT(account_id), DB_BLOB(h, sizeof h)};
        n = db_exec(db, STMT_MFA_CODE_USE, p, 2);
    } else if (kind == MFA_CODE_TOTP) {
        rc = totp_check(secret, sn, code, clock_now(), st.last_step, &step);
        if (rc)
            goto out;
        struct db_param p[] = {DB_TEXT(account_id), DB_INT(step)};
        n = db_exec(db, STMT_MFA_USE_STEP, p, 2);
    } else {
        n = 0;
    }
    rc = n < 0 ? (int)n : n == 1 ? 0 : ERR_UNAUTHENTICATED;
out:
    seal_free(secret, sn);
    free(box);
    return rc;
}

int mfa_disable(struct db *db, const char *account_id)
{
    struct db_param p[] = {DB_TEXT(account_id)};
    int64_t n = db_exec(db, STMT_MFA_DISABLE, p, 1);

    return n < 0 ? (int)n : n == 1 ? 0 : ERR_NOT_FOUND;
}

int mfa_recovery_replace(struct db *db, const char *account_id,
                         char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF])
{
    struct db_param lock[] = {DB_TEXT(account_id)};
    struct mfa_state st;
    uint8_t *box = NULL, *secret = NULL;
    size_t boxn = 0, sn = 0;
    int rc;

    if ((rc = db_query(db, STMT_ACCOUNT_LOCK, lock, 1, NULL)) ||
        (rc = mfa_load(db, account_id, clock_now(), &st, &box, &boxn)))
        goto out;
    if (!st.on || !box) {
        rc = ERR_NOT_FOUND;
        goto out;
    }
    if (!(rc = mfa_open(account_id, box, boxn, &secret, &sn)))
        rc = mfa_codes_store(db, account_id, secret, sn, clock_now(), codes);
out:
    if (rc)
        sodium_memzero(codes, sizeof(char[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF]));
    seal_free(secret, sn);
    free(box);
    return rc;
}
