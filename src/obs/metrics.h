/*
 * metrics.h - Prometheus counters of the running server.
 *
 * Counters are lock-free atomics, updated from request threads; rendering
 * reads them without stopping anything. Exposed at GET /metrics on the
 * metrics listener only (--metrics-listen, http.c), never the public port:
 *
 *   atelier_http_requests_total{method,route,status}
 *   atelier_http_request_duration_seconds (histogram, all routes)
 *   atelier_http_requests_in_flight
 *   atelier_erasure_scrubs_pending (erasures whose pages may be in the WAL)
 *   atelier_accesslog_dropped_total, atelier_accesslog_write_errors_total
 *   atelier_events_total{event}    (sweeper runs, deletions, mails: later issues)
 *   atelier_db_statements_total    (storage statements: each one a round trip on
 *                                   PostgreSQL; from the source given at start)
 */
#ifndef ATELIER_METRICS_H
#define ATELIER_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Known routes: index i has method[i] and pattern[i]. Index n_routes is used
 * for requests that matched no route ("(unmatched)"). Call once at start. */
void metrics_init(size_t n_routes, const char *const *methods, const char *const *patterns);
void metrics_shutdown(void);

/* One finished request. route_idx < 0 means unmatched. */
void metrics_request(int route_idx, unsigned status, uint64_t duration_ns);

void metrics_inflight(int delta);

/* The source of atelier_db_statements_total (the program gives the storage
 * layer's counter, store/db.h: db_statements); not rendered without one. */
void metrics_set_db_statements(uint64_t (*fn)(void));

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
    EV__COUNT
};
void metrics_event(enum metric_event e, uint64_t n);

/* Render the text exposition format. Returns a malloc'd string (caller
 * frees) and its length in *len, or NULL on OOM. */
char *metrics_render(size_t *len);

#endif
