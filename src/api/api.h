/*
 * api.h - what the API layer gives the program that starts it: the route
 * table (routes.c) and the authentication hook (auth.c).
 */
#ifndef ATELIER_API_API_H
#define ATELIER_API_API_H

#include "http/http.h"

/* Every route the server answers, for http_start. */
extern const struct route_table api_routes;

/* The ROUTE_AUTH hook for the HTTP layer: reads the bearer token, asks the
 * account service for its session, and marks the request authenticated.
 * 0, ERR_UNAUTHENTICATED (with the Bearer challenge) or another err. */
int api_authenticate(struct req *rq);

#endif
