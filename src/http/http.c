/*
 * http.c - the HTTP layer on libmicrohttpd (see http.h for the request path).
 *
 * Invariants:
 *   - Every limit of policy.h that concerns HTTP is enforced here and only
 *     here: header count, request smuggling shapes, body sizes, media types.
 *     Handlers never see a body over their route's limit or a JSON body that
 *     is not a strict object.
 *   - A request gets exactly one response. Early refusals (on the headers
 *     call) carry Connection: close, because the body was not read; but a
 *     failed authentication of a body within the route's limit is answered
 *     after the body was read and dropped (a proxy that is still sending it
 *     would turn a closed connection into a 502).
 *   - Handlers of ROUTE_SLOW routes run on the worker pool while MHD keeps the
 *     connection suspended, so a 15 ms argon2id hash or an image decode never
 *     stalls the event threads.
 *   - A request whose authentication the async hook takes (http_set_auth_async:
 *     a session check waiting in the storage batcher) is suspended
 *     (RS_AUTH_WAIT) from the hook's suspend call until its wake: on the
 *     headers call for a route that takes a body, once the request is read
 *     for one that does not. Only then, on an event thread, do the rules,
 *     the body checks or the query check, and the handler run. Likewise a
 *     handler whose work waits there (req_wait, RS_HANDLER_WAIT) until its
 *     wake; then its continuation runs in its place, on an event thread.
 *     The wake sets woken before it resumes, so a spurious call in between
 *     finds the request still waiting.
 *   - The client IP is the peer address, or the X-Forwarded-For hop named by a
 *     configured trusted proxy; it goes to the access log and to rate limits
 *     in memory, nowhere else.
 *   - Bodies are bounded at creation: the buffer never grows beyond the
 *     route's limit, whatever Content-Length claims.
 *   - A handler runs only when every query parameter is one its route
 *     declares (struct route's query), given once; a HEAD runs the GET's
 *     handler (req_method says GET, libmicrohttpd sends no body); OPTIONS
 *     runs none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "obs/accesslog.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "http/http.h"
#include "http/jsonbody.h"
#include "base/policy.h"
#include "base/log.h"
#include "obs/metrics.h"
#include "base/token.h"
#include "base/util.h"
#include "http/workers.h"

/* RS_AUTH_WAIT: suspended while an asynchronous authentication waits
 * (http_set_auth_async); RS_HANDLER_WAIT: suspended while the handler's
 * work waits (req_wait); RS_RUNNING: suspended while a worker runs the
 * handler. */
enum req_state { RS_BODY, RS_AUTH_WAIT, RS_HANDLER_WAIT, RS_RUNNING, RS_DONE };

#define RESP_MAX_HEADERS 12

struct resp_header {
    char name[40];
    char value[256];
};

struct req {
    struct MHD_Connection *conn;
    const struct config *cfg;
    const struct route *route;
    int route_idx;
    int path_idx; /* a 405: the first route whose pattern matched the path */
    struct route_params params;
    char method[12]; /* as sent (HEAD included) */
    int head;        /* a HEAD, served as its GET */
    uint64_t start_ns;
    int64_t start_ms;
    char ip[INET6_ADDRSTRLEN];
    char request_id[33];
    enum req_state state;
    atomic_int woken;      /* RS_AUTH_WAIT, RS_HANDLER_WAIT: set by the wake, before the resume */
    int auth_sync;         /* RS_AUTH_WAIT without a check handed over (http_auth_wait) */
    req_next_fn wait_next; /* req_wait: what runs when woken */
    void *wait_state;      /* req_wait, freed with wait_free when the request ends */
    void (*wait_free)(void *);
    /* body */
    uint8_t *body;
    size_t body_len, body_limit;
    int body_overflow;
    json_t *json;
    /* auth */
    char account[POLICY_ID_BUF];
    char session[POLICY_ID_BUF];
    char credential[POLICY_ID_BUF]; /* req_set_credential */
    unsigned credential_flags;
    void *prefetch; /* req_set_prefetch, freed with the request */
    void (*prefetch_free)(void *);
    /* a failure described by the handler (req_fail), answered after it */
    json_t *fail_body;
    int fail_err;
    /* response */
    int responded;
    unsigned status;
    char *resp_data;
    size_t resp_len;
    char resp_ctype[64];
    struct resp_header hdr[RESP_MAX_HEADERS];
    int n_hdr;
    int close_conn;
    int handed;       /* the response went to MHD_queue_response (http_send) */
    int discard_body; /* refused on the headers: the body is read, dropped, then answered */
    int read_scope;   /* a read scope is open (http_set_read_scope) */
};

static struct MHD_Daemon *http_daemon;
static const struct config *http_cfg;
static const struct route_table *http_routes; /* given by http_start */
static http_auth_fn http_auth;
static http_auth_begin_fn http_auth_begin;
static http_auth_fn http_auth_end;
static http_done_fn http_done_hook;
static int (*http_scope_begin)(void);
static void (*http_scope_end)(void);

void http_set_read_scope(int (*begin)(void), void (*end)(void))
{
    http_scope_begin = begin;
    http_scope_end = end;
}

void http_set_auth(http_auth_fn fn)
{
    http_auth = fn;
}

void http_set_auth_async(http_auth_begin_fn begin, http_auth_fn end)
{
    http_auth_begin = begin;
    http_auth_end = end;
}

void http_set_done(http_done_fn fn)
{
    http_done_hook = fn;
}

/* ---- request accessors ---- */

const char *req_param(struct req *rq, const char *name)
{
    for (int i = 0; i < rq->params.n; i++)
        if (strcmp(rq->params.name[i], name) == 0)
            return rq->params.value[i];
    return NULL;
}

const char *req_query(struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

const char *req_method(struct req *rq)
{
    return rq->head ? "GET" : rq->method;
}

int req_is_head(struct req *rq)
{
    return rq->head;
}

const char *req_route_pattern(struct req *rq)
{
    return rq->route ? rq->route->pattern : NULL;
}

const uint8_t *req_body(struct req *rq, size_t *len)
{
    *len = rq->body_len;
    return rq->body;
}

json_t *req_json(struct req *rq)
{
    return rq->json;
}

const char *req_ip(struct req *rq)
{
    return rq->ip;
}

const char *req_id(struct req *rq)
{
    return rq->request_id;
}

const struct config *req_config(struct req *rq)
{
    return rq->cfg;
}

const char *req_account(struct req *rq)
{
    return rq->account[0] ? rq->account : NULL;
}

const char *req_session(struct req *rq)
{
    return rq->session[0] ? rq->session : NULL;
}

void req_set_auth(struct req *rq, const char *account_id, const char *session_id)
{
    util_strlcpy(rq->account, account_id ? account_id : "", sizeof rq->account);
    util_strlcpy(rq->session, session_id ? session_id : "", sizeof rq->session);
}

unsigned req_route_flags(struct req *rq)
{
    return rq->route ? rq->route->flags : 0;
}

void req_set_credential(struct req *rq, const char *credential_id, unsigned flags)
{
    util_strlcpy(rq->credential, credential_id ? credential_id : "", sizeof rq->credential);
    rq->credential_flags = flags;
}

const char *req_credential(struct req *rq, unsigned *flags)
{
    if (flags)
        *flags = rq->credential_flags;
    return rq->credential[0] ? rq->credential : NULL;
}

void req_set_prefetch(struct req *rq, void *p, void (*fn)(void *))
{
    if (rq->prefetch && rq->prefetch_free)
        rq->prefetch_free(rq->prefetch);
    rq->prefetch = p;
    rq->prefetch_free = fn;
}

void *req_prefetch(struct req *rq)
{
    return rq->prefetch;
}

int req_wait(struct req *rq, req_next_fn next, void *state, void (*fn)(void *))
{
    if ((rq->route->flags & ROUTE_SLOW) || rq->state != RS_BODY || !next)
        return ERR_INTERNAL;
    if (rq->wait_state && rq->wait_state != state && rq->wait_free)
        rq->wait_free(rq->wait_state);
    rq->wait_next = next;
    rq->wait_state = state;
    rq->wait_free = fn;
    atomic_store(&rq->woken, 0);
    rq->state = RS_HANDLER_WAIT;
    MHD_suspend_connection(rq->conn);
    return 0;
}

void req_wait_cancel(struct req *rq)
{
    if (rq->state != RS_HANDLER_WAIT)
        return;
    MHD_resume_connection(rq->conn);
    rq->state = RS_BODY;
}

void req_wake(struct req *rq)
{
    atomic_store(&rq->woken, 1);
    MHD_resume_connection(rq->conn);
}

/* ---- responses ---- */

int resp_take(struct req *rq, unsigned status, const char *content_type, void *data, size_t n)
{
    if (rq->responded) {
        free(data);
        log_error("http", "BUG: a second response for one request was ignored (route %s)",
                  rq->route ? rq->route->pattern : "-");
        return ERR_INTERNAL;
    }
    rq->responded = 1;
    rq->status = status;
    rq->resp_data = data;
    rq->resp_len = n;
    util_strlcpy(rq->resp_ctype, content_type ? content_type : "", sizeof rq->resp_ctype);
    return 0;
}

int resp_bytes(struct req *rq, unsigned status, const char *content_type, const void *data,
               size_t n)
{
    void *copy = NULL;

    if (n) {
        copy = malloc(n);
        if (!copy)
            return ERR_NOMEM;
        memcpy(copy, data, n);
    }
    return resp_take(rq, status, content_type, copy, n);
}

int resp_empty(struct req *rq, unsigned status)
{
    return resp_take(rq, status, NULL, NULL, 0);
}

char *resp_json_text(json_t *body)
{
    char *text;

    if (!body)
        return NULL;
    text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(body);
    return text;
}

int resp_json(struct req *rq, unsigned status, json_t *body)
{
    char *text = resp_json_text(body);

    if (!text)
        return ERR_NOMEM;
    return resp_take(rq, status, "application/json", text, strlen(text));
}

/* The layer's own refusals (before or around a handler): answer at once. */
static int http_error(struct req *rq, int err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int http_error(struct req *rq, int err, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body =
        json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : err_code(err), "message", msg);
    return resp_json(rq, err_status(err), body);
}

static int req_fail_set(struct req *rq, int err, json_t *body)
{
    json_decref(rq->fail_body);
    rq->fail_body = body;
    rq->fail_err = err;
    return err;
}

int req_fail(struct req *rq, int err, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return req_fail_set(
        rq, err,
        json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : err_code(err), "message", msg));
}

int req_fail_json(struct req *rq, int err, json_t *body)
{
    return req_fail_set(rq, err, body);
}

/* Answer for a handler (or the auth hook) that returned err: with the body
 * it described by req_fail when that was for the same err, else the
 * default. A handler that answered and also returned an error broke the
 * rule of http.h: that is a bug, logged with a marker the tests look for. */
static void http_answer_failure(struct req *rq, int err, const char *dflt)
{
    if (rq->responded) {
        log_error("http", "BUG: the handler of %s %s answered and returned %s", rq->method,
                  rq->route ? rq->route->pattern : "-", err_code(err));
        return;
    }
    if (rq->fail_body && rq->fail_err == err) {
        json_t *body = rq->fail_body;
        rq->fail_body = NULL;
        resp_json(rq, err_status(err), body);
        return;
    }
    http_error(rq, err, NULL, "%s", dflt ? dflt : err_text(err));
}

int resp_header(struct req *rq, const char *name, const char *value)
{
    if (rq->n_hdr >= RESP_MAX_HEADERS)
        return ERR_INTERNAL;
    struct resp_header *h = &rq->hdr[rq->n_hdr];
    if (util_strlcpy(h->name, name, sizeof h->name) ||
        util_strlcpy(h->value, value, sizeof h->value))
        return ERR_INTERNAL;
    rq->n_hdr++;
    return 0;
}

/* ---- request set-up ---- */

/* Normalise an IPv4-mapped IPv6 address to dotted IPv4. */
static void http_addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, n);
        return;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, n);
        else
            inet_ntop(AF_INET6, a, out, n);
        return;
    }
    util_strlcpy(out, "unknown", n);
}

static int http_is_trusted(const char *ip)
{
    for (unsigned i = 0; i < http_cfg->n_trusted_proxies; i++)
        if (strcmp(http_cfg->trusted_proxies[i], ip) == 0)
            return 1;
    return 0;
}

/* Canonical text of an address given as text, or -1 when it is not one. */
static int http_canon_ip(const char *s, size_t len, char *out, size_t n)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[16];

    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    if (inet_pton(AF_INET, tmp, bin) == 1)
        return inet_ntop(AF_INET, bin, out, n) ? 0 : -1;
    if (inet_pton(AF_INET6, tmp, bin) == 1) {
        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)bin))
            return inet_ntop(AF_INET, bin + 12, out, n) ? 0 : -1;
        return inet_ntop(AF_INET6, bin, out, n) ? 0 : -1;
    }
    return -1;
}

/* Walk one X-Forwarded-For line from the right: the first hop that is not a
 * trusted proxy is the client. Returns 1 when the walk ended (client found,
 * or a malformed entry: the last good hop counts, so a client cannot smuggle
 * an address past a proxy), 0 when every hop of the line was trusted. */
static int http_forwarded_walk(struct req *rq, const char *xff)
{
    char hop[INET6_ADDRSTRLEN];
    const char *end = xff + strlen(xff);

    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (http_canon_ip(a, (size_t)(b - a), hop, sizeof hop) != 0)
            return 1;
        util_strlcpy(rq->ip, hop, sizeof rq->ip);
        if (!http_is_trusted(hop))
            return 1;
        end = start > xff ? start - 1 : xff;
    }
    return 0;
}

struct xff_lines {
    const char *line[LIMIT_HEADER_COUNT];
    unsigned n;
};

static enum MHD_Result http_xff_collect(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    struct xff_lines *x = cls;

    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0 && x->n < LIMIT_HEADER_COUNT)
        x->line[x->n++] = value;
    return MHD_YES;
}

/* Every X-Forwarded-For line is one list (RFC 9110 5.3: several lines are
 * their values joined by commas, in order): walk the lines from the last,
 * each from the right, so a line the client sent before its proxy's cannot
 * win. Lines beyond LIMIT_HEADER_COUNT are not read: such a request is
 * refused with 431 anyway. */
static void http_forwarded_ip(struct req *rq)
{
    struct xff_lines x = {.n = 0};

    if (!http_is_trusted(rq->ip))
        return;
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, http_xff_collect, &x);
    while (x.n > 0)
        if (http_forwarded_walk(rq, x.line[--x.n]))
            return;
}

static void http_client_ip(struct req *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    if (ci && ci->client_addr)
        http_addr_text(ci->client_addr, rq->ip, sizeof rq->ip);
    else
        util_strlcpy(rq->ip, "unknown", sizeof rq->ip);
    http_forwarded_ip(rq);
}

/* A request id: 16 bytes of token_unique (no system call per request). */
static void http_request_id(char out[33])
{
    unsigned char rid[16];

    token_unique(rid, sizeof rid);
    util_hex(rid, sizeof rid, out);
}

static struct req *http_req_new(struct MHD_Connection *conn, const char *method)
{
    struct req *rq = calloc(1, sizeof *rq);

    if (!rq)
        return NULL;
    rq->conn = conn;
    rq->cfg = http_cfg;
    rq->route_idx = -1;
    rq->path_idx = -1;
    rq->start_ns = clock_mono_ns();
    rq->start_ms = clock_now_ms();
    util_strlcpy(rq->method, method, sizeof rq->method);
    rq->head = strcmp(method, "HEAD") == 0;
    http_request_id(rq->request_id);
    http_client_ip(rq);
    metrics_inflight(1);
    return rq;
}

static void http_req_free(struct req *rq)
{
    if (!rq)
        return;
    json_decref(rq->json);
    json_decref(rq->fail_body);
    if (rq->body) {
        sodium_memzero(rq->body, rq->body_len); /* bodies carry passwords */
        free(rq->body);
    }
    free(rq->resp_data);
    if (rq->prefetch && rq->prefetch_free)
        rq->prefetch_free(rq->prefetch);
    if (rq->wait_state && rq->wait_free)
        rq->wait_free(rq->wait_state);
    free(rq);
}

/* ---- header checks (first call) ---- */

struct hdr_scan {
    int bad_framing;
    unsigned count;
    unsigned content_length;
    unsigned transfer_encoding;
    int te_not_chunked;
    int bad_name;
};

static enum MHD_Result http_scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    struct hdr_scan *s = cls;

    (void)kind;
    s->count++;
    if (strpbrk(key, " \t"))
        s->bad_name = 1;
    /* libmicrohttpd 0.9.75 appends an obs-fold continuation line to the
     * header NAME ("Content-Length: 0\r\n 56" arrives as "Content-Length56"),
     * so a folded framing header shows as a longer name: refuse it. */
    static const char *const framing[] = {"content-length", "transfer-encoding", "host",
                                          "connection",     "content-type",      "expect"};
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++) {
        size_t n = strlen(framing[i]);
        if (strncasecmp(key, framing[i], n) == 0 && key[n] != 0)
            s->bad_framing = 1;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        s->content_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        s->transfer_encoding++;
        if (!value || strcasecmp(value, "chunked") != 0)
            s->te_not_chunked = 1;
    }
    return MHD_YES;
}

/* Refuse request shapes that smuggle or overflow. Returns 0 or sets the
 * error response. */
static int http_check_headers(struct req *rq)
{
    struct hdr_scan s = {0};

    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, http_scan_header, &s);
    if (s.count > LIMIT_HEADER_COUNT)
        return http_error(rq, ERR_HEADERS, NULL, "the request has more than %d header lines",
                          LIMIT_HEADER_COUNT),
               -1;
    if (s.bad_name)
        return http_error(rq, ERR_BAD_REQUEST, NULL, "a header name contains a blank"), -1;
    if (s.bad_framing)
        return http_error(rq, ERR_BAD_REQUEST, NULL,
                          "a framing header is folded or misspelt (obs-fold is not accepted)"),
               -1;
    if (s.content_length > 1)
        return http_error(rq, ERR_BAD_REQUEST, NULL,
                          "the request has more than one Content-Length header"),
               -1;
    if (s.content_length && s.transfer_encoding)
        return http_error(rq, ERR_BAD_REQUEST, NULL,
                          "the request has both Content-Length and Transfer-Encoding"),
               -1;
    if (s.transfer_encoding > 1)
        return http_error(rq, ERR_BAD_REQUEST, NULL,
                          "the request has more than one Transfer-Encoding header"),
               -1;
    if (s.te_not_chunked)
        return http_error(rq, ERR_NOT_IMPLEMENTED, NULL,
                          "only the chunked transfer coding is supported"),
               -1;
    return 0;
}

static size_t http_route_limit(const struct route *r)
{
    if (r->flags & ROUTE_IMAGE_BODY)
        return LIMIT_IMAGE_BODY;
    if (r->flags & ROUTE_JSON_BODY)
        return LIMIT_JSON_BODY;
    return 0;
}

/* Media type without parameters equals want (case-insensitive). */
static int http_media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (!ct || strncasecmp(ct, want, n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == 0 || *ct == ';';
}

static int http_body_declared(struct req *rq, uint64_t *declared)
{
    const char *cl = req_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t v = 0;

    *declared = 0;
    if (req_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 1; /* chunked: size unknown */
    if (cl && util_parse_i64(cl, 0, INT64_MAX, &v) == 0)
        *declared = (uint64_t)v;
    return *declared > 0;
}

static int http_check_media(struct req *rq, int has_body)
{
    const char *ct = req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    unsigned f = rq->route->flags;

    if (f & ROUTE_JSON_BODY) {
        if (!has_body && (f & ROUTE_OPT_BODY))
            return 0;
        if (!has_body && !ct)
            return http_error(rq, ERR_MEDIA_TYPE, NULL,
                              "this route takes a JSON object as the body, with Content-Type: "
                              "application/json; the request has no body"),
                   -1;
        if (!http_media_is(ct, "application/json"))
            return http_error(rq, ERR_MEDIA_TYPE, NULL,
                              "this route takes Content-Type: application/json"),
                   -1;
    } else if (f & ROUTE_IMAGE_BODY) {
        if (!http_media_is(ct, "image/jpeg") && !http_media_is(ct, "image/png") &&
            !http_media_is(ct, "image/webp"))
            return http_error(rq, ERR_MEDIA_TYPE, NULL,
                              "this route takes image/jpeg, image/png or image/webp"),
                   -1;
    }
    return 0;
}

static enum MHD_Result http_count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    size_t *n = cls;

    (void)kind;
    *n += strlen(key) + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

/* Path plus query arguments over LIMIT_URL: 414 (libmicrohttpd itself only
 * refuses beyond its connection memory). */
static int http_check_target(struct req *rq, const char *url)
{
    size_t n = strlen(url);
    char size[32];

    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, http_count_arg, &n);
    if (n > LIMIT_URL)
        return http_error(rq, ERR_URI_TOO_LONG, NULL,
                          "the address (path and query) is over %s; send the data in a body",
                          util_size_text(LIMIT_URL, size, sizeof size)),
               -1;
    return 0;
}

/* Match the request (a HEAD as its GET). OPTIONS on a known path is
 * answered here: 204 with Allow, no handler, no authentication (no CORS:
 * no Access-Control-* header is ever sent, so a browser's preflight from
 * another origin fails, as it should for this API). */
static int http_route(struct req *rq, const char *url)
{
    int path_matched = 0;
    char allow[128] = "";

    rq->route_idx = route_match(http_routes, req_method(rq), url, &rq->params, &path_matched);
    if (rq->route_idx >= 0) {
        rq->route = &http_routes->routes[rq->route_idx];
        return 0;
    }
    if (!path_matched)
        return http_error(rq, ERR_NOT_FOUND, NULL,
                          "no page or route at this address (the API's routes are in GET "
                          "/v1/openapi.json)"),
               -1;
    rq->path_idx = route_path_index(http_routes, url);
    route_allow(http_routes, url, allow, sizeof allow);
    resp_header(rq, "Allow", allow);
    if (strcmp(rq->method, "OPTIONS") == 0)
        return resp_empty(rq, 204), -1;
    return http_error(rq, ERR_METHOD, NULL, "this address does not take %s; it takes %s",
                      rq->method, allow),
           -1;
}

/* ---- query parameters (the route's declared list) ---- */

/* 1 when name is one of the space-separated names of list. */
static int http_query_listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    while (list && *list) {
        size_t m = strcspn(list, " ");
        if (m == n && n > 0 && memcmp(list, name, n) == 0)
            return 1;
        list += m;
        list += strspn(list, " ");
    }
    return 0;
}

/* Distinct names remembered to find one given twice: more than any route
 * declares, so every repeat is found. */
#define HTTP_QUERY_SEEN 32

struct query_scan {
    const char *list;
    const char *bad; /* the first name refused */
    int twice;       /* bad was given more than once (else unknown) */
    const char *seen[HTTP_QUERY_SEEN];
    unsigned n;
};

static enum MHD_Result http_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct query_scan *q = cls;

    (void)kind;
    if (!key[0] && (!value || !value[0]))
        return MHD_YES; /* "?&" or a trailing "&": nothing given */
    if (!http_query_listed(q->list, key)) {
        q->bad = key;
        return MHD_NO;
    }
    for (unsigned i = 0; i < q->n; i++)
        if (strcmp(q->seen[i], key) == 0) {
            q->bad = key;
            q->twice = 1;
            return MHD_NO;
        }
    if (q->n < HTTP_QUERY_SEEN)
        q->seen[q->n++] = key;
    return MHD_YES;
}

/* A query parameter name as an error shows it: at most 40 bytes, anything
 * but printable ASCII as '?' (the name is the client's, decoded bytes). */
static void http_query_shown(const char *name, char *out, size_t n)
{
    size_t i = 0;

    for (; name[i] && i < 40 && i + 1 < n; i++)
        out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    out[i] = 0;
}

/* Every query parameter must be one the route declares (struct route),
 * each at most once: else 422 invalid_field naming it. */
static int http_check_query(struct req *rq)
{
    struct query_scan q = {.list = rq->route->query};
    char shown[48], msg[512];

    if (q.list && strcmp(q.list, ROUTE_QUERY_ANY) == 0)
        return 0;
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, http_query_arg, &q);
    if (!q.bad)
        return 0;
    http_query_shown(q.bad, shown, sizeof shown);
    if (q.twice)
        snprintf(msg, sizeof msg, "the query parameter '%s' is given more than once", shown);
    else if (!q.list || !q.list[0])
        snprintf(msg, sizeof msg, "unknown query parameter '%s': this route takes none", shown);
    else
        snprintf(msg, sizeof msg, "unknown query parameter '%s': this route takes %s", shown,
                 q.list);
    json_t *body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid_field", "message", msg,
                             "field", shown);
    resp_json(rq, err_status(ERR_INVALID), body);
    return -1;
}

/* Authentication runs on the headers call, before the body is read or its
 * media type judged: an unauthenticated client gets 401 and nothing more. */
static int http_authenticate(struct req *rq)
{
    int rc;

    if (!(rq->route->flags & ROUTE_AUTH))
        return 0;
    rc = rq->state == RS_AUTH_WAIT && !rq->auth_sync ? http_auth_end(rq)
         : http_auth                                 ? http_auth(rq)
                                                     : ERR_UNAUTHENTICATED;
    rq->state = RS_BODY;
    if (rc)
        http_answer_failure(rq, rc,
                            rc == ERR_UNAUTHENTICATED
                                ? "this route needs a valid session or API key: send "
                                  "Authorization: Bearer <token> (from POST /v1/login)"
                                : NULL);
    return rc ? -1 : 0;
}

/* An authenticated GET run on this thread reads through one scope. It is
 * opened only once the whole request is read (http_finish), and closed
 * before the answer is sent, so no transaction stays open while the server
 * waits on a client. */
static void http_scope_open(struct req *rq)
{
    if (http_scope_begin && strcmp(req_method(rq), "GET") == 0 && (rq->route->flags & ROUTE_AUTH) &&
        !(rq->route->flags & ROUTE_SLOW))
        rq->read_scope = http_scope_begin();
}

static void http_scope_close(struct req *rq)
{
    if (rq->read_scope && http_scope_end)
        http_scope_end();
    rq->read_scope = 0;
}

/* Everything decided from the request line and headers alone. A route
 * that takes no body refuses one, in any framing, before any storage work;
 * it is authenticated later (http_finish), once nothing is left to read.
 * Routes that take a body authenticate here, before it is read. Returns 0
 * to go on reading the body, -1 when a response is already set. */
static int http_first_rest(struct req *rq);
static int http_auth_wait(struct req *rq);
static enum MHD_Result http_send(struct req *rq);

static int http_first_call(struct req *rq, const char *url)
{
    uint64_t declared;

    if (http_check_headers(rq) || http_check_target(rq, url) || http_route(rq, url))
        return -1;
    rq->body_limit = http_route_limit(rq->route);
    if (rq->body_limit == 0 && http_body_declared(rq, &declared))
        return http_error(rq, ERR_TOO_LARGE, NULL, "this route takes no request body"), -1;
    if (rq->body_limit > 0 && http_auth_wait(rq))
        return 0; /* suspended: http_first_rest runs when the check wakes it */
    return http_first_rest(rq);
}

/* The rest of the headers call of a route that takes a body: its
 * authentication (done now, or woken from the async hook), then the
 * declared size and the media type. */
static int http_first_rest(struct req *rq)
{
    uint64_t declared;
    char size[32];
    int has_body = http_body_declared(rq, &declared);

    if (rq->body_limit > 0 && http_authenticate(rq)) {
        /* The refusal of a body the route could take is sent once the body
         * is read (and dropped): a proxy still sending it would see the
         * connection close and answer 502 instead of this 401 or 429. */
        rq->discard_body = declared > 0 && declared <= rq->body_limit &&
                           !req_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        return rq->discard_body ? 0 : -1;
    }
    if (declared > rq->body_limit)
        return http_error(rq, ERR_TOO_LARGE, NULL, "the body is over %s, the most this route takes",
                          util_size_text(rq->body_limit, size, sizeof size)),
               -1;
    if (http_check_media(rq, has_body))
        return -1;
    return 0;
}

/* A refusal on the headers call: sent at once, on a connection that
 * cannot go on when the body is left unread or the framing is in doubt. */
static enum MHD_Result http_refuse_early(struct req *rq)
{
    uint64_t declared;

    rq->close_conn = http_body_declared(rq, &declared) || rq->status == 400 || rq->status == 431 ||
                     rq->status == 501 || rq->status == 414;
    return http_send(rq);
}

static void http_body_append(struct req *rq, const char *data, size_t n)
{
    size_t need;

    if (rq->body_overflow)
        return;
    if (!size_add(rq->body_len, n, &need) || need > rq->body_limit) {
        rq->body_overflow = 1;
        return;
    }
    if (!rq->body) {
        /* bounded at creation: the route's limit, never more */
        rq->body = malloc(rq->body_limit ? rq->body_limit : 1);
        if (!rq->body) {
            rq->body_overflow = 1;
            return;
        }
    }
    memcpy(rq->body + rq->body_len, data, n);
    rq->body_len = need;
}

/* ---- running handlers ---- */

static int http_prepare_body(struct req *rq)
{
    char msg[256], size[32];

    if (rq->body_overflow)
        return http_error(rq, ERR_TOO_LARGE, NULL, "the body is over %s, the most this route takes",
                          util_size_text(rq->body_limit, size, sizeof size)),
               -1;
    if (!(rq->route->flags & ROUTE_JSON_BODY))
        return 0;
    if (rq->body_len == 0 && (rq->route->flags & ROUTE_OPT_BODY))
        return 0;
    int rc = jsonbody_parse(rq->body, rq->body_len, &rq->json, msg, sizeof msg);
    if (rc)
        return http_error(rq, rc, rc == ERR_BAD_REQUEST ? "malformed_json" : NULL, "%s", msg), -1;
    return 0;
}

/* What a handler (or its continuation, req_wait) returned: its answer,
 * unless it now waits. */
static void http_ran(struct req *rq, int rc)
{
    if (rq->state == RS_HANDLER_WAIT) {
        if (rc) /* handed over, so its continuation answers */
            log_error("http", "BUG: the handler of %s %s failed after it waited", rq->method,
                      rq->route->pattern);
        return;
    }
    if (rc)
        http_answer_failure(rq, rc, NULL);
    if (!rq->responded) {
        log_error("http", "BUG: the handler of %s %s set no response", rq->method,
                  rq->route->pattern);
        http_error(rq, ERR_INTERNAL, NULL, "%s", err_text(ERR_INTERNAL));
    }
}

static void http_run(struct req *rq)
{
    http_ran(rq, rq->route->fn(rq));
}

/* The auth layer's bookkeeping, outside any read scope (http_set_done). */
static void http_done(struct req *rq)
{
    if (http_done_hook && rq->account[0])
        http_done_hook(rq);
}

static void http_worker_run(void *arg)
{
    struct req *rq = arg;

    http_run(rq);
    http_done(rq);
    rq->state = RS_DONE;
}

static void http_auth_suspend(struct req *rq)
{
    rq->state = RS_AUTH_WAIT;
    MHD_suspend_connection(rq->conn);
}

static void http_auth_wake(struct req *rq)
{
    req_wake(rq);
}

/* Hand the authentication over to the async hook (on the headers call of
 * a route that takes a body, once the request is read for one that does
 * not): 1 when the connection now waits for its wake. */
static int http_auth_wait(struct req *rq)
{
    if (!(rq->route->flags & ROUTE_AUTH) || !http_auth_begin || !http_auth_end)
        return 0;
    if (http_auth_begin(rq, http_auth_suspend, http_auth_wake))
        return 1;
    if (rq->state == RS_AUTH_WAIT) {
        /* Suspended, then not handed over (the batcher stopping, or full).
         * libmicrohttpd sees the resume only after this call returns, and
         * then makes the same call again: on the headers call, one that
         * would look like the end of an empty body. So the request waits
         * as if handed over and is woken at once; the repeated call checks
         * it on this thread (auth_sync). */
        rq->auth_sync = 1;
        http_auth_wake(rq);
        return 1;
    }
    return 0;
}

static void http_worker_resume(void *arg)
{
    struct req *rq = arg;

    MHD_resume_connection(rq->conn);
}

static void http_worker_job(void *arg)
{
    http_worker_run(arg);
    http_worker_resume(arg);
}

static enum MHD_Result http_send(struct req *rq)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    rq->state = RS_DONE; /* whatever MHD does next, the handler never runs again */
    rq->handed = 1;
    r = MHD_create_response_from_buffer(rq->resp_len, rq->resp_data, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    rq->resp_data = NULL; /* owned by the response now */
    if (rq->resp_ctype[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rq->resp_ctype);
    MHD_add_response_header(r, "X-Request-Id", rq->request_id);
    int cache_set = 0;
    for (int i = 0; i < rq->n_hdr; i++) {
        MHD_add_response_header(r, rq->hdr[i].name, rq->hdr[i].value);
        cache_set |= strcasecmp(rq->hdr[i].name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
    }
    if (!cache_set)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (rq->close_conn)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(rq->conn, rq->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The whole request is read: authenticate a route without a body (in the
 * read scope of an authenticated GET), then check the query, then the
 * handler runs. */
static int http_finish_auth(struct req *rq)
{
    if (rq->body_limit == 0) { /* else authenticated on the headers call */
        http_scope_open(rq);
        if (http_authenticate(rq)) {
            http_scope_close(rq);
            return -1;
        }
    }
    if (http_check_query(rq)) {
        http_scope_close(rq);
        return -1;
    }
    return 0;
}

/* Run the handler of a request read and authenticated: on a worker for
 * ROUTE_SLOW routes (0: the connection waits for it), else here (1). */
static int http_handle(struct req *rq)
{
    if (!(rq->route->flags & ROUTE_SLOW)) {
        http_run(rq);
        http_scope_close(rq);
        if (rq->state == RS_HANDLER_WAIT)
            return 0; /* suspended until its work wakes it (http_continue) */
        http_done(rq);
        return 1;
    }
    rq->state = RS_RUNNING;
    MHD_suspend_connection(rq->conn);
    int rc = rq->route->flags & ROUTE_IMAGE_BODY
                 ? workers_submit_image(http_worker_run, http_worker_resume, rq, req_account(rq))
                 : workers_submit(http_worker_job, rq);
    if (rc == 0)
        return 0;
    MHD_resume_connection(rq->conn);
    rq->state = RS_BODY;
    http_error(rq, rc, NULL,
               rc == ERR_RATE_LIMITED
                   ? "another image upload of this account is in progress; try again "
                     "when it is done"
                   : "the server is busy; try again");
    resp_header(rq, "Retry-After", "1");
    return 1;
}

/* The whole request is read (or, RS_AUTH_WAIT, its authentication woke). */
static enum MHD_Result http_finish(struct req *rq)
{
    if (rq->discard_body)
        return http_send(rq); /* the refusal of http_first_call */
    if (rq->state != RS_AUTH_WAIT && http_prepare_body(rq) != 0)
        return http_send(rq);
    if (rq->state != RS_AUTH_WAIT && rq->body_limit == 0 && http_auth_wait(rq))
        return MHD_YES; /* suspended until the authentication wakes it */
    if (http_finish_auth(rq) == 0 && http_handle(rq) == 0)
        return MHD_YES; /* suspended until its worker is done */
    return http_send(rq);
}

/* A handler's work woke it (req_wake): its continuation runs in its place,
 * and answers or waits again. */
static enum MHD_Result http_continue(struct req *rq)
{
    atomic_store(&rq->woken, 0);
    rq->state = RS_BODY;
    http_ran(rq, rq->wait_next(rq, rq->wait_state));
    if (rq->state == RS_HANDLER_WAIT)
        return MHD_YES;
    http_done(rq);
    return http_send(rq);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct req *rq = *con_cls;

    (void)cls;
    (void)version;
    if (!rq) {
        rq = http_req_new(conn, method);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return http_first_call(rq, url) ? http_refuse_early(rq) : MHD_YES;
    }
    /* MHD asks again after a response was handed over: its queue refused it
     * without saying so (a daemon shutting down does). Close the connection. */
    if (rq->handed)
        return MHD_NO;
    if (rq->state == RS_RUNNING)
        return MHD_YES; /* resumed spuriously; the worker is not done */
    if (rq->state == RS_AUTH_WAIT && !atomic_load(&rq->woken))
        return MHD_YES; /* resumed spuriously; the check is not answered */
    if (rq->state == RS_AUTH_WAIT && rq->body_limit > 0) /* woken on the headers call */
        return http_first_rest(rq) ? http_refuse_early(rq) : MHD_YES;
    if (rq->state == RS_AUTH_WAIT)
        return http_finish(rq);
    if (rq->state == RS_HANDLER_WAIT)
        return atomic_load(&rq->woken) ? http_continue(rq) : MHD_YES;
    if (rq->state == RS_DONE)
        return http_send(rq);
    if (*upload_data_size) {
        if (!rq->discard_body)
            http_body_append(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return http_finish(rq);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct req *rq = *con_cls;
    struct accesslog_entry e;
    uint64_t dur;

    (void)cls;
    (void)conn;
    if (!rq)
        return;
    *con_cls = NULL;
    http_scope_close(rq); /* a request that ended before its handler ran */
    dur = clock_mono_ns() - rq->start_ns;
    /* 499: the client went away before a response was sent (nginx's code) */
    unsigned status = rq->responded ? rq->status : 499;
    memset(&e, 0, sizeof e);
    e.time_ms = rq->start_ms;
    util_strlcpy(e.ip, rq->ip, sizeof e.ip);
    util_strlcpy(e.method, rq->method, sizeof e.method);
    e.route = rq->route ? rq->route->pattern : "(unmatched)";
    e.status = status;
    e.duration_ms = (double)dur / 1e6;
    memcpy(e.request_id, rq->request_id, sizeof e.request_id);
    accesslog_write(&e);
    metrics_request(rq->route_idx, rq->path_idx, rq->method, status, dur);
    metrics_inflight(-1);
    http_req_free(rq);
}

/* libmicrohttpd's messages: its own format strings, passed through. */
__attribute__((format(printf, 2, 0))) static void http_mhd_log(void *cls, const char *fmt,
                                                               va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    log_msg(LOG_DEBUG, "mhd", "%s", msg);
}

static int http_bind_addr(const char *host, unsigned port_n, struct sockaddr_storage *ss,
                          int *is_v6)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[8];

    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%u", port_n);
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || !res) {
        log_error("http", "cannot use listen address %s", host);
        return ERR_INVALID;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *is_v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* ---- binding, before anything else is created ---- */

/* The sockets http_bind made, handed to libmicrohttpd by http_start (which
 * then owns them), or closed by http_unbind. */
static int http_listen_fd = -1, http_metrics_fd = -1;

/* Why a listener cannot bind, in words an operator can act on. */
static const char *http_bind_why(int errnum)
{
    switch (errnum) {
    case EADDRINUSE:
        return "the address is already in use (another process listens on that port: stop it or "
               "choose another port with --listen)";
    case EACCES:
    case EPERM:
        return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE: choose a "
               "port from 1024, or put a proxy in front)";
    case EADDRNOTAVAIL:
        return "the address is not a local address (no interface of this machine has it: use one "
               "of its addresses, 127.0.0.1, or :PORT for all interfaces)";
    case EAFNOSUPPORT:
        return "this machine has no support for that address family";
    default:
        return NULL;
    }
}

/* A listening socket on host:port, or -1 after logging why (flag names the
 * setting: --listen or --metrics-listen). */
static int http_bind_one(const char *flag, const char *host, unsigned port, unsigned *bound)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int is_v6 = 0, one = 1, fd, e;
    char ebuf[128];
    const char *why;

    if (http_bind_addr(host, port, &ss, &is_v6))
        return -1;
    len = is_v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    fd = socket(is_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    /* as libmicrohttpd does for the sockets it makes itself (and its backlog) */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (is_v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0))
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0)
        goto fail;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        goto fail;
    *bound = ntohs(is_v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                         : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
fail:
    e = errno;
    why = http_bind_why(e);
    log_error("http", "cannot listen on %s%s%s:%u (%s): %s", is_v6 ? "[" : "", host,
              is_v6 ? "]" : "", port, flag, why ? why : strerror_r(e, ebuf, sizeof ebuf));
    if (fd >= 0)
        close(fd);
    return -1;
}

int http_bind(const struct config *cfg, unsigned *port, unsigned *metrics_port)
{
    http_unbind();
    http_listen_fd = http_bind_one("--listen", cfg->listen_host, cfg->port, port);
    if (http_listen_fd < 0)
        return ERR_UNAVAILABLE;
    *metrics_port = 0;
    if (cfg->metrics_on) {
        http_metrics_fd =
            http_bind_one("--metrics-listen", cfg->metrics_host, cfg->metrics_port, metrics_port);
        if (http_metrics_fd < 0) {
            http_unbind();
            return ERR_UNAVAILABLE;
        }
    }
    return 0;
}

void http_unbind(void)
{
    if (http_listen_fd >= 0)
        close(http_listen_fd);
    if (http_metrics_fd >= 0)
        close(http_metrics_fd);
    http_listen_fd = http_metrics_fd = -1;
}

/* ---- the metrics listener ---- */

/* The metrics listener (--metrics-listen) serves GET /metrics and nothing
 * else; the public listener has no /metrics, so nothing the counters show
 * (mails sent, erasures, per-route statuses) is observable from it. It
 * reads no body; its only storage work is metrics_render's reading of the
 * storage gauges (obs/metrics.c, invariant 6: two fixed aggregate queries,
 * at most once per LIMIT_METRICS_REFRESH_MS, nothing of the scraper's
 * request in them). */
static struct MHD_Daemon *http_metrics_daemon;

static enum MHD_Result http_metrics_answer(struct MHD_Connection *conn, unsigned status,
                                           const char *ctype, char *text, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, text, text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result http_metrics_access(void *cls, struct MHD_Connection *conn, const char *url,
                                           const char *method, const char *version,
                                           const char *upload_data, size_t *upload_data_size,
                                           void **con_cls)
{
    size_t len = 0;
    char *text;

    (void)cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(url, "/metrics") != 0)
        return http_metrics_answer(conn, 404, "text/plain", NULL, 0);
    if (strcmp(method, "GET") != 0)
        return http_metrics_answer(conn, 405, "text/plain", NULL, 0);
    text = metrics_render(&len);
    if (!text)
        return MHD_NO;
    return http_metrics_answer(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static int http_metrics_start(const struct config *cfg)
{
    struct sockaddr_storage ss;
    int is_v6 = 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (!cfg->metrics_on)
        return 0;
    if (http_bind_addr(cfg->metrics_host, cfg->metrics_port, &ss, &is_v6))
        return ERR_INVALID;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    MHD_socket fd = http_metrics_fd; /* bound by http_bind */
    http_metrics_fd = -1;            /* libmicrohttpd closes it from now on */
    http_metrics_daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_metrics_access, NULL, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log,
        NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, LIMIT_METRICS_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)LIMIT_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
    if (!http_metrics_daemon) {
        log_error("http", "cannot listen for metrics on %s:%u", cfg->metrics_host,
                  cfg->metrics_port);
        return ERR_UNAVAILABLE;
    }
    return 0;
}

static void http_metrics_stop(void)
{
    if (http_metrics_daemon)
        MHD_stop_daemon(http_metrics_daemon);
    http_metrics_daemon = NULL;
}

int http_start(const struct config *cfg, const struct route_table *routes, unsigned *port)
{
    struct sockaddr_storage ss;
    int is_v6 = 0;
    unsigned threads = cfg->threads ? cfg->threads : util_ncpu();
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

    unsigned bound, metrics_bound;

    if (http_bind_addr(cfg->listen_host, cfg->port, &ss, &is_v6))
        return ERR_INVALID;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    if (http_listen_fd < 0 && http_bind(cfg, &bound, &metrics_bound))
        return ERR_UNAVAILABLE;
    http_cfg = cfg;
    http_routes = routes;
    signal(SIGPIPE, SIG_IGN);
    if (http_metrics_start(cfg)) {
        http_unbind();
        return ERR_UNAVAILABLE;
    }
    if (workers_start(util_ncpu())) {
        http_metrics_stop();
        http_unbind();
        return ERR_INTERNAL;
    }
    MHD_socket fd = http_listen_fd;
    http_listen_fd = -1; /* libmicrohttpd closes it from now on */
    http_daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, NULL, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        LIMIT_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, LIMIT_CONN_PER_IP,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT,
        1, MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_END);
    if (!http_daemon) {
        log_error("http", "cannot listen on %s:%u", cfg->listen_host, cfg->port);
        workers_stop();
        http_metrics_stop();
        return ERR_UNAVAILABLE;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : cfg->port;
    return 0;
}

void http_stop(void)
{
    if (!http_daemon)
        return;
    /* No MHD_quiesce_daemon: on an epoll daemon with a thread pool it races
     * the pool's own removal of the listening socket and aborts the process
     * (libmicrohttpd 0.9.75, "Failed to remove listen FD from epoll set").
     * Requests still arriving meanwhile are served; a slow route's job is
     * refused with 503 once the pools stop. */
    workers_stop(); /* finishes queued jobs, which resume their connections */
    MHD_stop_daemon(http_daemon);
    http_daemon = NULL;
    http_metrics_stop();
}
