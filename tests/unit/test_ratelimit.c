/*
 * test_ratelimit.c - sliding-window failure counters: the exact limit,
 * Retry-After counting down, the window, reset, independence of keys and
 * kinds, the memory cap with its eviction order, long keys, and take /
 * give back (check and count as one step, exact under racing threads). Time is
 * always passed explicitly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/policy.h"
#include "account/ratelimit.h"

#define T0 1700000000

static void fail_n(enum ratelimit_kind k, const char *key, unsigned n, int64_t now)
{
    for (unsigned i = 0; i < n; i++)
        ratelimit_fail(k, key, now);
}

/* Runs first: the defaults of every kind, before any ratelimit_configure. */
static void test_defaults(void **state)
{
    (void)state;
    const struct {
        enum ratelimit_kind k;
        unsigned limit;
        unsigned window;
    } d[] = {
        {RL_LOGIN_ACCOUNT, LIMIT_LOGIN_FAIL_ACCOUNT, LIMIT_LOGIN_WINDOW_S},
        {RL_LOGIN_IP, LIMIT_LOGIN_FAIL_IP, LIMIT_LOGIN_WINDOW_S},
        {RL_MAIL_RECIPIENT, LIMIT_MAIL_PER_RECIPIENT, LIMIT_MAIL_WINDOW_S},
        {RL_LOGIN_ACCOUNT_ALL, LIMIT_LOGIN_FAIL_CEILING, LIMIT_LOGIN_WINDOW_S},
        {RL_MAIL_CLIENT, LIMIT_MAIL_PER_CLIENT, LIMIT_MAIL_WINDOW_S},
    };

    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        fail_n(d[i].k, "someone", d[i].limit - 1, T0);
        assert_int_equal(ratelimit_check(d[i].k, "someone", T0), 0);
        ratelimit_fail(d[i].k, "someone", T0);
        assert_int_equal(ratelimit_check(d[i].k, "someone", T0), d[i].window);
        assert_int_equal(ratelimit_check(d[i].k, "someone", T0 + d[i].window - 1), 1);
        assert_int_equal(ratelimit_check(d[i].k, "someone", T0 + d[i].window), 0);
    }
    ratelimit_clear();
}

static void test_exact_limit(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 10, 900);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:1", T0), 0);
    for (unsigned i = 1; i < 10; i++) {
        ratelimit_fail(RL_LOGIN_ACCOUNT, "acct:1", T0);
        assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:1", T0), 0);
    }
    ratelimit_fail(RL_LOGIN_ACCOUNT, "acct:1", T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:1", T0), 900);
    /* More failures keep it limited from the newest `limit` ones. */
    ratelimit_fail(RL_LOGIN_ACCOUNT, "acct:1", T0 + 5);
    assert_true(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:1", T0 + 5) >= 1);
}

static void test_countdown(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 5, 900);
    for (int64_t i = 0; i < 5; i++)
        ratelimit_fail(RL_LOGIN_ACCOUNT, "acct:2", T0 + i); /* T0 .. T0+4 */
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 4), 896);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 100), 800);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 899), 1);
    /* The oldest (T0) leaves at T0+900: only four remain inside. */
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 900), 0);
    /* One more failure fills the window again, now counted from T0+1. */
    ratelimit_fail(RL_LOGIN_ACCOUNT, "acct:2", T0 + 900);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 900), 1);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:2", T0 + 901), 0);
}

static void test_window(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_IP, 3, 60);
    fail_n(RL_LOGIN_IP, "192.0.2.1", 2, T0);
    ratelimit_fail(RL_LOGIN_IP, "192.0.2.1", T0 + 60); /* the first two are out */
    assert_int_equal(ratelimit_check(RL_LOGIN_IP, "192.0.2.1", T0 + 60), 0);
    fail_n(RL_LOGIN_IP, "192.0.2.1", 2, T0 + 61);
    assert_int_equal(ratelimit_check(RL_LOGIN_IP, "192.0.2.1", T0 + 61), 59);
    /* Long after: nothing counts, and the key starts afresh. */
    assert_int_equal(ratelimit_check(RL_LOGIN_IP, "192.0.2.1", T0 + 10000), 0);
    fail_n(RL_LOGIN_IP, "192.0.2.1", 2, T0 + 10000);
    assert_int_equal(ratelimit_check(RL_LOGIN_IP, "192.0.2.1", T0 + 10000), 0);
}

static void test_reset(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 3, 900);
    fail_n(RL_LOGIN_ACCOUNT, "acct:3", 3, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:3", T0), 900);
    ratelimit_reset(RL_LOGIN_ACCOUNT, "acct:3");
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:3", T0), 0);
    fail_n(RL_LOGIN_ACCOUNT, "acct:3", 2, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:3", T0), 0);
    ratelimit_reset(RL_LOGIN_ACCOUNT, "never-seen");

    fail_n(RL_LOGIN_ACCOUNT, "acct:3", 1, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:3", T0), 900);
    ratelimit_clear();
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "acct:3", T0), 0);
}

static void test_independent(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 2, 900);
    ratelimit_configure(RL_LOGIN_IP, 2, 900);
    fail_n(RL_LOGIN_ACCOUNT, "x", 2, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "x", T0), 900);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "y", T0), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "x ", T0), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "", T0), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_IP, "x", T0), 0);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "x", T0), 0);
    ratelimit_reset(RL_LOGIN_IP, "x");
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "x", T0), 900);

    /* Bad arguments are ignored, not crashes. */
    assert_int_equal(ratelimit_check(RL__COUNT, "x", T0), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, NULL, T0), 0);
    ratelimit_fail(RL__COUNT, "x", T0);
    ratelimit_fail(RL_LOGIN_ACCOUNT, NULL, T0);
}

static void test_long_keys(void **state)
{
    (void)state;
    char a[1001], b[1001], k64[65], k65[66];

    ratelimit_configure(RL_LOGIN_ACCOUNT, 2, 900);
    memset(a, 'k', 1000);
    a[1000] = '\0';
    memcpy(b, a, sizeof b);
    b[999] = 'j';
    fail_n(RL_LOGIN_ACCOUNT, a, 2, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, a, T0), 900);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, b, T0), 0);
    ratelimit_reset(RL_LOGIN_ACCOUNT, a);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, a, T0), 0);

    /* At and just beyond the stored-key length. */
    memset(k64, 'q', 64);
    k64[64] = '\0';
    memset(k65, 'q', 65);
    k65[65] = '\0';
    fail_n(RL_LOGIN_ACCOUNT, k64, 2, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, k64, T0), 900);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, k65, T0), 0);
    fail_n(RL_LOGIN_ACCOUNT, k65, 2, T0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, k65, T0), 900);
}

/* 70000 keys in a 65536-key table: the first 4464 inserted are evicted (none
 * has expired, so the least recently failed go), the rest are all kept. */
static void test_cap_lru(void **state)
{
    (void)state;
    char key[32];

    ratelimit_configure(RL_MAIL_RECIPIENT, 1, 3600);
    for (unsigned i = 0; i < 70000; i++) {
        snprintf(key, sizeof key, "user%u", i);
        ratelimit_fail(RL_MAIL_RECIPIENT, key, T0 + i / 1000);
    }
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "user0", T0 + 70), 0);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "user4463", T0 + 70), 0);
    assert_true(ratelimit_check(RL_MAIL_RECIPIENT, "user4464", T0 + 70) > 0);
    assert_true(ratelimit_check(RL_MAIL_RECIPIENT, "user69999", T0 + 70) > 0);
    /* A fresh key still works in the full table. */
    ratelimit_fail(RL_MAIL_RECIPIENT, "fresh", T0 + 70);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "fresh", T0 + 70), 3600);
    /* The key that made room for it was the least recently failed one. */
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "user4464", T0 + 70), 0);
    assert_true(ratelimit_check(RL_MAIL_RECIPIENT, "user4465", T0 + 70) > 0);
    ratelimit_clear();
}

/* In a full table, expired keys go before any live one. */
static void test_cap_expired_first(void **state)
{
    (void)state;
    char key[32];

    ratelimit_configure(RL_MAIL_RECIPIENT, 1, 100);
    for (unsigned i = 0; i < RATELIMIT_MAX_KEYS - 1; i++) {
        snprintf(key, sizeof key, "old%u", i);
        ratelimit_fail(RL_MAIL_RECIPIENT, key, T0);
    }
    ratelimit_fail(RL_MAIL_RECIPIENT, "recent", T0 + 99);
    /* Table full; at T0+100 every "old" key has expired, "recent" has not. */
    ratelimit_fail(RL_MAIL_RECIPIENT, "new1", T0 + 100);
    ratelimit_fail(RL_MAIL_RECIPIENT, "new2", T0 + 100);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "recent", T0 + 100), 99);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "new1", T0 + 100), 100);
    assert_int_equal(ratelimit_check(RL_MAIL_RECIPIENT, "new2", T0 + 100), 100);
    ratelimit_clear();
}

static void *fail_thread(void *arg)
{
    const char *prefix = arg;
    char key[32];

    for (unsigned i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%s%u", prefix, i % 100);
        ratelimit_fail(RL_LOGIN_IP, key, T0);
        (void)ratelimit_check(RL_LOGIN_IP, key, T0);
        if (i % 7 == 0)
            ratelimit_reset(RL_LOGIN_IP, key);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    const char *prefixes[4] = {"a", "b", "a", "c"};

    ratelimit_configure(RL_LOGIN_IP, 30, 900);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fail_thread, (void *)prefixes[i]), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    ratelimit_clear();
}

/* take: passes exactly `limit` times, then refuses with the wait and
 * counts nothing more; a refused take leaves the window where it was. */
static void test_take_exact(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 3, 900);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "take", T0 + i), 0);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "take", T0 + 3), 897);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "take", T0 + 3), 897);
    /* refusals at T0 + 3 did not count: the first place frees at T0 + 900 */
    for (unsigned i = 0; i < 5; i++)
        assert_true(ratelimit_take(RL_LOGIN_ACCOUNT, "take", T0 + 3) > 0);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "take", T0 + 900), 0);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "take", T0 + 900), 1);
    ratelimit_clear();
}

/* give back: takes out one failure at the given second, the newest; a key
 * without one (reset, never seen) is left alone. */
static void test_give_back(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 3, 900);
    ratelimit_fail(RL_LOGIN_ACCOUNT, "gb", T0);
    ratelimit_fail(RL_LOGIN_ACCOUNT, "gb", T0 + 10);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "gb", T0 + 20), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "gb", T0 + 20), 880);
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "gb", T0 + 20);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "gb", T0 + 20), 0);
    /* the one at T0 + 10 goes, the one at T0 stays */
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "gb", T0 + 10);
    ratelimit_fail(RL_LOGIN_ACCOUNT, "gb", T0 + 30);
    ratelimit_fail(RL_LOGIN_ACCOUNT, "gb", T0 + 30);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "gb", T0 + 30), 870);
    /* no failure at that second: nothing changes */
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "gb", T0 + 31);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "gb", T0 + 31), 869);
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "never", T0);
    ratelimit_reset(RL_LOGIN_ACCOUNT, "gb");
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "gb", T0 + 30);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "gb", T0 + 31), 0);
    ratelimit_clear();
}

/* a full ring whose oldest left the window: a take replaces it, and its
 * give back leaves the others */
static void test_give_back_full_ring(void **state)
{
    (void)state;
    ratelimit_configure(RL_LOGIN_ACCOUNT, 3, 100);
    fail_n(RL_LOGIN_ACCOUNT, "ring", 1, T0);
    fail_n(RL_LOGIN_ACCOUNT, "ring", 2, T0 + 50);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "ring", T0 + 100), 0);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "ring", T0 + 100), 50);
    ratelimit_give_back(RL_LOGIN_ACCOUNT, "ring", T0 + 100);
    assert_int_equal(ratelimit_check(RL_LOGIN_ACCOUNT, "ring", T0 + 100), 0);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "ring", T0 + 100), 0);
    assert_int_equal(ratelimit_take(RL_LOGIN_ACCOUNT, "ring", T0 + 100), 50);
    ratelimit_clear();
}

#define RACE_THREADS 8
#define RACE_TAKES   200
#define RACE_LIMIT   37

static atomic_uint race_passed;
static pthread_barrier_t race_start;

static void *take_thread(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&race_start);
    for (unsigned i = 0; i < RACE_TAKES; i++) {
        if (ratelimit_take(RL_LOGIN_IP, "racer", T0) == 0)
            atomic_fetch_add(&race_passed, 1);
    }
    return NULL;
}

/* threads racing for the places of one key: exactly the limit pass */
static void test_take_race(void **state)
{
    (void)state;
    pthread_t th[RACE_THREADS];

    ratelimit_configure(RL_LOGIN_IP, RACE_LIMIT, 900);
    atomic_store(&race_passed, 0);
    assert_int_equal(pthread_barrier_init(&race_start, NULL, RACE_THREADS), 0);
    for (size_t i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, take_thread, NULL), 0);
    for (size_t i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&race_start);
    assert_int_equal(atomic_load(&race_passed), RACE_LIMIT);
    ratelimit_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_exact_limit),
        cmocka_unit_test(test_countdown),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_independent),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_cap_lru),
        cmocka_unit_test(test_cap_expired_first),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_take_exact),
        cmocka_unit_test(test_give_back),
        cmocka_unit_test(test_give_back_full_ring),
        cmocka_unit_test(test_take_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
