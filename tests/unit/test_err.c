/*
 * test_err.c - the enum err table: each value's HTTP status and client code,
 * and the 500 fallback for values that are not in the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"

static void test_err_table(void **state)
{
    (void)state;
    static const struct {
        int e;
        unsigned status;
        const char *code;
    } rows[] = {
        {ERR_BAD_REQUEST, 400, "bad_request"},   {ERR_UNAUTHENTICATED, 401, "unauthenticated"},
        {ERR_FORBIDDEN, 403, "forbidden"},       {ERR_NOT_FOUND, 404, "not_found"},
        {ERR_METHOD, 405, "method_not_allowed"}, {ERR_CONFLICT, 409, "conflict"},
        {ERR_TOO_LARGE, 413, "too_large"},       {ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
        {ERR_INVALID, 422, "invalid_field"},     {ERR_RATE_LIMITED, 429, "rate_limited"},
        {ERR_HEADERS, 431, "too_many_headers"},  {ERR_INTERNAL, 500, "internal_error"},
        {ERR_UNAVAILABLE, 503, "unavailable"},   {ERR_NOT_IMPLEMENTED, 501, "not_implemented"},
        {ERR_NOMEM, 503, "unavailable"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(err_status(rows[i].e), rows[i].status);
        assert_string_equal(err_code(rows[i].e), rows[i].code);
        assert_non_null(err_text(rows[i].e));
        assert_true(strlen(err_text(rows[i].e)) > 0);
    }
}

static void test_err_ok(void **state)
{
    (void)state;
    assert_int_equal(err_status(ERR_OK), 200);
    assert_non_null(err_code(ERR_OK));
    assert_non_null(err_text(ERR_OK));
}

static void test_err_every_value_known(void **state)
{
    (void)state;
    for (int e = ERR__MIN + 1; e < 0; e++) {
        assert_true(err_status(e) >= 400);
        assert_true(err_status(e) <= 599);
    }
}

static void test_err_unknown(void **state)
{
    (void)state;
    int unknown[] = {ERR__MIN, -100, 1, 42, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(err_status(unknown[i]), 500);
        assert_string_equal(err_code(unknown[i]), "internal_error");
        assert_non_null(err_text(unknown[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_err_ok),
        cmocka_unit_test(test_err_every_value_known),
        cmocka_unit_test(test_err_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
