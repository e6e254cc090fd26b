/*
 * req.h - what a handler sees of a request, and how it answers.
 *
 * The rule: a handler either answers with exactly one resp_* call and
 * returns 0, or returns a negative enum err and answers nothing; the layer
 * then sends the body described by req_fail()/req_fail_json() for that err,
 * or a default error body. A handler that does both is a bug: http.c logs
 * it ("BUG: ... answered and returned") and the API tests fail on that line.
 */
#ifndef ATELIER_HTTP_REQ_H
#define ATELIER_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct config;
struct req;

/* ---- request accessors for handlers ---- */
const char *req_param(struct req *rq, const char *name); /* path capture */
const char *req_query(struct req *rq, const char *name); /* query argument */
const char *req_header(struct req *rq, const char *name);
/* A cookie of the request's Cookie header, or NULL. */
const char *req_cookie(struct req *rq, const char *name);
/* "GET" for a HEAD request: a HEAD is served as its GET (http.h). */
const char *req_method(struct req *rq);
/* 1 when the request is a HEAD (the answer's body is not sent). */
int req_is_head(struct req *rq);
/* The pattern of the matched route ("/v1/models/{id}"). */
const char *req_route_pattern(struct req *rq);
const uint8_t *req_body(struct req *rq, size_t *len);
json_t *req_json(struct req *rq);   /* parsed body of JSON routes (borrowed) */
const char *req_ip(struct req *rq); /* client IP after trusted-proxy rules */
const char *req_id(struct req *rq); /* request id */
const struct config *req_config(struct req *rq);
/* Authenticated account id (ROUTE_AUTH routes), else NULL. */
const char *req_account(struct req *rq);
/* Opaque per-request slot for the auth layer (session id etc.). */
void req_set_auth(struct req *rq, const char *account_id, const char *session_id);
const char *req_session(struct req *rq);
/* The route's flags (enum route_flags, http/http.h): with req_method, what
 * the auth hook judges a credential against. */
unsigned req_route_flags(struct req *rq);
/* A second slot for the auth layer: the id of the credential when it is not
 * a session (an API key: req_session() is then NULL) and the auth layer's
 * own flags, for its done hook (http_set_done). */
void req_set_credential(struct req *rq, const char *credential_id, unsigned flags);
const char *req_credential(struct req *rq, unsigned *flags);
/* A third slot for the auth layer: what it read together with the
 * credential for the handler (a route's model, in the same statement as the
 * session check), freed with fn when the request ends. */
void req_set_prefetch(struct req *rq, void *p, void (*fn)(void *));
void *req_prefetch(struct req *rq);

/* A handler that waits for storage without holding its event thread (the
 * storage batcher). req_wait(rq, next, state, fn) suspends the connection
 * and must be called before the work is handed over; it returns 0, or an
 * err when the request cannot wait (a ROUTE_SLOW route, which runs on a
 * worker and may simply block; a request already waiting): then the handler
 * goes on itself. state is the request's from then on, freed with fn when
 * the request ends (or when another state replaces it; waiting again with
 * the same one keeps it). Once the work is handed over, the handler returns 0
 * without answering; req_wake(rq), called exactly once from any thread when
 * the work is done, has next(rq, state) run on an event thread in the
 * handler's place (it answers, or waits again). A hand-over that fails
 * after req_wait is undone with req_wait_cancel(rq), which resumes the
 * connection (state stays until the request ends), and the handler goes
 * on itself and answers in the same call (libmicrohttpd sees the resume
 * only after the call returns, and then calls again unless it has the
 * answer). */
typedef int (*req_next_fn)(struct req *rq, void *state);
int req_wait(struct req *rq, req_next_fn next, void *state, void (*fn)(void *));
void req_wait_cancel(struct req *rq);
void req_wake(struct req *rq);

/* ---- responses: exactly one per request ---- */
/* body is stolen (json_decref'd by the layer). */
int resp_json(struct req *rq, unsigned status, json_t *body);
/* body as compact ASCII JSON text (malloc'd), taking the reference of body;
 * NULL when body is NULL or out of memory. resp_json's text, for answers
 * sent another way (api/cacheable.c). */
char *resp_json_text(json_t *body);
/* data is copied. */
int resp_bytes(struct req *rq, unsigned status, const char *content_type, const void *data,
               size_t n);
/* data ownership passes to the layer, which free()s it. */
int resp_take(struct req *rq, unsigned status, const char *content_type, void *data, size_t n);
int resp_empty(struct req *rq, unsigned status);
/* Extra response header (copied); at most 12 per response. A handler's
 * Cache-Control replaces the default no-store. */
int resp_header(struct req *rq, const char *name, const char *value);

/* ---- failures: describe, then return the err ---- */
/* Describe the answer to a failure: {"error":{"code":code,"message":...}}
 * with err_status(err); code NULL means err_code(err). Sends nothing: the
 * handler returns the result (err) and the layer answers with this body.
 * A later call replaces an earlier one. A handler may describe, before its
 * work, the failure that work may end in (the 404 of an id that names
 * nothing): the body is used only if the handler returns that same err.
 * Messages follow docs/API.md, "How errors read". */
int req_fail(struct req *rq, int err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with a complete body (stolen), e.g. a 422 naming fields. */
int req_fail_json(struct req *rq, int err, json_t *body);

#endif
