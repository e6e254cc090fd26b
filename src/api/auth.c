/*
 * auth.c - the authentication hook of ROUTE_AUTH routes (http_set_auth),
 * and the one place that decides what a credential may call, from the
 * route's flags, before any handler runs.
 *
 * A credential is a session token in "Authorization: Bearer" (POST
 * /v1/login), an API key in the same header ("atk_...", account/apikey.h),
 * or a browser's session cookie (api/websession.h). The rules, in order:
 *   1. unknown, malformed, expired or deleted: 401 with the Bearer challenge
 *      (to a cookie, the stale cookies are removed too);
 *   2. a cookie-authenticated write (not GET or HEAD) passes the CSRF checks
 *      (Origin and X-CSRF-Token), else 403 csrf_failed;
 *   3. an API key of an account that restricts processing: 403 restricted,
 *      on every route (its keys stop working);
 *   4. an API key on a route without ROUTE_KEY_OK: 403 insufficient_scope
 *      (security routes: password, email, 2FA, keys, restriction, deletion,
 *      logout, and every route that does not say otherwise);
 *   5. a read key on anything but GET: 403 insufficient_scope;
 *   6. a session (header or cookie) of a restricted account on a route
 *      without ROUTE_RESTRICTED_OK: 403 restricted.
 * So a new route is closed to keys and to restricted accounts until its
 * entry in routes.c opens it.
 *
 * Invariants: a credential is looked up by its hash (account_session_find,
 * apikey_find), never stored; an Authorization header wins over a cookie,
 * and a request with one is never judged by its cookie; a cookie is only
 * ever a session, never an API key; the request is marked authenticated
 * (req_set_auth) only when every rule passed; the WWW-Authenticate
 * challenge goes with 401 answers, and with error="insufficient_scope" on
 * 403 insufficient_scope (RFC 6750). A key's last use is written after the
 * handler (api_request_done), outside the read scope of a GET.
 *
 * On ROUTE_AUTH_MODEL routes a session's check also reads the caller's
 * model {id}, in the same statement (STMT_SESSION_AUTH_MODEL: one round
 * trip instead of two on PostgreSQL); the handler takes it with
 * api_model_take. It is handed over only when every rule passed. API keys
 * keep their own lookup, and the handler loads the model itself.
 *
 * On PostgreSQL that joined check of a session goes through the storage
 * batcher (store/db.h: db_batch_submit) when it runs, on every method:
 * api_auth_begin hands the statement over and the HTTP layer suspends the
 * connection (on the headers call of a route that takes a body, such as a
 * PATCH), so the event thread serves others meanwhile; api_auth_end
 * applies the same rules to the answer as api_auth_session. A request the
 * batcher cannot take (not running, queue full) is checked on the event
 * thread as before.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account/account.h"
#include "account/apikey.h"
#include "api/api.h"
#include "api/websession.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "models/models.h"
#include "store/db.h"

/* req_set_credential flags of a request authenticated by an API key */
#define API_CRED_KEY   1u
#define API_CRED_TOUCH 2u

static int api_restricted(struct req *rq, const char *what)
{
    return req_fail(rq, ERR_FORBIDDEN, "restricted",
                    "the owner of this account has restricted its processing: %s until the "
                    "restriction is lifted (DELETE /v1/account/restrict)",
                    what);
}

static int api_insufficient_scope(struct req *rq, const char *why)
{
    resp_header(rq, "WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
    return req_fail(rq, ERR_FORBIDDEN, "insufficient_scope", "%s", why);
}

static int api_auth_key(struct req *rq, const char *key)
{
    struct apikey_auth k;
    unsigned flags = req_route_flags(rq);
    int rc = apikey_find(db_thread(), key, clock_now_ms(), &k);

    if (rc)
        return rc;
    if (k.restricted)
        return api_restricted(rq, "its API keys do not work");
    if (!(flags & ROUTE_KEY_OK))
        return api_insufficient_scope(
            rq, "API keys cannot call this route; it needs a session (POST /v1/login)");
    if (k.scope != APIKEY_WRITE && strcmp(req_method(rq), "GET") != 0)
        return api_insufficient_scope(rq, "a read key can only read (GET); this needs a write key");
    req_set_auth(rq, k.account, NULL);
    req_set_credential(rq, k.id, API_CRED_KEY | (k.touch_due ? API_CRED_TOUCH : 0));
    return 0;
}

/* The model a ROUTE_AUTH_MODEL route's session check read (req_prefetch). */
struct api_model {
    int rc; /* 0, or models_from_row's error (ERR_NOT_FOUND) */
    struct model m;
};

static void api_model_free(void *p)
{
    struct api_model *a = p;

    if (a) {
        models_release(&a->m);
        free(a);
    }
}

int api_model_take(struct req *rq, struct model *m, int *rc)
{
    struct api_model *a = req_prefetch(rq);

    if (!a || !(req_route_flags(rq) & ROUTE_AUTH_MODEL))
        return 0;
    *rc = a->rc;
    *m = a->m;
    memset(&a->m, 0, sizeof a->m);
    a->rc = ERR_NOT_FOUND; /* taken: a second take finds nothing */
    return 1;
}

/* The model read by the joined session check, from its row (0), or the
 * error that stops the request (ERR_NOMEM). */
static int api_model_read(struct db_rows *row, struct api_model **pre)
{
    if (!(*pre = calloc(1, sizeof **pre)))
        return ERR_NOMEM;
    (*pre)->rc = models_from_row(row, 3, &(*pre)->m);
    return 0;
}

/* The session check, joined to the route's model on ROUTE_AUTH_MODEL
 * routes (*pre then receives it). */
static int api_session_find(struct req *rq, const char *token, char account_id[POLICY_ID_BUF],
                            char session_id[POLICY_ID_BUF], int64_t *since, struct api_model **pre)
{
    const char *id = req_param(rq, "id");
    struct db_rows *rows = NULL;
    int rc;

    *pre = NULL;
    if (!(req_route_flags(rq) & ROUTE_AUTH_MODEL) || !id)
        return account_session_find(db_thread(), token, account_id, session_id, since);
    struct db_param x[] = {DB_TEXT(id)};
    rc = account_session_find_join(db_thread(), token, STMT_SESSION_AUTH_MODEL, x, 1, account_id,
                                   session_id, since, &rows);
    if (rc == 0)
        rc = api_model_read(rows, pre);
    db_rows_free(rows);
    return rc;
}

/* The rules of a session once its check gave rc (and, on 0, the account,
 * the session, the restriction and the prefetched model, taken). */
static int api_session_rules(struct req *rq, const char *token, int cookie, int rc,
                             const char *account_id, const char *session_id, int64_t since,
                             struct api_model *pre)
{
    const char *m = req_method(rq);

    if (rc == 0 && cookie && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
        rc = websession_check_write(rq, token);
    if (rc == ERR_UNAUTHENTICATED && cookie)
        websession_clear(rq);
    if (!rc && since && !(req_route_flags(rq) & ROUTE_RESTRICTED_OK))
        rc = api_restricted(rq, "this route is closed to it");
    if (rc) {
        api_model_free(pre);
        return rc;
    }
    req_set_auth(rq, account_id, session_id);
    if (pre)
        req_set_prefetch(rq, pre, api_model_free);
    return 0;
}

/* A session token from the header or (cookie set) the browser's cookie. */
static int api_auth_session(struct req *rq, const char *token, int cookie)
{
    char account_id[POLICY_ID_BUF] = "", session_id[POLICY_ID_BUF] = "";
    struct api_model *pre = NULL;
    int64_t since = 0;
    int rc = api_session_find(rq, token, account_id, session_id, &since, &pre);

    return api_session_rules(rq, token, cookie, rc, account_id, session_id, since, pre);
}

/* The credential of the request: 1 with a session token (*cookie set when
 * it came from the cookie), 2 with an API key, 0 without a usable one. An
 * Authorization header wins over a cookie. */
static int api_credential(struct req *rq, const char **cred, int *cookie)
{
    const char *h = req_header(rq, "Authorization");
    const char *c = req_cookie(rq, WEBSESSION_COOKIE);

    *cookie = 0;
    if (!h && c && c[0]) {
        *cred = c;
        *cookie = 1;
        return 1;
    }
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    *cred = h + 7;
    return apikey_is_key(h + 7) ? 2 : 1;
}

static int api_challenge(struct req *rq, int rc)
{
    if (rc == ERR_UNAUTHENTICATED) /* the challenge goes with 401s only */
        resp_header(rq, "WWW-Authenticate", "Bearer");
    return rc;
}

int api_authenticate(struct req *rq)
{
    const char *cred = NULL;
    int cookie = 0;
    int kind = api_credential(rq, &cred, &cookie);

    return api_challenge(rq, kind == 2   ? api_auth_key(rq, cred)
                             : kind == 1 ? api_auth_session(rq, cred, cookie)
                                         : ERR_UNAUTHENTICATED);
}

/* ---- the same session check through the storage batcher ---- */

/* A joined session check handed to the batcher, in the request's prefetch
 * slot until api_auth_end takes it. The batch thread writes rc and rows,
 * then wakes the request; nothing else touches it meanwhile. */
struct api_pending {
    struct req *rq;
    http_req_fn wake;
    const char *token; /* the request's own header or cookie value */
    int cookie;
    int rc;
    struct db_rows *rows;
};

static void api_pending_free(void *p)
{
    struct api_pending *a = p;

    if (a) {
        db_rows_free(a->rows);
        free(a);
    }
}

static void api_auth_answered(void *arg, int rc, struct db_rows *rows, int64_t changes)
{
    struct api_pending *a = arg;

    a->rc = rc;
    a->rows = rows;
    a->wake(a->rq);
}

int api_auth_begin(struct req *rq, http_req_fn suspend, http_req_fn wake)
{
    const char *id = req_param(rq, "id"), *token = NULL;
    uint8_t hash[TOKEN_HASH_BYTES];
    struct db_param p[3];
    struct api_pending *a;
    int cookie = 0;

    if (!db_batch_running() || !(req_route_flags(rq) & ROUTE_AUTH_MODEL) || !id ||
        api_credential(rq, &token, &cookie) != 1)
        return 0;
    struct db_param x[] = {DB_TEXT(id)};
    if (account_session_join_params(token, hash, x, 1, p) || !(a = calloc(1, sizeof *a)))
        return 0; /* a malformed token: refused on the usual path */
    *a = (struct api_pending){
        .rq = rq, .wake = wake, .token = token, .cookie = cookie, .rc = ERR_INTERNAL};
    req_set_prefetch(rq, a, api_pending_free);
    suspend(rq);
    if (db_batch_submit(STMT_SESSION_AUTH_MODEL, p, 3, api_auth_answered, a) == 0)
        return 1;
    req_set_prefetch(rq, NULL, NULL); /* frees a */
    return 0;
}

int api_auth_end(struct req *rq)
{
    char account_id[POLICY_ID_BUF] = "", session_id[POLICY_ID_BUF] = "";
    struct api_pending *a = req_prefetch(rq);
    struct api_model *pre = NULL;
    struct db_rows *row = NULL;
    int64_t since = 0;

    if (!a)
        return ERR_INTERNAL; /* api_auth_begin left no check: cannot happen */
    const char *token = a->token;
    int cookie = a->cookie, rc = a->rc;
    if (rc == 0) {
        rc = account_session_join_read(a->rows, account_id, session_id, &since, &row);
        a->rows = NULL; /* taken */
    }
    req_set_prefetch(rq, NULL, NULL); /* frees a */
    if (rc == 0)
        rc = api_model_read(row, &pre);
    db_rows_free(row);
    return api_challenge(
        rq, api_session_rules(rq, token, cookie, rc, account_id, session_id, since, pre));
}

void api_request_done(struct req *rq)
{
    unsigned flags = 0;
    const char *key = req_credential(rq, &flags);
    int rc;

    if (!key || !(flags & API_CRED_KEY) || !(flags & API_CRED_TOUCH))
        return;
    if ((rc = apikey_touch(db_thread(), key, clock_now_ms())))
        log_warn("auth", "the last use of an API key was not recorded: %s", err_text(rc));
}
