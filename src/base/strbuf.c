/*
 * strbuf.c - the one growable byte buffer and its escapers (see strbuf.h
 * for the contract and the rule for ill-formed UTF-8).
 *
 * Invariants: len <= the bound; cap <= bound + 1; when p is allocated
 * p[len] == 0; a failed buffer holds nothing (p == NULL, len == cap == 0),
 * so the inline fast path of strbuf_put (n < cap - len) never writes to it.
 * Growth doubles from STRBUF_MIN_CAP, clamped to the bound: no allocation
 * per append once the buffer has grown.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/policy.h"
#include "base/strbuf.h"

#define STRBUF_MIN_CAP 256
#define UTF8_BAD       UINT32_MAX /* utf8_decode: an ill-formed subpart */
#define FFFD           "\xef\xbf\xbd"

/* The bound of b; never above SIZE_MAX / 2, so bound + 1 cannot wrap. */
static size_t strbuf_bound(const struct strbuf *b)
{
    size_t max = b->max ? b->max : LIMIT_STRBUF_DEFAULT;

    return max > SIZE_MAX / 2 ? SIZE_MAX / 2 : max;
}

static void strbuf_fail(struct strbuf *b, int err)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = err;
}

void strbuf_init(struct strbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

int strbuf_reserve(struct strbuf *b, size_t n)
{
    size_t max = strbuf_bound(b);
    size_t need, cap;
    char *p;

    if (b->err)
        return b->err;
    if (n < b->cap - b->len)
        return ERR_OK;
    if (n > max - b->len) {
        strbuf_fail(b, ERR_TOO_LARGE);
        return b->err;
    }
    need = b->len + n + 1; /* <= max + 1 */
    cap = b->cap ? b->cap : STRBUF_MIN_CAP;
    while (cap < need)
        cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
    if (cap > max + 1)
        cap = max + 1;
    p = realloc(b->p, cap);
    if (!p) {
        strbuf_fail(b, ERR_NOMEM);
        return b->err;
    }
    if (!b->p)
        p[0] = '\0';
    b->p = p;
    b->cap = cap;
    return ERR_OK;
}

void strbuf_put_slow(struct strbuf *b, const void *s, size_t n)
{
    if (strbuf_reserve(b, n) != ERR_OK)
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap, again;
    size_t room = b->p ? b->cap - b->len : 0;
    int n;

    if (b->err)
        return;
    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    if (n < 0) {
        strbuf_fail(b, ERR_INTERNAL);
        goto out;
    }
    if ((size_t)n >= room) {
        if (room)
            b->p[b->len] = '\0'; /* undo the truncated attempt */
        if (strbuf_reserve(b, (size_t)n) != ERR_OK)
            goto out;
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
    }
    b->len += (size_t)n;
out:
    va_end(again);
    va_end(ap);
}

/* ---- numbers ------------------------------------------------------- */

/* v at q as strbuf_fixed describes; returns the end (at most 21 bytes). */
static char *fixed_format(char *q, double v, unsigned decimals)
{
    static const double scale[] = {1.0, 10.0, 100.0, 1000.0};
    static const unsigned iscale[] = {1, 10, 100, 1000};
    char digits[24];
    int n = 0;
    int64_t k;
    uint64_t u;
    unsigned frac;

    if (decimals > 3)
        decimals = 3;
    if (!isfinite(v) || fabs(v) > 1e15)
        v = 0.0;
    k = (int64_t)(v * scale[decimals] + (v < 0.0 ? -0.5 : 0.5));
    if (k < 0)
        *q++ = '-';
    u = k < 0 ? (uint64_t)(-(k + 1)) + 1 : (uint64_t)k;
    frac = (unsigned)(u % iscale[decimals]);
    u /= iscale[decimals];
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *q++ = digits[--n];
    if (frac) {
        *q++ = '.';
        for (unsigned d = iscale[decimals] / 10; frac; d /= 10) {
            *q++ = (char)('0' + frac / d);
            frac %= d;
        }
    }
    return q;
}

void strbuf_fixed(struct strbuf *b, double v, unsigned decimals)
{
    char tmp[32];

    strbuf_put(b, tmp, (size_t)(fixed_format(tmp, v, decimals) - tmp));
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

/* ---- escapers ------------------------------------------------------ */

/* The sequence at s[0..n), n >= 1: its length and code point, or the
 * length of its maximal ill-formed subpart (at least 1) and UTF8_BAD. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
        hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80; /* no overlong forms */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
    } else {
        *cp = UTF8_BAD; /* continuation, C0, C1 or F5..FF */
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *cp = UTF8_BAD;
            return i;
        }
        v = v << 6 | (s[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *cp = v;
    return len;
}

enum esc { ESC_JSON, ESC_XML, ESC_PROM };

/* True when ASCII byte c is not copied as it is. */
static int esc_special(enum esc kind, unsigned char c)
{
    switch (kind) {
    case ESC_JSON:
        return c < 0x20 || c == '"' || c == '\\';
    case ESC_XML:
        return c < 0x20 || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
    default:
        return c == '\\' || c == '"' || c == '\n';
    }
}

static void esc_json(struct strbuf *b, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    char pair[2] = {'\\', (char)c};

    switch (c) {
    case '\b':
        pair[1] = 'b';
        break;
    case '\f':
        pair[1] = 'f';
        break;
    case '\n':
        pair[1] = 'n';
        break;
    case '\r':
        pair[1] = 'r';
        break;
    case '\t':
        pair[1] = 't';
        break;
    case '"':
    case '\\':
        break;
    default:
        strbuf_put(b, u, sizeof u);
        return;
    }
    strbuf_put(b, pair, sizeof pair);
}

static void esc_xml(struct strbuf *b, unsigned char c)
{
    switch (c) {
    case '&':
        strbuf_put(b, "&amp;", 5);
        break;
    case '<':
        strbuf_put(b, "&lt;", 4);
        break;
    case '>':
        strbuf_put(b, "&gt;", 4);
        break;
    case '"':
        strbuf_put(b, "&quot;", 6);
        break;
    case '\'':
        strbuf_put(b, "&#39;", 5);
        break;
    case '\t':
        strbuf_put(b, "&#9;", 4);
        break;
    case '\n':
        strbuf_put(b, "&#10;", 5);
        break;
    case '\r':
        strbuf_put(b, "&#13;", 5);
        break;
    default: /* a control XML 1.0 cannot carry, even as a reference */
        strbuf_put(b, FFFD, 3);
    }
}

static void esc_prom(struct strbuf *b, unsigned char c)
{
    char pair[2] = {'\\', c == '\n' ? 'n' : (char)c};

    strbuf_put(b, pair, sizeof pair);
}

/* s[0..n) with runs of plain text copied at once and the rest replaced. */
static void esc_text(struct strbuf *b, enum esc kind, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;

    while (i < n) {
        unsigned char c = u[i];
        uint32_t cp = c;
        size_t k = 1;

        if (c >= 0x80) {
            k = utf8_decode(u + i, n - i, &cp);
            if (cp != UTF8_BAD && !(kind == ESC_XML && (cp == 0xfffe || cp == 0xffff))) {
                i += k;
                continue;
            }
        } else if (!esc_special(kind, c)) {
            i++;
            continue;
        }
        strbuf_put(b, s + run, i - run);
        if (c >= 0x80)
            strbuf_put(b, FFFD, 3);
        else if (kind == ESC_JSON)
            esc_json(b, c);
        else if (kind == ESC_XML)
            esc_xml(b, c);
        else
            esc_prom(b, c);
        i += k;
        run = i;
    }
    strbuf_put(b, s + run, i - run);
}

void strbuf_json_stringn(struct strbuf *b, const char *s, size_t n)
{
    strbuf_putc(b, '"');
    esc_text(b, ESC_JSON, s, n);
    strbuf_putc(b, '"');
}

void strbuf_json_string(struct strbuf *b, const char *s)
{
    strbuf_json_stringn(b, s, strlen(s));
}

void strbuf_xml(struct strbuf *b, const char *s)
{
    esc_text(b, ESC_XML, s, strlen(s));
}

void strbuf_prom_label(struct strbuf *b, const char *s)
{
    strbuf_putc(b, '"');
    esc_text(b, ESC_PROM, s, strlen(s));
    strbuf_putc(b, '"');
}

/* ---- ownership ----------------------------------------------------- */

void strbuf_reset(struct strbuf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->p)
        b->p[0] = '\0';
}

int strbuf_take(struct strbuf *b, char **out, size_t *n)
{
    int rc = strbuf_reserve(b, 0);

    if (rc != ERR_OK)
        goto out;
    *out = b->p;
    if (n)
        *n = b->len;
    b->p = NULL;
out:
    strbuf_release(b);
    return rc;
}

void strbuf_release(struct strbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}
