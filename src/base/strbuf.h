/*
 * strbuf.h - a growable byte buffer for building responses and files as
 * text, with JSON string escaping. Allocation failure is sticky: after one,
 * every append is a no-op and strbuf_take reports ERR_NOMEM, so callers
 * check once at the end.
 */
#ifndef ATELIER_STRBUF_H
#define ATELIER_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *p;
    size_t len, cap;
    int failed;
};

void strbuf_put(struct strbuf *b, const void *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
/* s as a JSON string literal, quotes included (UTF-8 passed through,
 * control characters, quote and backslash escaped). */
void strbuf_json_string(struct strbuf *b, const char *s);
/* An integer-valued double as digits, others with up to 6 decimals. */
void strbuf_number(struct strbuf *b, double v);
/* Hand the NUL-terminated text over (*out malloc'd). 0 or ERR_NOMEM. */
int strbuf_take(struct strbuf *b, char **out, size_t *n);
void strbuf_release(struct strbuf *b);

#endif
