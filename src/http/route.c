/*
 * route.c - matching a request against a route table.
 *
 * The table belongs to the caller (src/api/routes.c for the server); this
 * file knows patterns, not handlers. A pattern is literal segments and
 * captures: "{name}" takes one whole segment, "{name}.svg" a segment ending
 * in ".svg". Captured values are 1..127 characters of [A-Za-z0-9_-];
 * anything else does not match (404). At most 4 captures are stored.
 */
#include <string.h>

#include "http/http.h"

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

int route_match(const struct route_table *t, const char *method, const char *path,
                struct route_params *params, int *path_matched)
{
    const struct route *routes = t->routes;

    *path_matched = 0;
    for (size_t i = 0; i < t->n; i++) {
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

int route_path_index(const struct route_table *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++) {
        if (route_path_matches(t->routes[i].pattern, path, NULL))
            return (int)i;
    }
    return -1;
}

/* Append ", m" (or "m" first) to out[0..*used) when it fits in n. */
static void route_allow_add(char *out, size_t n, size_t *used, const char *m)
{
    size_t len = strlen(m);

    if (*used + len + 3 > n)
        return;
    if (*used) {
        memcpy(out + *used, ", ", 2);
        *used += 2;
    }
    memcpy(out + *used, m, len + 1);
    *used += len;
}

void route_allow(const struct route_table *t, const char *path, char *out, size_t n)
{
    const struct route *routes = t->routes;
    size_t used = 0;

    out[0] = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!route_path_matches(routes[i].pattern, path, NULL))
            continue;
        route_allow_add(out, n, &used, routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            route_allow_add(out, n, &used, "HEAD");
    }
    if (used)
        route_allow_add(out, n, &used, "OPTIONS");
}
