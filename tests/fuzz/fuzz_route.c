/*
 * fuzz_route.c - libFuzzer harness for route_match (src/http/http.h).
 *
 * The input is split at its first NUL or space: the bytes before are the
 * method, the bytes after the path (both made C strings). Checked:
 *   - the result is -1 or a valid index into api_routes.routes[], whose method is the
 *     method given; the same call without params gives the same answer;
 *   - captures: 0..4, every name and value NUL-terminated inside its array,
 *     values 1..127 characters of [A-Za-z0-9_-] (no '/', '.', '%', NUL...);
 *   - a 405 (-1 with path_matched) means some other method does match, and a
 *     404 (-1 without) means no method matches.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_route: invariant failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int value_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void check_params(const struct route_params *p)
{
    CHECK(p->n >= 0 && p->n <= 4);
    for (int i = 0; i < p->n; i++) {
        const char *name_end = memchr(p->name[i], '\0', sizeof p->name[i]);
        const char *value_end = memchr(p->value[i], '\0', sizeof p->value[i]);
        CHECK(name_end != NULL);
        CHECK(value_end != NULL);
        size_t vlen = (size_t)(value_end - p->value[i]);
        CHECK(vlen >= 1 && vlen <= 127);
        for (size_t j = 0; j < vlen; j++)
            CHECK(value_char_ok(p->value[i][j]));
    }
}

/* Does the path match under any method other than `method`? */
static int other_method_matches(const char *method, const char *path)
{
    for (size_t i = 0; i < api_routes.n; i++) {
        int pm = 0;
        if (strcmp(api_routes.routes[i].method, method) == 0)
            continue;
        if (route_match(&api_routes, api_routes.routes[i].method, path, NULL, &pm) >= 0)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t split = 0;
    while (split < size && data[split] != '\0' && data[split] != ' ')
        split++;

    char *method = malloc(split + 1);
    size_t path_len = split < size ? size - split - 1 : 0;
    char *path = malloc(path_len + 1);
    if (!method || !path)
        abort();
    memcpy(method, data, split);
    method[split] = '\0';
    if (path_len)
        memcpy(path, data + split + 1, path_len);
    path[path_len] = '\0';

    struct route_params params;
    memset(&params, 0xA5, sizeof params); /* no terminators unless written */
    int path_matched = -7;
    int idx = route_match(&api_routes, method, path, &params, &path_matched);

    CHECK(idx >= -1 && idx < (int)api_routes.n);
    if (idx >= 0) {
        CHECK(strcmp(api_routes.routes[idx].method, method) == 0);
        check_params(&params);
    } else {
        CHECK(path_matched == 0 || path_matched == 1);
        CHECK(path_matched == other_method_matches(method, path));
    }

    int pm2 = -7;
    int idx2 = route_match(&api_routes, method, path, NULL, &pm2);
    CHECK(idx2 == idx);

    free(path);
    free(method);
    return 0;
}
