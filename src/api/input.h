/*
 * input.h - reading fields of JSON request bodies.
 *
 * Each function either stores the field and returns 0, or answers the
 * request with 422 invalid_field and a message that names the field, and
 * returns ERR_INVALID (so a handler can `return rc;`). Unknown fields are
 * refused rather than ignored, so a typo never passes silently.
 */
#ifndef ATELIER_INPUT_H
#define ATELIER_INPUT_H

#include <jansson.h>
#include <stddef.h>

#include "http/req.h"

/* Every key of o must be in the NULL-terminated allowed list. */
int input_known_keys(struct req *rq, json_t *o, const char *const *allowed);

/* The same for a nested object: the field is reported as "prefix.key". */
int input_known_keys_at(struct req *rq, json_t *o, const char *const *allowed, const char *prefix);

/* A string field. required: absent is an error; otherwise *out is NULL when
 * absent. null_ok: JSON null is accepted and reported as *is_null = 1. The
 * string's byte length goes to *len (may be NULL). */
int input_string(struct req *rq, json_t *o, const char *key, int required, const char **out,
                 size_t *len);

/* A boolean field (absent leaves *out untouched and *present = 0). */
int input_bool(struct req *rq, json_t *o, const char *key, int required, int *out, int *present);

/* Free text shown to people (names, notes, bio): refuses, naming the field,
 * any format character (Unicode category Cf: bidi overrides, zero-width
 * characters, BOM, tags). s is valid UTF-8 (jansson's), may be NULL. */
int input_text(struct req *rq, const char *field, const char *s);

/* A free-text field shown to people (names, notes): absent leaves *out
 * as it is (*present = 0); with nullable, JSON null frees *out and sets it
 * NULL; otherwise a string of 1 (0 when nullable) to max characters, without
 * control characters but newline and tab, checked by input_text, replaces
 * *out (malloc'd; the caller frees it). */
int input_text_field(struct req *rq, json_t *o, const char *key, size_t max, int nullable,
                     char **out, int *present);

/* 422 naming a field, with a printf message. Returns ERR_INVALID. */
int input_fail(struct req *rq, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
