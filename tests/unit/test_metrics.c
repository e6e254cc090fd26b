/*
 * test_metrics.c - unit tests of the Prometheus exposition: per-route and
 * per-status series (zero series omitted, unknown statuses as "other",
 * unmatched routes), the cumulative latency histogram with exact _sum and
 * _count, the in-flight gauge, the access log drop counter, every named event
 * counter, label escaping, and lock-free counting from several threads.
 * The tests run in order and share the process's counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "obs/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Value of the sample line that starts with prefix (a whole series name). */
static uint64_t sample_value(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    uint64_t v = 0;

    assert_non_null(p);
    assert_int_equal(sscanf(p + strlen(prefix), " %" SCNu64, &v), 1);
    return v;
}

static void test_render_series(void **state)
{
    char *text;
    (void)state;

    metrics_init(3, test_methods, test_patterns);
    metrics_request(0, 200, 300000);      /* 0.0003 s */
    metrics_request(0, 200, 1000000);     /* exactly 0.001 s: le="0.001" */
    metrics_request(1, 401, 3000000000u); /* 3 s */
    metrics_request(-1, 404, 10000000000u);
    metrics_request(2, 499, 1);       /* not in the status list */
    metrics_request(7, 200, 2000000); /* out of range: unmatched */
    metrics_inflight(1);
    metrics_inflight(1);
    metrics_inflight(1);
    metrics_inflight(-1);
    metrics_event(EV_SWEEP_RUNS, 1);
    metrics_event(EV_MAIL_SENT, 5);
    metrics_event(EV_SWEEP_LOGS_DELETED, 0);
    metrics_event((enum metric_event)99, 7); /* ignored */

    text = render();
    assert_line(text, "# HELP atelier_http_requests_total Finished HTTP requests by route "
                      "pattern and status (series at zero omitted).");
    assert_line(text, "# TYPE atelier_http_requests_total counter");
    assert_line(text, "atelier_http_requests_total{method=\"GET\",route=\"/v1/models/{id}\","
                      "status=\"200\"} 2");
    assert_line(
        text, "atelier_http_requests_total{method=\"POST\",route=\"/v1/login\",status=\"401\"} 1");
    assert_line(text,
                "atelier_http_requests_total{method=\"\",route=\"(unmatched)\",status=\"404\"} 1");
    assert_line(text,
                "atelier_http_requests_total{method=\"\",route=\"(unmatched)\",status=\"200\"} 1");
    /* label escaping: \" \\ and \n */
    assert_line(text, "atelier_http_requests_total{method=\"GET\",route=\"/odd\\\"pat\\\\h\\nx\","
                      "status=\"other\"} 1");
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 5);
    assert_null(strstr(text, "status=\"500\""));

    assert_line(text, "# TYPE atelier_http_request_duration_seconds histogram");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.0005\"} 2");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.001\"} 3");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.0025\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.005\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.01\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.025\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.05\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.1\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.25\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"0.5\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"1\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"2.5\"} 4");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"5\"} 5");
    assert_line(text, "atelier_http_request_duration_seconds_bucket{le=\"+Inf\"} 6");
    assert_int_equal(count_prefix(text, "atelier_http_request_duration_seconds_bucket{"), 14);
    assert_line(text, "atelier_http_request_duration_seconds_sum 13.003300001");
    assert_line(text, "atelier_http_request_duration_seconds_count 6");

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

    /* One HELP and one TYPE per metric family. */
    assert_int_equal(count_prefix(text, "# HELP "), 7);
    assert_int_equal(count_prefix(text, "# TYPE "), 7);
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
        metrics_request(1, 202, 1000);
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
    metrics_request(0, 200, 1000); /* no route table: only the histogram counts */
    text = render();
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 0);
    assert_line(text, "# TYPE atelier_http_requests_total counter");
    assert_int_equal(count_prefix(text, "atelier_http_request_duration_seconds_bucket{"), 14);
    free(text);

    metrics_init(0, NULL, NULL); /* no known routes: everything is unmatched */
    metrics_request(0, 201, 1000);
    text = render();
    assert_line(text,
                "atelier_http_requests_total{method=\"\",route=\"(unmatched)\",status=\"201\"} 1");
    assert_int_equal(count_prefix(text, "atelier_http_requests_total{"), 1);
    free(text);
    metrics_shutdown();
    metrics_shutdown(); /* harmless twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_series),
        cmocka_unit_test(test_concurrent_counting),
        cmocka_unit_test(test_shutdown_and_reinit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
