/*
 * routes.c - the route table and the matcher.
 *
 * The table is the single list of what the API serves; docs/openapi.json
 * must describe every entry (tests/unit/test_openapi.c fails otherwise), and
 * metrics and the access log name requests by the pattern, never by the raw
 * path. A pattern is literal segments and captures: "{name}" takes one whole
 * segment, "{name}.svg" a segment ending in ".svg". Captured values are
 * 1..127 characters of [A-Za-z0-9_-]; anything else does not match (404).
 */
#include <string.h>

#include "api/handlers.h"
#include "http/http.h"
#include "base/util.h"

const struct route routes[] = {
    {"GET", "/healthz", h_healthz, 0},
    {"GET", "/metrics", h_metrics, 0},
    {"GET", "/v1/openapi.json", h_openapi, 0},
    {"POST", "/v1/signup", h_signup, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/confirm", h_confirm, ROUTE_JSON_BODY},
    {"POST", "/v1/login", h_login, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/logout", h_logout, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_OPT_BODY},
    {"POST", "/v1/password/forgot", h_password_forgot, ROUTE_JSON_BODY},
    {"POST", "/v1/password/reset", h_password_reset, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"GET", "/v1/account", h_account_get, ROUTE_AUTH},
    {"PATCH", "/v1/account", h_account_patch, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"DELETE", "/v1/account", h_account_delete, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/email", h_email_change, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/password", h_password_change, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"PUT", "/v1/account/picture", h_picture_put, ROUTE_AUTH | ROUTE_IMAGE_BODY | ROUTE_SLOW},
    {"GET", "/v1/account/picture", h_picture_get, ROUTE_AUTH},
    {"DELETE", "/v1/account/picture", h_picture_delete, ROUTE_AUTH},
    {"GET", "/v1/account/export", h_account_export, ROUTE_AUTH | ROUTE_SLOW},
    {"GET", "/v1/measurements", h_measurements, 0},
    {"GET", "/v1/designs", h_designs, 0},
    {"GET", "/v1/models/{id}/patterns/{design}.svg", h_pattern_svg, ROUTE_AUTH},
    {"GET", "/v1/models/{id}/patterns/{design}.pdf", h_pattern_pdf, ROUTE_AUTH | ROUTE_SLOW},
    {"GET", "/v1/opendata", h_opendata_meta, 0},
    {"GET", "/v1/opendata/measurements.csv", h_opendata_csv, 0},
    {"GET", "/v1/opendata/measurements.json", h_opendata_json, 0},
    {"GET", "/v1/models", h_models_list, ROUTE_AUTH},
    {"POST", "/v1/models", h_models_create, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"GET", "/v1/models/{id}", h_model_get, ROUTE_AUTH},
    {"PATCH", "/v1/models/{id}", h_model_patch, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"DELETE", "/v1/models/{id}", h_model_delete, ROUTE_AUTH},
    {"GET", "/v1/models/{id}/measurements", h_model_measurements_get, ROUTE_AUTH},
    {"PUT", "/v1/models/{id}/measurements", h_model_measurements_put, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"PUT", "/v1/models/{id}/avatar", h_avatar_put, ROUTE_AUTH | ROUTE_IMAGE_BODY | ROUTE_SLOW},
    {"GET", "/v1/models/{id}/avatar", h_avatar_get, ROUTE_AUTH},
    {"DELETE", "/v1/models/{id}/avatar", h_avatar_delete, ROUTE_AUTH},
};
const size_t routes_count = sizeof routes / sizeof routes[0];

static int route_capture_ok(const char *s, size_t n)
{
    if (n == 0 || n >= sizeof(((struct route_params *)0)->value[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Match one segment seg[0..n) against pattern segment pat[0..pn). */
static int route_segment(const char *pat, size_t pn, const char *seg, size_t n,
                         struct route_params *params)
{
    if (pn == 0 || pat[0] != '{')
        return pn == n && memcmp(pat, seg, n) == 0;
    const char *close = memchr(pat, '}', pn);
    if (!close)
        return 0;
    size_t name_len = (size_t)(close - pat) - 1;
    size_t suffix_len = pn - (size_t)(close - pat) - 1;
    if (n <= suffix_len || memcmp(seg + n - suffix_len, close + 1, suffix_len) != 0)
        return 0;
    size_t vlen = n - suffix_len;
    if (!route_capture_ok(seg, vlen))
        return 0;
    if (params && params->n < 4 && name_len < sizeof params->name[0]) {
        memcpy(params->name[params->n], pat + 1, name_len);
        params->name[params->n][name_len] = 0;
        memcpy(params->value[params->n], seg, vlen);
        params->value[params->n][vlen] = 0;
        params->n++;
    }
    return 1;
}

static int route_path_matches(const char *pattern, const char *path, struct route_params *params)
{
    if (params)
        params->n = 0;
    if (*pattern != '/' || *path != '/')
        return 0;
    for (;;) {
        pattern++;
        path++;
        size_t pn = strcspn(pattern, "/");
        size_t n = strcspn(path, "/");
        if (!route_segment(pattern, pn, path, n, params))
            return 0;
        pattern += pn;
        path += n;
        if (*pattern == 0 || *path == 0)
            return *pattern == 0 && *path == 0;
    }
}

int route_match(const char *method, const char *path, struct route_params *params,
                int *path_matched)
{
    *path_matched = 0;
    for (size_t i = 0; i < routes_count; i++) {
        if (!route_path_matches(routes[i].pattern, path, NULL))
            continue;
        *path_matched = 1;
        if (strcmp(routes[i].method, method) == 0) {
            route_path_matches(routes[i].pattern, path, params);
            return (int)i;
        }
    }
    return -1;
}

void route_allow(const char *path, char *out, size_t n)
{
    size_t used = 0;

    out[0] = 0;
    for (size_t i = 0; i < routes_count; i++) {
        if (!route_path_matches(routes[i].pattern, path, NULL))
            continue;
        size_t m = strlen(routes[i].method);
        if (used + m + 3 > n)
            break;
        if (used) {
            memcpy(out + used, ", ", 2);
            used += 2;
        }
        memcpy(out + used, routes[i].method, m + 1);
        used += m;
    }
}
