/*
 * totp_bench.c - the cost of checking a two-factor code, for the choice of
 * HMAC in docs/SECURITY.md ("Two-factor login").
 *
 *   totp_bench [N]   median ns of N (default 200000) runs, after N/10
 *                    untimed ones, of:
 *                      oath_sha1     one code, liboath HMAC-SHA1 (the server's)
 *                      sodium_sha256 one code, libsodium HMAC-SHA256 + RFC 4226
 *                                    truncation (the alternative: apps would
 *                                    need algorithm=SHA256)
 *                      check         totp_check: the 3 codes of the window,
 *                                    compared in constant time
 *                      open_check    seal_open of the sealed secret + check
 *                                    (what a login with a code adds)
 *
 * Not part of the test suite. Times are CLOCK_MONOTONIC wall clock, one
 * thread, batches of 100 timed together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "account/totp.h"
#include "base/seal.h"

#define BATCH 100

static const uint8_t key[LIMIT_MFA_SECRET_BYTES] = "12345678901234567890";
static uint8_t *sealed;
static size_t sealedn;
static volatile unsigned sink;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void run_oath(int64_t i)
{
    char out[16];
    oath_totp_generate2((const char *)key, sizeof key, (time_t)(1700000000 + i * 30), 30, 0, 6, 0,
                        out);
    sink += (unsigned)out[0];
}

static void run_sodium(int64_t i)
{
    uint8_t mac[crypto_auth_hmacsha256_BYTES], msg[8];
    uint64_t c = (uint64_t)(56666666 + i);
    for (int b = 7; b >= 0; b--, c >>= 8)
        msg[b] = (uint8_t)c;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof key);
    crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&st, mac);
    unsigned off = mac[31] & 15;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    sink += bin % 1000000u;
}

static void run_check(int64_t i)
{
    int64_t step;
    sink += (unsigned)totp_check(key, sizeof key, "000000", 1700000000 + i * 30, -1, &step);
}

static void run_open_check(int64_t i)
{
    uint8_t *pt = NULL;
    size_t n = 0;
    int64_t step;
    if (seal_open_field("account_mfa.secret", "bench-account-id-00000", sealed, sealedn, &pt, &n))
        abort();
    sink += (unsigned)totp_check(pt, n, "000000", 1700000000 + i * 30, -1, &step);
    seal_free(pt, n);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench(const char *name, void (*fn)(int64_t), int n)
{
    int batches = n / BATCH;
    double *t = malloc(sizeof *t * (size_t)batches);
    if (!t)
        abort();
    for (int i = 0; i < n / 10; i++)
        fn(i);
    for (int b = 0; b < batches; b++) {
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            fn((int64_t)b * BATCH + i);
        t[b] = (now_ns() - t0) / BATCH;
    }
    qsort(t, (size_t)batches, sizeof *t, cmp);
    printf("%-14s median %8.0f ns  p10 %8.0f  p90 %8.0f\n", name, t[batches / 2], t[batches / 10],
           t[batches * 9 / 10]);
    free(t);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    if (n < 10 * BATCH || sodium_init() < 0 || oath_init() != OATH_OK ||
        seal_init("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "", 0) ||
        seal_field("account_mfa.secret", "bench-account-id-00000", key, sizeof key, &sealed,
                   &sealedn))
        return 1;
    bench("oath_sha1", run_oath, n);
    bench("sodium_sha256", run_sodium, n);
    bench("check", run_check, n);
    bench("open_check", run_open_check, n);
    return (int)(sink & 0);
}
