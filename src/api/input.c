/*
 * input.c - JSON body field readers that answer 422 naming the field.
 *
 * Invariant: a handler that got 0 from every reader holds only fields of the
 * expected JSON types; anything else has already been answered. Free text
 * that passed input_text holds no format character (Unicode category Cf:
 * bidi overrides and isolates, zero-width characters, the BOM, tags), so a
 * name cannot display reordered or hide text.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "api/input.h"
#include "base/util.h"

int input_fail(struct req *rq, const char *field, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid_field", "message", msg,
                             "field", field);
    return req_fail_json(rq, ERR_INVALID, body);
}

/* Members a client may well send to the wrong route: they exist elsewhere,
 * or are the server's to set. The 422 for such a member says where it goes
 * instead of only "unknown" (issue 18). Matched on the method, the route
 * pattern and the member; {id} stays as written in the pattern. */
static const struct input_elsewhere {
    const char *method, *route, *key, *where;
} input_elsewhere[] = {
    {"PATCH", "/v1/account", "email",
     "email is changed with POST /v1/account/email, with your password; the new address is "
     "confirmed by mail"},
    {"PATCH", "/v1/account", "password",
     "password is changed with POST /v1/account/password, with current_password and "
     "new_password"},
    {"PATCH", "/v1/account", "picture",
     "picture is set with PUT /v1/account/picture (the image as the body) and removed with "
     "DELETE /v1/account/picture"},
    {"PATCH", "/v1/account", "has_picture",
     "has_picture follows the picture: PUT /v1/account/picture sets one, DELETE removes it"},
    {"PATCH", "/v1/account", "restriction",
     "restriction is set with POST /v1/account/restrict and lifted with DELETE "
     "/v1/account/restrict"},
    {"PATCH", "/v1/account", "two_factor",
     "two_factor is turned on with POST /v1/account/mfa/setup and POST /v1/account/mfa/enable, "
     "and off with DELETE /v1/account/mfa"},
    {"PATCH", "/v1/account", "id", "id is set by the server and cannot change"},
    {"PATCH", "/v1/account", "created_at", "created_at is set by the server and cannot change"},
    {"PATCH", "/v1/account", "last_login_at",
     "last_login_at is set by the server and cannot change"},
    {"POST", "/v1/models", "avatar",
     "avatar is set with PUT /v1/models/{id}/avatar (the image as the body) once the model "
     "exists"},
    {"PATCH", "/v1/models/{id}", "avatar",
     "avatar is set with PUT /v1/models/{id}/avatar (the image as the body) and removed with "
     "DELETE /v1/models/{id}/avatar"},
    {"PATCH", "/v1/models/{id}", "has_avatar",
     "has_avatar follows the avatar: PUT /v1/models/{id}/avatar sets one, DELETE removes it"},
    {"PATCH", "/v1/models/{id}", "id", "id is set by the server and cannot change"},
    {"PATCH", "/v1/models/{id}", "warnings",
     "warnings are the server's reading of the measurements and cannot be set"},
    {"PATCH", "/v1/models/{id}", "created_at", "created_at is set by the server and cannot change"},
    {"PATCH", "/v1/models/{id}", "updated_at", "updated_at is set by the server and cannot change"},
    {"POST", "/v1/login", "username",
     "username is sent as login, which takes the username or the address: "
     "{\"login\": \"...\", \"password\": \"...\"}"},
    {"POST", "/v1/login", "email",
     "email is sent as login, which takes the username or the address: "
     "{\"login\": \"...\", \"password\": \"...\"}"},
    {"POST", "/v1/account/password", "password",
     "password is ambiguous here: send current_password and new_password"},
    {"POST", "/v1/password/reset", "new_password",
     "new_password is sent as password here, with the token of the mailed link"},
};

static const char *input_where(struct req *rq, const char *key)
{
    const char *method = req_method(rq), *route = req_route_pattern(rq);

    for (size_t i = 0; method && route && i < sizeof input_elsewhere / sizeof input_elsewhere[0];
         i++) {
        const struct input_elsewhere *e = &input_elsewhere[i];
        if (strcmp(e->method, method) == 0 && strcmp(e->route, route) == 0 &&
            strcmp(e->key, key) == 0)
            return e->where;
    }
    return NULL;
}

int input_known_keys(struct req *rq, json_t *o, const char *const *allowed)
{
    return input_known_keys_at(rq, o, allowed, NULL);
}

int input_known_keys_at(struct req *rq, json_t *o, const char *const *allowed, const char *prefix)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok) {
            const char *where = prefix ? NULL : input_where(rq, key);
            if (where)
                return input_fail(rq, key, "%s", where);
            char shown[96];
            snprintf(shown, sizeof shown, "%s%s%.*s", prefix ? prefix : "", prefix ? "." : "",
                     (int)util_utf8_prefix(key, 40), key);
            return input_fail(rq, shown, "%s is an unknown field", shown);
        }
    }
    return 0;
}

int input_string(struct req *rq, json_t *o, const char *key, int required, const char **out,
                 size_t *len)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (len)
        *len = 0;
    if (!v) {
        if (required)
            return input_fail(rq, key, "%s is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return input_fail(rq, key, "%s must be a string", key);
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return 0;
}

int input_bool(struct req *rq, json_t *o, const char *key, int required, int *out, int *present)
{
    json_t *v = json_object_get(o, key);

    if (present)
        *present = v != NULL;
    if (!v)
        return required ? input_fail(rq, key, "%s is required", key) : 0;
    if (!json_is_boolean(v))
        return input_fail(rq, key, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static size_t input_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int input_text_field(struct req *rq, json_t *o, const char *key, size_t max, int nullable,
                     char **out, int *present)
{
    json_t *v = json_object_get(o, key);
    const char *s;
    int rc;

    *present = v != NULL;
    if (!v)
        return 0;
    if (json_is_null(v) && nullable) {
        free(*out);
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return input_fail(rq, key, "%s must be a string%s", key, nullable ? " or null" : "");
    s = json_string_value(v);
    if ((!nullable && !*s) || input_chars(s) > max)
        return input_fail(rq, key, "%s must be %d to %zu characters", key, nullable ? 0 : 1, max);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            return input_fail(rq, key, "%s must not contain control characters", key);
    if ((rc = input_text(rq, key, s)))
        return rc;
    free(*out);
    *out = xstrdup(s);
    return 0;
}

/* The code points of Unicode 15.0's category Cf, as closed ranges. */
static const struct {
    uint32_t lo, hi;
} input_cf[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

static int input_is_format(uint32_t cp)
{
    for (size_t i = 0; i < sizeof input_cf / sizeof input_cf[0]; i++)
        if (cp >= input_cf[i].lo && cp <= input_cf[i].hi)
            return 1;
    return 0;
}

/* The code point at s (valid UTF-8, as jansson guarantees), its length in
 * *len. */
static uint32_t input_code_point(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80 || !s[1]) {
        *len = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *len = 2;
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0 || !s[2]) {
        *len = s[2] ? 3 : 2;
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    }
    *len = s[3] ? 4 : 3;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

int input_text(struct req *rq, const char *field, const char *s)
{
    size_t len;

    for (const unsigned char *p = (const unsigned char *)s; p && *p; p += len) {
        uint32_t cp = input_code_point(p, &len);
        if (input_is_format(cp))
            return input_fail(rq, field,
                              "%s must not contain format characters such as U+%04X "
                              "(bidirectional overrides, zero-width characters)",
                              field, (unsigned)cp);
    }
    return 0;
}
