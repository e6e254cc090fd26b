/*
 * strbuf.c - growable text buffer (see strbuf.h). Invariant: p[len] == 0
 * whenever p is allocated; the buffer never shrinks until released.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "base/util.h"

static int strbuf_reserve(struct strbuf *b, size_t more)
{
    size_t need, cap;

    if (b->failed)
        return -1;
    if (!size_add(b->len, more, &need) || !size_add(need, 1, &need))
        goto fail;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        if (!size_mul(cap, 2, &cap))
            goto fail;
    char *p = realloc(b->p, cap);
    if (!p)
        goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

void strbuf_put(struct strbuf *b, const void *s, size_t n)
{
    if (strbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void strbuf_puts(struct strbuf *b, const char *s)
{
    strbuf_put(b, s, strlen(s));
}

void strbuf_json_string(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    strbuf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_put(b, run, (size_t)(s - run));
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        strbuf_put(b, esc, n);
        run = s + 1;
    }
    strbuf_put(b, run, (size_t)(s - run));
    strbuf_put(b, "\"", 1);
}

void strbuf_number(struct strbuf *b, double v)
{
    char tmp[40];
    int n;

    if (!isfinite(v))
        v = 0;
    if (v == floor(v) && fabs(v) < 1e15)
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    else
        n = snprintf(tmp, sizeof tmp, "%.6g", v);
    strbuf_put(b, tmp, (size_t)n);
}

int strbuf_take(struct strbuf *b, char **out, size_t *n)
{
    if (!b->p)
        strbuf_put(b, "", 0);
    if (b->failed) {
        strbuf_release(b);
        return ERR_NOMEM;
    }
    *out = b->p;
    *n = b->len;
    memset(b, 0, sizeof *b);
    return 0;
}

void strbuf_release(struct strbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
