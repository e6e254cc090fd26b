/*
 * jsonbody.h - strict parsing of client JSON bodies.
 *
 * A body is accepted only when it is valid UTF-8 JSON whose top level is an
 * object, with no duplicate keys, no NUL characters, nesting at most
 * LIMIT_JSON_DEPTH, and numbers that do not overflow or silently underflow.
 */
#ifndef ATELIER_JSONBODY_H
#define ATELIER_JSONBODY_H

#include <stddef.h>
#include <jansson.h>

/* Parse buf[0..n). On success *out is a new reference to the object and 0 is
 * returned. On failure returns ERR_BAD_REQUEST and writes a human sentence
 * (with line and column) into msg. */
int jsonbody_parse(const void *buf, size_t n, json_t **out, char *msg, size_t msgsize);

#endif
