/*
 * websession.c - the browser session cookie and CSRF protection (see
 * websession.h for the design).
 *
 * Invariants:
 *   - The session token is never readable by a page's script: its cookie is
 *     HttpOnly, and a cookie login answers no token in its body.
 *   - A write authenticated by the cookie is accepted only with an Origin
 *     naming this site AND the session's CSRF token in X-CSRF-Token
 *     (compared in constant time). SameSite=Lax keeps the cookie off
 *     cross-site subrequests; the Origin check refuses what gets past it
 *     (a same-site but cross-origin page), the token what forges Origin
 *     (none of today's browsers can; a plug-in or an old one might).
 *   - The CSRF token is a keyed hash of the session token under the server
 *     key: it changes with every session and cannot be computed without the
 *     key; nothing is stored for it.
 *   - Cookies carry Max-Age (relative), never Expires, so the browser's
 *     clock does not matter; the __Host- prefix forbids Domain and requires
 *     Secure and Path=/ (browsers treat http://localhost and 127.0.0.1 as
 *     secure; in production TLS ends at the proxy).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/websession.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/seal.h"
#include "base/util.h"

void websession_csrf(const char *token, char out[WEBSESSION_CSRF_LEN + 1])
{
    uint8_t h[SEAL_LOOKUP_BYTES];

    seal_lookup("csrf", token, strlen(token), h);
    _Static_assert(SEAL_LOOKUP_BYTES * 2 >= WEBSESSION_CSRF_LEN, "the CSRF token fits the hash");
    char hx[2 * SEAL_LOOKUP_BYTES + 1];
    util_hex(h, sizeof h, hx);
    memcpy(out, hx, WEBSESSION_CSRF_LEN);
    out[WEBSESSION_CSRF_LEN] = 0;
    sodium_memzero(hx, sizeof hx);
}

/* The origin part (scheme://host[:port]) of a URL, without a trailing
 * slash or path. */
static size_t websession_origin_len(const char *url)
{
    const char *p = strstr(url, "://");

    if (!p)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

int websession_origin_ok(struct req *rq)
{
    const char *origin = req_header(rq, "Origin");
    const char *site = req_header(rq, "Sec-Fetch-Site");
    const struct config *cfg = req_config(rq);

    if (!origin || (site && strcmp(site, "same-origin") != 0))
        return 0;
    if (cfg->public_url[0]) {
        size_t n = websession_origin_len(cfg->public_url);
        return n > 0 && strlen(origin) == n && strncasecmp(origin, cfg->public_url, n) == 0;
    }
    const char *host = req_header(rq, "Host");
    if (!host || !host[0])
        return 0;
    const char *rest = NULL;
    if (strncmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    return rest && strcasecmp(rest, host) == 0;
}

int websession_check_write(struct req *rq, const char *token)
{
    const char *sent = req_header(rq, WEBSESSION_CSRF_HEADER);
    char want[WEBSESSION_CSRF_LEN + 1];
    int ok;

    if (!websession_origin_ok(rq))
        return req_fail(rq, ERR_FORBIDDEN, "csrf_failed",
                        "this request does not come from a page of this site (Origin)");
    websession_csrf(token, want);
    ok = sent && strlen(sent) == WEBSESSION_CSRF_LEN &&
         sodium_memcmp(sent, want, WEBSESSION_CSRF_LEN) == 0;
    sodium_memzero(want, sizeof want);
    if (!ok)
        return req_fail(rq, ERR_FORBIDDEN, "csrf_failed",
                        "the " WEBSESSION_CSRF_HEADER " header is missing or wrong; reload the "
                        "page");
    return 0;
}

int websession_set(struct req *rq, const char *token, int64_t expires)
{
    char v[256], csrf[WEBSESSION_CSRF_LEN + 1];
    int64_t age = expires - clock_now();
    int rc;

    if (age < 0)
        age = 0;
    websession_csrf(token, csrf);
    if ((size_t)snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; Secure; SameSite=Lax",
                         WEBSESSION_COOKIE, token, (long long)age) >= sizeof v)
        return ERR_INTERNAL;
    rc = resp_header(rq, "Set-Cookie", v);
    sodium_memzero(v, sizeof v);
    if (rc == 0) {
        snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld; Secure; SameSite=Lax",
                 WEBSESSION_CSRF_COOKIE, csrf, (long long)age);
        rc = resp_header(rq, "Set-Cookie", v);
    }
    sodium_memzero(csrf, sizeof csrf);
    return rc;
}

void websession_clear(struct req *rq)
{
    resp_header(rq, "Set-Cookie",
                WEBSESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    resp_header(rq, "Set-Cookie",
                WEBSESSION_CSRF_COOKIE "=; Path=/; Max-Age=0; Secure; SameSite=Lax");
}

int websession_check_login(struct req *rq)
{
    if (websession_origin_ok(rq))
        return 0;
    return req_fail(rq, ERR_FORBIDDEN, "csrf_failed",
                    "a cookie session is only given to a page of this site (Origin)");
}
