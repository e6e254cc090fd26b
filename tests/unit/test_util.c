/*
 * test_util.c - checked size arithmetic, strict integer parsing, bounded copy,
 * hex and UTF-8 validation, and the diagnostic log's line format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"

static void test_size_add(void **state)
{
    (void)state;
    size_t out = 0;
    assert_true(size_add(1, 2, &out));
    assert_int_equal(out, 3);
    assert_true(size_add(SIZE_MAX - 1, 1, &out));
    assert_true(out == SIZE_MAX);
    out = 7;
    assert_false(size_add(SIZE_MAX, 1, &out));
    assert_false(size_add(1, SIZE_MAX, &out));
    assert_false(size_add(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &out));
    assert_int_equal(out, 7); /* untouched on overflow */
}

static void test_size_mul(void **state)
{
    (void)state;
    size_t out = 0;
    assert_true(size_mul(0, SIZE_MAX, &out));
    assert_int_equal(out, 0);
    assert_true(size_mul(SIZE_MAX, 1, &out));
    assert_true(out == SIZE_MAX);
    assert_true(size_mul(1000, 1000, &out));
    assert_int_equal(out, 1000000);
    assert_false(size_mul(SIZE_MAX, 2, &out));
    assert_false(
        size_mul((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4), &out));
    assert_false(size_mul(SIZE_MAX / 3 + 1, 3, &out));
}

static void test_parse_i64_valid(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_int_equal(util_parse_i64("0", INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(util_parse_i64("-0", INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(util_parse_i64("12345", INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, 12345);
    assert_int_equal(util_parse_i64("-42", INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(util_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(util_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

static void test_parse_i64_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "-",
        "+1",
        " 1",
        "1 ",
        "1x",
        "x1",
        "0x10",
        "1.0",
        "--1",
        "1-",
        "1e3",
        "\t1",
        "１",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "18446744073709551616",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77;
        assert_int_equal(util_parse_i64(bad[i], INT64_MIN, INT64_MAX, &v), ERR_INVALID);
        assert_int_equal(v, 77);
    }
    int64_t v = 0;
    assert_int_equal(util_parse_i64(NULL, 0, 1, &v), ERR_INVALID);
}

static void test_parse_i64_range(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(util_parse_i64("65535", 0, 65535, &v), 0);
    assert_int_equal(v, 65535);
    assert_int_equal(util_parse_i64("65536", 0, 65535, &v), ERR_INVALID);
    assert_int_equal(util_parse_i64("-1", 0, 65535, &v), ERR_INVALID);
    assert_int_equal(util_parse_i64("5", 5, 5, &v), 0);
    assert_int_equal(util_parse_i64("4", 5, 5, &v), ERR_INVALID);
}

static void test_strlcpy(void **state)
{
    (void)state;
    char buf[6];
    assert_int_equal(util_strlcpy(buf, "hello", sizeof buf), 0);
    assert_string_equal(buf, "hello");
    assert_int_equal(util_strlcpy(buf, "", sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(util_strlcpy(buf, "hello!", sizeof buf), ERR_TOO_LARGE);
    assert_int_equal(buf[5], '\0');
    assert_int_equal(util_strlcpy(buf, "x", 0), ERR_TOO_LARGE);
}

static void test_alloc(void **state)
{
    (void)state;
    char *s = xstrdup("atelier");
    assert_string_equal(s, "atelier");
    free(s);
    unsigned char *z = xcalloc(16, 4);
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    free(z);
    void *p = xmalloc(0);
    assert_non_null(p);
    free(p);
}

static void test_hex(void **state)
{
    (void)state;
    const unsigned char b[] = {0x00, 0x01, 0xab, 0xff, 0x10};
    char out[11];
    util_hex(b, sizeof b, out);
    assert_string_equal(out, "0001abff10");
    util_hex(b, 0, out);
    assert_string_equal(out, "");
}

static bool utf8(const char *s, size_t n)
{
    return util_utf8_valid(s, n);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8("", 0));
    assert_true(utf8("plain ascii", 11));
    assert_true(utf8("\xc3\xa9", 2));         /* U+00E9 */
    assert_true(utf8("\xc2\x80", 2));         /* U+0080, smallest 2-byte */
    assert_true(utf8("\xe0\xa0\x80", 3));     /* U+0800, smallest 3-byte */
    assert_true(utf8("\xe2\x82\xac", 3));     /* euro sign */
    assert_true(utf8("\xed\x9f\xbf", 3));     /* U+D7FF, just below surrogates */
    assert_true(utf8("\xee\x80\x80", 3));     /* U+E000, just above surrogates */
    assert_true(utf8("\xef\xbf\xbf", 3));     /* U+FFFF */
    assert_true(utf8("\xf0\x90\x80\x80", 4)); /* U+10000 */
    assert_true(utf8("\xf0\x9f\xa7\xb6", 4)); /* yarn emoji */
    assert_true(utf8("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    assert_false(utf8("a\0b", 3));             /* NUL byte */
    assert_false(utf8("\xc0\x80", 2));         /* overlong NUL */
    assert_false(utf8("\xc1\xbf", 2));         /* overlong 2-byte */
    assert_false(utf8("\xe0\x80\x80", 3));     /* overlong 3-byte */
    assert_false(utf8("\xe0\x9f\xbf", 3));     /* overlong U+07FF */
    assert_false(utf8("\xf0\x80\x80\x80", 4)); /* overlong 4-byte */
    assert_false(utf8("\xf0\x8f\xbf\xbf", 4)); /* overlong U+FFFF */
    assert_false(utf8("\xed\xa0\x80", 3));     /* U+D800 surrogate */
    assert_false(utf8("\xed\xbf\xbf", 3));     /* U+DFFF surrogate */
    assert_false(utf8("\xf4\x90\x80\x80", 4)); /* U+110000 */
    assert_false(utf8("\xf5\x80\x80\x80", 4)); /* lead byte beyond range */
    assert_false(utf8("\xff", 1));
    assert_false(utf8("\x80", 1));         /* lone continuation */
    assert_false(utf8("\xe2\x82", 2));     /* truncated */
    assert_false(utf8("\xf0\x9f\xa7", 3)); /* truncated */
    assert_false(utf8("\xc3", 1));         /* truncated */
    assert_false(utf8("\xc3\x28", 2));     /* bad continuation */
    assert_false(utf8("ok\xe2\x82\xac\xe2\x82", 7));
    /* The length bounds the check: a valid prefix of a longer buffer. */
    assert_true(utf8("ab\xe2\x82\xac", 2));
}

static void test_ncpu(void **state)
{
    (void)state;
    assert_true(util_ncpu() >= 1);
}

/* Runs the log calls with stderr sent to a temporary file; returns its text. */
static char *capture_log(void (*fn)(void))
{
    const char *base = getenv("ATELIER_TEST_TMP");
    char path[4096];
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(path, sizeof path, "%s/log-XXXXXX", base);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    assert_true(size >= 0);
    char *text = xcalloc(1, (size_t)size + 1);
    assert_true(pread(fd, text, (size_t)size, 0) == (ssize_t)size);
    close(fd);
    return text;
}

static void log_some_lines(void)
{
    clock_set_ms(1795984887123LL);
    log_set_level(LOG_INFO);
    log_msg(LOG_DEBUG, "util", "below the level");
    log_info("util", "hello %d", 42);
    log_warn("util", "two\nlines");
    log_set_level(LOG_ERROR);
    log_warn("util", "below the level");
    log_error("util", "shown");
    log_set_level(LOG_DEBUG);
    log_msg(LOG_DEBUG, "util", "debug");
    log_set_level(LOG_INFO);
    clock_reset();
}

/* Each line is "<real time> now=<the fixed clock> LEVEL module: message":
 * the real time says when it was written, the field what the clock said. */
static void test_log_lines(void **state)
{
    (void)state;
    int64_t before = clock_wall_ms();
    char *text = capture_log(log_some_lines);
    int64_t after = clock_wall_ms();
    static const char *const want[] = {"now=2026-11-29T20:41:27.123Z INFO util: hello 42",
                                       "now=2026-11-29T20:41:27.123Z WARN util: two lines",
                                       "now=2026-11-29T20:41:27.123Z ERROR util: shown",
                                       "now=2026-11-29T20:41:27.123Z DEBUG util: debug"};
    char *p = text;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char ts[25];
        int64_t ms;
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_true(strlen(p) > 25 && p[24] == ' ');
        memcpy(ts, p, 24);
        ts[24] = '\0';
        assert_int_equal(clock_parse_rfc3339(ts, &ms), 0);
        /* the wall time, to the millisecond the line was formatted */
        assert_true(ms >= before - 1 && ms <= after + 1);
        assert_string_equal(p + 25, want[i]);
        p = nl + 1;
    }
    assert_string_equal(p, "");
    free(text);
}

static void log_real_clock(void)
{
    clock_reset();
    log_info("util", "plain");
}

/* With the real clock there is no now= field. */
static void test_log_real_clock(void **state)
{
    (void)state;
    char *text = capture_log(log_real_clock);
    assert_true(strlen(text) == 24 + strlen(" INFO util: plain\n"));
    assert_string_equal(text + 24, " INFO util: plain\n");
    free(text);
}

static void log_long_line(void)
{
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_info("util", "%s", big);
}

static void test_log_truncates(void **state)
{
    (void)state;
    char *text = capture_log(log_long_line);
    size_t n = strlen(text);
    assert_true(n > 1000 && n < 5000);
    assert_string_equal(text + n - 4, "...\n");
    assert_null(memchr(text, '\n', n - 1)); /* one line */
    free(text);
}

/* Sizes as people read them (the messages of issue 18): whole binary
 * units, one decimal otherwise, bytes below 1 KiB. */
static void test_size_text(void **state)
{
    (void)state;
    char b[32];

    assert_string_equal(util_size_text(0, b, sizeof b), "0 bytes");
    assert_string_equal(util_size_text(1, b, sizeof b), "1 byte");
    assert_string_equal(util_size_text(1023, b, sizeof b), "1023 bytes");
    assert_string_equal(util_size_text(1024, b, sizeof b), "1 KiB");
    assert_string_equal(util_size_text(65536, b, sizeof b), "64 KiB");
    assert_string_equal(util_size_text(1536, b, sizeof b), "1.5 KiB");
    assert_string_equal(util_size_text(8u << 20, b, sizeof b), "8 MiB");
    assert_string_equal(util_size_text(64u << 20, b, sizeof b), "64 MiB");
    assert_string_equal(util_size_text(3ull << 30, b, sizeof b), "3 GiB");
    assert_string_equal(util_size_text(5ull << 40, b, sizeof b), "5120 GiB");
    assert_string_equal(util_size_text(65536, b, 4), "64 ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_add),
        cmocka_unit_test(test_size_text),
        cmocka_unit_test(test_size_mul),
        cmocka_unit_test(test_parse_i64_valid),
        cmocka_unit_test(test_parse_i64_rejects),
        cmocka_unit_test(test_parse_i64_range),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_ncpu),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_log_real_clock),
        cmocka_unit_test(test_log_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
