/*
 * totp.c - RFC 6238 codes through liboath, base32 and otpauth:// URIs (see
 * totp.h).
 *
 * Invariants:
 *   - totp_check computes every step of the window and compares each with
 *     sodium_memcmp, so its time does not depend on which step (if any)
 *     matched; it never accepts a step at or before `after`.
 *   - liboath is initialised once (pthread_once) before its first use; its
 *     generators are reentrant after that.
 *   - Every code computed here is wiped (sodium_memzero) once compared.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "account/totp.h"
#include "base/err.h"

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_init_rc = OATH_OK;

static void totp_init(void)
{
    totp_init_rc = oath_init();
}

int64_t totp_step(int64_t t)
{
    return t >= 0 ? t / LIMIT_MFA_STEP_S : -((-t + LIMIT_MFA_STEP_S - 1) / LIMIT_MFA_STEP_S);
}

int totp_code(const uint8_t *secret, size_t n, int64_t step, unsigned digits, enum totp_alg alg,
              char out[TOTP_CODE_MAX + 1])
{
    static const int flags[] = {[TOTP_SHA1] = 0,
                                [TOTP_SHA256] = OATH_TOTP_HMAC_SHA256,
                                [TOTP_SHA512] = OATH_TOTP_HMAC_SHA512};

    out[0] = '\0';
    if (!secret || n == 0 || step < 0 || step > INT64_MAX / LIMIT_MFA_STEP_S || digits < 6 ||
        digits > TOTP_CODE_MAX || (unsigned)alg > TOTP_SHA512)
        return ERR_INVALID;
    pthread_once(&totp_once, totp_init);
    if (totp_init_rc != OATH_OK)
        return ERR_INTERNAL;
    /* T = (now - 0) / step size = step, exactly (RFC 6238 section 4.2). */
    int rc = oath_totp_generate2((const char *)secret, n, (time_t)(step * LIMIT_MFA_STEP_S),
                                 LIMIT_MFA_STEP_S, 0, digits, flags[alg], out);
    if (rc != OATH_OK) {
        sodium_memzero(out, TOTP_CODE_MAX + 1);
        return ERR_INTERNAL;
    }
    return 0;
}

int totp_check(const uint8_t *secret, size_t n, const char *code, int64_t now, int64_t after,
               int64_t *step)
{
    char want[TOTP_CODE_MAX + 1];
    int64_t base = totp_step(now), found = -1;
    int rc = ERR_UNAUTHENTICATED;

    if (!code || strlen(code) != LIMIT_MFA_DIGITS)
        return ERR_UNAUTHENTICATED;
    for (int64_t s = base - LIMIT_MFA_DRIFT_STEPS; s <= base + LIMIT_MFA_DRIFT_STEPS; s++) {
        if (s < 0)
            continue; /* before 1970: no code */
        if (totp_code(secret, n, s, LIMIT_MFA_DIGITS, TOTP_SHA1, want)) {
            rc = ERR_INTERNAL;
            break;
        }
        int same = sodium_memcmp(want, code, LIMIT_MFA_DIGITS) == 0;
        if (same && s > after && found < 0)
            found = s;
    }
    sodium_memzero(want, sizeof want);
    if (rc == ERR_INTERNAL)
        return rc;
    if (found < 0)
        return ERR_UNAUTHENTICATED;
    *step = found;
    return 0;
}

size_t totp_base32(const uint8_t *in, size_t n, char *out, size_t outn)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t len = (n * 8 + 4) / 5, o = 0;
    unsigned buf = 0, bits = 0;

    if (n > SIZE_MAX / 8 || outn <= len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
        buf &= (1u << bits) - 1;
    }
    if (bits)
        out[o++] = alphabet[(buf << (5 - bits)) & 31];
    out[o] = '\0';
    buf = 0;
    return o;
}

/* Percent-encode s (RFC 3986: unreserved characters stay) onto out[*o..n). */
static int totp_pct(const char *s, char *out, size_t n, size_t *o)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (*o + (plain ? 1 : 3) >= n)
            return ERR_TOO_LARGE;
        if (plain) {
            out[(*o)++] = (char)c;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        }
    }
    out[*o] = '\0';
    return 0;
}

static int totp_lit(const char *s, char *out, size_t n, size_t *o)
{
    size_t k = strlen(s);

    if (*o + k >= n)
        return ERR_TOO_LARGE;
    memcpy(out + *o, s, k + 1);
    *o += k;
    return 0;
}

int totp_uri(const char *issuer, const char *label, const char *secret_b32, char *out, size_t n)
{
    char tail[64];
    size_t o = 0;
    int rc;

    if (n == 0)
        return ERR_TOO_LARGE;
    snprintf(tail, sizeof tail, "&algorithm=SHA1&digits=%d&period=%d", LIMIT_MFA_DIGITS,
             LIMIT_MFA_STEP_S);
    out[0] = '\0';
    if ((rc = totp_lit("otpauth://totp/", out, n, &o)) || (rc = totp_pct(issuer, out, n, &o)) ||
        (rc = totp_lit(":", out, n, &o)) || (rc = totp_pct(label, out, n, &o)) ||
        (rc = totp_lit("?secret=", out, n, &o)) || (rc = totp_lit(secret_b32, out, n, &o)) ||
        (rc = totp_lit("&issuer=", out, n, &o)) || (rc = totp_pct(issuer, out, n, &o)) ||
        (rc = totp_lit(tail, out, n, &o))) {
        sodium_memzero(out, n);
        return rc;
    }
    return 0;
}
