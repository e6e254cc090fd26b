/*
 * err.c - the single table that maps enum err to an HTTP status, the
 * snake_case code clients see, and a short English text.
 *
 * Invariants: every value of enum err has exactly one row; a value that is not
 * in the table (including positive numbers) maps to 500 "internal_error", so a
 * bug never turns into a success status.
 */
#include "base/err.h"

#include <stddef.h>

struct err_row {
    int e;
    unsigned status;
    const char *code;
    const char *text;
};

static const struct err_row err_table[] = {
    {ERR_OK, 200, "ok", "success"},
    {ERR_BAD_REQUEST, 400, "bad_request", "malformed request"},
    {ERR_UNAUTHENTICATED, 401, "unauthenticated", "authentication required"},
    {ERR_FORBIDDEN, 403, "forbidden", "forbidden"},
    {ERR_NOT_FOUND, 404, "not_found", "not found"},
    {ERR_METHOD, 405, "method_not_allowed", "method not allowed"},
    {ERR_CONFLICT, 409, "conflict", "conflict"},
    {ERR_TOO_LARGE, 413, "too_large", "too large"},
    {ERR_MEDIA_TYPE, 415, "unsupported_media_type", "unsupported media type"},
    {ERR_INVALID, 422, "invalid_field", "invalid value"},
    {ERR_RATE_LIMITED, 429, "rate_limited", "too many requests"},
    {ERR_HEADERS, 431, "too_many_headers", "too many header lines"},
    {ERR_INTERNAL, 500, "internal_error", "internal error"},
    {ERR_UNAVAILABLE, 503, "unavailable", "service unavailable"},
    {ERR_NOT_IMPLEMENTED, 501, "not_implemented", "not implemented"},
    {ERR_NOMEM, 503, "unavailable", "out of memory"},
    {ERR_URI_TOO_LONG, 414, "uri_too_long", "the request target is too long"},
    {ERR_BUSY, 503, "unavailable", "the database is busy"},
    {ERR_READONLY, 503, "unavailable", "the database is read-only or full"},
    {ERR_STORAGE_DOWN, 503, "unavailable", "the database does not answer"},
};

static const struct err_row *err_find(int e)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++) {
        if (err_table[i].e == e)
            return &err_table[i];
    }
    return NULL;
}

unsigned err_status(int e)
{
    const struct err_row *r = err_find(e);
    return r ? r->status : 500;
}

const char *err_code(int e)
{
    const struct err_row *r = err_find(e);
    return r ? r->code : "internal_error";
}

const char *err_text(int e)
{
    const struct err_row *r = err_find(e);
    return r ? r->text : "internal error";
}
