/*
 * input.c - JSON body field readers that answer 422 naming the field.
 *
 * Invariant: a handler that got 0 from every reader holds only fields of the
 * expected JSON types; anything else has already been answered.
 */
#include <stdarg.h>
#include <stdio.h>
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
            char shown[96];
            snprintf(shown, sizeof shown, "%s%s%.*s", prefix ? prefix : "", prefix ? "." : "",
                     (int)util_utf8_prefix(key, 40), key);
            return input_fail(rq, shown, "unknown field '%s'", shown);
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
