/*
 * accesslog.h - the visitor log of SPEC section 1.
 *
 * One JSON object per request, one line each, in <dir>/access-YYYY-MM-DD.jsonl
 * (UTC day of the request):
 *
 *   {"time":"2026-11-29T20:41:27.123Z","ip":"127.0.0.1","method":"GET",
 *    "route":"/v1/models/{id}","status":200,"duration_ms":0.214,
 *    "request_id":"3f9c..."}
 *
 * The route is the route table's pattern, never the raw path (no ids, no
 * query string). Nothing else is written: no headers, bodies, tokens, emails.
 *
 * Request threads only enqueue (accesslog_write never touches the disk);
 * one writer thread appends and rotates by day. When the queue is full the
 * line is dropped and counted (accesslog_dropped), rather than stalling a
 * request. Files are created mode 0600.
 */
#ifndef ATELIER_ACCESSLOG_H
#define ATELIER_ACCESSLOG_H

#include <stdint.h>
#include <stdio.h>

struct accesslog_entry {
    int64_t time_ms; /* clock_now_ms() at request start */
    char ip[46];     /* client address, textual */
    char method[12];
    const char *route; /* static route pattern, or "(unmatched)" */
    unsigned status;
    double duration_ms;
    char request_id[33]; /* 32 hex chars */
};

/* Start the writer thread writing into dir (created 0700 if missing). */
int accesslog_start(const char *dir);

/* Enqueue one entry (copied). Never blocks on I/O. */
void accesslog_write(const struct accesslog_entry *e);

/* Flush everything queued and stop the writer. */
void accesslog_stop(void);

/* Lines dropped because the queue was full, and write errors, since start. */
uint64_t accesslog_dropped(void);
uint64_t accesslog_write_errors(void);

#define ACCESSLOG_STATUS_MAX 16

/* What `atelier logs` keeps: every condition set must hold. */
struct accesslog_filter {
    const char *ip;         /* NULL or "": any client */
    int64_t since_ms;       /* 0: no lower bound; else lines at or after it */
    int64_t until_ms;       /* 0: no upper bound; else lines strictly before it */
    const char *request_id; /* NULL or "": any */
    const char *route;      /* NULL or "": any; a route pattern, or a prefix ending in '*' */
    unsigned nstatus;       /* 0: any status; else one of the ranges below */
    unsigned status_lo[ACCESSLOG_STATUS_MAX], status_hi[ACCESSLOG_STATUS_MAX];
    int table; /* print an aligned table with a header instead of the JSON lines */
};

/* Parse --status into f: comma-separated items, each a status ("404"), a
 * class ("4xx") or a range ("500-599"), within 100-599; at most
 * ACCESSLOG_STATUS_MAX. "" sets no condition. Returns 0 or ERR_INVALID. */
int accesslog_status_parse(const char *spec, struct accesslog_filter *f);

/* The operator's reader (`atelier logs`): print the lines of the files in
 * dir that f keeps, oldest first, as they are (JSON lines) or as a table.
 * Returns the number of lines printed, or a negative err. */
long accesslog_search(const char *dir, const struct accesslog_filter *f, FILE *out);

/* accesslog_search with only ip, since and request_id: print to out every line of the
 * files in dir whose time >= since_ms (0: all), whose ip equals ip (NULL or
 * "": any) and whose request_id equals request_id (NULL or "": any), oldest
 * first. Returns the number of lines printed, or a negative err. */
long accesslog_query(const char *dir, const char *ip, int64_t since_ms, const char *request_id,
                     FILE *out);

/* Delete access-*.jsonl files whose day is more than keep_days full days
 * before the day of now_ms (a file dated 183 days back stays, 184 goes, with
 * keep_days 183). With dry_run, only count. *deleted receives the count.
 * Returns 0 or a negative err. */
int accesslog_prune(const char *dir, int64_t now_ms, int keep_days, int dry_run, int *deleted);

#endif
