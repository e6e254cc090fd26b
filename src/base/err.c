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

/* The texts are the messages of answers whose handler described nothing
 * more precise: sentences in the voice of docs/API.md ("How errors read"),
 * also printed by the command line after its own words. */
#define ERR_TEXT_INTERNAL                                                                          \
    "the server failed (a bug); the X-Request-Id of the answer helps to report it"

static const struct err_row err_table[] = {
    {ERR_OK, 200, "ok", "success"},
    {ERR_BAD_REQUEST, 400, "bad_request", "the request is malformed"},
    {ERR_UNAUTHENTICATED, 401, "unauthenticated", "this route needs a valid session or API key"},
    {ERR_FORBIDDEN, 403, "forbidden", "these credentials may not do this"},
    {ERR_NOT_FOUND, 404, "not_found", "no resource at this address"},
    {ERR_METHOD, 405, "method_not_allowed", "this address does not take this method"},
    {ERR_CONFLICT, 409, "conflict", "this conflicts with the current state; reload and try again"},
    {ERR_TOO_LARGE, 413, "too_large", "the request is too large"},
    {ERR_MEDIA_TYPE, 415, "unsupported_media_type", "this route does not take this Content-Type"},
    {ERR_INVALID, 422, "invalid_field", "a value of the request is invalid"},
    {ERR_RATE_LIMITED, 429, "rate_limited", "too many requests; wait and try again"},
    {ERR_HEADERS, 431, "too_many_headers", "the request has too many header lines"},
    {ERR_INTERNAL, 500, "internal_error", ERR_TEXT_INTERNAL},
    {ERR_UNAVAILABLE, 503, "unavailable", "the service is unavailable; try again shortly"},
    {ERR_NOT_IMPLEMENTED, 501, "not_implemented", "the server does not implement this"},
    {ERR_NOMEM, 503, "unavailable", "the server is short of memory; try again shortly"},
    {ERR_URI_TOO_LONG, 414, "uri_too_long", "the address of the request is too long"},
    {ERR_BUSY, 503, "unavailable", "the database is busy; try again shortly"},
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
    return r ? r->text : ERR_TEXT_INTERNAL;
}
