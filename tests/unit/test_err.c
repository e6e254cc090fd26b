/*
 * test_err.c - the enum err table: each value's HTTP status and client code,
 * and the 500 fallback for values that are not in the table.
 *
 * test_err_every_value_known walks every value from ERR_OK down to
 * ERR__MIN + 1, so a value added to enum err without a row in err.c fails
 * here (a missing row falls back to "internal_error", which only
 * ERR_INTERNAL may map to).
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
        {ERR_NOMEM, 503, "unavailable"},         {ERR_URI_TOO_LONG, 414, "uri_too_long"},
        {ERR_BUSY, 503, "unavailable"},          {ERR_READONLY, 503, "unavailable"},
        {ERR_STORAGE_DOWN, 503, "unavailable"},
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
    const char *fallback_code = err_code(ERR__MIN);
    const char *fallback_text = err_text(ERR__MIN);

    assert_string_equal(fallback_code, "internal_error");
    for (int e = ERR_OK; e > ERR__MIN; e--) {
        unsigned status = err_status(e);
        if (e == ERR_OK) {
            assert_int_equal(status, 200);
        } else {
            assert_in_range(status, 400, 599);
        }
        if (e == ERR_INTERNAL)
            continue;
        /* A value without a row gets the fallback code and text. */
        if (strcmp(err_code(e), fallback_code) == 0 || strcmp(err_text(e), fallback_text) == 0)
            fail_msg("enum err value %d has no row in err.c", e);
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
