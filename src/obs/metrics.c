/*
 * metrics.c - the server's Prometheus counters and their text exposition
 * (GET /metrics).
 *
 * Invariants:
 *  1. Every counter is a C11 atomic updated with relaxed fetch-add: request
 *     threads never take a lock, and rendering never stops them. A rendering
 *     is therefore not a snapshot across counters, but each value is exact
 *     and monotonic (the in-flight gauge excepted).
 *  2. Label sets are bounded and fixed at metrics_init: one series per known
 *     route (method and pattern from the route table, never the raw path or
 *     the client's method) and per status of a fixed list, anything else
 *     being counted as status="other". Requests that matched no route count
 *     under route="(unmatched)" with an empty method label.
 *  3. The histogram keeps per-bucket counts and renders them cumulatively;
 *     _count is the +Inf bucket, so the two always agree. _sum is kept in
 *     integer nanoseconds (exact) and printed in seconds.
 *  4. The route table is published once by metrics_init and withdrawn by
 *     metrics_shutdown, which may run only when no request is in progress.
 *     Before init (and after shutdown) requests still feed the histogram.
 *  5. Numbers are formatted as integers, so the output does not depend on
 *     the C locale; label values go through strbuf_prom_label (\\, \", \n
 *     escaped; ill-formed UTF-8 as U+FFFD). The page is built in one strbuf
 *     bounded by LIMIT_METRICS_BYTES: it is whole or not served.
 */
#include "obs/metrics.h"
#include "obs/accesslog.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/strbuf.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a)    (sizeof(a) / sizeof((a)[0]))
#define METRICS_PRESIZE 4096 /* the page of an idle server */

/* Statuses with a series of their own; the slot after the last is "other". */
static const unsigned metrics_statuses[] = {200, 201, 202, 204, 400, 401, 403, 404, 405,
                                            409, 413, 415, 422, 429, 431, 500, 501, 503};
#define N_STATUS     ARRAY_LEN(metrics_statuses)
#define STATUS_OTHER N_STATUS

/* Upper bounds of the finite buckets, in ns and as the le label; the slot
 * after the last is +Inf. */
static const uint64_t metrics_bucket_ns[] = {
    500000ull,     1000000ull,    2500000ull,   5000000ull,   10000000ull,
    25000000ull,   50000000ull,   100000000ull, 250000000ull, 500000000ull,
    1000000000ull, 2500000000ull, 5000000000ull};
static const char *const metrics_bucket_le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                                "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                                "1",      "2.5",   "5"};
#define N_BUCKETS ARRAY_LEN(metrics_bucket_ns)

static const char *const metrics_event_names[EV__COUNT] = {
    [EV_SWEEP_RUNS] = "sweep_runs",
    [EV_SWEEP_LOGS_DELETED] = "sweep_logs_deleted",
    [EV_SWEEP_ACCOUNTS_ERASED] = "sweep_accounts_erased",
    [EV_SWEEP_UNCONFIRMED_ERASED] = "sweep_unconfirmed_erased",
    [EV_SWEEP_NOTICES_MAILED] = "sweep_notices_mailed",
    [EV_SWEEP_SESSIONS_DELETED] = "sweep_sessions_deleted",
    [EV_MAIL_SENT] = "mail_sent",
    [EV_MAIL_FAILED] = "mail_failed",
    [EV_PASSWORD_VERIFICATIONS] = "password_verifications",
    [EV_MAIL_CAPPED] = "mail_capped",
};

struct route_slot {
    char *method;
    char *pattern;
    _Atomic uint64_t count[N_STATUS + 1];
};

struct route_table {
    size_t n;                 /* known routes + 1; slot[n - 1] is "(unmatched)" */
    struct route_slot slot[]; /* n slots */
};

static _Atomic(struct route_table *) metrics_routes;
static _Atomic uint64_t metrics_hist[N_BUCKETS + 1];
static _Atomic uint64_t metrics_hist_sum_ns;
static _Atomic int64_t metrics_in_flight;
static _Atomic uint64_t metrics_events[EV__COUNT];
static _Atomic int64_t metrics_scrubs;

/* ---- updates ---- */

static size_t metrics_status_index(unsigned status)
{
    for (size_t i = 0; i < N_STATUS; i++) {
        if (metrics_statuses[i] == status)
            return i;
    }
    return STATUS_OTHER;
}

static size_t metrics_bucket_index(uint64_t ns)
{
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (ns <= metrics_bucket_ns[i])
            return i;
    }
    return N_BUCKETS;
}

void metrics_request(int route_idx, unsigned status, uint64_t duration_ns)
{
    struct route_table *t = atomic_load_explicit(&metrics_routes, memory_order_acquire);

    if (t) {
        size_t unmatched = t->n - 1;
        size_t i = route_idx < 0 || (size_t)route_idx >= unmatched ? unmatched : (size_t)route_idx;
        atomic_fetch_add_explicit(&t->slot[i].count[metrics_status_index(status)], 1,
                                  memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&metrics_hist[metrics_bucket_index(duration_ns)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics_hist_sum_ns, duration_ns, memory_order_relaxed);
}

void metrics_inflight(int delta)
{
    atomic_fetch_add_explicit(&metrics_in_flight, (int64_t)delta, memory_order_relaxed);
}

static uint64_t (*_Atomic metrics_db_statements)(void);

void metrics_set_db_statements(uint64_t (*fn)(void))
{
    atomic_store(&metrics_db_statements, fn);
}

void metrics_scrubs_pending(int n)
{
    atomic_store_explicit(&metrics_scrubs, (int64_t)n, memory_order_relaxed);
}

void metrics_event(enum metric_event e, uint64_t n)
{
    if ((int)e < 0 || (int)e >= EV__COUNT)
        return;
    atomic_fetch_add_explicit(&metrics_events[e], n, memory_order_relaxed);
}

/* ---- the route table ---- */

static void metrics_table_free(struct route_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->slot[i].method);
        free(t->slot[i].pattern);
    }
    free(t);
}

static struct route_table *metrics_table_new(size_t n_routes, const char *const *methods,
                                             const char *const *patterns)
{
    struct route_table *t = NULL;
    size_t n, bytes;

    if (!size_add(n_routes, 1, &n) || !size_mul(n, sizeof t->slot[0], &bytes) ||
        !size_add(bytes, sizeof *t, &bytes))
        return NULL;
    t = xcalloc(1, bytes);
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        struct route_slot *s = &t->slot[i];
        bool known = i < n_routes;

        s->method = xstrdup(known && methods && methods[i] ? methods[i] : "");
        s->pattern = xstrdup(known && patterns && patterns[i] ? patterns[i] : "(unmatched)");
        for (size_t k = 0; k < ARRAY_LEN(s->count); k++)
            atomic_init(&s->count[k], 0);
    }
    return t;
}

void metrics_init(size_t n_routes, const char *const *methods, const char *const *patterns)
{
    struct route_table *t = metrics_table_new(n_routes, methods, patterns);

    if (!t) {
        log_error("metrics", "route table of %zu routes is too large", n_routes);
        return;
    }
    metrics_table_free(atomic_exchange_explicit(&metrics_routes, t, memory_order_acq_rel));
}

void metrics_shutdown(void)
{
    metrics_table_free(atomic_exchange_explicit(&metrics_routes, NULL, memory_order_acq_rel));
}

/* ---- rendering ---- */

static void out_header(struct strbuf *o, const char *name, const char *type, const char *help)
{
    strbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(struct strbuf *o)
{
    struct route_table *t = atomic_load_explicit(&metrics_routes, memory_order_acquire);

    out_header(o, "atelier_http_requests_total", "counter",
               "Finished HTTP requests by route pattern and status (series at zero omitted).");
    for (size_t i = 0; t && i < t->n; i++) {
        for (size_t k = 0; k <= N_STATUS; k++) {
            uint64_t v = atomic_load_explicit(&t->slot[i].count[k], memory_order_relaxed);
            if (v == 0)
                continue;
            strbuf_puts(o, "atelier_http_requests_total{method=");
            strbuf_prom_label(o, t->slot[i].method);
            strbuf_puts(o, ",route=");
            strbuf_prom_label(o, t->slot[i].pattern);
            if (k == STATUS_OTHER)
                strbuf_printf(o, ",status=\"other\"} %" PRIu64 "\n", v);
            else
                strbuf_printf(o, ",status=\"%u\"} %" PRIu64 "\n", metrics_statuses[k], v);
        }
    }
}

static void render_histogram(struct strbuf *o)
{
    const char *name = "atelier_http_request_duration_seconds";
    uint64_t cum = 0;
    uint64_t sum = atomic_load_explicit(&metrics_hist_sum_ns, memory_order_relaxed);

    out_header(o, name, "histogram", "Time from request start to completion, all routes.");
    for (size_t i = 0; i <= N_BUCKETS; i++) {
        cum += atomic_load_explicit(&metrics_hist[i], memory_order_relaxed);
        strbuf_printf(o, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name,
                      i < N_BUCKETS ? metrics_bucket_le[i] : "+Inf", cum);
    }
    strbuf_printf(o, "%s_sum %" PRIu64 ".%09" PRIu64 "\n", name, sum / 1000000000u,
                  sum % 1000000000u);
    strbuf_printf(o, "%s_count %" PRIu64 "\n", name, cum);
}

static void render_gauges(struct strbuf *o)
{
    out_header(o, "atelier_http_requests_in_flight", "gauge", "HTTP requests being processed now.");
    strbuf_printf(o, "atelier_http_requests_in_flight %" PRId64 "\n",
                  atomic_load_explicit(&metrics_in_flight, memory_order_relaxed));
    out_header(o, "atelier_accesslog_dropped_total", "counter",
               "Access log lines dropped because the writer queue was full.");
    strbuf_printf(o, "atelier_accesslog_dropped_total %" PRIu64 "\n", accesslog_dropped());
    out_header(o, "atelier_accesslog_write_errors_total", "counter",
               "Access log lines lost because the file could not be written (disk full...).");
    strbuf_printf(o, "atelier_accesslog_write_errors_total %" PRIu64 "\n",
                  accesslog_write_errors());
    out_header(o, "atelier_erasure_scrubs_pending", "gauge",
               "Erasures whose pages may still be in the SQLite WAL (a reader holds it).");
    strbuf_printf(o, "atelier_erasure_scrubs_pending %" PRId64 "\n",
                  atomic_load_explicit(&metrics_scrubs, memory_order_relaxed));
    uint64_t (*stmts)(void) = atomic_load(&metrics_db_statements);
    if (stmts) {
        out_header(o, "atelier_db_statements_total", "counter",
                   "Storage statements run (on PostgreSQL each one is a round trip).");
        strbuf_printf(o, "atelier_db_statements_total %" PRIu64 "\n", stmts());
    }
}

static void render_events(struct strbuf *o)
{
    out_header(o, "atelier_events_total", "counter",
               "Sweeper runs and deletions, and mails sent or failed.");
    for (size_t i = 0; i < EV__COUNT; i++) {
        strbuf_puts(o, "atelier_events_total{event=");
        strbuf_prom_label(o, metrics_event_names[i]);
        strbuf_printf(o, "} %" PRIu64 "\n",
                      atomic_load_explicit(&metrics_events[i], memory_order_relaxed));
    }
}

char *metrics_render(size_t *len)
{
    struct strbuf o = STRBUF_INIT(LIMIT_METRICS_BYTES);
    char *text = NULL;
    size_t n = 0;

    strbuf_reserve(&o, METRICS_PRESIZE); /* a failure is sticky: seen at the end */
    render_requests(&o);
    render_histogram(&o);
    render_gauges(&o);
    render_events(&o);
    if (strbuf_take(&o, &text, &n) != ERR_OK)
        n = 0; /* NULL: the caller answers ERR_NOMEM */
    if (len)
        *len = n;
    return text;
}
