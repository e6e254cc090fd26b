/*
 * test_openapi.c - docs/openapi.json (compiled into the binary) describes
 * every route of the route table, with the same method, and nothing the
 * table does not serve. A route added without documentation fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "http/http.h"

extern const unsigned char openapi_json[];
extern const unsigned long openapi_json_len;

static json_t *load_doc(void)
{
    json_error_t e;
    json_t *doc = json_loadb((const char *)openapi_json, openapi_json_len, 0, &e);
    if (!doc)
        fail_msg("openapi.json does not parse: line %d: %s", e.line, e.text);
    return doc;
}

static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = 0;
}

static void test_every_route_documented(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *paths = json_object_get(doc, "paths");
    assert_non_null(paths);
    assert_true(api_routes.n > 0);
    for (size_t i = 0; i < api_routes.n; i++) {
        char m[16];
        lower(api_routes.routes[i].method, m, sizeof m);
        json_t *item = json_object_get(paths, api_routes.routes[i].pattern);
        if (!item || !json_object_get(item, m))
            fail_msg("route %s %s is missing from docs/openapi.json", api_routes.routes[i].method,
                     api_routes.routes[i].pattern);
        json_t *op = json_object_get(item, m);
        assert_non_null(json_object_get(op, "responses"));
        if (api_routes.routes[i].flags & ROUTE_AUTH) {
            if (!json_object_get(op, "security"))
                fail_msg("route %s %s needs auth but documents no security",
                         api_routes.routes[i].method, api_routes.routes[i].pattern);
        }
    }
    json_decref(doc);
}

static void test_no_undocumented_extras(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < api_routes.n; i++) {
                char m[16];
                lower(api_routes.routes[i].method, m, sizeof m);
                if (strcmp(api_routes.routes[i].pattern, path) == 0 && strcmp(m, method) == 0)
                    found = 1;
            }
            if (!found)
                fail_msg("docs/openapi.json documents %s %s, which the server does not serve",
                         method, path);
        }
    }
    json_decref(doc);
}

static void test_version(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    const char *v = json_string_value(json_object_get(doc, "openapi"));
    assert_non_null(v);
    assert_int_equal(strncmp(v, "3.1", 3), 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_no_undocumented_extras),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
