/*
 * auth.c - the bearer-token check of ROUTE_AUTH routes, as the HTTP layer's
 * authentication hook.
 *
 * Invariants: only "Authorization: Bearer <token>" is read; the token is
 * looked up by its keyed hash (account_session_find), never stored; the
 * WWW-Authenticate challenge goes with 401 answers only.
 */
#include <strings.h>

#include "account/account.h"
#include "api/api.h"
#include "base/err.h"
#include "store/db.h"

int api_authenticate(struct req *rq)
{
    const char *h = req_header(rq, "Authorization");
    char account_id[POLICY_ID_BUF], session_id[POLICY_ID_BUF];
    int rc = ERR_UNAUTHENTICATED;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        goto out;
    if ((rc = account_session_find(db_thread(), h + 7, account_id, session_id)) == 0)
        req_set_auth(rq, account_id, session_id);
out:
    if (rc == ERR_UNAUTHENTICATED) /* the challenge goes with 401s only */
        resp_header(rq, "WWW-Authenticate", "Bearer");
    return rc;
}
