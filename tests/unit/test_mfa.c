/*
 * test_mfa.c - the two-factor service (account/mfa.c) on a fresh SQLite
 * database, with the clock set (clock_set_ms) so that steps are exact:
 * setup, enabling, one step of drift either way, a code used once, the
 * conditional statements that keep two concurrent uses of one code (or of
 * one recovery code) from both succeeding, recovery codes (hashed under the
 * account's secret, not the server key), disabling, and the secret sealed
 * to its account. The API tests (tests/api/test_180_mfa.py)
 * cover the same on both databases through HTTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account/mfa.h"
#include "account/totp.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/seal.h"
#include "store/db.h"
#include "support/test_store.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define T0      INT64_C(1900000020) /* a step boundary + 0 s: 63333334 * 30 */

static char dir[PATH_MAX];
static struct db *db;

static int setup(void **state)
{
    (void)state;
    return test_store_open("mfa", KEY_HEX, dir, &db);
}

static int teardown(void **state)
{
    (void)state;
    clock_reset();
    return test_store_close(db, dir);
}

/* A bare account row (the sealed fields are random bytes: never opened). */
static void add_account(const char *id)
{
    uint8_t a[32], b[60], c[32], d[60];
    seal_lookup("test-email", id, strlen(id), a);
    seal_lookup("test-username", id, strlen(id), c);
    memset(b, 1, sizeof b);
    memset(d, 2, sizeof d);
    struct db_param p[] = {DB_TEXT(id),
                           DB_BLOB(a, sizeof a),
                           DB_BLOB(b, sizeof b),
                           DB_BLOB(c, sizeof c),
                           DB_BLOB(d, sizeof d),
                           DB_TEXT("$argon2id$x"),
                           DB_INT(T0)};
    assert_int_equal(db_query(db, STMT_ACCOUNT_INSERT, p, 7, NULL), 0);
}

static void at(int64_t t)
{
    clock_set_ms(t * 1000);
}

/* The secret (base32) the setup answered, in bytes. */
static void secret_of(const char *b32, uint8_t key[LIMIT_MFA_SECRET_BYTES])
{
    size_t k = 0;
    unsigned buf = 0, bits = 0;
    for (const char *p = b32; *p; p++) {
        const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        buf = (buf << 5) | (unsigned)(strchr(abc, *p) - abc);
        bits += 5;
        if (bits >= 8) {
            assert_true(k < LIMIT_MFA_SECRET_BYTES);
            key[k++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    assert_int_equal(k, LIMIT_MFA_SECRET_BYTES);
}

/* The code of step s of the secret (base32) the setup answered. */
static void code_of(const char *b32, int64_t s, char out[TOTP_CODE_MAX + 1])
{
    uint8_t key[LIMIT_MFA_SECRET_BYTES];
    secret_of(b32, key);
    assert_int_equal(totp_code(key, sizeof key, s, LIMIT_MFA_DIGITS, TOTP_SHA1, out), 0);
}

static int64_t use_step(const char *id, int64_t s)
{
    struct db_param p[] = {DB_TEXT(id), DB_INT(s)};
    return db_exec(db, STMT_MFA_USE_STEP, p, 2);
}

static void test_lifecycle(void **state)
{
    (void)state;
    const char *id = "acct-lifecycle-0000001";
    char b32[TOTP_BASE32_LEN + 1], uri[MFA_URI_BUF], c[TOTP_CODE_MAX + 1];
    char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    struct mfa_state st;
    int64_t exp, s0 = T0 / LIMIT_MFA_STEP_S;

    add_account(id);
    at(T0);
    assert_int_equal(mfa_state(db, id, T0, &st), 0);
    assert_false(st.on || st.pending);
    assert_int_equal(mfa_verify(db, id, "123456"), ERR_NOT_FOUND);
    assert_int_equal(mfa_setup(db, id, "ann", b32, uri, &exp), 0);
    assert_int_equal(exp, T0 + LIMIT_MFA_SETUP_TTL_S);
    assert_non_null(strstr(uri, b32));
    assert_int_equal(mfa_state(db, id, T0, &st), 0);
    assert_true(st.pending && !st.on);
    /* pending: no code is checked for it yet */
    code_of(b32, s0, c);
    assert_int_equal(mfa_verify(db, id, c), ERR_NOT_FOUND);

    /* enable with the code of the step before (drift -1) */
    code_of(b32, s0 - 2, c);
    assert_int_equal(mfa_enable(db, id, c, codes), ERR_UNAUTHENTICATED);
    code_of(b32, s0 - 1, c);
    assert_int_equal(mfa_enable(db, id, c, codes), 0);
    assert_int_equal(mfa_state(db, id, T0, &st), 0);
    assert_true(st.on && !st.pending);
    assert_int_equal(st.last_step, s0 - 1);
    assert_int_equal(st.recovery_left, LIMIT_MFA_RECOVERY_CODES);
    for (int i = 0; i < LIMIT_MFA_RECOVERY_CODES; i++)
        assert_int_equal(mfa_code_kind(codes[i], strlen(codes[i])), MFA_CODE_RECOVERY);
    assert_int_equal(mfa_enable(db, id, c, codes), ERR_CONFLICT);
    char scratch[TOTP_BASE32_LEN + 1];
    assert_int_equal(mfa_setup(db, id, "ann", scratch, uri, &exp), ERR_CONFLICT);
    assert_string_equal(scratch, ""); /* nothing answered, nothing replaced */

    /* the enabling code is used; -1 again, +2 refused; 0 and +1 once each */
    assert_int_equal(mfa_verify(db, id, c), ERR_UNAUTHENTICATED);
    code_of(b32, s0 + 2, c);
    assert_int_equal(mfa_verify(db, id, c), ERR_UNAUTHENTICATED);
    code_of(b32, s0 + 1, c);
    assert_int_equal(mfa_verify(db, id, c), 0);
    assert_int_equal(mfa_verify(db, id, c), ERR_UNAUTHENTICATED);
    code_of(b32, s0, c);
    assert_int_equal(mfa_verify(db, id, c), ERR_UNAUTHENTICATED); /* earlier than +1 */

    /* 29 s later the same step: still nothing new; 31 s later: a new code */
    at(T0 + 29);
    code_of(b32, s0 + 1, c);
    assert_int_equal(mfa_verify(db, id, c), ERR_UNAUTHENTICATED);
    at(T0 + 61);
    code_of(b32, s0 + 3, c);
    assert_int_equal(mfa_verify(db, id, c), 0);

    /* recovery codes: once each, any case */
    char upper[MFA_RECOVERY_BUF];
    for (int i = 0; i < MFA_RECOVERY_LEN + 1; i++)
        upper[i] =
            (char)(codes[1][i] >= 'a' && codes[1][i] <= 'z' ? codes[1][i] - 32 : codes[1][i]);
    assert_int_equal(mfa_verify(db, id, codes[0]), 0);
    assert_int_equal(mfa_verify(db, id, codes[0]), ERR_UNAUTHENTICATED);
    assert_int_equal(mfa_verify(db, id, upper), 0);
    assert_int_equal(mfa_verify(db, id, codes[1]), ERR_UNAUTHENTICATED);
    assert_int_equal(mfa_verify(db, id, "aaaaa-aaaaa"), ERR_UNAUTHENTICATED);
    assert_int_equal(mfa_state(db, id, T0, &st), 0);
    assert_int_equal(st.recovery_left, LIMIT_MFA_RECOVERY_CODES - 2);

    /* new codes replace the old */
    char again[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    assert_int_equal(mfa_recovery_replace(db, id, again), 0);
    assert_int_equal(mfa_verify(db, id, codes[2]), ERR_UNAUTHENTICATED);
    assert_int_equal(mfa_verify(db, id, again[0]), 0);

    /* off: everything goes */
    assert_int_equal(mfa_disable(db, id), 0);
    assert_int_equal(mfa_disable(db, id), ERR_NOT_FOUND);
    assert_int_equal(mfa_state(db, id, T0, &st), 0);
    assert_false(st.on || st.pending);
    assert_int_equal(st.recovery_left, 0);
    assert_int_equal(mfa_recovery_replace(db, id, again), ERR_NOT_FOUND);
}

/* Two requests that both read the last step before either wrote: the
 * conditional UPDATE lets the first one through only. */
static void test_one_use_under_concurrency(void **state)
{
    (void)state;
    const char *id = "acct-concurrent-000002";
    char b32[TOTP_BASE32_LEN + 1], uri[MFA_URI_BUF], c[TOTP_CODE_MAX + 1];
    char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    int64_t exp, s0 = T0 / LIMIT_MFA_STEP_S;

    add_account(id);
    at(T0);
    assert_int_equal(mfa_setup(db, id, "bob", b32, uri, &exp), 0);
    code_of(b32, s0 - 1, c);
    assert_int_equal(mfa_enable(db, id, c, codes), 0);
    assert_int_equal(use_step(id, s0), 1);
    assert_int_equal(use_step(id, s0), 0);     /* the same step again */
    assert_int_equal(use_step(id, s0 - 1), 0); /* an earlier one */
    assert_int_equal(use_step(id, s0 + 1), 1);
    /* a recovery code's row is deleted by its first use only */
    uint8_t h[MFA_CODE_HASH_BYTES], secret[LIMIT_MFA_SECRET_BYTES];
    secret_of(b32, secret);
    mfa_recovery_hash(id, secret, sizeof secret, codes[3], h);
    struct db_param p[] = {DB_TEXT(id), DB_BLOB(h, sizeof h)};
    assert_int_equal(db_exec(db, STMT_MFA_CODE_USE, p, 2), 1);
    assert_int_equal(db_exec(db, STMT_MFA_CODE_USE, p, 2), 0);
    assert_int_equal(mfa_verify(db, id, codes[3]), ERR_UNAUTHENTICATED);
}

/* A setup left pending: the enable is refused once it expired, a new setup
 * replaces the secret, and the secret opens only for its own account. */
static void test_pending_and_sealing(void **state)
{
    (void)state;
    const char *id = "acct-pending-000000003", *other = "acct-other-00000000004";
    char b32[TOTP_BASE32_LEN + 1], old[TOTP_BASE32_LEN + 1], uri[MFA_URI_BUF];
    char c[TOTP_CODE_MAX + 1], codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF];
    int64_t exp, t = T0 + LIMIT_MFA_SETUP_TTL_S, s = t / LIMIT_MFA_STEP_S;
    struct mfa_state st;

    add_account(id);
    add_account(other);
    at(T0);
    assert_int_equal(mfa_setup(db, id, "cy", old, uri, &exp), 0);
    at(t);
    assert_int_equal(mfa_state(db, id, t, &st), 0);
    assert_false(st.pending);
    code_of(old, s, c);
    assert_int_equal(mfa_enable(db, id, c, codes), ERR_NOT_FOUND);
    /* set up again: the old secret no longer enables */
    assert_int_equal(mfa_setup(db, id, "cy", b32, uri, &exp), 0);
    assert_string_not_equal(b32, old);
    code_of(old, s, c);
    assert_int_equal(mfa_enable(db, id, c, codes), ERR_UNAUTHENTICATED);
    /* the sealed secret does not open as another account's */
    struct db_param p[] = {DB_TEXT(id)};
    struct db_rows *rows = NULL;
    assert_int_equal(db_query(db, STMT_MFA_GET, p, 1, &rows), 0);
    assert_int_equal(db_next(rows), 1);
    size_t n = 0;
    const void *box = db_col_blob(rows, 0, &n);
    assert_int_equal(n, LIMIT_MFA_SECRET_BYTES + SEAL_OVERHEAD);
    uint8_t *pt = NULL;
    size_t ptn = 0;
    assert_int_not_equal(seal_open_field("account_mfa.secret", other, box, n, &pt, &ptn), 0);
    assert_int_equal(seal_open_field("account_mfa.secret", id, box, n, &pt, &ptn), 0);
    assert_int_equal(ptn, LIMIT_MFA_SECRET_BYTES);
    seal_free(pt, ptn);
    db_rows_free(rows);
    code_of(b32, s, c);
    assert_int_equal(mfa_enable(db, id, c, codes), 0);
}

/* The stored hash of a recovery code depends on the account and its
 * secret, not on the server key, so `atelier rekey` (which reseals the
 * secret, unchanged) leaves every code working; and it is the hash the
 * service stored (the row is found by it). */
static void test_recovery_hash_outlives_the_server_key(void **state)
{
    (void)state;
    const char *id = "acct-rekey-00000000005", *other = "acct-rekey-00000000006";
    char b32[TOTP_BASE32_LEN + 1], uri[MFA_URI_BUF], c[TOTP_CODE_MAX + 1];
    char codes[LIMIT_MFA_RECOVERY_CODES][MFA_RECOVERY_BUF], upper[MFA_RECOVERY_BUF];
    uint8_t secret[LIMIT_MFA_SECRET_BYTES], h[MFA_CODE_HASH_BYTES], again[MFA_CODE_HASH_BYTES];
    int64_t exp, s0 = T0 / LIMIT_MFA_STEP_S;

    add_account(id);
    at(T0);
    assert_int_equal(mfa_setup(db, id, "di", b32, uri, &exp), 0);
    code_of(b32, s0, c);
    assert_int_equal(mfa_enable(db, id, c, codes), 0);
    secret_of(b32, secret);
    mfa_recovery_hash(id, secret, sizeof secret, codes[0], h);
    /* any case is the same code */
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)codes[0][i]);
    mfa_recovery_hash(id, secret, sizeof secret, upper, again);
    assert_memory_equal(h, again, sizeof h);
    /* another server key: the same hash */
    seal_shutdown();
    assert_int_equal(
        seal_init("f0e0d0c0b0a090807060504030201000f0e0d0c0b0a090807060504030201000", "", 0), 0);
    mfa_recovery_hash(id, secret, sizeof secret, codes[0], again);
    seal_shutdown();
    assert_int_equal(seal_init(KEY_HEX, "", 0), 0);
    assert_memory_equal(h, again, sizeof h);
    /* another account, or another secret: another hash */
    mfa_recovery_hash(other, secret, sizeof secret, codes[0], again);
    assert_memory_not_equal(h, again, sizeof h);
    secret[0] ^= 1;
    mfa_recovery_hash(id, secret, sizeof secret, codes[0], again);
    assert_memory_not_equal(h, again, sizeof h);
    /* the row the service stored is found by that hash */
    struct db_param p[] = {DB_TEXT(id), DB_BLOB(h, sizeof h)};
    assert_int_equal(db_exec(db, STMT_MFA_CODE_USE, p, 2), 1);
    assert_int_equal(mfa_verify(db, id, codes[0]), ERR_UNAUTHENTICATED);
    assert_int_equal(mfa_verify(db, id, codes[1]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_one_use_under_concurrency),
        cmocka_unit_test(test_pending_and_sealing),
        cmocka_unit_test(test_recovery_hash_outlives_the_server_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
