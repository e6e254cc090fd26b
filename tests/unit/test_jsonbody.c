/*
 * test_jsonbody.c - strict JSON bodies: what is accepted and every kind of
 * refusal (syntax, UTF-8, duplicates, depth, top level, NUL, underflow).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/jsonbody.h"
#include "base/policy.h"

static int parse(const char *s, size_t n)
{
    json_t *v = NULL;
    char msg[256];
    int rc = jsonbody_parse(s, n, &v, msg, sizeof msg);
    if (rc == 0) {
        assert_true(json_is_object(v));
        json_decref(v);
    } else {
        assert_null(v);
        assert_true(strlen(msg) > 0);
    }
    return rc;
}

#define OK(s)  assert_int_equal(parse(s, sizeof(s) - 1), 0)
#define BAD(s) assert_int_equal(parse(s, sizeof(s) - 1), ERR_BAD_REQUEST)

static void test_accepts(void **state)
{
    (void)state;
    OK("{}");
    OK("{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"\\u00e9\"}");
    OK("{\"x\":0.0,\"y\":-0,\"z\":1e-5,\"w\":0e10}");
    OK(" {\"a\":\"caf\xc3\xa9\"} ");
}

static void test_refuses(void **state)
{
    (void)state;
    BAD("");
    BAD("[]");
    BAD("42");
    BAD("{\"a\":1,\"a\":2}");
    BAD("{\"a\":\"\xff\"}");
    BAD("{\"a\":\"\xc0\xaf\"}");
    BAD("{\"a\":\"\\u0000\"}");
    BAD("{\"a\":NaN}");
    BAD("{\"a\":1e400}");
    BAD("{\"a\":1e-400}");
    BAD("{\"a\":1,}");
    BAD("{} {}");
    BAD("{\"a\":1");
}

static void test_embedded_nul(void **state)
{
    (void)state;
    const char s[] = "{\"a\":1}\0";
    assert_int_equal(parse(s, sizeof s - 1), ERR_BAD_REQUEST);
}

static void test_depth(void **state)
{
    (void)state;
    char buf[6 * LIMIT_JSON_DEPTH + 32];
    size_t n = 0;
    /* exactly LIMIT_JSON_DEPTH levels: accepted */
    for (int i = 0; i < LIMIT_JSON_DEPTH - 1; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"a\":");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{}");
    for (int i = 0; i < LIMIT_JSON_DEPTH - 1; i++)
        buf[n++] = '}';
    assert_int_equal(parse(buf, n), 0);
    /* one more: refused */
    char deep[6 * LIMIT_JSON_DEPTH + 64];
    size_t m = (size_t)snprintf(deep, sizeof deep, "{\"a\":%.*s", (int)n, buf);
    deep[m++] = '}';
    assert_int_equal(parse(deep, m), ERR_BAD_REQUEST);
    /* brackets inside strings do not count */
    OK("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
