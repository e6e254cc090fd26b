/*
 * websession.h - browser sessions: the session cookie and the CSRF checks
 * of cookie-authenticated writes (websession.c).
 *
 * A browser session is an ordinary session (account_session_create) whose
 * token travels in the cookie __Host-atelier (HttpOnly, Secure,
 * SameSite=Lax, Path=/) instead of an Authorization header. Its CSRF token
 * is derived from the session token (keyed BLAKE2b), so nothing more is
 * stored; it is given to the page's script in the readable cookie
 * __Host-atelier-csrf and must come back in the X-CSRF-Token header of
 * every write, together with an Origin header naming this site.
 */
#ifndef ATELIER_API_WEBSESSION_H
#define ATELIER_API_WEBSESSION_H

#include <stdint.h>

#include "http/req.h"

#define WEBSESSION_COOKIE      "__Host-atelier"
#define WEBSESSION_CSRF_COOKIE "__Host-atelier-csrf"
#define WEBSESSION_CSRF_HEADER "X-CSRF-Token"
#define WEBSESSION_CSRF_LEN    32 /* hex characters */

/* The CSRF token of a session token (NUL-terminated hex). */
void websession_csrf(const char *token, char out[WEBSESSION_CSRF_LEN + 1]);

/* 1 when the request's Origin names this site (the --public-url's origin
 * when one is set, else http:// or https:// and the Host header) and a
 * Sec-Fetch-Site header, when sent, says same-origin; 0 otherwise. */
int websession_origin_ok(struct req *rq);

/* The checks of a write authenticated by the cookie whose session token is
 * token: 0, or ERR_FORBIDDEN with the body described (csrf_failed). */
int websession_check_write(struct req *rq, const char *token);

/* Answer headers that set both cookies for a session ending at expires
 * (seconds, server clock); 0 or an err. */
int websession_set(struct req *rq, const char *token, int64_t expires);

/* Answer headers that remove both cookies. */
void websession_clear(struct req *rq);

/* A login or confirmation asked for a cookie session ("cookie": true):
 * 0 when its Origin is this site's, else ERR_FORBIDDEN described. */
int websession_check_login(struct req *rq);

#endif
