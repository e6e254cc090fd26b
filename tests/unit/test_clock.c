/*
 * test_clock.c - the fixed/offset/real clock modes, RFC 3339 formatting and
 * strict parsing, leap years, and that readers never see a torn clock state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int reset(void **state)
{
    (void)state;
    clock_reset();
    return 0;
}

static void test_fixed(void **state)
{
    (void)state;
    clock_set_ms(1795984887123LL);
    assert_true(clock_now_ms() == 1795984887123LL);
    assert_true(clock_now() == 1795984887LL);
    clock_set_ms(-1);
    assert_true(clock_now_ms() == -1);
    assert_true(clock_now() == -1); /* floor, like the ms value */
}

static void test_offset_and_reset(void **state)
{
    (void)state;
    int64_t day = POLICY_DAY_MS;
    clock_set_offset_ms(30 * day);
    int64_t d = clock_now_ms() - real_ms();
    assert_true(d > 30 * day - 5000 && d < 30 * day + 5000);
    clock_set_offset_ms(-day);
    d = clock_now_ms() - real_ms();
    assert_true(d > -day - 5000 && d < -day + 5000);
    clock_reset();
    d = clock_now_ms() - real_ms();
    assert_true(d > -5000 && d < 5000);
}

static void test_mono(void **state)
{
    (void)state;
    uint64_t a = clock_mono_ns();
    clock_set_ms(0); /* never affects the monotonic clock */
    uint64_t b = clock_mono_ns();
    assert_true(a > 0);
    assert_true(b >= a);
}

static void test_format(void **state)
{
    (void)state;
    char out[25];
    char date[11];
    assert_int_equal(clock_format_rfc3339(0, out), 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    assert_int_equal(clock_format_rfc3339(1795984887123LL, out), 0);
    assert_string_equal(out, "2026-11-29T20:41:27.123Z");
    assert_int_equal(clock_format_rfc3339(-1, out), 0);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(clock_format_rfc3339(951782400000LL, out), 0);
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
    assert_int_equal(clock_format_rfc3339(253402300799999LL, out), 0);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    assert_int_equal(clock_format_rfc3339(-62167219200000LL, out), 0);
    assert_string_equal(out, "0000-01-01T00:00:00.000Z");
    assert_int_equal(clock_format_date(1795984887123LL, date), 0);
    assert_string_equal(date, "2026-11-29");
}

static void test_format_range(void **state)
{
    (void)state;
    char out[25];
    char date[11];
    assert_int_equal(clock_format_rfc3339(253402300800000LL, out), ERR_INVALID);
    assert_int_equal(clock_format_rfc3339(-62167219200001LL, out), ERR_INVALID);
    assert_int_equal(clock_format_rfc3339(INT64_MAX, out), ERR_INVALID);
    assert_int_equal(clock_format_rfc3339(INT64_MIN, out), ERR_INVALID);
    assert_int_equal(clock_format_date(INT64_MAX, date), ERR_INVALID);
}

static void expect_parse(const char *s, int64_t want)
{
    int64_t ms = 12345;
    if (clock_parse_rfc3339(s, &ms) != 0)
        fail_msg("rejected \"%s\"", s);
    if (ms != want)
        fail_msg("\"%s\" gave %lld, want %lld", s, (long long)ms, (long long)want);
}

static void expect_reject(const char *s)
{
    int64_t ms = 12345;
    if (clock_parse_rfc3339(s, &ms) != ERR_INVALID)
        fail_msg("accepted \"%s\"", s);
    assert_true(ms == 12345);
}

static void test_parse(void **state)
{
    (void)state;
    expect_parse("2026-11-29T20:41:27Z", 1795984887000LL);
    expect_parse("2026-11-29T20:41:27.123Z", 1795984887123LL);
    expect_parse("2026-11-29T20:41:27.1Z", 1795984887100LL);
    expect_parse("2026-11-29T20:41:27.123999999Z", 1795984887123LL);
    expect_parse("2026-11-29T21:41:27.123+01:00", 1795984887123LL);
    expect_parse("2026-11-29T15:11:27.123-05:30", 1795984887123LL);
    expect_parse("2026-11-29T20:41:27-00:00", 1795984887000LL);
    expect_parse("2026-11-29", 1795984887123LL - (20 * 3600 + 41 * 60 + 27) * 1000LL - 123);
    expect_parse("1970-01-01", 0);
    expect_parse("1969-12-31T23:59:59.999Z", -1);
    expect_parse("0000-01-01T00:00:00Z", -62167219200000LL);
    expect_parse("9999-12-31T23:59:59.999Z", 253402300799999LL);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-1-29",
        "26-11-29",
        "2026/11/29",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-31",
        "2026-02-30",
        "2026-11-29 ",
        " 2026-11-29",
        "2026-11-29x",
        "2026-11-29T",
        "2026-11-29T20:41Z",
        "2026-11-29T20:41:27",
        "2026-11-29 20:41:27Z",
        "2026-11-29t20:41:27Z",
        "2026-11-29T20:41:27z",
        "2026-11-29T24:00:00Z",
        "2026-11-29T20:60:00Z",
        "2026-11-29T20:41:60Z",
        "2026-11-29T20:41:27.Z",
        "2026-11-29T20:41:27.1234567890Z",
        "2026-11-29T20:41:27ZZ",
        "2026-11-29T20:41:27Z ",
        "2026-11-29T20:41:27+0100",
        "2026-11-29T20:41:27+01",
        "2026-11-29T20:41:27+24:00",
        "2026-11-29T20:41:27+01:60",
        "2026-11-29T20:41:27+01:00x",
        "+2026-11-29",
        "-2026-11-29",
        "2026-11-29T2:41:27Z",
        "2026-11-29T20:41:27.12a",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_reject(bad[i]);
    int64_t ms;
    assert_int_equal(clock_parse_rfc3339(NULL, &ms), ERR_INVALID);
}

static void test_leap_years(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(clock_parse_rfc3339("2024-02-29", &ms), 0);
    assert_int_equal(clock_parse_rfc3339("2000-02-29", &ms), 0);
    assert_int_equal(clock_parse_rfc3339("2400-02-29", &ms), 0);
    assert_int_equal(clock_parse_rfc3339("2023-02-29", &ms), ERR_INVALID);
    assert_int_equal(clock_parse_rfc3339("1900-02-29", &ms), ERR_INVALID);
    assert_int_equal(clock_parse_rfc3339("2100-02-29", &ms), ERR_INVALID);
    assert_int_equal(clock_parse_rfc3339("2024-02-30", &ms), ERR_INVALID);
    /* The day after Feb 28 is Mar 1 in a common year and Feb 29 in a leap year. */
    int64_t a, b;
    assert_int_equal(clock_parse_rfc3339("2023-02-28", &a), 0);
    assert_int_equal(clock_parse_rfc3339("2023-03-01", &b), 0);
    assert_true(b - a == 86400000LL);
    assert_int_equal(clock_parse_rfc3339("2024-02-28", &a), 0);
    assert_int_equal(clock_parse_rfc3339("2024-03-01", &b), 0);
    assert_true(b - a == 2 * 86400000LL);
    char date[11];
    assert_int_equal(clock_format_date(a + 86400000LL, date), 0);
    assert_string_equal(date, "2024-02-29");
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* format -> parse is the identity, and agrees with the C library's timegm. */
static void test_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)(x % 315569520000000ull) - 62167219200000LL;
        char out[25];
        int64_t back = 0;
        assert_int_equal(clock_format_rfc3339(ms, out), 0);
        assert_int_equal(clock_parse_rfc3339(out, &back), 0);
        assert_true(back == ms);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = digits(out, 4) - 1900;
        tm.tm_mon = digits(out + 5, 2) - 1;
        tm.tm_mday = digits(out + 8, 2);
        tm.tm_hour = digits(out + 11, 2);
        tm.tm_min = digits(out + 14, 2);
        tm.tm_sec = digits(out + 17, 2);
        int64_t t = (int64_t)timegm(&tm);
        int64_t floor_s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        assert_true(t == floor_s);
    }
}

static atomic_int stop_readers;
static atomic_int torn;

#define FIXED_MS  1000
#define OFFSET_MS (400LL * 365 * 86400000LL)

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_readers)) {
        int64_t now = clock_now_ms();
        /* Valid readings: the fixed value, or about real + offset. A torn read
         * would give real + FIXED_MS or the bare offset. */
        if (now != FIXED_MS && (now < OFFSET_MS || now - OFFSET_MS - real_ms() > 60000 ||
                                now - OFFSET_MS - real_ms() < -60000))
            atomic_store(&torn, 1);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[3];
    atomic_store(&stop_readers, 0);
    atomic_store(&torn, 0);
    clock_set_ms(FIXED_MS);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
    for (int i = 0; i < 100000; i++) {
        if (i % 2)
            clock_set_ms(FIXED_MS);
        else
            clock_set_offset_ms(OFFSET_MS);
    }
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&torn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixed, reset),
        cmocka_unit_test_teardown(test_offset_and_reset, reset),
        cmocka_unit_test_teardown(test_mono, reset),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_range),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test_teardown(test_threads, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
