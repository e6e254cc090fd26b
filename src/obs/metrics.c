/*
 * metrics.c - the server's Prometheus metrics and their text exposition
 * (GET /metrics on the metrics listener; every metric is described in
 * docs/OPERATIONS.md).
 *
 * Invariants:
 *  1. Every request counter is a C11 atomic updated with relaxed fetch-add:
 *     request threads never take a lock, and rendering never stops them. A
 *     rendering is therefore not a snapshot across counters, but each value
 *     is exact and monotonic (the in-flight gauge excepted). The sweep's
 *     state and the storage gauges, written by other threads than requests,
 *     sit under two mutexes (metrics_lock, metrics_store_lock), never taken
 *     on the request path.
 *  2. Label sets are bounded and fixed at metrics_init: one series per known
 *     route (method and pattern from the route table, never the raw path)
 *     and per status of a fixed list, anything else being counted as
 *     status="other". The client's method is a label only through the fixed
 *     list metrics_methods (anything else is "other"): a 405 counts under
 *     the pattern of the first route matching its path and the client's
 *     method; a request that matched no route under route="(unmatched)" and
 *     the client's method.
 *  3. The histogram keeps per-bucket counts and renders them cumulatively;
 *     _count is the +Inf bucket, so the two always agree. _sum is kept in
 *     integer nanoseconds (exact) and printed in seconds.
 *  4. The route table is published once by metrics_init and withdrawn by
 *     metrics_shutdown, which may run only when no request is in progress.
 *     Before init (and after shutdown) requests still feed the histogram.
 *  5. Numbers are formatted as integers or fixed-point from integers, so the
 *     output does not depend on the C locale; label values go through
 *     strbuf_prom_label (\\, \", \n escaped; ill-formed UTF-8 as U+FFFD).
 *     The page is built in one strbuf bounded by LIMIT_METRICS_BYTES: it is
 *     whole or not served.
 *  6. Storage is read only at rendering (the metrics listener's thread, never
 *     a request's), through the hook the program sets (metrics_set_storage),
 *     at most once per LIMIT_METRICS_REFRESH_MS whatever the scrape rate; in
 *     between the last reading is served, and ages are computed from the
 *     clock at each rendering. A failed reading omits the storage gauges
 *     (and counts an error) rather than serve stale values as current.
 *  7. Process metrics come from the kernel at each rendering (getrusage,
 *     /proc/self/statm, /proc/self/fd, getrlimit); those that cannot be read
 *     (no /proc) are omitted, never printed as 0.
 */
#include "obs/metrics.h"
#include "obs/accesslog.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "base/version.h"
#include "base/clock.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
    [EV_SWEEP_DATABASE_RUNS] = "sweep_database_runs",
};

/* Methods the client may send that have a label value of their own; the
 * slot after the last is "other". */
static const char *const metrics_methods[] = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                              "DELETE", "OPTIONS", "TRACE", "CONNECT"};
#define N_METHODS    ARRAY_LEN(metrics_methods)
#define METHOD_OTHER N_METHODS

struct route_slot {
    char *method;
    char *pattern;
    _Atomic uint64_t count[N_STATUS + 1];
    _Atomic uint64_t refused[N_METHODS + 1]; /* 405s whose path matched this route first */
};

struct route_table {
    size_t n;                                                /* known routes */
    _Atomic uint64_t unmatched[N_METHODS + 1][N_STATUS + 1]; /* by the client's method */
    struct route_slot slot[];                                /* n slots */
};

static _Atomic(struct route_table *) metrics_routes;
static _Atomic uint64_t metrics_hist[N_BUCKETS + 1];
static _Atomic uint64_t metrics_hist_sum_ns;
static _Atomic int64_t metrics_in_flight;
static _Atomic uint64_t metrics_events[EV__COUNT];
static _Atomic int64_t metrics_scrubs;

/* What only the sweeper and the renderer touch (invariant 1), and the
 * storage gauges, under a lock of their own: a slow reading never holds up
 * the sweeper. */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t metrics_store_lock = PTHREAD_MUTEX_INITIALIZER;
struct sweep_state {
    int runs;           /* 0: no sweep ran in this process */
    int64_t last_ms;    /* when the last run ended */
    int64_t success_ms; /* when the last successful run ended; 0: none */
    int64_t leader_ms;  /* ... that ran the shared-database steps; 0: none */
    uint64_t duration_ns;
    int ok, leader;
};
static struct sweep_state metrics_sweep_state;
static struct {
    metrics_storage_fn fn;
    int have;         /* st holds the last successful reading */
    uint64_t read_ns; /* clock_mono_ns of the last reading; 0: never */
    uint64_t errors;
    struct metrics_storage st;
} metrics_store;

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

static size_t metrics_method_index(const char *method)
{
    for (size_t i = 0; method && i < N_METHODS; i++) {
        if (strcmp(metrics_methods[i], method) == 0)
            return i;
    }
    return METHOD_OTHER;
}

void metrics_request(int route_idx, int path_idx, const char *method, unsigned status,
                     uint64_t duration_ns)
{
    struct route_table *t = atomic_load_explicit(&metrics_routes, memory_order_acquire);

    if (!t) {
        /* no route table: the histogram alone */
    } else if (route_idx >= 0 && (size_t)route_idx < t->n) {
        atomic_fetch_add_explicit(&t->slot[route_idx].count[metrics_status_index(status)], 1,
                                  memory_order_relaxed);
    } else if (status == 405 && path_idx >= 0 && (size_t)path_idx < t->n) {
        atomic_fetch_add_explicit(&t->slot[path_idx].refused[metrics_method_index(method)], 1,
                                  memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(
            &t->unmatched[metrics_method_index(method)][metrics_status_index(status)], 1,
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

static void (*_Atomic metrics_db_batches)(uint64_t *, uint64_t *);

void metrics_set_db_batches(void (*fn)(uint64_t *batches, uint64_t *statements))
{
    atomic_store(&metrics_db_batches, fn);
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

void metrics_sweep(int64_t end_ms, uint64_t duration_ns, int ok, int leader)
{
    pthread_mutex_lock(&metrics_lock);
    metrics_sweep_state.runs = 1;
    metrics_sweep_state.last_ms = end_ms;
    if (ok)
        metrics_sweep_state.success_ms = end_ms;
    if (ok && leader)
        metrics_sweep_state.leader_ms = end_ms;
    metrics_sweep_state.duration_ns = duration_ns;
    metrics_sweep_state.ok = ok != 0;
    metrics_sweep_state.leader = ok && leader;
    pthread_mutex_unlock(&metrics_lock);
}

void metrics_set_storage(metrics_storage_fn fn)
{
    pthread_mutex_lock(&metrics_store_lock);
    metrics_store.fn = fn;
    metrics_store.have = 0;
    metrics_store.read_ns = 0;
    pthread_mutex_unlock(&metrics_store_lock);
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
    size_t bytes;

    if (!size_mul(n_routes, sizeof t->slot[0], &bytes) || !size_add(bytes, sizeof *t, &bytes))
        return NULL;
    t = xcalloc(1, bytes);
    t->n = n_routes;
    for (size_t m = 0; m <= N_METHODS; m++) {
        for (size_t k = 0; k <= N_STATUS; k++)
            atomic_init(&t->unmatched[m][k], 0);
    }
    for (size_t i = 0; i < n_routes; i++) {
        struct route_slot *s = &t->slot[i];

        s->method = xstrdup(methods && methods[i] ? methods[i] : "");
        s->pattern = xstrdup(patterns && patterns[i] ? patterns[i] : "");
        for (size_t k = 0; k < ARRAY_LEN(s->count); k++)
            atomic_init(&s->count[k], 0);
        for (size_t k = 0; k < ARRAY_LEN(s->refused); k++)
            atomic_init(&s->refused[k], 0);
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

static void out_request(struct strbuf *o, const char *method, const char *route, size_t k,
                        uint64_t v)
{
    strbuf_puts(o, "atelier_http_requests_total{method=");
    strbuf_prom_label(o, method);
    strbuf_puts(o, ",route=");
    strbuf_prom_label(o, route);
    if (k == STATUS_OTHER)
        strbuf_printf(o, ",status=\"other\"} %" PRIu64 "\n", v);
    else
        strbuf_printf(o, ",status=\"%u\"} %" PRIu64 "\n", metrics_statuses[k], v);
}

static const char *metrics_method_label(size_t m)
{
    return m < N_METHODS ? metrics_methods[m] : "other";
}

static void render_requests(struct strbuf *o)
{
    struct route_table *t = atomic_load_explicit(&metrics_routes, memory_order_acquire);
    size_t k405 = metrics_status_index(405);

    out_header(o, "atelier_http_requests_total", "counter",
               "Finished HTTP requests by method, route pattern and status (series at zero "
               "omitted).");
    for (size_t i = 0; t && i < t->n; i++) {
        for (size_t k = 0; k <= N_STATUS; k++) {
            uint64_t v = atomic_load_explicit(&t->slot[i].count[k], memory_order_relaxed);
            if (v)
                out_request(o, t->slot[i].method, t->slot[i].pattern, k, v);
        }
    }
    for (size_t i = 0; t && i < t->n; i++) {
        for (size_t m = 0; m <= N_METHODS; m++) {
            uint64_t v = atomic_load_explicit(&t->slot[i].refused[m], memory_order_relaxed);
            if (v)
                out_request(o, metrics_method_label(m), t->slot[i].pattern, k405, v);
        }
    }
    for (size_t m = 0; t && m <= N_METHODS; m++) {
        for (size_t k = 0; k <= N_STATUS; k++) {
            uint64_t v = atomic_load_explicit(&t->unmatched[m][k], memory_order_relaxed);
            if (v)
                out_request(o, metrics_method_label(m), "(unmatched)", k, v);
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
                   "Storage statements run one by one (on PostgreSQL each one is a round trip).");
        strbuf_printf(o, "atelier_db_statements_total %" PRIu64 "\n", stmts());
    }
    void (*batches)(uint64_t *, uint64_t *) = atomic_load(&metrics_db_batches);
    if (batches) {
        uint64_t b = 0, n = 0;
        batches(&b, &n);
        out_header(o, "atelier_db_batches_total", "counter",
                   "Batches the storage batcher sent (on PostgreSQL each one is a pipeline, one "
                   "round trip).");
        strbuf_printf(o, "atelier_db_batches_total %" PRIu64 "\n", b);
        out_header(o, "atelier_db_batched_statements_total", "counter",
                   "Statements those batches carried.");
        strbuf_printf(o, "atelier_db_batched_statements_total %" PRIu64 "\n", n);
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

/* A gauge or counter of one unlabelled sample; value already formatted. */
static void out_one(struct strbuf *o, const char *name, const char *type, const char *help,
                    const char *value)
{
    out_header(o, name, type, help);
    strbuf_printf(o, "%s %s\n", name, value);
}

/* Milliseconds as seconds with three decimals; negative values (a clock set
 * back) as 0. */
static void fmt_ms(char *out, size_t n, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    snprintf(out, n, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

static void render_build(struct strbuf *o)
{
    out_header(o, "atelier_build_info", "gauge",
               "Always 1; the labels say which version and git commit this binary was built "
               "from.");
    strbuf_puts(o, "atelier_build_info{version=");
    strbuf_prom_label(o, version_project());
    strbuf_puts(o, ",commit=");
    strbuf_prom_label(o, version_commit());
    strbuf_puts(o, "} 1\n");
}

/* The process's start, in clock ticks after boot (field 22 of
 * /proc/self/stat, after the command name in parentheses), as Unix seconds
 * and hundredths (btime of /proc/stat); read once, the answer never
 * changes. 0 when it cannot be read. */
static int64_t process_start_cs;
static pthread_once_t process_start_once = PTHREAD_ONCE_INIT;

static void process_start_read(void)
{
    char buf[1024], line[256];
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long start = 0, btime = 0;
    FILE *f;
    size_t n;

    if (hz <= 0 || !(f = fopen("/proc/self/stat", "r")))
        return;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    /* the blank before field k, for k = 3 (state) up to 22 (starttime) */
    for (int field = 3; p && field <= 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &start) != 1)
        return;
    if (!(f = fopen("/proc/stat", "r")))
        return;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    }
    fclose(f);
    if (btime == 0)
        return;
    process_start_cs = (int64_t)btime * 100 + (int64_t)(start * 100 / (unsigned long long)hz);
}

/* Open file descriptors: the entries of /proc/self/fd but the one reading
 * it; -1 when it cannot be read. */
static long process_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

static void render_process(struct strbuf *o)
{
    struct rusage ru;
    struct rlimit rl;
    unsigned long long pages_virt = 0, pages_res = 0;
    long page = sysconf(_SC_PAGESIZE);
    long fds = process_open_fds();
    char v[48];
    FILE *f;

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        uint64_t us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
                      (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
        snprintf(v, sizeof v, "%" PRIu64 ".%06" PRIu64, us / 1000000u, us % 1000000u);
        out_one(o, "process_cpu_seconds_total", "counter",
                "Total user and system CPU time spent in seconds.", v);
    }
    if (page > 0 && (f = fopen("/proc/self/statm", "r")) != NULL) {
        int got = fscanf(f, "%llu %llu", &pages_virt, &pages_res);
        fclose(f);
        if (got == 2) {
            snprintf(v, sizeof v, "%llu", pages_res * (unsigned long long)page);
            out_one(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                    v);
            snprintf(v, sizeof v, "%llu", pages_virt * (unsigned long long)page);
            out_one(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", v);
        }
    }
    if (fds >= 0) {
        snprintf(v, sizeof v, "%ld", fds);
        out_one(o, "process_open_fds", "gauge", "Number of open file descriptors.", v);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)rl.rlim_cur);
        out_one(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.", v);
    }
    pthread_once(&process_start_once, process_start_read);
    if (process_start_cs > 0) {
        snprintf(v, sizeof v, "%" PRId64 ".%02" PRId64, process_start_cs / 100,
                 process_start_cs % 100);
        out_one(o, "process_start_time_seconds", "gauge",
                "Start time of the process since unix epoch in seconds.", v);
    }
}

static void render_sweep(struct strbuf *o)
{
    char v[48];

    pthread_mutex_lock(&metrics_lock);
    struct sweep_state sw = metrics_sweep_state;
    pthread_mutex_unlock(&metrics_lock);

    fmt_ms(v, sizeof v, sw.runs ? sw.last_ms : 0);
    out_one(o, "atelier_sweep_last_run_timestamp_seconds", "gauge",
            "When this node's last sweep ended, successful or not (Unix time; 0: none since "
            "start).",
            v);
    fmt_ms(v, sizeof v, sw.success_ms);
    out_one(o, "atelier_sweep_last_success_timestamp_seconds", "gauge",
            "When this node's last successful sweep ended (Unix time; 0: none since start).", v);
    fmt_ms(v, sizeof v, sw.leader_ms);
    out_one(o, "atelier_sweep_last_leader_timestamp_seconds", "gauge",
            "When this node's last successful sweep that ran the shared-database steps ended "
            "(Unix time; 0: none since start).",
            v);
    out_header(o, "atelier_sweep_last_duration_seconds", "gauge",
               "How long this node's last sweep took (absent before the first).");
    out_header(o, "atelier_sweep_last_run_success", "gauge",
               "1 when this node's last sweep succeeded, 0 when it failed (absent before the "
               "first).");
    out_header(o, "atelier_sweep_last_run_leader", "gauge",
               "1 when this node's last sweep held the cluster-wide sweep lock and ran the "
               "shared-database steps, 0 when another node held it or the sweep failed (absent "
               "before the first).");
    if (!sw.runs)
        return;
    strbuf_printf(o, "atelier_sweep_last_duration_seconds %" PRIu64 ".%06" PRIu64 "\n",
                  sw.duration_ns / 1000000000u, sw.duration_ns % 1000000000u / 1000u);
    strbuf_printf(o, "atelier_sweep_last_run_success %d\n", sw.ok);
    strbuf_printf(o, "atelier_sweep_last_run_leader %d\n", sw.leader);
}

/* Read storage through the hook when the last reading is older than
 * LIMIT_METRICS_REFRESH_MS (invariant 6); metrics_store_lock held. */
static void storage_refresh(void)
{
    uint64_t now = clock_mono_ns();
    struct metrics_storage st;

    if (!metrics_store.fn)
        return;
    if (metrics_store.read_ns &&
        now - metrics_store.read_ns < (uint64_t)LIMIT_METRICS_REFRESH_MS * 1000000u)
        return;
    memset(&st, 0, sizeof st);
    st.mail_oldest_ms = -1;
    st.release_ms = -1;
    metrics_store.read_ns = now ? now : 1;
    if (metrics_store.fn(&st) == 0) {
        metrics_store.st = st;
        metrics_store.have = 1;
    } else {
        metrics_store.have = 0;
        metrics_store.errors++;
    }
}

static void render_storage(struct strbuf *o)
{
    int64_t now_ms = clock_now_ms();
    char v[48];

    pthread_mutex_lock(&metrics_store_lock);
    storage_refresh();
    int have = metrics_store.have, hooked = metrics_store.fn != NULL;
    struct metrics_storage st = metrics_store.st;
    uint64_t errors = metrics_store.errors;
    pthread_mutex_unlock(&metrics_store_lock);

    if (!hooked)
        return; /* not a server: no storage to read */
    out_header(o, "atelier_mail_queue_messages", "gauge",
               "Mails waiting in the queue (shared by every node), due or waiting for a retry.");
    out_header(o, "atelier_mail_queue_oldest_age_seconds", "gauge",
               "Age of the oldest mail in the queue (0: the queue is empty).");
    if (have) {
        strbuf_printf(o, "atelier_mail_queue_messages %" PRId64 "\n", st.mail_queued);
        fmt_ms(v, sizeof v, st.mail_oldest_ms < 0 ? 0 : now_ms - st.mail_oldest_ms);
        strbuf_printf(o, "atelier_mail_queue_oldest_age_seconds %s\n", v);
    }
    out_header(o, "atelier_opendata_release_age_seconds", "gauge",
               "Time since the current open-data release was published (absent: no release).");
    if (have && st.release_ms >= 0) {
        fmt_ms(v, sizeof v, now_ms - st.release_ms);
        strbuf_printf(o, "atelier_opendata_release_age_seconds %s\n", v);
    }
    out_header(o, "atelier_metrics_storage_errors_total", "counter",
               "Readings of the storage gauges that failed (those gauges are then absent).");
    strbuf_printf(o, "atelier_metrics_storage_errors_total %" PRIu64 "\n", errors);
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
    render_build(&o);
    render_sweep(&o);
    render_storage(&o);
    render_process(&o);
    if (strbuf_take(&o, &text, &n) != ERR_OK)
        n = 0; /* NULL: the caller answers ERR_NOMEM */
    if (len)
        *len = n;
    return text;
}
