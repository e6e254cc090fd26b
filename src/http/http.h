/*
 * http.h - the HTTP layer: the libmicrohttpd daemon, request state, limits,
 * and the response helpers that handlers use.
 *
 * A request passes through http.c in this order:
 *   1. headers: count, duplicate/conflicting Content-Length and
 *      Transfer-Encoding, header names with blanks -> 400/431;
 *      route match (a HEAD as its GET) -> 404/405, OPTIONS -> 204 with Allow;
 *      a body on a route that takes none -> 413;
 *      bearer token of ROUTE_AUTH routes that take a body -> 401, or 403
 *      when the route's flags refuse that credential (routes without one
 *      are authenticated once the request is complete);
 *      declared size over the route's limit -> 413; wrong Content-Type -> 415.
 *   2. body: collected into a buffer bounded by the route's limit; a chunked
 *      body that outgrows it is drained and answered 413.
 *   3. JSON routes: the body is parsed strictly (UTF-8, no duplicate keys,
 *      depth limit, object at top level) -> 400 on failure.
 *   4. the query parameters: only the route's declared ones, each once -> 422
 *      naming the first other (after authentication, before the handler).
 *   5. the handler runs (ROUTE_SLOW ones on the worker pool, the connection
 *      suspended meanwhile) and fills the response.
 *   6. completion: access log line, metrics.
 *
 * Handlers see requests through http/req.h only. Every response carries
 * X-Request-Id and Cache-Control: no-store (unless the handler set its own
 * Cache-Control: the site's pages and api/cacheable.c's public documents,
 * revalidated by ETag).
 */
#ifndef ATELIER_HTTP_H
#define ATELIER_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "http/req.h"

struct config;

typedef int (*handler_fn)(struct req *rq);

enum route_flags {
    ROUTE_JSON_BODY = 1 << 0,  /* body is a JSON object, <= LIMIT_JSON_BODY */
    ROUTE_IMAGE_BODY = 1 << 1, /* body is an image, <= LIMIT_IMAGE_BODY */
    ROUTE_AUTH = 1 << 2,       /* needs a valid bearer token */
    ROUTE_SLOW = 1 << 3,       /* CPU-heavy: run on the worker pool */
    ROUTE_OPT_BODY = 1 << 4,   /* with JSON_BODY: an empty body is allowed */
    /* What an authenticated route allows beyond a session of an account in
     * good standing. Both are refused unless the route says so, so a new
     * route is closed to API keys and to restricted accounts by default;
     * the auth hook (api/auth.c) enforces them before any handler runs. */
    ROUTE_KEY_OK = 1 << 5,        /* an API key may call it (a read key: GET only) */
    ROUTE_RESTRICTED_OK = 1 << 6, /* a restricted account may call it (GDPR art. 18) */
    ROUTE_AUTH_MODEL = 1 << 7,    /* {id} names a model of the caller: a session check reads
                                     it in the same statement (api/auth.c) */
};

struct route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/models/{id}", "/v1/models/{id}/patterns/{design}.svg" */
    handler_fn fn;
    unsigned flags;
    /* The query parameters the route accepts, names separated by spaces
     * ("breasts"); NULL (an entry that leaves it out): none. ROUTE_QUERY_ANY:
     * any (the site's pages, whose links others write). The layer refuses
     * any other name, and a name given twice, with 422 naming it, after
     * authentication and before the handler (http_check_query). */
    const char *query;
};

#define ROUTE_QUERY_ANY "*"

/* HEAD is answered on every GET route by the GET route itself (the
 * handler runs, req_method says "GET", libmicrohttpd sends the headers and
 * the Content-Length of the GET without the body); OPTIONS on any known
 * path answers 204 with Allow, without authentication and without running
 * a handler. Allow (here and on 405) lists the path's methods, HEAD after
 * GET, and OPTIONS. */

/* A route table, given to http_start by the program (src/api/routes.c). */
struct route_table {
    const struct route *routes;
    size_t n;
};

/* Match method+path. Returns the route index, or -1 with *path_matched set
 * to 1 when the path exists under another method (405), 0 otherwise (404).
 * When params is non-NULL, up to 4 {name} captures are stored there. */
struct route_params {
    int n;
    char name[4][24];
    char value[4][128];
};
int route_match(const struct route_table *t, const char *method, const char *path,
                struct route_params *params, int *path_matched);

/* The index of the first route whose pattern matches path, whatever its
 * method, or -1: the route a 405 is counted under in the metrics. */
int route_path_index(const struct route_table *t, const char *path);

/* Write the methods allowed on path into out ("GET, HEAD, DELETE, OPTIONS");
 * "" when no route has that path. */
void route_allow(const struct route_table *t, const char *path, char *out, size_t n);

/* The auth layer's hook for ROUTE_AUTH routes: it reads the Authorization
 * header, calls req_set_auth and returns 0, or returns an err (401, 429...). */
typedef int (*http_auth_fn)(struct req *rq);
void http_set_auth(http_auth_fn fn);

/* An authentication that waits for storage without holding the event
 * thread, at the moment the synchronous one would run (the headers call for
 * a route that takes a body, once the request is read for one that does
 * not). begin(rq, suspend, wake) returns 0 when it does not apply: the request
 * goes through the http_set_auth hook. Else it calls suspend(rq) before it
 * hands the check over, returns 1, and wake(rq) is later called exactly
 * once, from any thread; then end(rq) gives what the http_set_auth hook
 * would have. If begin called suspend and still returns 0, the connection
 * is resumed and the synchronous hook runs. api/auth.c provides them (the
 * session check through the storage batcher on PostgreSQL). */
typedef void (*http_req_fn)(struct req *rq);
typedef int (*http_auth_begin_fn)(struct req *rq, http_req_fn suspend, http_req_fn wake);
void http_set_auth_async(http_auth_begin_fn begin, http_auth_fn end);

/* The auth layer's bookkeeping after an authenticated request (the last use
 * of an API key): called once the handler has answered and the read scope
 * of a GET is closed, on the thread that ran the handler, before the answer
 * is sent; only for requests the hook authenticated. Its writes therefore
 * never run inside a read scope. NULL for none. */
typedef void (*http_done_fn)(struct req *rq);
void http_set_done(http_done_fn fn);

/* Hooks around an authenticated GET served on the event thread: begin is
 * called once the whole request is read, before authentication; end after
 * the handler (or the refusal), before the answer is sent.
 * begin returns 1 when it opened something end must close. Storage
 * provides them (db_read_begin/db_read_end); the HTTP layer stays ignorant
 * of storage. */
void http_set_read_scope(int (*begin)(void), void (*end)(void));

/* Bind the public listener (--listen) and the metrics listener
 * (--metrics-listen, when on) now: `serve` calls it before it creates any
 * file, so a taken port leaves nothing behind. On failure it logs why (the
 * address is in use, permission, not a local address) and returns an err.
 * *port and *metrics_port receive the bound ports (port 0 asks for any).
 * http_start serves on these sockets; http_unbind closes them when
 * http_start will not run. */
int http_bind(const struct config *cfg, unsigned *port, unsigned *metrics_port);
void http_unbind(void);

/* Start serving (and the metrics listener when cfg->metrics_on: GET
 * /metrics only, on its own address); returns after the daemon is up (port written to *port when
 * the config asked for port 0). */
int http_start(const struct config *cfg, const struct route_table *routes, unsigned *port);
/* Stop accepting, finish in-flight requests, stop the worker pool. */
void http_stop(void);

#endif
