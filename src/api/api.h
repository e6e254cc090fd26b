/*
 * api.h - what the API layer gives the program that starts it: the route
 * table (routes.c) and the authentication hook (auth.c).
 */
#ifndef ATELIER_API_API_H
#define ATELIER_API_API_H

#include "http/http.h"

/* Every route the server answers, for http_start. */
extern const struct route_table api_routes;

/* The ROUTE_AUTH hook for the HTTP layer: reads the bearer credential (a
 * session token or an API key), checks it against the route's flags
 * (ROUTE_KEY_OK, ROUTE_RESTRICTED_OK: the rules are in auth.c), and marks
 * the request authenticated. 0, ERR_UNAUTHENTICATED (with the Bearer
 * challenge), ERR_FORBIDDEN (insufficient_scope, restricted) or another err. */
int api_authenticate(struct req *rq);

/* The same check for the session of a ROUTE_AUTH_MODEL route, handed to the
 * storage batcher when it runs (http_set_auth_async): begin returns 1 once
 * the check is queued (the connection suspended), 0 when the request goes
 * through api_authenticate instead; end gives api_authenticate's outcome. */
int api_auth_begin(struct req *rq, http_req_fn suspend, http_req_fn wake);
int api_auth_end(struct req *rq);

/* The caller's model {id} that the session check of a ROUTE_AUTH_MODEL
 * route read with it, moved into *m (the caller releases it): 1 with *rc
 * its outcome (0, ERR_NOT_FOUND, ...), or 0 when none was read (an API
 * key: the handler loads it). */
struct model;
int api_model_take(struct req *rq, struct model *m, int *rc);

/* The HTTP layer's done hook (http_set_done): records an API key's last use
 * (at most once per LIMIT_APIKEY_TOUCH_S), outside any read scope. */
void api_request_done(struct req *rq);

#endif
