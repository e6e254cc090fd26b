/*
 * test_metrics.c - unit tests of the Prometheus exposition: per-route and
 * per-status series (zero series omitted, unknown statuses as "other",
 * unmatched routes), the cumulative latency histogram with exact _sum and
 * _count, the in-flight gauge, the access log drop counter, every named event
 * counter, label escaping, and lock-free counting from several threads;
 * 405s under their route and unmatched requests under the client's method
 * (from a fixed list); build info; the sweep's last run; the storage gauges
 * (read through the hook, at most once per LIMIT_METRICS_REFRESH_MS,
 * omitted when the reading fails); the process metrics.
 * The tests run in order and share the process's counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "obs/metrics.h"
#include "base/clock.h"
#include "base/version.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const test_methods[] = {"GET", "POST", "GET"};
static const char *const test_patterns[] = {"/v1/models/{id}", "/v1/login", "/odd\"pat\\h\nx"};

static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);

    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_true(len > 0 && text[len - 1] == '\n');
    return text;
}

static void assert_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);

    /* line must appear as a whole line */
    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
        p++;
    }
    fail_msg("missing line: %s", line);
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t n = 0;
    size_t plen = strlen(prefix);

    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (strncmp(p, prefix, plen) == 0)
            n++;
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* Value (its integer part) of the sample line that starts with prefix (a
 * whole series name) and a blank. */
static uint64_t sample_value(const char *text, const char *prefix)
{
    const char *p = text;
    size_t n = strlen(prefix);
    uint64_t v = 0;

    while ((p = strstr(p, prefix)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            break;
        p++;
    }
    assert_non_null(p);
    assert_int_equal(sscanf(p + n, " %" SCNu64, &v), 1);
    return v;
}

/* Every "# HELP name" is followed by "# TYPE name", and no name has two. */
static void assert_families_once(const char *text)
{
    char seen[64][96];
    size_t n = 0;

    for (const char *p = text; (p = strstr(p, "# HELP ")) != NULL; p++) {
        char name[96], type_line[120];
        const char *sp = strchr(p + 7, ' ');

        assert_non_null(sp);
        assert_true((size_t)(sp - (p + 7)) < sizeof name);
        memcpy(name, p + 7, (size_t)(sp - (p + 7)));
        name[sp - (p + 7)] = 0;
        snprintf(type_line, sizeof type_line, "\n# TYPE %s ", name);
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_int_equal(strncmp(nl, type_line, strlen(type_line)), 0);
        for (size_t i = 0; i < n; i++)
            assert_string_not_equal(seen[i], name);
        assert_true(n < 64);
        memcpy(seen[n++], name, sizeof name);
    }
    assert_int_equal(count_prefix(text, "# HELP "), count_prefix(text, "# TYPE "));
}

static void test_render_series(void **state)
{
    char *text;
    (void)state;

    metrics_init(3, test_methods, test_patterns);
    metrics_request(0, -1, "GET", 200, 300000);      /* 0.0003 s */
    metrics_request(0, -1, "GET", 200, 1000000);     /* exactly 0.001 s: le="0.001" */
    metrics_request(1, -1, "GET", 401, 3000000000u); /* 3 s */
    metrics_request(-1, -1, "PUT", 404, 10000000000u);
    metrics_request(2, -1, "GET", 499, 1);        /* not in the status list */
    metrics_request(7, -1, "BREW", 200, 2000000); /* out of range: unmatched; method "other" */
    metrics_request(-1, 0, "DELETE", 405, 0);     /* a 405: its route, the client's method */
    metrics_request(-1, 0, "DELETE", 405, 0);     /* (the histogram counts these too) */
    metrics_request(-1, 1, "get", 405, 0);        /* a method outside the list: "other" */
    metrics_request(-1, 9, "PATCH", 405, 0);      /* out of range: unmatched */
    metrics_request(-1, 0, "DELETE", 499, 0);     /* not a 405: unmatched */
    metrics_inflight(1);
    metrics_inflight(1);
    metrics_inflight(1);
    metrics_inflight(-1);
    metrics_event(EV_SWEEP_RUNS, 1);
    metrics_event(EV_MAIL_SENT, 5);
    metrics_event(EV_SWEEP_LOGS_DELETED, 0);
    metrics_event((enum metric_event)99, 7); /* ignored */

    text = render();
    assert_line(text, "# HELP atelier_http_requests_total Finished HTTP requests by method, "
                      "route pattern and status (series at zero omitted).");
    assert_line(text, "# TYPE atelier_http_requests_total counter");
    assert_line(text, "atelier_http_requests_total{method=\"GET\",route=\"/v1/models/{id}\","
                      "status=\"200\"} 2");
    assert_line(
        text, "atelier_http_requests_total{method=\"POST\",route=\"/v1/login\",status=\"401\"} 1");
    assert_line(
        text, "atelier_http_requests_total{method=\"PUT\",route=\"(unmatched)\",status=\"404\"} 1");
    assert_line(
        text,
        "atelier_http_requests_total{method=\"other\",route=\"(unmatched)\",status=\"200\"} 1");
    assert_line(text, "atelier_http_requests_total{method=\"DELETE\",route=\"/v1/models/{id}\","
                      "status=\"405\"} 2");
    assert_line(
        text, "atelier_http_requests_total{method=\"other\",route=\"/v1/login\",status=\"405\"} 1");
    assert_line(
        text,
        "atelier_http_requests_total{method=\"PATCH\",route=\"(unmatched)\",status=\"405\"} 1");
    assert_line(text, "atelier_http_requests_total{method=\"DELETE\",route=\"(unmatched)\","
                      "status=\"other\"} 1");
    /* label escaping: \" \\ and \n */
    assert_line(text, "atelier_http_requests_total{method=\"GET\",route=\"/odd\\\"pat\\\\h\\nx\","
                      "status=\"other\"} 1");
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 9);
    assert_null(strstr(text, "status=\"500\""));

    assert_line(text, "# TYPE atelier_http_request_duration_seconds histogram");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.0005\"} 7");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.001\"} 8");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.0025\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.005\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.01\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.025\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.05\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.1\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.25\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.5\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"1\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"2.5\"} 9");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"5\"} 10");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"+Inf\"} 11");
    assert_int_equal(count_prefix(text, "atelier_http_request_duration_seconds_bucket{"), 14);
    assert_line(text, "atelier_http_request_duration_seconds_sum 13.003300001");
    assert_line(text, "atelier_http_request_duration_seconds_count 11");

    assert_line(text, "# TYPE atelier_http_requests_in_flight gauge");
    assert_line(text, "atelier_http_requests_in_flight 2");
    assert_line(text, "# TYPE atelier_accesslog_dropped_total counter");
    assert_line(text, "atelier_accesslog_dropped_total 0");

    assert_line(text, "# TYPE atelier_events_total counter");
    assert_line(text, "atelier_events_total{event=\"sweep_runs\"} 1");
    assert_line(text, "atelier_events_total{event=\"sweep_logs_deleted\"} 0");
    assert_line(text, "atelier_events_total{event=\"sweep_accounts_erased\"} 0");
    assert_line(text, "atelier_events_total{event=\"sweep_unconfirmed_erased\"} 0");
    assert_line(text, "atelier_events_total{event=\"sweep_notices_mailed\"} 0");
    assert_line(text, "atelier_events_total{event=\"sweep_sessions_deleted\"} 0");
    assert_line(text, "atelier_events_total{event=\"mail_sent\"} 5");
    assert_line(text, "atelier_events_total{event=\"mail_failed\"} 0");
    assert_line(text, "atelier_events_total{event=\"password_verifications\"} 0");
    assert_line(text, "atelier_events_total{event=\"mail_capped\"} 0");
    assert_line(text, "atelier_events_total{event=\"sweep_database_runs\"} 0");
    assert_int_equal(count_prefix(text, "atelier_events_total{"), 11);

    assert_line(text, "# TYPE atelier_accesslog_write_errors_total counter");

    assert_line(text, "# TYPE atelier_erasure_scrubs_pending gauge");
    assert_line(text, "atelier_erasure_scrubs_pending 0");

    /* One HELP and one TYPE per metric family, each family once. */
    assert_families_once(text);
    assert_true(count_prefix(text, "# HELP ") >= 13);
    free(text);
    metrics_inflight(-2);
}

struct worker_arg {
    int n;
};

static void *worker(void *p)
{
    const struct worker_arg *a = p;

    for (int i = 0; i < a->n; i++) {
        metrics_inflight(1);
        metrics_request(1, -1, "GET", 202, 1000);
        metrics_event(EV_MAIL_FAILED, 1);
        metrics_inflight(-1);
    }
    return NULL;
}

static void test_concurrent_counting(void **state)
{
    enum { THREADS = 4, PER_THREAD = 25000 };
    struct worker_arg arg = {PER_THREAD};
    pthread_t t[THREADS];
    const char *count_name = "atelier_http_request_duration_seconds_count";
    uint64_t before, after;
    char *text;
    (void)state;

    text = render();
    before = sample_value(text, count_name);
    free(text);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &arg), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);

    text = render();
    after = sample_value(text, count_name);
    assert_int_equal(after - before, THREADS * PER_THREAD);
    assert_int_equal(sample_value(text, "atelier_http_requests_total{method=\"POST\",route=\"/v1/"
                                        "login\",status=\"202\"}"),
                     THREADS * PER_THREAD);
    assert_int_equal(sample_value(text, "atelier_events_total{event=\"mail_failed\"}"),
                     THREADS * PER_THREAD);
    assert_line(text, "atelier_http_requests_in_flight 0");
    free(text);
}

static void test_shutdown_and_reinit(void **state)
{
    char *text;
    (void)state;

    metrics_shutdown();
    metrics_request(0, -1, "GET", 200, 1000); /* no route table: only the histogram counts */
    text = render();
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 0);
    assert_line(text, "# TYPE atelier_http_requests_total counter");
    assert_int_equal(count_prefix(text, "atelier_http_request_duration_seconds_bucket{"), 14);
    free(text);

    metrics_init(0, NULL, NULL); /* no known routes: everything is unmatched */
    metrics_request(0, -1, "GET", 201, 1000);
    text = render();
    assert_line(
        text, "atelier_http_requests_total{method=\"GET\",route=\"(unmatched)\",status=\"201\"} 1");
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 1);
    free(text);
    metrics_shutdown();
    metrics_shutdown(); /* harmless twice */
}

static void test_build_info(void **state)
{
    char line[256], *text;
    (void)state;

    text = render();
    snprintf(line, sizeof line, "atelier_build_info{version=\"%s\",commit=\"%s\"} 1",
             version_project(), version_commit());
    assert_line(text, line);
    assert_line(text, "# TYPE atelier_build_info gauge");
    assert_true(strlen(version_commit()) > 0);
    free(text);
}

static void test_sweep_state(void **state)
{
    char *text;
    (void)state;

    /* before any sweep: the timestamps say "never", the rest is absent */
    text = render();
    assert_line(text, "atelier_sweep_last_run_timestamp_seconds 0.000");
    assert_line(text, "atelier_sweep_last_success_timestamp_seconds 0.000");
    assert_line(text, "atelier_sweep_last_leader_timestamp_seconds 0.000");
    assert_line(text, "# TYPE atelier_sweep_last_duration_seconds gauge");
    assert_int_equal(count_prefix(text, "atelier_sweep_last_duration_seconds "), 0);
    assert_int_equal(count_prefix(text, "atelier_sweep_last_run_success "), 0);
    assert_int_equal(count_prefix(text, "atelier_sweep_last_run_leader "), 0);
    free(text);

    metrics_sweep(1700000000123, 1500000000u, 1, 1);
    text = render();
    assert_line(text, "atelier_sweep_last_run_timestamp_seconds 1700000000.123");
    assert_line(text, "atelier_sweep_last_success_timestamp_seconds 1700000000.123");
    assert_line(text, "atelier_sweep_last_leader_timestamp_seconds 1700000000.123");
    assert_line(text, "atelier_sweep_last_duration_seconds 1.500000");
    assert_line(text, "atelier_sweep_last_run_success 1");
    assert_line(text, "atelier_sweep_last_run_leader 1");
    free(text);

    /* a failed run moves the run's time, not the success's; another node's
     * lock makes this node a follower */
    metrics_sweep(1700003600007, 2000u, 0, 1);
    text = render();
    assert_line(text, "atelier_sweep_last_run_timestamp_seconds 1700003600.007");
    assert_line(text, "atelier_sweep_last_success_timestamp_seconds 1700000000.123");
    assert_line(text, "atelier_sweep_last_duration_seconds 0.000002");
    assert_line(text, "atelier_sweep_last_run_success 0");
    assert_line(text, "atelier_sweep_last_run_leader 0");
    free(text);
    metrics_sweep(1700007200000, 1000u, 1, 0);
    text = render();
    assert_line(text, "atelier_sweep_last_run_success 1");
    assert_line(text, "atelier_sweep_last_run_leader 0");
    assert_line(text, "atelier_sweep_last_success_timestamp_seconds 1700007200.000");
    assert_line(text, "atelier_sweep_last_leader_timestamp_seconds 1700000000.123");
    free(text);
}

static int storage_calls;
static int storage_fail;

static int fake_storage(struct metrics_storage *out)
{
    storage_calls++;
    if (storage_fail)
        return -1;
    out->mail_queued = 3;
    out->mail_oldest_ms = clock_now_ms() - 61500;
    out->release_ms = storage_calls > 1 ? -1 : clock_now_ms() - 90000;
    return 0;
}

static void test_storage_gauges(void **state)
{
    char *text;
    (void)state;

    /* the ages are read against a fixed clock: with the real one, a slow
     * (sanitizer) build could cross a second between the hook and the render
     * and read 91 (it did, once, in CI) */
    clock_set_ms(1700000000000);

    /* without a hook (not a server), no storage gauge at all */
    text = render();
    assert_null(strstr(text, "atelier_mail_queue"));
    assert_null(strstr(text, "atelier_opendata_release_age_seconds"));
    free(text);

    metrics_set_storage(fake_storage);
    text = render();
    assert_int_equal(storage_calls, 1);
    assert_line(text, "atelier_mail_queue_messages 3");
    assert_true(sample_value(text, "atelier_mail_queue_oldest_age_seconds") == 61);
    assert_true(sample_value(text, "atelier_opendata_release_age_seconds") == 90);
    assert_line(text, "atelier_metrics_storage_errors_total 0");
    free(text);

    /* a second scrape within LIMIT_METRICS_REFRESH_MS reads nothing */
    text = render();
    assert_int_equal(storage_calls, 1);
    assert_line(text, "atelier_mail_queue_messages 3");
    free(text);

    /* a new hook reads at once; no release: its age is absent */
    metrics_set_storage(fake_storage);
    text = render();
    assert_int_equal(storage_calls, 2);
    assert_line(text, "# TYPE atelier_opendata_release_age_seconds gauge");
    assert_int_equal(count_prefix(text, "atelier_opendata_release_age_seconds "), 0);
    free(text);

    /* a failed reading omits the gauges and counts */
    storage_fail = 1;
    metrics_set_storage(fake_storage);
    text = render();
    assert_int_equal(storage_calls, 3);
    assert_int_equal(count_prefix(text, "atelier_mail_queue_messages "), 0);
    assert_int_equal(count_prefix(text, "atelier_mail_queue_oldest_age_seconds "), 0);
    assert_line(text, "atelier_metrics_storage_errors_total 1");
    assert_families_once(text);
    free(text);
    metrics_set_storage(NULL);
    clock_reset();
}

static void test_process(void **state)
{
    char *text;
    uint64_t start;
    int fd;
    (void)state;

    text = render();
    assert_line(text, "# TYPE process_cpu_seconds_total counter");
    assert_true(sample_value(text, "process_resident_memory_bytes") > 1024 * 1024);
    assert_true(sample_value(text, "process_virtual_memory_bytes") >
                sample_value(text, "process_resident_memory_bytes"));
    assert_true(sample_value(text, "process_max_fds") >= 64);
    start = sample_value(text, "process_start_time_seconds");
    assert_true(start <= (uint64_t)(clock_now_ms() / 1000) &&
                start + 600 >= (uint64_t)(clock_now_ms() / 1000));
    uint64_t fds = sample_value(text, "process_open_fds");
    free(text);
    fd = dup(0);
    assert_true(fd >= 0);
    text = render();
    assert_int_equal(sample_value(text, "process_open_fds"), fds + 1);
    free(text);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_series),
        cmocka_unit_test(test_concurrent_counting),
        cmocka_unit_test(test_shutdown_and_reinit),
        cmocka_unit_test(test_build_info),
        cmocka_unit_test(test_sweep_state),
        cmocka_unit_test(test_storage_gauges),
        cmocka_unit_test(test_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
