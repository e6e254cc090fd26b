/*
 * util.h - small checked helpers every module may use: size arithmetic that
 * cannot overflow silently, strict number parsing, bounded string copy, and
 * allocation that aborts on exhaustion for small internal objects only.
 */
#ifndef ATELIER_UTIL_H
#define ATELIER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* a + b into *out; false on overflow. */
bool size_add(size_t a, size_t b, size_t *out);
/* a * b into *out; false on overflow. */
bool size_mul(size_t a, size_t b, size_t *out);

/* Parse a whole decimal integer in [min, max]; no sign tricks, no trailing
 * junk, no leading spaces. Returns 0 or ERR_INVALID. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Copy src into dst of size n, always terminated. Returns ERR_TOO_LARGE when
 * src did not fit (dst then holds a truncated copy, which callers must not use). */
int util_strlcpy(char *dst, const char *src, size_t n);

/* Allocation for small internal objects (not client-sized): aborts on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void util_hex(const void *p, size_t n, char *out);

/* True when [p, p+n) is valid UTF-8 without NUL bytes. */
bool util_utf8_valid(const void *p, size_t n);

/* The longest prefix of the NUL-terminated UTF-8 string s that is at most
 * max bytes and does not split a character; returns its length in bytes. */
size_t util_utf8_prefix(const char *s, size_t max);

/* A size in bytes as people read it, for messages: "8 MiB", "64 KiB",
 * "1.5 MiB", "300 bytes" (binary units; one decimal when not whole).
 * Writes at most n bytes, NUL-terminated; returns out. */
char *util_size_text(uint64_t bytes, char *out, size_t n);

/* Number of online CPUs, at least 1. */
unsigned util_ncpu(void);

#endif
