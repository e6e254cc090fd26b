/*
 * jsonbody.c - strict parsing of client JSON bodies (see jsonbody.h).
 *
 * jansson already rejects invalid UTF-8, NUL escapes, duplicate keys (with
 * JSON_REJECT_DUPLICATES), NaN/Infinity and numeric overflow. This module
 * adds what jansson lets through: a tighter depth limit than its compiled-in
 * 2048, a top-level object, and reals that underflowed to zero (1e-400).
 * Invariant: the returned value is never deeper than LIMIT_JSON_DEPTH.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonbody.h"
#include "policy.h"

/* Depth of the text, counted on the raw bytes outside strings. Cheap, and it
 * bounds the work before jansson allocates anything. */
static int jsonbody_depth_ok(const unsigned char *p, size_t n)
{
    int depth = 0;
    int in_string = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > LIMIT_JSON_DEPTH)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

/* True when a real in the tree is zero although its text was not: jansson
 * turns 1e-400 into 0.0 silently. Checked by walking the text's numbers is
 * costly; instead reals equal to 0.0 are re-examined only when the text has
 * an exponent at all, which is rare in request bodies. */
static int jsonbody_has_underflow(const unsigned char *p, size_t n)
{
    int in_string = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            continue;
        }
        if (!(isdigit(c) || c == '-'))
            continue;
        /* a number token: find its extent and test it */
        size_t start = i;
        int nonzero_mantissa = 0, has_exp = 0;
        while (i < n && (isdigit(p[i]) || p[i] == '-' || p[i] == '+' || p[i] == '.' ||
                         p[i] == 'e' || p[i] == 'E')) {
            if (p[i] == 'e' || p[i] == 'E')
                has_exp = 1;
            else if (!has_exp && p[i] >= '1' && p[i] <= '9')
                nonzero_mantissa = 1;
            i++;
        }
        if (has_exp && nonzero_mantissa) {
            char tmp[64];
            size_t len = i - start;
            if (len >= sizeof tmp)
                return 1; /* absurdly long number: refuse */
            memcpy(tmp, p + start, len);
            tmp[len] = 0;
            double v = strtod(tmp, NULL);
            if (v == 0.0)
                return 1;
        }
        i--;
    }
    return 0;
}

int jsonbody_parse(const void *buf, size_t n, json_t **out, char *msg, size_t msgsize)
{
    json_error_t jerr;
    json_t *v = NULL;

    *out = NULL;
    if (n == 0) {
        snprintf(msg, msgsize, "the request body is empty; a JSON object is expected");
        return ERR_BAD_REQUEST;
    }
    if (!jsonbody_depth_ok(buf, n)) {
        snprintf(msg, msgsize, "the JSON body is nested deeper than %d levels", LIMIT_JSON_DEPTH);
        return ERR_BAD_REQUEST;
    }
    v = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        snprintf(msg, msgsize, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return ERR_BAD_REQUEST;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(msg, msgsize, "the JSON body must be an object");
        return ERR_BAD_REQUEST;
    }
    if (jsonbody_has_underflow(buf, n)) {
        json_decref(v);
        snprintf(msg, msgsize, "a number in the JSON body is too small to represent");
        return ERR_BAD_REQUEST;
    }
    *out = v;
    return 0;
}
