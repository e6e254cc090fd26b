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
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/jsonbody.h"
#include "base/policy.h"

/* 1 when the number token p[0..n) has a non-zero mantissa and an exponent
 * but reads as 0.0: jansson would turn 1e-400 into 0.0 silently. A token of
 * any length (at most the body's) is read whole: 3333...3e-68 with 70
 * digits is 333.3, not too small. */
static int jsonbody_underflows(const unsigned char *p, size_t n)
{
    int nonzero = 0, exp = 0, rc;
    char tmp[64], *t = tmp;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == 'e' || p[i] == 'E')
            exp = 1;
        else if (!exp && p[i] >= '1' && p[i] <= '9')
            nonzero = 1;
    }
    if (!exp || !nonzero)
        return 0;
    if (n >= sizeof tmp && !(t = malloc(n + 1)))
        return 3;
    memcpy(t, p, n);
    t[n] = 0;
    rc = strtod(t, NULL) == 0.0;
    if (t != tmp)
        free(t);
    return rc;
}

/* One pass over the raw bytes, outside strings: the nesting depth (bounded
 * before jansson allocates anything) and numbers that underflow. Returns 0,
 * 1 when too deep, 2 on an underflowing number, 4 when out of memory. */
static int jsonbody_scan(const unsigned char *p, size_t n)
{
    int depth = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                i += p[i] == '\\';
        } else if (c == '[' || c == '{') {
            if (++depth > LIMIT_JSON_DEPTH)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (isdigit(c) || c == '-') {
            size_t start = i;
            while (i < n && (isdigit(p[i]) || strchr("-+.eE", p[i])) && p[i])
                i++;
            int u = jsonbody_underflows(p + start, i - start);
            if (u)
                return u + 1;
            i--;
        }
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
    int scan = jsonbody_scan(buf, n);
    if (scan == 4) {
        snprintf(msg, msgsize, "the server is short of memory; try again");
        return ERR_NOMEM;
    }
    if (scan == 1) {
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
    if (scan == 2) {
        json_decref(v);
        snprintf(msg, msgsize, "a number in the JSON body is too small to represent");
        return ERR_BAD_REQUEST;
    }
    *out = v;
    return 0;
}
