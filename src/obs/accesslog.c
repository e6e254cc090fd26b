/*
 * accesslog.c - the visitor log of SPEC section 1: a bounded in-memory queue,
 * one writer thread, one JSON line per request in <dir>/access-YYYY-MM-DD.jsonl,
 * plus the operator's reader (accesslog_search: filters, JSON lines or a
 * table) and the retention pruner
 * (accesslog_prune) used by the sweeper.
 *
 * Invariants:
 *  1. Request threads only copy an entry into the ring under q.mu; they never
 *     touch the disk and never wait for the writer. A full ring (or a stopped
 *     log) drops the entry and counts it in accesslog_dropped().
 *  2. Only the writer thread touches the files, the batch and line buffers and
 *     the error-reporting state (struct writer), so those need no lock. A
 *     line is formatted into its own strbuf bounded by LINE_MAX_BYTES, so
 *     every line written can be read back by accesslog_query.
 *  3. A line goes to the file of its own UTC day (the entry's time_ms), never
 *     of the moment it is written. Files are opened O_APPEND|O_CREAT|O_CLOEXEC
 *     with mode 0600; the directory is created 0700.
 *  4. A line holds exactly time, ip, method, route, status, duration_ms and
 *     request_id, JSON-escaped by strbuf (as jansson writes the same string;
 *     ill-formed UTF-8 becomes U+FFFD), so each line parses as one JSON
 *     object whatever the strings contain.
 *  5. After a failed open or write the file is closed and the next batch opens
 *     it again, so the writer recovers on its own once the disk does. Lines
 *     that could not be written are counted in accesslog_write_errors() (it
 *     counts lost lines, not failed calls); failures are logged at most once
 *     a minute. A line cut short by a failed write is ended with a newline
 *     before the next line goes to the same file, so only that line is lost.
 *  6. accesslog_stop() returns only after every queued entry was written or
 *     counted as a write error.
 *
 * States: STOPPED --accesslog_start--> RUNNING --accesslog_stop--> STOPPED.
 *
 * Reading and pruning only consider names of exactly access-YYYY-MM-DD.jsonl
 * with a real calendar date; any other file in the directory is left alone.
 */
#include "obs/accesslog.h"
#include "obs/accesslog_internal.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/strbuf.h"

/* The writer wakes when this many lines wait, or after ACCESSLOG_FLUSH_MS. */
#define ACCESSLOG_BATCH_WAKE 256
#define ACCESSLOG_FLUSH_MS   100
#include "base/log.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERR_LOG_EVERY   (60ull * 1000000000ull) /* ns between two error log lines */
#define NAME_PREFIX     "access-"
#define NAME_SUFFIX     ".jsonl"
#define NAME_LEN        23                   /* "access-YYYY-MM-DD.jsonl" */
#define QUERY_LINE_MAX  16384                /* longer lines are not ours: skipped as unparsable */
#define LINE_MAX_BYTES  (QUERY_LINE_MAX - 1) /* what the writer may write, newline included */
#define DURATION_MAX_US 1e15                 /* duration_ms is clamped below 10^12 ms */

/* ---- the queue (shared with request threads, guarded by q.mu) ---- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* writer waits here for entries or stop */
    struct accesslog_entry *ring; /* LIMIT_ACCESSLOG_QUEUE slots */
    size_t head;                  /* oldest queued entry */
    size_t count;                 /* queued entries */
    bool running;                 /* between start and the end of stop */
    bool stopping;                /* stop asked: drain, then exit */
    bool paused;                  /* tests only: take no batch */
    pthread_t thread;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static _Atomic uint64_t accesslog_dropped_n;
static _Atomic uint64_t accesslog_errors_n;

/* ---- the writer thread's own state ---- */

struct writer {
    char *dir;
    struct accesslog_entry *batch; /* LIMIT_ACCESSLOG_QUEUE slots */
    struct strbuf line;            /* the line being formatted */
    struct strbuf out;             /* formatted lines of one day */
    uint64_t pending;              /* lines in out */
    int fd;                        /* file of day[], or -1 */
    char day[11];
    bool torn; /* the file of torn_day ends in a partial line */
    char torn_day[11];
    bool failing; /* the last attempt failed */
    bool logged;  /* an error was logged at last_log_ns */
    uint64_t last_log_ns;
};

/* ---- formatting one line ---- */

/* Milliseconds with exactly three decimals (integer arithmetic: no locale). */
static void line_duration(struct strbuf *b, double ms)
{
    uint64_t us = 0;

    if (isfinite(ms) && ms > 0) {
        double x = ms * 1000.0 + 0.5;
        us = x >= DURATION_MAX_US ? (uint64_t)DURATION_MAX_US : (uint64_t)x;
    }
    strbuf_printf(b, "%" PRIu64 ".%03" PRIu64, us / 1000, us % 1000);
}

/* e as one JSON line in b (emptied first): ERR_OK, or the buffer's error. */
static int line_format(struct strbuf *b, const struct accesslog_entry *e)
{
    char ts[25];
    const char *route = e->route ? e->route : "(unmatched)";
    int rc;

    strbuf_reset(b);
    rc = clock_format_rfc3339(e->time_ms, ts);
    if (rc != ERR_OK)
        return rc;
    strbuf_puts(b, "{\"time\":\"");
    strbuf_puts(b, ts);
    strbuf_puts(b, "\",\"ip\":");
    strbuf_json_stringn(b, e->ip, strnlen(e->ip, sizeof e->ip));
    strbuf_puts(b, ",\"method\":");
    strbuf_json_stringn(b, e->method, strnlen(e->method, sizeof e->method));
    strbuf_puts(b, ",\"route\":");
    strbuf_json_string(b, route);
    strbuf_printf(b, ",\"status\":%u,\"duration_ms\":", e->status);
    line_duration(b, e->duration_ms);
    strbuf_puts(b, ",\"request_id\":");
    strbuf_json_stringn(b, e->request_id, strnlen(e->request_id, sizeof e->request_id));
    strbuf_puts(b, "}\n");
    return strbuf_err(b);
}

/* ---- file handling in the writer ---- */

static void writer_close(struct writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->day[0] = 0;
}

/* Count lost lines, and log about it at most once a minute. */
static void writer_fail(struct writer *w, const char *what, int errnum, uint64_t lines)
{
    char ebuf[128];
    uint64_t now = clock_mono_ns();
    uint64_t total;

    total = atomic_fetch_add_explicit(&accesslog_errors_n, lines, memory_order_relaxed) + lines;
    w->failing = true;
    if (w->logged && now - w->last_log_ns < ERR_LOG_EVERY)
        return;
    w->logged = true;
    w->last_log_ns = now;
    log_error("accesslog", "%s failed: %s; %" PRIu64 " line(s) lost since start", what,
              errnum ? strerror_r(errnum, ebuf, sizeof ebuf) : "bad entry", total);
}

static void writer_ok(struct writer *w)
{
    if (!w->failing)
        return;
    w->failing = false;
    log_info("accesslog", "writing again");
}

/* Number of line ends in p[0..n). */
static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t lines = 0;
    const char *end = p + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        lines++;
        p = nl + 1;
    }
    return lines;
}

/* Write all n bytes; *done receives how many were written. Returns 0 or an
 * errno value. */
static int write_all(int fd, const char *p, size_t n, size_t *done)
{
    *done = 0;
    while (*done < n) {
        ssize_t r = write(fd, p + *done, n - *done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            return ENOSPC;
        *done += (size_t)r;
    }
    return 0;
}

/* Make sure w->fd is the file of day. Returns 0 or an errno value. */
static int writer_open(struct writer *w, const char *day)
{
    char path[PATH_MAX];
    int n;

    if (w->fd >= 0 && strcmp(w->day, day) == 0)
        return 0;
    writer_close(w);
    n = snprintf(path, sizeof path, "%s/" NAME_PREFIX "%s" NAME_SUFFIX, w->dir, day);
    if (n < 0 || (size_t)n >= sizeof path)
        return ENAMETOOLONG;
    w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (w->fd < 0 && errno == ENOENT && mkdir(w->dir, 0700) == 0)
        w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (w->fd < 0)
        return errno;
    memcpy(w->day, day, sizeof w->day);
    return 0;
}

/* Append the formatted lines of w->out, all of one day, to that day's file. */
static void writer_flush(struct writer *w, const char *day)
{
    size_t done = 0;
    int e;

    if (strbuf_err(&w->out) != ERR_OK) {
        writer_fail(w, "formatting the access log", ENOMEM, w->pending);
        goto out;
    }
    if (strbuf_len(&w->out) == 0)
        return;
    e = writer_open(w, day);
    if (e != 0) {
        writer_fail(w, "opening the access log", e, w->pending);
        goto out;
    }
    if (w->torn && strcmp(w->torn_day, day) == 0) {
        e = write_all(w->fd, "\n", 1, &done);
        if (e != 0) {
            writer_fail(w, "writing the access log", e, w->pending);
            writer_close(w);
            goto out;
        }
        w->torn = false;
    }
    off_t start = lseek(w->fd, 0, SEEK_END);
    e = write_all(w->fd, w->out.p, strbuf_len(&w->out), &done);
    if (e != 0) {
        /* cut a partly written batch back off, so no half line stays */
        if (done > 0 && start >= 0 && ftruncate(w->fd, start) == 0)
            done = 0;
        if (done > 0 && w->out.p[done - 1] != '\n') {
            w->torn = true;
            memcpy(w->torn_day, day, sizeof w->torn_day);
        }
        writer_fail(w, "writing the access log", e,
                    count_lines(w->out.p + done, strbuf_len(&w->out) - done));
        writer_close(w);
        goto out;
    }
    writer_ok(w);
out:
    strbuf_reset(&w->out);
    w->pending = 0;
}

/* Format and append n entries of w->batch, one write per run of equal days. */
static void writer_write_batch(struct writer *w, size_t n)
{
    char cur[11] = "";

    for (size_t i = 0; i < n; i++) {
        const struct accesslog_entry *e = &w->batch[i];
        char day[11];
        int rc = clock_format_date(e->time_ms, day);

        if (rc != ERR_OK) {
            writer_fail(w, "formatting an access log line", 0, 1);
            continue;
        }
        if (cur[0] && strcmp(cur, day) != 0)
            writer_flush(w, cur);
        memcpy(cur, day, sizeof cur);
        rc = line_format(&w->line, e);
        if (rc != ERR_OK) {
            writer_fail(w, "formatting an access log line", rc == ERR_NOMEM ? ENOMEM : 0, 1);
            continue;
        }
        strbuf_put(&w->out, w->line.p, strbuf_len(&w->line));
        w->pending++;
    }
    if (cur[0])
        writer_flush(w, cur);
}

/* Move every queued entry into dst; called with q.mu held. */
static size_t queue_take(struct accesslog_entry *dst)
{
    size_t n = q.count;
    size_t first = LIMIT_ACCESSLOG_QUEUE - q.head;

    if (first > n)
        first = n;
    memcpy(dst, q.ring + q.head, first * sizeof *dst);
    memcpy(dst + first, q.ring, (n - first) * sizeof *dst);
    q.head = (q.head + n) % LIMIT_ACCESSLOG_QUEUE;
    q.count = 0;
    return n;
}

static void writer_free(struct writer *w)
{
    if (!w)
        return;
    writer_close(w);
    strbuf_release(&w->line);
    strbuf_release(&w->out);
    free(w->batch);
    free(w->dir);
    free(w);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    for (;;) {
        size_t n;
        bool done;

        pthread_mutex_lock(&q.mu);
        /* Request threads signal only when a batch has built up; otherwise
         * the writer looks every ACCESSLOG_FLUSH_MS. That keeps a futex wake
         * out of every request. */
        while (!q.stopping && (q.count == 0 || q.paused)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += ACCESSLOG_FLUSH_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&q.cv, &q.mu, &ts);
        }
        n = queue_take(w->batch);
        done = n == 0; /* only when stopping with an empty queue */
        pthread_mutex_unlock(&q.mu);
        if (done)
            break;
        writer_write_batch(w, n);
    }
    writer_free(w);
    return NULL;
}

/* ---- public: lifecycle and producers ---- */

/* mkdir -p with mode 0700 for every directory created. */
static int ensure_dir(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = ERR_OK;

    if (util_strlcpy(path, dir, sizeof path) != ERR_OK) {
        rc = ERR_INVALID;
        goto out;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = ERR_UNAVAILABLE;
            goto out;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = ERR_UNAVAILABLE;
out:
    if (rc != ERR_OK)
        log_error("accesslog", "cannot create the access log directory");
    return rc;
}

int accesslog_start(const char *dir)
{
    struct writer *w = NULL;
    struct accesslog_entry *ring = NULL;
    bool locked = false;
    int rc = ERR_OK;

    if (!dir || !*dir || strlen(dir) + 1 + NAME_LEN >= PATH_MAX) {
        rc = ERR_INVALID;
        goto out;
    }
    rc = ensure_dir(dir);
    if (rc != ERR_OK)
        goto out;
    w = calloc(1, sizeof *w);
    ring = calloc(LIMIT_ACCESSLOG_QUEUE, sizeof *ring);
    if (w) {
        w->fd = -1;
        strbuf_init(&w->line, LINE_MAX_BYTES);
        strbuf_init(&w->out, (size_t)LIMIT_ACCESSLOG_QUEUE * LINE_MAX_BYTES);
        w->dir = strdup(dir);
        w->batch = calloc(LIMIT_ACCESSLOG_QUEUE, sizeof *w->batch);
    }
    if (!w || !ring || !w->dir || !w->batch) {
        rc = ERR_NOMEM;
        goto out;
    }
    pthread_mutex_lock(&q.mu);
    locked = true;
    if (q.running) {
        rc = ERR_CONFLICT;
        goto out;
    }
    q.ring = ring;
    q.head = q.count = 0;
    q.stopping = q.paused = false;
    atomic_store(&accesslog_dropped_n, 0);
    atomic_store(&accesslog_errors_n, 0);
    if (pthread_create(&q.thread, NULL, writer_main, w) != 0) {
        q.ring = NULL;
        rc = ERR_INTERNAL;
        goto out;
    }
    q.running = true;
    ring = NULL; /* owned by q now */
    w = NULL;    /* owned by the thread now */
out:
    if (locked)
        pthread_mutex_unlock(&q.mu);
    free(ring);
    writer_free(w);
    return rc;
}

void accesslog_write(const struct accesslog_entry *e)
{
    struct accesslog_entry *slot;

    if (!e)
        return;
    pthread_mutex_lock(&q.mu);
    if (!q.running || q.stopping || q.count == LIMIT_ACCESSLOG_QUEUE) {
        pthread_mutex_unlock(&q.mu);
        atomic_fetch_add_explicit(&accesslog_dropped_n, 1, memory_order_relaxed);
        return;
    }
    slot = &q.ring[(q.head + q.count) % LIMIT_ACCESSLOG_QUEUE];
    *slot = *e;
    slot->ip[sizeof slot->ip - 1] = 0;
    slot->method[sizeof slot->method - 1] = 0;
    slot->request_id[sizeof slot->request_id - 1] = 0;
    if (++q.count == ACCESSLOG_BATCH_WAKE)
        pthread_cond_signal(&q.cv);
    pthread_mutex_unlock(&q.mu);
}

void accesslog_stop(void)
{
    pthread_t t;

    pthread_mutex_lock(&q.mu);
    if (!q.running || q.stopping) {
        pthread_mutex_unlock(&q.mu);
        return;
    }
    q.stopping = true;
    t = q.thread;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);

    pthread_join(t, NULL);

    pthread_mutex_lock(&q.mu);
    free(q.ring);
    q.ring = NULL;
    q.head = q.count = 0;
    q.running = q.stopping = q.paused = false;
    pthread_mutex_unlock(&q.mu);
}

void accesslog_test_pause(int paused)
{
    pthread_mutex_lock(&q.mu);
    q.paused = paused != 0;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
}

uint64_t accesslog_dropped(void)
{
    return atomic_load_explicit(&accesslog_dropped_n, memory_order_relaxed);
}

uint64_t accesslog_write_errors(void)
{
    return atomic_load_explicit(&accesslog_errors_n, memory_order_relaxed);
}

/* ---- listing the log files (query and prune) ---- */

struct logfile {
    char name[NAME_LEN + 1];
    int64_t day_ms; /* midnight UTC of the file's day */
};

struct logfiles {
    struct logfile *v;
    size_t n, cap;
};

/* True when name is exactly access-YYYY-MM-DD.jsonl with a real date. */
static bool logfile_name_parse(const char *name, int64_t *day_ms)
{
    char date[11], check[11];
    size_t plen = strlen(NAME_PREFIX);

    if (strlen(name) != NAME_LEN || strncmp(name, NAME_PREFIX, plen) != 0 ||
        strcmp(name + plen + 10, NAME_SUFFIX) != 0)
        return false;
    memcpy(date, name + plen, 10);
    date[10] = 0;
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? date[i] != '-' : (date[i] < '0' || date[i] > '9'))
            return false;
    }
    /* The round trip rejects dates such as 2026-02-30. */
    return clock_parse_rfc3339(date, day_ms) == ERR_OK &&
           clock_format_date(*day_ms, check) == ERR_OK && strcmp(check, date) == 0;
}

static int logfile_cmp(const void *a, const void *b)
{
    const struct logfile *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int logfiles_add(struct logfiles *lf, const char *name, int64_t day_ms)
{
    if (lf->n == lf->cap) {
        size_t cap = 32, bytes;
        struct logfile *v;

        if (lf->cap && !size_mul(lf->cap, 2, &cap))
            return ERR_NOMEM;
        if (!size_mul(cap, sizeof *v, &bytes))
            return ERR_NOMEM;
        v = realloc(lf->v, bytes);
        if (!v)
            return ERR_NOMEM;
        lf->v = v;
        lf->cap = cap;
    }
    memcpy(lf->v[lf->n].name, name, NAME_LEN + 1);
    lf->v[lf->n].day_ms = day_ms;
    lf->n++;
    return ERR_OK;
}

/* The log files of dir, sorted by name (so by day). ERR_NOT_FOUND when dir
 * does not exist. */
static int logfiles_list(const char *dir, struct logfiles *lf)
{
    DIR *d = opendir(dir);
    int rc = ERR_OK;

    if (!d) {
        rc = errno == ENOENT || errno == ENOTDIR ? ERR_NOT_FOUND : ERR_UNAVAILABLE;
        goto out;
    }
    for (;;) {
        struct dirent *de;
        int64_t day_ms;

        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno != 0)
                rc = ERR_UNAVAILABLE;
            break;
        }
        if (!logfile_name_parse(de->d_name, &day_ms))
            continue;
        rc = logfiles_add(lf, de->d_name, day_ms);
        if (rc != ERR_OK)
            break;
    }
    if (rc == ERR_OK && lf->n > 1)
        qsort(lf->v, lf->n, sizeof *lf->v, logfile_cmp);
out:
    if (d)
        closedir(d);
    return rc;
}

static int logfile_path(char *path, size_t size, const char *dir, const char *name)
{
    int n = snprintf(path, size, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= size ? ERR_TOO_LARGE : ERR_OK;
}

/* ---- query ---- */

struct query {
    const struct accesslog_filter *f;
    FILE *out;
    long printed;
    long unparsable;
};

struct ipaddr {
    int af;
    unsigned char b[16];
};

static bool ip_parse(const char *s, struct ipaddr *a)
{
    memset(a, 0, sizeof *a);
    a->af = AF_INET;
    if (inet_pton(AF_INET, s, a->b) == 1)
        return true;
    a->af = AF_INET6;
    return inet_pton(AF_INET6, s, a->b) == 1;
}

/* Equal strings, or two spellings of the same address ("2001:DB8::1" and
 * "2001:db8:0::1"). */
static bool ip_equal(const char *a, const char *b)
{
    struct ipaddr x, y;

    if (strcmp(a, b) == 0)
        return true;
    return ip_parse(a, &x) && ip_parse(b, &y) && x.af == y.af && memcmp(x.b, y.b, 16) == 0;
}

/* One status range of --status: "404", "4xx" or "500-599". */
static int status_item(const char *s, size_t n, unsigned *lo, unsigned *hi)
{
    char item[16];
    int64_t a, b;

    if (n == 0 || n >= sizeof item)
        return ERR_INVALID;
    memcpy(item, s, n);
    item[n] = '\0';
    if (n == 3 && item[0] >= '1' && item[0] <= '5' && (item[1] == 'x' || item[1] == 'X') &&
        (item[2] == 'x' || item[2] == 'X')) {
        *lo = (unsigned)(item[0] - '0') * 100;
        *hi = *lo + 99;
        return ERR_OK;
    }
    char *dash = strchr(item, '-');
    if (dash)
        *dash = '\0';
    if (util_parse_i64(item, 100, 599, &a) != ERR_OK)
        return ERR_INVALID;
    b = a;
    if (dash && util_parse_i64(dash + 1, 100, 599, &b) != ERR_OK)
        return ERR_INVALID;
    if (b < a)
        return ERR_INVALID;
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return ERR_OK;
}

int accesslog_status_parse(const char *spec, struct accesslog_filter *f)
{
    const char *p = spec;

    f->nstatus = 0;
    if (!spec || !*spec)
        return ERR_OK;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (f->nstatus >= ACCESSLOG_STATUS_MAX ||
            status_item(p, n, &f->status_lo[f->nstatus], &f->status_hi[f->nstatus]) != ERR_OK) {
            f->nstatus = 0;
            return ERR_INVALID;
        }
        f->nstatus++;
        p += n;
        if (*p != ',')
            break;
        p++;
    }
    return ERR_OK;
}

static bool status_match(const struct accesslog_filter *f, json_int_t status)
{
    if (f->nstatus == 0)
        return true;
    for (unsigned i = 0; i < f->nstatus; i++) {
        if (status >= f->status_lo[i] && status <= f->status_hi[i])
            return true;
    }
    return false;
}

/* An exact route pattern, or a prefix when the filter ends in '*'. */
static bool route_match(const char *want, const char *route)
{
    size_t n = strlen(want);

    if (n > 0 && want[n - 1] == '*')
        return strncmp(want, route, n - 1) == 0;
    return strcmp(want, route) == 0;
}

/* One matching line as a row of the table: time, status, method, duration,
 * ip, route, request id (the route last but one: it is the widest). */
static void table_row(FILE *out, json_t *o)
{
    json_t *d = json_object_get(o, "duration_ms");
    const char *method = json_string_value(json_object_get(o, "method"));
    const char *route = json_string_value(json_object_get(o, "route"));

    fprintf(out, "%-24s %3lld %-7s %9.3f %-15s %-30s %s\n",
            json_string_value(json_object_get(o, "time")),
            (long long)json_integer_value(json_object_get(o, "status")), method ? method : "-",
            json_is_number(d) ? json_number_value(d) : 0.0,
            json_string_value(json_object_get(o, "ip")), route ? route : "-",
            json_string_value(json_object_get(o, "request_id")));
}

static void table_header(FILE *out)
{
    fprintf(out, "%-24s %3s %-7s %9s %-15s %-30s %s\n", "TIME (UTC)", "ST", "METHOD", "MS", "IP",
            "ROUTE", "REQUEST ID");
}

/* Parse one line and decide whether it matches; print it when it does.
 * Returns false when the line is not one of ours (not JSON, or without a
 * valid time, ip or request_id). */
static bool query_line(struct query *qy, const char *line, size_t len, bool full)
{
    const struct accesslog_filter *f = qy->f;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    const char *ts, *ip, *rid, *route;
    json_t *status;
    int64_t ms;
    bool ok = false;

    if (!json_is_object(o))
        goto out;
    ts = json_string_value(json_object_get(o, "time"));
    ip = json_string_value(json_object_get(o, "ip"));
    rid = json_string_value(json_object_get(o, "request_id"));
    route = json_string_value(json_object_get(o, "route"));
    status = json_object_get(o, "status");
    if (!ts || !ip || !rid || clock_parse_rfc3339(ts, &ms) != ERR_OK)
        goto out;
    ok = true;
    if ((f->since_ms != 0 && ms < f->since_ms) || (f->until_ms != 0 && ms >= f->until_ms) ||
        (f->ip && *f->ip && !ip_equal(f->ip, ip)) ||
        (f->request_id && *f->request_id && strcmp(f->request_id, rid) != 0) ||
        (f->route && *f->route && (!route || !route_match(f->route, route))) ||
        (f->nstatus && (!json_is_integer(status) || !status_match(f, json_integer_value(status)))))
        goto out;
    if (f->table) {
        if (qy->printed == 0)
            table_header(qy->out);
        table_row(qy->out, o);
    } else {
        fwrite(line, 1, len, qy->out);
        if (!full)
            fputc('\n', qy->out);
    }
    qy->printed++;
out:
    json_decref(o);
    return ok;
}

/* Read the rest of an overlong line. */
static void skip_line(FILE *f)
{
    int c;

    do {
        c = getc(f);
    } while (c != EOF && c != '\n');
}

static int query_file(struct query *qy, const char *dir, const char *name)
{
    char path[PATH_MAX];
    char *line = NULL;
    FILE *f = NULL;
    int rc = logfile_path(path, sizeof path, dir, name);

    if (rc != ERR_OK)
        goto out;
    f = fopen(path, "re");
    if (!f) {
        /* Pruned between listing and opening: nothing to read. */
        if (errno != ENOENT) {
            char ebuf[128];
            fprintf(stderr, "accesslog: cannot read %s: %s\n", name,
                    strerror_r(errno, ebuf, sizeof ebuf));
        }
        goto out;
    }
    line = malloc(QUERY_LINE_MAX);
    if (!line) {
        rc = ERR_NOMEM;
        goto out;
    }
    while (fgets(line, QUERY_LINE_MAX, f)) {
        size_t len = strlen(line);
        bool full = len > 0 && line[len - 1] == '\n';

        if (!full && !feof(f)) {
            skip_line(f);
            qy->unparsable++;
            continue;
        }
        if (!query_line(qy, line, len, full) && len > (full ? 1u : 0u))
            qy->unparsable++;
    }
    if (ferror(f))
        fprintf(stderr, "accesslog: error reading %s\n", name);
out:
    free(line);
    if (f)
        fclose(f);
    return rc;
}

long accesslog_search(const char *dir, const struct accesslog_filter *f, FILE *out)
{
    struct logfiles lf = {0};
    struct query qy = {0};
    int rc = ERR_OK;

    if (!dir || !f || !out) {
        rc = ERR_INVALID;
        goto out;
    }
    qy.f = f;
    qy.out = out;
    rc = logfiles_list(dir, &lf);
    for (size_t i = 0; rc == ERR_OK && i < lf.n; i++) {
        /* A whole file is older than since when its day ends before it,
         * newer than until when its day starts at or after it. */
        if (f->since_ms != 0 && lf.v[i].day_ms + POLICY_DAY_MS <= f->since_ms)
            continue;
        if (f->until_ms != 0 && lf.v[i].day_ms >= f->until_ms)
            continue;
        rc = query_file(&qy, dir, lf.v[i].name);
    }
    if (rc == ERR_OK && (fflush(out) != 0 || ferror(out)))
        rc = ERR_UNAVAILABLE;
    if (qy.unparsable > 0)
        fprintf(stderr, "accesslog: %ld unparsable line(s) skipped\n", qy.unparsable);
out:
    free(lf.v);
    return rc != ERR_OK ? rc : qy.printed;
}

long accesslog_query(const char *dir, const char *ip, int64_t since_ms, const char *request_id,
                     FILE *out)
{
    struct accesslog_filter f = {.ip = ip, .since_ms = since_ms, .request_id = request_id};

    return accesslog_search(dir, &f, out);
}

/* ---- prune ---- */

static int64_t day_number(int64_t ms)
{
    int64_t d = ms / POLICY_DAY_MS;

    if (ms % POLICY_DAY_MS < 0)
        d--;
    return d;
}

/* Delete (or with dry_run, only count) one expired file; directories that
 * happen to carry a log file's name are left alone. */
static int prune_file(const char *dir, const char *name, int dry_run, int *n)
{
    char path[PATH_MAX];
    char ebuf[128];
    struct stat st;
    int rc = logfile_path(path, sizeof path, dir, name);

    if (rc != ERR_OK)
        goto out;
    if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode))
        goto out;
    if (!dry_run && unlink(path) != 0) {
        if (errno != ENOENT) {
            log_error("accesslog", "cannot delete %s: %s", name,
                      strerror_r(errno, ebuf, sizeof ebuf));
            rc = ERR_UNAVAILABLE;
        }
        goto out;
    }
    (*n)++;
out:
    return rc;
}

int accesslog_prune(const char *dir, int64_t now_ms, int keep_days, int dry_run, int *deleted)
{
    struct logfiles lf = {0};
    int64_t today = day_number(now_ms);
    int n = 0;
    int rc;

    if (!dir || keep_days < 0) {
        rc = ERR_INVALID;
        goto out;
    }
    rc = logfiles_list(dir, &lf);
    if (rc == ERR_NOT_FOUND) {
        rc = ERR_OK; /* no log written yet: nothing to prune */
        goto out;
    }
    if (rc != ERR_OK)
        goto out;
    /* One undeletable file does not keep the others: go on, report the first error. */
    for (size_t i = 0; i < lf.n; i++) {
        if (today - day_number(lf.v[i].day_ms) <= keep_days)
            continue;
        int r = prune_file(dir, lf.v[i].name, dry_run, &n);
        if (r != ERR_OK && rc == ERR_OK)
            rc = r;
    }
out:
    free(lf.v);
    if (deleted)
        *deleted = n;
    return rc;
}
