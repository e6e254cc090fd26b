/*
 * handlers_site.c - the web site: its pages (GET /, /login, /models, ...)
 * and their assets (GET /assets/...), served from the table compiled into
 * the binary (api/site.h). The pages are static HTML; each page's script
 * reads and writes through the JSON API with the browser's session cookie
 * (api/websession.c).
 *
 * Invariants:
 *   - Nothing is read from disk and nothing but the embedded files is
 *     served: a name is looked up in the table, never joined to a path.
 *   - Every page and asset carries the strict Content-Security-Policy
 *     (SITE_CSP), X-Frame-Options DENY, Referrer-Policy no-referrer (mailed
 *     links carry tokens in the query), and same-origin opener and resource
 *     policies.
 *   - Pages are revalidated (Cache-Control: no-cache) against a strong
 *     ETag, the BLAKE2b hash of their bytes: a new build is seen at once,
 *     an unchanged page costs a 304. The pages link to their assets with
 *     the asset's version (?v=, cmake/embed_site.cmake); an asset asked for
 *     with its own version is immutable (kept LIMIT_SITE_ASSET_MAX_AGE_S,
 *     no request at all on the next page: its style sheet no longer costs
 *     a round trip before the first paint), any other asset request is
 *     revalidated like a page.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/site.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/util.h"

#define SITE_MAX_FILES  256
#define SITE_ETAG_BYTES 12

#define SITE_STR2(x) #x
#define SITE_STR(x)  SITE_STR2(x)

static char site_etags[SITE_MAX_FILES][2 * SITE_ETAG_BYTES + 3];
static pthread_once_t site_once = PTHREAD_ONCE_INIT;

static void site_hash_all(void)
{
    for (unsigned long i = 0; i < site_files_count && i < SITE_MAX_FILES; i++) {
        unsigned char h[SITE_ETAG_BYTES];
        char hx[2 * SITE_ETAG_BYTES + 1];
        crypto_generichash(h, sizeof h, site_files[i].data, site_files[i].len, NULL, 0);
        util_hex(h, sizeof h, hx);
        snprintf(site_etags[i], sizeof site_etags[i], "\"%s\"", hx);
    }
}

const struct site_file *site_find(const char *name)
{
    for (unsigned long i = 0; i < site_files_count; i++)
        if (strcmp(site_files[i].name, name) == 0)
            return &site_files[i];
    return NULL;
}

static const char *site_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Answer with the embedded file `name` (404 when there is none). */
static int site_send(struct req *rq, const char *name)
{
    const struct site_file *f = site_find(name);
    const char *inm = req_header(rq, "If-None-Match"), *v = req_query(rq, "v");
    const char *etag;

    if (!f || (unsigned long)(f - site_files) >= SITE_MAX_FILES)
        return req_fail(rq, ERR_NOT_FOUND, NULL, "no page at this address");
    pthread_once(&site_once, site_hash_all);
    etag = site_etags[f - site_files];
    resp_header(rq, "Content-Security-Policy", SITE_CSP);
    resp_header(rq, "X-Frame-Options", "DENY");
    resp_header(rq, "Referrer-Policy", "no-referrer");
    resp_header(rq, "Cross-Origin-Opener-Policy", "same-origin");
    resp_header(rq, "Cross-Origin-Resource-Policy", "same-origin");
    resp_header(rq, "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    if (f->version[0] && v && strcmp(v, f->version) == 0)
        resp_header(rq, "Cache-Control",
                    "public, max-age=" SITE_STR(LIMIT_SITE_ASSET_MAX_AGE_S) ", immutable");
    else
        resp_header(rq, "Cache-Control", "no-cache");
    resp_header(rq, "ETag", etag);
    if (inm && strcmp(inm, etag) == 0)
        return resp_empty(rq, 304);
    return resp_bytes(rq, 200, site_type(name), f->data, f->len);
}

/* GET of a page: the path names the page ("/" is index.html). */
static const struct {
    const char *path, *file;
} site_pages[] = {
    {"/", "index.html"},
    {"/signup", "signup.html"},
    {"/confirm", "confirm.html"},
    {"/login", "login.html"},
    {"/forgot", "forgot.html"},
    {"/reset", "reset.html"},
    {"/account", "account.html"},
    {"/models", "models.html"},
    {"/model", "model.html"},
    {"/patterns", "patterns.html"},
    {"/privacy", "privacy.html"},
    {"/policy", "policy.html"},
    {"/opendata", "opendata.html"},
};

int h_site_page(struct req *rq)
{
    const char *pattern = req_route_pattern(rq);

    for (size_t i = 0; pattern && i < sizeof site_pages / sizeof site_pages[0]; i++)
        if (strcmp(site_pages[i].path, pattern) == 0)
            return site_send(rq, site_pages[i].file);
    return req_fail(rq, ERR_NOT_FOUND, NULL, "no page at this address");
}

/* GET /assets/{name}.ext: the route's pattern gives the extension. */
int h_site_asset(struct req *rq)
{
    const char *pattern = req_route_pattern(rq), *name = req_param(rq, "name");
    const char *ext = pattern ? strrchr(pattern, '.') : NULL;
    char file[192];

    if (!name || !ext ||
        (size_t)snprintf(file, sizeof file, "assets/%s%s", name, ext) >= sizeof file)
        return req_fail(rq, ERR_NOT_FOUND, NULL, "no file at this address");
    return site_send(rq, file);
}

/* GET /assets/m/{name}.svg: the measurement illustrations. */
int h_site_illustration(struct req *rq)
{
    const char *name = req_param(rq, "name");
    char file[192];

    if (!name || (size_t)snprintf(file, sizeof file, "assets/m/%s.svg", name) >= sizeof file)
        return req_fail(rq, ERR_NOT_FOUND, NULL, "no file at this address");
    return site_send(rq, file);
}
