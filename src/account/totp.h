/*
 * totp.h - time-based one-time passwords (RFC 6238 over RFC 4226's HOTP),
 * the codes of two-factor login, and what an authenticator app is given:
 * the secret in base32 and its otpauth:// URI.
 *
 * The HMAC is liboath's (Debian liboath0): HMAC-SHA1, the RFC's default and
 * the only algorithm every common authenticator app computes (several ignore
 * the URI's `algorithm` and use SHA-1 anyway); libsodium has no SHA-1. The
 * reasons and the measurements are in docs/SECURITY.md ("Two-factor login").
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef ATELIER_TOTP_H
#define ATELIER_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/policy.h"

/* base32 (RFC 4648, upper case, no padding) of a LIMIT_MFA_SECRET_BYTES secret */
#define TOTP_BASE32_LEN (LIMIT_MFA_SECRET_BYTES * 8 / 5)
#define TOTP_CODE_MAX   8 /* digits the RFC 6238 vectors use; the server uses 6 */

enum totp_alg { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

/* The time step of Unix time t (seconds): floor(t / LIMIT_MFA_STEP_S). */
int64_t totp_step(int64_t t);

/* The code of step (digits 6 to 8) into out (digits + 1 bytes), as RFC 6238
 * computes it for T = step. 0, or ERR_INVALID for a bad argument or
 * ERR_INTERNAL when liboath fails. */
int totp_code(const uint8_t *secret, size_t n, int64_t step, unsigned digits, enum totp_alg alg,
              char out[TOTP_CODE_MAX + 1]);

/* Whether code (LIMIT_MFA_DIGITS digits, HMAC-SHA1) is the code of a step
 * within LIMIT_MFA_DRIFT_STEPS of the step of Unix time now, later than
 * after (the last step used: a code is never accepted twice). 0 with *step
 * set to the step matched (the earliest, when several match), else
 * ERR_UNAUTHENTICATED. Every step of the window is computed and compared in
 * constant time, whatever matches. */
int totp_check(const uint8_t *secret, size_t n, const char *code, int64_t now, int64_t after,
               int64_t *step);

/* base32 of in[0..n) (RFC 4648 alphabet, no padding) into out (outn bytes,
 * NUL-terminated). Returns the length, or 0 when out is too small. */
size_t totp_base32(const uint8_t *in, size_t n, char *out, size_t outn);

/* The otpauth:// URI of a secret (key URI format, as authenticator apps read
 * it): otpauth://totp/ISSUER:LABEL?secret=B32&issuer=ISSUER&algorithm=SHA1
 * &digits=6&period=30, issuer and label percent-encoded. 0, or
 * ERR_TOO_LARGE when it does not fit out (n bytes). */
int totp_uri(const char *issuer, const char *label, const char *secret_b32, char *out, size_t n);

#endif
