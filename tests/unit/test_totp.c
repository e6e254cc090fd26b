/*
 * test_totp.c - two-factor codes: the test vectors of RFC 6238 appendix B
 * (all 18: SHA-1, SHA-256 and SHA-512 at the six times), RFC 4648's base32
 * vectors, the window of totp_check (one step of drift either way accepted,
 * two refused, never a step at or before the last used), the otpauth://
 * URI, the shapes of codes a client may send, and the QR code SVG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account/mfa.h"
#include "account/qr.h"
#include "account/totp.h"
#include "base/err.h"
#include "base/policy.h"

static const char SEED20[] = "12345678901234567890";
static const char SEED32[] = "12345678901234567890123456789012";
static const char SEED64[] = "1234567890123456789012345678901234567890123456789012345678901234";

struct vector {
    int64_t t;
    const char *sha1, *sha256, *sha512;
};

/* RFC 6238 appendix B: T0 = 0, X = 30, 8 digits. */
static const struct vector rfc6238[] = {
    {59, "94287082", "46119246", "90693936"},
    {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"},
    {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"},
    {20000000000, "65353130", "77737706", "47863826"},
};

static void test_rfc6238_appendix_b(void **state)
{
    (void)state;
    char out[TOTP_CODE_MAX + 1];
    for (size_t i = 0; i < sizeof rfc6238 / sizeof rfc6238[0]; i++) {
        const struct vector *v = &rfc6238[i];
        int64_t step = totp_step(v->t);
        assert_int_equal(totp_code((const uint8_t *)SEED20, 20, step, 8, TOTP_SHA1, out), 0);
        assert_string_equal(out, v->sha1);
        assert_int_equal(totp_code((const uint8_t *)SEED32, 32, step, 8, TOTP_SHA256, out), 0);
        assert_string_equal(out, v->sha256);
        assert_int_equal(totp_code((const uint8_t *)SEED64, 64, step, 8, TOTP_SHA512, out), 0);
        assert_string_equal(out, v->sha512);
        /* six digits are the last six of the eight (the same truncation) */
        assert_int_equal(totp_code((const uint8_t *)SEED20, 20, step, 6, TOTP_SHA1, out), 0);
        assert_string_equal(out, v->sha1 + 2);
    }
}

static void test_steps(void **state)
{
    (void)state;
    assert_int_equal(totp_step(0), 0);
    assert_int_equal(totp_step(29), 0);
    assert_int_equal(totp_step(30), 1);
    assert_int_equal(totp_step(59), 1);
    assert_int_equal(totp_step(1111111109), 37037036);
    assert_int_equal(totp_step(-1), -1);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char out[TOTP_CODE_MAX + 1];
    const uint8_t *k = (const uint8_t *)SEED20;
    assert_int_equal(totp_code(k, 20, -1, 6, TOTP_SHA1, out), ERR_INVALID);
    assert_int_equal(totp_code(k, 20, 1, 5, TOTP_SHA1, out), ERR_INVALID);
    assert_int_equal(totp_code(k, 20, 1, 9, TOTP_SHA1, out), ERR_INVALID);
    assert_int_equal(totp_code(k, 0, 1, 6, TOTP_SHA1, out), ERR_INVALID);
    assert_int_equal(totp_code(NULL, 20, 1, 6, TOTP_SHA1, out), ERR_INVALID);
    assert_int_equal(totp_code(k, 20, INT64_MAX, 6, TOTP_SHA1, out), ERR_INVALID);
}

static void code_at(int64_t step, char out[TOTP_CODE_MAX + 1])
{
    assert_int_equal(totp_code((const uint8_t *)SEED20, 20, step, 6, TOTP_SHA1, out), 0);
}

static void test_window(void **state)
{
    (void)state;
    const uint8_t *k = (const uint8_t *)SEED20;
    const int64_t now = 1111111111, base = totp_step(now);
    char c[TOTP_CODE_MAX + 1];
    int64_t step;

    for (int64_t d = -LIMIT_MFA_DRIFT_STEPS; d <= LIMIT_MFA_DRIFT_STEPS; d++) {
        code_at(base + d, c);
        step = -7;
        assert_int_equal(totp_check(k, 20, c, now, -1, &step), 0);
        assert_int_equal(step, base + d);
        /* a code is never accepted at or before the last step used */
        assert_int_equal(totp_check(k, 20, c, now, base + d, &step), ERR_UNAUTHENTICATED);
        assert_int_equal(totp_check(k, 20, c, now, base + d + 1, &step), ERR_UNAUTHENTICATED);
        assert_int_equal(totp_check(k, 20, c, now, base + d - 1, &step), 0);
    }
    for (int64_t d = LIMIT_MFA_DRIFT_STEPS + 1; d <= LIMIT_MFA_DRIFT_STEPS + 3; d++) {
        code_at(base + d, c);
        assert_int_equal(totp_check(k, 20, c, now, -1, &step), ERR_UNAUTHENTICATED);
        code_at(base - d, c);
        assert_int_equal(totp_check(k, 20, c, now, -1, &step), ERR_UNAUTHENTICATED);
    }
    /* not a code at all */
    assert_int_equal(totp_check(k, 20, "12345", now, -1, &step), ERR_UNAUTHENTICATED);
    assert_int_equal(totp_check(k, 20, "1234567", now, -1, &step), ERR_UNAUTHENTICATED);
    assert_int_equal(totp_check(k, 20, NULL, now, -1, &step), ERR_UNAUTHENTICATED);
    code_at(base, c);
    c[5] = c[5] == '9' ? '0' : (char)(c[5] + 1);
    assert_int_equal(totp_check(k, 20, c, now, -1, &step), ERR_UNAUTHENTICATED);
}

static void test_base32_rfc4648(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"",        "MY",       "MZXQ",      "MZXW6",
                                       "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    char out[64];
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t n = totp_base32((const uint8_t *)in[i], strlen(in[i]), out, sizeof out);
        assert_int_equal(n, strlen(want[i]));
        assert_string_equal(out, want[i]);
    }
    assert_int_equal(totp_base32((const uint8_t *)SEED20, 20, out, sizeof out), TOTP_BASE32_LEN);
    assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_int_equal(totp_base32((const uint8_t *)SEED20, 20, out, TOTP_BASE32_LEN), 0);
}

static void test_uri(void **state)
{
    (void)state;
    char out[MFA_URI_BUF], small[40];
    assert_int_equal(
        totp_uri("atelier", "ann_lee.x", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", out, sizeof out), 0);
    assert_string_equal(out, "otpauth://totp/atelier:ann_lee.x?secret="
                             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=atelier&algorithm=SHA1"
                             "&digits=6&period=30");
    assert_int_equal(totp_uri("a b", "x:y@z", "AA", out, sizeof out), 0);
    assert_string_equal(out, "otpauth://totp/a%20b:x%3Ay%40z?secret=AA&issuer=a%20b"
                             "&algorithm=SHA1&digits=6&period=30");
    assert_int_equal(totp_uri("atelier", "ann", "GEZDGNBVGY3TQOJQ", small, sizeof small),
                     ERR_TOO_LARGE);
}

static void test_code_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        enum mfa_code_kind kind;
    } cases[] = {
        {"123456", MFA_CODE_TOTP},
        {"000000", MFA_CODE_TOTP},
        {"12345", MFA_CODE_BAD},
        {"1234567", MFA_CODE_BAD},
        {"12345a", MFA_CODE_BAD},
        {" 23456", MFA_CODE_BAD},
        {"abcde-fgh27", MFA_CODE_RECOVERY},
        {"ABCDE-FGH27", MFA_CODE_RECOVERY},
        {"abcde-fgh28", MFA_CODE_BAD},
        {"abcdefgh27x", MFA_CODE_BAD},
        {"abcde_fgh27", MFA_CODE_BAD},
        {"abcde-fgh2", MFA_CODE_BAD},
        {"abcde-fgh271", MFA_CODE_BAD},
        {"", MFA_CODE_BAD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(mfa_code_kind(cases[i].s, strlen(cases[i].s)), cases[i].kind);
    assert_int_equal(mfa_code_kind("12\0"
                                   "456",
                                   6),
                     MFA_CODE_BAD); /* a NUL inside */
    assert_int_equal(mfa_code_kind(NULL, 0), MFA_CODE_BAD);
}

static void test_qr_svg(void **state)
{
    (void)state;
    char *svg = NULL;
    size_t n = 0;
    const char *uri = "otpauth://totp/atelier:ann?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                      "&issuer=atelier&algorithm=SHA1&digits=6&period=30";
    assert_int_equal(qr_svg(uri, &svg, &n), 0);
    assert_non_null(svg);
    assert_int_equal(strlen(svg), n);
    assert_memory_equal(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39);
    assert_null(strstr(svg, "href"));
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "GEZDGNBV")); /* the secret is in the modules only */
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
    assert_int_equal(qr_svg("", &svg, &n), ERR_INVALID);
    assert_null(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_appendix_b), cmocka_unit_test(test_steps),
        cmocka_unit_test(test_bad_arguments),      cmocka_unit_test(test_window),
        cmocka_unit_test(test_base32_rfc4648),     cmocka_unit_test(test_uri),
        cmocka_unit_test(test_code_kinds),         cmocka_unit_test(test_qr_svg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
