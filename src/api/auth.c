/*
 * auth.c - the authentication hook of ROUTE_AUTH routes: a bearer token for
 * API clients, or the session cookie of a browser (api/websession.h).
 *
 * Invariants: a token (header or cookie) is looked up by its keyed hash
 * (account_session_find), never stored; an Authorization header wins over
 * a cookie, and a request with one is never judged by its cookie; a
 * cookie-authenticated request other than GET or HEAD passes the CSRF
 * checks (Origin and X-CSRF-Token) before any handler runs; the
 * WWW-Authenticate challenge goes with 401 answers only, and a 401 to a
 * cookie also removes the stale cookies.
 */
#include <string.h>
#include <strings.h>

#include "account/account.h"
#include "api/api.h"
#include "api/websession.h"
#include "base/err.h"
#include "store/db.h"

static int auth_cookie(struct req *rq, const char *token)
{
    char account_id[POLICY_ID_BUF], session_id[POLICY_ID_BUF];
    const char *m = req_method(rq);
    int rc = account_session_find(db_thread(), token, account_id, session_id);

    if (rc == 0 && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
        rc = websession_check_write(rq, token);
    if (rc == 0)
        req_set_auth(rq, account_id, session_id);
    else if (rc == ERR_UNAUTHENTICATED)
        websession_clear(rq);
    return rc;
}

int api_authenticate(struct req *rq)
{
    const char *h = req_header(rq, "Authorization");
    const char *cookie = req_cookie(rq, WEBSESSION_COOKIE);
    char account_id[POLICY_ID_BUF], session_id[POLICY_ID_BUF];
    int rc = ERR_UNAUTHENTICATED;

    if (!h && cookie && cookie[0]) {
        rc = auth_cookie(rq, cookie);
        goto out;
    }
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        goto out;
    if ((rc = account_session_find(db_thread(), h + 7, account_id, session_id)) == 0)
        req_set_auth(rq, account_id, session_id);
out:
    if (rc == ERR_UNAUTHENTICATED) /* the challenge goes with 401s only */
        resp_header(rq, "WWW-Authenticate", "Bearer");
    return rc;
}
