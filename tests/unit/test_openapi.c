/*
 * test_openapi.c - docs/openapi.json (compiled into the binary) describes
 * every route of the route table, with the same method, and nothing the
 * table does not serve. A route added without documentation fails here.
 * Who may call a route is documented as the route table says: `security`
 * lists the `apiKey` scheme exactly on ROUTE_KEY_OK routes (with the
 * `read` scope on GETs only), `x-atelier-restricted-ok` is true exactly on
 * ROUTE_RESTRICTED_OK routes, and every authenticated route documents the
 * 403 of a credential it refuses. tools/openapi_access.py writes these from
 * the flags. The query parameters a route declares (struct route: the
 * names the HTTP layer lets through) are the ones its operation documents,
 * and the drafting routes declare every option of the engine.
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
#include "atelier/draft.h"
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

/* 1 when the security requirement list sec names scheme; its scopes go
 * to *scopes. */
static int has_scheme(json_t *sec, const char *scheme, json_t **scopes)
{
    size_t i;
    json_t *req;

    json_array_foreach(sec, i, req)
    {
        json_t *s = json_object_get(req, scheme);
        if (s) {
            if (scopes)
                *scopes = s;
            return 1;
        }
    }
    return 0;
}

static int has_string(json_t *arr, const char *v)
{
    size_t i;
    json_t *x;

    json_array_foreach(arr, i,
                       x) if (json_is_string(x) && strcmp(json_string_value(x), v) == 0) return 1;
    return 0;
}

static void test_route_access_documented(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *paths = json_object_get(doc, "paths");
    int keys = 0, restricted = 0;

    for (size_t i = 0; i < api_routes.n; i++) {
        const struct route *r = &api_routes.routes[i];
        char m[16];
        lower(r->method, m, sizeof m);
        json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
        assert_non_null(op);
        json_t *sec = json_object_get(op, "security");
        json_t *rok = json_object_get(op, "x-atelier-restricted-ok");
        json_t *scopes = NULL;
        if (!(r->flags & ROUTE_AUTH)) {
            if (r->flags & (ROUTE_KEY_OK | ROUTE_RESTRICTED_OK))
                fail_msg("route %s %s is not ROUTE_AUTH but has an access flag", r->method,
                         r->pattern);
            if (rok || (sec && has_scheme(sec, "apiKey", NULL)))
                fail_msg("route %s %s needs no credential but documents one", r->method,
                         r->pattern);
            continue;
        }
        if (!json_is_array(sec) || !has_scheme(sec, "bearer", NULL))
            fail_msg("route %s %s does not document the bearer session", r->method, r->pattern);
        int key_doc = has_scheme(sec, "apiKey", &scopes);
        if (key_doc != !!(r->flags & ROUTE_KEY_OK))
            fail_msg("route %s %s: ROUTE_KEY_OK is %s but its security %s apiKey", r->method,
                     r->pattern, (r->flags & ROUTE_KEY_OK) ? "set" : "not set",
                     key_doc ? "lists" : "does not list");
        if (key_doc) {
            int get = strcmp(r->method, "GET") == 0;
            if (!has_string(scopes, "write") || has_string(scopes, "read") != get)
                fail_msg("route %s %s: apiKey scopes must be [read, write] on GET, [write] "
                         "otherwise",
                         r->method, r->pattern);
            keys++;
        }
        if (!json_is_boolean(rok) || json_is_true(rok) != !!(r->flags & ROUTE_RESTRICTED_OK))
            fail_msg("route %s %s: x-atelier-restricted-ok must be %s (ROUTE_RESTRICTED_OK)",
                     r->method, r->pattern, (r->flags & ROUTE_RESTRICTED_OK) ? "true" : "false");
        restricted += json_is_true(rok);
        if (!json_object_get(json_object_get(op, "responses"), "403"))
            fail_msg("route %s %s documents no 403 (insufficient_scope, restricted)", r->method,
                     r->pattern);
    }
    assert_true(keys > 0 && restricted > 0);
    json_decref(doc);
}

/* The query parameters op documents (its own and its path item's, $refs
 * to components.parameters resolved), as an object name -> true. */
static json_t *documented_query(json_t *doc, json_t *item, json_t *op)
{
    json_t *names = json_object(),
           *lists[2] = {json_object_get(item, "parameters"), json_object_get(op, "parameters")};
    json_t *components = json_object_get(json_object_get(doc, "components"), "parameters");

    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p)
        {
            const char *ref = json_string_value(json_object_get(p, "$ref"));
            if (ref) {
                const char *slash = strrchr(ref, '/');
                p = json_object_get(components, slash ? slash + 1 : ref);
                if (!p)
                    fail_msg("unresolved parameter %s", ref);
            }
            const char *in = json_string_value(json_object_get(p, "in"));
            if (in && strcmp(in, "query") == 0)
                json_object_set_new(names, json_string_value(json_object_get(p, "name")),
                                    json_true());
        }
    }
    return names;
}

/* The names of a route's query list, as an object name -> true. */
static json_t *declared_query(const char *list)
{
    json_t *names = json_object();

    while (list && *list) {
        size_t n = strcspn(list, " ");
        char name[64];
        assert_true(n > 0 && n < sizeof name);
        memcpy(name, list, n);
        name[n] = 0;
        if (json_object_get(names, name))
            fail_msg("query parameter %s declared twice", name);
        json_object_set_new(names, name, json_true());
        list += n;
        list += strspn(list, " ");
    }
    return names;
}

static void test_query_documented(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *paths = json_object_get(doc, "paths");
    int drafting = 0;

    for (size_t i = 0; i < api_routes.n; i++) {
        const struct route *r = &api_routes.routes[i];
        char m[16];
        lower(r->method, m, sizeof m);
        json_t *item = json_object_get(paths, r->pattern);
        json_t *op = json_object_get(item, m);
        assert_non_null(op);
        json_t *doc_q = documented_query(doc, item, op);
        if (r->query && strcmp(r->query, ROUTE_QUERY_ANY) == 0) {
            assert_true(strcmp(r->method, "GET") == 0 && strncmp(r->pattern, "/v1/", 4) != 0);
            json_decref(doc_q);
            continue;
        }
        json_t *decl = declared_query(r->query);
        if (json_object_size(decl) > 32)
            fail_msg("route %s %s declares more query parameters than http.c remembers", r->method,
                     r->pattern);
        if (!json_equal(decl, doc_q)) {
            char *a = json_dumps(decl, JSON_SORT_KEYS), *b = json_dumps(doc_q, JSON_SORT_KEYS);
            fail_msg("route %s %s: the route table declares the query %s, the document %s",
                     r->method, r->pattern, a, b);
        }
        /* the routes that draft from a model take every option of the engine,
         * the output ones on the PDF only */
        if (strstr(r->pattern, "/patterns/{design}.")) {
            int pdf = strstr(r->pattern, ".pdf") != NULL;
            for (int k = 0; k < DRAFT_OPTIONS_COUNT; k++) {
                int want = !draft_options[k].output || pdf;
                if (!!json_object_get(decl, draft_options[k].name) != want)
                    fail_msg("route %s: the drafting option %s is %s", r->pattern,
                             draft_options[k].name, want ? "not declared" : "declared");
            }
            drafting++;
        }
        json_decref(decl);
        json_decref(doc_q);
    }
    assert_int_equal(drafting, 3);
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
        cmocka_unit_test(test_route_access_documented),
        cmocka_unit_test(test_query_documented),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
