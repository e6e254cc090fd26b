/*
 * metrics.h - Prometheus metrics of the running server.
 *
 * Request counters are lock-free atomics, updated from request threads;
 * rendering reads them without stopping anything. Exposed at GET /metrics on
 * the metrics listener only (--metrics-listen, http.c), never the public
 * port. Every metric, its type, labels and meaning: docs/OPERATIONS.md
 * ("Metrics"). In short:
 *
 *   atelier_http_requests_total{method,route,status}
 *   atelier_http_request_duration_seconds (histogram, all routes)
 *   atelier_http_requests_in_flight
 *   atelier_erasure_scrubs_pending (erasures whose pages may be in the WAL)
 *   atelier_accesslog_dropped_total, atelier_accesslog_write_errors_total
 *   atelier_events_total{event}    (sweeper runs, deletions, mails)
 *   atelier_build_info{version,commit}
 *   atelier_sweep_last_* (this node's last sweep: time, duration, result)
 *   atelier_mail_queue_messages, atelier_mail_queue_oldest_age_seconds,
 *   atelier_opendata_release_age_seconds (from storage: metrics_set_storage)
 *   process_* (CPU, memory, file descriptors, start time)
 *   atelier_db_statements_total    (storage statements run one by one: each a round
 *                                   trip on PostgreSQL; from the source given at start)
 *   atelier_db_batches_total, atelier_db_batched_statements_total (the storage
 *                                   batcher's pipelines and what they carried)
 */
#ifndef ATELIER_METRICS_H
#define ATELIER_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Known routes: index i has method[i] and pattern[i]. Index n_routes is used
 * for requests that matched no route ("(unmatched)"). Call once at start. */
void metrics_init(size_t n_routes, const char *const *methods, const char *const *patterns);
void metrics_shutdown(void);

/* One finished request. route_idx < 0 means no route matched; then a 405
 * counts under path_idx, the first route whose pattern matched the path
 * (http.h: route_path_index), and anything else under "(unmatched)". The
 * client's method becomes a label only if it is one of a fixed list. */
void metrics_request(int route_idx, int path_idx, const char *method, unsigned status,
                     uint64_t duration_ns);

void metrics_inflight(int delta);

/* The source of atelier_db_statements_total (the program gives the storage
 * layer's counter, store/db.h: db_statements); not rendered without one. */
void metrics_set_db_statements(uint64_t (*fn)(void));

/* The source of the two batcher counters (store/db.h: db_batch_counts);
 * not rendered without one. */
void metrics_set_db_batches(void (*fn)(uint64_t *batches, uint64_t *statements));

/* The gauge atelier_erasure_scrubs_pending (privacy/erase.c sets it). */
void metrics_scrubs_pending(int n);

/* Named event counters (a fixed list in metrics.c, e.g. "sweep_runs"). */
enum metric_event {
    EV_SWEEP_RUNS,
    EV_SWEEP_LOGS_DELETED,
    EV_SWEEP_ACCOUNTS_ERASED,
    EV_SWEEP_UNCONFIRMED_ERASED,
    EV_SWEEP_NOTICES_MAILED,
    EV_SWEEP_SESSIONS_DELETED,
    EV_MAIL_SENT,
    EV_MAIL_FAILED,
    EV_PASSWORD_VERIFICATIONS, /* argon2id verifications, the dummy ones included */
    EV_MAIL_CAPPED,            /* mails dropped by the per-recipient queue cap */
    EV_SWEEP_DATABASE_RUNS,    /* sweeps whose database part this process ran (one node per
                                  period: privacy/sweep.c) */
    EV__COUNT
};
void metrics_event(enum metric_event e, uint64_t n);

/* The end of one sweep (privacy/sweep.c): when it ended (clock_now_ms),
 * how long it took, whether it succeeded, and whether this node ran the
 * shared-database steps (it held the cluster-wide lock). */
void metrics_sweep(int64_t end_ms, uint64_t duration_ns, int ok, int leader);

/* The gauges read from storage. The hook fills what it can and returns 0,
 * or returns an err (the gauges are then omitted). It runs on the metrics
 * listener's thread while rendering, at most once per
 * LIMIT_METRICS_REFRESH_MS; NULL (the default) omits these gauges. */
struct metrics_storage {
    int64_t mail_queued;    /* rows of the mail queue */
    int64_t mail_oldest_ms; /* creation of the oldest queued mail; -1: the queue is empty */
    int64_t release_ms;     /* publication of the current open-data release; -1: none */
};
typedef int (*metrics_storage_fn)(struct metrics_storage *out);
void metrics_set_storage(metrics_storage_fn fn);

/* Render the text exposition format. Returns a malloc'd string (caller
 * frees) and its length in *len, or NULL on OOM. */
char *metrics_render(size_t *len);

#endif
