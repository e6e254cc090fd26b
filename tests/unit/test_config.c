/*
 * test_config.c - option parsing: defaults, environment twins, flag over
 * environment, both flag forms, --help, unknown and misplaced flags, and the
 * value checks of --listen, --trusted-proxy, --log-level and ATELIER_KEY.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/err.h"
#include "base/log.h"

static const char *const env_names[] = {
    "ATELIER_LISTEN",    "ATELIER_DATA",       "ATELIER_DATABASE",      "ATELIER_KEY_FILE",
    "ATELIER_KEY",       "ATELIER_THREADS",    "ATELIER_TRUSTED_PROXY", "ATELIER_SMTP",
    "ATELIER_MAIL_FROM", "ATELIER_PUBLIC_URL", "ATELIER_LOG_LEVEL",     "ATELIER_CLOCK_OFFSET",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    return 0;
}

static struct config cfg;

/* Parses a NULL-terminated list of flags for command. */
static int parse(const char *command, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, command);
    for (const char *a = va_arg(ap, const char *); a && argc < 32; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    return config_parse(&cfg, command, argc, argv);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("serve", NULL), 0);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.database, "");
    assert_string_equal(cfg.key_file, "./data/secret.key");
    assert_string_equal(cfg.key_hex, "");
    assert_int_equal(cfg.threads, 0);
    assert_int_equal(cfg.n_trusted_proxies, 0);
    assert_string_equal(cfg.smtp, "");
    assert_string_equal(cfg.mail_from, "atelier <no-reply@atelier.invalid>");
    assert_string_equal(cfg.public_url, "");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_true(cfg.clock_offset_ms == 0);

    assert_int_equal(parse("serve", "--data", "/srv/atelier", NULL), 0);
    assert_string_equal(cfg.key_file, "/srv/atelier/secret.key");
    assert_int_equal(parse("migrate", "--key-file", "/etc/k", NULL), 0);
    assert_string_equal(cfg.key_file, "/etc/k");
    assert_int_equal(parse("logs", NULL), 0);
    assert_string_equal(cfg.filter_ip, "");
}

static void test_env_twin(void **state)
{
    (void)state;
    setenv("ATELIER_THREADS", "4", 1);
    setenv("ATELIER_LISTEN", ":9000", 1);
    setenv("ATELIER_DATABASE", "postgresql://u:p@db/atelier", 1);
    setenv("ATELIER_LOG_LEVEL", "warn", 1);
    setenv("ATELIER_CLOCK_OFFSET", "-3600", 1);
    setenv("ATELIER_MAIL_FROM", "", 1); /* empty counts as unset */
    assert_int_equal(parse("serve", NULL), 0);
    assert_int_equal(cfg.threads, 4);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.port, 9000);
    assert_string_equal(cfg.database, "postgresql://u:p@db/atelier");
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_true(cfg.clock_offset_ms == -3600000);
    assert_string_equal(cfg.mail_from, "atelier <no-reply@atelier.invalid>");

    setenv("ATELIER_THREADS", "four", 1);
    assert_int_equal(parse("serve", NULL), ERR_INVALID);
    /* Environment of options that do not apply to the command is ignored. */
    assert_int_equal(parse("logs", NULL), 0);
    assert_int_equal(cfg.threads, 0);
    assert_int_equal(cfg.log_level, LOG_WARN); /* --log-level applies to all */
}

static void test_flag_beats_env(void **state)
{
    (void)state;
    setenv("ATELIER_THREADS", "4", 1);
    setenv("ATELIER_DATA", "/from/env", 1);
    assert_int_equal(parse("serve", "--threads", "8", NULL), 0);
    assert_int_equal(cfg.threads, 8);
    assert_string_equal(cfg.data_dir, "/from/env");
    assert_int_equal(parse("serve", "--data=/from/flag", "--threads=2", "--threads=3", NULL), 0);
    assert_string_equal(cfg.data_dir, "/from/flag");
    assert_int_equal(cfg.threads, 3); /* the last flag wins */
}

static void test_flag_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("serve", "--listen=[::1]:0", "--clock-offset", "-86400",
                           "--public-url=https://atelier.example", "--database=", NULL),
                     0);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.port, 0);
    assert_true(cfg.clock_offset_ms == -86400000LL);
    assert_string_equal(cfg.public_url, "https://atelier.example");
    assert_string_equal(cfg.database, "");
    /* The vector may start with the command name. */
    assert_int_equal(parse("serve", "serve", "--threads", "5", NULL), 0);
    assert_int_equal(cfg.threads, 5);
}

static void test_bad_flags(void **state)
{
    (void)state;
    assert_int_equal(parse("serve", "--nope", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--nope=1", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "-t", "4", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "stray", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--threads", NULL), ERR_INVALID); /* missing value */
    assert_int_equal(parse("serve", "--threads", "-1", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--threads", "", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--threads", "+2", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--data=", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--log-level", "verbose", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--public-url", "ftp://x", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--clock-offset", "1.5", NULL), ERR_INVALID);
    /* Flags of another command. */
    assert_int_equal(parse("logs", "--listen", ":80", NULL), ERR_INVALID);
    assert_int_equal(parse("migrate", "--threads", "2", NULL), ERR_INVALID);
    assert_int_equal(parse("serve", "--since", "2026-01-01", NULL), ERR_INVALID);
    /* Unknown command. */
    assert_int_equal(parse("nonsense", NULL), ERR_INVALID);
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(parse("serve", "--help", NULL), 1);
    assert_int_equal(parse("logs", "-h", NULL), 1);
    config_usage(NULL);
    config_usage("migrate");
}

static void test_listen(void **state)
{
    (void)state;
    assert_int_equal(parse("serve", "--listen", "10.1.2.3:443", NULL), 0);
    assert_string_equal(cfg.listen_host, "10.1.2.3");
    assert_int_equal(cfg.port, 443);
    assert_int_equal(parse("serve", "--listen", ":65535", NULL), 0);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.port, 65535);
    assert_int_equal(parse("serve", "--listen", "[::]:8080", NULL), 0);
    assert_string_equal(cfg.listen_host, "::");
    static const char *bad[] = {
        ":65536",       ":-1",       ":",      "127.0.0.1",      "127.0.0.1:", "127.0.0.1:x",
        "::1:8080",     "[::1]8080", "[::1]:", "[127.0.0.1]:80", "[::1:80",    "host:8080",
        "256.0.0.1:80", ":+80",      " :80",   ":80 ",           "[]:80",      "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse("serve", "--listen", bad[i], NULL) != ERR_INVALID)
            fail_msg("accepted --listen \"%s\"", bad[i]);
    }
}

static void test_trusted_proxy(void **state)
{
    (void)state;
    assert_int_equal(
        parse("serve", "--trusted-proxy", "10.0.0.1,::1", "--trusted-proxy", "192.168.1.1", NULL),
        0);
    assert_int_equal(cfg.n_trusted_proxies, 3);
    assert_string_equal(cfg.trusted_proxies[0], "10.0.0.1");
    assert_string_equal(cfg.trusted_proxies[1], "::1");
    assert_string_equal(cfg.trusted_proxies[2], "192.168.1.1");

    /* Environment: a comma list; addresses are normalised. */
    setenv("ATELIER_TRUSTED_PROXY", "10.0.0.2, 0:0:0:0:0:0:0:1 ,fd00::0001", 1);
    assert_int_equal(parse("serve", NULL), 0);
    assert_int_equal(cfg.n_trusted_proxies, 3);
    assert_string_equal(cfg.trusted_proxies[0], "10.0.0.2");
    assert_string_equal(cfg.trusted_proxies[1], "::1");
    assert_string_equal(cfg.trusted_proxies[2], "fd00::1");
    /* A flag replaces the environment's list. */
    assert_int_equal(parse("serve", "--trusted-proxy=172.16.0.1", NULL), 0);
    assert_int_equal(cfg.n_trusted_proxies, 1);
    assert_string_equal(cfg.trusted_proxies[0], "172.16.0.1");
    unsetenv("ATELIER_TRUSTED_PROXY");

    static const char *bad[] = {"proxy.example", "10.0.0",    "10.0.0.1/8",
                                "10.0.0.1,",     ",10.0.0.1", "10.0.0.1,,10.0.0.2",
                                "::g",           ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] - 1; i++) {
        if (parse("serve", "--trusted-proxy", bad[i], NULL) != ERR_INVALID)
            fail_msg("accepted --trusted-proxy \"%s\"", bad[i]);
    }
    /* At most CONFIG_MAX_PROXIES distinct addresses. */
    char list[1024] = "";
    size_t len = 0;
    for (int i = 0; i < CONFIG_MAX_PROXIES; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s10.0.0.%d", i ? "," : "", i + 1);
    assert_int_equal(parse("serve", "--trusted-proxy", list, NULL), 0);
    assert_int_equal(cfg.n_trusted_proxies, CONFIG_MAX_PROXIES);
    snprintf(list + len, sizeof list - len, ",10.0.1.1");
    assert_int_equal(parse("serve", "--trusted-proxy", list, NULL), ERR_INVALID);
}

static void test_key_env(void **state)
{
    (void)state;
    const char *key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    setenv("ATELIER_KEY", key, 1);
    assert_int_equal(parse("serve", NULL), 0);
    assert_string_equal(cfg.key_hex, key);
    assert_int_equal(parse("logs", NULL), 0); /* not an option of logs */
    assert_string_equal(cfg.key_hex, "");
    setenv("ATELIER_KEY", "0011", 1);
    assert_int_equal(parse("serve", NULL), ERR_INVALID);
    assert_string_equal(cfg.key_hex, "");
    setenv("ATELIER_KEY", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    assert_int_equal(parse("migrate", NULL), ERR_INVALID);
    /* There is no flag for the key: it would show in the process list. */
    unsetenv("ATELIER_KEY");
    assert_int_equal(parse("serve", "--key", key, NULL), ERR_INVALID);
}

static void test_logs_filters(void **state)
{
    (void)state;
    assert_int_equal(parse("logs", "--ip", "2001:db8::1", "--since", "2026-11-01", "--request-id",
                           "abc123", NULL),
                     0);
    assert_string_equal(cfg.filter_ip, "2001:db8::1");
    assert_string_equal(cfg.filter_since, "2026-11-01");
    assert_string_equal(cfg.filter_request_id, "abc123");
    assert_int_equal(parse("logs", "--since=2026-11-29T20:41:27Z", NULL), 0);
    assert_int_equal(parse("logs", "--since", "yesterday", NULL), ERR_INVALID);
    assert_int_equal(parse("logs", "--since", "2026-02-30", NULL), ERR_INVALID);
    assert_int_equal(parse("logs", "--ip", "not-an-ip", NULL), ERR_INVALID);
}

static void test_log_levels(void **state)
{
    (void)state;
    assert_int_equal(parse("migrate", "--log-level", "debug", NULL), 0);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(parse("logs", "--log-level=error", NULL), 0);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_int_equal(parse("serve", "--log-level", "INFO", NULL), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_env_twin, clear_env),
        cmocka_unit_test_setup(test_flag_beats_env, clear_env),
        cmocka_unit_test_setup(test_flag_forms, clear_env),
        cmocka_unit_test_setup(test_bad_flags, clear_env),
        cmocka_unit_test_setup(test_help, clear_env),
        cmocka_unit_test_setup(test_listen, clear_env),
        cmocka_unit_test_setup(test_trusted_proxy, clear_env),
        cmocka_unit_test_setup(test_key_env, clear_env),
        cmocka_unit_test_setup(test_logs_filters, clear_env),
        cmocka_unit_test_setup(test_log_levels, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
